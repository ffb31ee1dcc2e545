//! The galaxy's network, all of it inside namespaces of its own: one namespace per pod (its `eth0`
//! and a /32 from its node's slice of the pod subnet), one per emulated node (the pods' veths,
//! Cilium's `cilium_host` router address (on its loopback), routes to the other nodes), and a fabric namespace whose
//! bridge joins the nodes as kind's docker network joins its node containers.
//!
//! ```text
//!  pod ns: eth0 10.244.1.23/32 ==veth== galaxia-lxc<id> : node-1 ns : galaxia-up 172.18.0.3/16 ==veth== galaxia-n1 : fabric ns
//!          routes: 10.244.1.1 dev eth0       lo 10.244.1.1/32 (the router)                               galaxia-br (bridge)
//!                  10.244.N.0/24 via .1      10.244.1.23 dev galaxia-lxc<id>
//!                  10.96.0.0/12 via .1       10.244.2.0/24 via 172.18.0.4 ...
//! ```
//!
//! Nothing is created in the host's namespace: every link is made inside a namespace of the
//! galaxy (`ip -n <ns> link add ... peer ... netns <other>`), and no namespace has a default
//! route, so a packet of the galaxy has nowhere to go but another namespace of the galaxy. Every
//! command goes through `ip -batch`, one batch per namespace, in the words a reader would type.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::names::{self, Tag};
use super::netns;

/// Kind's docker network, where the node containers live (the nodes' addresses come from
/// `state::Topology`).
const NODE_NET_PREFIX: u8 = 16;
/// The routing table and rule that deliver packets steered to the L7 proxy (Cilium's
/// `ip rule fwmark 0x200/0xf00 lookup 2005`).
pub const PROXY_TABLE: u32 = 2005;
pub const PROXY_MARK: &str = "0x200/0xf00";

/// One emulated node.
#[derive(Debug, Clone)]
pub struct NodePlan {
    pub netns: String,
    /// Its address on the fabric (kind's `172.18.0.x`).
    pub uplink: Ipv4Addr,
    /// Its /24 of the pod subnet.
    pub pod_cidr: Ipv4Addr,
    /// `pod_cidr + 1`: the pods' gateway and the node's own source address towards them.
    pub router: Ipv4Addr,
}

/// One pod's sandbox.
#[derive(Debug, Clone)]
pub struct PodPlan {
    pub netns: String,
    pub ip: Ipv4Addr,
    pub node: usize,
    pub endpoint: u16,
}

/// The whole network of one galaxy.
#[derive(Debug, Clone)]
pub struct Plan {
    pub tag: Tag,
    pub nodes: Vec<NodePlan>,
    pub pods: Vec<PodPlan>,
    /// The kube-dns ClusterIP, served from `dns_node`.
    pub dns: Ipv4Addr,
    pub dns_node: usize,
    /// The service subnet (ClusterIPs), routed to the node like Cilium's pods route everything.
    pub service_net: (Ipv4Addr, u8),
}

#[derive(Debug, thiserror::Error)]
pub enum FabricError {
    #[error("iproute2's `ip` is not installed (apt-get install iproute2)")]
    NoIp,
    #[error("creating network namespace {0}")]
    Netns(String, #[source] std::io::Error),
    #[error("setting sysctls in {0}")]
    Sysctl(String, #[source] std::io::Error),
    #[error("ip -n {netns} -batch: {detail}")]
    Ip { netns: String, detail: String },
}

/// What the built network says about itself: each pod's veth index in its node's namespace.
#[derive(Debug, Clone, Default)]
pub struct Built {
    pub lxc_ifindex: Vec<u32>,
}

/// The `ip` program.
pub fn ip_binary() -> Option<PathBuf> {
    let from_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("ip"))
            .find(|p| p.is_file())
    });
    from_path.or_else(|| {
        ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
    })
}

impl Plan {
    pub fn fabric(&self) -> String {
        self.tag.fabric()
    }

    /// Every namespace of the galaxy, pods first (the order to remove them in).
    pub fn namespaces(&self) -> Vec<String> {
        let mut all: Vec<String> = self.pods.iter().map(|p| p.netns.clone()).collect();
        all.extend(self.nodes.iter().map(|n| n.netns.clone()));
        all.push(self.fabric());
        all
    }

    /// Build it all. On error, what was made is left for [`Plan::destroy`].
    pub fn build(&self) -> Result<Built, FabricError> {
        let ip = ip_binary().ok_or(FabricError::NoIp)?;
        let mut order = self.namespaces();
        order.reverse();
        for ns in &order {
            netns::create(ns).map_err(|e| FabricError::Netns(ns.clone(), e))?;
            // IPv6 off (no router solicitations, nothing but IPv4 to police); no reverse-path
            // filter (the host's setting would otherwise be inherited).
            let mut settings = vec![
                ("net/ipv6/conf/all/disable_ipv6".to_string(), "1"),
                ("net/ipv6/conf/default/disable_ipv6".to_string(), "1"),
                ("net/ipv4/conf/all/rp_filter".to_string(), "0"),
                ("net/ipv4/conf/default/rp_filter".to_string(), "0"),
            ];
            if self.nodes.iter().any(|n| &n.netns == ns) {
                settings.push(("net/ipv4/ip_forward".to_string(), "1"));
            }
            netns::sysctls(ns, &settings).map_err(|e| FabricError::Sysctl(ns.clone(), e))?;
        }
        batch(&ip, &self.fabric(), &self.fabric_batch())?;
        for (i, node) in self.nodes.iter().enumerate() {
            batch(&ip, &node.netns, &self.node_batch(i))?;
        }
        for pod in &self.pods {
            batch(&ip, &pod.netns, &self.pod_batch(pod))?;
        }
        let mut built = Built::default();
        let mut indexes: BTreeMap<usize, BTreeMap<String, u32>> = BTreeMap::new();
        for pod in &self.pods {
            let node = &self.nodes[pod.node];
            let lxc = names::lxc(pod.endpoint);
            netns::sysctls(
                &node.netns,
                &[(format!("net/ipv4/conf/{lxc}/proxy_arp"), "1")],
            )
            .map_err(|e| FabricError::Sysctl(node.netns.clone(), e))?;
            let known = match indexes.entry(pod.node) {
                std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(link_indexes(&ip, &node.netns)?)
                }
            };
            let index = known.get(&lxc).copied().ok_or_else(|| FabricError::Ip {
                netns: node.netns.clone(),
                detail: format!("{lxc} is missing after it was created"),
            })?;
            built.lxc_ifindex.push(index);
        }
        Ok(built)
    }

    /// Remove every namespace of the galaxy (their links, routes and attached programs go with
    /// them once no process is left inside). Returns the ones that could not be removed.
    pub fn destroy(&self) -> Vec<(String, std::io::Error)> {
        self.namespaces()
            .into_iter()
            .filter_map(|ns| netns::delete(&ns).err().map(|e| (ns, e)))
            .collect()
    }

    fn fabric_batch(&self) -> Vec<String> {
        let mut b = vec![
            format!("link add {} type bridge", names::BRIDGE),
            format!("link set {} up", names::BRIDGE),
        ];
        for (i, node) in self.nodes.iter().enumerate() {
            let port = names::fabric_port(i);
            b.push(format!(
                "link add {port} type veth peer name {} netns {}",
                names::UPLINK,
                node.netns
            ));
            b.push(format!("link set {port} master {}", names::BRIDGE));
            b.push(format!("link set {port} up"));
        }
        b
    }

    fn node_batch(&self, i: usize) -> Vec<String> {
        let node = &self.nodes[i];
        let mut b = vec![
            "link set lo up".to_string(),
            format!(
                "addr add {}/{NODE_NET_PREFIX} dev {}",
                node.uplink,
                names::UPLINK
            ),
            format!("link set {} up", names::UPLINK),
            // Cilium's cilium_host address (and, on the control plane, kube-dns's) live on the
            // node's loopback: local to the node, answered for on every pod's veth.
            format!("addr add {}/32 dev lo", node.router),
        ];
        if i == self.dns_node {
            b.push(format!("addr add {}/32 dev lo", self.dns));
        } else {
            b.push(format!(
                "route add {}/32 via {}",
                self.dns, self.nodes[self.dns_node].uplink
            ));
        }
        for pod in self.pods.iter().filter(|p| p.node == i) {
            let lxc = names::lxc(pod.endpoint);
            b.push(format!(
                "link add {lxc} type veth peer name {} netns {}",
                names::POD_IF,
                pod.netns
            ));
            b.push(format!("link set {lxc} up"));
            b.push(format!(
                "route add {}/32 dev {lxc} src {}",
                pod.ip, node.router
            ));
        }
        for (_, other) in self.nodes.iter().enumerate().filter(|(j, _)| *j != i) {
            b.push(format!(
                "route add {}/24 via {}",
                other.pod_cidr, other.uplink
            ));
        }
        // Packets steered to the proxy are delivered here (to the socket the program chose).
        b.push(format!(
            "rule add fwmark {PROXY_MARK} lookup {PROXY_TABLE} pref 100"
        ));
        b.push(format!(
            "route add local {}/24 dev lo table {PROXY_TABLE}",
            node.pod_cidr
        ));
        b
    }

    fn pod_batch(&self, pod: &PodPlan) -> Vec<String> {
        let gw = self.nodes[pod.node].router;
        let dev = names::POD_IF;
        let mut b = vec![
            "link set lo up".to_string(),
            format!("addr add {}/32 dev {dev}", pod.ip),
            format!("link set {dev} up"),
            format!("route add {gw} dev {dev} scope link"),
        ];
        // The pod subnet and the Services, through the node; nothing else (no default route).
        for n in &self.nodes {
            b.push(format!("route add {}/24 via {gw} dev {dev}", n.pod_cidr));
        }
        let (net, prefix) = self.service_net;
        b.push(format!("route add {net}/{prefix} via {gw} dev {dev}"));
        b
    }
}

/// Run `lines` with `ip -n <ns> -batch -`.
fn batch(ip: &std::path::Path, ns: &str, lines: &[String]) -> Result<(), FabricError> {
    let err = |detail: String| FabricError::Ip {
        netns: ns.to_string(),
        detail,
    };
    let mut child = Command::new(ip)
        .args(["-n", ns, "-batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| err(format!("running {}: {e}", ip.display())))?;
    let script = lines.join("\n") + "\n";
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(script.as_bytes())
            .map_err(|e| err(format!("writing the batch: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| err(format!("waiting for ip: {e}")))?;
    if out.status.success() {
        return Ok(());
    }
    Err(err(format!(
        "{} ({}; the batch was:\n{script})",
        String::from_utf8_lossy(&out.stderr).trim(),
        out.status
    )))
}

/// Interface name -> index in namespace `ns` (`ip -o link show`).
fn link_indexes(ip: &std::path::Path, ns: &str) -> Result<BTreeMap<String, u32>, FabricError> {
    let out = Command::new(ip)
        .args(["-n", ns, "-o", "link", "show"])
        .output()
        .map_err(|e| FabricError::Ip {
            netns: ns.to_string(),
            detail: format!("link show: {e}"),
        })?;
    Ok(parse_link_indexes(&String::from_utf8_lossy(&out.stdout)))
}

/// `12: galaxia-lxc42@if2: <BROADCAST,...` -> ("galaxia-lxc42", 12).
fn parse_link_indexes(text: &str) -> BTreeMap<String, u32> {
    text.lines()
        .filter_map(|l| {
            let (index, rest) = l.split_once(": ")?;
            let name = rest.split([':', '@']).next()?.trim();
            Some((name.to_string(), index.trim().parse().ok()?))
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test may unwrap: a panic is its failure report
mod tests {
    use super::*;

    fn plan() -> Plan {
        let tag = Tag { pid: 7, n: 0 };
        let nodes = (0..2)
            .map(|i| NodePlan {
                netns: tag.node(i),
                uplink: Ipv4Addr::new(172, 18, 0, 2 + i as u8),
                pod_cidr: Ipv4Addr::new(10, 244, i as u8, 0),
                router: Ipv4Addr::new(10, 244, i as u8, 1),
            })
            .collect();
        Plan {
            tag,
            nodes,
            pods: vec![PodPlan {
                netns: tag.pod("default", "asa-x"),
                ip: Ipv4Addr::new(10, 244, 1, 23),
                node: 1,
                endpoint: 42,
            }],
            dns: Ipv4Addr::new(10, 96, 0, 10),
            dns_node: 0,
            service_net: (Ipv4Addr::new(10, 96, 0, 0), 12),
        }
    }

    #[test]
    fn no_namespace_gets_a_default_route_and_links_stay_inside() {
        let p = plan();
        let all: Vec<String> = p
            .fabric_batch()
            .into_iter()
            .chain(p.node_batch(0))
            .chain(p.node_batch(1))
            .chain(p.pod_batch(&p.pods[0]))
            .collect();
        for line in &all {
            assert!(!line.contains("default"), "{line}");
            assert!(!line.contains("0.0.0.0/0"), "{line}");
            if line.contains(" netns ") {
                let target = line.rsplit(' ').next().unwrap();
                assert!(target.starts_with("galaxia-7-0-"), "{line}");
            }
        }
        assert!(
            p.node_batch(1).contains(
                &"link add galaxia-lxc42 type veth peer name eth0 netns galaxia-7-0-pod-asa-x"
                    .to_string()
            )
        );
        assert!(
            p.node_batch(1)
                .contains(&"route add 10.96.0.10/32 via 172.18.0.2".to_string())
        );
        assert!(
            p.node_batch(0)
                .contains(&"route add 10.244.1.0/24 via 172.18.0.3".to_string())
        );
        assert_eq!(
            p.pod_batch(&p.pods[0])[4..],
            [
                "route add 10.244.0.0/24 via 10.244.1.1 dev eth0",
                "route add 10.244.1.0/24 via 10.244.1.1 dev eth0",
                "route add 10.96.0.0/12 via 10.244.1.1 dev eth0",
            ]
        );
        assert_eq!(p.namespaces().last().unwrap(), "galaxia-7-0-fabric");
    }

    #[test]
    fn link_indexes_are_read_from_ip_o_link() {
        let text = "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue\\    link/loopback\n12: galaxia-lxc42@if2: <BROADCAST,MULTICAST,UP> mtu 1500\\    link/ether\n3: galaxia-up@if4: <BROADCAST>\n";
        let m = parse_link_indexes(text);
        assert_eq!(m["galaxia-lxc42"], 12);
        assert_eq!(m["galaxia-up"], 3);
        assert_eq!(m["lo"], 1);
    }
}
