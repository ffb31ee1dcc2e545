//! The galaxy's life: bind every pod's proxy, start Death Star replicas and ships, put the
//! starting policies in force, serve the control API, and stop it all on request.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::watch;

use super::error::StartError;
use super::listen::{bind, bind_port};
use super::options::Options;
use crate::control::api;
use crate::manifest::{ApplyMode, Manifests};
use crate::proxy::Proxy;
use crate::state::{Cluster, Phase, PodId, Role};

/// Where the starting policies came from, as `describe` shows it.
const START_ORIGIN: &str = "galaxia up -f";

/// A handle on a started galaxy.
#[derive(Debug, Clone)]
pub struct Galaxy {
    pub cluster: Arc<Cluster>,
    /// The eBPF datapath, when the galaxy runs on it (`--datapath ebpf`).
    pub ebpf: Option<Arc<crate::ebpf::Datapath>>,
}

/// A started galaxy with its control API and Hubble's Observer API.
#[derive(Debug)]
pub struct Running {
    pub galaxy: Galaxy,
    /// The control API address.
    pub addr: SocketAddr,
    /// Hubble's Observer API (gRPC).
    pub hubble: SocketAddr,
    /// The web UI (Hubble UI's picture).
    pub ui: SocketAddr,
    /// The control API's per-run secret (what the discovery file gives the verbs).
    pub token: String,
    stop: watch::Sender<bool>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    hubble_server: tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
    ui_server: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// The loopback ports of a galaxy's APIs; 0 picks a free one.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub hubble: u16,
    /// The web UI (Hubble UI's localhost:12000).
    pub ui: u16,
}

impl Default for Ports {
    fn default() -> Self {
        Ports {
            hubble: crate::hubble::server::DEFAULT_PORT,
            ui: crate::ui::DEFAULT_PORT,
        }
    }
}

/// Start the galaxy of `manifests`, its control API on a free loopback port and Hubble's
/// Observer API on `ports.hubble` (inside a tokio runtime); it runs until [`Running::stop`].
pub async fn launch(
    manifests: &Manifests,
    options: Options,
    ports: Ports,
) -> Result<Running, StartError> {
    let (stop, shutdown) = watch::channel(false);
    // Hubble's port first: it is the one a user may find taken (by another galaxy, or by
    // `cilium hubble port-forward`), and nothing should start when it is.
    let (hubble_listener, hubble) = bind_port(ports.hubble, || {
        format!(
            "Hubble's Observer API on 127.0.0.1:{} (another galaxy, or a `cilium hubble port-forward`, may hold it: stop it, or pass --hubble-port 0 for a free port)",
            ports.hubble
        )
    })
    .await?;
    // The UI's port likewise (`cilium hubble ui` forwards the same one).
    let (ui_listener, ui) = bind_port(ports.ui, || {
        format!(
            "the web UI on 127.0.0.1:{} (another galaxy, or a `cilium hubble ui`, may hold it: stop it, or pass --ui-port 0 for a free port)",
            ports.ui
        )
    })
    .await?;
    let galaxy = Galaxy::start(manifests, options, shutdown.clone()).await?;
    let ui_server = tokio::spawn(crate::ui::serve(
        crate::ui::UiState::new(
            galaxy.cluster.clone(),
            Arc::new(manifests.clone()),
            ui.port(),
            shutdown.clone(),
        ),
        ui_listener,
    ));
    let (listener, addr) = bind(|| "the control API".into()).await?;
    let token = crate::control::discovery::new_token();
    let access = api::Access {
        token: Arc::from(token.as_str()),
        port: addr.port(),
    };
    let server = tokio::spawn(api::serve(
        galaxy.cluster.clone(),
        listener,
        access,
        shutdown.clone(),
    ));
    let hubble_server = tokio::spawn(crate::hubble::server::serve(
        galaxy.cluster.clone(),
        hubble_listener,
        shutdown,
    ));
    Ok(Running {
        galaxy,
        addr,
        hubble,
        ui,
        token,
        stop,
        server,
        hubble_server,
        ui_server,
    })
}

impl Running {
    /// A receiver of the galaxy's stop signal, for things started next to it (port-forwards).
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.stop.subscribe()
    }

    /// Stop every pod, proxy and the control API.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.server.await;
        let _ = self.hubble_server.await;
        let _ = self.ui_server.await;
        // Replicas drain for a moment; give them that moment so that ports are released.
        let _ = self
            .galaxy
            .wait_phase(Phase::Terminating, Duration::from_secs(3))
            .await;
        if let Some(ebpf) = &self.galaxy.ebpf {
            ebpf.stop().await;
        }
    }
}

impl Galaxy {
    /// Bind every pod's proxy, start Death Star replicas and ships, and apply the starting
    /// policies. Runs until `shutdown` flips to true.
    pub async fn start(
        manifests: &Manifests,
        options: Options,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Galaxy, StartError> {
        let now = SystemTime::now();
        if options.datapath == super::options::Datapath::Ebpf {
            return Self::start_ebpf(manifests, options, shutdown, now).await;
        }
        let mut pods = Vec::with_capacity(manifests.pods().len());
        let mut listeners = Vec::with_capacity(manifests.pods().len());
        for model in manifests.pods() {
            let (listener, egress) =
                bind(|| format!("the egress proxy of pod {}", model.name)).await?;
            listeners.push(listener);
            pods.push((model.clone(), egress));
        }
        let cluster = Cluster::new(
            &manifests.cluster(),
            pods,
            manifests.services().to_vec(),
            options.hubble_buffer,
            now,
        )?;
        cluster
            .policies
            .apply_manifests(manifests.policies_only(), START_ORIGIN, ApplyMode::Apply);
        let cluster = Arc::new(cluster);
        for (i, l) in listeners.into_iter().enumerate() {
            super::lifecycle::start_pod(&cluster, PodId(i), l, &options, &shutdown);
        }
        super::lifecycle::Lifecycle::install(&cluster, manifests, &options, shutdown.clone());
        Ok(Galaxy {
            cluster,
            ebpf: None,
        })
    }

    /// The same galaxy on the eBPF datapath: its pods are processes in network namespaces, and
    /// no egress proxy is bound (a pod's `egress` is unused there).
    async fn start_ebpf(
        manifests: &Manifests,
        options: Options,
        shutdown: watch::Receiver<bool>,
        now: SystemTime,
    ) -> Result<Galaxy, StartError> {
        // Refuse before anything is built when root, clang's programs or a binary is missing.
        crate::ebpf::preflight()?;
        let unused = SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, 0));
        let pods = manifests
            .pods()
            .iter()
            .map(|m| (m.clone(), unused))
            .collect();
        let cluster = Cluster::new(
            &manifests.cluster(),
            pods,
            manifests.services().to_vec(),
            options.hubble_buffer,
            now,
        )?;
        cluster
            .policies
            .apply_manifests(manifests.policies_only(), START_ORIGIN, ApplyMode::Apply);
        let cluster = Arc::new(cluster);
        super::lifecycle::Lifecycle::install(&cluster, manifests, &options, shutdown.clone());
        let ebpf = crate::ebpf::Datapath::start(cluster.clone(), &options, shutdown).await?;
        Ok(Galaxy {
            cluster,
            ebpf: Some(ebpf),
        })
    }

    /// Wait until every pod is ready, or `within` passes; returns the pods still not ready.
    pub async fn wait_ready(&self, within: Duration) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let waiting: Vec<String> = self
                .cluster
                .pods
                .iter()
                .filter(|p| !p.read(|s| s.ready))
                .map(|p| p.name().to_string())
                .collect();
            if waiting.is_empty() || tokio::time::Instant::now() >= deadline {
                return waiting;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Open a port-forward: a loopback port where origin-form requests (wrk, a browser) go to
    /// `host` as if sent by pod `pod` through its egress proxy, under the same policies.
    pub async fn forward(
        &self,
        pod: &str,
        host: &str,
        shutdown: watch::Receiver<bool>,
    ) -> Result<SocketAddr, StartError> {
        let id = self
            .cluster
            .find_pod(pod)
            .ok_or_else(|| StartError::UnknownPod(pod.to_string()))?
            .id;
        let (listener, addr) = bind(|| format!("a port-forward for pod {pod}")).await?;
        let proxy = Proxy::new(self.cluster.clone()).with_fixed_host(host);
        tokio::spawn(proxy.serve(id, listener, shutdown));
        Ok(addr)
    }

    /// Wait until no Death Star replica is in another phase than `phase` (used at shutdown).
    pub async fn wait_phase(&self, phase: Phase, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let done = self
                .cluster
                .pods
                .iter()
                .filter(|p| p.role() == Role::DeathStar)
                .all(|p| p.read(|s| s.phase) == phase);
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
