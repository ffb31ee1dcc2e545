//! Loading `bpf/galaxia.c` (compiled by build.rs, embedded here) with aya, and attaching its
//! programs: the tc ones with TCX links on interfaces inside the galaxy's namespaces (the attach
//! is made from a thread inside the namespace, where the interface name means that interface),
//! the socket ones to the galaxy's cgroup. Every link is a file descriptor of this process: when
//! the galaxy stops, or its process dies however it dies, the kernel detaches and frees them all.

use std::collections::BTreeMap;
use std::path::Path;

use aya::maps::{Map, MapData, RingBuf};
use aya::programs::links::CgroupAttachMode;
use aya::programs::tc::{TcAttachOptions, TcAttachType};
use aya::programs::{CgroupSockAddr, LinkOrder, SchedClassifier};
use aya::{Ebpf, EbpfLoader};

use super::maps::{self, Table};
use super::netns;

/// The object build.rs compiled (empty when clang was missing). Aligned: the ELF parser reads
/// its headers in place, and `include_bytes!` alone promises no alignment.
pub static OBJECT: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/galaxia.bpf.o"));
/// `ok`, or why build.rs could not compile the programs.
pub const BUILD_STATUS: &str = env!("GALAXIA_BPF_STATUS");

/// The programs, by their names in the object (and in `bpftool prog show`).
pub const POD_IN: &str = "galaxia_pod_in";
pub const POD_OUT: &str = "galaxia_pod_out";
pub const NODE_IN: &str = "galaxia_node_in";
pub const SOCK_LB: &str = "galaxia_sock_lb";
pub const SOCK_RN: &str = "galaxia_sock_rn";
pub const PROGRAMS: [&str; 5] = [POD_IN, POD_OUT, NODE_IN, SOCK_LB, SOCK_RN];

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("galaxia was built without its eBPF programs ({0})")]
    NotBuilt(&'static str),
    #[error("loading the eBPF object")]
    Object(#[source] Box<aya::EbpfError>),
    #[error("the eBPF object has no {0}")]
    Missing(&'static str),
    #[error("loading program {name} (the kernel's verifier log follows)")]
    Program {
        name: &'static str,
        #[source]
        source: Box<aya::programs::ProgramError>,
    },
    #[error("attaching {name} to {iface} in {netns}")]
    AttachTc {
        name: &'static str,
        iface: String,
        netns: String,
        #[source]
        source: Box<aya::programs::ProgramError>,
    },
    #[error("entering {netns} to attach {name}")]
    Netns {
        name: &'static str,
        netns: String,
        #[source]
        source: std::io::Error,
    },
    #[error("attaching {name} to the cgroup {path}")]
    AttachCgroup {
        name: &'static str,
        path: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("map {name}")]
    Map {
        name: &'static str,
        #[source]
        source: Box<aya::maps::MapError>,
    },
}

/// Where a tc program goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// Packets going into a pod: egress of its veth in the node (`cil_to_container`).
    PodIn,
    /// Packets leaving a pod: ingress of its veth in the node (`cil_from_container`).
    PodOut,
    /// Packets from the other nodes: ingress of the node's uplink (`cil_from_netdev`).
    NodeIn,
}

impl Hook {
    fn program(self) -> (&'static str, TcAttachType) {
        match self {
            Hook::PodIn => (POD_IN, TcAttachType::Egress),
            Hook::PodOut => (POD_OUT, TcAttachType::Ingress),
            Hook::NodeIn => (NODE_IN, TcAttachType::Ingress),
        }
    }
}

/// The loaded object: its programs (with their links) and the maps not yet taken.
pub struct Loaded {
    ebpf: Ebpf,
    /// Each map's kernel id, for `galaxia bpf` (which opens them by id).
    pub ids: BTreeMap<String, u32>,
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("ids", &self.ids)
            .finish_non_exhaustive()
    }
}

impl Loaded {
    /// Load the object and every program in it (the verifier checks them all here).
    pub fn load() -> Result<Loaded, LoadError> {
        if OBJECT.is_empty() {
            return Err(LoadError::NotBuilt(BUILD_STATUS));
        }
        let mut ebpf = EbpfLoader::new()
            .load(OBJECT)
            .map_err(|e| LoadError::Object(Box::new(e)))?;
        for name in [POD_IN, POD_OUT, NODE_IN] {
            let p: &mut SchedClassifier = program(&mut ebpf, name)?;
            p.load().map_err(|e| LoadError::Program {
                name,
                source: Box::new(e),
            })?;
        }
        for name in [SOCK_LB, SOCK_RN] {
            let p: &mut CgroupSockAddr = program(&mut ebpf, name)?;
            p.load().map_err(|e| LoadError::Program {
                name,
                source: Box::new(e),
            })?;
        }
        let mut ids = BTreeMap::new();
        for (name, map) in ebpf.maps() {
            if let Map::HashMap(d) | Map::LruHashMap(d) | Map::RingBuf(d) = map
                && let Ok(info) = d.info()
            {
                ids.insert(name.to_string(), info.id());
            }
        }
        Ok(Loaded { ebpf, ids })
    }

    /// Attach the program of `hook` to `iface` inside namespace `ns`.
    pub fn attach_tc(&mut self, ns: &str, iface: &str, hook: Hook) -> Result<(), LoadError> {
        let (name, direction) = hook.program();
        let p: &mut SchedClassifier = program(&mut self.ebpf, name)?;
        let attached = netns::run_in(ns, || {
            p.attach_with_options(
                iface,
                direction,
                TcAttachOptions::TcxOrder(LinkOrder::default()),
            )
        })
        .map_err(|source| LoadError::Netns {
            name,
            netns: ns.to_string(),
            source,
        })?;
        attached.map(|_| ()).map_err(|e| LoadError::AttachTc {
            name,
            iface: iface.to_string(),
            netns: ns.to_string(),
            source: Box::new(e),
        })
    }

    /// Attach the socket load balancer (connect and getpeername) to the cgroup at `path`.
    pub fn attach_cgroup(&mut self, path: &Path) -> Result<(), LoadError> {
        for name in [SOCK_LB, SOCK_RN] {
            let err = |source: Box<dyn std::error::Error + Send + Sync>| LoadError::AttachCgroup {
                name,
                path: path.display().to_string(),
                source,
            };
            let cgroup = std::fs::File::open(path).map_err(|e| err(Box::new(e)))?;
            let p: &mut CgroupSockAddr = program(&mut self.ebpf, name)?;
            // On kernels with BPF links (5.7+), aya attaches with `bpf_link_create`, which takes
            // no flags (links always coexist) and refuses BPF_F_ALLOW_MULTI with EINVAL.
            p.attach(&cgroup, CgroupAttachMode::Single)
                .map_err(|e| err(Box::new(e)))?;
        }
        Ok(())
    }

    /// Take the hash map `name` out of the object, typed by its key and value sizes.
    pub fn table<const K: usize, const V: usize>(
        &mut self,
        name: &'static str,
    ) -> Result<Table<K, V>, LoadError> {
        let map = self.ebpf.take_map(name).ok_or(LoadError::Missing(name))?;
        Table::try_from(map).map_err(|e| LoadError::Map {
            name,
            source: Box::new(e),
        })
    }

    /// Take the events ring buffer.
    pub fn events(&mut self) -> Result<RingBuf<MapData>, LoadError> {
        let name = maps::EVENTS;
        let map = self.ebpf.take_map(name).ok_or(LoadError::Missing(name))?;
        RingBuf::try_from(map).map_err(|e| LoadError::Map {
            name,
            source: Box::new(e),
        })
    }
}

fn program<'a, T>(ebpf: &'a mut Ebpf, name: &'static str) -> Result<&'a mut T, LoadError>
where
    &'a mut T: TryFrom<&'a mut aya::programs::Program, Error = aya::programs::ProgramError>,
{
    let p = ebpf.program_mut(name).ok_or(LoadError::Missing(name))?;
    p.try_into().map_err(|e| LoadError::Program {
        name,
        source: Box::new(e),
    })
}
