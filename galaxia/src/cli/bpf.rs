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
    self, CtKey, CtVal, EndpointVal, IpcacheVal, PolicyKey, PolicyVal, SvcKey, SvcVal,
    VERDICT_DENY, VERDICT_REDIRECT,
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
    Ok(Galaxy { pods, maps })
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
            .map(|p| p.identity_labels.clone())
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| vec![format!("identity={identity}")])
    }
}

/// Rows under a header, each column as wide as its widest cell plus three spaces (the shape of
/// Cilium's tabwriter output). A cell may hold several lines (an identity's labels).
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            let w = c.lines().map(str::len).max().unwrap_or(0);
            if i < widths.len() {
                widths[i] = widths[i].max(w);
            }
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[&str]| {
        let last = cells.len().saturating_sub(1);
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i == last {
                s.push_str(c);
            } else {
                let _ = write!(s, "{c:<w$}", w = widths[i] + 3);
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(header);
    for r in rows {
        let split: Vec<Vec<&str>> = r.iter().map(|c| c.lines().collect()).collect();
        let height = split.iter().map(Vec::len).max().unwrap_or(1).max(1);
        for k in 0..height {
            let cells: Vec<&str> = split
                .iter()
                .map(|c| c.get(k).copied().unwrap_or(""))
                .collect();
            line(&cells);
        }
    }
    out
}

fn proto_name(p: u8) -> String {
    match p {
        0 => "ANY".into(),
        6 => "TCP".into(),
        17 => "UDP".into(),
        132 => "SCTP".into(),
        1 => "ICMP".into(),
        n => n.to_string(),
    }
}

pub fn run_bpf(cmd: BpfCommand, io: &mut Io<'_>) -> Result<(), Error> {
    let text = match &cmd {
        BpfCommand::Ipcache(ListOnly::List(a)) => ipcache(&galaxy(&a.control)?)?,
        BpfCommand::Endpoint(ListOnly::List(a)) => endpoints(&galaxy(&a.control)?)?,
        BpfCommand::Ct(ListOnly::List(a)) => ct(&galaxy(&a.control)?)?,
        BpfCommand::Lb(ListOnly::List(a)) => lb(&galaxy(&a.control)?)?,
        BpfCommand::Policy(PolicyCommand::Get(a)) => policy(&galaxy(&a.control)?, &a.pod, io)?,
    };
    io.out.write_all(text.as_bytes())?;
    Ok(())
}

fn ipcache(g: &Galaxy) -> Result<String, Error> {
    let mut entries: Vec<(Ipv4Addr, IpcacheVal)> = g
        .table::<4, 8>(maps::IPCACHE, false)?
        .into_iter()
        .map(|(k, v)| (Ipv4Addr::from(k), IpcacheVal::decode(&v)))
        .collect();
    if entries.is_empty() {
        return Ok("The ipcache is empty.\n".into());
    }
    entries.sort_by_key(|(ip, _)| *ip);
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|(ip, v)| {
            vec![
                format!("{ip}/32"),
                format!(
                    "identity={} encryptkey=0 tunnelendpoint=0.0.0.0 nodeid={}",
                    v.identity, v.node
                ),
            ]
        })
        .collect();
    Ok(table(&["IP PREFIX/ADDRESS", "IDENTITY"], &rows))
}

fn endpoints(g: &Galaxy) -> Result<String, Error> {
    let mut entries: Vec<(Ipv4Addr, EndpointVal)> = g
        .table::<4, 16>(maps::LXC, false)?
        .into_iter()
        .map(|(k, v)| (Ipv4Addr::from(k), EndpointVal::decode(&v)))
        .collect();
    if entries.is_empty() {
        return Ok("No local endpoints.\n".into());
    }
    entries.sort_by_key(|(_, v)| v.id);
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|(ip, v)| {
            vec![
                format!("{ip}:0"),
                format!(
                    "id={:<5} sec_id={:<6} flags=0x{:04x} ifindex={:<3} nodeid={} hostip={}",
                    v.id, v.identity, v.flags, v.ifindex, v.node, v.host_ip
                ),
            ]
        })
        .collect();
    Ok(table(&["IP ADDRESS", "LOCAL ENDPOINT INFO"], &rows))
}

fn ct(g: &Galaxy) -> Result<String, Error> {
    let mut entries: Vec<(CtKey, CtVal)> = g
        .table::<16, 72>(maps::CT, true)?
        .into_iter()
        .map(|(k, v)| (CtKey::decode(&k), CtVal::decode(&v)))
        .collect();
    if entries.is_empty() {
        return Ok("No connections are tracked.\n".into());
    }
    entries.sort_by_key(|(k, _)| *k);
    let now = boot_ns();
    let mut out = String::new();
    for (k, v) in entries {
        let idle = now.saturating_sub(v.last_ns) / 1_000_000_000;
        let _ = writeln!(
            out,
            "{} OUT {}:{} -> {}:{} last_seen={idle}s ago RxPackets={} RxBytes={} TxPackets={} TxBytes={} Flags=0x{:02x}/0x{:02x} state=0x{:02x} SourceSecurityID={}",
            proto_name(k.proto),
            k.saddr,
            k.sport,
            k.daddr,
            k.dport,
            v.rev_packets,
            v.rev_bytes,
            v.fwd_packets,
            v.fwd_bytes,
            v.fwd_flags,
            v.rev_flags,
            v.state,
            v.src_identity
        );
    }
    Ok(out)
}

/// The kernel's monotonic clock (`bpf_ktime_get_ns`).
fn boot_ns() -> u64 {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .map(|t| {
            u64::try_from(t.tv_sec()).unwrap_or(0) * 1_000_000_000
                + u64::try_from(t.tv_nsec()).unwrap_or(0)
        })
        .unwrap_or(0)
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
    let rows: Vec<Vec<String>> = svcs
        .iter()
        .map(|(k, v)| {
            let mut lines = vec![format!("0.0.0.0:0 ({}) (0) [ClusterIP]", v.id)];
            for slot in 0..v.count {
                if let Some((ip, port)) = backends.get(&(v.id, slot)) {
                    lines.push(format!("{ip}:{port} ({}) ({})", v.id, slot + 1));
                }
            }
            vec![format!("{}:{}", k.vip, k.port), lines.join("\n")]
        })
        .collect();
    Ok(table(
        &["SERVICE ADDRESS", "BACKEND ADDRESS (REVNAT_ID) (SLOT)"],
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
    if entries.is_empty() {
        return Ok(format!(
            "Endpoint {endpoint} has no policy entries: no policy selects it, every packet is allowed.\n"
        ));
    }
    entries.sort_by_key(|(k, _)| (k.identity, k.dport, k.proto));
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|(k, v)| {
            let port = match (k.dport, k.proto) {
                (0, 0) => "ANY".to_string(),
                (0, p) => format!("ANY/{}", proto_name(p)),
                (d, p) => format!("{d}/{}", proto_name(p)),
            };
            let prefix = match (k.dport, k.proto) {
                (0, 0) => 0,
                (0, _) => 8,
                _ => 24,
            };
            vec![
                if v.verdict == VERDICT_DENY {
                    "Deny".into()
                } else {
                    "Allow".into()
                },
                "Ingress".into(),
                g.labels(k.identity).join("\n"),
                port,
                if v.verdict == VERDICT_REDIRECT {
                    v.proxy_port.to_string()
                } else {
                    "NONE".into()
                },
                "Disabled".into(),
                v.bytes.to_string(),
                v.packets.to_string(),
                prefix.to_string(),
            ]
        })
        .collect();
    Ok(table(
        &[
            "POLICY",
            "DIRECTION",
            "LABELS (source:key[=value])",
            "PORT/PROTO",
            "PROXY PORT",
            "AUTH TYPE",
            "BYTES",
            "PACKETS",
            "PREFIX",
        ],
        &rows,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_like_cilium_and_cells_may_span_lines() {
        let rows = vec![
            vec![
                "Allow".to_string(),
                "k8s:a=b\nk8s:c=d".to_string(),
                "80/TCP".to_string(),
            ],
            vec![
                "Deny".to_string(),
                "reserved:unknown".to_string(),
                "ANY".to_string(),
            ],
        ];
        assert_eq!(
            table(&["POLICY", "LABELS", "PORT"], &rows),
            "POLICY   LABELS             PORT\n\
             Allow    k8s:a=b            80/TCP\n\
             \x20        k8s:c=d\n\
             Deny     reserved:unknown   ANY\n"
        );
    }
}
