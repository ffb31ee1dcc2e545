//! How a long-running program of the demo learns it must stop: Ctrl-C (SIGINT) or SIGTERM (what
//! Kubernetes sends a container), whichever comes first. One handler for the ships, loadtest and
//! galaxia.

/// Resolves at the first SIGINT or SIGTERM. Where SIGTERM cannot be watched (no signal driver),
/// Ctrl-C alone; where neither can, never.
pub async fn terminated() {
    use tokio::signal::unix::{SignalKind, signal};
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                () = ctrl_c => {}
            }
        }
        Err(_) => ctrl_c.await,
    }
}
