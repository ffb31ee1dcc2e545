//! The Cilium policy engine: a pure function of (policies, flow) -> verdict, with no sockets and
//! no runtime, so the proxy calls it per connection and per request and tests call it directly.
//!
//! Compile each policy once ([`CompiledPolicy::compile`], also done by the manifest loader), put
//! them in a [`PolicySet`], then ask [`PolicySet::connection`] for a connection (source endpoint,
//! destination endpoint, destination container port, protocol) and, when it is allowed with L7
//! rules, [`ConnectionVerdict::http`] for each request on it. Every verdict names the policy and
//! rule that decided, or says that the default decided. The semantics are DESIGN.md's
//! "Cilium semantics that galaxia emulates" (Cilium 1.15, ingress only).

mod compile;
mod endpoint;
mod http;
mod selector;

use std::fmt;
use std::sync::Arc;

pub use compile::{CompileErrors, CompiledPolicy, PolicyId, Problem};
pub use endpoint::{Endpoint, NAMESPACE_LABEL, NamedPort, Protocol};
pub use http::HttpRequest;
pub use selector::Selector;

use compile::{CompiledPortRule, CompiledRule, PortNumber};
use http::CompiledHttpRule;

/// The four answers, named as the CLI and flows print them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The connection is accepted (L3/L4).
    Allowed,
    /// The connection is dropped silently (L3/L4): the client times out.
    Dropped,
    /// The HTTP request goes through to the server.
    Forwarded,
    /// The HTTP request gets the proxy's 403 `Access denied`.
    Denied,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allowed => "allowed",
            Verdict::Dropped => "dropped",
            Verdict::Forwarded => "forwarded",
            Verdict::Denied => "denied",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    Ingress,
    IngressDeny,
}

/// The rule that decided: a policy and the YAML path of the rule inside it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RuleRef {
    pub policy: Arc<PolicyId>,
    /// `None` for `spec`, `Some(i)` for `specs[i]`.
    pub spec: Option<usize>,
    pub section: Section,
    pub rule: usize,
    pub to_ports: Option<usize>,
    pub http: Option<usize>,
}

impl RuleRef {
    /// The rule's place in the policy, as a YAML path: `spec.ingress[0].toPorts[0].rules.http[1]`.
    pub fn path(&self) -> String {
        let mut s = match self.spec {
            None => "spec".to_string(),
            Some(i) => format!("specs[{i}]"),
        };
        let section = match self.section {
            Section::Ingress => "ingress",
            Section::IngressDeny => "ingressDeny",
        };
        s.push_str(&format!(".{section}[{}]", self.rule));
        if let Some(p) = self.to_ports {
            s.push_str(&format!(".toPorts[{p}]"));
        }
        if let Some(h) = self.http {
            s.push_str(&format!(".rules.http[{h}]"));
        }
        s
    }
}

impl fmt::Display for RuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.policy, self.path())
    }
}

/// Why a connection got its verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionReason {
    /// No policy with an ingress section selects the destination: everything is allowed.
    NotSelected,
    /// An ingress rule allows it.
    AllowedBy(RuleRef),
    /// An ingressDeny rule matches (it wins over any allow).
    DeniedBy(RuleRef),
    /// The destination is in ingress default deny (because of this policy) and no rule allows.
    DefaultDeny { selected_by: Arc<PolicyId> },
}

/// The HTTP rules that apply to one allowed connection.
#[derive(Debug, Clone, Default)]
pub struct L7Filter {
    sources: Vec<(RuleRef, Arc<[CompiledHttpRule]>)>,
}

impl L7Filter {
    /// The `toPorts` entries whose HTTP rules apply (their union decides).
    pub fn rules(&self) -> impl Iterator<Item = &RuleRef> {
        self.sources.iter().map(|(r, _)| r)
    }
}

/// The verdict for a connection.
#[derive(Debug, Clone)]
pub struct ConnectionVerdict {
    /// [`Verdict::Allowed`] or [`Verdict::Dropped`].
    pub verdict: Verdict,
    pub reason: ConnectionReason,
    /// `Some` when HTTP requests on this connection are filtered at L7.
    pub l7: Option<L7Filter>,
}

/// Why a request got its verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpReason {
    /// The connection itself was dropped; no request gets through.
    ConnectionDropped,
    /// No L7 rule applies to this peer and port: every request is forwarded.
    NoL7Rules,
    /// This HTTP rule matches the request.
    AllowedBy(RuleRef),
    /// L7 rules apply (the first of them is named) and none matches.
    DefaultDeny { rules_of: RuleRef },
}

#[derive(Debug, Clone)]
pub struct HttpVerdict {
    /// [`Verdict::Forwarded`], [`Verdict::Denied`], or [`Verdict::Dropped`] when the connection was.
    pub verdict: Verdict,
    pub reason: HttpReason,
}

impl HttpVerdict {
    /// The deciding policy, if a policy decided.
    pub fn policy(&self) -> Option<&PolicyId> {
        match &self.reason {
            HttpReason::AllowedBy(r) | HttpReason::DefaultDeny { rules_of: r } => Some(&r.policy),
            HttpReason::ConnectionDropped | HttpReason::NoL7Rules => None,
        }
    }

    /// One sentence for humans.
    pub fn explain(&self, req: &HttpRequest<'_>) -> String {
        match &self.reason {
            HttpReason::ConnectionDropped => {
                "the connection is dropped: no request gets through".into()
            }
            HttpReason::NoL7Rules => {
                "no L7 rule applies to this peer and port: every request is forwarded".into()
            }
            HttpReason::AllowedBy(r) => format!("forwarded by {r}"),
            HttpReason::DefaultDeny { rules_of } => format!(
                "default deny at L7: no HTTP rule of {} allows {} {}",
                rules_of.policy, req.method, req.path
            ),
        }
    }
}

impl ConnectionVerdict {
    pub fn is_allowed(&self) -> bool {
        self.verdict == Verdict::Allowed
    }

    /// The deciding policy, if a policy decided.
    pub fn policy(&self) -> Option<&PolicyId> {
        match &self.reason {
            ConnectionReason::NotSelected => None,
            ConnectionReason::AllowedBy(r) | ConnectionReason::DeniedBy(r) => Some(&r.policy),
            ConnectionReason::DefaultDeny { selected_by } => Some(selected_by),
        }
    }

    /// One sentence for humans.
    pub fn explain(&self, src: &Endpoint, dst: &Endpoint, port: u16, protocol: Protocol) -> String {
        match &self.reason {
            ConnectionReason::NotSelected => format!(
                "no policy with an ingress section selects {dst}: every connection to it is allowed"
            ),
            ConnectionReason::AllowedBy(r) => {
                let mut s = format!("allowed by {r}");
                if let Some(l7) = &self.l7 {
                    let rules: Vec<String> = l7.rules().map(|r| r.to_string()).collect();
                    s.push_str(&format!(
                        "; HTTP requests are filtered by {}",
                        rules.join(", ")
                    ));
                }
                s
            }
            ConnectionReason::DeniedBy(r) => {
                format!("denied by {r} (ingressDeny wins over any allow)")
            }
            ConnectionReason::DefaultDeny { selected_by } => format!(
                "default deny: no rule allows {src} -> {dst} on {port}/{protocol} ({dst} is selected by {selected_by}, which has an ingress section)"
            ),
        }
    }

    /// Decide one HTTP request on this connection. Allocation-free.
    pub fn http(&self, req: &HttpRequest<'_>) -> HttpVerdict {
        if !self.is_allowed() {
            return HttpVerdict {
                verdict: Verdict::Dropped,
                reason: HttpReason::ConnectionDropped,
            };
        }
        let Some(l7) = &self.l7 else {
            return HttpVerdict {
                verdict: Verdict::Forwarded,
                reason: HttpReason::NoL7Rules,
            };
        };
        for (rule, https) in &l7.sources {
            if let Some(i) = https.iter().position(|h| h.matches(req)) {
                return HttpVerdict {
                    verdict: Verdict::Forwarded,
                    reason: HttpReason::AllowedBy(RuleRef {
                        http: Some(i),
                        ..rule.clone()
                    }),
                };
            }
        }
        let rules_of = l7
            .sources
            .first()
            .map(|(r, _)| r.clone())
            .unwrap_or_else(unreachable_rule);
        HttpVerdict {
            verdict: Verdict::Denied,
            reason: HttpReason::DefaultDeny { rules_of },
        }
    }
}

/// An `L7Filter` is only built with at least one source; this keeps `http` total anyway.
fn unreachable_rule() -> RuleRef {
    RuleRef {
        policy: Arc::new(PolicyId {
            namespace: String::new(),
            name: String::new(),
        }),
        spec: None,
        section: Section::Ingress,
        rule: 0,
        to_ports: None,
        http: None,
    }
}

/// A set of compiled policies, ordered by namespace and name so that the rule named in a verdict
/// does not depend on load order.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    policies: Vec<Arc<CompiledPolicy>>,
}

impl PolicySet {
    pub fn new(policies: impl IntoIterator<Item = Arc<CompiledPolicy>>) -> PolicySet {
        let mut policies: Vec<_> = policies.into_iter().collect();
        policies.sort_by(|a, b| a.id.cmp(&b.id));
        PolicySet { policies }
    }

    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    pub fn policies(&self) -> &[Arc<CompiledPolicy>] {
        &self.policies
    }

    /// True when `dst` is in ingress default deny (some policy with an ingress section selects it).
    pub fn enforces_ingress(&self, dst: &Endpoint) -> bool {
        self.selecting(dst).any(|(_, spec)| spec.enforces_ingress)
    }

    fn selecting<'a>(
        &'a self,
        dst: &'a Endpoint,
    ) -> impl Iterator<Item = (&'a Arc<CompiledPolicy>, &'a compile::CompiledSpec)> + 'a {
        self.policies
            .iter()
            .filter(move |p| p.id.namespace == dst.namespace)
            .flat_map(|p| p.specs.iter().map(move |s| (p, s)))
            .filter(move |(_, s)| s.subject.matches(&dst.labels))
    }

    /// Decide a connection from `src` to `dst` on the destination's container `port`.
    pub fn connection(
        &self,
        src: &Endpoint,
        dst: &Endpoint,
        port: u16,
        protocol: Protocol,
    ) -> ConnectionVerdict {
        let mut enforced_by: Option<&Arc<PolicyId>> = None;
        for (policy, spec) in self.selecting(dst) {
            if spec.enforces_ingress && enforced_by.is_none() {
                enforced_by = Some(&policy.id);
            }
        }
        let Some(enforced_by) = enforced_by else {
            return ConnectionVerdict {
                verdict: Verdict::Allowed,
                reason: ConnectionReason::NotSelected,
                l7: None,
            };
        };
        // ingressDeny first: it wins over every allow.
        for (policy, spec) in self.selecting(dst) {
            for rule in &spec.deny {
                if let Some(to_ports) = rule_matches(rule, src, dst, port, protocol).next() {
                    return ConnectionVerdict {
                        verdict: Verdict::Dropped,
                        reason: ConnectionReason::DeniedBy(RuleRef {
                            policy: policy.id.clone(),
                            spec: spec.index,
                            section: Section::IngressDeny,
                            rule: rule.index,
                            to_ports: to_ports.map(|p| p.index),
                            http: None,
                        }),
                        l7: None,
                    };
                }
            }
        }
        let mut l7 = L7Filter::default();
        let mut first_l7: Option<RuleRef> = None;
        for (policy, spec) in self.selecting(dst) {
            for rule in &spec.allow {
                for to_ports in rule_matches(rule, src, dst, port, protocol) {
                    let by = RuleRef {
                        policy: policy.id.clone(),
                        spec: spec.index,
                        section: Section::Ingress,
                        rule: rule.index,
                        to_ports: to_ports.map(|p| p.index),
                        http: None,
                    };
                    match to_ports.and_then(|p| p.http.as_ref()) {
                        // A plain allow for this peer and port cancels L7 filtering for it.
                        None => {
                            return ConnectionVerdict {
                                verdict: Verdict::Allowed,
                                reason: ConnectionReason::AllowedBy(by),
                                l7: None,
                            };
                        }
                        Some(http) => {
                            first_l7.get_or_insert_with(|| by.clone());
                            l7.sources.push((by, http.clone()));
                        }
                    }
                }
            }
        }
        match first_l7 {
            Some(by) => ConnectionVerdict {
                verdict: Verdict::Allowed,
                reason: ConnectionReason::AllowedBy(by),
                l7: Some(l7),
            },
            None => ConnectionVerdict {
                verdict: Verdict::Dropped,
                reason: ConnectionReason::DefaultDeny {
                    selected_by: enforced_by.clone(),
                },
                l7: None,
            },
        }
    }
}

/// The ways `rule` matches this connection: `None` for a rule without L4 part (every port), or
/// each `toPorts` entry that covers the port. Empty when the rule does not match. Allocation-free:
/// this runs for every rule on every connection.
fn rule_matches<'a>(
    rule: &'a CompiledRule,
    src: &'a Endpoint,
    dst: &'a Endpoint,
    port: u16,
    protocol: Protocol,
) -> impl Iterator<Item = Option<&'a CompiledPortRule>> + 'a {
    let peer_ok = match &rule.peers {
        None => rule.ports.is_some(),
        Some(peers) => peers.any_pod || peers.endpoints.iter().any(|s| s.matches(&src.labels)),
    };
    let every_port = peer_ok && rule.ports.is_none();
    let port_rules = match &rule.ports {
        Some(rules) if peer_ok => rules.as_slice(),
        _ => &[],
    };
    std::iter::once(None).filter(move |_| every_port).chain(
        port_rules
            .iter()
            .filter(move |pr| {
                pr.ports
                    .iter()
                    .any(|m| port_matches(m, dst, port, protocol))
            })
            .map(Some),
    )
}

fn port_matches(m: &compile::PortMatch, dst: &Endpoint, port: u16, protocol: Protocol) -> bool {
    if m.protocol.is_some_and(|p| p != protocol) {
        return false;
    }
    match &m.port {
        PortNumber::Any => true,
        PortNumber::Number(n) => *n == port,
        PortNumber::Named(name) => dst
            .named_port(name)
            .any(|p| p.port == port && p.protocol == protocol),
    }
}
