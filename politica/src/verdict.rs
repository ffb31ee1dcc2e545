//! What the engine answers, at two levels kept apart: a connection (L3/L4: allowed or dropped)
//! and, on an allowed connection with HTTP rules, each request (L7: forwarded or denied). Every
//! answer carries a typed reason naming the policy and the rule that decided, or why no rule did;
//! flows, `policy trace`, logs and Hubble all render that same value.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::compile::PolicyId;
use crate::endpoint::{Endpoint, EndpointId, Protocol};
use crate::http::{CompiledHttpRule, HttpRequest};

/// The answer for a connection, as Cilium's datapath gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum L4Verdict {
    /// The connection is accepted.
    Allowed,
    /// Its packets are dropped silently: the client times out.
    Dropped,
}

/// The answer for one HTTP request on an allowed connection, as Cilium's Envoy gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum L7Verdict {
    /// The request goes through to the server.
    Forwarded,
    /// The request gets the proxy's 403 `Access denied`.
    Denied,
}

impl L4Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            L4Verdict::Allowed => "allowed",
            L4Verdict::Dropped => "dropped",
        }
    }
}

impl L7Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            L7Verdict::Forwarded => "forwarded",
            L7Verdict::Denied => "denied",
        }
    }
}

impl fmt::Display for L4Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for L7Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Section {
    Ingress,
    IngressDeny,
}

/// The rule that decided: a policy and the place of the rule inside it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

/// Which end of a connection the engine did not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum End {
    Source,
    Destination,
}

/// Why a connection got its verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "why", rename_all = "kebab-case")]
pub enum ConnectionReason {
    /// No policy with an ingress section selects the destination: everything is allowed.
    NotSelected,
    /// An ingress rule allows it.
    AllowedBy(RuleRef),
    /// An ingressDeny rule matches (it wins over any allow).
    DeniedBy(RuleRef),
    /// The destination is in ingress default deny (because of this policy) and no rule allows.
    DefaultDeny { selected_by: Arc<PolicyId> },
    /// An end the engine has no endpoint for: never let through, whatever the policies say.
    UnknownEndpoint { end: End, id: EndpointId },
}

/// Why a request got its verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "why", rename_all = "kebab-case")]
pub enum HttpReason {
    /// No L7 rule applies to this peer and port: every request is forwarded.
    NoL7Rules,
    /// This HTTP rule matches the request.
    AllowedBy(RuleRef),
    /// L7 rules apply (the first of them is named) and none matches.
    DefaultDeny { rules_of: RuleRef },
}

impl ConnectionReason {
    /// The deciding policy, if a policy decided.
    pub fn policy(&self) -> Option<&PolicyId> {
        match self {
            ConnectionReason::NotSelected | ConnectionReason::UnknownEndpoint { .. } => None,
            ConnectionReason::AllowedBy(r) | ConnectionReason::DeniedBy(r) => Some(&r.policy),
            ConnectionReason::DefaultDeny { selected_by } => Some(selected_by),
        }
    }

    /// The deciding rule, if a rule decided.
    pub fn rule(&self) -> Option<&RuleRef> {
        match self {
            ConnectionReason::AllowedBy(r) | ConnectionReason::DeniedBy(r) => Some(r),
            _ => None,
        }
    }
}

/// Short, for a flow line or a log field: the rule that decided, or why none did.
impl fmt::Display for ConnectionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectionReason::NotSelected => f.write_str("no policy selects the destination"),
            ConnectionReason::AllowedBy(r) => write!(f, "allowed by {r}"),
            ConnectionReason::DeniedBy(r) => write!(f, "denied by {r}"),
            ConnectionReason::DefaultDeny { selected_by } => {
                write!(f, "default deny of {selected_by}: no rule allows")
            }
            ConnectionReason::UnknownEndpoint { end, id } => {
                write!(f, "unknown {} endpoint {}", end_name(*end), id.0)
            }
        }
    }
}

impl HttpReason {
    /// The deciding policy, if a policy decided.
    pub fn policy(&self) -> Option<&PolicyId> {
        self.rule().map(|r| &*r.policy)
    }

    /// The deciding rule (for a default deny, the first of the rules that apply).
    pub fn rule(&self) -> Option<&RuleRef> {
        match self {
            HttpReason::AllowedBy(r) | HttpReason::DefaultDeny { rules_of: r } => Some(r),
            HttpReason::NoL7Rules => None,
        }
    }
}

impl fmt::Display for HttpReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpReason::NoL7Rules => f.write_str("no L7 rule applies"),
            HttpReason::AllowedBy(r) => write!(f, "forwarded by {r}"),
            HttpReason::DefaultDeny { rules_of } => {
                write!(f, "default deny at L7: no HTTP rule of {rules_of} matches")
            }
        }
    }
}

fn end_name(end: End) -> &'static str {
    match end {
        End::Source => "source",
        End::Destination => "destination",
    }
}

/// The HTTP rules that apply to one allowed connection.
#[derive(Debug, Clone, Default)]
pub struct L7Filter {
    pub(crate) sources: Vec<(RuleRef, Arc<[CompiledHttpRule]>)>,
}

impl L7Filter {
    /// The `toPorts` entries whose HTTP rules apply (their union decides).
    pub fn rules(&self) -> impl Iterator<Item = &RuleRef> {
        self.sources.iter().map(|(r, _)| r)
    }
}

/// What part of a rule matched a connection, as Cilium's policy-verdict events name it
/// (`policy-verdict:L3-L4 INGRESS ALLOWED`), with Cilium's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MatchType {
    /// Nothing matched (a denial), or no policy applies.
    None = 0,
    L3Only = 1,
    L3L4 = 2,
    L4Only = 3,
    All = 4,
}

impl MatchType {
    pub fn name(self) -> &'static str {
        match self {
            MatchType::None => "none",
            MatchType::L3Only => "L3-Only",
            MatchType::L3L4 => "L3-L4",
            MatchType::L4Only => "L4-Only",
            MatchType::All => "all",
        }
    }
}

/// The verdict for a connection.
#[derive(Debug, Clone)]
pub struct ConnectionVerdict {
    pub verdict: L4Verdict,
    pub reason: ConnectionReason,
    /// `Some` when HTTP requests on this connection are filtered at L7 (the port is redirected
    /// to the proxy, in Cilium's words).
    pub l7: Option<L7Filter>,
    /// What matched, for Hubble's policy-verdict events.
    pub match_type: MatchType,
}

/// The verdict for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpVerdict {
    pub verdict: L7Verdict,
    pub reason: HttpReason,
}

impl HttpVerdict {
    /// The deciding policy, if a policy decided.
    pub fn policy(&self) -> Option<&PolicyId> {
        self.reason.policy()
    }

    /// One sentence for humans.
    pub fn explain(&self, req: &HttpRequest<'_>) -> String {
        match &self.reason {
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

/// What `policy trace` says of a request whose connection never got through.
pub const CONNECTION_DROPPED: &str = "the connection is dropped: no request gets through";

impl ConnectionVerdict {
    pub(crate) fn dropped(reason: ConnectionReason) -> ConnectionVerdict {
        ConnectionVerdict {
            verdict: L4Verdict::Dropped,
            reason,
            l7: None,
            match_type: MatchType::None,
        }
    }

    pub fn is_allowed(&self) -> bool {
        self.verdict == L4Verdict::Allowed
    }

    /// True when a policy with an ingress section selects the destination (Cilium then emits a
    /// policy-verdict event for each new connection).
    pub fn is_enforced(&self) -> bool {
        !matches!(self.reason, ConnectionReason::NotSelected)
    }

    /// The deciding policy, if a policy decided.
    pub fn policy(&self) -> Option<&PolicyId> {
        self.reason.policy()
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
            ConnectionReason::UnknownEndpoint { end, id } => format!(
                "the {} endpoint {} is unknown to the policy engine: denied (an unknown peer is never let through)",
                end_name(*end),
                id.0
            ),
        }
    }

    /// Decide one HTTP request on this connection; `None` when the connection is dropped (no
    /// request reaches L7 then). Allocation-free.
    pub fn http(&self, req: &HttpRequest<'_>) -> Option<HttpVerdict> {
        if !self.is_allowed() {
            return None;
        }
        let Some(l7) = &self.l7 else {
            return Some(HttpVerdict {
                verdict: L7Verdict::Forwarded,
                reason: HttpReason::NoL7Rules,
            });
        };
        for (rule, https) in &l7.sources {
            if let Some(i) = https.iter().position(|h| h.matches(req)) {
                return Some(HttpVerdict {
                    verdict: L7Verdict::Forwarded,
                    reason: HttpReason::AllowedBy(RuleRef {
                        http: Some(i),
                        ..rule.clone()
                    }),
                });
            }
        }
        // An L7Filter is only built with at least one source.
        let (rules_of, _) = l7.sources.first()?;
        Some(HttpVerdict {
            verdict: L7Verdict::Denied,
            reason: HttpReason::DefaultDeny {
                rules_of: rules_of.clone(),
            },
        })
    }
}
