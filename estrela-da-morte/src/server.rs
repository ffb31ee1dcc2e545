//! The station's life: accept loops for the demo and admin ports, each with its own connection
//! pool, one task a connection, and the two ways it ends (a drained, graceful shutdown, or an
//! explosion that cuts everything).
//!
//! A connection that ends gracefully (client gone, idle, shutdown, a `Connection: close` answer)
//! is closed the way nginx's lingering close does it: FIN first, then what the client still sends
//! is read and dropped until it closes too. Closing a socket with unread bytes in it would make
//! the kernel send a reset, which a client reports as an error even though its answers all came.

use std::error::Error as StdError;
use std::future::{Future, poll_fn};
use std::io::Read as _;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::time::Duration;

use hyper::StatusCode;
use hyper::body::{Body, Incoming};
use hyper::server::conn::http1;
use hyper::service::{HttpService, service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, watch};
use tokio::time::{Instant, sleep, sleep_until, timeout};

use crate::config::Config;
use crate::demo::{Activity, DemoService, Station};
use crate::metrics::{Metrics, PortLabel};
use crate::pipe::PipeListener;
use crate::{Error, Exit, admin};

/// How long connections get to notice they must die once the station is going away for good.
const CUT_WAIT: Duration = Duration::from_secs(1);
/// Pause after a failed accept (EMFILE and the like) so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// "Never" for the deadline timer while nothing is scheduled.
const FAR_AWAY: Duration = Duration::from_secs(86_400 * 365);
/// Largest request head (request line and headers) a connection buffers; a larger one gets 431,
/// as Go's net/http (upstream) answers an oversized head. It bounds what one connection can make
/// the station hold (hyper's default allows about 400 kB), so that the connection caps bound
/// memory too.
pub(crate) const MAX_HEAD_BYTES: usize = 16 * 1024;
// hyper answers 414 only for a URI over 65534 bytes, whose head is over MAX_HEAD_BYTES first:
// every "too large" parse error is therefore a 431 (see `refused_by_parser`).
const _: () = assert!(MAX_HEAD_BYTES < 65_534);
/// After a graceful close has sent its FIN, how long to read and drop what the client still
/// sends until it closes its side too.
const LINGER: Duration = Duration::from_secs(2);
/// Once the drain is over and new SYNs are dropped, how long the handshakes already under way
/// get to complete (one round trip, well under a millisecond inside a cluster) before the
/// listeners close.
const HANDSHAKES_SETTLE: Duration = Duration::from_millis(50);
/// Once the drain is over, how long a connection that has not sent its first request yet (it
/// connected just before the listener closed) gets to send it; Go's Shutdown allows 5 s.
const FIRST_REQUEST_WAIT: Duration = Duration::from_secs(1);
/// File descriptors kept for everything but connections (listeners, epoll, stdio, the metrics
/// collector reading /proc, a connection being turned away) when fitting the caps in the
/// open-files limit.
const FD_RESERVE: usize = 32;

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
/// [`crate::pipe`]): they get the same answers, timeouts and fate as the demo port's, and share
/// its connection cap.
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
    let config = fit_open_files(config, open_files_limit());
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
        max_connections = config.max_connections,
        max_admin_connections = config.max_admin_connections,
        "estrela-da-morte is up"
    );

    let (phase, _) = watch::channel(Phase::Serving);
    let mut ports = Ports::new(&config, Arc::clone(&station), phase);
    let mut shutdown = pin!(shutdown);
    let mut shutdown_seen = false;
    let mut drain_end: Option<Instant> = None;
    let mut explode_at: Option<Instant> = None;
    let mut deadline = pin!(sleep(FAR_AWAY));
    let mut syns_dropped = false;

    loop {
        tokio::select! {
            accepted = demo.accept() => match accepted {
                Ok((stream, peer)) => ports.demo(stream, peer),
                Err(error) => accept_failed(error, "demo").await,
            },
            accepted = next_piped(&mut pipe) => match accepted {
                Some((stream, peer)) => ports.demo(stream, peer),
                // Every connector is gone: nobody can open another one.
                None => pipe = None,
            },
            accepted = admin.accept() => match accepted {
                Ok((stream, _)) => ports.admin(stream),
                Err(error) => accept_failed(error, "admin").await,
            },
            () = &mut shutdown, if !shutdown_seen => {
                shutdown_seen = true;
                station.set_unready();
                station.set_draining();
                tracing::info!(drain = ?config.drain, "shutdown requested: readiness fails, draining");
                drain_end = Some(Instant::now() + config.drain);
                deadline.as_mut().reset(earliest(drain_end, explode_at));
            }
            () = station.explosion.notified(), if explode_at.is_none() => {
                explode_at = Some(Instant::now() + config.explode_after);
                deadline.as_mut().reset(earliest(drain_end, explode_at));
            }
            () = &mut deadline, if drain_end.is_some() || explode_at.is_some() => {
                if due(explode_at) || syns_dropped {
                    break;
                }
                // The drain is over. Closing a listener resets the handshakes the kernel has
                // completed for it, so first let those under way complete (and be accepted)
                // while new ones are dropped, as if the port were already closed: their SYN
                // is sent again a second later and refused then.
                syns_dropped = drop_new_syns(&demo) & drop_new_syns(&admin);
                if !syns_dropped {
                    break;
                }
                let settled = Some(Instant::now() + HANDSHAKES_SETTLE);
                deadline.as_mut().reset(earliest(settled, explode_at));
            }
        }
    }
    if due(explode_at) {
        drop(demo);
        drop(admin);
    } else {
        // Closing a listener resets the connections the kernel has completed but nobody has
        // accepted yet: take them in first (they are answered with `Connection: close`).
        for (stream, peer) in take_backlog(demo) {
            ports.demo(stream, peer);
        }
        while let Some((stream, peer)) = pipe.as_mut().and_then(PipeListener::try_accept) {
            ports.demo(stream, peer);
        }
        for (stream, _) in take_backlog(admin) {
            ports.admin(stream);
        }
    }
    // The listeners are closed: new connections are refused from here on.
    drop(pipe);
    let phase = ports.phase;

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
async fn next_piped(pipe: &mut Option<PipeListener>) -> Option<(DuplexStream, SocketAddr)> {
    match pipe {
        Some(listener) => listener.accept().await,
        None => std::future::pending().await,
    }
}

/// Makes the kernel drop new SYNs to `listener` (a classic BPF socket filter; packets of
/// handshakes under way and of accepted connections pass). False where that is not possible.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn drop_new_syns(listener: &TcpListener) -> bool {
    use socket2::SockFilter;
    // The filter sees the TCP header at offset 0: byte 13 holds the flags, 0x02 is SYN.
    const DROP_SYNS: [SockFilter; 4] = [
        SockFilter::new(0x30, 0, 0, 13),       // ldb [13]
        SockFilter::new(0x45, 0, 1, 0x02),     // jset #SYN, next, skip 1
        SockFilter::new(0x06, 0, 0, 0),        // ret #0: drop
        SockFilter::new(0x06, 0, 0, u32::MAX), // ret #-1: keep the whole packet
    ];
    socket2::SockRef::from(listener)
        .attach_filter(&DROP_SYNS)
        .is_ok()
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn drop_new_syns(_listener: &TcpListener) -> bool {
    false
}

/// Closes `listener` and returns the connections the kernel had completed for it. It asks the
/// kernel itself until nothing is left, not tokio's readiness (which lags behind): only a
/// handshake completing between the last accept and the close would be reset, and with new
/// SYNs dropped beforehand none is.
fn take_backlog(listener: TcpListener) -> Vec<(TcpStream, SocketAddr)> {
    let Ok(listener) = listener.into_std() else {
        return Vec::new();
    };
    let mut taken = Vec::new();
    // Non-blocking (tokio's listeners are): stops at the first WouldBlock.
    while let Ok((stream, peer)) = listener.accept() {
        if let Ok(stream) = stream
            .set_nonblocking(true)
            .and_then(|()| TcpStream::from_std(stream))
        {
            taken.push((stream, peer));
        }
    }
    taken
}

async fn accept_failed(error: std::io::Error, port: &'static str) {
    tracing::warn!(%error, port, "accept failed");
    sleep(ACCEPT_BACKOFF).await;
}

/// Lowers the demo cap when the open-files limit (`limit`) cannot hold it next to the admin
/// pool: running out of descriptors would stop the admin port's accepts as well, and with them
/// the probes, while a cap only turns away demo connections.
fn fit_open_files(mut config: Config, limit: Option<usize>) -> Config {
    let Some(limit) = limit else {
        return config;
    };
    let room = limit
        .saturating_sub(config.max_admin_connections.saturating_add(FD_RESERVE))
        .max(1);
    if config.max_connections > room {
        tracing::warn!(
            max_connections = config.max_connections,
            open_files_limit = limit,
            lowered_to = room,
            "the open-files limit cannot hold --max-connections next to the admin connections: lowered"
        );
        config.max_connections = room;
    }
    config
}

/// The soft open-files limit of this process, from /proc (no unsafe getrlimit); `None` when
/// unknown or unlimited.
fn open_files_limit() -> Option<usize> {
    parse_open_files(&std::fs::read_to_string("/proc/self/limits").ok()?)
}

fn parse_open_files(limits: &str) -> Option<usize> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// A connection's byte stream: a TCP socket or an in-process pipe.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static {
    /// Prepares a stream that will be served.
    fn accepted(&self) {}

    /// Closes a connection turned away at accept, with neither a task nor a wait.
    fn turn_away(self);
}

impl Stream for TcpStream {
    fn accepted(&self) {
        // Small answers must not wait for Nagle's algorithm (Go's net/http sets it too).
        let _ = self.set_nodelay(true);
    }

    fn turn_away(self) {
        // A request that has already arrived would turn the close into a reset: read it (only
        // what is there) so that the client sees a plain close. Through the std socket, since
        // tokio's `try_read` trusts readiness the reactor has not reported yet for a new socket.
        let Ok(stream) = self.into_std() else {
            return;
        };
        let mut sink = [0u8; 1024];
        for _ in 0..16 {
            if !matches!((&stream).read(&mut sink), Ok(n) if n > 0) {
                break;
            }
        }
    }
}

impl Stream for DuplexStream {
    fn turn_away(self) {}
}

/// Takes accepted connections in, within each port's pool, and starts their tasks.
struct Ports {
    station: Arc<Station>,
    demo_http: http1::Builder,
    admin_http: http1::Builder,
    idle_period: Option<Duration>,
    phase: watch::Sender<Phase>,
    /// Per port, whether connections are being turned away (logged once an episode).
    shedding: [bool; 2],
}

impl Ports {
    fn new(config: &Config, station: Arc<Station>, phase: watch::Sender<Phase>) -> Self {
        let idle_period = Some(config.header_read_timeout).filter(|timeout| !timeout.is_zero());
        // The demo port bounds heads and idle time with one watchdog a connection instead of
        // hyper's header_read_timeout, which arms a new boxed timer for every request (about 5%
        // of the CPU spent per landing).
        let mut demo_http = http1::Builder::new();
        demo_http
            .title_case_headers(true)
            .header_read_timeout(None)
            .max_buf_size(MAX_HEAD_BYTES)
            // A client that shuts down its sending side after its request (`nc -N`) is
            // answered, as Go's net/http (upstream) answers it; hyper would drop the request.
            .half_close(true);
        let mut admin_http = http1::Builder::new();
        admin_http
            .timer(TokioTimer::new())
            .title_case_headers(true)
            .header_read_timeout(idle_period)
            .max_buf_size(MAX_HEAD_BYTES)
            .half_close(true);
        Ports {
            station,
            demo_http,
            admin_http,
            idle_period,
            phase,
            shedding: [false; 2],
        }
    }

    /// Serves a demo connection (from the port or a pipe) if the demo pool has room.
    fn demo<T: Stream>(&mut self, stream: T, peer: SocketAddr) {
        let Some(slot) = self.slot(PortLabel::Demo) else {
            stream.turn_away();
            return;
        };
        stream.accepted();
        let activity = Arc::new(Activity::default());
        let service = DemoService::new(Arc::clone(&self.station), peer, Arc::clone(&activity));
        let watch = Watch {
            phase: self.phase.subscribe(),
            activity,
            idle_period: self.idle_period,
            refusals: Some((Arc::clone(&self.station), peer)),
            _slot: slot,
        };
        spawn_connection(&self.demo_http, stream, service, watch);
    }

    /// Serves an admin connection if the admin pool has room.
    fn admin(&mut self, stream: TcpStream) {
        let Some(slot) = self.slot(PortLabel::Admin) else {
            stream.turn_away();
            return;
        };
        stream.accepted();
        let activity = Arc::new(Activity::default());
        let station = Arc::clone(&self.station);
        let heads = Arc::clone(&activity);
        let service = service_fn(move |request| {
            heads.saw_head();
            // Boxed so the connection can be taken apart for a lingering close; the admin port
            // is not the hot path.
            Box::pin(admin::answer(Arc::clone(&station), request))
        });
        let watch = Watch {
            phase: self.phase.subscribe(),
            activity,
            // hyper's own header timer bounds the admin port's heads and idle time.
            idle_period: None,
            refusals: None,
            _slot: slot,
        };
        spawn_connection(&self.admin_http, stream, service, watch);
    }

    /// A place in `port`'s pool, or `None` (counted, and logged when shedding begins).
    fn slot(&mut self, port: PortLabel) -> Option<OwnedSemaphorePermit> {
        let slots = match port {
            PortLabel::Demo => &self.station.demo_slots,
            PortLabel::Admin => &self.station.admin_slots,
        };
        let shedding = &mut self.shedding[port as usize];
        match Arc::clone(slots).try_acquire_owned() {
            Ok(slot) => {
                *shedding = false;
                Some(slot)
            }
            Err(_) => {
                self.station.metrics.connection_rejected(port);
                if !*shedding {
                    *shedding = true;
                    tracing::warn!(
                        port = port.name(),
                        "connection limit reached: new connections are closed on accept until some end"
                    );
                }
                None
            }
        }
    }
}

/// What a connection's task watches besides hyper's connection, and the pool place it holds
/// until it ends.
struct Watch {
    phase: watch::Receiver<Phase>,
    activity: Arc<Activity>,
    /// With a period, the connection is closed when a whole period passes with no new request
    /// head and nothing in progress: an idle keep-alive connection or a slowloris client goes
    /// away after one to two periods.
    idle_period: Option<Duration>,
    /// Where requests refused by the HTTP parser are counted and logged (the demo port).
    refusals: Option<(Arc<Station>, SocketAddr)>,
    _slot: OwnedSemaphorePermit,
}

/// How hyper's part of a connection ended.
enum End {
    /// hyper is done with it (client gone, `Connection: close`, graceful shutdown, an error).
    Done(hyper::Result<()>),
    /// Idle for a whole period, or no first request in time after the drain.
    Idle,
    /// The station is going away for good: drop it now.
    Cut,
}

/// Serves one connection in its own task, then closes it gracefully unless the station is
/// going away for good.
fn spawn_connection<T, S>(http: &http1::Builder, io: T, service: S, watch: Watch)
where
    T: Stream,
    S: HttpService<Incoming> + Unpin + Send + 'static,
    S::Future: Unpin + Send,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    S::ResBody: Send + 'static,
    <S::ResBody as Body>::Data: Send,
    <S::ResBody as Body>::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let mut connection = http.serve_connection(TokioIo::new(io), service);
    tokio::spawn(async move {
        // The whole of it, pool place included: a block that used only some of its fields
        // would capture just those, and give the place back at once.
        let mut watch = watch;
        let period = watch.idle_period.unwrap_or(FAR_AWAY);
        let mut tick = pin!(sleep(period));
        let mut first_request = pin!(sleep(FAR_AWAY));
        let mut closing = false;
        let mut heads_seen = 0;
        // A connection taken in at the end of the drain starts out closing.
        let mut now = *watch.phase.borrow_and_update();
        let end = loop {
            match now {
                Phase::Dead => break End::Cut,
                Phase::Closing if !closing => {
                    closing = true;
                    if watch.activity.heads() == 0 {
                        // hyper would close a connection it has read nothing from at once,
                        // though its first request may be in the socket already: wait for
                        // it instead (its answer closes the connection: the station drains).
                        first_request
                            .as_mut()
                            .reset(Instant::now() + FIRST_REQUEST_WAIT);
                    } else {
                        // Closed at once if idle, else after the answer in progress.
                        Pin::new(&mut connection).graceful_shutdown();
                    }
                }
                _ => {}
            }
            tokio::select! {
                biased;
                done = poll_fn(|cx| connection.poll_without_shutdown(cx)) => break End::Done(done),
                changed = watch.phase.changed() => {
                    now = match changed {
                        Ok(()) => *watch.phase.borrow_and_update(),
                        // The station has returned: nothing is left to serve for.
                        Err(_) => Phase::Dead,
                    };
                }
                () = tick.as_mut(), if watch.idle_period.is_some() => {
                    let heads = watch.activity.heads();
                    if heads == heads_seen && !watch.activity.busy() {
                        break End::Idle;
                    }
                    heads_seen = heads;
                    tick.as_mut().reset(Instant::now() + period);
                }
                () = first_request.as_mut(), if closing => {
                    if watch.activity.heads() == 0 && !watch.activity.busy() {
                        break End::Idle;
                    }
                    Pin::new(&mut connection).graceful_shutdown();
                    first_request.as_mut().reset(Instant::now() + FAR_AWAY);
                }
            }
        };
        match end {
            End::Cut => return,
            End::Done(Err(error)) => {
                if let (Some((station, peer)), Some((status, reason))) =
                    (&watch.refusals, refused_by_parser(&error))
                {
                    station.finish_unparsed(*peer, status, reason);
                }
            }
            End::Done(Ok(())) | End::Idle => {}
        }
        let io = connection.into_parts().io.into_inner();
        linger(io, &mut watch.phase).await;
    });
}

/// The answer hyper wrote itself for a request its parser refused, if it wrote one: hyper
/// answers 400 for a malformed head, 431 for one over the head limit (and 414 for a URI over
/// 64 KiB, which the head limit makes unreachable), and nothing to an HTTP/2 preface.
fn refused_by_parser(error: &hyper::Error) -> Option<(StatusCode, &'static str)> {
    if !error.is_parse() || error.is_parse_version_h2() {
        None
    } else if error.is_parse_too_large() {
        Some((
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "request head too large",
        ))
    } else {
        Some((StatusCode::BAD_REQUEST, "malformed request head"))
    }
}

/// Closes a connection gracefully: FIN first, then read and drop what the client still sends
/// until it closes too, for at most [`LINGER`] (and not once the station is going away).
async fn linger<T: AsyncRead + AsyncWrite + Unpin>(mut io: T, phase: &mut watch::Receiver<Phase>) {
    if io.shutdown().await.is_err() {
        return;
    }
    let drain = async {
        let mut sink = [0u8; 512];
        while matches!(io.read(&mut sink).await, Ok(n) if n > 0) {}
    };
    tokio::select! {
        () = drain => {}
        () = sleep(LINGER) => {}
        _ = phase.wait_for(|p| *p == Phase::Dead) => {}
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_files_limit_from_proc() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max processes             95541                95541                processes \n\
                      Max open files            1024                 524288               files     \n";
        assert_eq!(parse_open_files(limits), Some(1024));
        assert_eq!(
            parse_open_files(
                "Max open files            unlimited            unlimited            files"
            ),
            None
        );
        assert_eq!(parse_open_files(""), None);
    }

    #[test]
    fn caps_fit_in_the_open_files_limit() {
        let config = Config {
            max_connections: 1024,
            max_admin_connections: 32,
            ..Config::default()
        };
        assert_eq!(fit_open_files(config.clone(), None).max_connections, 1024);
        assert_eq!(
            fit_open_files(config.clone(), Some(1 << 20)).max_connections,
            1024
        );
        assert_eq!(
            fit_open_files(config.clone(), Some(1024)).max_connections,
            1024 - 32 - FD_RESERVE
        );
        assert_eq!(fit_open_files(config, Some(10)).max_connections, 1);
    }
}
