//! The CiliumNetworkPolicies in force in a running galaxy, and the compiled verdict function that
//! every proxy consults.
//!
//! A change (create, apply, delete) recompiles the whole set and swaps it atomically: requests
//! already past the policy stage finish under the old set, every later connection and request sees
//! the new one, and nothing restarts.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};

use serde::{Deserialize, Serialize};

use super::engine;
use crate::policy::{Endpoint, HttpRequest};

/// What the proxy does with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// L3/L4 drop: nothing goes back, as Cilium drops the SYN.
    Drop { reason: String },
    /// L7 denial: Envoy's `403 Access denied`.
    Deny { reason: String },
    /// On to the backend; `l7` when HTTP rules were checked (the request went "through Envoy").
    Forward { l7: bool, reason: String },
}

/// The compiled policy set: a pure function of (source pod, destination pod, container port,
/// request). Pods are indices into the galaxy's pod list. The L3/L4 verdict is per connection in
/// Cilium; the proxy asks per request, which is the same thing for the ships (a fresh connection
/// per request) and makes a policy change felt from the very next request.
pub trait Decide: Send + Sync {
    fn decide(&self, from: usize, to: usize, port: u16, req: &HttpRequest<'_>) -> Decision;
}

/// One policy as stored: its source text (for `describe`) and its decoded form.
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
}

/// Create refuses an existing name; apply creates or updates (kubectl's two verbs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApplyMode {
    Create,
    Apply,
}

/// What happened to one object, as kubectl prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyResult {
    /// `ciliumnetworkpolicy.cilium.io/regra1 created`, or kubectl's error line.
    pub line: String,
    pub ok: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The text is not a valid policy; the message names file, document and field.
    #[error("{0}")]
    Invalid(String),
}

/// Cilium's resource name, for kubectl-like messages.
pub const RESOURCE: &str = "ciliumnetworkpolicy.cilium.io";
const RESOURCE_PLURAL: &str = "ciliumnetworkpolicies.cilium.io";

/// The policies and their compiled form.
pub struct PolicyStore {
    endpoints: Vec<Endpoint>,
    /// Serialises changes; keyed by (namespace, name).
    entries: Mutex<BTreeMap<(String, String), (StoredPolicy, engine::Parsed)>>,
    current: RwLock<Arc<dyn Decide>>,
}

impl std::fmt::Debug for PolicyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyStore").finish_non_exhaustive()
    }
}

impl PolicyStore {
    pub fn new(endpoints: Vec<Endpoint>) -> Self {
        let current = engine::compile(&endpoints, &[]);
        PolicyStore {
            endpoints,
            entries: Mutex::new(BTreeMap::new()),
            current: RwLock::new(current),
        }
    }

    /// The verdict function in force now.
    pub fn current(&self) -> Arc<dyn Decide> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The stored policies, sorted by namespace and name.
    pub fn list(&self) -> Vec<StoredPolicy> {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .map(|(s, _)| s.clone())
            .collect()
    }

    /// Create or apply every policy in `text` (one or more YAML documents). Objects of other kinds
    /// are refused: a running galaxy's pods come from `galaxia up -f`.
    pub fn apply(
        &self,
        text: &str,
        origin: &str,
        mode: ApplyMode,
    ) -> Result<Vec<ApplyResult>, PolicyError> {
        let parsed = engine::parse(text, origin).map_err(PolicyError::Invalid)?;
        Ok(self.apply_parsed(parsed, origin, mode))
    }

    /// Like [`PolicyStore::apply`], for policies already decoded.
    pub fn apply_parsed(
        &self,
        parsed: Vec<engine::Parsed>,
        origin: &str,
        mode: ApplyMode,
    ) -> Vec<ApplyResult> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = entries.clone();
        let mut results = Vec::new();
        let now = crate::flows::now_ms();
        for p in parsed {
            let key = (p.namespace.clone(), p.name.clone());
            let line_ok = |what: &str| ApplyResult {
                line: format!("{RESOURCE}/{} {what}", p.name),
                ok: true,
            };
            let result = match (mode, next.get(&key)) {
                (ApplyMode::Create, Some(_)) => ApplyResult {
                    line: format!(
                        "Error from server (AlreadyExists): {RESOURCE_PLURAL} \"{}\" already exists",
                        p.name
                    ),
                    ok: false,
                },
                (ApplyMode::Apply, Some((old, _))) if old.object == p.object => {
                    line_ok("unchanged")
                }
                (_, old) => {
                    let created_ms = old.map_or(now, |(o, _)| o.created_ms);
                    let what = if old.is_some() {
                        "configured"
                    } else {
                        "created"
                    };
                    let r = line_ok(what);
                    let stored = StoredPolicy {
                        name: p.name.clone(),
                        namespace: p.namespace.clone(),
                        created_ms,
                        origin: origin.to_string(),
                        object: p.object.clone(),
                    };
                    next.insert(key, (stored, p));
                    r
                }
            };
            results.push(result);
        }
        self.install(&mut entries, next);
        results
    }

    /// Delete policies by (namespace, name).
    pub fn delete(&self, names: &[(String, String)]) -> Vec<ApplyResult> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = entries.clone();
        let results = names
            .iter()
            .map(|key| match next.remove(key) {
                Some(_) => ApplyResult {
                    line: format!("{RESOURCE} \"{}\" deleted", key.1),
                    ok: true,
                },
                None => ApplyResult {
                    line: format!(
                        "Error from server (NotFound): {RESOURCE_PLURAL} \"{}\" not found",
                        key.1
                    ),
                    ok: false,
                },
            })
            .collect();
        self.install(&mut entries, next);
        results
    }

    /// The (namespace, name) pairs of the policies in `text`, for `delete -f`.
    pub fn names_in(text: &str, origin: &str) -> Result<Vec<(String, String)>, PolicyError> {
        Ok(engine::parse(text, origin)
            .map_err(PolicyError::Invalid)?
            .into_iter()
            .map(|p| (p.namespace, p.name))
            .collect())
    }

    fn install(
        &self,
        entries: &mut BTreeMap<(String, String), (StoredPolicy, engine::Parsed)>,
        next: BTreeMap<(String, String), (StoredPolicy, engine::Parsed)>,
    ) {
        let set: Vec<&engine::Parsed> = next.values().map(|(_, p)| p).collect();
        let compiled = engine::compile(&self.endpoints, &set);
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = compiled;
        *entries = next;
    }
}
