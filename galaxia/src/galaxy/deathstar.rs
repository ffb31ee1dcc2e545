//! A Death Star replica as the kubelet runs a container: start the server in-process on free
//! loopback ports, and when it explodes (exit status 2) mark the pod not ready at once, then restart
//! it after a Kubernetes-like back-off (base, doubling, capped, reset after a long healthy run),
//! counting RESTARTS.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::watch;

use super::listen::bind_loopback;
use super::options::{Options, Upstream};
use crate::config::{
    READINESS_FAILURES, READINESS_PERIOD, READINESS_TIMEOUT, RESTART_BACKOFF_CAP,
    RESTART_BACKOFF_RESET,
};
use crate::manifest::ImageKind;
use crate::state::logs::json_line;
use crate::state::{Cluster, Phase, Pod, PodId};

/// How one run of the container ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerExit {
    /// The galaxy is stopping.
    Shutdown,
    /// The station exploded (status 2) or failed to start: restart after the back-off.
    Crashed(String),
}

/// The restart delays: base, 2*base, 4*base ... capped; a run longer than the reset period starts
/// the sequence again.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    next: Duration,
}

impl Backoff {
    pub fn new(base: Duration) -> Self {
        Backoff { base, next: base }
    }

    /// The delay before the next restart, after a run that lasted `ran`.
    pub fn after(&mut self, ran: Duration) -> Duration {
        if ran >= RESTART_BACKOFF_RESET {
            self.next = self.base;
        }
        let d = self.next.min(RESTART_BACKOFF_CAP);
        self.next = (self.next * 2).min(RESTART_BACKOFF_CAP);
        d
    }
}

/// Keep replica `pod` running until `shutdown` flips.
pub async fn supervise(
    cluster: Arc<Cluster>,
    pod: PodId,
    options: Options,
    shutdown: watch::Receiver<bool>,
) {
    let p = cluster.pod(pod);
    restart_loop(p, options.restart_backoff, shutdown, |stop| {
        run_once(p, &options, stop)
    })
    .await;
}

/// What the kubelet does with a container: run it, and when it exits, mark the pod down
/// (`Error`, then `CrashLoopBackOff`), wait the back-off and run it again, until `shutdown` flips.
/// Both datapaths' pods live by it: in-process replicas here, processes in namespaces in `ebpf`.
pub async fn restart_loop<F, Fut>(
    p: &Pod,
    base: Duration,
    mut shutdown: watch::Receiver<bool>,
    mut run_once: F,
) where
    F: FnMut(watch::Receiver<bool>) -> Fut,
    Fut: std::future::Future<Output = ContainerExit>,
{
    let mut backoff = Backoff::new(base);
    loop {
        let started = tokio::time::Instant::now();
        match run_once(shutdown.clone()).await {
            ContainerExit::Shutdown => {
                p.update(|s| {
                    s.ready = false;
                    s.phase = Phase::Terminating;
                });
                return;
            }
            ContainerExit::Crashed(why) => {
                let wait = backoff.after(started.elapsed());
                tracing::warn!(pod = %p.name(), reason = %why, restart_in_ms = wait.as_millis() as u64, "container exited");
                p.update(|s| {
                    s.ready = false;
                    s.phase = if s.restarts == 0 {
                        Phase::Error
                    } else {
                        Phase::CrashLoopBackOff
                    };
                });
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = shutdown.wait_for(|s| *s) => {
                        p.update(|s| s.phase = Phase::Terminating);
                        return;
                    }
                }
                p.update(|s| {
                    s.restarts += 1;
                    s.last_restart = Some(SystemTime::now());
                });
                // The kubelet keeps the log of the container that exited (`logs --previous`).
                p.log.restart();
            }
        }
    }
}

/// One run of the container: bind its ports (the same local ports again when free, as a restarted
/// container keeps its pod IP), serve, and report how it ended.
async fn run_once(
    p: &Pod,
    options: &Options,
    mut shutdown: watch::Receiver<bool>,
) -> ContainerExit {
    let demo_port = p
        .model
        .http_port()
        .or_else(|| ImageKind::DeathStar.default_port().map(|(_, port)| port))
        .unwrap_or(80);
    let admin_port = p.model.admin_port();
    let previous = p.state().listen.get(&demo_port).copied();
    let demo = match previous {
        Some(addr) => match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => Ok(l),
            Err(_) => bind_loopback().await,
        },
        None => bind_loopback().await,
    };
    let (demo, admin) = match (demo, bind_loopback().await) {
        (Ok(d), Ok(a)) => (d, a),
        (Err(e), _) | (_, Err(e)) => return ContainerExit::Crashed(format!("binding ports: {e}")),
    };
    let (Ok(demo_addr), Ok(admin_addr)) = (demo.local_addr(), admin.local_addr()) else {
        return ContainerExit::Crashed("reading the bound ports".into());
    };
    let mut config = estrela_da_morte::Config {
        host: std::net::Ipv4Addr::LOCALHOST.into(),
        port: demo_addr.port(),
        admin_port: admin_addr.port(),
        hostname: Some(p.name().to_string()),
        explode_after: options.explosion_delay,
        // The galaxy stops at once: nothing routes to a stopping replica anyway.
        drain: Duration::ZERO,
        grace: Duration::from_millis(500),
        ..estrela_da_morte::Config::default()
    };
    config.no_explosions = false;
    let (connector, pipe) = estrela_da_morte::pipe::pipe();
    let piped = options.upstream == Upstream::Pipe;
    p.update(|s| {
        s.listen.insert(demo_port, demo_addr);
        s.pipe = piped.then_some((demo_port, connector));
        s.listen.insert(admin_port, admin_addr);
        s.phase = Phase::Running;
        s.ready = true;
    });
    p.log.write(json_line(
        "INFO",
        "estrela_da_morte::server",
        "estrela-da-morte is up",
        &[
            ("demo", format!("0.0.0.0:{demo_port}").into()),
            ("admin", format!("0.0.0.0:{admin_port}").into()),
            ("hostname", p.name().into()),
            ("explosions", true.into()),
        ],
    ));
    let stop = async move {
        let _ = shutdown.wait_for(|s| *s).await;
    };
    let server = estrela_da_morte::run_with_pipe(demo, pipe, admin, config, stop);
    let probe = readiness_probe(p, admin_addr);
    let ended = tokio::select! {
        r = server => r,
        never = probe => match never {},
    };
    match ended {
        Ok(estrela_da_morte::Exit::Shutdown) => {
            p.log.write(json_line(
                "INFO",
                "estrela_da_morte::server",
                "shutdown complete",
                &[],
            ));
            ContainerExit::Shutdown
        }
        Ok(estrela_da_morte::Exit::Exploded) => {
            p.log.write(json_line(
                "ERROR",
                "estrela_da_morte::server",
                "the Death Star exploded",
                &[],
            ));
            // What upstream's Go process leaves on stderr as it dies (exit status 2).
            for line in String::from_utf8_lossy(estrela_da_morte::wire::EXHAUST_PORT_PANIC).lines()
            {
                p.log.write(line.to_string());
            }
            ContainerExit::Crashed("exploded (exit status 2)".into())
        }
        Err(e) => {
            p.log.write(json_line(
                "ERROR",
                "estrela_da_morte",
                "estrela-da-morte failed",
                &[("error", e.to_string().into())],
            ));
            ContainerExit::Crashed(format!("{e}"))
        }
    }
}

/// The kubelet's readiness probe, tighter: `GET /readyz` on the admin port every
/// [`READINESS_PERIOD`]. The station fails readiness the moment its exhaust port is hit, so the
/// Service stops sending it traffic before it explodes, as a real Service would after a probe.
async fn readiness_probe(p: &Pod, admin: std::net::SocketAddr) -> std::convert::Infallible {
    let mut failures = 0u32;
    loop {
        tokio::time::sleep(READINESS_PERIOD).await;
        // Like the kubelet's failureThreshold: one slow probe on a loaded machine is not enough.
        failures = if probe_once(admin).await {
            0
        } else {
            failures + 1
        };
        let ready = failures < READINESS_FAILURES;
        p.update(|s| {
            if s.phase == Phase::Running {
                s.ready = ready;
            }
        });
    }
}

/// One `GET /readyz`, through the same one-shot client as everything else that asks the galaxy's
/// servers a question.
async fn probe_once(admin: std::net::SocketAddr) -> bool {
    use frota::transport::{HttpTarget, Outgoing, exchange};
    let out = Outgoing {
        method: http::Method::GET,
        target: HttpTarget {
            host: admin.ip().to_string(),
            port: admin.port(),
            authority: admin.to_string(),
            path_and_query: "/readyz".into(),
        },
        proxy: None,
        headers: vec![("Host".into(), admin.to_string())],
        body: bytes::Bytes::new(),
    };
    let attempt = async {
        let stream = tokio::net::TcpStream::connect(admin).await.ok()?;
        exchange(stream, &out).await.ok()
    };
    tokio::time::timeout(READINESS_TIMEOUT, attempt)
        .await
        .ok()
        .flatten()
        .is_some_and(|answer| answer.status == http::StatusCode::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_resets() {
        let mut b = Backoff::new(Duration::from_secs(10));
        let short = Duration::from_secs(1);
        assert_eq!(b.after(short), Duration::from_secs(10));
        assert_eq!(b.after(short), Duration::from_secs(20));
        assert_eq!(b.after(short), Duration::from_secs(40));
        for _ in 0..10 {
            b.after(short);
        }
        assert_eq!(b.after(short), RESTART_BACKOFF_CAP);
        assert_eq!(b.after(RESTART_BACKOFF_RESET), Duration::from_secs(10));
    }
}
