//! From the kernel's events to Hubble's flows: the programs write drops, policy verdicts and
//! (aggregated) traces to the `galaxia_events` ring buffer, and this reader turns each record into
//! the same [`Flow`] the userspace datapath writes, so `galaxia observe`, the Observer API and the
//! UI work unchanged. The kernel says what happened to the packet; the policy engine, asked again
//! for the same connection, says which rule decided (Hubble's `ingress_allowed_by` and galaxia's
//! own reason). Only traffic between pods becomes flows: the node's own probes and the L7
//! proxy's connections to the pods are the host's, which the demo's flows do not show.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aya::maps::{MapData, RingBuf};
use politica::{ConnectionReason, MatchType, Protocol};
use tokio::io::unix::AsyncFd;
use tokio::sync::watch;

use super::maps::{EVENT_DROP, EVENT_POLICY_VERDICT, EVENT_TRACE, Event, PROTO_TCP, REPLY_YES};
use crate::flows::flow::{
    Decided, Direction, DropReason, Event as FlowEvent, Flow, ObservationPoint, PolicyRef,
    TcpFlags, Verdict,
};
use crate::state::{Cluster, Pod, PodId};

/// What the reader needs to name a packet's ends.
pub struct Namer {
    cluster: Arc<Cluster>,
    by_ip: HashMap<Ipv4Addr, PodId>,
    /// Wall-clock time at CLOCK_MONOTONIC zero (the kernel stamps events with the latter).
    boot: SystemTime,
}

impl Namer {
    pub fn new(cluster: Arc<Cluster>) -> Namer {
        let by_ip = cluster.pods.iter().map(|p| (p.info.ip, p.id)).collect();
        let since_boot = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
            .map(|t| Duration::new(t.tv_sec().max(0) as u64, t.tv_nsec().max(0) as u32))
            .unwrap_or_default();
        Namer {
            cluster,
            by_ip,
            boot: SystemTime::now() - since_boot,
        }
    }

    fn pod(&self, ip: Ipv4Addr) -> Option<&Pod> {
        self.by_ip.get(&ip).map(|&id| self.cluster.pod(id))
    }

    /// The flow of one kernel event; `None` for traffic not between two pods, or not TCP.
    pub fn flow(&self, e: &Event) -> Option<Flow> {
        if e.proto != PROTO_TCP {
            return None;
        }
        let src = self.pod(e.saddr)?;
        let dst = self.pod(e.daddr)?;
        let flags = TcpFlags(e.tcp_flags);
        let reply = e.kind == EVENT_TRACE && e.is_reply == REPLY_YES;
        // The connection's client and server: a reply travels from the server.
        let (client, server, server_port) = if reply {
            (dst, src, e.sport)
        } else {
            (src, dst, e.dport)
        };
        let ask = || {
            let in_force = self.cluster.policies.current();
            let v = in_force.engine.connection(
                client.endpoint,
                server.endpoint,
                server_port,
                Protocol::Tcp,
            );
            (v, in_force)
        };
        let (verdict, event, is_reply, allowed_by, reason) = match e.kind {
            EVENT_TRACE => {
                let point = if e.subtype == 1 {
                    ObservationPoint::ToProxy
                } else {
                    ObservationPoint::ToEndpoint
                };
                (
                    Verdict::Forwarded,
                    FlowEvent::Trace { point, flags },
                    Some(reply),
                    None,
                    None,
                )
            }
            EVENT_DROP => {
                let (v, _) = ask();
                (
                    Verdict::Dropped,
                    FlowEvent::Drop {
                        reason: DropReason::PolicyDenied,
                        flags,
                    },
                    None,
                    None,
                    Some(Decided::Connection(v.reason)),
                )
            }
            EVENT_POLICY_VERDICT => {
                let (v, in_force) = ask();
                let verdict = match e.verdict {
                    1 => Verdict::Forwarded,
                    2 => Verdict::Redirected,
                    _ => Verdict::Dropped,
                };
                let allowed = verdict != Verdict::Dropped;
                let allowed_by = match (&v.reason, allowed) {
                    (ConnectionReason::AllowedBy(r), true) => Some(PolicyRef {
                        id: Arc::clone(&r.policy),
                        uid: in_force
                            .uid(&r.policy)
                            .cloned()
                            .unwrap_or_else(|| Arc::from("")),
                        revision: in_force.revision,
                    }),
                    _ => None,
                };
                (
                    verdict,
                    FlowEvent::PolicyVerdict {
                        match_type: match_type(e.match_type),
                        flags,
                    },
                    allowed.then_some(false),
                    allowed_by,
                    Some(Decided::Connection(v.reason)),
                )
            }
            _ => return None,
        };
        // Observed where the packet was delivered (the server's endpoint, or the client's for a
        // reply); Hubble's direction follows from that (a reply seen at its client is egress).
        let observer = dst;
        Some(Flow {
            seq: 0,
            time: self.boot + Duration::from_nanos(e.ktime_ns),
            uuid: rand::random(),
            verdict,
            event,
            source: src.peer(e.sport),
            destination: dst.peer(e.dport),
            direction: if reply {
                Direction::Egress
            } else {
                Direction::Ingress
            },
            is_reply,
            node: Arc::clone(&observer.info.node),
            destination_service: None,
            allowed_by,
            reason,
        })
    }
}

fn match_type(n: u8) -> MatchType {
    match n {
        1 => MatchType::L3Only,
        2 => MatchType::L3L4,
        3 => MatchType::L4Only,
        4 => MatchType::All,
        _ => MatchType::None,
    }
}

/// Read the ring buffer until `shutdown` flips, writing each event's flow to the cluster's ring.
pub async fn run(
    ring: RingBuf<MapData>,
    cluster: Arc<Cluster>,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let namer = Namer::new(Arc::clone(&cluster));
    // SAFETY: the AsyncFd owns the ring buffer, which owns its map's file descriptor (an OwnedFd
    // in aya's MapData) for its whole life and always answers `as_raw_fd` with it: the
    // registration's descriptor stays open and the same until the AsyncFd is dropped.
    #[allow(unsafe_code)]
    let registered =
        unsafe { AsyncFd::register_with_interest(ring, tokio::io::Interest::READABLE) };
    let mut fd = registered.map_err(std::io::Error::from)?;
    loop {
        let mut guard = tokio::select! {
            g = fd.readable_mut() => g?,
            _ = shutdown.wait_for(|s| *s) => return Ok(()),
        };
        let ring = guard.get_inner_mut();
        while let Some(record) = ring.next() {
            if !cluster.flows.enabled() {
                continue;
            }
            if let Some(flow) = Event::decode(&record).and_then(|e| namer.flow(&e)) {
                cluster.flows.push(flow);
            }
        }
        guard.clear_ready();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test may unwrap: a panic is its failure report
mod tests {
    use super::*;
    use crate::manifest::{ApplyMode, book, load_str};

    fn cluster() -> Arc<Cluster> {
        let m = load_str(book::STARWARS, "starwars.yml").unwrap();
        let addr: std::net::SocketAddr = "127.0.0.1:9".parse().unwrap();
        let pods = m.pods().iter().map(|p| (p.clone(), addr)).collect();
        let c = Cluster::new(
            &m.cluster(),
            pods,
            m.services().to_vec(),
            Some(4095),
            SystemTime::now(),
        )
        .unwrap();
        c.policies
            .apply(book::POLITICA_L4, "test", ApplyMode::Apply)
            .unwrap();
        Arc::new(c)
    }

    fn event(c: &Cluster, kind: u8, from: &str, to: &str) -> Event {
        let (s, d) = (c.find_pod(from).unwrap(), c.find_pod(to).unwrap());
        Event {
            kind,
            subtype: if kind == EVENT_DROP { 133 } else { 0 },
            tcp_flags: 1,
            proto: PROTO_TCP,
            verdict: -1,
            match_type: 0,
            is_reply: 2,
            saddr: s.info.ip,
            daddr: d.info.ip,
            sport: 41_000,
            dport: 80,
            src_identity: s.info.identity.0,
            dst_identity: d.info.identity.0,
            endpoint: d.info.id,
            proxy_port: 0,
            len: 60,
            ktime_ns: 5_000_000_000,
        }
    }

    #[test]
    fn a_dropped_syn_reads_as_hubble_shows_it() {
        let c = cluster();
        let star = c
            .pods
            .iter()
            .find(|p| p.model.is_death_star())
            .unwrap()
            .name()
            .to_string();
        let n = Namer::new(c.clone());
        let f = n.flow(&event(&c, EVENT_DROP, "asa-x", &star)).unwrap();
        assert_eq!(f.verdict, Verdict::Dropped);
        assert_eq!(f.summary(), "TCP Flags: SYN");
        assert_eq!(f.is_reply, None);
        assert_eq!(f.source.port, 41_000);
        assert_eq!(&*f.destination.endpoint.pod, star.as_str());
        assert!(matches!(
            f.reason,
            Some(Decided::Connection(ConnectionReason::DefaultDeny { .. }))
        ));
        let v = n
            .flow(&event(&c, EVENT_POLICY_VERDICT, "asa-x", &star))
            .unwrap();
        assert!(matches!(
            v.event,
            FlowEvent::PolicyVerdict {
                match_type: MatchType::None,
                ..
            }
        ));
        assert_eq!(v.verdict, Verdict::Dropped);
    }

    #[test]
    fn an_allowed_verdict_names_the_policy_and_a_reply_is_egress() {
        let c = cluster();
        let star = c
            .pods
            .iter()
            .find(|p| p.model.is_death_star())
            .unwrap()
            .name()
            .to_string();
        let n = Namer::new(c.clone());
        let mut e = event(&c, EVENT_POLICY_VERDICT, "caca-tie", &star);
        e.verdict = 1;
        e.match_type = 2;
        let f = n.flow(&e).unwrap();
        assert_eq!(f.allowed_by.unwrap().id.name, "regra1");
        assert_eq!(f.is_reply, Some(false));
        let mut r = event(&c, EVENT_TRACE, &star, "caca-tie");
        r.is_reply = REPLY_YES;
        r.tcp_flags = 3;
        (r.sport, r.dport) = (80, 41_000);
        let f = n.flow(&r).unwrap();
        assert_eq!(f.direction, Direction::Egress);
        assert_eq!(f.is_reply, Some(true));
        assert_eq!(f.summary(), "TCP Flags: SYN, ACK");
        assert_eq!(&*f.node, &*c.find_pod("caca-tie").unwrap().info.node);
        // The node's own traffic (an unknown address) is not a flow.
        r.saddr = Ipv4Addr::new(10, 244, 1, 1);
        assert!(n.flow(&r).is_none());
    }
}
