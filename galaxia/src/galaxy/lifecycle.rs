//! The controllers of a running galaxy, as the verbs drive them: a deleted pod of a Deployment is
//! replaced by its ReplicaSet under a new name, `scale` adds or removes replicas, `rollout
//! restart` replaces them one by one with pods of a new template hash (a new pod first, the old
//! one deleted once the new one is ready, so the Service always has a backend). New pods get a new
//! endpoint, IP and egress proxy, and join the Services that select them when ready.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::sync::watch;

use super::options::{Datapath, Options};
use super::{deathstar, ship};
use crate::manifest::{Manifests, POD_TEMPLATE_HASH, PodModel};
use crate::proxy::Proxy;
use crate::state::events::record;
use crate::state::{Cluster, DeploymentView, Event, PodId, Role, WorkloadError, Workloads};

/// How long a rollout waits for a new replica to be ready before it replaces the next one anyway
/// (the Deployment's `progressDeadlineSeconds` is longer; a galaxy's replicas start in ms).
const READY_WAIT: Duration = Duration::from_secs(30);

/// What the ReplicaSet's name suffixes are drawn from (Kubernetes' `rand.String` alphabet).
const SUFFIX_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

#[derive(Debug, Clone)]
struct Deployment {
    /// One replica as the manifests built it: what new replicas copy.
    template: PodModel,
    replicas: u32,
    hash: String,
    restarted_at: Option<String>,
    created_ms: u64,
    /// The Deployment as declared (what `describe deployment` and `-o yaml` print).
    object: serde_json::Value,
    /// Template hashes replaced by rollouts, newest last (old ReplicaSets, scaled to 0).
    old_hashes: Vec<String>,
    /// The deployment controller's events (ScalingReplicaSet).
    events: Vec<Event>,
    /// The replicaset controller's events, by ReplicaSet name (`NAME-hash`).
    replica_set_events: BTreeMap<String, Vec<Event>>,
}

/// The name of Deployment `deployment`'s ReplicaSet for template `hash`.
fn replica_set_name(deployment: &str, hash: &str) -> String {
    format!("{deployment}-{hash}")
}

type Deployments = Mutex<BTreeMap<(String, String), Deployment>>;

/// Run `f` on Deployment `key`, if it still exists.
fn on_deployment(
    deployments: &Deployments,
    key: &(String, String),
    f: impl FnOnce(&mut Deployment),
) {
    if let Some(d) = locked(deployments).get_mut(key) {
        f(d);
    }
}

impl Deployment {
    /// The replicaset controller's SuccessfulCreate (`created`) or SuccessfulDelete of `pod`,
    /// recorded on ReplicaSet `NAME-hash`.
    fn pod_event(&mut self, name: &str, hash: &str, created: bool, pod: &str) {
        let (reason, verb) = if created {
            ("SuccessfulCreate", "Created")
        } else {
            ("SuccessfulDelete", "Deleted")
        };
        record(
            self.replica_set_events
                .entry(replica_set_name(name, hash))
                .or_default(),
            Event::normal(
                reason,
                "replicaset-controller",
                format!("{verb} pod: {pod}"),
                crate::clock::now_ms(),
            ),
        );
    }

    /// The deployment controller's ScalingReplicaSet event for ReplicaSet `NAME-hash` going
    /// from `from` to `to` replicas (`from` None: the ReplicaSet was just created).
    fn scaled(&mut self, name: &str, hash: &str, from: Option<u32>, to: u32) {
        let rs = replica_set_name(name, hash);
        let message = match from {
            None => format!("Scaled up replica set {rs} to {to}"),
            Some(f) => {
                let way = if to > f { "up" } else { "down" };
                format!("Scaled {way} replica set {rs} to {to} from {f}")
            }
        };
        record(
            &mut self.events,
            Event::normal(
                "ScalingReplicaSet",
                "deployment-controller",
                message,
                crate::clock::now_ms(),
            ),
        );
    }
}

/// The galaxy's Deployment and ReplicaSet controllers.
#[derive(Debug)]
pub struct Lifecycle {
    cluster: Arc<Cluster>,
    options: Options,
    shutdown: watch::Receiver<bool>,
    /// Shared with the rollouts running in the background, which record their events.
    deployments: Arc<Deployments>,
}

impl Lifecycle {
    /// The controllers of `cluster`, started from `manifests`' Deployments; registered on the
    /// cluster for the control API.
    pub fn install(
        cluster: &Arc<Cluster>,
        manifests: &Manifests,
        options: &Options,
        shutdown: watch::Receiver<bool>,
    ) {
        let declared: BTreeMap<(String, String), serde_json::Value> = manifests
            .objects()
            .iter()
            .filter_map(|o| match &o.object {
                crate::manifest::Object::Deployment(d) => Some((
                    (o.key.namespace.clone(), o.key.name.clone()),
                    serde_json::to_value(&**d).unwrap_or_default(),
                )),
                _ => None,
            })
            .collect();
        let mut deployments = BTreeMap::new();
        for p in manifests.pods() {
            let Some(owner) = &p.owner else { continue };
            let entry = deployments
                .entry((p.namespace.clone(), owner.clone()))
                .or_insert_with(|| Deployment {
                    template: p.clone(),
                    replicas: 0,
                    hash: p.labels.get(POD_TEMPLATE_HASH).cloned().unwrap_or_default(),
                    restarted_at: None,
                    created_ms: crate::clock::now_ms(),
                    object: declared
                        .get(&(p.namespace.clone(), owner.clone()))
                        .cloned()
                        .unwrap_or_default(),
                    old_hashes: Vec::new(),
                    events: Vec::new(),
                    replica_set_events: BTreeMap::new(),
                });
            entry.replicas += 1;
            let hash = entry.hash.clone();
            entry.pod_event(owner, &hash, true, &p.name);
        }
        for ((_, name), d) in deployments.iter_mut() {
            let hash = d.hash.clone();
            d.scaled(name, &hash, None, d.replicas);
        }
        let me = Arc::new(Lifecycle {
            cluster: cluster.clone(),
            options: options.clone(),
            shutdown,
            deployments: Arc::new(Mutex::new(deployments)),
        });
        let _ = cluster.workloads.set(me);
    }

    fn ebpf_refusal(&self, what: &str) -> Result<(), WorkloadError> {
        if self.options.datapath == Datapath::Ebpf {
            return Err(WorkloadError::Unsupported(format!(
                "galaxia: {what} needs the userspace datapath: the eBPF datapath's pods (network namespaces, veths and map entries) are planned once at `galaxia up --datapath ebpf` and cannot be added or removed while it runs; run `galaxia up` without --datapath ebpf"
            )));
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<(String, String), Deployment>> {
        locked(&self.deployments)
    }

    fn not_found(name: &str) -> WorkloadError {
        WorkloadError::NotFound(format!(
            "Error from server (NotFound): deployments.apps \"{name}\" not found"
        ))
    }

    /// The live pods of Deployment `key`, oldest first.
    fn owned(&self, key: &(String, String)) -> Vec<PodId> {
        self.cluster
            .pods
            .iter()
            .filter(|p| p.namespace() == key.0 && p.model.owner.as_deref() == Some(&key.1))
            .map(|p| p.id)
            .collect()
    }

    /// Record the replicaset controller's SuccessfulCreate (`created`) or SuccessfulDelete of
    /// pod `id`.
    fn pod_event(&self, key: &(String, String), hash: &str, created: bool, id: PodId) {
        let pod = self.cluster.pod(id).name();
        on_deployment(&self.deployments, key, |d| {
            d.pod_event(&key.1, hash, created, pod)
        });
    }

    async fn wait_ready(cluster: &Cluster, id: PodId) {
        let deadline = tokio::time::Instant::now() + READY_WAIT;
        while tokio::time::Instant::now() < deadline {
            let p = cluster.pod(id);
            if p.is_deleted() || p.read(|s| s.ready) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn locked(
    deployments: &Deployments,
) -> std::sync::MutexGuard<'_, BTreeMap<(String, String), Deployment>> {
    deployments.lock().unwrap_or_else(|p| p.into_inner())
}

/// Start one new replica of `d`: a new name with its template hash, its own egress proxy,
/// endpoint and container.
fn spawn_replica(
    cluster: &Arc<Cluster>,
    options: &Options,
    shutdown: &watch::Receiver<bool>,
    d: &Deployment,
) -> Result<PodId, WorkloadError> {
    let name = loop {
        let suffix: String = (0..5)
            .map(|_| char::from(SUFFIX_ALPHABET[rand::random_range(0..SUFFIX_ALPHABET.len())]))
            .collect();
        let owner = d.template.owner.as_deref().unwrap_or("pod");
        let candidate = format!("{owner}-{}-{suffix}", d.hash);
        if cluster
            .find_pod(&format!("{}/{candidate}", d.template.namespace))
            .is_none()
        {
            break candidate;
        }
    };
    let mut model = d.template.clone();
    model.name = name.clone();
    model
        .labels
        .insert(POD_TEMPLATE_HASH.to_string(), d.hash.clone());
    model.pod.metadata.name = Some(name.clone());
    model.pod.metadata.labels = Some(model.labels.clone());
    if let Some(at) = &d.restarted_at {
        model
            .pod
            .metadata
            .annotations
            .get_or_insert_with(Default::default)
            .insert("kubectl.kubernetes.io/restartedAt".into(), at.clone());
    }
    let std_listener = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|e| unsupported(format!("binding the egress proxy of pod {name}: {e}")))?;
    let egress = std_listener
        .local_addr()
        .map_err(|e| unsupported(format!("{e}")))?;
    let listener =
        tokio::net::TcpListener::from_std(std_listener).map_err(|e| unsupported(format!("{e}")))?;
    let id = cluster
        .add_pod(model, egress, SystemTime::now())
        .map_err(|e| unsupported(format!("galaxia: cannot add pod {name}: {e}")))?;
    start_pod(cluster, id, listener, options, shutdown);
    tracing::info!(pod = %name, "replica created");
    Ok(id)
}

/// A new template hash for a restarted rollout (the template gains `restartedAt`), spelled as
/// Kubernetes spells hashes: FNV-1a, then letters without vowels.
fn template_hash(seed: &str) -> String {
    let h = seed.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    h.to_string()
        .bytes()
        .map(|b| char::from(SUFFIX_ALPHABET[usize::from(b) % SUFFIX_ALPHABET.len()]))
        .collect()
}

fn unsupported(msg: String) -> WorkloadError {
    WorkloadError::Unsupported(msg)
}

/// Run pod `id`'s egress proxy and its container (a replica) or patrol (a ship) until it is
/// deleted or the galaxy stops.
pub(crate) fn start_pod(
    cluster: &Arc<Cluster>,
    id: PodId,
    listener: tokio::net::TcpListener,
    options: &Options,
    shutdown: &watch::Receiver<bool>,
) {
    let pod = cluster.pod(id);
    let stop = pod.stop_signal(shutdown.clone());
    tokio::spawn(Proxy::new(cluster.clone()).serve(id, listener, stop.clone()));
    match pod.role() {
        Role::DeathStar => {
            tokio::spawn(deathstar::supervise(
                cluster.clone(),
                id,
                options.clone(),
                stop,
            ));
        }
        Role::Ship => {
            tokio::spawn(ship::run(cluster.clone(), id, options.clone(), stop));
        }
    }
}

impl Workloads for Lifecycle {
    fn delete_pod(&self, reference: &str) -> Result<String, WorkloadError> {
        let (ns, name) = crate::manifest::split_namespaced(reference);
        let Some(pod) = self.cluster.find_pod(reference) else {
            return Err(WorkloadError::NotFound(format!(
                "Error from server (NotFound): pods \"{name}\" not found"
            )));
        };
        self.ebpf_refusal("deleting a pod")?;
        let _ = ns;
        let name = pod.name().to_string();
        let owner = pod
            .model
            .owner
            .clone()
            .map(|o| (pod.namespace().to_string(), o));
        pod.delete();
        tracing::info!(pod = %name, "pod deleted");
        // The ReplicaSet sees one replica fewer than desired and makes another.
        if let Some(key) = owner {
            let d = self.lock().get(&key).cloned();
            if let Some(d) = d
                && self.owned(&key).len() < d.replicas as usize
            {
                let id = spawn_replica(&self.cluster, &self.options, &self.shutdown, &d)?;
                self.pod_event(&key, &d.hash, true, id);
            }
        }
        Ok(name)
    }

    fn scale(&self, namespace: &str, name: &str, replicas: u32) -> Result<(), WorkloadError> {
        let key = (namespace.to_string(), name.to_string());
        let d = {
            let mut all = self.lock();
            let Some(d) = all.get_mut(&key) else {
                return Err(Self::not_found(name));
            };
            if d.replicas != replicas {
                self.ebpf_refusal("scaling a Deployment")?;
            }
            if i64::from(replicas) > i64::from(crate::manifest::workload::MAX_REPLICAS) {
                return Err(unsupported(format!(
                    "galaxia: {replicas} replicas is more than galaxia runs on one machine (at most {})",
                    crate::manifest::workload::MAX_REPLICAS
                )));
            }
            if d.replicas != replicas {
                let hash = d.hash.clone();
                d.scaled(name, &hash, Some(d.replicas), replicas);
            }
            d.replicas = replicas;
            d.clone()
        };
        let owned = self.owned(&key);
        if owned.len() < d.replicas as usize {
            for _ in owned.len()..d.replicas as usize {
                let id = spawn_replica(&self.cluster, &self.options, &self.shutdown, &d)?;
                self.pod_event(&key, &d.hash, true, id);
            }
        } else {
            // A ReplicaSet scaling down deletes the pods not ready first, then the newest.
            let mut victims = owned;
            victims.sort_by_key(|&id| {
                let p = self.cluster.pod(id);
                (
                    p.read(|s| s.ready),
                    std::cmp::Reverse(p.created),
                    std::cmp::Reverse(id),
                )
            });
            for id in victims
                .into_iter()
                .skip(d.replicas as usize)
                .collect::<Vec<_>>()
            {
                let pod = self.cluster.pod(id);
                pod.delete();
                if let Some(hash) = pod.model.labels.get(POD_TEMPLATE_HASH) {
                    self.pod_event(&key, hash, false, id);
                }
            }
        }
        Ok(())
    }

    fn restart(&self, namespace: &str, name: &str) -> Result<(), WorkloadError> {
        let key = (namespace.to_string(), name.to_string());
        let d = {
            let mut all = self.lock();
            let Some(d) = all.get_mut(&key) else {
                return Err(Self::not_found(name));
            };
            self.ebpf_refusal("rollout restart")?;
            let at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
            let next = template_hash(&format!("{}/{at}", d.hash));
            let old = std::mem::replace(&mut d.hash, next);
            d.old_hashes.retain(|h| *h != old);
            d.old_hashes.push(old);
            d.restarted_at = Some(at);
            d.clone()
        };
        let old = self.owned(&key);
        let cluster = self.cluster.clone();
        // maxSurge 25% and maxUnavailable 25% round to one new pod before one old goes, for the
        // book's few replicas: the Service keeps a ready backend throughout.
        let (options, shutdown) = (self.options.clone(), self.shutdown.clone());
        let deployments = self.deployments.clone();
        let old_hash = d.old_hashes.last().cloned().unwrap_or_default();
        tokio::spawn(async move {
            let total = old.len() as u32;
            let (mut new_count, mut old_count) = (0u32, total);
            // The controllers' events of each step, as a rolling update makes them.
            let scaled = |hash: &str, from: Option<u32>, to: u32| {
                on_deployment(&deployments, &key, |d| d.scaled(&key.1, hash, from, to));
            };
            let pod_event = |hash: &str, created: bool, id: PodId| {
                let pod = cluster.pod(id).name();
                on_deployment(&deployments, &key, |d| {
                    d.pod_event(&key.1, hash, created, pod)
                });
            };
            for old_id in old {
                if cluster.pod(old_id).is_deleted() {
                    continue;
                }
                match spawn_replica(&cluster, &options, &shutdown, &d) {
                    Ok(new_id) => {
                        let from = (new_count > 0).then_some(new_count);
                        new_count += 1;
                        scaled(&d.hash, from, new_count);
                        pod_event(&d.hash, true, new_id);
                        Lifecycle::wait_ready(&cluster, new_id).await
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "rollout: a new replica failed to start");
                        return;
                    }
                }
                cluster.pod(old_id).delete();
                scaled(&old_hash, Some(old_count), old_count - 1);
                pod_event(&old_hash, false, old_id);
                old_count -= 1;
            }
        });
        Ok(())
    }

    fn deployments(&self) -> Vec<DeploymentView> {
        self.lock()
            .iter()
            .map(|(key, d)| {
                let pods: Vec<&crate::state::Pod> = self
                    .owned(key)
                    .into_iter()
                    .map(|id| self.cluster.pod(id))
                    .collect();
                DeploymentView {
                    name: key.1.clone(),
                    namespace: key.0.clone(),
                    replicas: d.replicas,
                    template_hash: d.hash.clone(),
                    ready: pods.iter().filter(|p| p.read(|s| s.ready)).count() as u32,
                    updated: pods
                        .iter()
                        .filter(|p| p.model.labels.get(POD_TEMPLATE_HASH) == Some(&d.hash))
                        .count() as u32,
                    pods: pods.iter().map(|p| p.name().to_string()).collect(),
                    available: pods.iter().filter(|p| p.read(|s| s.ready)).count() as u32,
                    old_replica_sets: d
                        .old_hashes
                        .iter()
                        .map(|h| {
                            let n = pods
                                .iter()
                                .filter(|p| p.model.labels.get(POD_TEMPLATE_HASH) == Some(h))
                                .count() as u32;
                            (replica_set_name(&key.1, h), n)
                        })
                        .collect(),
                    restarted_at: d.restarted_at.clone(),
                    created_ms: d.created_ms,
                    object: d.object.clone(),
                    events: d.events.clone(),
                    replica_set_events: d.replica_set_events.clone(),
                }
            })
            .collect()
    }
}
