//! From the serde model of a CiliumNetworkPolicy to a compiled policy: selectors scoped to the
//! policy's namespace as Cilium scopes them, ports parsed, regexes compiled; every problem (and
//! every field galaxia does not emulate) reported with its field path.

use std::fmt;
use std::sync::Arc;

use crate::cnp::{CiliumNetworkPolicy, L7Rules, LabelSelector, PortProtocol, Rule};
use crate::endpoint::{NAMESPACE_LABEL, NAMESPACE_LABELS_PREFIX, Protocol};
use crate::http::CompiledHttpRule;
use crate::problem::{CompileErrors, Problem};
use crate::selector::Selector;

/// Files a "not emulated" problem for each field of `fields` that is present in the policy.
fn refuse_not_emulated(field: &str, fields: &[(bool, &str)], problems: &mut Vec<Problem>) {
    for &(present, name) in fields {
        if present {
            problems.push(Problem::not_emulated(&format!("{field}.{name}")));
        }
    }
}

/// `namespace/name` of a policy.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct PolicyId {
    pub namespace: String,
    pub name: String,
}

impl fmt::Display for PolicyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// A policy ready for verdicts.
#[derive(Debug, Clone)]
pub struct CompiledPolicy {
    pub id: Arc<PolicyId>,
    pub(crate) specs: Vec<CompiledSpec>,
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledSpec {
    /// `None` for `spec`, `Some(i)` for `specs[i]`.
    pub(crate) index: Option<usize>,
    pub(crate) subject: Selector,
    /// A non-empty `ingress` or `ingressDeny` puts the selected endpoints in ingress default deny.
    pub(crate) enforces_ingress: bool,
    pub(crate) allow: Vec<CompiledRule>,
    pub(crate) deny: Vec<CompiledRule>,
}

/// One ingress (or ingressDeny) rule: the L3 part and the L4 part must both match.
#[derive(Debug, Clone)]
pub(crate) struct CompiledRule {
    pub(crate) index: usize,
    /// `None`: no L3 part, so any peer (when there is an L4 part).
    pub(crate) peers: Option<Peers>,
    /// `None`: no L4 part, so every port (when there is an L3 part).
    pub(crate) ports: Option<Vec<CompiledPortRule>>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Peers {
    pub(crate) endpoints: Vec<Selector>,
    /// `fromEntities` that match pods: `all` or `cluster`.
    pub(crate) any_pod: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledPortRule {
    pub(crate) index: usize,
    pub(crate) ports: Vec<PortMatch>,
    /// HTTP rules; `None` when the port is allowed at L4 only.
    pub(crate) http: Option<Arc<[CompiledHttpRule]>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PortNumber {
    /// `"0"`: every port.
    Any,
    Number(u16),
    Named(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PortMatch {
    pub(crate) port: PortNumber,
    /// `None` for `ANY` (the default).
    pub(crate) protocol: Option<Protocol>,
}

/// The entities Cilium 1.15 knows; only `all` and `cluster` include pods.
const ENTITIES: [&str; 11] = [
    "all",
    "world",
    "cluster",
    "host",
    "init",
    "ingress",
    "unmanaged",
    "remote-node",
    "health",
    "none",
    "kube-apiserver",
];

impl CompiledPolicy {
    pub fn compile(cnp: &CiliumNetworkPolicy) -> Result<CompiledPolicy, CompileErrors> {
        let mut problems = Vec::new();
        let namespace = cnp.namespace().to_string();
        let mut specs = Vec::new();
        if cnp.spec.is_none() && cnp.specs.as_ref().is_none_or(|s| s.is_empty()) {
            problems.push(Problem::new(
                "spec",
                "missing: a CiliumNetworkPolicy needs spec (or specs)",
            ));
        }
        if let Some(rule) = &cnp.spec {
            specs.extend(compile_spec(rule, None, "spec", &namespace, &mut problems));
        }
        for (i, rule) in cnp.specs.iter().flatten().enumerate() {
            specs.extend(compile_spec(
                rule,
                Some(i),
                &format!("specs[{i}]"),
                &namespace,
                &mut problems,
            ));
        }
        if problems.is_empty() {
            Ok(CompiledPolicy {
                id: Arc::new(PolicyId {
                    namespace,
                    name: cnp.name().to_string(),
                }),
                specs,
            })
        } else {
            Err(CompileErrors(problems))
        }
    }
}

fn compile_spec(
    rule: &Rule,
    index: Option<usize>,
    field: &str,
    namespace: &str,
    problems: &mut Vec<Problem>,
) -> Option<CompiledSpec> {
    let before = problems.len();
    for (present, name) in [
        (rule.egress.is_some(), "egress"),
        (rule.egress_deny.is_some(), "egressDeny"),
    ] {
        if present {
            problems.push(Problem::new(
                &format!("{field}.{name}"),
                format!("{name} is not emulated by galaxia (it enforces ingress only): a real Cilium is needed for this policy"),
            ));
        }
    }
    let subject = match (&rule.endpoint_selector, &rule.node_selector) {
        (Some(_), Some(_)) => {
            problems.push(Problem::new(
                field,
                "endpointSelector and nodeSelector are both set: a rule selects either endpoints or nodes, set only one",
            ));
            None
        }
        (None, Some(_)) => {
            problems.push(Problem::new(
                &format!("{field}.nodeSelector"),
                "nodeSelector (a host policy) is not emulated by galaxia: a real Cilium is needed for this policy",
            ));
            None
        }
        (None, None) => {
            problems.push(Problem::new(
                &format!("{field}.endpointSelector"),
                "missing: a rule needs an endpointSelector ({} selects every pod of the namespace)",
            ));
            None
        }
        (Some(sel), None) => {
            let mut s = Selector::compile(sel, &format!("{field}.endpointSelector"), problems);
            // A CiliumNetworkPolicy applies only in its own namespace, whatever the selector says.
            s.remove_k8s_key(NAMESPACE_LABEL);
            s.add_k8s_match(NAMESPACE_LABEL, namespace);
            Some(s)
        }
    };
    let mut allow = Vec::new();
    for (i, r) in rule.ingress.iter().flatten().enumerate() {
        let f = format!("{field}.ingress[{i}]");
        refuse_not_emulated(
            &f,
            &[
                (r.from_requires.is_some(), "fromRequires"),
                (r.from_cidr.is_some(), "fromCIDR"),
                (r.from_cidr_set.is_some(), "fromCIDRSet"),
                (r.icmps.is_some(), "icmps"),
                (r.authentication.is_some(), "authentication"),
            ],
            problems,
        );
        let peers = peers(&r.from_endpoints, &r.from_entities, &f, namespace, problems);
        let ports = r.to_ports.as_ref().filter(|p| !p.is_empty()).map(|prs| {
            prs.iter()
                .enumerate()
                .map(|(j, pr)| {
                    let pf = format!("{f}.toPorts[{j}]");
                    refuse_not_emulated(
                        &pf,
                        &[
                            (pr.terminating_tls.is_some(), "terminatingTLS"),
                            (pr.originating_tls.is_some(), "originatingTLS"),
                            (pr.server_names.is_some(), "serverNames"),
                            (pr.listener.is_some(), "listener"),
                        ],
                        problems,
                    );
                    let ports = port_list(pr.ports.as_deref(), &pf, problems);
                    let http = pr
                        .rules
                        .as_ref()
                        .and_then(|rules| l7(rules, &ports, &format!("{pf}.rules"), problems));
                    CompiledPortRule {
                        index: j,
                        ports,
                        http,
                    }
                })
                .collect()
        });
        allow.push(CompiledRule {
            index: i,
            peers,
            ports,
        });
    }
    let mut deny = Vec::new();
    for (i, r) in rule.ingress_deny.iter().flatten().enumerate() {
        let f = format!("{field}.ingressDeny[{i}]");
        refuse_not_emulated(
            &f,
            &[
                (r.from_requires.is_some(), "fromRequires"),
                (r.from_cidr.is_some(), "fromCIDR"),
                (r.from_cidr_set.is_some(), "fromCIDRSet"),
                (r.icmps.is_some(), "icmps"),
            ],
            problems,
        );
        let peers = peers(&r.from_endpoints, &r.from_entities, &f, namespace, problems);
        let ports = r.to_ports.as_ref().filter(|p| !p.is_empty()).map(|prs| {
            prs.iter()
                .enumerate()
                .map(|(j, pr)| CompiledPortRule {
                    index: j,
                    ports: port_list(pr.ports.as_deref(), &format!("{f}.toPorts[{j}]"), problems),
                    http: None,
                })
                .collect()
        });
        deny.push(CompiledRule {
            index: i,
            peers,
            ports,
        });
    }
    let enforces_ingress = rule.ingress.as_ref().is_some_and(|v| !v.is_empty())
        || rule.ingress_deny.as_ref().is_some_and(|v| !v.is_empty());
    (problems.len() == before).then_some(CompiledSpec {
        index,
        subject: subject?,
        enforces_ingress,
        allow,
        deny,
    })
}

fn peers(
    from_endpoints: &Option<Vec<LabelSelector>>,
    from_entities: &Option<Vec<String>>,
    field: &str,
    namespace: &str,
    problems: &mut Vec<Problem>,
) -> Option<Peers> {
    let endpoints = from_endpoints.as_deref().unwrap_or_default();
    let entities = from_entities.as_deref().unwrap_or_default();
    if endpoints.is_empty() && entities.is_empty() {
        return None;
    }
    let mut peers = Peers::default();
    for (i, sel) in endpoints.iter().enumerate() {
        let mut s = Selector::compile(sel, &format!("{field}.fromEndpoints[{i}]"), problems);
        // Cilium's rule: a peer selector is scoped to the policy's namespace unless it names
        // the namespace (or namespace labels) itself, or selects reserved identities.
        let names_namespace =
            s.names_key(NAMESPACE_LABEL) || s.names_key_prefix(NAMESPACE_LABELS_PREFIX);
        if !names_namespace && !s.names_other_source() {
            s.add_k8s_match(NAMESPACE_LABEL, namespace);
        }
        peers.endpoints.push(s);
    }
    for (i, e) in entities.iter().enumerate() {
        match e.as_str() {
            "all" | "cluster" => peers.any_pod = true,
            other if ENTITIES.contains(&other) => {}
            other => problems.push(Problem::new(
                &format!("{field}.fromEntities[{i}]"),
                format!(
                    "unknown entity {other:?}: want one of {}",
                    ENTITIES.join(", ")
                ),
            )),
        }
    }
    Some(peers)
}

fn port_list(
    ports: Option<&[PortProtocol]>,
    field: &str,
    problems: &mut Vec<Problem>,
) -> Vec<PortMatch> {
    let ports = ports.unwrap_or_default();
    if ports.is_empty() {
        problems.push(Problem::new(
            &format!("{field}.ports"),
            "missing: name at least one port (\"0\" means every port)",
        ));
    }
    let mut out = Vec::new();
    for (i, p) in ports.iter().enumerate() {
        let f = format!("{field}.ports[{i}]");
        let protocol = match p.protocol.as_deref() {
            None | Some("ANY") => None,
            Some(s) => match Protocol::parse(s) {
                Some(proto) => Some(proto),
                None => {
                    problems.push(Problem::new(
                        &format!("{f}.protocol"),
                        format!("{s:?} is not TCP, UDP, SCTP or ANY"),
                    ));
                    continue;
                }
            },
        };
        let port = if p.port.bytes().all(|b| b.is_ascii_digit()) && !p.port.is_empty() {
            match p.port.parse::<u16>() {
                Ok(0) => PortNumber::Any,
                Ok(n) => PortNumber::Number(n),
                Err(_) => {
                    problems.push(Problem::new(
                        &format!("{f}.port"),
                        format!("{:?} is not a port number (0-65535)", p.port),
                    ));
                    continue;
                }
            }
        } else if is_port_name(&p.port) {
            PortNumber::Named(p.port.clone())
        } else {
            problems.push(Problem::new(
                &format!("{f}.port"),
                format!(
                    "{:?} is neither a port number nor a port name (at most 15 letters, digits and '-', with a letter)",
                    p.port
                ),
            ));
            continue;
        };
        out.push(PortMatch { port, protocol });
    }
    out
}

/// An IANA service name, as Kubernetes names container ports.
fn is_port_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 15
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && s.bytes().any(|b| b.is_ascii_alphabetic())
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

fn l7(
    rules: &L7Rules,
    ports: &[PortMatch],
    field: &str,
    problems: &mut Vec<Problem>,
) -> Option<Arc<[CompiledHttpRule]>> {
    refuse_not_emulated(
        field,
        &[
            (rules.kafka.is_some(), "kafka"),
            (rules.dns.is_some(), "dns"),
            (rules.l7proto.is_some(), "l7proto"),
            (rules.l7.is_some(), "l7"),
        ],
        problems,
    );
    // As in Cilium, `rules: {}` or `http: []` leave the port at L4 only.
    let http = rules.http.as_deref().filter(|h| !h.is_empty())?;
    if let Some(p) = ports
        .iter()
        .find(|p| matches!(p.protocol, Some(Protocol::Udp | Protocol::Sctp)))
    {
        problems.push(Problem::new(
            field,
            format!(
                "HTTP rules apply to TCP only, not {}",
                p.protocol.map(Protocol::as_str).unwrap_or("ANY")
            ),
        ));
    }
    let compiled: Vec<_> = http
        .iter()
        .enumerate()
        .filter_map(|(i, r)| CompiledHttpRule::compile(r, &format!("{field}.http[{i}]"), problems))
        .collect();
    Some(compiled.into())
}
