//! Append-only lists that readers walk without a lock while the galaxy adds to them: pods come
//! and go (a Deployment replaces and scales its replicas), but a [`PodId`] names the same pod for
//! the galaxy's whole life, so that flows and connections that hold one never see it reused.

use std::ops::Index;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use super::pod::{Pod, PodId};

/// The list is full: the galaxy has made as many entries as it will ever hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("more than {0} entries")]
pub struct Full(pub usize);

/// A fixed number of slots filled in order; a filled slot never changes.
#[derive(Debug)]
pub struct Arena<T> {
    slots: Box<[OnceLock<T>]>,
    len: AtomicUsize,
    push: Mutex<()>,
}

impl<T> Arena<T> {
    pub fn with_capacity(capacity: usize) -> Self {
        Arena {
            slots: (0..capacity).map(|_| OnceLock::new()).collect(),
            len: AtomicUsize::new(0),
            push: Mutex::new(()),
        }
    }

    /// Add `value` at the end; returns its index.
    pub fn push_with(&self, value: impl FnOnce(usize) -> T) -> Result<usize, Full> {
        let _one = self.push.lock().unwrap_or_else(|p| p.into_inner());
        let i = self.len.load(Ordering::Acquire);
        let slot = self.slots.get(i).ok_or(Full(self.slots.len()))?;
        let _ = slot.set(value(i));
        self.len.store(i + 1, Ordering::Release);
        Ok(i)
    }

    pub fn push(&self, value: T) -> Result<usize, Full> {
        self.push_with(|_| value)
    }

    /// Every entry ever added.
    pub fn all(&self) -> impl DoubleEndedIterator<Item = &T> + Clone {
        let n = self.len.load(Ordering::Acquire);
        self.slots[..n].iter().filter_map(OnceLock::get)
    }

    pub fn get(&self, i: usize) -> Option<&T> {
        (i < self.len.load(Ordering::Acquire))
            .then(|| self.slots[i].get())
            .flatten()
    }

    /// How many entries were ever added.
    pub fn count(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }
}

/// The Service's members: every pod its selector ever picked (pods that are gone are never
/// ready again, and the balancer and the views skip pods that are not ready).
pub type Members = Arena<PodId>;

impl Members {
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &PodId> + Clone {
        self.all()
    }

    pub fn len(&self) -> usize {
        self.count()
    }

    pub fn is_empty(&self) -> bool {
        self.count() == 0
    }
}

impl Index<usize> for Members {
    type Output = PodId;
    fn index(&self, i: usize) -> &PodId {
        self.get(i).unwrap_or_else(|| panic!("no member {i}"))
    }
}

/// The galaxy's pods. Iteration shows the pods that exist now (as the API server lists them);
/// indexing by [`PodId`] reaches any pod ever made, deleted ones included.
#[derive(Debug)]
pub struct Pods(Arena<Box<Pod>>);

impl Pods {
    pub fn with_capacity(capacity: usize) -> Self {
        Pods(Arena::with_capacity(capacity))
    }

    pub fn push_with(&self, pod: impl FnOnce(PodId) -> Pod) -> Result<PodId, Full> {
        self.0.push_with(|i| Box::new(pod(PodId(i)))).map(PodId)
    }

    /// The pods that exist now, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Pod> + Clone {
        self.0.all().map(|b| &**b).filter(|p| !p.is_deleted())
    }

    /// How many pods exist now.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every pod ever made, deleted ones included.
    pub fn ever(&self) -> impl DoubleEndedIterator<Item = &Pod> + Clone {
        self.0.all().map(|b| &**b)
    }

    pub fn get(&self, id: PodId) -> Option<&Pod> {
        self.0.get(id.0).map(|b| &**b)
    }
}

impl Index<usize> for Pods {
    type Output = Pod;
    fn index(&self, i: usize) -> &Pod {
        self.get(PodId(i))
            .unwrap_or_else(|| panic!("no pod number {i}"))
    }
}

impl<'a> IntoIterator for &'a Pods {
    type Item = &'a Pod;
    type IntoIter = Box<dyn Iterator<Item = &'a Pod> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}
