//! Stage 1, accept: one pod's egress listener and the HTTP/1.1 connections on it. What a
//! connection is and what happens to each request on it is the [`Handler`]'s (the later stages).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::body::{Held, ProxyBody};

/// The stages after accept.
pub trait Handler: Clone + Send + Sync + 'static {
    /// What the handler keeps for one client connection.
    type Conn: Send + Sync + 'static;

    /// A client connected from `peer`.
    fn open(&self, peer: SocketAddr) -> Self::Conn;

    /// One request on `conn` (by value: the future outlives this call).
    fn handle(
        self,
        conn: Arc<Self::Conn>,
        req: Request<Incoming>,
        shutdown: watch::Receiver<bool>,
    ) -> impl Future<Output = Result<Response<ProxyBody>, Held>> + Send + 'static;

    /// The client's connection ended (closed by either side, or cut).
    fn close(&self, conn: &Self::Conn);
}

/// How long a new connection may take to send its first request head.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a connection may sit with no request in flight and no new head.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The client connections the galaxy's listeners may hold: all of them together (so that a flood
/// cannot take the file descriptors the control API and Hubble need) and each one alone (so that
/// a flood on one pod's proxy leaves the other pods' proxies room).
#[derive(Clone, Debug)]
pub struct Slots {
    all: Arc<tokio::sync::Semaphore>,
    each: usize,
}

/// nginx's default `worker_connections` is 512 and Envoy's listeners have no default cap; a pod
/// of the tutorial needs a handful, a load test a few hundred.
const PER_LISTENER: usize = 1024;

impl Slots {
    pub fn new(all: usize, each: usize) -> Slots {
        Slots {
            all: Arc::new(tokio::sync::Semaphore::new(all.max(1))),
            each: each.clamp(1, all.max(1)),
        }
    }

    /// A third of the open-file limit (a proxied connection holds a client socket and an
    /// upstream one), less what the rest of the process keeps open.
    pub fn for_this_process() -> Slots {
        let files = open_file_limit().unwrap_or(1024);
        let all = (files.saturating_sub(256) / 3).clamp(64, 100_000) as usize;
        Slots::new(all, PER_LISTENER.min(all / 2))
    }

    /// Connections all listeners may still take.
    pub fn available(&self) -> usize {
        self.all.available_permits()
    }
}

/// The soft RLIMIT_NOFILE, read from /proc so no libc binding is needed.
fn open_file_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Accept until `shutdown` flips; each connection gets its own task and one of `slots`. When
/// the slots are gone the listener stops accepting, so new clients wait in the kernel's
/// backlog instead of the process running out of file descriptors.
pub async fn run<H: Handler>(
    listener: TcpListener,
    mut shutdown: watch::Receiver<bool>,
    handler: H,
    slots: Slots,
) {
    let mine = Arc::new(tokio::sync::Semaphore::new(slots.each));
    loop {
        let permits = tokio::select! {
            p = async {
                let one = Arc::clone(&mine).acquire_owned().await?;
                let all = Arc::clone(&slots.all).acquire_owned().await?;
                Ok::<_, tokio::sync::AcquireError>((one, all))
            } => match p {
                Ok(p) => p,
                Err(_) => return,
            },
            _ = shutdown.wait_for(|s| *s) => return,
        };
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.wait_for(|s| *s) => return,
        };
        match accepted {
            Ok((stream, peer)) => {
                // Small requests and answers: do not let Nagle hold them back.
                let _ = stream.set_nodelay(true);
                let (rx, h) = (shutdown.clone(), handler.clone());
                tokio::spawn(async move {
                    let _permits = permits;
                    connection(stream, peer, rx, h).await;
                });
            }
            Err(e) => {
                // EMFILE and friends: back off a little instead of spinning.
                tracing::warn!(error = %e, "egress proxy accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// What the watchdog of one connection sees: request heads so far, requests in flight.
#[derive(Debug, Default)]
struct Activity {
    heads: AtomicU64,
    busy: AtomicU64,
}

/// Marks a request in flight until it is answered (or dropped with its connection).
struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn connection<H: Handler>(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    mut shutdown: watch::Receiver<bool>,
    handler: H,
) {
    let conn = Arc::new(handler.open(peer));
    let activity = Arc::new(Activity::default());
    let rx = shutdown.clone();
    let (h, c, a) = (handler.clone(), Arc::clone(&conn), Arc::clone(&activity));
    let service = service_fn(move |req| {
        a.heads.fetch_add(1, Ordering::Relaxed);
        a.busy.fetch_add(1, Ordering::Relaxed);
        let busy = Busy(Arc::clone(&a));
        let answer = h.clone().handle(Arc::clone(&c), req, rx.clone());
        async move {
            let _busy = busy;
            answer.await
        }
    });
    let serving = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    // One timer a connection, not one a request: a tick checks that a head came (or a request
    // is in flight) since the last one.
    let mut period = HEAD_TIMEOUT;
    let mut seen = 0;
    let mut serving = std::pin::pin!(serving);
    loop {
        tokio::select! {
            // A held (dropped) request ends the connection with an error: expected, not logged.
            _ = serving.as_mut() => break,
            _ = shutdown.wait_for(|s| *s) => break,
            () = tokio::time::sleep(period) => {
                let heads = activity.heads.load(Ordering::Relaxed);
                if heads == seen && activity.busy.load(Ordering::Relaxed) == 0 {
                    break;
                }
                seen = heads;
                period = IDLE_TIMEOUT;
            }
        }
    }
    handler.close(&conn);
}
