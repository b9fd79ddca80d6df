//! Running the HTTP server: bind, serve with the background jobs beside it, and stop
//! gracefully on SIGTERM/SIGINT (finish in-flight requests, then stop the jobs).

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::state::AppState;

/// Serves the app on `listener` until `shutdown` resolves.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = crate::app(state.clone());
    serve_router(state, app, listener, shutdown).await
}

/// Serves `app` (built over `state`) with the background jobs beside it until `shutdown`
/// resolves; then stops accepting connections, lets in-flight requests finish, stops the
/// jobs and closes the database pools. Tests serve routers of their own through it.
pub async fn serve_router(
    state: AppState,
    app: axum::Router,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_jobs, jobs_stopped) = watch::channel(false);
    let jobs = crate::jobs::spawn(state.clone(), jobs_stopped);
    let result = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    let _ = stop_jobs.send(true);
    let _ = jobs.await;
    state.db.close().await;
    result
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (what Heroku and Railway send before stopping).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}
