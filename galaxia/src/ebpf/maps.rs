//! The BPF maps of `bpf/galaxia.h`, byte for byte: each key and value is encoded to and decoded
//! from a fixed-size byte array at the offsets the header gives (the kernel's native byte order
//! for numbers, network order for addresses and packet ports), so no `unsafe` cast is needed
//! between Rust structs and the kernel's bytes. A change of layout is a change of both files.

use std::net::Ipv4Addr;

use aya::maps::{HashMap, Map, MapData, MapError};

/// The maps' names in the object (and in `bpftool map show`).
pub const IPCACHE: &str = "galaxia_ipcache";
pub const LXC: &str = "galaxia_lxc";
pub const POLICY: &str = "galaxia_policy";
pub const CT: &str = "galaxia_ct";
pub const LB4_SVC: &str = "galaxia_lb4_svc";
pub const LB4_BE: &str = "galaxia_lb4_be";
pub const LB4_REV: &str = "galaxia_lb4_rev";
pub const EVENTS: &str = "galaxia_events";

/// The maps userspace reads and writes (the ring buffer has its own reader).
pub const TABLES: [&str; 6] = [IPCACHE, LXC, POLICY, CT, LB4_SVC, LB4_BE];

pub const VERDICT_ALLOW: u8 = 1;
pub const VERDICT_DENY: u8 = 2;
pub const VERDICT_REDIRECT: u8 = 3;
pub const EP_ENFORCE_INGRESS: u8 = 1;
pub const CT_INGRESS_SEEN: u8 = 1;
pub const CT_PROXY: u8 = 2;
pub const CT_FROM_POD: u8 = 4;
pub const PROTO_ANY: u8 = 0;
pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;

pub type IpKey = [u8; 4];

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_ne_bytes(a)
}

fn ip_at(b: &[u8], at: usize) -> Ipv4Addr {
    Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3])
}

/// A port as the packet carries it (network order) at `at`.
fn port_at(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// `struct ipcache_val`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpcacheVal {
    pub identity: u32,
    pub node: u8,
}

impl IpcacheVal {
    pub fn encode(&self) -> [u8; 8] {
        let mut b = [0u8; 8];
        b[0..4].copy_from_slice(&self.identity.to_ne_bytes());
        b[4] = self.node;
        b
    }

    pub fn decode(b: &[u8; 8]) -> IpcacheVal {
        IpcacheVal {
            identity: u32_at(b, 0),
            node: b[4],
        }
    }
}

/// `struct endpoint_val`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointVal {
    pub id: u16,
    pub node: u8,
    pub flags: u8,
    pub identity: u32,
    pub ifindex: u32,
    pub host_ip: Ipv4Addr,
}

impl EndpointVal {
    pub fn encode(&self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[0..2].copy_from_slice(&self.id.to_ne_bytes());
        b[2] = self.node;
        b[3] = self.flags;
        b[4..8].copy_from_slice(&self.identity.to_ne_bytes());
        b[8..12].copy_from_slice(&self.ifindex.to_ne_bytes());
        b[12..16].copy_from_slice(&self.host_ip.octets());
        b
    }

    pub fn decode(b: &[u8; 16]) -> EndpointVal {
        EndpointVal {
            id: u16_at(b, 0),
            node: b[2],
            flags: b[3],
            identity: u32_at(b, 4),
            ifindex: u32_at(b, 8),
            host_ip: ip_at(b, 12),
        }
    }
}

/// `struct policy_key`: port 0 is every port, protocol 0 every protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PolicyKey {
    pub endpoint: u16,
    pub identity: u32,
    pub dport: u16,
    pub proto: u8,
}

impl PolicyKey {
    pub fn encode(&self) -> [u8; 12] {
        let mut b = [0u8; 12];
        b[0..4].copy_from_slice(&self.identity.to_ne_bytes());
        b[4..6].copy_from_slice(&self.endpoint.to_ne_bytes());
        b[6..8].copy_from_slice(&self.dport.to_ne_bytes());
        b[8] = self.proto;
        b
    }

    pub fn decode(b: &[u8; 12]) -> PolicyKey {
        PolicyKey {
            identity: u32_at(b, 0),
            endpoint: u16_at(b, 4),
            dport: u16_at(b, 6),
            proto: b[8],
        }
    }
}

/// `struct policy_val`; the counters belong to the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyVal {
    pub verdict: u8,
    pub match_type: u8,
    pub proxy_port: u16,
    pub packets: u64,
    pub bytes: u64,
}

impl PolicyVal {
    pub fn encode(&self) -> [u8; 24] {
        let mut b = [0u8; 24];
        b[0] = self.verdict;
        b[1] = self.match_type;
        b[2..4].copy_from_slice(&self.proxy_port.to_ne_bytes());
        b[8..16].copy_from_slice(&self.packets.to_ne_bytes());
        b[16..24].copy_from_slice(&self.bytes.to_ne_bytes());
        b
    }

    pub fn decode(b: &[u8; 24]) -> PolicyVal {
        PolicyVal {
            verdict: b[0],
            match_type: b[1],
            proxy_port: u16_at(b, 2),
            packets: u64_at(b, 8),
            bytes: u64_at(b, 16),
        }
    }

    /// The same decision (counters aside).
    pub fn same_rule(&self, other: &PolicyVal) -> bool {
        (self.verdict, self.match_type, self.proxy_port)
            == (other.verdict, other.match_type, other.proxy_port)
    }
}

/// `struct ct_key`: a connection in its original direction. Ports in host order here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CtKey {
    pub saddr: Ipv4Addr,
    pub daddr: Ipv4Addr,
    pub sport: u16,
    pub dport: u16,
    pub proto: u8,
}

impl CtKey {
    pub fn decode(b: &[u8; 16]) -> CtKey {
        CtKey {
            saddr: ip_at(b, 0),
            daddr: ip_at(b, 4),
            sport: port_at(b, 8),
            dport: port_at(b, 10),
            proto: b[12],
        }
    }
}

/// `struct ct_val`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CtVal {
    pub created_ns: u64,
    pub last_ns: u64,
    pub fwd_packets: u64,
    pub fwd_bytes: u64,
    pub rev_packets: u64,
    pub rev_bytes: u64,
    pub fwd_report_ns: u64,
    pub rev_report_ns: u64,
    pub fwd_flags: u8,
    pub rev_flags: u8,
    pub state: u8,
    pub src_identity: u32,
}

impl CtVal {
    pub fn decode(b: &[u8; 72]) -> CtVal {
        CtVal {
            created_ns: u64_at(b, 0),
            last_ns: u64_at(b, 8),
            fwd_packets: u64_at(b, 16),
            fwd_bytes: u64_at(b, 24),
            rev_packets: u64_at(b, 32),
            rev_bytes: u64_at(b, 40),
            fwd_report_ns: u64_at(b, 48),
            rev_report_ns: u64_at(b, 56),
            fwd_flags: b[64],
            rev_flags: b[65],
            state: b[66],
            src_identity: u32_at(b, 68),
        }
    }
}

/// `struct svc_key`: a Service frontend; the port in host order here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SvcKey {
    pub vip: Ipv4Addr,
    pub port: u16,
    pub proto: u8,
}

impl SvcKey {
    pub fn encode(&self) -> [u8; 8] {
        let mut b = [0u8; 8];
        b[0..4].copy_from_slice(&self.vip.octets());
        b[4..6].copy_from_slice(&self.port.to_be_bytes());
        b[6] = self.proto;
        b
    }

    pub fn decode(b: &[u8; 8]) -> SvcKey {
        SvcKey {
            vip: ip_at(b, 0),
            port: port_at(b, 4),
            proto: b[6],
        }
    }
}

/// `struct svc_val`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SvcVal {
    pub count: u16,
    pub id: u16,
}

impl SvcVal {
    pub fn encode(&self) -> [u8; 8] {
        let mut b = [0u8; 8];
        b[0..2].copy_from_slice(&self.count.to_ne_bytes());
        b[2..4].copy_from_slice(&self.id.to_ne_bytes());
        b
    }

    pub fn decode(b: &[u8; 8]) -> SvcVal {
        SvcVal {
            count: u16_at(b, 0),
            id: u16_at(b, 2),
        }
    }
}

/// `struct backend_key`.
pub fn backend_key(svc: u16, slot: u16) -> [u8; 4] {
    let mut b = [0u8; 4];
    b[0..2].copy_from_slice(&svc.to_ne_bytes());
    b[2..4].copy_from_slice(&slot.to_ne_bytes());
    b
}

/// `struct backend_val`: a backend address, the port in host order here.
pub fn backend_val(ip: Ipv4Addr, port: u16) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[0..4].copy_from_slice(&ip.octets());
    b[4..6].copy_from_slice(&port.to_be_bytes());
    b
}

pub fn decode_backend(k: &[u8; 4], v: &[u8; 8]) -> (u16, u16, Ipv4Addr, u16) {
    (u16_at(k, 0), u16_at(k, 2), ip_at(v, 0), port_at(v, 4))
}

/// `struct event`, one ring buffer record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub kind: u8,
    pub subtype: u8,
    pub tcp_flags: u8,
    pub proto: u8,
    pub verdict: i8,
    pub match_type: u8,
    pub is_reply: u8,
    pub saddr: Ipv4Addr,
    pub daddr: Ipv4Addr,
    pub sport: u16,
    pub dport: u16,
    pub src_identity: u32,
    pub dst_identity: u32,
    pub endpoint: u16,
    pub proxy_port: u16,
    pub len: u32,
    pub ktime_ns: u64,
}

pub const EVENT_LEN: usize = 48;
pub const EVENT_DROP: u8 = 1;
pub const EVENT_TRACE: u8 = 4;
pub const EVENT_POLICY_VERDICT: u8 = 5;
pub const REPLY_NO: u8 = 0;
pub const REPLY_YES: u8 = 1;

impl Event {
    /// A record of the ring buffer; `None` when it is not one of ours (a shorter record).
    pub fn decode(b: &[u8]) -> Option<Event> {
        if b.len() < EVENT_LEN {
            return None;
        }
        Some(Event {
            kind: b[0],
            subtype: b[1],
            tcp_flags: b[2],
            proto: b[3],
            verdict: i8::from_ne_bytes([b[4]]),
            match_type: b[5],
            is_reply: b[6],
            saddr: ip_at(b, 8),
            daddr: ip_at(b, 12),
            sport: port_at(b, 16),
            dport: port_at(b, 18),
            src_identity: u32_at(b, 20),
            dst_identity: u32_at(b, 24),
            endpoint: u16_at(b, 28),
            proxy_port: u16_at(b, 30),
            len: u32_at(b, 32),
            ktime_ns: u64_at(b, 40),
        })
    }
}

/// A hash map of the object (or of a running galaxy, by id), with byte-array keys and values.
pub type Table<const K: usize, const V: usize> = HashMap<MapData, [u8; K], [u8; V]>;

/// Open the map `id` of a running galaxy (`galaxia bpf ...` does, as `cilium bpf` opens pins).
pub fn open<const K: usize, const V: usize>(id: u32, lru: bool) -> Result<Table<K, V>, MapError> {
    let data = MapData::from_id(id)?;
    let map = if lru {
        Map::LruHashMap(data)
    } else {
        Map::HashMap(data)
    };
    HashMap::try_from(map)
}

/// Every entry of a table (entries removed while iterating are skipped).
pub fn entries<const K: usize, const V: usize>(t: &Table<K, V>) -> Vec<([u8; K], [u8; V])> {
    t.iter().filter_map(Result::ok).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_round_trip_at_the_headers_offsets() {
        let ep = EndpointVal {
            id: 1234,
            node: 2,
            flags: EP_ENFORCE_INGRESS,
            identity: 31_337,
            ifindex: 9,
            host_ip: Ipv4Addr::new(10, 244, 2, 1),
        };
        assert_eq!(EndpointVal::decode(&ep.encode()), ep);
        assert_eq!(&ep.encode()[12..], &[10, 244, 2, 1]);
        let k = PolicyKey {
            endpoint: 7,
            identity: 300,
            dport: 80,
            proto: PROTO_TCP,
        };
        assert_eq!(PolicyKey::decode(&k.encode()), k);
        let v = PolicyVal {
            verdict: VERDICT_REDIRECT,
            match_type: 2,
            proxy_port: 15001,
            packets: 5,
            bytes: 320,
        };
        assert_eq!(PolicyVal::decode(&v.encode()), v);
        let s = SvcKey {
            vip: Ipv4Addr::new(10, 96, 7, 8),
            port: 80,
            proto: PROTO_TCP,
        };
        assert_eq!(&s.encode()[4..6], &[0, 80], "the port in network order");
        assert_eq!(SvcKey::decode(&s.encode()), s);
        let (svc, slot, ip, port) = decode_backend(
            &backend_key(3, 1),
            &backend_val(Ipv4Addr::new(10, 244, 1, 5), 80),
        );
        assert_eq!(
            (svc, slot, ip, port),
            (3, 1, Ipv4Addr::new(10, 244, 1, 5), 80)
        );
    }

    #[test]
    fn events_decode_from_the_kernels_bytes() {
        let mut b = [0u8; EVENT_LEN];
        b[0] = EVENT_DROP;
        b[1] = 133;
        b[2] = 1;
        b[3] = 6;
        b[4] = 0xff; // -1: denied
        b[6] = 2;
        b[8..12].copy_from_slice(&[10, 244, 3, 9]);
        b[12..16].copy_from_slice(&[10, 244, 1, 5]);
        b[16..18].copy_from_slice(&40_000u16.to_be_bytes());
        b[18..20].copy_from_slice(&80u16.to_be_bytes());
        b[20..24].copy_from_slice(&777u32.to_ne_bytes());
        b[40..48].copy_from_slice(&123u64.to_ne_bytes());
        let e = Event::decode(&b).expect("an event");
        assert_eq!((e.kind, e.subtype, e.verdict), (EVENT_DROP, 133, -1));
        assert_eq!((e.sport, e.dport, e.src_identity), (40_000, 80, 777));
        assert_eq!(e.saddr, Ipv4Addr::new(10, 244, 3, 9));
        assert_eq!(e.ktime_ns, 123);
        assert!(Event::decode(&b[..47]).is_none());
    }
}
