//! One running pod: its manifest model, its policy endpoint and what changes while it lives, in
//! one place.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use estrela_da_morte::pipe::PipeConnector;
use frota::Identity;
use frota::metrics::{Registry, ShipMetrics};
use politica::EndpointId;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::logs::ContainerLog;
use crate::flows::flow::{EndpointInfo, Peer};
use crate::manifest::PodModel;

/// Cilium numbers a node's endpoints between 1 and 4095.
pub(crate) const ENDPOINT_IDS: u16 = 4095;
/// The most pods a galaxy makes in its life (one endpoint number each).
pub const POD_CAPACITY: usize = ENDPOINT_IDS as usize;

/// A pod's place in the galaxy's pod list: never reused, even after the pod is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PodId(pub usize);

/// What a pod runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// A Death Star replica (our `estrela-da-morte`, or upstream's `quay.io/cilium/starwars`).
    DeathStar,
    /// A ship (our `caca-tie`/`asa-x`, or upstream's `json-mock`/`netperf` clients).
    Ship,
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
    /// The STATUS column's word.
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

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
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
    pub pipe: Option<(u16, PipeConnector)>,
}

/// One running pod.
#[derive(Debug)]
pub struct Pod {
    pub id: PodId,
    /// The pod as the manifests describe it (after a Deployment's expansion).
    pub model: PodModel,
    /// Its number in the policy engine's endpoint table (Cilium's endpoint ID).
    pub endpoint: EndpointId,
    /// How flows show it: endpoint ID, identity, labels, IP, node (shared by its flows).
    pub info: Arc<EndpointInfo>,
    /// Its node's place in the topology.
    pub node: usize,
    /// The pod's egress proxy: every client in the pod sends through it.
    pub egress: SocketAddr,
    pub created: SystemTime,
    /// A ship's request counters (on a registry of its own: several ships share one process);
    /// `None` for Death Star replicas.
    pub ship: Option<ShipMetrics>,
    /// What its container writes, for `logs`.
    pub log: ContainerLog,
    /// Flips when the pod is deleted: its container, patrol and proxy stop.
    stop: watch::Sender<bool>,
    deleted: AtomicBool,
    state: Mutex<PodState>,
}

impl Pod {
    pub fn new(
        id: PodId,
        model: PodModel,
        (endpoint, info, node): (EndpointId, Arc<EndpointInfo>, usize),
        egress: SocketAddr,
        created: SystemTime,
    ) -> Pod {
        let ship = (!model.is_death_star())
            .then(|| ShipMetrics::register(&Registry::new(), &identity(&model)).ok())
            .flatten();
        Pod {
            id,
            model,
            endpoint,
            info,
            node,
            egress,
            created,
            ship,
            log: ContainerLog::default(),
            stop: watch::channel(false).0,
            deleted: AtomicBool::new(false),
            state: Mutex::new(PodState {
                phase: Phase::ContainerCreating,
                ready: false,
                restarts: 0,
                last_restart: None,
                listen: BTreeMap::new(),
                pipe: None,
            }),
        }
    }

    /// Delete the pod: it leaves every listing and every Service at once, and its container
    /// and proxy stop.
    pub fn delete(&self) {
        self.update(|s| {
            s.ready = false;
            s.phase = Phase::Terminating;
        });
        self.deleted.store(true, Ordering::Release);
        self.log.end();
        self.stop.send_replace(true);
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted.load(Ordering::Acquire)
    }

    /// A stop signal for this pod's tasks: flips when the pod is deleted or `galaxy` flips.
    pub fn stop_signal(&self, mut galaxy: watch::Receiver<bool>) -> watch::Receiver<bool> {
        let (tx, rx) = watch::channel(*galaxy.borrow() || self.is_deleted());
        let mut mine = self.stop.subscribe();
        tokio::spawn(async move {
            tokio::select! {
                _ = galaxy.wait_for(|s| *s) => {}
                _ = mine.wait_for(|s| *s) => {}
                () = tx.closed() => return,
            }
            let _ = tx.send(true);
        });
        rx
    }

    pub fn name(&self) -> &str {
        &self.model.name
    }

    pub fn namespace(&self) -> &str {
        &self.model.namespace
    }

    pub fn role(&self) -> Role {
        if self.model.is_death_star() {
            Role::DeathStar
        } else {
            Role::Ship
        }
    }

    /// The ship identity of this pod: its name, and its `org` and `class` labels.
    pub fn identity(&self) -> Identity {
        identity(&self.model)
    }

    /// This pod at `port`, as one end of a flow.
    pub fn peer(&self, port: u16) -> Peer {
        Peer {
            endpoint: Arc::clone(&self.info),
            port,
        }
    }

    pub fn state(&self) -> PodState {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Look at the state without copying it (the proxies do, for every request).
    pub fn read<R>(&self, f: impl FnOnce(&PodState) -> R) -> R {
        f(&self.state.lock().unwrap_or_else(|p| p.into_inner()))
    }

    pub fn update(&self, f: impl FnOnce(&mut PodState)) {
        f(&mut self.state.lock().unwrap_or_else(|p| p.into_inner()));
    }
}

fn identity(model: &PodModel) -> Identity {
    Identity::new(
        model.name.clone(),
        model.label("org").to_string(),
        model.label("class").to_string(),
    )
}
