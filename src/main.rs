//! The `moviebooking` command: parse the command line, load the configuration, and run the
//! chosen command. Every failure ends with a one-line explanation and a non-zero exit
//! status, never a panic trace.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use moviebooking::clock::Clock;
use moviebooking::config::Config;
use moviebooking::db::Db;
use moviebooking::db::migrate::{self, SchemaStatus};
use moviebooking::state::AppState;

#[derive(Parser)]
#[command(
    name = "moviebooking",
    version,
    about = "Movie-ticket booking web application"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web application on $BIND_ADDR:$PORT (the default command).
    Serve,
    /// Apply pending database migrations (the release phase of a deploy).
    Migrate,
}

/// A failed command: what to tell the operator.
struct Failure(String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure(error.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("moviebooking: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    moviebooking::telemetry::init(config.is_production());
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("moviebooking: could not start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(config).await,
            Command::Migrate => migrate_command(config).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message)) => {
            eprintln!("moviebooking: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn open_db(config: &Config) -> Result<Db, Failure> {
    Ok(Db::connect(&config.database_url, config.db_acquire_timeout).await?)
}

async fn migrate_command(config: Config) -> Result<(), Failure> {
    let db = open_db(&config).await?;
    migrate::run(&db)
        .await
        .map_err(|e| Failure(format!("migration failed: {e}")))?;
    println!("database schema is up to date");
    Ok(())
}

async fn serve(config: Config) -> Result<(), Failure> {
    let db = open_db(&config).await?;
    match migrate::status(&db).await? {
        SchemaStatus::Current => {}
        SchemaStatus::Behind { pending } if !config.is_production() => {
            tracing::info!(?pending, "applying pending migrations (development)");
            migrate::run(&db)
                .await
                .map_err(|e| Failure(format!("migration failed: {e}")))?;
        }
        SchemaStatus::Behind { pending } => {
            return Err(Failure(format!(
                "the database schema is behind this release ({} migration(s) pending: {pending:?}); run `moviebooking migrate` first (the Procfile release phase does)",
                pending.len()
            )));
        }
    }
    let addr = config.listen_addr();
    let base_url = config.base_url.clone();
    let state = AppState::new(config, db, Clock::system())?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Failure(format!("could not listen on {addr}: {e}")))?;
    println!("moviebooking is serving at {base_url} (listening on {addr})");
    moviebooking::server::serve(state, listener, moviebooking::server::shutdown_signal()).await?;
    Ok(())
}
