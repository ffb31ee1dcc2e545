//! One flow: what the galaxy's datapath saw, with the content Cilium 1.15's Hubble puts in
//! `flow.Flow` (verdict, drop reason, addresses, TCP flags, endpoints with identities and labels,
//! node, event type, direction, reply, L7 HTTP, service), and the typed policy reason that
//! decided it. The wire form is made from this on the way out (`hubble::convert`); here the
//! endpoints are shared, not copied, because a flow is written for every packet event.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::SystemTime;

use politica::{ConnectionReason, HttpReason, MatchType, NumericIdentity, PolicyId};

/// Hubble's verdicts that the galaxy produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    Forwarded,
    Dropped,
    /// A policy verdict that sends the connection to the L7 proxy.
    Redirected,
}

/// Where a trace event was observed (Cilium's datapath numbers: `to-endpoint` is 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObservationPoint {
    ToEndpoint = 0,
    ToProxy = 1,
}

/// Why a packet was dropped (Cilium's numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    PolicyDenied = 133,
}

/// TCP flags as a bit set, in the order Cilium names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    pub const SYN: TcpFlags = TcpFlags(1);
    pub const ACK: TcpFlags = TcpFlags(2);
    pub const RST: TcpFlags = TcpFlags(4);
    pub const FIN: TcpFlags = TcpFlags(8);
    pub const PSH: TcpFlags = TcpFlags(16);
    pub const SYN_ACK: TcpFlags = TcpFlags(1 | 2);
    pub const ACK_PSH: TcpFlags = TcpFlags(2 | 16);
    pub const ACK_FIN: TcpFlags = TcpFlags(2 | 8);

    pub fn has(self, f: TcpFlags) -> bool {
        self.0 & f.0 == f.0
    }

    /// Bits of `self` not in `seen`.
    pub fn new_since(self, seen: TcpFlags) -> bool {
        self.0 & !seen.0 != 0
    }

    pub fn union(self, other: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | other.0)
    }

    /// Cilium's summary text: `SYN, ACK`, `ACK, PSH`, `ACK, FIN`.
    pub fn names(self) -> String {
        let names = [
            (TcpFlags::SYN, "SYN"),
            (TcpFlags::ACK, "ACK"),
            (TcpFlags::RST, "RST"),
            (TcpFlags::FIN, "FIN"),
            (TcpFlags::PSH, "PSH"),
        ];
        names
            .iter()
            .filter(|(f, _)| self.has(*f))
            .map(|(_, n)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The direction of a flow relative to the endpoint where it was observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Ingress,
    Egress,
}

/// A pod as Hubble shows one end of a flow: built once per pod, shared by its flows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointInfo {
    /// Cilium's endpoint ID.
    pub id: u16,
    pub identity: NumericIdentity,
    pub namespace: Arc<str>,
    pub pod: Arc<str>,
    /// The identity labels, `k8s:key=value`, sorted.
    pub labels: Vec<String>,
    /// The Deployment that owns the pod, if any.
    pub workload: Option<Arc<str>>,
    pub ip: Ipv4Addr,
    /// The node the pod runs on.
    pub node: Arc<str>,
}

/// One end of a flow: an endpoint and its port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub endpoint: Arc<EndpointInfo>,
    pub port: u16,
}

/// A Service, as `destination_service` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRef {
    pub name: Arc<str>,
    pub namespace: Arc<str>,
}

/// A policy as `ingress_allowed_by` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRef {
    pub id: Arc<PolicyId>,
    /// Stable for the life of the policy object (`metadata.uid`).
    pub uid: Arc<str>,
    /// The policy repository's revision when the verdict was given.
    pub revision: u64,
}

/// An HTTP request or response, as Cilium's Envoy logs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Http {
    pub response: bool,
    pub method: Arc<str>,
    /// Absolute: `http://host/path?query`.
    pub url: Arc<str>,
    pub protocol: &'static str,
    /// The status (responses only).
    pub code: u16,
    /// Request to response (responses only).
    pub latency_ns: u64,
    /// Header names and values, sorted by name.
    pub headers: Vec<(String, String)>,
}

/// What Cilium's datapath reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A packet that went on (`to-endpoint`, `to-proxy`).
    Trace {
        point: ObservationPoint,
        flags: TcpFlags,
    },
    /// A packet that was dropped.
    Drop { reason: DropReason, flags: TcpFlags },
    /// The policy decision on a new connection (or on a denied packet).
    PolicyVerdict {
        match_type: MatchType,
        flags: TcpFlags,
    },
    /// An HTTP request or response seen by the L7 proxy.
    L7(Box<Http>),
}

/// What decided a flow: the connection's verdict, or the request's (an L7 allow or denial).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decided {
    Connection(ConnectionReason),
    Http(HttpReason),
}

impl std::fmt::Display for Decided {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Decided::Connection(r) => r.fmt(f),
            Decided::Http(r) => r.fmt(f),
        }
    }
}

/// One flow record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    /// Position in the ring since the galaxy started (set when the flow is recorded).
    pub seq: u64,
    pub time: SystemTime,
    pub uuid: u128,
    pub verdict: Verdict,
    pub event: Event,
    /// As Cilium records them: for a reply, the source is the server.
    pub source: Peer,
    pub destination: Peer,
    pub direction: Direction,
    /// `None` when unknown (drops): Hubble then prints `<>`.
    pub is_reply: Option<bool>,
    /// The node that observed it.
    pub node: Arc<str>,
    pub destination_service: Option<Arc<ServiceRef>>,
    /// The policy that allowed the connection (policy-verdict events that allowed it).
    pub allowed_by: Option<PolicyRef>,
    /// The policy and rule that decided, or why none did (galaxia's own: Hubble cannot say).
    pub reason: Option<Decided>,
}

impl Flow {
    pub fn is_drop(&self) -> bool {
        matches!(self.event, Event::Drop { .. })
    }

    /// True for an L7 request the proxy denied.
    pub fn is_l7_denial(&self) -> bool {
        matches!(&self.event, Event::L7(h) if !h.response) && self.verdict == Verdict::Dropped
    }

    /// The HTTP record, for L7 flows.
    pub fn http(&self) -> Option<&Http> {
        match &self.event {
            Event::L7(h) => Some(h),
            _ => None,
        }
    }

    /// Cilium's `Summary`: `TCP Flags: SYN`, `HTTP/1.1 POST http://...`,
    /// `HTTP/1.1 200 0ms (POST http://...)` (the latency truncated to whole milliseconds).
    pub fn summary(&self) -> String {
        match &self.event {
            Event::Trace { flags, .. }
            | Event::Drop { flags, .. }
            | Event::PolicyVerdict { flags, .. } => format!("TCP Flags: {}", flags.names()),
            Event::L7(h) if h.response => format!(
                "{} {} {}ms ({} {})",
                h.protocol,
                h.code,
                h.latency_ns / 1_000_000,
                h.method,
                h.url
            ),
            Event::L7(h) => format!("{} {} {}", h.protocol, h.method, h.url),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_read_in_ciliums_order() {
        assert_eq!(TcpFlags::SYN.names(), "SYN");
        assert_eq!(TcpFlags::SYN_ACK.names(), "SYN, ACK");
        assert_eq!(TcpFlags::ACK_PSH.names(), "ACK, PSH");
        assert_eq!(TcpFlags::ACK_FIN.names(), "ACK, FIN");
        assert!(TcpFlags::ACK_PSH.new_since(TcpFlags::SYN_ACK));
        assert!(!TcpFlags::ACK.new_since(TcpFlags::SYN_ACK));
    }
}
