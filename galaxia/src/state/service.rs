//! One running Service: its manifest model, the pods its selector picks, and its round-robin
//! position.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::SystemTime;

use super::pod::{Pod, PodId};
use crate::manifest::ServiceModel;

#[derive(Debug)]
pub struct Service {
    pub model: ServiceModel,
    pub created: SystemTime,
    /// The pods the selector picks (fixed: pods do not come and go).
    pub members: Vec<PodId>,
    next: AtomicUsize,
}

impl Service {
    pub fn new(model: ServiceModel, pods: &[Pod], created: SystemTime) -> Service {
        let members = pods
            .iter()
            .filter(|p| model.selects(&p.model))
            .map(|p| p.id)
            .collect();
        Service {
            model,
            created,
            members,
            next: AtomicUsize::new(0),
        }
    }

    /// Where the next round-robin turn starts.
    pub(crate) fn turn(&self) -> usize {
        self.next.fetch_add(1, Ordering::Relaxed)
    }
}
