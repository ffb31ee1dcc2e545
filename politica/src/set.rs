//! The policies in force, as one set: a pure function of (source endpoint, destination endpoint,
//! destination container port, protocol) to a [`ConnectionVerdict`]. The semantics are DESIGN.md's
//! "Cilium semantics that galaxia emulates" (Cilium 1.15, ingress only).

use std::sync::Arc;

use crate::compile::{
    CompiledPolicy, CompiledPortRule, CompiledRule, CompiledSpec, PolicyId, PortMatch, PortNumber,
};
use crate::endpoint::{Endpoint, Protocol};
use crate::verdict::{
    ConnectionReason, ConnectionVerdict, L4Verdict, L7Filter, MatchType, RuleRef, Section,
};

impl MatchType {
    /// What of `rule` matched: its peers (L3) unless they are every pod, its ports (L4) when the
    /// match went through a `toPorts` entry.
    fn of(rule: &CompiledRule, through_ports: bool) -> MatchType {
        let l3 = rule.peers.as_ref().is_some_and(|p| !p.any_pod);
        match (l3, through_ports) {
            (true, true) => MatchType::L3L4,
            (true, false) => MatchType::L3Only,
            (false, true) => MatchType::L4Only,
            (false, false) => MatchType::All,
        }
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

    /// Every port that a rule selecting `dst` names, resolved on `dst` (named ports become its
    /// numbers), with the protocol the rule gives (`None`: any). A port no rule names gets the
    /// same verdict as every other unnamed port, for any pair of endpoints: a datapath that
    /// compiles verdicts into tables (galaxia's eBPF maps) asks for these ports and for one
    /// unnamed port, and has every answer.
    pub fn ports(&self, dst: &Endpoint) -> std::collections::BTreeSet<(u16, Option<Protocol>)> {
        let mut out = std::collections::BTreeSet::new();
        for (_, spec) in self.selecting(dst) {
            let rules = spec.allow.iter().chain(&spec.deny);
            for pr in rules.flat_map(|r| r.ports.iter().flatten()) {
                for m in &pr.ports {
                    match &m.port {
                        PortNumber::Any => {}
                        PortNumber::Number(n) => {
                            out.insert((*n, m.protocol));
                        }
                        PortNumber::Named(name) => {
                            for p in dst.named_port(name) {
                                if m.protocol.is_none_or(|want| want == p.protocol) {
                                    out.insert((p.port, Some(p.protocol)));
                                }
                            }
                        }
                    }
                }
            }
        }
        out
    }

    fn selecting<'a>(
        &'a self,
        dst: &'a Endpoint,
    ) -> impl Iterator<Item = (&'a Arc<CompiledPolicy>, &'a CompiledSpec)> + 'a {
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
                verdict: L4Verdict::Allowed,
                reason: ConnectionReason::NotSelected,
                l7: None,
                match_type: MatchType::None,
            };
        };
        // ingressDeny first: it wins over every allow.
        for (policy, spec) in self.selecting(dst) {
            for rule in &spec.deny {
                if let Some(to_ports) = rule_matches(rule, src, dst, port, protocol).next() {
                    return ConnectionVerdict::dropped(ConnectionReason::DeniedBy(RuleRef {
                        policy: policy.id.clone(),
                        spec: spec.index,
                        section: Section::IngressDeny,
                        rule: rule.index,
                        to_ports: to_ports.map(|p| p.index),
                        http: None,
                    }));
                }
            }
        }
        let mut l7 = L7Filter::default();
        let mut first_l7: Option<(RuleRef, MatchType)> = None;
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
                    let match_type = MatchType::of(rule, to_ports.is_some());
                    match to_ports.and_then(|p| p.http.as_ref()) {
                        // A plain allow for this peer and port cancels L7 filtering for it.
                        None => {
                            return ConnectionVerdict {
                                verdict: L4Verdict::Allowed,
                                reason: ConnectionReason::AllowedBy(by),
                                l7: None,
                                match_type,
                            };
                        }
                        Some(http) => {
                            first_l7.get_or_insert_with(|| (by.clone(), match_type));
                            l7.sources.push((by, http.clone()));
                        }
                    }
                }
            }
        }
        match first_l7 {
            Some((by, match_type)) => ConnectionVerdict {
                verdict: L4Verdict::Allowed,
                reason: ConnectionReason::AllowedBy(by),
                l7: Some(l7),
                match_type,
            },
            None => ConnectionVerdict::dropped(ConnectionReason::DefaultDeny {
                selected_by: enforced_by.clone(),
            }),
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

fn port_matches(m: &PortMatch, dst: &Endpoint, port: u16, protocol: Protocol) -> bool {
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
