//! One galaxy on the eBPF datapath, from start to teardown: the network ([`super::fabric`]), the
//! cgroup, the pods' files, the programs and their maps ([`super::loader`]), the runtimes inside
//! each node (probes, the L7 proxy, cluster DNS), the kernel's events, and the loops that keep
//! the maps equal to the galaxy's state (policies, ready backends). The teardown undoes it all in
//! the reverse order, on `stop` and on drop.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use super::cgroup::Cgroup;
use super::enter::{self, Sandbox};
use super::fabric::{self, NodePlan, Plan, PodPlan};
use super::l7::{self, Ipcache, PROXY_PORT};
use super::loader::{self, Hook, Loaded};
use super::maps::{
    self, EP_ENFORCE_INGRESS, EndpointVal, IpcacheVal, PROTO_TCP, SvcKey, SvcVal, Table,
};
use super::names::{self, Tag};
use super::pods::{self, Binaries, PodRun};
use super::policy::{self, Compiled};
use super::{cleanup, dns, events, netns, registry};
use crate::galaxy::options::Options;
use crate::state::Cluster;

/// How often the maps are compared with the policies in force: a policy change reaches the
/// kernel within this (an RwLock read per period; the compile runs only on a change).
const POLICY_POLL: Duration = Duration::from_millis(2);
/// How often the Services' ready backends are compared with the load balancer's.
const SERVICE_POLL: Duration = Duration::from_millis(20);
/// Cilium's reserved identity of the other nodes' addresses.
const IDENTITY_REMOTE_NODE: u32 = 6;

#[derive(Debug, thiserror::Error)]
pub enum EbpfError {
    #[error(
        "--datapath ebpf needs root: it creates network namespaces and loads eBPF programs. Run it as root, or use the default datapath (--datapath userspace), which needs neither"
    )]
    NotRoot,
    #[error(
        "galaxia was built without its eBPF programs ({0}). Install clang (apt-get install -y clang llvm libbpf-dev) and rebuild galaxia (touch galaxia/bpf/galaxia.c && cargo build -p galaxia), or use the default datapath (--datapath userspace)"
    )]
    NotBuilt(&'static str),
    #[error(
        "--datapath ebpf needs iproute2's `ip` (apt-get install -y iproute2), or use the default datapath (--datapath userspace)"
    )]
    NoIp,
    #[error("{0}")]
    Binaries(String),
    #[error("--datapath ebpf cannot {0} (the default datapath, --datapath userspace, can)")]
    Unsupported(&'static str),
    #[error("building the galaxy's network")]
    Fabric(#[from] fabric::FabricError),
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the kernel refused galaxia's eBPF programs (it needs BPF with BTF, tcx and cgroup2: Linux 6.6 or later), or use the default datapath (--datapath userspace)"
    )]
    Load(#[from] loader::LoadError),
    #[error("writing map {name}")]
    Map {
        name: &'static str,
        #[source]
        source: Box<aya::maps::MapError>,
    },
    #[error("cluster DNS")]
    Dns(#[from] dns::DnsError),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> EbpfError {
    let what = what.into();
    move |source| EbpfError::Io { what, source }
}

/// Refuse early, saying what is missing: root, the programs, `ip`, the pods' binaries.
pub fn preflight() -> Result<Binaries, EbpfError> {
    if !nix::unistd::geteuid().is_root() {
        return Err(EbpfError::NotRoot);
    }
    if loader::OBJECT.is_empty() {
        return Err(EbpfError::NotBuilt(loader::BUILD_STATUS));
    }
    if fabric::ip_binary().is_none() {
        return Err(EbpfError::NoIp);
    }
    Binaries::locate().map_err(EbpfError::Binaries)
}

/// The maps userspace writes.
struct Tables {
    ipcache: Ipcache,
    lxc: Mutex<Table<4, 16>>,
    policy: Mutex<Table<12, 24>>,
    svc: Mutex<Table<8, 8>>,
    be: Mutex<Table<4, 8>>,
}

fn write<const K: usize, const V: usize>(
    t: &Mutex<Table<K, V>>,
    name: &'static str,
    k: [u8; K],
    v: [u8; V],
) -> Result<(), EbpfError> {
    t.lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(k, v, 0)
        .map_err(|e| EbpfError::Map {
            name,
            source: Box::new(e),
        })
}

fn remove<const K: usize, const V: usize>(t: &Mutex<Table<K, V>>, k: &[u8; K]) {
    let _ = t.lock().unwrap_or_else(|p| p.into_inner()).remove(k);
}

/// A galaxy's eBPF datapath, running.
pub struct Datapath {
    tag: Tag,
    cluster: Arc<Cluster>,
    plan: Plan,
    cgroup: Option<Cgroup>,
    loaded: Mutex<Option<Loaded>>,
    runtimes: Mutex<Vec<tokio::runtime::Runtime>>,
    supervisors: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    torn_down: AtomicBool,
}

impl std::fmt::Debug for Datapath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Datapath")
            .field("tag", &self.tag)
            .finish_non_exhaustive()
    }
}

/// The plan of the galaxy's network, from the cluster's topology and pods.
fn plan(tag: Tag, cluster: &Cluster) -> Plan {
    let t = &cluster.topology;
    let nodes = t
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| NodePlan {
            netns: tag.node(i),
            uplink: n.address,
            pod_cidr: n.pod_cidr,
            router: Ipv4Addr::from(u32::from(n.pod_cidr) + 1),
        })
        .collect();
    let pods = cluster
        .pods
        .iter()
        .map(|p| PodPlan {
            netns: tag.pod(p.namespace(), p.name()),
            ip: p.info.ip,
            node: p.node,
            endpoint: p.info.id,
        })
        .collect();
    Plan {
        tag,
        nodes,
        pods,
        dns: t.kube_dns_ip(),
        dns_node: t.nodes.iter().position(|n| n.control_plane).unwrap_or(0),
        service_net: t.service_subnet(),
    }
}

impl Datapath {
    /// Bring the galaxy of `cluster` up on the eBPF datapath; it runs until `shutdown` flips and
    /// [`Datapath::stop`] is called (or it is dropped).
    pub async fn start(
        cluster: Arc<Cluster>,
        options: &Options,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Arc<Datapath>, EbpfError> {
        let bins = preflight()?;
        // What a galaxy killed before could clean up, the next one does.
        let stale = cleanup::stale();
        for line in &stale.removed {
            tracing::info!(removed = %line, "cleaned up a galaxy that was not stopped");
        }
        for e in &stale.errors {
            tracing::warn!(error = %e, "could not clean up a galaxy that was not stopped");
        }
        let tag = Tag::fresh();
        let state = tag.state_dir();
        std::fs::create_dir_all(state.join("pods"))
            .map_err(io(format!("creating {}", state.display())))?;
        tag.record_owner()
            .map_err(io("recording the galaxy's owner"))?;
        let mut dp = Datapath {
            tag,
            cluster: cluster.clone(),
            plan: plan(tag, &cluster),
            cgroup: None,
            loaded: Mutex::new(None),
            runtimes: Mutex::new(Vec::new()),
            supervisors: Mutex::new(Vec::new()),
            torn_down: AtomicBool::new(false),
        };
        // From here on, a failure is undone by dropping `dp`.
        let built = dp.plan.build()?;
        let cg = Cgroup::create(&tag).map_err(io("creating the galaxy's cgroup"))?;
        let cgroup_path = cg.path.clone();
        dp.cgroup = Some(cg);
        let sandboxes = dp.sandboxes(&cgroup_path)?;

        let mut loaded = Loaded::load()?;
        let tables = Arc::new(Tables {
            ipcache: Arc::new(Mutex::new(loaded.table(maps::IPCACHE)?)),
            lxc: Mutex::new(loaded.table(maps::LXC)?),
            policy: Mutex::new(loaded.table(maps::POLICY)?),
            svc: Mutex::new(loaded.table(maps::LB4_SVC)?),
            be: Mutex::new(loaded.table(maps::LB4_BE)?),
        });
        let ring = loaded.events()?;
        let endpoints = dp.fill_static(&tables, &built.lxc_ifindex)?;
        let mut compiled = Compiled::default();
        sync_policy(&cluster, &tables, &endpoints, &mut compiled)?;
        let mut frontends = BTreeMap::new();
        sync_services(&cluster, &tables, &mut frontends)?;
        for pod in &dp.plan.pods {
            let node = &dp.plan.nodes[pod.node].netns;
            let lxc = names::lxc(pod.endpoint);
            loaded.attach_tc(node, &lxc, Hook::PodIn)?;
            loaded.attach_tc(node, &lxc, Hook::PodOut)?;
        }
        for node in &dp.plan.nodes {
            loaded.attach_tc(&node.netns, names::UPLINK, Hook::NodeIn)?;
        }
        loaded.attach_cgroup(&cgroup_path)?;
        // `galaxia bpf` (another process) opens the maps by these ids.
        let ids: String = loaded
            .ids
            .iter()
            .map(|(n, id)| format!("{n} {id}\n"))
            .collect();
        let maps_file = state.join(super::names::MAPS_FILE);
        std::fs::write(&maps_file, ids).map_err(io(format!("writing {}", maps_file.display())))?;
        registry::register(
            &cluster,
            registry::Info {
                tag,
                sandboxes: sandboxes.clone(),
                maps: loaded.ids.clone(),
            },
        );
        *dp.loaded.lock().unwrap_or_else(|p| p.into_inner()) = Some(loaded);

        // A runtime inside each node: probes, scrapes and the L7 proxy connect from there.
        let mut handles = Vec::new();
        for node in &dp.plan.nodes {
            let rt = netns::runtime(&node.netns, 2, false)
                .map_err(io(format!("starting a runtime in {}", node.netns)))?;
            let handle = rt.handle().clone();
            let listener = netns::run_in(&node.netns, l7::listener)
                .and_then(|l| l)
                .map_err(io(format!("the L7 proxy's listener in {}", node.netns)))?;
            let (c, ipcache, stop) = (cluster.clone(), tables.ipcache.clone(), shutdown.clone());
            handle.spawn(async move {
                match tokio::net::TcpListener::from_std(listener) {
                    Ok(l) => l7::serve(c, ipcache, l, stop).await,
                    Err(e) => tracing::error!(error = %e, "the L7 proxy's listener"),
                }
            });
            handles.push(handle);
            dp.runtimes
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(rt);
        }
        // Cluster DNS, on a quiet runtime of its own (hickory logs every query at info).
        let dns_ns = &dp.plan.nodes[dp.plan.dns_node].netns;
        let dns_rt = netns::runtime(dns_ns, 1, true)
            .map_err(io(format!("starting a runtime in {dns_ns}")))?;
        let catalog = dns::catalog(&dns::records(&cluster, dp.plan.dns))?;
        let dns_addr = SocketAddr::from((dp.plan.dns, 53));
        let dns_server = dns_rt.spawn(dns::serve(catalog, dns_addr, shutdown.clone()));
        dp.runtimes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(dns_rt);
        // Give the server its moment to bind, and say so if it could not.
        tokio::time::sleep(Duration::from_millis(20)).await;
        if dns_server.is_finished()
            && let Ok(Err(e)) = dns_server.await
        {
            return Err(e.into());
        }

        tokio::spawn({
            let (c, s) = (cluster.clone(), shutdown.clone());
            async move {
                if let Err(e) = events::run(ring, c, s).await {
                    tracing::error!(error = %e, "reading the kernel's events failed: no more flows");
                }
            }
        });
        tokio::spawn(keep_maps(
            cluster.clone(),
            tables,
            endpoints,
            compiled,
            frontends,
            shutdown.clone(),
        ));
        for (i, pod) in cluster.pods.iter().enumerate() {
            let run = PodRun {
                cluster: cluster.clone(),
                pod: pod.id,
                sandbox: sandboxes[i].clone(),
                node: handles[pod.node].clone(),
                container: pods::container(pod, pod.info.ip, &bins, options),
                restart_backoff: options.restart_backoff,
                log: state
                    .join("pods")
                    .join(format!("{}.log", dp.plan.pods[i].netns)),
            };
            let task = tokio::spawn(pods::supervise(run, shutdown.clone()));
            dp.supervisors
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(task);
        }
        Ok(Arc::new(dp))
    }

    pub fn tag(&self) -> Tag {
        self.tag
    }

    /// Each pod's resolv.conf and hosts, and its sandbox.
    fn sandboxes(&self, cgroup: &std::path::Path) -> Result<Vec<Sandbox>, EbpfError> {
        let dir = self.tag.state_dir().join("pods");
        self.cluster
            .pods
            .iter()
            .zip(&self.plan.pods)
            .map(|(p, plan)| {
                let resolv_conf = dir.join(format!("{}.resolv.conf", plan.netns));
                let hosts = dir.join(format!("{}.hosts", plan.netns));
                std::fs::write(
                    &resolv_conf,
                    enter::resolv_conf(self.plan.dns, p.namespace()),
                )
                .map_err(io(format!("writing {}", resolv_conf.display())))?;
                std::fs::write(&hosts, enter::hosts(p.info.ip, p.name()))
                    .map_err(io(format!("writing {}", hosts.display())))?;
                Ok(Sandbox {
                    netns: netns::path(&plan.netns),
                    resolv_conf,
                    hosts,
                    cgroup: cgroup.to_path_buf(),
                    hostname: p.name().to_string(),
                })
            })
            .collect()
    }

    /// The ipcache and the endpoints (their flags come with the policies).
    fn fill_static(
        &self,
        tables: &Tables,
        ifindex: &[u32],
    ) -> Result<Vec<([u8; 4], EndpointVal)>, EbpfError> {
        let mut endpoints = Vec::new();
        for (p, index) in self.cluster.pods.iter().zip(ifindex) {
            let ip = p.info.ip.octets();
            let node = u8::try_from(p.node).unwrap_or(u8::MAX);
            let v = IpcacheVal {
                identity: p.info.identity.0,
                node,
            };
            write_ipcache(&tables.ipcache, ip, v)?;
            endpoints.push((
                ip,
                EndpointVal {
                    id: p.info.id,
                    node,
                    flags: 0,
                    identity: p.info.identity.0,
                    ifindex: *index,
                    host_ip: self.plan.nodes[p.node].router,
                },
            ));
        }
        for (i, n) in self.plan.nodes.iter().enumerate() {
            let v = IpcacheVal {
                identity: IDENTITY_REMOTE_NODE,
                node: u8::try_from(i).unwrap_or(u8::MAX),
            };
            write_ipcache(&tables.ipcache, n.router.octets(), v)?;
            write_ipcache(&tables.ipcache, n.uplink.octets(), v)?;
        }
        Ok(endpoints)
    }

    /// Stop: the pods first (the shutdown signal has flipped), then everything else.
    pub async fn stop(&self) {
        let tasks =
            std::mem::take(&mut *self.supervisors.lock().unwrap_or_else(|p| p.into_inner()));
        for t in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(6), t).await;
        }
        self.teardown();
    }

    /// Undo everything; safe to call twice.
    fn teardown(&self) {
        if self.torn_down.swap(true, Ordering::SeqCst) {
            return;
        }
        let mut report = cleanup::Report::default();
        cleanup::kill_processes(&self.tag, &mut report);
        registry::unregister(&self.cluster);
        drop(self.loaded.lock().unwrap_or_else(|p| p.into_inner()).take());
        for rt in std::mem::take(&mut *self.runtimes.lock().unwrap_or_else(|p| p.into_inner())) {
            rt.shutdown_background();
        }
        for (ns, e) in self.plan.destroy() {
            tracing::warn!(netns = %ns, error = %e, "could not remove a network namespace");
        }
        if let Some(cg) = &self.cgroup
            && let Err(e) = cg.remove()
        {
            tracing::warn!(cgroup = %cg.path.display(), error = %e, "could not remove the cgroup");
        }
        let state: PathBuf = self.tag.state_dir();
        if let Err(e) = std::fs::remove_dir_all(&state) {
            tracing::warn!(dir = %state.display(), error = %e, "could not remove the state directory");
        }
    }
}

impl Drop for Datapath {
    fn drop(&mut self) {
        self.teardown();
    }
}

fn write_ipcache(t: &Ipcache, ip: [u8; 4], v: IpcacheVal) -> Result<(), EbpfError> {
    t.lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(ip, v.encode(), 0)
        .map_err(|e| EbpfError::Map {
            name: maps::IPCACHE,
            source: Box::new(e),
        })
}

/// Make the policy map and the endpoints' flags say what the policies in force say. New entries
/// go in before an endpoint starts enforcing, and stale ones leave after it stops, so that no
/// packet meets an enforcing endpoint without its entries.
fn sync_policy(
    cluster: &Cluster,
    tables: &Tables,
    endpoints: &[([u8; 4], EndpointVal)],
    current: &mut Compiled,
) -> Result<(), EbpfError> {
    let in_force = cluster.policies.current();
    let next = policy::compile(cluster, &in_force.engine, PROXY_PORT);
    for (k, v) in &next.entries {
        if current.entries.get(k).is_some_and(|old| old.same_rule(v)) {
            continue;
        }
        write(&tables.policy, maps::POLICY, k.encode(), v.encode())?;
    }
    for (ip, ep) in endpoints {
        let flags = if next.enforced.contains(&ep.id) {
            EP_ENFORCE_INGRESS
        } else {
            0
        };
        let was = current.enforced.contains(&ep.id);
        if was != (flags != 0) || current == &Compiled::default() {
            let v = EndpointVal { flags, ..*ep };
            write(&tables.lxc, maps::LXC, *ip, v.encode())?;
        }
    }
    for k in current
        .entries
        .keys()
        .filter(|k| !next.entries.contains_key(k))
    {
        remove(&tables.policy, &k.encode());
    }
    *current = next;
    Ok(())
}

/// A Service port's frontend and the ready backends behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Frontend {
    id: u16,
    backends: Vec<(Ipv4Addr, u16)>,
}

fn desired_frontends(cluster: &Cluster) -> BTreeMap<SvcKey, Frontend> {
    let mut out = BTreeMap::new();
    let mut id = 0u16;
    for s in &cluster.services {
        for sp in s
            .model
            .ports
            .iter()
            .filter(|p| p.protocol == politica::Protocol::Tcp)
        {
            id += 1;
            let backends = s
                .members
                .iter()
                .map(|&m| cluster.pod(m))
                .filter(|p| p.read(|st| st.ready))
                .filter_map(|p| Some((p.info.ip, s.model.target_port_on(sp, &p.model)?)))
                .collect();
            out.insert(
                SvcKey {
                    vip: s.cluster_ip,
                    port: sp.port,
                    proto: PROTO_TCP,
                },
                Frontend { id, backends },
            );
        }
    }
    out
}

/// Make the load balancer's maps hold the ready backends: slots first, then the count, then the
/// slots no longer counted, so that a connect never picks an empty slot.
fn sync_services(
    cluster: &Cluster,
    tables: &Tables,
    current: &mut BTreeMap<SvcKey, Frontend>,
) -> Result<(), EbpfError> {
    let next = desired_frontends(cluster);
    for (key, f) in &next {
        let old = current.get(key);
        if old == Some(f) {
            continue;
        }
        for (slot, (ip, port)) in f.backends.iter().enumerate() {
            let slot = u16::try_from(slot).unwrap_or(u16::MAX);
            write(
                &tables.be,
                maps::LB4_BE,
                maps::backend_key(f.id, slot),
                maps::backend_val(*ip, *port),
            )?;
        }
        let count = u16::try_from(f.backends.len()).unwrap_or(u16::MAX);
        write(
            &tables.svc,
            maps::LB4_SVC,
            key.encode(),
            SvcVal { count, id: f.id }.encode(),
        )?;
        for slot in f.backends.len()..old.map_or(0, |o| o.backends.len()) {
            let slot = u16::try_from(slot).unwrap_or(u16::MAX);
            remove(&tables.be, &maps::backend_key(f.id, slot));
        }
    }
    *current = next;
    Ok(())
}

/// Keep the maps equal to the galaxy's state until `shutdown` flips.
async fn keep_maps(
    cluster: Arc<Cluster>,
    tables: Arc<Tables>,
    endpoints: Vec<([u8; 4], EndpointVal)>,
    mut compiled: Compiled,
    mut frontends: BTreeMap<SvcKey, Frontend>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut revision = cluster.policies.current().revision;
    let mut policy_tick = tokio::time::interval(POLICY_POLL);
    let mut service_tick = tokio::time::interval(SERVICE_POLL);
    loop {
        tokio::select! {
            _ = policy_tick.tick() => {
                let now = cluster.policies.current().revision;
                if now != revision {
                    revision = now;
                    if let Err(e) = sync_policy(&cluster, &tables, &endpoints, &mut compiled) {
                        tracing::error!(error = %e, "writing the policy map failed");
                    }
                }
            }
            _ = service_tick.tick() => {
                if let Err(e) = sync_services(&cluster, &tables, &mut frontends) {
                    tracing::error!(error = %e, "writing the load balancer's maps failed");
                }
            }
            _ = shutdown.wait_for(|s| *s) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_say_what_to_install_or_what_to_use_instead() {
        let not_built = EbpfError::NotBuilt("clang is not installed").to_string();
        assert!(
            not_built.contains("apt-get install -y clang"),
            "{not_built}"
        );
        assert!(not_built.contains("clang is not installed"), "{not_built}");
        for e in [
            EbpfError::NotRoot,
            EbpfError::NotBuilt("x"),
            EbpfError::NoIp,
        ] {
            let text = e.to_string();
            assert!(text.contains("--datapath userspace"), "{text}");
        }
    }
}
