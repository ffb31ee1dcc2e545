//! Pods as processes, the way the kubelet runs containers: each pod's container is one of our
//! real binaries (`estrela-da-morte` for a Death Star replica, `caca-tie` or `asa-x` for a ship),
//! started inside the pod's sandbox ([`super::enter`]), probed for readiness on its admin port from
//! its node, and restarted with Kubernetes' back-off when it exits (a replica that explodes exits
//! with status 2). A ship's request counters are read from its `/metrics`, as Prometheus would,
//! so that galaxia's views and the tutorial count what the ship process really saw.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use frota::Outcome;
use frota::client::Reply;
use frota::kind::RequestKind;
use tokio::sync::watch;

use super::enter::{self, Sandbox, Tie};
use crate::config::{READINESS_FAILURES, READINESS_PERIOD, READINESS_TIMEOUT};
use crate::galaxy::deathstar::{ContainerExit, restart_loop};
use crate::galaxy::options::Options;
use crate::manifest::ImageKind;
use crate::state::{Cluster, Phase, Pod, PodId, Role};

/// How long a container has between SIGTERM and SIGKILL when the galaxy stops.
const TERMINATION_GRACE: Duration = Duration::from_secs(3);
/// How often a ship's counters are scraped.
const SCRAPE_PERIOD: Duration = Duration::from_millis(500);
/// The PATH a container gets (Debian's default).
const CONTAINER_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The binaries pods run.
#[derive(Debug, Clone)]
pub struct Binaries {
    pub death_star: PathBuf,
    pub caca_tie: PathBuf,
    pub asa_x: PathBuf,
}

/// What to build when a binary is missing.
pub const BUILD_HINT: &str = "cargo build --release -p estrela-da-morte -p caca-tie -p asa-x (or without --release for target/debug)";

impl Binaries {
    /// Look next to galaxia's own executable (target/debug or target/release, also from a test
    /// binary in target/*/deps), then in `$GALAXIA_BIN_DIR`, then on the PATH.
    pub fn locate() -> Result<Binaries, String> {
        let mut dirs: Vec<PathBuf> = Vec::new();
        if let Some(d) = std::env::var_os("GALAXIA_BIN_DIR") {
            dirs.push(PathBuf::from(d));
        }
        if let Ok(exe) = std::env::current_exe()
            && let Some(dir) = exe.parent()
        {
            dirs.push(dir.to_path_buf());
            if dir.ends_with("deps")
                && let Some(up) = dir.parent()
            {
                dirs.push(up.to_path_buf());
            }
        }
        if let Some(paths) = std::env::var_os("PATH") {
            dirs.extend(std::env::split_paths(&paths));
        }
        let find = |name: &str| {
            dirs.iter()
                .map(|d| d.join(name))
                .find(|p| p.is_file())
                .ok_or_else(|| {
                    format!("the pods' binary {name} is not next to galaxia, in $GALAXIA_BIN_DIR or on the PATH: build it with {BUILD_HINT}")
                })
        };
        Ok(Binaries {
            death_star: find("estrela-da-morte")?,
            caca_tie: find("caca-tie")?,
            asa_x: find("asa-x")?,
        })
    }

    /// The ship binary of a pod: its `org` says which side it flies for.
    pub fn ship_for(&self, pod: &Pod) -> &Path {
        if pod.identity().org == "alianca" {
            &self.asa_x
        } else {
            &self.caca_tie
        }
    }
}

/// One container: what to run and how to tell it is ready.
#[derive(Debug, Clone)]
pub struct Container {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Container port -> where it listens in the pod.
    pub ports: BTreeMap<u16, SocketAddr>,
    /// The admin port answering `GET /readyz`.
    pub readiness: Option<SocketAddr>,
    /// Scrape ship counters from this `/metrics`.
    pub metrics: Option<SocketAddr>,
}

/// The container of `pod`, or `None` when nothing runs in it (a ship under `--no-patrol`).
pub fn container(pod: &Pod, ip: Ipv4Addr, bins: &Binaries, options: &Options) -> Option<Container> {
    let admin = pod.model.admin_port();
    let at = |port| SocketAddr::from((ip, port));
    match pod.role() {
        Role::DeathStar => {
            let http = pod
                .model
                .http_port()
                .or_else(|| ImageKind::DeathStar.default_port().map(|(_, p)| p))
                .unwrap_or(80);
            let args = vec![
                "--host".into(),
                "0.0.0.0".into(),
                "--port".into(),
                http.to_string(),
                "--admin-port".into(),
                admin.to_string(),
                "--hostname".into(),
                pod.name().to_string(),
                "--explode-after".into(),
                humantime::format_duration(options.explosion_delay).to_string(),
                // The galaxy stops at once: nothing routes to a stopping replica anyway.
                "--drain".into(),
                "0s".into(),
                "--grace".into(),
                "500ms".into(),
                "--log-format".into(),
                "json".into(),
            ];
            Some(Container {
                program: bins.death_star.clone(),
                args,
                ports: [(http, at(http)), (admin, at(admin))].into_iter().collect(),
                readiness: Some(at(admin)),
                metrics: None,
            })
        }
        Role::Ship if !options.patrol => None,
        Role::Ship => {
            let rate = 1.0 / options.patrol_interval.as_secs_f64().max(0.001);
            let args = vec![
                "patrol".into(),
                "--proxy".into(),
                String::new(),
                "--timeout".into(),
                humantime::format_duration(options.patrol_timeout).to_string(),
                "--rate".into(),
                format!("{rate}"),
                "--admin-port".into(),
                admin.to_string(),
                "--log-format".into(),
                "json".into(),
            ];
            Some(Container {
                program: bins.ship_for(pod).to_path_buf(),
                args,
                ports: [(admin, at(admin))].into_iter().collect(),
                readiness: Some(at(admin)),
                metrics: Some(at(admin)),
            })
        }
    }
}

/// Everything one pod's supervisor needs.
#[derive(Debug, Clone)]
pub struct PodRun {
    pub cluster: Arc<Cluster>,
    pub pod: PodId,
    pub sandbox: Sandbox,
    /// A runtime inside the pod's node: probes and scrapes connect from there.
    pub node: tokio::runtime::Handle,
    pub container: Option<Container>,
    pub restart_backoff: Duration,
    pub log: PathBuf,
}

/// Keep the pod's container running until `shutdown` flips.
pub async fn supervise(run: PodRun, mut shutdown: watch::Receiver<bool>) {
    let p = run.cluster.pod(run.pod);
    let Some(container) = run.container.clone() else {
        p.update(|s| {
            s.phase = Phase::Running;
            s.ready = true;
        });
        stopped(&mut shutdown).await;
        p.update(|s| {
            s.ready = false;
            s.phase = Phase::Terminating;
        });
        return;
    };
    restart_loop(p, run.restart_backoff, shutdown, |stop| {
        run_once(&run, &container, stop)
    })
    .await;
}

async fn run_once(
    run: &PodRun,
    container: &Container,
    mut shutdown: watch::Receiver<bool>,
) -> ContainerExit {
    let p = run.cluster.pod(run.pod);
    let mut child = match spawn(run, container) {
        Ok(c) => c,
        Err(e) => {
            return ContainerExit::Crashed(format!(
                "starting {}: {e}",
                container.program.display()
            ));
        }
    };
    p.update(|s| {
        s.listen = container.ports.clone();
        s.pipe = None;
        s.phase = Phase::Running;
        s.ready = container.readiness.is_none();
    });
    let probe = container.readiness.map(|addr| {
        run.node
            .spawn(readiness(run.cluster.clone(), run.pod, addr))
    });
    let scrape = container.metrics.map(|addr| {
        run.node
            .spawn(mirror_counters(run.cluster.clone(), run.pod, addr))
    });
    let ended = tokio::select! {
        status = child.wait() => match status {
            Ok(s) if s.code() == Some(2) => ContainerExit::Crashed("exploded (exit status 2)".into()),
            Ok(s) => ContainerExit::Crashed(format!("exited ({s})")),
            Err(e) => ContainerExit::Crashed(format!("waiting for it: {e}")),
        },
        _ = stopped(&mut shutdown) => {
            terminate(&mut child).await;
            ContainerExit::Shutdown
        }
    };
    for task in [probe, scrape].into_iter().flatten() {
        task.abort();
    }
    p.update(|s| s.ready = false);
    ended
}

fn spawn(run: &PodRun, c: &Container) -> std::io::Result<tokio::process::Child> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&run.log)?;
    let mut cmd = enter::command(&run.sandbox, &c.program, &c.args, Tie::DiesWithParent)?;
    let p = run.cluster.pod(run.pod);
    cmd.env_clear()
        .env("PATH", CONTAINER_PATH)
        .env("HOSTNAME", p.name())
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut cmd = tokio::process::Command::from(cmd);
    cmd.kill_on_drop(true);
    let mut child = cmd.spawn()?;
    // What the container writes goes to its file and to the pod's log (`galaxia logs`).
    let log = Arc::new(std::sync::Mutex::new(log));
    if let Some(out) = child.stdout.take() {
        tokio::spawn(copy_lines(out, log.clone(), run.cluster.clone(), run.pod));
    }
    if let Some(err) = child.stderr.take() {
        tokio::spawn(copy_lines(err, log, run.cluster.clone(), run.pod));
    }
    Ok(child)
}

async fn copy_lines(
    from: impl tokio::io::AsyncRead + Unpin,
    file: Arc<std::sync::Mutex<std::fs::File>>,
    cluster: Arc<Cluster>,
    pod: PodId,
) {
    use std::io::Write as _;
    use tokio::io::AsyncBufReadExt as _;
    let mut lines = tokio::io::BufReader::new(from).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Ok(mut f) = file.lock() {
            let _ = writeln!(f, "{line}");
        }
        cluster.pod(pod).log.write(line);
    }
}

/// Until the galaxy stops (the watch's guard is not held across the caller's awaits).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|s| *s).await;
}

/// SIGTERM, then SIGKILL after the grace period (the pid is our own child's).
pub async fn terminate(child: &mut tokio::process::Child) {
    if let Some(pid) = child.id() {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap_or(i32::MAX));
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    }
    if tokio::time::timeout(TERMINATION_GRACE, child.wait())
        .await
        .is_err()
    {
        let _ = child.kill().await;
    }
}

/// The kubelet's readiness probe, at galaxia's tighter period (see `config::READINESS_PERIOD`).
async fn readiness(cluster: Arc<Cluster>, pod: PodId, admin: SocketAddr) {
    let p = cluster.pod(pod);
    let mut failures = 0u32;
    let mut ok_once = false;
    loop {
        tokio::time::sleep(READINESS_PERIOD).await;
        let ok = get(admin, "/readyz")
            .await
            .is_some_and(|(status, _)| status == http::StatusCode::OK);
        failures = if ok { 0 } else { failures + 1 };
        ok_once |= ok;
        let ready = ok_once && failures < READINESS_FAILURES;
        p.update(|s| {
            if s.phase == Phase::Running {
                s.ready = ready;
            }
        });
    }
}

/// One `GET` on the pod's admin port, from the node (this task's runtime lives there).
async fn get(addr: SocketAddr, path: &str) -> Option<(http::StatusCode, bytes::Bytes)> {
    use frota::transport::{HttpTarget, Outgoing, exchange};
    let out = Outgoing {
        method: http::Method::GET,
        target: HttpTarget {
            host: addr.ip().to_string(),
            port: addr.port(),
            authority: addr.to_string(),
            path_and_query: path.into(),
        },
        proxy: None,
        headers: vec![("Host".into(), addr.to_string())],
        body: bytes::Bytes::new(),
    };
    let attempt = async {
        let stream = tokio::net::TcpStream::connect(addr).await.ok()?;
        exchange(stream, &out).await.ok()
    };
    let answer = tokio::time::timeout(READINESS_TIMEOUT, attempt)
        .await
        .ok()??;
    Some((answer.status, answer.body))
}

/// Copy a ship process's request counts into the pod's own counters, so that `get pods`, the
/// tutorial and the UI see them as they see an in-process ship's.
async fn mirror_counters(cluster: Arc<Cluster>, pod: PodId, admin: SocketAddr) {
    let p = cluster.pod(pod);
    let Some(metrics) = p.ship.clone() else {
        return;
    };
    let mut seen: BTreeMap<(RequestKind, Outcome), u64> = BTreeMap::new();
    loop {
        tokio::time::sleep(SCRAPE_PERIOD).await;
        let Some((status, body)) = get(admin, "/metrics").await else {
            continue;
        };
        if status != http::StatusCode::OK {
            continue;
        }
        for (key, total) in ship_counts(&String::from_utf8_lossy(&body)) {
            let before = seen.insert(key, total).unwrap_or(0);
            // A restarted ship starts from zero again: count from there.
            let new = if total >= before {
                total - before
            } else {
                total
            };
            let reply = Reply {
                kind: key.0,
                outcome: key.1,
                status: None,
                body: bytes::Bytes::new(),
                latency: Duration::ZERO,
                error: None,
                failure: None,
            };
            for _ in 0..new {
                metrics.observe(&reply);
            }
        }
    }
}

/// `ship_requests_total{class="asa-x",kind="land",org="alianca",outcome="dropped",ship="asa-x"} 3`.
fn ship_counts(text: &str) -> Vec<((RequestKind, Outcome), u64)> {
    text.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("ship_requests_total{")?;
            let (labels, value) = rest.split_once('}')?;
            let label = |name: &str| {
                labels.split(',').find_map(|kv| {
                    let (k, v) = kv.split_once('=')?;
                    (k.trim() == name).then(|| v.trim().trim_matches('"'))
                })
            };
            let kind: RequestKind = label("kind")?.parse().ok()?;
            let outcome = Outcome::from_name(label("outcome")?)?;
            let n: f64 = value.trim().parse().ok()?;
            Some(((kind, outcome), n as u64))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ship_counters_are_read_from_the_prometheus_text() {
        let text = "# HELP ship_requests_total Requests\n# TYPE ship_requests_total counter\n\
            ship_requests_total{class=\"asa-x\",kind=\"land\",org=\"alianca\",outcome=\"dropped\",ship=\"asa-x\"} 3\n\
            ship_requests_total{class=\"asa-x\",kind=\"land\",org=\"alianca\",outcome=\"landed\",ship=\"asa-x\"} 12\n\
            ship_request_duration_seconds_count{kind=\"land\",outcome=\"landed\"} 12\n";
        let got = ship_counts(text);
        assert_eq!(
            got,
            [
                ((RequestKind::Land, Outcome::Dropped), 3),
                ((RequestKind::Land, Outcome::Landed), 12)
            ]
        );
    }
}
