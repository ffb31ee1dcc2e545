//! The station's life: accept loops for the demo and admin ports, one task a connection, and the two
//! ways it ends (a drained, graceful shutdown, or an explosion that cuts everything).

use std::error::Error as StdError;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::{Body, Incoming};
use hyper::server::conn::http1;
use hyper::service::{HttpService, service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::time::{Instant, sleep, sleep_until, timeout};

use crate::config::Config;
use crate::demo::{Activity, DemoService, Station};
use crate::metrics::Metrics;
use crate::pipe::PipeListener;
use crate::{Error, Exit, admin};

/// How long connections get to notice they must die once the station is going away for good.
const CUT_WAIT: Duration = Duration::from_secs(1);
/// Pause after a failed accept (EMFILE and the like) so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// "Never" for the deadline timer while nothing is scheduled.
const FAR_AWAY: Duration = Duration::from_secs(86_400 * 365);

/// What every connection task watches: keep serving, finish the request in flight and close,
/// or drop everything now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Serving,
    Closing,
    Dead,
}

/// Serves the demo API on `demo` and the admin endpoints on `admin` until `shutdown` resolves
/// (then drains and returns [`Exit::Shutdown`]) or the exhaust port is hit with explosions on
/// (then returns [`Exit::Exploded`] `explode_after` later, having stopped serving).
pub async fn run(
    demo: TcpListener,
    admin: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<Exit, Error> {
    serve(demo, None, admin, config, shutdown).await
}

/// [`run`], also serving the demo API on in-process connections from `pipe`'s connector (see
/// [`crate::pipe`]): they get the same answers, timeouts and fate as the demo port's.
pub async fn run_with_pipe(
    demo: TcpListener,
    pipe: PipeListener,
    admin: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<Exit, Error> {
    serve(demo, Some(pipe), admin, config, shutdown).await
}

async fn serve(
    demo: TcpListener,
    mut pipe: Option<PipeListener>,
    admin: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<Exit, Error> {
    let hostname = config.hostname.clone().unwrap_or_else(system_hostname);
    let access_log = config.access_log || tracing::enabled!(tracing::Level::DEBUG);
    let station = Arc::new(Station::new(
        &config,
        &hostname,
        Metrics::new()?,
        access_log,
    ));
    let demo_addr = demo.local_addr().map_err(|source| Error::Io {
        context: "cannot read the demo listener's address",
        source,
    })?;
    let admin_addr = admin.local_addr().map_err(|source| Error::Io {
        context: "cannot read the admin listener's address",
        source,
    })?;
    tracing::info!(
        demo = %demo_addr,
        admin = %admin_addr,
        %hostname,
        explosions = config.explosions(),
        "estrela-da-morte is up"
    );

    let header_timeout = Some(config.header_read_timeout).filter(|timeout| !timeout.is_zero());
    // The demo port bounds heads and idle time with one watchdog a connection instead of hyper's
    // header_read_timeout, which arms a new boxed timer for every request (about 5% of the CPU
    // spent per landing).
    let mut demo_http = http1::Builder::new();
    demo_http.title_case_headers(true).header_read_timeout(None);
    let mut admin_http = http1::Builder::new();
    admin_http
        .timer(TokioTimer::new())
        .title_case_headers(true)
        .header_read_timeout(header_timeout);

    let (phase, _) = watch::channel(Phase::Serving);
    let mut shutdown = pin!(shutdown);
    let mut shutdown_seen = false;
    let mut drain_end: Option<Instant> = None;
    let mut explode_at: Option<Instant> = None;
    let mut deadline = pin!(sleep(FAR_AWAY));

    loop {
        tokio::select! {
            accepted = demo.accept() => match accepted {
                Ok((stream, peer)) => {
                    // Small answers must not wait for Nagle's algorithm (Go's net/http sets it too).
                    let _ = stream.set_nodelay(true);
                    spawn_demo(&demo_http, &station, header_timeout, TokioIo::new(stream), peer, phase.subscribe());
                }
                Err(error) => accept_failed(error, "demo").await,
            },
            accepted = next_piped(&mut pipe) => match accepted {
                Some((stream, peer)) => {
                    spawn_demo(&demo_http, &station, header_timeout, TokioIo::new(stream), peer, phase.subscribe());
                }
                // Every connector is gone: nobody can open another one.
                None => pipe = None,
            },
            accepted = admin.accept() => match accepted {
                Ok((stream, _)) => {
                    let station = Arc::clone(&station);
                    let service = service_fn(move |request| admin::answer(Arc::clone(&station), request));
                    let _ = stream.set_nodelay(true);
                    spawn_connection(&admin_http, TokioIo::new(stream), service, phase.subscribe(), None);
                }
                Err(error) => accept_failed(error, "admin").await,
            },
            () = &mut shutdown, if !shutdown_seen => {
                shutdown_seen = true;
                station.set_unready();
                tracing::info!(drain = ?config.drain, "shutdown requested: readiness fails, draining");
                drain_end = Some(Instant::now() + config.drain);
                deadline.as_mut().reset(earliest(drain_end, explode_at));
            }
            () = station.explosion.notified(), if explode_at.is_none() => {
                explode_at = Some(Instant::now() + config.explode_after);
                deadline.as_mut().reset(earliest(drain_end, explode_at));
            }
            () = &mut deadline, if drain_end.is_some() || explode_at.is_some() => break,
        }
    }
    // Closing the listeners: new connections are refused from here on.
    drop(demo);
    drop(pipe);
    drop(admin);

    if !due(explode_at) {
        // Drain over: finish what is in flight, bounded by the grace period.
        phase.send_replace(Phase::Closing);
        tokio::select! {
            () = phase.closed() => {}
            () = sleep(config.grace) => {
                tracing::warn!(grace = ?config.grace, "connections still busy after the grace period: cut");
            }
            () = sleep_until(explode_at.unwrap_or_else(|| Instant::now() + FAR_AWAY)) => {}
        }
        match explode_at {
            // An explosion that began before the end of the drain still happens, as upstream's
            // dying process would exit 2 whatever else was going on.
            Some(at) => sleep_until(at).await,
            None => {
                phase.send_replace(Phase::Dead);
                let _ = timeout(CUT_WAIT, phase.closed()).await;
                tracing::info!("shutdown complete");
                return Ok(Exit::Shutdown);
            }
        }
    }
    phase.send_replace(Phase::Dead);
    let _ = timeout(CUT_WAIT, phase.closed()).await;
    tracing::error!("the Death Star exploded");
    Ok(Exit::Exploded)
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Instant {
    match (a, b) {
        (Some(a), Some(b)) => a.min(b),
        (Some(t), None) | (None, Some(t)) => t,
        (None, None) => Instant::now() + FAR_AWAY,
    }
}

fn due(at: Option<Instant>) -> bool {
    at.is_some_and(|at| at <= Instant::now())
}

/// The next in-process connection; never, without a pipe.
async fn next_piped(
    pipe: &mut Option<PipeListener>,
) -> Option<(crate::pipe::PipeStream, std::net::SocketAddr)> {
    match pipe {
        Some(listener) => listener.accept().await,
        None => std::future::pending().await,
    }
}

async fn accept_failed(error: std::io::Error, port: &'static str) {
    tracing::warn!(%error, port, "accept failed");
    sleep(ACCEPT_BACKOFF).await;
}

/// Serves one demo connection (from the port or a pipe) with its watchdog.
fn spawn_demo<I>(
    http: &http1::Builder,
    station: &Arc<Station>,
    header_timeout: Option<Duration>,
    io: I,
    peer: std::net::SocketAddr,
    phase: watch::Receiver<Phase>,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity::default());
    let service = DemoService::new(Arc::clone(station), peer, Arc::clone(&activity));
    let watchdog = header_timeout.map(|period| (activity, period));
    spawn_connection(http, io, service, phase, watchdog);
}

/// Serves one connection in its own task. With a `watchdog`, the connection is closed when a
/// whole period passes with no new request head and nothing in progress: an idle keep-alive
/// connection or a slowloris client goes away after one to two periods.
fn spawn_connection<I, S>(
    http: &http1::Builder,
    io: I,
    service: S,
    phase: watch::Receiver<Phase>,
    watchdog: Option<(Arc<Activity>, Duration)>,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    S: HttpService<Incoming> + Send + 'static,
    S::Future: Send,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    S::ResBody: Send + 'static,
    <S::ResBody as Body>::Data: Send,
    <S::ResBody as Body>::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let connection = http.serve_connection(io, service);
    tokio::spawn(async move {
        let mut phase = phase;
        let mut connection = pin!(connection);
        let period = watchdog.as_ref().map_or(FAR_AWAY, |(_, period)| *period);
        let mut tick = pin!(sleep(period));
        let mut heads_seen = 0;
        loop {
            tokio::select! {
                biased;
                _ = connection.as_mut() => return,
                _ = phase.wait_for(|p| *p != Phase::Serving) => break,
                () = tick.as_mut(), if watchdog.is_some() => {
                    if let Some((activity, _)) = &watchdog {
                        let heads = activity.heads();
                        if heads == heads_seen && !activity.busy() {
                            return;
                        }
                        heads_seen = heads;
                    }
                    tick.as_mut().reset(Instant::now() + period);
                }
            }
        }
        if *phase.borrow() == Phase::Dead {
            return;
        }
        connection.as_mut().graceful_shutdown();
        tokio::select! {
            biased;
            _ = connection.as_mut() => {}
            _ = phase.wait_for(|p| *p == Phase::Dead) => {}
        }
    });
}

/// The system hostname, read once at start; Kubernetes makes it the pod name.
fn system_hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .map(|name| name.trim().to_owned())
        .find(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}
