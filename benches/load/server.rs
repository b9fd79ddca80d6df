//! The system under test as a separate process: a fresh database (a temporary SQLite file,
//! or a new PostgreSQL database created from `BENCH_DATABASE_URL`), prepared with the real
//! binary's own `migrate` and `seed-demo` commands, then the release binary serving it.
//!
//! The server runs as a child process rather than inside the benchmark so that its memory
//! (VmHWM in `/proc/<pid>/status`) is its own, and so that a fault run tests exactly what
//! an operator deploys.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

/// The release binary cargo built for this benchmark.
pub const BINARY: &str = env!("CARGO_BIN_EXE_moviebooking");

/// Which database engine a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "SQLite",
            Engine::Postgres => "PostgreSQL",
        }
    }
}

/// A database made for one run; a PostgreSQL one is dropped by [`Database::remove`].
pub struct Database {
    pub url: String,
    pub engine: Engine,
    /// The administrative URL and the name of the database this run created.
    postgres: Option<(String, String)>,
    /// Holds the SQLite file and the server's working directory.
    pub dir: tempfile::TempDir,
}

impl Database {
    /// A new, empty database: PostgreSQL when `admin_url` is given, SQLite otherwise.
    pub async fn fresh(admin_url: Option<&str>) -> Database {
        let dir = tempfile::tempdir().expect("temporary directory");
        match admin_url {
            Some(admin) => {
                use sqlx::Connection;
                let name = format!("mb_load_{}", std::process::id());
                let mut conn = sqlx::PgConnection::connect(admin)
                    .await
                    .expect("connect to BENCH_DATABASE_URL");
                for statement in [
                    format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
                    format!("CREATE DATABASE \"{name}\""),
                ] {
                    sqlx::query(sqlx::AssertSqlSafe(statement))
                        .execute(&mut conn)
                        .await
                        .expect("create the benchmark database");
                }
                let mut url = url::Url::parse(admin).expect("BENCH_DATABASE_URL is a URL");
                url.set_path(&format!("/{name}"));
                Database {
                    url: url.to_string(),
                    engine: Engine::Postgres,
                    postgres: Some((admin.to_owned(), name)),
                    dir,
                }
            }
            None => Database {
                url: format!("sqlite://{}", dir.path().join("load.db").display()),
                engine: Engine::Sqlite,
                postgres: None,
                dir,
            },
        }
    }

    /// Drops a PostgreSQL database this run created (the SQLite file goes with `dir`).
    pub async fn remove(self) {
        if let Some((admin, name)) = &self.postgres {
            use sqlx::Connection;
            if let Ok(mut conn) = sqlx::PgConnection::connect(admin).await {
                let statement = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                let _ = sqlx::query(sqlx::AssertSqlSafe(statement))
                    .execute(&mut conn)
                    .await;
            }
        }
    }
}

/// The environment of every command run from the binary: only what is listed here, run in
/// the temporary directory so that no `.env` file of the checkout is picked up.
#[derive(Clone)]
pub struct Environment {
    pub vars: Vec<(String, String)>,
    pub workdir: PathBuf,
}

impl Environment {
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BINARY);
        command
            .args(args)
            .env_clear()
            .current_dir(&self.workdir)
            .kill_on_drop(true);
        if let Ok(path) = std::env::var("PATH") {
            command.env("PATH", path);
        }
        for (name, value) in &self.vars {
            command.env(name, value);
        }
        command
    }

    /// Runs a one-off command (`migrate`, `seed-demo`) and stops the benchmark if it fails.
    pub async fn run(&self, args: &[&str]) {
        let output = self
            .command(args)
            .output()
            .await
            .expect("run the moviebooking binary");
        assert!(
            output.status.success(),
            "moviebooking {} failed: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// A running `moviebooking serve`.
pub struct Server {
    child: Child,
    pub pid: u32,
}

impl Server {
    /// Starts the server with its output in `log_path` and waits until `/healthz` answers.
    pub async fn start(env: &Environment, base_url: &str, log_path: &Path) -> Server {
        let log = std::fs::File::create(log_path).expect("server log file");
        let child = env
            .command(&["serve"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("start moviebooking serve");
        let pid = child.id().expect("server pid");
        let server = Server { child, pid };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let up = client
                .get(format!("{base_url}/healthz"))
                .send()
                .await
                .map(|r| r.status().is_success())
                .unwrap_or(false);
            if up {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not answer /healthz within 30 s; see {}",
                log_path.display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A field of `/proc/<pid>/status` in kB (`VmHWM` is the peak resident set).
    pub fn memory_kb(&self, field: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        status
            .lines()
            .find(|line| line.starts_with(field) && line[field.len()..].starts_with(':'))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|kb| kb.parse().ok())
    }

    /// CPU time the server has used so far (user + system), from `/proc/<pid>/stat`,
    /// assuming the usual 100 clock ticks per second.
    pub fn cpu_time(&self) -> Option<Duration> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).ok()?;
        // Fields after the command name (which is in parentheses and may hold spaces);
        // utime and stime are fields 14 and 15 of the whole line.
        let rest = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 =
            fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        Some(Duration::from_millis(ticks * 10))
    }

    /// Asks the server to shut down gracefully (SIGTERM), then kills it if it lingers.
    pub async fn stop(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status()
            .await;
        if tokio::time::timeout(Duration::from_secs(15), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// A TCP port on loopback that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}
