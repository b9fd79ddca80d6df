//! Background work of one process: a ticking loop that expires holds, retries the email
//! outbox and cleans old sessions. Several processes may run it at once; every task claims
//! its rows with a conditional UPDATE first, so no work is done twice.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::db::session_store::DbSessionStore;
use crate::state::AppState;

/// How often the loop wakes up.
pub const TICK: Duration = Duration::from_secs(5);

/// Runs one round of every background task; errors are logged and the next round retries.
pub async fn run_once(state: &AppState) {
    let now = state.clock.now();
    match crate::domain::bookings::expire_holds(&state.db, now).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(expired = n, "expired unpaid holds"),
        Err(error) => tracing::warn!(%error, "could not expire holds"),
    }
    state.payment_flow().run_jobs(now).await;
    match DbSessionStore::new(state.db.clone())
        .delete_expired(now)
        .await
    {
        Ok(0) => {}
        Ok(n) => tracing::debug!(deleted = n, "removed expired sessions"),
        Err(error) => tracing::warn!(%error, "could not clean expired sessions"),
    }
    let sent = state.mailer.retry_due().await;
    if sent > 0 {
        tracing::info!(sent, "delivered queued emails");
    }
    if let Err(error) =
        crate::domain::accounts::purge_old_records(&state.db, crate::db::unix(now)).await
    {
        tracing::warn!(%error, "could not purge old login attempts and tokens");
    }
}

/// Starts the loop; it stops when `shutdown` turns true.
pub fn spawn(state: AppState, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(TICK);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => run_once(&state).await,
                _ = shutdown.changed() => break,
            }
            if *shutdown.borrow() {
                break;
            }
        }
        tracing::info!("background jobs stopped");
    })
}
