//! The CiliumNetworkPolicies in force in a running galaxy, and the policy engine every proxy asks.
//!
//! A change (create, apply, delete) goes through the manifest model's typed changes, recompiles
//! the whole set and swaps the engine atomically: requests already past the policy stage finish
//! under the old set, every later connection and request sees the new one, and nothing restarts.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use politica::{Endpoints, Engine, PolicyId};
use serde::{Deserialize, Serialize};

use crate::manifest::{
    self, Applied, ApplyMode, LoadErrors, Manifests, Object, ObjectKey, ObjectKind,
};

/// One policy as the control API shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredPolicy {
    pub name: String,
    pub namespace: String,
    /// Milliseconds since the Unix epoch.
    pub created_ms: u64,
    /// The file (or `-`) it was last applied from.
    pub origin: String,
    /// The whole object as JSON (what `describe` and `-o json` print).
    pub object: serde_json::Value,
    /// The `kubectl.kubernetes.io/last-applied-configuration` annotation's value, when the
    /// object was applied (or created with `--save-config`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_applied: Option<String>,
    /// `metadata.uid` (what Hubble's `ingress_allowed_by` names).
    #[serde(default)]
    pub uid: String,
    #[serde(default)]
    pub generation: u64,
    #[serde(default)]
    pub resource_version: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The text is not valid; the message names file, document and field.
    #[error(transparent)]
    Invalid(#[from] LoadErrors),
    /// Objects a running galaxy does not change (its pods and Services come from `up -f`).
    #[error(
        "{origin}: a running galaxy takes only CiliumNetworkPolicy objects; {} come from `galaxia up -f` (restart it to change them)",
        keys.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    )]
    NotPolicies {
        origin: String,
        keys: Vec<ObjectKey>,
    },
}

/// When and from where each policy was last written, and its `metadata.uid`.
#[derive(Debug, Clone)]
struct Meta {
    created_ms: u64,
    origin: String,
    uid: Arc<str>,
    /// `kubectl.kubernetes.io/last-applied-configuration`: set by `apply` and by
    /// `create --save-config`, absent after a plain `create`.
    last_applied: Option<String>,
    /// `metadata.generation`: 1 at creation, one more at each change of the object.
    generation: u64,
    /// `metadata.resourceVersion`: the store's write count at the object's last write.
    resource_version: u64,
}

/// The policies in force: the engine compiled from them, the policy repository's revision
/// (Cilium counts every change from 1) and each policy's uid, for Hubble's `ingress_allowed_by`.
#[derive(Debug, Default)]
pub struct InForce {
    pub engine: Engine,
    pub revision: u64,
    uids: BTreeMap<PolicyId, Arc<str>>,
}

impl InForce {
    pub fn uid(&self, id: &PolicyId) -> Option<&Arc<str>> {
        self.uids.get(id)
    }
}

#[derive(Debug, Default)]
struct Stored {
    policies: Manifests,
    meta: BTreeMap<ObjectKey, Meta>,
    /// Writes so far (what `resourceVersion` counts).
    writes: u64,
}

/// The policies and the engine compiled from them.
#[derive(Debug)]
pub struct PolicyStore {
    /// The galaxy's endpoints; a new pod adds one and the engine is rebuilt over them.
    endpoints: RwLock<Arc<Endpoints>>,
    /// Serialises changes.
    stored: Mutex<Stored>,
    in_force: RwLock<Arc<InForce>>,
    /// Where every change is saved (a cluster keeps its objects; the galaxy keeps them there).
    saved_to: Mutex<Option<PathBuf>>,
}

impl PolicyStore {
    /// No policy yet, over the galaxy's endpoints.
    pub fn new(endpoints: Arc<Endpoints>) -> Self {
        let in_force = Arc::new(InForce {
            engine: Engine::new(Default::default(), endpoints.clone()),
            revision: 1,
            uids: BTreeMap::new(),
        });
        PolicyStore {
            endpoints: RwLock::new(endpoints),
            stored: Mutex::new(Stored::default()),
            in_force: RwLock::new(in_force),
            saved_to: Mutex::new(None),
        }
    }

    /// Save the policies to `path` after every change from now on (and now).
    pub fn save_to(&self, path: PathBuf) -> std::io::Result<()> {
        *self.saved_to.lock().unwrap_or_else(|p| p.into_inner()) = Some(path);
        let stored = self.stored.lock().unwrap_or_else(|p| p.into_inner());
        self.save(&stored)
    }

    /// Write the policies as a YAML stream (one JSON document each), atomically: a crash leaves
    /// the previous version or this one, never half of one.
    fn save(&self, stored: &Stored) -> std::io::Result<()> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let Some(path) = self
            .saved_to
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        else {
            return Ok(());
        };
        let mut text = String::new();
        for p in stored.policies.policies() {
            text.push_str("---\n");
            text.push_str(&serde_json::to_string(&p.cnp).map_err(std::io::Error::other)?);
            text.push('\n');
        }
        let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)
    }

    /// A new pod's endpoint: its identity (allocated from its labels, shared with pods of the same
    /// labels) and identity labels; the policies are compiled again over it.
    pub fn add_endpoint(
        &self,
        id: politica::EndpointId,
        endpoint: politica::Endpoint,
    ) -> (politica::NumericIdentity, Vec<String>) {
        let stored = self.stored.lock().unwrap_or_else(|p| p.into_inner());
        let known = {
            let mut eps = self.endpoints.write().unwrap_or_else(|p| p.into_inner());
            let mut next = (**eps).clone();
            let identity = next.insert(id, endpoint);
            let labels = next.get(id).map(|k| k.labels.clone()).unwrap_or_default();
            *eps = Arc::new(next);
            (identity, labels)
        };
        // The same policies over one more endpoint: not a change of the repository's revision.
        let endpoints = self
            .endpoints
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let engine = Engine::new(stored.policies.policy_set(), endpoints);
        let mut current = self.in_force.write().unwrap_or_else(|p| p.into_inner());
        *current = Arc::new(InForce {
            engine,
            revision: current.revision,
            uids: current.uids.clone(),
        });
        known
    }

    /// The policies in force now.
    pub fn current(&self) -> Arc<InForce> {
        self.in_force
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The engine in force now.
    pub fn engine(&self) -> Arc<InForce> {
        self.current()
    }

    /// The stored policies, sorted by namespace and name.
    pub fn list(&self) -> Vec<StoredPolicy> {
        let stored = self.stored.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<StoredPolicy> = stored
            .policies
            .policies()
            .iter()
            .map(|p| {
                let key = ObjectKey {
                    kind: ObjectKind::CiliumNetworkPolicy,
                    namespace: p.cnp.namespace().to_string(),
                    name: p.cnp.name().to_string(),
                };
                let meta = stored.meta.get(&key);
                StoredPolicy {
                    name: key.name,
                    namespace: key.namespace,
                    created_ms: meta.map_or(0, |m| m.created_ms),
                    origin: meta.map(|m| m.origin.clone()).unwrap_or_default(),
                    object: serde_json::to_value(&p.cnp).unwrap_or_default(),
                    last_applied: meta.and_then(|m| m.last_applied.clone()),
                    uid: meta.map(|m| m.uid.to_string()).unwrap_or_default(),
                    generation: meta.map_or(0, |m| m.generation),
                    resource_version: meta.map_or(0, |m| m.resource_version),
                }
            })
            .collect();
        out.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        out
    }

    /// Decode the policies in `text` (one or more YAML documents); other kinds are refused.
    pub fn parse(text: &str, origin: &str) -> Result<Manifests, PolicyError> {
        let m = manifest::load_str(text, origin)?;
        let others: Vec<ObjectKey> = m
            .objects()
            .iter()
            .filter(|o| !matches!(o.object, Object::Policy(_)))
            .map(|o| o.key.clone())
            .collect();
        if others.is_empty() {
            Ok(m)
        } else {
            Err(PolicyError::NotPolicies {
                origin: origin.to_string(),
                keys: others,
            })
        }
    }

    /// Create or apply every policy in `text`.
    pub fn apply(
        &self,
        text: &str,
        origin: &str,
        mode: ApplyMode,
    ) -> Result<Vec<Applied>, PolicyError> {
        let m = Self::parse(text, origin)?;
        Ok(self.apply_manifests(m, origin, mode))
    }

    /// Like [`PolicyStore::apply`], for policies already loaded.
    pub fn apply_manifests(&self, m: Manifests, origin: &str, mode: ApplyMode) -> Vec<Applied> {
        self.apply_tracked(m, origin, mode, false).0
    }

    /// Create or apply, keeping each object's last-applied configuration as kubectl does:
    /// `apply` and `create --save-config` record it. Also returns kubectl's warnings: `apply` over
    /// an object that lacks it (one made by a plain `create`) warns, patches it in, and reports
    /// the object `configured`.
    pub fn apply_tracked(
        &self,
        m: Manifests,
        origin: &str,
        mode: ApplyMode,
        save_config: bool,
    ) -> (Vec<Applied>, Vec<String>) {
        let applied: BTreeMap<ObjectKey, String> = m
            .objects()
            .iter()
            .filter_map(|o| match &o.object {
                Object::Policy(p) => Some((o.key.clone(), serde_json::to_string(&**p).ok()?)),
                _ => None,
            })
            .collect();
        let mut stored = self.stored.lock().unwrap_or_else(|p| p.into_inner());
        let mut results = stored.policies.apply(m, mode);
        let now = crate::clock::now_ms();
        let mut warnings = Vec::new();
        let records = mode == ApplyMode::Apply || save_config;
        for r in results.iter_mut().filter(|r| r.result.is_ok()) {
            let old = stored.meta.get(&r.key);
            let created_ms = old.map_or(now, |m| m.created_ms);
            let uid = old.map_or_else(|| Arc::from(uid_v4().as_str()), |m| m.uid.clone());
            // Only a change of the spec is a new generation (a patched annotation is not).
            let spec_changed = !matches!(r.result, Ok(manifest::Change::Unchanged));
            if mode == ApplyMode::Apply
                && let Some(old) = old
                && old.last_applied.is_none()
            {
                warnings.push(format!(
                    "Warning: resource ciliumnetworkpolicies/{} is missing the kubectl.kubernetes.io/last-applied-configuration annotation which is required by kubectl apply. kubectl apply should only be used on resources created declaratively by either kubectl create --save-config or kubectl apply. The missing annotation will be patched automatically.",
                    r.key.name
                ));
                // The annotation is patched in: the object changed even if its spec did not.
                if matches!(r.result, Ok(manifest::Change::Unchanged)) {
                    r.result = Ok(manifest::Change::Configured);
                }
            }
            let changed = !matches!(r.result, Ok(manifest::Change::Unchanged));
            let generation = match old {
                None => 1,
                Some(m) if spec_changed => m.generation + 1,
                Some(m) => m.generation,
            };
            let resource_version = match old {
                Some(m) if !changed => m.resource_version,
                _ => {
                    stored.writes += 1;
                    stored.writes
                }
            };
            let old = stored.meta.get(&r.key);
            let last_applied = if records {
                applied.get(&r.key).cloned()
            } else {
                old.and_then(|m| m.last_applied.clone())
            };
            stored.meta.insert(
                r.key.clone(),
                Meta {
                    created_ms,
                    origin: origin.to_string(),
                    uid,
                    last_applied,
                    generation,
                    resource_version,
                },
            );
        }
        self.install(&stored);
        (results, warnings)
    }

    /// Delete policies by key.
    pub fn delete(&self, keys: &[ObjectKey]) -> Vec<Applied> {
        let mut stored = self.stored.lock().unwrap_or_else(|p| p.into_inner());
        let results: Vec<Applied> = keys
            .iter()
            .map(|key| {
                let r = stored.policies.delete(key);
                if r.result.is_ok() {
                    stored.meta.remove(key);
                }
                r
            })
            .collect();
        self.install(&stored);
        results
    }

    fn install(&self, stored: &Stored) {
        if let Err(e) = self.save(stored) {
            tracing::warn!(error = %e, "saving the galaxy's policies failed: they will not survive a crash");
        }
        let endpoints = self
            .endpoints
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let engine = Engine::new(stored.policies.policy_set(), endpoints);
        let uids = stored
            .meta
            .iter()
            .map(|(k, m)| {
                let id = PolicyId {
                    namespace: k.namespace.clone(),
                    name: k.name.clone(),
                };
                (id, m.uid.clone())
            })
            .collect();
        let mut current = self.in_force.write().unwrap_or_else(|p| p.into_inner());
        let revision = current.revision + 1;
        *current = Arc::new(InForce {
            engine,
            revision,
            uids,
        });
    }
}

/// A random version 4 UUID, as the API server gives each object.
fn uid_v4() -> String {
    let b: [u8; 16] = rand::random();
    let mut b = b;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
