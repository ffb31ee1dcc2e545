//! The policy map, compiled from the policy engine's own answers: for each local endpoint, each
//! remote identity, each port the endpoint's rules name and one port they do not (which stands
//! for every other port), the engine's verdict on the connection becomes an entry: allow, deny, or
//! redirect to the L7 proxy (the port has HTTP rules for that peer). The engine is the one both
//! datapaths ask, so the kernel enforces exactly what `galaxia policy trace` explains; the L7
//! proxy asks it again for the HTTP rules of each request.

use std::collections::{BTreeMap, BTreeSet};

use politica::{ConnectionVerdict, EndpointId, Engine, MatchType, Protocol};

use super::maps::{
    PROTO_ANY, PROTO_TCP, PROTO_UDP, PolicyKey, PolicyVal, VERDICT_ALLOW, VERDICT_DENY,
    VERDICT_REDIRECT,
};
use crate::state::Cluster;

/// What the maps must hold for the policies in force.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Compiled {
    /// Endpoints in ingress default deny (a policy with an ingress section selects them).
    pub enforced: BTreeSet<u16>,
    pub entries: BTreeMap<PolicyKey, PolicyVal>,
}

fn proto_number(p: Protocol) -> u8 {
    match p {
        Protocol::Tcp => PROTO_TCP,
        Protocol::Udp => PROTO_UDP,
        Protocol::Sctp => 132,
    }
}

fn entry(v: &ConnectionVerdict, proxy_port: u16) -> PolicyVal {
    let verdict = match (v.is_allowed(), v.l7.is_some()) {
        (false, _) => VERDICT_DENY,
        (true, true) => VERDICT_REDIRECT,
        (true, false) => VERDICT_ALLOW,
    };
    PolicyVal {
        verdict,
        match_type: v.match_type as u8,
        proxy_port: if verdict == VERDICT_REDIRECT {
            proxy_port
        } else {
            0
        },
        packets: 0,
        bytes: 0,
    }
}

/// The entries for the policies of `engine`, over the pods of `cluster`; redirected ports go to
/// the proxy listening on `proxy_port` in each node.
pub fn compile(cluster: &Cluster, engine: &Engine, proxy_port: u16) -> Compiled {
    // One representative pod per identity: the engine decides on identity labels, which the
    // replicas of a Deployment share.
    let mut sources: BTreeMap<u32, EndpointId> = BTreeMap::new();
    for p in &cluster.pods {
        sources.entry(p.info.identity.0).or_insert(p.endpoint);
    }
    let mut out = Compiled::default();
    for dst in &cluster.pods {
        let Some((_, &any_src)) = sources.iter().next() else {
            break;
        };
        // Whether the endpoint is selected depends on it alone, not on the peer or the port.
        if !engine
            .connection(any_src, dst.endpoint, 1, Protocol::Tcp)
            .is_enforced()
        {
            continue;
        }
        let ep = dst.endpoint.0;
        out.enforced.insert(ep);
        let named = engine.ports(dst.endpoint);
        for (&identity, &src) in &sources {
            let mut l3_only = false;
            for proto in [Protocol::Tcp, Protocol::Udp] {
                let ports: BTreeSet<u16> = named
                    .iter()
                    .filter(|(_, p)| p.is_none_or(|p| p == proto))
                    .map(|(n, _)| *n)
                    .collect();
                for &port in &ports {
                    let v = engine.connection(src, dst.endpoint, port, proto);
                    out.entries.insert(
                        PolicyKey {
                            endpoint: ep,
                            identity,
                            dport: port,
                            proto: proto_number(proto),
                        },
                        entry(&v, proxy_port),
                    );
                }
                // Any port no rule names answers as this one does.
                let unnamed = (1..=u16::MAX).find(|p| !ports.contains(p)).unwrap_or(0);
                let v = engine.connection(src, dst.endpoint, unnamed, proto);
                if proto == Protocol::Tcp {
                    l3_only = v.is_allowed()
                        && v.l7.is_none()
                        && matches!(v.match_type, MatchType::L3Only | MatchType::All);
                }
                out.entries.insert(
                    PolicyKey {
                        endpoint: ep,
                        identity,
                        dport: 0,
                        proto: proto_number(proto),
                    },
                    entry(&v, proxy_port),
                );
            }
            // A rule without ports allows every protocol (ICMP too), as in Cilium.
            if l3_only {
                out.entries.insert(
                    PolicyKey {
                        endpoint: ep,
                        identity,
                        dport: 0,
                        proto: PROTO_ANY,
                    },
                    PolicyVal {
                        verdict: VERDICT_ALLOW,
                        match_type: MatchType::L3Only as u8,
                        proxy_port: 0,
                        packets: 0,
                        bytes: 0,
                    },
                );
            }
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test may unwrap: a panic is its failure report
mod tests {
    use std::time::SystemTime;

    use super::*;
    use crate::manifest::{ApplyMode, book, load_str};

    fn cluster(policy: Option<&str>) -> Cluster {
        let m = load_str(book::STARWARS, "starwars.yml").unwrap();
        let addr: std::net::SocketAddr = "127.0.0.1:9".parse().unwrap();
        let pods = m.pods().iter().map(|p| (p.clone(), addr)).collect();
        let c = Cluster::new(
            &m.cluster(),
            pods,
            m.services().to_vec(),
            None,
            SystemTime::now(),
        )
        .unwrap();
        if let Some(text) = policy {
            c.policies.apply(text, "test", ApplyMode::Apply).unwrap();
        }
        c
    }

    fn verdict(c: &Compiled, cl: &Cluster, dst: &str, src: &str, port: u16) -> Option<u8> {
        let d = cl.find_pod(dst).unwrap().endpoint.0;
        let s = cl.find_pod(src).unwrap().info.identity.0;
        c.entries
            .get(&PolicyKey {
                endpoint: d,
                identity: s,
                dport: port,
                proto: PROTO_TCP,
            })
            .map(|v| v.verdict)
    }

    #[test]
    fn no_policy_enforces_nothing() {
        let c = cluster(None);
        let compiled = compile(&c, &c.policies.current().engine, 15001);
        assert_eq!(compiled, Compiled::default());
    }

    #[test]
    fn the_book_l4_policy_allows_the_empire_on_80_and_denies_the_rest() {
        let c = cluster(Some(book::POLITICA_L4));
        let compiled = compile(&c, &c.policies.current().engine, 15001);
        let stars: Vec<String> = c
            .pods
            .iter()
            .filter(|p| p.model.is_death_star())
            .map(|p| p.name().to_string())
            .collect();
        assert_eq!(compiled.enforced.len(), stars.len(), "only the replicas");
        for star in &stars {
            assert_eq!(
                verdict(&compiled, &c, star, "caca-tie", 80),
                Some(VERDICT_ALLOW)
            );
            assert_eq!(
                verdict(&compiled, &c, star, "asa-x", 80),
                Some(VERDICT_DENY)
            );
            assert_eq!(
                verdict(&compiled, &c, star, "caca-tie", 0),
                Some(VERDICT_DENY)
            );
        }
        let v = compiled
            .entries
            .values()
            .find(|v| v.verdict == VERDICT_ALLOW)
            .unwrap();
        assert_eq!(v.match_type, MatchType::L3L4 as u8);
        assert!(compiled.entries.keys().all(|k| k.proto != PROTO_ANY));
    }

    #[test]
    fn the_book_l7_policy_redirects_the_empire_to_the_proxy() {
        let c = cluster(Some(book::POLITICA_L7));
        let compiled = compile(&c, &c.policies.current().engine, 15001);
        let star = c.pods.iter().find(|p| p.model.is_death_star()).unwrap();
        assert_eq!(
            verdict(&compiled, &c, star.name(), "caca-tie", 80),
            Some(VERDICT_REDIRECT)
        );
        assert_eq!(
            verdict(&compiled, &c, star.name(), "asa-x", 80),
            Some(VERDICT_DENY)
        );
        let redirected = compiled
            .entries
            .values()
            .find(|v| v.verdict == VERDICT_REDIRECT)
            .unwrap();
        assert_eq!(redirected.proxy_port, 15001);
    }
}
