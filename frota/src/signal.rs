//! How a long-running program of the demo learns it must stop: SIGINT (Ctrl-C) or SIGTERM (what
//! Kubernetes sends a container), whichever comes first. One handler for the ships, loadtest and
//! galaxia.

use std::future::Future;

/// A future that resolves at the first SIGINT or SIGTERM. The handlers are installed here, when
/// it is made, not when it is first polled: a signal that arrives before the program awaits it
/// still counts. A signal that cannot be watched never resolves it (it must not end a run).
pub fn terminated() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{Signal, SignalKind, signal};
    async fn recv(s: std::io::Result<Signal>) {
        match s {
            Ok(mut s) => {
                if s.recv().await.is_none() {
                    std::future::pending::<()>().await;
                }
            }
            Err(_) => std::future::pending::<()>().await,
        }
    }
    let term = recv(signal(SignalKind::terminate()));
    let int = recv(signal(SignalKind::interrupt()));
    async move {
        tokio::select! {
            () = term => {}
            () = int => {}
        }
    }
}
