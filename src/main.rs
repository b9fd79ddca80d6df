//! The `moviebooking` command: parse the command line, load the configuration, and run the
//! chosen command. Every failure ends with a one-line explanation and a non-zero exit
//! status, never a panic trace.

use std::path::PathBuf;
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
    /// Check the configuration; with --deploy, audit it for production and list every
    /// problem (non-zero exit status when there is an error).
    Check {
        /// Audit the settings as a production process would run with them.
        #[arg(long)]
        deploy: bool,
    },
    /// Write a consistent copy of the SQLite database to a new file while the app runs.
    Backup {
        /// The file to create; an existing file is never overwritten.
        #[arg(long, short)]
        output: PathBuf,
    },
    /// Create a verified staff account, or give an existing account a staff role.
    CreateStaff {
        /// The account's email address.
        #[arg(long)]
        email: String,
        /// The display name of a new account.
        #[arg(long)]
        name: String,
        /// The staff role: usher (the door), box_office (also the counter and booking
        /// lookup), manager (the programme and refunds) or admin (also accounts and roles).
        #[arg(long, default_value = "admin", value_parser = parse_staff_role)]
        role: moviebooking::domain::roles::Role,
        /// Read the password from the first line of standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Load the demo catalogue (cities, theatres, screens, movies, a week of showtimes).
    /// Running it again changes nothing.
    SeedDemo,
    /// Send a test email through the configured backend (and the outbox) to check delivery.
    SendTestEmail {
        /// The address to send to.
        to: String,
    },
    /// Start signing tickets with a new key; tickets signed with the previous keys stay
    /// valid. Prints the new key id.
    RotateTicketKey,
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
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Check { deploy } = command {
        return check(deploy);
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("moviebooking: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    // Kept until main returns: dropping the guard flushes and ends error reporting.
    let sentry_guard = moviebooking::telemetry::init_sentry(&config);
    moviebooking::telemetry::init_with_sentry(config.is_production(), sentry_guard.is_some());
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("moviebooking: could not start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match command {
            Command::Serve => serve(config).await,
            Command::Migrate => migrate_command(config).await,
            Command::Backup { output } => backup_command(config, &output).await,
            Command::CreateStaff {
                email,
                name,
                role,
                password_stdin,
            } => create_staff(config, &email, &name, role, password_stdin).await,
            Command::Check { .. } => Ok(()),
            Command::SeedDemo => seed_demo_command(config).await,
            Command::SendTestEmail { to } => send_test_email_command(config, &to).await,
            Command::RotateTicketKey => rotate_ticket_key_command(config).await,
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

/// Production serves only on settings that pass `check --deploy`: every error is printed
/// with its id and fix, and the process does not start. Ids listed in `DEPLOY_CHECK_WAIVE`
/// are started with all the same, each logged as a warning (see DEPLOYMENT_CHECKLIST.md).
fn refuse_unsafe_production_settings() -> Result<(), Failure> {
    use moviebooking::deploy_check::{self, Severity};
    let vars = moviebooking::config::environment();
    let report = deploy_check::audit(&vars);
    let waived = deploy_check::waived_ids(&vars);
    let (accepted, refused): (Vec<_>, Vec<_>) = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .partition(|f| waived.contains(f.id));
    for finding in &accepted {
        tracing::warn!(id = finding.id, setting = finding.setting, problem = %finding.problem, "starting despite a deploy-check error (waived by DEPLOY_CHECK_WAIVE)");
    }
    if refused.is_empty() {
        return Ok(());
    }
    let mut message = format!(
        "refusing to serve in production: `check --deploy` found {} error(s)\n",
        refused.len()
    );
    for finding in refused {
        message.push_str(&format!(
            "  {} {}: {}\n      fix: {}\n",
            finding.id, finding.setting, finding.problem, finding.fix
        ));
    }
    message.push_str("run `moviebooking check --deploy` for the whole report");
    Err(Failure(message))
}

/// `check [--deploy]`: never stops at the first problem, and never needs the database.
fn check(deploy: bool) -> ExitCode {
    let vars = moviebooking::config::environment();
    if deploy {
        let report = moviebooking::deploy_check::audit(&vars);
        print!("{report}");
        return if report.has_errors() {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        };
    }
    match Config::parse(&vars, std::path::Path::new(".")) {
        Ok(config) => {
            println!(
                "configuration is valid ({}); run `moviebooking check --deploy` to audit it for production",
                if config.is_production() {
                    "production"
                } else {
                    "development"
                }
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("moviebooking: configuration error: {error}");
            ExitCode::from(2)
        }
    }
}

async fn backup_command(config: Config, output: &std::path::Path) -> Result<(), Failure> {
    if !config.database_url.starts_with("sqlite:") {
        return Err(Failure(
            moviebooking::db::backup::BackupError::Postgres.to_string(),
        ));
    }
    let db = open_db(&config).await?;
    let bytes = moviebooking::db::backup::sqlite_backup(&db, output).await?;
    db.close().await;
    println!(
        "backup written to {} ({bytes} bytes); restore by pointing DATABASE_URL at a copy of it",
        output.display()
    );
    Ok(())
}

async fn open_db(config: &Config) -> Result<Db, Failure> {
    Ok(Db::connect(&config.database_url, config.db_acquire_timeout).await?)
}

/// A staff role named on the command line (`customer` is not one).
fn parse_staff_role(raw: &str) -> Result<moviebooking::domain::roles::Role, String> {
    match moviebooking::domain::roles::Role::parse(raw.trim()) {
        Some(role) if role.is_staff() => Ok(role),
        _ => Err("expected usher, box_office, manager or admin".into()),
    }
}

/// `create-staff`: gives an existing account the role (its password is left alone), or
/// creates a verified staff account with a password read from stdin or typed at a silent
/// prompt.
async fn create_staff(
    config: Config,
    email: &str,
    name: &str,
    role: moviebooking::domain::roles::Role,
    password_stdin: bool,
) -> Result<(), Failure> {
    use moviebooking::domain::user_admin::{self, Promotion};
    use moviebooking::domain::users::{self, CreateUserError, NewUser};

    let email = users::Email::parse(email)
        .map_err(|error| Failure(format!("cannot create the account: email: {error}")))?;
    let db = open_db(&config).await?;
    ensure_schema(&config, &db).await?;
    let now = Clock::system().unix_now();
    match user_admin::promote_to_staff(&db, &email, role, now).await? {
        Promotion::AlreadyStaff(user) => {
            println!(
                "{} is already a staff member ({}); nothing changed",
                user.email,
                role.label()
            );
            return Ok(());
        }
        Promotion::Promoted(user) => {
            println!(
                "{} is now a staff member, {} (their password is unchanged){}",
                user.email,
                role.label(),
                if user.is_active {
                    ""
                } else {
                    "; note: the account is deactivated, reactivate it in /admin/users"
                }
            );
            return Ok(());
        }
        Promotion::NoSuchUser => {}
    }
    let password = read_password(password_stdin)?;
    let new = NewUser {
        email,
        name: name.to_owned(),
        password,
        role,
        email_verified: true,
    };
    match users::create_user(&db, new, now).await {
        Ok(user) => {
            user_admin::record_created_staff(&db, &user, now).await?;
            println!(
                "created staff account {} ({}, {}); log in at {}/accounts/login",
                user.email,
                user.name,
                role.label(),
                config.base_url.as_str().trim_end_matches('/')
            );
            Ok(())
        }
        Err(CreateUserError::Invalid(fields)) => Err(Failure(format!(
            "cannot create the account: {}",
            fields
                .iter()
                .map(|(field, message)| format!("{field}: {message}"))
                .collect::<Vec<_>>()
                .join("; ")
        ))),
        Err(CreateUserError::EmailTaken) => Err(Failure(
            "an account with this email was created at the same moment; run the command again to promote it".into(),
        )),
        Err(error) => Err(Failure(error.to_string())),
    }
}

/// The new account's password: the first line of stdin, or typed twice without echo.
fn read_password(from_stdin: bool) -> Result<String, Failure> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| Failure(format!("could not read the password from stdin: {e}")))?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    let first =
        rpassword::prompt_password("Password for the new staff account: ").map_err(|e| {
            Failure(format!(
                "could not read the password (use --password-stdin when there is no terminal): {e}"
            ))
        })?;
    let second = rpassword::prompt_password("Password again: ")
        .map_err(|e| Failure(format!("could not read the password: {e}")))?;
    if first != second {
        return Err(Failure(
            "the two passwords do not match; nothing was created".into(),
        ));
    }
    Ok(first)
}

/// Brings a development database up to date; refuses to touch a production one that is
/// behind (migrations belong to the release phase there).
async fn ensure_schema(config: &Config, db: &Db) -> Result<(), Failure> {
    match migrate::status(db).await? {
        SchemaStatus::Current => Ok(()),
        SchemaStatus::Behind { .. } if !config.is_production() => migrate::run(db)
            .await
            .map(|_| ())
            .map_err(|e| Failure(format!("migration failed: {e}"))),
        SchemaStatus::Behind { pending } => Err(Failure(format!(
            "the database schema is behind this release ({} migration(s) pending); run `moviebooking migrate` first",
            pending.len()
        ))),
    }
}

/// `migrate`: the release phase. Prints each migration as it is applied, so the deploy log
/// says what ran, then a summary.
async fn migrate_command(config: Config) -> Result<(), Failure> {
    let db = open_db(&config).await?;
    let applied = migrate::run(&db)
        .await
        .map_err(|e| Failure(format!("migration failed: {e}")))?;
    for migration in &applied {
        println!("applied migration {migration}");
    }
    match applied.len() {
        0 => println!("database schema is up to date (no migration pending)"),
        n => println!("database schema is up to date ({n} migration(s) applied)"),
    }
    Ok(())
}

async fn seed_demo_command(config: Config) -> Result<(), Failure> {
    let db = open_db(&config).await?;
    if migrate::status(&db).await? != SchemaStatus::Current {
        return Err(Failure(
            "the database schema is not up to date; run `moviebooking migrate` first".into(),
        ));
    }
    let report = moviebooking::seed::seed_demo(&db, Clock::system().now())
        .await
        .map_err(|e| Failure(format!("seeding the demo catalogue failed: {e}")))?;
    println!("{report}");
    Ok(())
}

/// `send-test-email TO`: queues one message in the outbox and sends it at once, then says
/// whether it went out; a failed send stays queued for the background job, like any other.
async fn send_test_email_command(config: Config, to: &str) -> Result<(), Failure> {
    let db = open_db(&config).await?;
    if migrate::status(&db).await? != SchemaStatus::Current {
        return Err(Failure(
            "the database schema is not up to date; run `moviebooking migrate` first".into(),
        ));
    }
    let to = to.trim();
    if to.parse::<lettre::Address>().is_err() {
        return Err(Failure(format!("{to:?} is not an email address")));
    }
    let clock = Clock::system();
    let mailer = moviebooking::email::Mailer::new(&config, db.clone(), clock.clone())?;
    let email = moviebooking::domain::outbox::NewEmail {
        to: to.to_owned(),
        subject: "moviebooking test email".into(),
        text: format!(
            "This is a test message from moviebooking at {}.",
            config.base_url
        ),
        html: format!(
            "<p>This is a test message from moviebooking at {}.</p>",
            config.base_url
        ),
        kind: moviebooking::domain::outbox::EmailKind::Test,
        dedupe_key: None,
        user_id: None,
        booking_id: None,
        attachments: Vec::new(),
    };
    let mut conn = db.writer().acquire().await?;
    let id = moviebooking::domain::outbox::enqueue(&mut conn, &email, clock.unix_now())
        .await?
        .ok_or_else(|| Failure("the message was not queued".into()))?;
    drop(conn);
    mailer.deliver(id).await;
    match moviebooking::domain::outbox::status_of(&db, id).await? {
        Some(standing) if standing.status == moviebooking::domain::outbox::OutboxStatus::Sent => {
            println!("sent a test email to {to} (outbox message {id})");
            Ok(())
        }
        Some(standing) => Err(Failure(format!(
            "the test email to {to} was not sent (outbox message {id} is {}): {}",
            standing.status,
            standing
                .last_error
                .unwrap_or_else(|| "no error recorded".into())
        ))),
        None => Err(Failure("the test email disappeared from the outbox".into())),
    }
}

async fn serve(config: Config) -> Result<(), Failure> {
    if config.is_production() {
        refuse_unsafe_production_settings()?;
    }
    let db = open_db(&config).await?;
    match migrate::status(&db).await? {
        SchemaStatus::Current => {}
        SchemaStatus::Behind { pending } if !config.is_production() => {
            tracing::info!(?pending, "applying pending migrations (development)");
            for migration in migrate::run(&db)
                .await
                .map_err(|e| Failure(format!("migration failed: {e}")))?
            {
                tracing::info!(%migration, "applied migration");
            }
        }
        SchemaStatus::Behind { pending } => {
            return Err(Failure(format!(
                "the database schema is behind this release ({} migration(s) pending: {pending:?}); run `moviebooking migrate` first (the Procfile release phase does)",
                pending.len()
            )));
        }
    }
    let clock = Clock::system();
    // `cargo run` on a fresh clone shows a catalogue to browse and book.
    if !config.is_production() && moviebooking::domain::catalogue::count_movies(&db).await? == 0 {
        let report = moviebooking::seed::seed_demo(&db, clock.now())
            .await
            .map_err(|e| Failure(format!("seeding the demo catalogue failed: {e}")))?;
        tracing::info!(%report, "empty development database: loaded the demo catalogue");
    }
    let addr = config.listen_addr();
    let base_url = config.base_url.clone();
    let state = AppState::new(config, db, clock)?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Failure(format!("could not listen on {addr}: {e}")))?;
    println!("moviebooking is serving at {base_url} (listening on {addr})");
    moviebooking::server::serve(state, listener, moviebooking::server::shutdown_signal()).await?;
    Ok(())
}

/// `rotate-ticket-key`: a new signing key for tickets. Running servers switch to it within a
/// minute; every earlier key keeps verifying (scanners should refresh their key list).
async fn rotate_ticket_key_command(config: Config) -> Result<(), Failure> {
    let db = open_db(&config).await?;
    if migrate::status(&db).await? != SchemaStatus::Current {
        return Err(Failure(
            "the database schema is not up to date; run `moviebooking migrate` first".into(),
        ));
    }
    let key_id = moviebooking::domain::ticket_keys::rotate(&db, Clock::system().unix_now()).await?;
    db.close().await;
    // The id alone on stdout, for scripts; the explanation for the operator on stderr.
    println!("{key_id}");
    eprintln!(
        "moviebooking: new tickets are signed with key {key_id} (running servers switch to it within a minute); tickets signed with earlier keys stay valid, and scanners pick the new key up from /api/v1/checkin/public-key"
    );
    Ok(())
}
