//! The running galaxy: pods (Death Star replicas and ships, each with its own egress proxy on
//! 127.0.0.1, its "veth"), Services load-balancing over ready replicas, the policies in force and
//! the flow log. Everything runs inside one process on loopback; nothing needs root.
//!
//! [`Galaxy::start`] binds every port, starts every pod and returns at once; the caller decides how
//! long the galaxy lives and passes a shutdown signal.

pub mod config;
pub mod deathstar;
pub mod engine;
pub mod policies;
pub mod ship;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::flows::FlowLog;

pub use policies::{ApplyMode, ApplyResult, PolicyStore, StoredPolicy};

/// What a pod runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// A Death Star replica (our `estrela-da-morte`, or upstream's `quay.io/cilium/starwars`).
    DeathStar,
    /// A ship (our `caca-tie`/`asa-x`, or upstream's `json-mock`/`netperf` clients).
    Ship,
}

/// A container port as the manifest declares it; policies match on `port`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerPort {
    pub name: Option<String>,
    pub port: u16,
}

/// A pod as the manifests describe it (after a Deployment's expansion).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PodSpec {
    pub name: String,
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    pub role: Role,
    pub ports: Vec<ContainerPort>,
    /// The container's environment from the manifest (`env` entries with a literal value).
    #[serde(default)]
    pub env: Vec<(String, String)>,
    /// The container's `args` from the manifest.
    #[serde(default)]
    pub args: Vec<String>,
}

/// The port a Service sends to: a number, or a container port's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TargetPort {
    Number(u16),
    Name(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServicePort {
    pub name: Option<String>,
    pub port: u16,
    pub target: TargetPort,
}

/// A Service as the manifests describe it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceSpec {
    pub name: String,
    pub namespace: String,
    pub selector: BTreeMap<String, String>,
    pub ports: Vec<ServicePort>,
}

/// The pods and Services that `galaxia up` runs, and the policies it starts with.
#[derive(Debug, Clone, Default)]
pub struct Blueprint {
    pub pods: Vec<PodSpec>,
    pub services: Vec<ServiceSpec>,
    /// The pods as the policy engine sees them (same order as `pods`).
    pub endpoints: Vec<crate::policy::Endpoint>,
    /// The policies in force at start.
    pub policies: Vec<engine::Parsed>,
}

/// A pod's phase as `get pods` shows it in the STATUS column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    /// Binding ports, not serving yet.
    ContainerCreating,
    Running,
    /// The container exited with an error and waits for its first restart.
    Error,
    /// The container exited again and waits out its back-off.
    CrashLoopBackOff,
    /// The galaxy is shutting down.
    Terminating,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::ContainerCreating => "ContainerCreating",
            Phase::Running => "Running",
            Phase::Error => "Error",
            Phase::CrashLoopBackOff => "CrashLoopBackOff",
            Phase::Terminating => "Terminating",
        }
    }
}

/// What changes while a pod lives.
#[derive(Debug, Clone)]
pub struct PodState {
    pub phase: Phase,
    pub ready: bool,
    pub restarts: u32,
    pub last_restart: Option<SystemTime>,
    /// Where each container port really listens on 127.0.0.1 (80 maps to a free port).
    pub listen: BTreeMap<u16, SocketAddr>,
    /// The in-process way into a replica's demo port (its container port and the connector of the
    /// current run): the proxies reach the Death Star through it rather than back through the
    /// kernel's loopback, as Envoy reaches a pod through its veth.
    pub pipe: Option<(u16, estrela_da_morte::pipe::PipeConnector)>,
}

/// A ready backend: the pod, its container port, where that port listens, and the in-process way
/// in when the port has one.
#[derive(Debug, Clone)]
pub struct Backend {
    pub pod: usize,
    pub port: u16,
    pub addr: SocketAddr,
    pub pipe: Option<estrela_da_morte::pipe::PipeConnector>,
}

/// One running pod.
#[derive(Debug)]
pub struct Pod {
    pub spec: PodSpec,
    /// The pod's egress proxy: every client in the pod sends through it.
    pub egress: SocketAddr,
    pub created: SystemTime,
    /// A ship's request counters (its own registry); `None` for Death Star replicas.
    pub ship_metrics: Option<(prometheus::Registry, frota::metrics::ShipMetrics)>,
    state: Mutex<PodState>,
    /// The namespace and name as every flow carries them: shared, not copied for each request.
    flow_names: (Arc<str>, Arc<str>),
}

impl Pod {
    /// This pod at `port`, as one end of a flow.
    pub fn flow_endpoint(&self, port: u16) -> crate::flows::FlowEndpoint {
        crate::flows::FlowEndpoint {
            namespace: Arc::clone(&self.flow_names.0),
            pod: Arc::clone(&self.flow_names.1),
            port,
        }
    }

    pub fn state(&self) -> PodState {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn update(&self, f: impl FnOnce(&mut PodState)) {
        f(&mut self.state.lock().unwrap_or_else(|p| p.into_inner()));
    }

    /// Container port `port` of pod `pod` (this one), when the pod is ready to serve it.
    pub fn ready_backend(&self, pod: usize, port: u16) -> Option<Backend> {
        let st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if !st.ready {
            return None;
        }
        let addr = st.listen.get(&port).copied()?;
        let pipe = st
            .pipe
            .as_ref()
            .filter(|(p, _)| *p == port)
            .map(|(_, c)| c.clone());
        Some(Backend {
            pod,
            port,
            addr,
            pipe,
        })
    }

    /// The container port a Service's target port names, if this pod has it.
    pub fn resolve_port(&self, target: &TargetPort) -> Option<u16> {
        match target {
            TargetPort::Number(n) => Some(*n),
            TargetPort::Name(name) => self
                .spec
                .ports
                .iter()
                .find(|p| p.name.as_deref() == Some(name))
                .map(|p| p.port),
        }
    }
}

/// One Service and its round-robin position.
#[derive(Debug)]
pub struct Service {
    pub spec: ServiceSpec,
    pub created: SystemTime,
    /// Indices into [`Shared::pods`] of the pods the selector picks (fixed: pods do not come and go).
    pub members: Vec<usize>,
    next: AtomicUsize,
}

/// Everything the proxies, the control API and the supervisors share.
pub struct Shared {
    pub pods: Vec<Pod>,
    pub services: Vec<Service>,
    pub policies: PolicyStore,
    pub flows: FlowLog,
    pub started: SystemTime,
}

impl std::fmt::Debug for Shared {
    // The pods hold Prometheus registries, which are not Debug.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("pods", &self.pods.len())
            .field("services", &self.services.len())
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// A galaxy with nothing in it (a placeholder before one starts).
    pub fn empty() -> Shared {
        Shared {
            pods: Vec::new(),
            services: Vec::new(),
            policies: PolicyStore::new(Vec::new()),
            flows: FlowLog::default(),
            started: SystemTime::now(),
        }
    }
}

/// Where a request is going, once its host name is resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    Service { service: usize, port: u16 },
    Pod { pod: usize, port: u16 },
}

impl Shared {
    pub fn pod_index(&self, name: &str) -> Option<usize> {
        let (ns, name) = match name.split_once('/') {
            Some((ns, n)) => (Some(ns), n),
            None => (None, name),
        };
        self.pods
            .iter()
            .position(|p| p.spec.name == name && ns.is_none_or(|ns| ns == p.spec.namespace))
    }

    /// Resolve a host as cluster DNS would for a client in namespace `from_ns`: `svc`,
    /// `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local`, and (a convenience of the twin) pod names.
    pub fn resolve(&self, host: &str, port: Option<u16>, from_ns: &str) -> Option<Destination> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let port = port.unwrap_or(80);
        let mut parts = host.splitn(2, '.');
        let name = parts.next().unwrap_or_default();
        let rest = parts.next();
        let ns = match rest {
            None => from_ns.to_string(),
            Some(rest) => {
                let ns = rest
                    .strip_suffix(".svc.cluster.local")
                    .or_else(|| rest.strip_suffix(".svc"))
                    .unwrap_or(rest);
                if ns.contains('.') {
                    return None;
                }
                ns.to_string()
            }
        };
        if let Some(service) = self
            .services
            .iter()
            .position(|s| s.spec.name == name && s.spec.namespace == ns)
        {
            return Some(Destination::Service { service, port });
        }
        let pod = self
            .pods
            .iter()
            .position(|p| p.spec.name == name && p.spec.namespace == ns)?;
        Some(Destination::Pod { pod, port })
    }

    /// Pick a ready backend: round robin over the Service's ready members.
    pub fn pick(&self, dest: Destination) -> Result<Backend, NoBackend> {
        match dest {
            Destination::Pod { pod, port } => self.pods[pod]
                .ready_backend(pod, port)
                .ok_or(NoBackend::NotReady),
            Destination::Service { service, port } => {
                let svc = &self.services[service];
                let sp = svc
                    .spec
                    .ports
                    .iter()
                    .find(|p| p.port == port)
                    .ok_or(NoBackend::NoSuchPort)?;
                let n = svc.members.len();
                if n == 0 {
                    return Err(NoBackend::NotReady);
                }
                let start = svc.next.fetch_add(1, Ordering::Relaxed);
                for i in 0..n {
                    let pod = svc.members[(start + i) % n];
                    let p = &self.pods[pod];
                    let Some(cport) = p.resolve_port(&sp.target) else {
                        continue;
                    };
                    if let Some(backend) = p.ready_backend(pod, cport) {
                        return Ok(backend);
                    }
                }
                Err(NoBackend::NotReady)
            }
        }
    }
}

/// Why no backend could be picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoBackend {
    /// The Service has no port with that number.
    NoSuchPort,
    /// No member is ready (all exploded, or none selected).
    NotReady,
}

/// Options of a running galaxy that are not in the manifests.
#[derive(Debug, Clone)]
pub struct Options {
    /// Start the ships' patrols (off for tests that count only their own requests).
    pub patrol: bool,
    /// The base of the restart back-off (Kubernetes: 10 s).
    pub restart_backoff: Duration,
    /// Seconds between the exhaust-port hit and the Death Star's exit.
    pub explosion_delay: Duration,
    /// The ships' patrol interval between requests.
    pub patrol_interval: Duration,
    /// The ships' per-request timeout (what turns a drop into `dropped`).
    pub patrol_timeout: Duration,
    /// How the proxies reach the Death Star replicas.
    pub upstream: Upstream,
}

/// How the proxies reach the Death Star replicas. Either way each replica is a whole estrela-da-morte
/// server that parses, answers and keeps alive the connection itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Upstream {
    /// An in-process connection (estrela-da-morte's pipe): no second trip through the kernel.
    #[default]
    Pipe,
    /// TCP to the replica's loopback port, as a proxy in another process would.
    Tcp,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            patrol: true,
            restart_backoff: config::RESTART_BACKOFF_BASE,
            explosion_delay: Duration::from_secs(2),
            patrol_interval: Duration::from_secs(1),
            patrol_timeout: Duration::from_secs(2),
            upstream: Upstream::default(),
        }
    }
}

/// Errors starting a galaxy.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("binding a loopback port for {what}")]
    Bind {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no pod named {0}")]
    UnknownPod(String),
    #[error("two pods are named {0}")]
    DuplicatePod(String),
}

/// A handle on a started galaxy.
#[derive(Debug, Clone)]
pub struct Galaxy {
    pub shared: Arc<Shared>,
}

impl Galaxy {
    /// Bind every pod's proxy, start Death Star replicas and ships, and apply the starting
    /// policies. Runs until `shutdown` flips to true.
    pub async fn start(
        blueprint: Blueprint,
        options: Options,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> Result<Galaxy, StartError> {
        let now = SystemTime::now();
        let mut pods = Vec::with_capacity(blueprint.pods.len());
        let mut listeners = Vec::with_capacity(blueprint.pods.len());
        for spec in blueprint.pods {
            if pods
                .iter()
                .any(|p: &Pod| p.spec.name == spec.name && p.spec.namespace == spec.namespace)
            {
                return Err(StartError::DuplicatePod(spec.name));
            }
            let l = bind_loopback().await.map_err(|source| StartError::Bind {
                what: format!("the egress proxy of pod {}", spec.name),
                source,
            })?;
            let egress = l.local_addr().map_err(|source| StartError::Bind {
                what: format!("the egress proxy of pod {}", spec.name),
                source,
            })?;
            listeners.push(l);
            let ship_metrics = match spec.role {
                Role::Ship => ship::metrics(&spec),
                Role::DeathStar => None,
            };
            pods.push(Pod {
                flow_names: (
                    Arc::from(spec.namespace.as_str()),
                    Arc::from(spec.name.as_str()),
                ),
                spec,
                egress,
                created: now,
                ship_metrics,
                state: Mutex::new(PodState {
                    phase: Phase::ContainerCreating,
                    ready: false,
                    restarts: 0,
                    last_restart: None,
                    listen: BTreeMap::new(),
                    pipe: None,
                }),
            });
        }
        let services = blueprint
            .services
            .into_iter()
            .map(|spec| {
                let members = pods
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| {
                        p.spec.namespace == spec.namespace
                            && !spec.selector.is_empty()
                            && spec
                                .selector
                                .iter()
                                .all(|(k, v)| p.spec.labels.get(k) == Some(v))
                    })
                    .map(|(i, _)| i)
                    .collect();
                Service {
                    spec,
                    created: now,
                    members,
                    next: AtomicUsize::new(0),
                }
            })
            .collect();
        let policies = PolicyStore::new(blueprint.endpoints);
        policies.apply_parsed(blueprint.policies, "galaxia up -f", ApplyMode::Apply);
        let shared = Arc::new(Shared {
            pods,
            services,
            policies,
            flows: FlowLog::default(),
            started: now,
        });
        let proxy = crate::proxy::Proxy::new(shared.clone());
        for (i, l) in listeners.into_iter().enumerate() {
            tokio::spawn(proxy.clone().serve(i, l, shutdown.clone()));
        }
        for i in 0..shared.pods.len() {
            match shared.pods[i].spec.role {
                Role::DeathStar => {
                    tokio::spawn(deathstar::supervise(
                        shared.clone(),
                        i,
                        options.clone(),
                        shutdown.clone(),
                    ));
                }
                Role::Ship => {
                    tokio::spawn(ship::run(
                        shared.clone(),
                        i,
                        options.clone(),
                        shutdown.clone(),
                    ));
                }
            }
        }
        Ok(Galaxy { shared })
    }

    /// Wait until every pod is ready, or `within` passes; returns the pods still not ready.
    pub async fn wait_ready(&self, within: Duration) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let waiting: Vec<String> = self
                .shared
                .pods
                .iter()
                .filter(|p| !p.state().ready)
                .map(|p| p.spec.name.clone())
                .collect();
            if waiting.is_empty() || tokio::time::Instant::now() >= deadline {
                return waiting;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Galaxy {
    /// Open a port-forward: a loopback port where origin-form requests (wrk, a browser) go to
    /// `host` as if sent by pod `pod` through its egress proxy, under the same policies.
    pub async fn forward(
        &self,
        pod: &str,
        host: &str,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> Result<SocketAddr, StartError> {
        let i = self
            .shared
            .pod_index(pod)
            .ok_or_else(|| StartError::UnknownPod(pod.to_string()))?;
        let what = || format!("a port-forward for pod {pod}");
        let l = bind_loopback().await.map_err(|source| StartError::Bind {
            what: what(),
            source,
        })?;
        let addr = l.local_addr().map_err(|source| StartError::Bind {
            what: what(),
            source,
        })?;
        let proxy = crate::proxy::Proxy::new(self.shared.clone()).with_fixed_host(host);
        tokio::spawn(proxy.serve(i, l, shutdown));
        Ok(addr)
    }

    /// Wait until no Death Star replica is in another phase than `phase` (used at shutdown).
    pub async fn wait_phase(&self, phase: Phase, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let done = self
                .shared
                .pods
                .iter()
                .filter(|p| p.spec.role == Role::DeathStar)
                .all(|p| p.state().phase == phase);
            if done {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A free port on 127.0.0.1 (never 0.0.0.0: the galaxy is loopback only).
pub async fn bind_loopback() -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await
}

/// Kubernetes' age format as `kubectl get` prints it (`45s`, `3m12s`, `2h`, `4d`).
pub fn age(since: SystemTime, now: SystemTime) -> String {
    let s = now.duration_since(since).unwrap_or_default().as_secs();
    match s {
        0..=119 => format!("{s}s"),
        120..=599 => format!("{}m{}s", s / 60, s % 60),
        600..=10_799 => format!("{}m", s / 60),
        10_800..=172_799 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_like_kubectl() {
        let t = SystemTime::UNIX_EPOCH;
        let at = |s| t + Duration::from_secs(s);
        assert_eq!(age(t, at(5)), "5s");
        assert_eq!(age(t, at(130)), "2m10s");
        assert_eq!(age(t, at(900)), "15m");
        assert_eq!(age(t, at(4 * 3600)), "4h");
        assert_eq!(age(t, at(3 * 86_400)), "3d");
    }
}
