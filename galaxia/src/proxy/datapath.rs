//! What Cilium's datapath would report for the traffic a pod's proxy carries, as Hubble flows.
//!
//! The proxy sees HTTP requests on client connections; Cilium sees packets. Each client
//! connection to a backend is one TCP connection here (a *leg*), and the events Cilium 1.15 emits
//! for it with its default monitor aggregation (`medium`) are synthesised at the moments the
//! packets would flow: on its first request the policy verdict (when a policy selects the
//! destination), then either the drop of the SYN (and of each retransmission while the client
//! waits) or the handshake (`SYN`, `SYN, ACK`, `ACK`); with each request and answer an
//! `ACK, PSH` trace each way, reported again only once the aggregation interval has passed; and
//! when the client closes, `ACK, FIN` each way and the last `ACK`. Packets towards a port that an
//! L7 rule redirects are traced `to-proxy`, and the proxy's HTTP records follow them.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use politica::{ConnectionReason, MatchType};

use crate::flows::flow::{
    Decided, Direction, DropReason, Event, Flow, Http, ObservationPoint, PolicyRef, ServiceRef,
    TcpFlags, Verdict,
};
use crate::state::{Cluster, Pod, PodId};

/// Cilium's `bpf.monitorInterval`: a direction whose flags are all known is reported again after
/// this long.
const MONITOR_INTERVAL: Duration = Duration::from_secs(5);

/// One direction's aggregation state.
#[derive(Debug, Clone, Copy)]
struct Seen {
    flags: TcpFlags,
    at: Instant,
}

impl Seen {
    fn new() -> Seen {
        Seen {
            flags: TcpFlags::default(),
            at: Instant::now(),
        }
    }

    /// True when a packet with `flags` is reported under `medium` aggregation.
    fn report(&mut self, flags: TcpFlags) -> bool {
        let now = Instant::now();
        let due = flags.new_since(self.flags) || now.duration_since(self.at) >= MONITOR_INTERVAL;
        if due {
            self.flags = self.flags.union(flags);
            self.at = now;
        }
        due
    }
}

/// The state of one TCP connection from a client to a backend.
#[derive(Debug, Clone)]
struct LegState {
    dst: PodId,
    port: u16,
    service: Option<Arc<ServiceRef>>,
    /// Established (the handshake went through); false after a drop.
    open: bool,
    /// Whether the last request's port was redirected to the L7 proxy: the client's close goes
    /// where its other packets went.
    redirected: bool,
    forward: Seen,
    reply: Seen,
}

/// A client's TCP connection to its pod's proxy, and the connections it carries to backends.
#[derive(Debug)]
pub struct ClientConn {
    pub src: PodId,
    pub client_port: u16,
    legs: Mutex<Vec<LegState>>,
}

/// How a request's connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegPhase {
    /// The first request: its packets open the connection.
    New,
    /// The connection is established.
    Open,
}

impl ClientConn {
    pub fn new(src: PodId, client_port: u16) -> ClientConn {
        ClientConn {
            src,
            client_port,
            legs: Mutex::new(Vec::new()),
        }
    }

    fn with_leg<R>(&self, dst: PodId, port: u16, f: impl FnOnce(&mut LegState) -> R) -> R {
        let mut legs = self.legs.lock().unwrap_or_else(|p| p.into_inner());
        let i = match legs.iter().position(|l| l.dst == dst && l.port == port) {
            Some(i) => i,
            None => {
                legs.push(LegState {
                    dst,
                    port,
                    service: None,
                    open: false,
                    redirected: false,
                    forward: Seen::new(),
                    reply: Seen::new(),
                });
                legs.len() - 1
            }
        };
        f(&mut legs[i])
    }

    /// The pod and container port this connection's requests through `service` went to, while
    /// that connection is open: a kept-alive connection to a Service stays on its backend, as on
    /// Cilium, whose load balancer translates the Service's address once, when the client connects.
    pub fn bound_to(&self, service: &Arc<ServiceRef>) -> Option<(PodId, u16)> {
        let legs = self.legs.lock().unwrap_or_else(|p| p.into_inner());
        legs.iter()
            .find(|l| l.open && l.service.as_ref().is_some_and(|s| Arc::ptr_eq(s, service)))
            .map(|l| (l.dst, l.port))
    }

    /// Whether the connection to `dst:port` is new or established.
    pub fn phase(&self, dst: PodId, port: u16) -> LegPhase {
        self.with_leg(dst, port, |l| {
            if l.open {
                LegPhase::Open
            } else {
                LegPhase::New
            }
        })
    }

    /// The events of the client's close: each established connection ends with `ACK, FIN` each
    /// way and the last `ACK`.
    pub fn closed(&self, cluster: &Cluster) {
        let legs = std::mem::take(&mut *self.legs.lock().unwrap_or_else(|p| p.into_inner()));
        for l in legs.into_iter().filter(|l| l.open) {
            let leg = Leg {
                cluster,
                conn: self,
                dst: cluster.pod(l.dst),
                port: l.port,
                service: l.service,
            };
            let point = entry_point(l.redirected);
            leg.push_forward(point, TcpFlags::ACK_FIN);
            leg.push_reply(TcpFlags::ACK_FIN);
            leg.push_forward(point, TcpFlags::ACK);
        }
    }
}

/// One connection's events, from `conn`'s client to container `port` of `dst`.
pub struct Leg<'a> {
    pub cluster: &'a Cluster,
    pub conn: &'a ClientConn,
    pub dst: &'a Pod,
    pub port: u16,
    pub service: Option<Arc<ServiceRef>>,
}

impl Leg<'_> {
    fn src(&self) -> &Pod {
        self.cluster.pod(self.conn.src)
    }

    /// A flow of a packet from the client to the backend, observed at the backend.
    fn forward(&self, verdict: Verdict, event: Event, is_reply: Option<bool>) -> Flow {
        Flow {
            seq: 0,
            time: SystemTime::now(),
            uuid: rand::random(),
            verdict,
            event,
            source: self.src().peer(self.conn.client_port),
            destination: self.dst.peer(self.port),
            direction: Direction::Ingress,
            is_reply,
            node: Arc::clone(&self.dst.info.node),
            destination_service: self.service.clone(),
            allowed_by: None,
            reason: None,
        }
    }

    fn push_forward(&self, point: ObservationPoint, flags: TcpFlags) {
        if !self.cluster.flows.enabled() {
            return;
        }
        let f = self.forward(
            Verdict::Forwarded,
            Event::Trace { point, flags },
            Some(false),
        );
        self.cluster.flows.push(f);
    }

    /// A packet back to the client, observed at the client (`to-endpoint`, a reply).
    fn push_reply(&self, flags: TcpFlags) {
        if !self.cluster.flows.enabled() {
            return;
        }
        let f = Flow {
            seq: 0,
            time: SystemTime::now(),
            uuid: rand::random(),
            verdict: Verdict::Forwarded,
            event: Event::Trace {
                point: ObservationPoint::ToEndpoint,
                flags,
            },
            source: self.dst.peer(self.port),
            destination: self.src().peer(self.conn.client_port),
            direction: Direction::Egress,
            is_reply: Some(true),
            node: Arc::clone(&self.src().info.node),
            destination_service: None,
            allowed_by: None,
            reason: None,
        };
        self.cluster.flows.push(f);
    }

    /// The policy verdict on a new connection (or on a denied packet of an established one).
    pub fn policy_verdict(
        &self,
        flags: TcpFlags,
        allowed: bool,
        redirected: bool,
        match_type: MatchType,
        reason: &ConnectionReason,
        allowed_by: Option<PolicyRef>,
    ) {
        if !self.cluster.flows.enabled() {
            return;
        }
        let verdict = match (allowed, redirected) {
            (false, _) => Verdict::Dropped,
            (true, true) => Verdict::Redirected,
            (true, false) => Verdict::Forwarded,
        };
        let mut f = self.forward(
            verdict,
            Event::PolicyVerdict { match_type, flags },
            allowed.then_some(false),
        );
        f.allowed_by = allowed_by;
        f.reason = Some(Decided::Connection(reason.clone()));
        self.cluster.flows.push(f);
    }

    /// A packet dropped by policy (`Policy denied DROPPED`): its direction is unknown to Hubble.
    pub fn drop(&self, flags: TcpFlags, reason: &ConnectionReason) {
        if !self.cluster.flows.enabled() {
            return;
        }
        let mut f = self.forward(
            Verdict::Dropped,
            Event::Drop {
                reason: DropReason::PolicyDenied,
                flags,
            },
            None,
        );
        f.reason = Some(Decided::Connection(reason.clone()));
        self.cluster.flows.push(f);
    }

    /// The handshake of a connection the policy lets through.
    pub fn open(&self, redirected: bool) {
        let point = entry_point(redirected);
        self.conn.with_leg(self.dst.id, self.port, |l| {
            l.open = true;
            l.redirected = redirected;
            l.service = self.service.clone();
            l.forward.report(TcpFlags::SYN_ACK);
            l.reply.report(TcpFlags::SYN_ACK);
        });
        self.push_forward(point, TcpFlags::SYN);
        self.push_reply(TcpFlags::SYN_ACK);
        self.push_forward(point, TcpFlags::ACK);
    }

    /// A request's packet towards the backend, reported as aggregation allows.
    pub fn request_sent(&self, redirected: bool) {
        let due = self.conn.with_leg(self.dst.id, self.port, |l| {
            l.redirected = redirected;
            l.forward.report(TcpFlags::ACK_PSH)
        });
        if due {
            self.push_forward(entry_point(redirected), TcpFlags::ACK_PSH);
        }
    }

    /// An answer's packet back to the client, reported as aggregation allows.
    pub fn answer_sent(&self) {
        let due = self.conn.with_leg(self.dst.id, self.port, |l| {
            l.reply.report(TcpFlags::ACK_PSH)
        });
        if due {
            self.push_reply(TcpFlags::ACK_PSH);
        }
    }

    /// The proxy's record of an HTTP request (forwarded, or denied by the L7 rules).
    pub fn http_request(&self, http: Http, forwarded: bool, reason: Decided) {
        let verdict = if forwarded {
            Verdict::Forwarded
        } else {
            Verdict::Dropped
        };
        let mut f = self.forward(verdict, Event::L7(Box::new(http)), Some(false));
        f.reason = Some(reason);
        self.cluster.flows.push(f);
    }

    /// The proxy's record of the answer: from the server to the client, a reply.
    pub fn http_response(&self, http: Http) {
        let mut f = self.forward(Verdict::Forwarded, Event::L7(Box::new(http)), Some(true));
        std::mem::swap(&mut f.source, &mut f.destination);
        self.cluster.flows.push(f);
    }
}

/// Where the client's packets enter: the endpoint, or the L7 proxy when a rule redirects them.
fn entry_point(redirected: bool) -> ObservationPoint {
    if redirected {
        ObservationPoint::ToProxy
    } else {
        ObservationPoint::ToEndpoint
    }
}

/// When Linux sends a packet again that got no answer: a SYN after 1 s, 3 s, 7 s, ... (the
/// initial RTO of 1 s, doubling, `tcp_syn_retries` 6); data after 200 ms, doubling from there
/// (the minimum RTO), up to two minutes apart.
pub fn retransmissions(syn: bool) -> impl Iterator<Item = Duration> {
    let (first, count) = if syn {
        (Duration::from_secs(1), 6)
    } else {
        (Duration::from_millis(200), 15)
    };
    let cap = Duration::from_secs(120);
    (0..count).scan(Duration::ZERO, move |at, i| {
        let rto = first.saturating_mul(1 << i).min(cap);
        *at += rto;
        Some(*at)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syns_are_sent_again_at_linuxs_times() {
        let at: Vec<u64> = retransmissions(true).map(|d| d.as_secs()).collect();
        assert_eq!(at, [1, 3, 7, 15, 31, 63]);
        let data: Vec<u128> = retransmissions(false)
            .take(4)
            .map(|d| d.as_millis())
            .collect();
        assert_eq!(data, [200, 600, 1400, 3000]);
    }

    #[test]
    fn aggregation_reports_new_flags_and_again_after_the_interval() {
        let mut s = Seen::new();
        assert!(s.report(TcpFlags::SYN));
        assert!(s.report(TcpFlags::ACK));
        assert!(s.report(TcpFlags::ACK_PSH));
        assert!(!s.report(TcpFlags::ACK_PSH));
        s.at = Instant::now() - MONITOR_INTERVAL;
        assert!(s.report(TcpFlags::ACK_PSH));
    }
}
