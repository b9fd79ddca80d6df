//! The integration-test harness: the real application router served on 127.0.0.1 (port 0)
//! over a fresh database, a temporary SQLite file by default, or, when `TEST_DATABASE_URL`
//! points at PostgreSQL, a uniquely named database created for the test and dropped after.
//!
//! Tests talk to it like a browser would: `app.browser()` is a client with its own cookie
//! jar, `browser.get("/")`, `browser.post_form(..)` (which carries the CSRF token the way a
//! page's form does).

pub mod accounts;
pub mod admin;
pub mod booking;
pub mod catalogue;
pub mod production;
pub mod query_count;
pub mod razorpay;
pub mod sessions;
pub mod smtp_sink;
pub mod world;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use moviebooking::clock::Clock;
use moviebooking::config::Config;
use moviebooking::db::Db;
use moviebooking::state::AppState;
use reqwest::StatusCode;
use tokio::sync::oneshot;

/// One running copy of the application on a test database.
pub struct TestApp {
    pub base_url: String,
    pub state: AppState,
    pub db: Db,
    pub mail_dir: PathBuf,
    database: Arc<TestDatabase>,
    stop: Option<oneshot::Sender<()>>,
}

/// The database behind one test; dropped with the last app that uses it.
pub struct TestDatabase {
    pub url: String,
    dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.postgres.take() {
            // Drop cannot await; a short-lived runtime on another thread does the cleanup.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(async {
                    use sqlx::Connection;
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                        let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                        let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
                            .execute(&mut conn)
                            .await;
                    }
                });
            })
            .join();
        }
    }
}

/// Whether this run uses PostgreSQL (`TEST_DATABASE_URL` set).
pub fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres"))
}

impl TestDatabase {
    pub async fn create() -> Arc<Self> {
        let dir = tempfile::tempdir().expect("temp dir");
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if admin_url.starts_with("postgres") => {
                let name = format!(
                    "mb_test_{}",
                    moviebooking::domain::tokens::random_token(12)
                        .to_lowercase()
                        .replace(['-', '_'], "x")
                );
                {
                    use sqlx::Connection;
                    let mut conn = sqlx::PgConnection::connect(&admin_url)
                        .await
                        .expect("connect to TEST_DATABASE_URL");
                    let sql = format!("CREATE DATABASE \"{name}\"");
                    sqlx::query(sqlx::AssertSqlSafe(sql))
                        .execute(&mut conn)
                        .await
                        .expect("create test database");
                }
                let mut url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
                url.set_path(&format!("/{name}"));
                Arc::new(Self {
                    url: url.to_string(),
                    dir,
                    postgres: Some((admin_url, name)),
                })
            }
            _ => {
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                Arc::new(Self {
                    url,
                    dir,
                    postgres: None,
                })
            }
        }
    }
}

impl TestApp {
    /// The app with development defaults on a fresh, migrated database.
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    /// The app with extra settings (`("HOLD_TTL_SECONDS", "60")`, ...).
    pub async fn spawn_with(settings: &[(&str, &str)]) -> Self {
        let database = TestDatabase::create().await;
        // Migrate before the server (and its background jobs) start, as the release phase
        // does in production.
        let db = Db::connect(&database.url, std::time::Duration::from_secs(10))
            .await
            .expect("connect to the test database");
        moviebooking::db::migrate::run(&db)
            .await
            .expect("migrations apply");
        db.close().await;
        Self::start(database, settings, Clock::system()).await
    }

    /// The app with settings given as owned strings (e.g. a fake server's address).
    pub async fn spawn_with_owned(settings: Vec<(String, String)>) -> Self {
        let borrowed: Vec<(&str, &str)> = settings
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Self::spawn_with(&borrowed).await
    }

    /// A second copy of the application (another "process") on the same database.
    pub async fn another_instance(&self) -> Self {
        Self::start(self.database.clone(), &[], Clock::system()).await
    }

    /// A second copy on the same database with other settings (e.g. another SECRET_KEY).
    pub async fn another_instance_with(&self, settings: &[(&str, &str)]) -> Self {
        Self::start(self.database.clone(), settings, Clock::system()).await
    }

    async fn start(database: Arc<TestDatabase>, settings: &[(&str, &str)], clock: Clock) -> Self {
        if std::env::var("TEST_LOG").is_ok() {
            moviebooking::telemetry::init(false);
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let base_url = format!("http://127.0.0.1:{}", addr.port());
        let mail_dir = database.dir.path().join("mail");
        let mut vars: HashMap<String, String> = HashMap::from([
            ("DATABASE_URL".into(), database.url.clone()),
            ("BASE_URL".into(), base_url.clone()),
            ("PORT".into(), addr.port().to_string()),
            (
                "SECRET_KEY".into(),
                "test-secret-key-that-is-long-enough-0123456789".into(),
            ),
            ("EMAIL_BACKEND".into(), "file".into()),
            ("EMAIL_FILE_DIR".into(), mail_dir.display().to_string()),
        ]);
        for (k, v) in settings {
            vars.insert((*k).to_owned(), (*v).to_owned());
        }
        let config = Config::from_vars(&vars, database.dir.path()).expect("test configuration");
        let db = Db::connect(&config.database_url, config.db_acquire_timeout)
            .await
            .expect("connect to the test database");
        let state = AppState::new(config, db.clone(), clock).expect("application state");
        let (stop, stopped) = oneshot::channel::<()>();
        let server_state = state.clone();
        tokio::spawn(async move {
            let _ = moviebooking::server::serve(server_state, listener, async {
                let _ = stopped.await;
            })
            .await;
        });
        TestApp {
            base_url,
            state,
            db,
            mail_dir,
            database,
            stop: Some(stop),
        }
    }

    /// A new visitor with an empty cookie jar.
    pub fn browser(&self) -> Browser {
        Browser::new(&self.base_url)
    }

    /// Stops this copy's server (its database stays for the other copies).
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Runs one round of the background jobs now.
    pub async fn run_jobs(&self) {
        moviebooking::jobs::run_once(&self.state).await;
    }

    /// The emails written by the file backend, oldest first, as raw text.
    pub fn mails(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.mail_dir) else {
            return Vec::new();
        };
        let mut files: Vec<_> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let modified = e.metadata().ok()?.modified().ok()?;
                Some((modified, e.path()))
            })
            .collect();
        files.sort();
        files
            .into_iter()
            .filter_map(|(_, path)| std::fs::read_to_string(path).ok())
            .collect()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A visitor: an HTTP client with a cookie jar that does not follow redirects, so tests
/// can see where each answer points.
#[derive(Clone)]
pub struct Browser {
    pub base_url: String,
    pub client: reqwest::Client,
}

impl Browser {
    pub fn new(base_url: &str) -> Self {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self {
            base_url: base_url.to_owned(),
            client,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    /// GET and return the status and body text.
    pub async fn get_text(&self, path: &str) -> (StatusCode, String) {
        let response = self.get(path).await;
        let status = response.status();
        (status, response.text().await.expect("body"))
    }

    /// The CSRF token a page would put in its forms (read from the page's meta tag).
    pub async fn csrf_token(&self) -> String {
        let (_, body) = self.get_text("/").await;
        extract_meta(&body, "csrf-token").expect("every page carries a CSRF token")
    }

    /// Submits a form as a page of the site would: same origin, with the CSRF token.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let token = self.csrf_token().await;
        let mut body: Vec<(&str, &str)> = fields.to_vec();
        body.push(("csrf_token", &token));
        self.client
            .post(self.url(path))
            .header("origin", &self.base_url)
            .form(&body)
            .send()
            .await
            .expect("POST form")
    }

    /// Sends JSON to the API.
    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("POST json")
    }

    /// GET a JSON endpoint: status and parsed body.
    pub async fn get_json(&self, path: &str) -> (StatusCode, serde_json::Value) {
        let response = self.get(path).await;
        let status = response.status();
        let body = response.json().await.unwrap_or(serde_json::Value::Null);
        (status, body)
    }
}

/// The `content` of `<meta name="NAME" content="...">` in a page.
pub fn extract_meta(html: &str, name: &str) -> Option<String> {
    let marker = format!("<meta name=\"{name}\" content=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

/// The value of the first `<input ... name="NAME" value="...">` in a page.
pub fn extract_input(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

/// The `Location` header of a redirect.
pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
