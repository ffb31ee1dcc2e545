//! What the control API says about a galaxy on the eBPF datapath (each pod's sandbox, the maps'
//! ids), looked up by the galaxy's cluster: the views are built from a `&Cluster` alone, and the
//! datapath registers itself here when it starts and leaves when it stops.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::enter::Sandbox;
use super::names::Tag;
use crate::state::{Cluster, PodId};

/// One running eBPF galaxy.
#[derive(Debug, Clone)]
pub struct Info {
    pub tag: Tag,
    /// By pod (the pods' order in the cluster).
    pub sandboxes: Vec<Sandbox>,
    /// Map name -> kernel map id.
    pub maps: BTreeMap<String, u32>,
}

static GALAXIES: Mutex<Vec<(usize, Arc<Info>)>> = Mutex::new(Vec::new());

fn key(cluster: &Cluster) -> usize {
    std::ptr::from_ref(cluster) as usize
}

pub fn register(cluster: &Cluster, info: Info) {
    let mut all = GALAXIES.lock().unwrap_or_else(|p| p.into_inner());
    all.retain(|(k, _)| *k != key(cluster));
    all.push((key(cluster), Arc::new(info)));
}

pub fn unregister(cluster: &Cluster) {
    GALAXIES
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .retain(|(k, _)| *k != key(cluster));
}

/// The galaxy's eBPF datapath, when it runs on one.
pub fn info(cluster: &Cluster) -> Option<Arc<Info>> {
    GALAXIES
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .find(|(k, _)| *k == key(cluster))
        .map(|(_, i)| Arc::clone(i))
}

/// The sandbox of pod `pod`, on the eBPF datapath.
pub fn sandbox(cluster: &Cluster, pod: PodId) -> Option<Sandbox> {
    info(cluster).and_then(|i| i.sandboxes.get(pod.0).cloned())
}
