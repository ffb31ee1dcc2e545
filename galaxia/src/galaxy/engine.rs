//! The one place where the running galaxy meets the manifest model and the policy engine
//! ([`crate::manifest`], [`crate::policy`]): turning loaded manifests into a [`Blueprint`],
//! decoding policy documents sent to a running galaxy, and compiling the set in force into a
//! [`Decide`] for the proxies.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::policies::{Decide, Decision};
use super::{Blueprint, ContainerPort, PodSpec, Role, ServicePort, ServiceSpec, TargetPort};
use crate::manifest::{self, ImageKind, Manifests, Object};
use crate::policy::{CompiledPolicy, Endpoint, HttpRequest, PolicySet, Protocol, Verdict};

/// One decoded policy.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub name: String,
    pub namespace: String,
    /// The whole object as JSON (for `describe`, `-o json`, and to tell `unchanged`).
    pub object: serde_json::Value,
    pub compiled: Arc<CompiledPolicy>,
}

/// What `galaxia up` runs for these manifests.
pub fn blueprint(m: &Manifests) -> Blueprint {
    let pods = m
        .pods()
        .iter()
        .map(|p| {
            let role = if p.is_death_star() {
                Role::DeathStar
            } else {
                Role::Ship
            };
            let ports = p
                .containers
                .iter()
                .filter(|c| role == Role::Ship || c.kind == ImageKind::DeathStar)
                .flat_map(|c| c.ports.iter())
                .filter(|np| np.protocol != Protocol::Udp)
                .map(|np| ContainerPort {
                    name: np.name.clone(),
                    port: np.port,
                })
                .collect();
            PodSpec {
                name: p.name.clone(),
                namespace: p.namespace.clone(),
                labels: p.labels.clone(),
                role,
                ports,
                env: Vec::new(),
                args: Vec::new(),
            }
        })
        .collect();
    let endpoints = m.pods().iter().map(|p| p.endpoint()).collect();
    let services = m
        .services()
        .iter()
        .map(|s| ServiceSpec {
            name: s.name.clone(),
            namespace: s.namespace.clone(),
            selector: s.selector.clone(),
            ports: s
                .ports
                .iter()
                .map(|sp| ServicePort {
                    name: sp.name.clone(),
                    port: sp.port,
                    target: match &sp.target_port {
                        manifest::TargetPort::Number(n) => TargetPort::Number(*n),
                        manifest::TargetPort::Name(n) => TargetPort::Name(n.clone()),
                    },
                })
                .collect(),
        })
        .collect();
    let policies = m
        .policies()
        .iter()
        .map(|p| parsed_of(&p.cnp, p.compiled.clone()))
        .collect();
    Blueprint {
        pods,
        endpoints,
        services,
        policies,
    }
}

fn parsed_of(cnp: &manifest::CiliumNetworkPolicy, compiled: Arc<CompiledPolicy>) -> Parsed {
    Parsed {
        name: cnp.name().to_string(),
        namespace: cnp.namespace().to_string(),
        object: serde_json::to_value(cnp).unwrap_or_default(),
        compiled,
    }
}

/// Decode the policies in `text`. Other kinds are refused: a running galaxy's pods and Services
/// come from `galaxia up -f`.
pub fn parse(text: &str, origin: &str) -> Result<Vec<Parsed>, String> {
    let m = manifest::load_str(text, origin).map_err(|e| e.to_string())?;
    let others: Vec<String> = m
        .objects()
        .iter()
        .filter(|o| !matches!(o.object, Object::Policy(_)))
        .map(|o| o.key.to_string())
        .collect();
    if !others.is_empty() {
        return Err(format!(
            "{origin}: a running galaxy takes only CiliumNetworkPolicy objects; {} come from `galaxia up -f` (restart it to change them)",
            others.join(", ")
        ));
    }
    Ok(m.policies()
        .iter()
        .map(|p| parsed_of(&p.cnp, p.compiled.clone()))
        .collect())
}

/// The verdict function for `policies` over the galaxy's pods.
pub fn compile(endpoints: &[Endpoint], policies: &[&Parsed]) -> Arc<dyn Decide> {
    Arc::new(Engine {
        set: PolicySet::new(policies.iter().map(|p| p.compiled.clone())),
        endpoints: endpoints.to_vec(),
    })
}

struct Engine {
    set: PolicySet,
    endpoints: Vec<Endpoint>,
}

impl Decide for Engine {
    fn decide(&self, from: usize, to: usize, port: u16, request: &HttpRequest<'_>) -> Decision {
        let (Some(src), Some(dst)) = (self.endpoints.get(from), self.endpoints.get(to)) else {
            return Decision::Forward {
                l7: false,
                reason: "unknown pod".into(),
            };
        };
        let conn = self.set.connection(src, dst, port, Protocol::Tcp);
        if !conn.is_allowed() {
            return Decision::Drop {
                reason: conn.explain(src, dst, port, Protocol::Tcp),
            };
        }
        let Some(_) = &conn.l7 else {
            return Decision::Forward {
                l7: false,
                reason: conn.explain(src, dst, port, Protocol::Tcp),
            };
        };
        let v = conn.http(request);
        match v.verdict {
            Verdict::Forwarded => Decision::Forward {
                l7: true,
                reason: v.explain(request),
            },
            Verdict::Denied => Decision::Deny {
                reason: v.explain(request),
            },
            Verdict::Dropped | Verdict::Allowed => Decision::Drop {
                reason: v.explain(request),
            },
        }
    }
}

/// Labels of a pod, for messages.
pub fn labels_text(labels: &BTreeMap<String, String>) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}
