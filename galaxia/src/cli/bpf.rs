//! The eBPF datapath's own verbs. `galaxia bpf ...` prints a running galaxy's maps in the shapes of
//! `cilium bpf ...` (the maps are opened by their kernel ids, which `galaxia up` records in the
//! galaxy's state directory, as `cilium bpf` opens the pins under `/sys/fs/bpf`); `galaxia cleanup`
//! removes what galaxies killed with `kill -9` left behind (the next `galaxia up --datapath ebpf`
//! does it too).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::Ipv4Addr;

use super::session::connect;
use super::{Error, Io};
use crate::control::discovery::ControlArgs;
use crate::control::views::PodView;
use crate::ebpf::cleanup;
use crate::ebpf::maps::{
    self, CT_FROM_POD, CT_PROXY, CtKey, CtVal, EndpointVal, IpcacheVal, PolicyKey, PolicyVal,
    SvcKey, SvcVal, VERDICT_DENY, VERDICT_REDIRECT,
};
use crate::ebpf::names::{MAPS_FILE, Tag};

/// Print the eBPF datapath's maps, as `cilium bpf ...` does (root, `--datapath ebpf`).
#[derive(Debug, clap::Subcommand)]
pub enum BpfCommand {
    /// The ipcache: pod and node addresses and their security identities.
    #[command(subcommand)]
    Ipcache(ListOnly),
    /// The local endpoints (the pods), with their ids, identities and interfaces.
    #[command(subcommand)]
    Endpoint(ListOnly),
    /// Connection tracking entries.
    #[command(subcommand)]
    Ct(ListOnly),
    /// The Service load balancer: frontends and their ready backends.
    #[command(subcommand)]
    Lb(ListOnly),
    /// An endpoint's policy map.
    #[command(subcommand)]
    Policy(PolicyCommand),
}

#[derive(Debug, clap::Subcommand)]
pub enum ListOnly {
    /// Every entry.
    List(ListArgs),
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Accepted for `cilium bpf ct list global` (there is one table).
    pub scope: Option<String>,
    #[command(flatten)]
    pub control: ControlArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// The policy entries of one pod's endpoint (the pod's name, `namespace/name`, or its
    /// endpoint id).
    Get(PolicyArgs),
}

#[derive(Debug, clap::Args)]
pub struct PolicyArgs {
    pub pod: String,
    #[command(flatten)]
    pub control: ControlArgs,
}

/// Remove what galaxies of the eBPF datapath left behind after a `kill -9`: their network
/// namespaces, pods' processes, cgroups, mounts and files (galaxies whose `galaxia up` still runs
/// are left alone).
#[derive(Debug, clap::Args)]
pub struct CleanupArgs {}

impl BpfCommand {
    pub fn control_mut(&mut self) -> &mut ControlArgs {
        match self {
            BpfCommand::Ipcache(ListOnly::List(a))
            | BpfCommand::Endpoint(ListOnly::List(a))
            | BpfCommand::Ct(ListOnly::List(a))
            | BpfCommand::Lb(ListOnly::List(a)) => &mut a.control,
            BpfCommand::Policy(PolicyCommand::Get(a)) => &mut a.control,
        }
    }
}

pub fn run_cleanup(_args: CleanupArgs, io: &mut Io<'_>) -> Result<(), Error> {
    if !nix::unistd::geteuid().is_root() {
        return Err(Error::Usage(
            "galaxia cleanup removes network namespaces and cgroups: run it as root".into(),
        ));
    }
    let report = cleanup::stale();
    for line in &report.removed {
        writeln!(io.out, "removed {line}")?;
    }
    for tag in &report.alive {
        writeln!(
            io.out,
            "left {tag} alone: its galaxia up (pid {}) is running",
            tag.pid
        )?;
    }
    if report.removed.is_empty() && report.alive.is_empty() {
        writeln!(
            io.out,
            "Nothing to clean up: no galaxy left anything behind."
        )?;
    }
    for e in &report.errors {
        writeln!(io.err, "galaxia cleanup: {e}")?;
    }
    if report.errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Reported(1))
    }
}

/// What `galaxia bpf` needs of the running galaxy: its pods and its maps' ids.
struct Galaxy {
    pods: Vec<PodView>,
    maps: BTreeMap<String, u32>,
    tag: Option<Tag>,
}

fn galaxy(control: &ControlArgs) -> Result<Galaxy, Error> {
    let (c, rt) = connect(control)?;
    let pods = rt.block_on(c.pods())?;
    let tag = pods
        .iter()
        .filter_map(|p| p.sandbox.as_ref())
        .find_map(|s| Tag::parse(s.netns.file_name()?.to_str()?).map(|(t, _)| t))
        .ok_or_else(|| {
            Error::Usage(
                "the running galaxy is on the userspace datapath: `galaxia bpf` needs `galaxia up --datapath ebpf`"
                    .into(),
            )
        })?;
    let path = tag.state_dir().join(MAPS_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Error::Usage(format!(
            "reading {} (galaxia bpf runs as root, on the machine of the galaxy): {e}",
            path.display()
        ))
    })?;
    let maps = text
        .lines()
        .filter_map(|l| {
            let (name, id) = l.split_once(' ')?;
            Some((name.to_string(), id.trim().parse().ok()?))
        })
        .collect();
    Ok(Galaxy {
        pods,
        maps,
        tag: Some(tag),
    })
}

/// A map's entries, as byte arrays.
type Entries<const K: usize, const V: usize> = Vec<([u8; K], [u8; V])>;

impl Galaxy {
    fn table<const K: usize, const V: usize>(
        &self,
        name: &'static str,
        lru: bool,
    ) -> Result<Entries<K, V>, Error> {
        let id = *self
            .maps
            .get(name)
            .ok_or_else(|| Error::Usage(format!("the galaxy has no map {name}")))?;
        let t = maps::open::<K, V>(id, lru).map_err(|e| Error::verb("opening the map", e))?;
        Ok(maps::entries(&t))
    }

    /// `k8s:...` labels of an identity, or Cilium's reserved names.
    fn labels(&self, identity: u32) -> Vec<String> {
        match identity {
            0 => return vec!["reserved:unknown".into()],
            1 => return vec!["reserved:host".into()],
            2 => return vec!["reserved:world".into()],
            6 => return vec!["reserved:remote-node".into()],
            _ => {}
        }
        self.pods
            .iter()
            .find(|p| p.identity == identity)
            .map(|p| {
                // `GetPrintableModel` sorts them.
                let mut l = p.identity_labels.clone();
                l.sort();
                l
            })
            .filter(|l| !l.is_empty())
            // Cilium prints the number of an identity it cannot resolve.
            .unwrap_or_else(|| vec![identity.to_string()])
    }
}

/// A `cilium bpf` table: Go's tabwriter at Cilium's settings (minwidth 5, padding 3).
fn tabwrite(text: &str) -> String {
    crate::tabwriter::TabWriter::cilium_bpf().lay_out(text)
}

/// Cilium's `TablePrinter`: a header of two cells, then each key with its value (and any further
/// values of the key on lines of their own).
fn two_columns(first: &str, second: &str, rows: &[(String, String)]) -> String {
    let mut text = format!("{first}\t{second}\n");
    for (k, v) in rows {
        let _ = writeln!(text, "{k}\t{v}\t");
    }
    tabwrite(&text)
}

/// `u8proto.U8proto`'s names.
fn proto_name(p: u8) -> String {
    match p {
        0 => "ANY".into(),
        1 => "ICMP".into(),
        6 => "TCP".into(),
        17 => "UDP".into(),
        58 => "ICMPv6".into(),
        132 => "SCTP".into(),
        n => n.to_string(),
    }
}

pub fn run_bpf(cmd: BpfCommand, io: &mut Io<'_>) -> Result<(), Error> {
    let text = match &cmd {
        BpfCommand::Ipcache(ListOnly::List(a)) => ipcache(&galaxy(&a.control)?, io)?,
        BpfCommand::Endpoint(ListOnly::List(a)) => endpoints(&galaxy(&a.control)?)?,
        BpfCommand::Ct(ListOnly::List(a)) => {
            match a.scope.as_deref() {
                Some("global") => {}
                // cilium's words for the scopes it knows and galaxia has no table of.
                None => {
                    writeln!(io.err, "Error: Missing endpoint id or 'global' argument")?;
                    return Err(Error::Reported(1));
                }
                Some(other) => {
                    writeln!(
                        io.err,
                        "galaxia keeps one conntrack table: use `galaxia bpf ct list global` (not {other:?})"
                    )?;
                    return Err(Error::Reported(1));
                }
            }
            ct(&galaxy(&a.control)?)?
        }
        BpfCommand::Lb(ListOnly::List(a)) => lb(&galaxy(&a.control)?)?,
        BpfCommand::Policy(PolicyCommand::Get(a)) => policy(&galaxy(&a.control)?, &a.pod, io)?,
    };
    io.out.write_all(text.as_bytes())?;
    Ok(())
}

/// `cilium bpf ipcache list`: `RemoteEndpointInfo.String()` of each prefix. The galaxy's nodes are
/// joined by a bridge and route natively, and nothing is encrypted, so every entry has the values
/// Cilium prints for a local address: no tunnel endpoint, key 0, no flags.
fn ipcache(g: &Galaxy, io: &mut Io<'_>) -> Result<String, Error> {
    let mut entries: Vec<(Ipv4Addr, IpcacheVal)> = g
        .table::<4, 8>(maps::IPCACHE, false)?
        .into_iter()
        .map(|(k, v)| (Ipv4Addr::from(k), IpcacheVal::decode(&v)))
        .collect();
    if entries.is_empty() {
        writeln!(io.err, "No entries found.")?;
        return Ok(String::new());
    }
    // Cilium prints a Go map, in no order; sorted here so that two runs compare.
    entries.sort_by_key(|(ip, _)| *ip);
    let rows: Vec<(String, String)> = entries
        .iter()
        .map(|(ip, v)| {
            (
                format!("{ip}/32"),
                format!(
                    "identity={} encryptkey=0 tunnelendpoint=0.0.0.0 flags=<none>",
                    v.identity
                ),
            )
        })
        .collect();
    Ok(two_columns("IP PREFIX/ADDRESS", "IDENTITY", &rows))
}

/// A link's MAC address inside a namespace of the galaxy, as Cilium's `mac.MAC` prints it.
fn mac(netns: &str, dev: &str) -> String {
    let out = std::process::Command::new(crate::ebpf::fabric::ip_binary().unwrap_or_default())
        .args(["-n", netns, "-o", "link", "show", "dev", dev])
        .stderr(std::process::Stdio::null())
        .output();
    let text = out
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let mut words = text.split_whitespace();
    words
        .find(|w| *w == "link/ether")
        .and_then(|_| words.next())
        .map(str::to_ascii_uppercase)
        .unwrap_or_else(|| "00:00:00:00:00:00".into())
}

/// `cilium bpf endpoint list`: `EndpointInfo.String()` of each local endpoint, with the pod's
/// `eth0` and its node-side veth as `mac` and `nodemac`. Cilium's lxc flags mark the host's own
/// addresses only: a pod's are 0 (galaxia's enforcement bit is its policy map's business).
fn endpoints(g: &Galaxy) -> Result<String, Error> {
    let mut entries: Vec<(Ipv4Addr, EndpointVal)> = g
        .table::<4, 16>(maps::LXC, false)?
        .into_iter()
        .map(|(k, v)| (Ipv4Addr::from(k), EndpointVal::decode(&v)))
        .collect();
    entries.sort_by_key(|(_, v)| v.id);
    let rows: Vec<(String, String)> = entries
        .iter()
        .map(|(ip, v)| {
            let pod_ns = g
                .pods
                .iter()
                .find(|p| p.endpoint == v.id)
                .and_then(|p| p.sandbox.as_ref())
                .and_then(|s| Some(s.netns.file_name()?.to_string_lossy().into_owned()));
            let pod_mac = pod_ns.map_or_else(|| mac("", ""), |ns| mac(&ns, "eth0"));
            let node_mac = g
                .tag
                .map(|t| {
                    mac(
                        &t.node(usize::from(v.node)),
                        &crate::ebpf::names::lxc(v.id),
                    )
                })
                .unwrap_or_else(|| mac("", ""));
            (
                format!("{ip}:0"),
                format!(
                    "id={:<5} sec_id={:<5} flags=0x{:04X} ifindex={:<3} mac={pod_mac} nodemac={node_mac}",
                    v.id, v.identity, 0, v.ifindex
                ),
            )
        })
        .collect();
    Ok(two_columns("IP ADDRESS", "LOCAL ENDPOINT INFO", &rows))
}

/// Cilium's conntrack timeouts (`--bpf-ct-timeout-*`): a TCP connection that got an answer, one
/// still in its handshake, one closing, and any other protocol's.
const CT_TCP_ESTABLISHED_SECS: u64 = 21_600;
const CT_TCP_SYN_SECS: u64 = 60;
const CT_TCP_CLOSE_SECS: u64 = 10;
const CT_ANY_SECS: u64 = 60;

/// galaxia's TCP flag bits (`flows::flow::TcpFlags`, `F_*` in galaxia.h) as the header carries
/// them (what Cilium's `TxFlagsSeen` holds).
fn wire_flags(f: u8) -> u8 {
    [(1, 0x02), (2, 0x10), (4, 0x04), (8, 0x01), (16, 0x08)]
        .iter()
        .filter(|(ours, _)| f & ours != 0)
        .fold(0, |acc, (_, wire)| acc | wire)
}

/// `cilium bpf ct list global`: the TCP table, then the table of every other protocol, each
/// entry as `CtKey4Global.Dump` and `CtEntry.String()` write it. A connection a local pod opened
/// is its endpoint's `OUT` entry; one from elsewhere (the node's probes, the L7 proxy) the
/// destination's `IN` entry.
fn ct(g: &Galaxy) -> Result<String, Error> {
    let mut entries: Vec<(CtKey, CtVal)> = g
        .table::<16, 72>(maps::CT, true)?
        .into_iter()
        .map(|(k, v)| (CtKey::decode(&k), CtVal::decode(&v)))
        .filter(|(k, _)| k.proto != 0)
        .collect();
    entries.sort_by_key(|(k, _)| *k);
    let secs = |ns: u64| ns / 1_000_000_000;
    let mut tcp = String::new();
    let mut any = String::new();
    for (k, v) in entries {
        // Cilium counts a packet as rx when it enters the entry's endpoint and tx when it leaves
        // it: the client's packets are tx on its OUT entry, rx on the server's IN entry.
        let out_entry = v.state & CT_FROM_POD != 0;
        let fwd = (
            v.fwd_packets,
            v.fwd_bytes,
            wire_flags(v.fwd_flags),
            v.fwd_report_ns,
        );
        let rev = (
            v.rev_packets,
            v.rev_bytes,
            wire_flags(v.rev_flags),
            v.rev_report_ns,
        );
        let (tx, rx) = if out_entry { (fwd, rev) } else { (rev, fwd) };
        let closing = (tx.2 | rx.2) & 0x05 != 0;
        let lifetime = match k.proto {
            maps::PROTO_TCP if closing => CT_TCP_CLOSE_SECS,
            maps::PROTO_TCP if v.rev_packets > 0 => CT_TCP_ESTABLISHED_SECS,
            maps::PROTO_TCP => CT_TCP_SYN_SECS,
            _ => CT_ANY_SECS,
        };
        let mut flags = 0u16;
        let mut names = String::new();
        for (bit, set, name) in [
            (0x0001, rx.2 & 0x05 != 0, "RxClosing"),
            (0x0002, tx.2 & 0x05 != 0, "TxClosing"),
            (0x0010, (tx.2 | rx.2) & !0x02 != 0, "SeenNonSyn"),
            (0x0040, v.state & CT_PROXY != 0, "ProxyRedirect"),
        ] {
            if set {
                flags |= bit;
                names.push_str(name);
                names.push(' ');
            }
        }
        let dir = if out_entry { "OUT" } else { "IN" };
        let table = if k.proto == maps::PROTO_TCP {
            &mut tcp
        } else {
            &mut any
        };
        let _ = writeln!(
            table,
            "{} {dir} {}:{} -> {}:{} expires={} RxPackets={} RxBytes={} RxFlagsSeen={:#04x} LastRxReport={} TxPackets={} TxBytes={} TxFlagsSeen={:#04x} LastTxReport={} Flags={flags:#06x} [ {names}] RevNAT=0 SourceSecurityID={} IfIndex=0 ",
            proto_name(k.proto),
            k.saddr,
            k.sport,
            k.daddr,
            k.dport,
            secs(v.last_ns) + lifetime,
            rx.0,
            rx.1,
            rx.2,
            secs(rx.3),
            tx.0,
            tx.1,
            tx.2,
            secs(tx.3),
            v.src_identity
        );
    }
    // Each table's dump is printed with Println: an empty line after each.
    Ok(format!("{tcp}\n{any}\n"))
}

fn lb(g: &Galaxy) -> Result<String, Error> {
    let mut svcs: Vec<(SvcKey, SvcVal)> = g
        .table::<8, 8>(maps::LB4_SVC, false)?
        .into_iter()
        .map(|(k, v)| (SvcKey::decode(&k), SvcVal::decode(&v)))
        .collect();
    if svcs.is_empty() {
        return Ok("No Services.\n".into());
    }
    svcs.sort_by_key(|(k, _)| *k);
    let backends: BTreeMap<(u16, u16), (Ipv4Addr, u16)> = g
        .table::<4, 8>(maps::LB4_BE, false)?
        .into_iter()
        .map(|(k, v)| {
            let (svc, slot, ip, port) = maps::decode_backend(&k, &v);
            ((svc, slot), (ip, port))
        })
        .collect();
    // A frontend's further values on lines of their own, under an empty key (TablePrinter).
    let mut rows: Vec<(String, String)> = Vec::new();
    for (k, v) in &svcs {
        rows.push((
            format!("{}:{}", k.vip, k.port),
            format!("0.0.0.0:0 ({}) (0) [ClusterIP]", v.id),
        ));
        for slot in 0..v.count {
            if let Some((ip, port)) = backends.get(&(v.id, slot)) {
                rows.push((
                    String::new(),
                    format!("{ip}:{port} ({}) ({})", v.id, slot + 1),
                ));
            }
        }
    }
    Ok(two_columns(
        "SERVICE ADDRESS",
        "BACKEND ADDRESS (REVNAT_ID) (SLOT)",
        &rows,
    ))
}

fn policy(g: &Galaxy, pod: &str, io: &mut Io<'_>) -> Result<String, Error> {
    let endpoint = match pod.parse::<u16>() {
        Ok(id) => id,
        Err(_) => {
            let (ns, name) = crate::manifest::split_namespaced(pod);
            let Some(p) = g
                .pods
                .iter()
                .find(|p| p.name == name && ns.is_none_or(|ns| ns == p.namespace))
            else {
                writeln!(
                    io.err,
                    "{}",
                    super::kubectl::not_found(crate::manifest::ObjectKind::Pod, name)
                )?;
                return Err(Error::Reported(1));
            };
            p.endpoint
        }
    };
    let mut entries: Vec<(PolicyKey, PolicyVal)> = g
        .table::<12, 24>(maps::POLICY, false)?
        .into_iter()
        .map(|(k, v)| (PolicyKey::decode(&k), PolicyVal::decode(&v)))
        .filter(|(k, _)| k.endpoint == endpoint)
        .collect();
    // Where no policy selects the endpoint, Cilium's map allows every identity on every port;
    // galaxia's holds nothing then, which means the same.
    let allow_all = PolicyVal {
        verdict: maps::VERDICT_ALLOW,
        match_type: 0,
        proxy_port: 0,
        packets: 0,
        bytes: 0,
    };
    let any = PolicyKey {
        endpoint,
        identity: 0,
        dport: 0,
        proto: 0,
    };
    if entries.is_empty() {
        entries.push((any, allow_all));
    }
    // `PolicyEntriesDump.Less`: denies first, then by direction (all ingress here), then by
    // identity; the port after that (Cilium leaves it to the map's order).
    entries.sort_by_key(|(k, v)| (v.verdict != VERDICT_DENY, k.identity, k.dport, k.proto));
    let mut rows: Vec<(&str, PolicyKey, PolicyVal)> = entries
        .into_iter()
        .map(|(k, v)| ("Ingress", k, v))
        .collect();
    // galaxia enforces no egress policy: Cilium's entry for that follows the ingress ones.
    rows.push(("Egress", any, allow_all));
    Ok(policy_table(&rows, |id| g.labels(id)))
}

/// `cilium bpf policy get`'s table (`formatMap`): one row an entry, its identity's further labels
/// on lines of their own; every row ends with a tab, so the last column is padded too.
fn policy_table(
    entries: &[(&str, PolicyKey, PolicyVal)],
    labels: impl Fn(u32) -> Vec<String>,
) -> String {
    let mut text = String::from(
        "POLICY\tDIRECTION\tLABELS (source:key[=value])\tPORT/PROTO\tPROXY PORT\tAUTH TYPE\tBYTES\tPACKETS\tPREFIX\t\n",
    );
    for (direction, k, v) in entries {
        // The key's prefix length past the identity and direction: 0 every protocol, 8 one
        // protocol on every port, 24 one port of one protocol.
        let (port, prefix) = match (k.dport, k.proto) {
            (_, 0) => (proto_name(0), 0),
            (0, p) => (proto_name(p), 8),
            (d, p) => (format!("{d}/{}", proto_name(p)), 24),
        };
        let policy = if v.verdict == VERDICT_DENY {
            "Deny"
        } else {
            "Allow"
        };
        let proxy = if v.verdict == VERDICT_REDIRECT && v.proxy_port != 0 {
            v.proxy_port.to_string()
        } else {
            "NONE".into()
        };
        let names = labels(k.identity);
        let first = names
            .first()
            .cloned()
            .unwrap_or_else(|| k.identity.to_string());
        let _ = writeln!(
            text,
            "{policy}\t{direction}\t{first}\t{port}\t{proxy}\tdisabled\t{}\t{}\t{prefix}\t",
            v.bytes, v.packets
        );
        for more in names.iter().skip(1) {
            let _ = writeln!(text, "\t\t{more}\t\t\t\t\t\t\t");
        }
    }
    let mut out = tabwrite(&text);
    if entries.is_empty() {
        out.push_str("Policy stats empty. Perhaps the policy enforcement is disabled?\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_laid_out_as_gos_tabwriter_with_ciliums_settings() {
        // A header without a trailing tab: its last cell is not part of the column.
        let rows = vec![
            ("10.244.1.5/32".to_string(), "identity=1".to_string()),
            ("10.244.10.50/32".to_string(), "identity=123".to_string()),
        ];
        assert_eq!(
            two_columns("IP PREFIX/ADDRESS", "IDENTITY", &rows),
            "IP PREFIX/ADDRESS   IDENTITY\n\
             10.244.1.5/32       identity=1     \n\
             10.244.10.50/32     identity=123   \n"
        );
        // A column never narrower than 5; an empty cell pads to the column.
        assert_eq!(
            tabwrite("a\tb\t\n\tlonger\t\n"),
            "a    b        \n     longer   \n"
        );
    }

    #[test]
    fn policy_rows_span_an_identitys_labels_and_pad_every_column() {
        let key = |identity, dport, proto| PolicyKey {
            endpoint: 7,
            identity,
            dport,
            proto,
        };
        let val = |verdict, proxy_port, packets, bytes| PolicyVal {
            verdict,
            match_type: 0,
            proxy_port,
            packets,
            bytes,
        };
        let rows = vec![
            ("Ingress", key(300, 80, 6), val(VERDICT_DENY, 0, 2, 120)),
            (
                "Ingress",
                key(301, 80, 6),
                val(VERDICT_REDIRECT, 15001, 10, 900),
            ),
            ("Egress", key(0, 0, 0), val(maps::VERDICT_ALLOW, 0, 0, 0)),
        ];
        let text = policy_table(&rows, |id| match id {
            300 => vec!["k8s:class=xwing".into(), "k8s:org=alianca".into()],
            301 => vec!["k8s:org=imperio".into()],
            _ => vec!["reserved:unknown".into()],
        });
        let header = "POLICY   DIRECTION   LABELS (source:key[=value])   PORT/PROTO   PROXY PORT   AUTH TYPE   BYTES   PACKETS   PREFIX   ";
        // A continuation row: its label in the labels column, every other cell empty and padded.
        let more = format!(
            "{:21}{:<width$}",
            "",
            "k8s:org=alianca",
            width = header.len() - 21
        );
        let expected = [
            header,
            "Deny     Ingress     k8s:class=xwing               80/TCP       NONE         disabled    120     2         24       ",
            &more,
            "Allow    Ingress     k8s:org=imperio               80/TCP       15001        disabled    900     10        24       ",
            "Allow    Egress      reserved:unknown              ANY          NONE         disabled    0       0         0        ",
        ];
        assert_eq!(text.lines().collect::<Vec<_>>(), expected);
        assert!(text.ends_with("        \n"));
        assert!(policy_table(&[], |_| Vec::new()).ends_with(
            "PREFIX   \nPolicy stats empty. Perhaps the policy enforcement is disabled?\n"
        ));
    }

    #[test]
    fn tcp_flags_are_the_headers_bits() {
        // SYN, ACK -> 0x12; FIN, PSH -> 0x09.
        assert_eq!(wire_flags(1 | 2), 0x12);
        assert_eq!(wire_flags(8 | 16), 0x09);
    }
}
