//! Hubble's flow filters (the server side of `GetFlows`' whitelist and blacklist, Cilium 1.15):
//! a flow passes when it matches at least one whitelist filter (or the whitelist is empty) and no
//! blacklist filter. Inside one [`FlowFilter`] every field that is set must match (AND); inside
//! one field, any of its values may (OR).
//!
//! A filter that cannot be built is refused with Cilium's message ([`FilterError`]'s Display),
//! which the Hubble CLI prints as is. Fields are checked in Cilium's order (uuid, event type,
//! verdict, reply, identity, protocol, IP, pod, workload, service, FQDN, labels, port, HTTP, TCP
//! flags, node name, IP version, trace id, traffic direction), so the first error reported is the
//! one Cilium reports.

use std::net::IpAddr;

use regex::Regex;

use super::proto::flow::{
    EventTypeFilter, Flow, FlowFilter, HttpHeader, TcpFlags, Workload, layer4, layer7,
};
use super::proto::observer::{GetFlowsResponse, get_flows_response::ResponseTypes};

/// Why a flow filter cannot be built; the Display is Cilium's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("invalid protocol filter: unknown protocol: {}", go_quote(.0))]
    UnknownProtocol(String),
    #[error("invalid CIDR in filter: {}", go_quote(.0))]
    InvalidCidr(String),
    #[error("invalid IP address in filter: {}", go_quote(.0))]
    InvalidIp(String),
    /// A pod filter with an empty name.
    #[error("invalid filter, name must not be empty")]
    EmptyName,
    #[error("invalid {0} service filter: invalid filter, name must not be empty")]
    EmptyServiceName(Side),
    /// An FQDN or node name pattern.
    #[error("{0}")]
    Pattern(PatternError),
    #[error("invalid DNS query filter: failed to compile regexp: {0}")]
    DnsQuery(String),
    /// A label selector that does not parse; `message` is Kubernetes' parser's.
    #[error("invalid {side} label filter: {message}")]
    Label { side: Side, message: String },
    #[error("invalid {side} port filter: invalid port {}: {}", go_quote(.port), .reason)]
    Port {
        side: Side,
        port: String,
        reason: String,
    },
    /// An HTTP filter next to an event type filter that cannot match L7 events.
    #[error("filtering by {0} requires the event type filter to only match 'l7' events")]
    HttpNeedsL7(&'static str),
    #[error("invalid http status code filter: invalid status code prefix: {}", go_quote(.0))]
    HttpStatus(String),
    /// An HTTP path or URL regexp (Go's `error parsing regexp: ...` message in `message`).
    #[error("invalid http {what} filter: {pattern}: {message}")]
    HttpRegexp {
        what: &'static str,
        pattern: String,
        message: String,
    },
}

/// Which end of a flow a filter field is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Source,
    Destination,
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Side::Source => "source",
            Side::Destination => "destination",
        })
    }
}

/// An FQDN or node-name glob that Cilium refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("empty pattern")]
    Empty,
    #[error("multiple trailing dots in pattern")]
    MultipleTrailingDots,
    #[error("too many slashes in pattern")]
    TooManySlashes,
    #[error("{}: invalid rune in pattern", go_quote_rune(*.0))]
    InvalidRune(char),
}

/// A compiled whitelist and blacklist.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    whitelist: Vec<Compiled>,
    blacklist: Vec<Compiled>,
}

/// Build the filters of a GetFlows request (whitelist first, as Cilium does).
pub fn compile(whitelist: &[FlowFilter], blacklist: &[FlowFilter]) -> Result<Filters, FilterError> {
    Ok(Filters {
        whitelist: whitelist
            .iter()
            .map(Compiled::new)
            .collect::<Result<_, _>>()?,
        blacklist: blacklist
            .iter()
            .map(Compiled::new)
            .collect::<Result<_, _>>()?,
    })
}

impl Filters {
    /// Does `flow` pass (some whitelist filter, or none given, and no blacklist filter)?
    pub fn matches(&self, flow: &Flow) -> bool {
        self.matches_event(Some(flow))
    }

    /// The same for a response read from a file: a response without a flow (a lost event) is
    /// judged as Cilium's filters judge a missing flow, where nearly every field fails to match.
    /// (The server never filters lost events; this is for `--input-file`.)
    pub fn matches_response(&self, r: &GetFlowsResponse) -> bool {
        match &r.response_types {
            Some(ResponseTypes::Flow(f)) => self.matches_event(Some(f)),
            _ => self.matches_event(None),
        }
    }

    fn matches_event(&self, flow: Option<&Flow>) -> bool {
        let white = self.whitelist.is_empty() || self.whitelist.iter().any(|c| c.matches(flow));
        white && !self.blacklist.iter().any(|c| c.matches(flow))
    }

    /// True when nothing is filtered.
    pub fn is_empty(&self) -> bool {
        self.whitelist.is_empty() && self.blacklist.is_empty()
    }
}

/// One FlowFilter: all of its predicates must hold.
#[derive(Debug, Clone)]
struct Compiled(Vec<Pred>);

#[derive(Debug, Clone)]
enum Pred {
    Uuid(Vec<String>),
    EventType(Vec<EventTypeFilter>),
    Verdict(Vec<i32>),
    Reply(Vec<bool>),
    Identity(Side, Vec<u32>),
    Protocol(Vec<Proto>),
    Ip(Side, IpMatcher),
    Pod(Side, Vec<NameFilter>),
    Workload(Side, Vec<Workload>),
    Service(Side, Vec<NameFilter>),
    Fqdn(Side, Regex),
    /// DNS query regexps (checked when building; our flows carry no DNS records).
    DnsQuery,
    Label(Side, Vec<selector::Selector>),
    Port(Side, Vec<u16>),
    HttpStatus {
        full: Vec<String>,
        prefix: Vec<String>,
    },
    HttpMethod(Vec<String>),
    HttpPath(Vec<Regex>),
    HttpUrl(Vec<Regex>),
    HttpHeader(Vec<HttpHeader>),
    TcpFlags(Vec<TcpFlags>),
    NodeName(Regex),
    IpVersion(Vec<i32>),
    TraceId(Vec<String>),
    TrafficDirection(Vec<i32>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proto {
    Icmp,
    Icmpv4,
    Icmpv6,
    Tcp,
    Udp,
    Sctp,
    Dns,
    Http,
    Kafka,
}

#[derive(Debug, Clone)]
struct NameFilter {
    ns: String,
    prefix: String,
}

#[derive(Debug, Clone)]
struct IpMatcher {
    exact: Vec<String>,
    cidrs: Vec<(IpAddr, u8)>,
}

impl Compiled {
    fn new(ff: &FlowFilter) -> Result<Compiled, FilterError> {
        use Side::{Destination, Source};
        let mut p = Vec::new();
        if !ff.uuid.is_empty() {
            p.push(Pred::Uuid(ff.uuid.clone()));
        }
        if !ff.event_type.is_empty() {
            p.push(Pred::EventType(ff.event_type.clone()));
        }
        if !ff.verdict.is_empty() {
            p.push(Pred::Verdict(ff.verdict.clone()));
        }
        if !ff.reply.is_empty() {
            p.push(Pred::Reply(ff.reply.clone()));
        }
        if !ff.source_identity.is_empty() {
            p.push(Pred::Identity(Source, ff.source_identity.clone()));
        }
        if !ff.destination_identity.is_empty() {
            p.push(Pred::Identity(Destination, ff.destination_identity.clone()));
        }
        if !ff.protocol.is_empty() {
            p.push(Pred::Protocol(protocols(&ff.protocol)?));
        }
        if !ff.source_ip.is_empty() {
            p.push(Pred::Ip(Source, ip_matcher(&ff.source_ip)?));
        }
        if !ff.destination_ip.is_empty() {
            p.push(Pred::Ip(Destination, ip_matcher(&ff.destination_ip)?));
        }
        if !ff.source_pod.is_empty() {
            p.push(Pred::Pod(
                Source,
                names(&ff.source_pod).ok_or(FilterError::EmptyName)?,
            ));
        }
        if !ff.destination_pod.is_empty() {
            p.push(Pred::Pod(
                Destination,
                names(&ff.destination_pod).ok_or(FilterError::EmptyName)?,
            ));
        }
        if !ff.source_workload.is_empty() {
            p.push(Pred::Workload(Source, ff.source_workload.clone()));
        }
        if !ff.destination_workload.is_empty() {
            p.push(Pred::Workload(Destination, ff.destination_workload.clone()));
        }
        if !ff.source_service.is_empty() {
            let n = names(&ff.source_service).ok_or(FilterError::EmptyServiceName(Source))?;
            p.push(Pred::Service(Source, n));
        }
        if !ff.destination_service.is_empty() {
            let n =
                names(&ff.destination_service).ok_or(FilterError::EmptyServiceName(Destination))?;
            p.push(Pred::Service(Destination, n));
        }
        if !ff.source_fqdn.is_empty() {
            p.push(Pred::Fqdn(Source, fqdn_regex(&ff.source_fqdn)?));
        }
        if !ff.destination_fqdn.is_empty() {
            p.push(Pred::Fqdn(Destination, fqdn_regex(&ff.destination_fqdn)?));
        }
        if !ff.dns_query.is_empty() {
            for q in &ff.dns_query {
                go_regexp(q).map_err(FilterError::DnsQuery)?;
            }
            p.push(Pred::DnsQuery);
        }
        for (side, sels) in [
            (Source, &ff.source_label),
            (Destination, &ff.destination_label),
        ] {
            if !sels.is_empty() {
                let parsed = sels
                    .iter()
                    .map(|s| selector::parse(s))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|message| FilterError::Label { side, message })?;
                p.push(Pred::Label(side, parsed));
            }
        }
        for (side, ports) in [
            (Source, &ff.source_port),
            (Destination, &ff.destination_port),
        ] {
            if !ports.is_empty() {
                let parsed = ports
                    .iter()
                    .map(|s| {
                        go_parse_uint(s, 16)
                            .map(|n| n as u16)
                            .map_err(|reason| FilterError::Port {
                                side,
                                port: s.clone(),
                                reason,
                            })
                    })
                    .collect::<Result<_, _>>()?;
                p.push(Pred::Port(side, parsed));
            }
        }
        http_preds(ff, &mut p)?;
        if !ff.tcp_flags.is_empty() {
            p.push(Pred::TcpFlags(ff.tcp_flags.clone()));
        }
        if !ff.node_name.is_empty() {
            p.push(Pred::NodeName(node_name_regex(&ff.node_name)?));
        }
        if !ff.ip_version.is_empty() {
            p.push(Pred::IpVersion(ff.ip_version.clone()));
        }
        if !ff.trace_id.is_empty() {
            p.push(Pred::TraceId(ff.trace_id.clone()));
        }
        if !ff.traffic_direction.is_empty() {
            p.push(Pred::TrafficDirection(ff.traffic_direction.clone()));
        }
        Ok(Compiled(p))
    }

    fn matches(&self, flow: Option<&Flow>) -> bool {
        self.0.iter().all(|p| p.matches(flow))
    }
}

fn http_preds(ff: &FlowFilter, p: &mut Vec<Pred>) -> Result<(), FilterError> {
    // HTTP fields only exist on L7 events: an event type filter must allow them.
    let l7_ok = ff.event_type.is_empty()
        || ff
            .event_type
            .iter()
            .any(|t| t.r#type == super::printer::MSG_ACCESS_LOG);
    let need = |what| {
        if l7_ok {
            Ok(())
        } else {
            Err(FilterError::HttpNeedsL7(what))
        }
    };
    if !ff.http_status_code.is_empty() {
        need("http status code")?;
        let (mut full, mut prefix) = (Vec::new(), Vec::new());
        for s in &ff.http_status_code {
            let b = s.as_bytes();
            let digit = |c: u8| c.is_ascii_digit();
            if b.len() == 3 && (b'1'..=b'5').contains(&b[0]) && digit(b[1]) && digit(b[2]) {
                full.push(s.clone());
            } else if (b.len() == 2 || b.len() == 3)
                && (b'1'..=b'5').contains(&b[0])
                && b[b.len() - 1] == b'+'
                && (b.len() == 2 || digit(b[1]))
            {
                prefix.push(s[..s.len() - 1].to_string());
            } else {
                return Err(FilterError::HttpStatus(s.clone()));
            }
        }
        p.push(Pred::HttpStatus { full, prefix });
    }
    if !ff.http_method.is_empty() {
        need("http method")?;
        p.push(Pred::HttpMethod(ff.http_method.clone()));
    }
    let regexps = |what: &'static str, pats: &[String]| -> Result<Vec<Regex>, FilterError> {
        pats.iter()
            .map(|pat| {
                go_regexp(pat).map_err(|message| FilterError::HttpRegexp {
                    what,
                    pattern: pat.clone(),
                    message,
                })
            })
            .collect()
    };
    if !ff.http_path.is_empty() {
        need("http path")?;
        p.push(Pred::HttpPath(regexps("path", &ff.http_path)?));
    }
    if !ff.http_url.is_empty() {
        need("http url")?;
        p.push(Pred::HttpUrl(regexps("url", &ff.http_url)?));
    }
    if !ff.http_header.is_empty() {
        need("http headers")?;
        p.push(Pred::HttpHeader(ff.http_header.clone()));
    }
    Ok(())
}

fn protocols(values: &[String]) -> Result<Vec<Proto>, FilterError> {
    values
        .iter()
        .map(|v| {
            Ok(match v.to_lowercase().as_str() {
                "icmp" => Proto::Icmp,
                "icmpv4" => Proto::Icmpv4,
                "icmpv6" => Proto::Icmpv6,
                "tcp" => Proto::Tcp,
                "udp" => Proto::Udp,
                "sctp" => Proto::Sctp,
                "dns" => Proto::Dns,
                "http" => Proto::Http,
                "kafka" => Proto::Kafka,
                _ => return Err(FilterError::UnknownProtocol(v.clone())),
            })
        })
        .collect()
}

fn ip_matcher(values: &[String]) -> Result<IpMatcher, FilterError> {
    let mut m = IpMatcher {
        exact: Vec::new(),
        cidrs: Vec::new(),
    };
    for v in values {
        if v.contains('/') {
            m.cidrs
                .push(parse_cidr(v).ok_or_else(|| FilterError::InvalidCidr(v.clone()))?);
        } else {
            v.parse::<IpAddr>()
                .map_err(|_| FilterError::InvalidIp(v.clone()))?;
            m.exact.push(v.clone());
        }
    }
    Ok(m)
}

/// `addr/len` as Go's `net.ParseCIDR` reads it; an IPv4-mapped IPv6 network is an IPv4 one.
fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (addr, len) = s.split_once('/')?;
    let ip: IpAddr = addr.parse().ok()?;
    if len.is_empty() || len.len() > 3 || !len.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let len: u8 = len.parse().ok()?;
    match ip {
        IpAddr::V4(_) if len <= 32 => Some((ip, len)),
        IpAddr::V6(v6) if len <= 128 => match v6.to_ipv4_mapped() {
            Some(v4) => Some((IpAddr::V4(v4), len.saturating_sub(96))),
            None => Some((ip, len)),
        },
        _ => None,
    }
}

fn cidr_contains(net: &(IpAddr, u8), ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    match (net.0, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let mask = if net.1 == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(net.1))
            };
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let mask = if net.1 == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(net.1))
            };
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

/// `ns/prefix`, `name` (namespace `default`), `ns/` (any pod of ns), `/prefix` (any namespace);
/// `None` when a value is empty.
fn names(values: &[String]) -> Option<Vec<NameFilter>> {
    values
        .iter()
        .map(|v| {
            if v.is_empty() {
                return None;
            }
            let mut parts = v.split('/');
            let first = parts.next().unwrap_or_default();
            Some(match parts.next() {
                Some(name) => NameFilter {
                    ns: first.to_string(),
                    prefix: name.to_string(),
                },
                None => NameFilter {
                    ns: "default".into(),
                    prefix: first.to_string(),
                },
            })
        })
        .collect()
}

const FQDN_RE: &str = r"(?:[-0-9_a-z]+(?:\.[-0-9_a-z]+)*)";

fn push_fqdn_pattern(out: &mut String, pattern: &str) -> Result<(), PatternError> {
    let p = pattern.trim();
    let p = p.strip_suffix('.').unwrap_or(p).to_lowercase();
    if p.is_empty() {
        return Err(PatternError::Empty);
    }
    if p.ends_with('.') {
        return Err(PatternError::MultipleTrailingDots);
    }
    for c in p.chars() {
        match c {
            '.' => out.push_str(r"\."),
            '*' => out.push_str("[-.0-9a-z]*"),
            '-' | '0'..='9' | '_' | 'a'..='z' => out.push(c),
            other => return Err(PatternError::InvalidRune(other)),
        }
    }
    Ok(())
}

fn anchored(body: String) -> Regex {
    // Built only from escaped literals and fixed classes, so it always compiles.
    Regex::new(&format!(r"\A(?:{body})\z")).unwrap_or_else(|_| never())
}

/// A regexp that matches nothing (a fallback that cannot be reached).
fn never() -> Regex {
    #[allow(clippy::unwrap_used)]
    Regex::new(r"[^\s\S]").unwrap()
}

fn fqdn_regex(patterns: &[String]) -> Result<Regex, FilterError> {
    let mut body = String::new();
    for (i, p) in patterns.iter().enumerate() {
        if i > 0 {
            body.push('|');
        }
        push_fqdn_pattern(&mut body, p).map_err(FilterError::Pattern)?;
    }
    Ok(anchored(body))
}

fn node_name_regex(patterns: &[String]) -> Result<Regex, FilterError> {
    let mut body = String::new();
    for (i, p) in patterns.iter().enumerate() {
        if i > 0 {
            body.push('|');
        }
        if p.is_empty() {
            return Err(FilterError::Pattern(PatternError::Empty));
        }
        let parts: Vec<&str> = p.split('/').collect();
        let (cluster, node) = match parts.as_slice() {
            [node] => ("", *node),
            [cluster, node] => (*cluster, *node),
            _ => return Err(FilterError::Pattern(PatternError::TooManySlashes)),
        };
        for (j, part) in [cluster, node].into_iter().enumerate() {
            if j == 1 {
                body.push('/');
            }
            if part.is_empty() {
                body.push_str(FQDN_RE);
            } else {
                push_fqdn_pattern(&mut body, part).map_err(FilterError::Pattern)?;
            }
        }
    }
    Ok(anchored(body))
}

impl Pred {
    fn matches(&self, flow: Option<&Flow>) -> bool {
        let Some(f) = flow else {
            return self.matches_missing_flow();
        };
        let ep = |side: &Side| match side {
            Side::Source => f.source.as_ref(),
            Side::Destination => f.destination.as_ref(),
        };
        let http = || {
            f.l7.as_ref()
                .and_then(|l| l.record.as_ref())
                .map(|layer7::Record::Http(h)| h)
        };
        match self {
            Pred::Uuid(ids) => ids.contains(&f.uuid),
            Pred::EventType(types) => {
                let Some(et) = &f.event_type else {
                    return false;
                };
                types.iter().any(|t| {
                    (t.r#type == 0 || t.r#type == et.r#type)
                        && (!t.match_sub_type || t.sub_type == et.sub_type)
                })
            }
            Pred::Verdict(vs) => vs.contains(&f.verdict),
            Pred::Reply(rs) => {
                // Drops have no reply flag; they count as requests.
                if f.is_reply.is_none() && f.verdict != 2 {
                    return false;
                }
                rs.contains(&f.is_reply.unwrap_or(false))
            }
            Pred::Identity(side, ids) => ep(side).is_some_and(|e| ids.contains(&e.identity)),
            Pred::Protocol(ps) => {
                let l4 = f.l4.as_ref().and_then(|l| l.protocol.as_ref());
                ps.iter().any(|p| match p {
                    Proto::Tcp => matches!(l4, Some(layer4::Protocol::Tcp(_))),
                    Proto::Udp => matches!(l4, Some(layer4::Protocol::Udp(_))),
                    Proto::Http => http().is_some(),
                    // Our flows carry no ICMP, SCTP, DNS or Kafka records.
                    Proto::Icmp | Proto::Icmpv4 | Proto::Icmpv6 | Proto::Sctp => false,
                    Proto::Dns | Proto::Kafka => false,
                })
            }
            Pred::Ip(side, m) => {
                let ip = f.ip.as_ref().map_or("", |ip| match side {
                    Side::Source => ip.source.as_str(),
                    Side::Destination => ip.destination.as_str(),
                });
                if ip.is_empty() {
                    return false;
                }
                if m.exact.iter().any(|e| e == ip) {
                    return true;
                }
                match ip.parse::<IpAddr>() {
                    Ok(addr) => m.cidrs.iter().any(|c| cidr_contains(c, addr)),
                    Err(_) => false,
                }
            }
            Pred::Pod(side, filters) => {
                let (ns, name) =
                    ep(side).map_or(("", ""), |e| (e.namespace.as_str(), e.pod_name.as_str()));
                name_matches(filters, ns, name)
            }
            Pred::Service(side, filters) => {
                let svc = match side {
                    Side::Source => f.source_service.as_ref(),
                    Side::Destination => f.destination_service.as_ref(),
                };
                let (ns, name) = svc.map_or(("", ""), |s| (s.namespace.as_str(), s.name.as_str()));
                name_matches(filters, ns, name)
            }
            Pred::Workload(side, filters) => ep(side).is_some_and(|e| {
                e.workloads.iter().any(|w| {
                    filters.iter().any(|fw| {
                        (fw.name.is_empty() || fw.name == w.name)
                            && (fw.kind.is_empty() || fw.kind == w.kind)
                    })
                })
            }),
            Pred::Fqdn(side, re) => {
                let names = match side {
                    Side::Source => &f.source_names,
                    Side::Destination => &f.destination_names,
                };
                names.iter().any(|n| re.is_match(n))
            }
            // Our flows carry no DNS records.
            Pred::DnsQuery => false,
            Pred::Label(side, sels) => {
                let labels = selector::LabelArray::parse(ep(side).map_or(&[][..], |e| &e.labels));
                sels.iter().any(|s| s.matches(&labels))
            }
            Pred::Port(side, ports) => {
                let port = match f.l4.as_ref().and_then(|l| l.protocol.as_ref()) {
                    Some(layer4::Protocol::Tcp(t)) => Some(match side {
                        Side::Source => t.source_port,
                        Side::Destination => t.destination_port,
                    }),
                    Some(layer4::Protocol::Udp(u)) => Some(match side {
                        Side::Source => u.source_port,
                        Side::Destination => u.destination_port,
                    }),
                    None => None,
                };
                // Cilium compares the port truncated to 16 bits.
                port.is_some_and(|p| ports.contains(&(p as u16)))
            }
            Pred::HttpStatus { full, prefix } => match http() {
                Some(h) if h.code != 0 => {
                    let code = format!("{:03}", h.code);
                    full.contains(&code) || prefix.iter().any(|p| code.starts_with(p.as_str()))
                }
                _ => false,
            },
            Pred::HttpMethod(ms) => match http() {
                Some(h) if !h.method.is_empty() => ms.iter().any(|m| go_equal_fold(m, &h.method)),
                _ => false,
            },
            Pred::HttpPath(res) => match http() {
                Some(h) if !h.url.is_empty() => match request_uri_path(&h.url) {
                    Some(path) => res.iter().any(|r| r.is_match(&path)),
                    None => false,
                },
                _ => false,
            },
            Pred::HttpUrl(res) => match http() {
                Some(h) if !h.url.is_empty() => res.iter().any(|r| r.is_match(&h.url)),
                _ => false,
            },
            Pred::HttpHeader(want) => match http() {
                Some(h) => h.headers.iter().any(|have| {
                    want.iter()
                        .any(|w| w.key == have.key && w.value == have.value)
                }),
                None => false,
            },
            Pred::TcpFlags(want) => {
                let Some(have) = (match f.l4.as_ref().and_then(|l| l.protocol.as_ref()) {
                    Some(layer4::Protocol::Tcp(t)) => t.flags.as_ref(),
                    _ => None,
                }) else {
                    return false;
                };
                want.iter().any(|w| {
                    (!w.fin || have.fin)
                        && (!w.syn || have.syn)
                        && (!w.rst || have.rst)
                        && (!w.psh || have.psh)
                        && (!w.ack || have.ack)
                        && (!w.urg || have.urg)
                        && (!w.ece || have.ece)
                        && (!w.cwr || have.cwr)
                        && (!w.ns || have.ns)
                })
            }
            Pred::NodeName(re) => {
                if f.node_name.is_empty() {
                    return false;
                }
                if f.node_name.contains('/') {
                    re.is_match(&f.node_name)
                } else {
                    re.is_match(&format!("default/{}", f.node_name))
                }
            }
            Pred::IpVersion(vs) => vs.contains(&f.ip.as_ref().map_or(0, |ip| ip.ip_version)),
            // Our flows carry no trace context: their trace id is empty.
            Pred::TraceId(ids) => ids.iter().any(String::is_empty),
            Pred::TrafficDirection(ds) => ds.contains(&f.traffic_direction),
        }
    }

    /// Cilium's filters on an event that holds no flow: each field reads as empty, and a few
    /// filters (reply, verdict, IP version, ...) refuse a missing flow outright.
    fn matches_missing_flow(&self) -> bool {
        match self {
            Pred::Label(_, sels) => {
                let empty = selector::LabelArray::parse(&[]);
                sels.iter().any(|s| s.matches(&empty))
            }
            Pred::TraceId(ids) => ids.iter().any(String::is_empty),
            _ => false,
        }
    }
}

fn name_matches(filters: &[NameFilter], ns: &str, name: &str) -> bool {
    if ns.is_empty() && name.is_empty() {
        return false;
    }
    filters.iter().any(|f| {
        (f.prefix.is_empty() || name.starts_with(&f.prefix)) && (f.ns.is_empty() || f.ns == ns)
    })
}

/// Go's `strings.EqualFold` (simple Unicode case folding).
fn go_equal_fold(a: &str, b: &str) -> bool {
    a.chars().count() == b.chars().count()
        && a.chars().zip(b.chars()).all(|(x, y)| {
            x == y || x.to_lowercase().eq(y.to_lowercase()) || x.to_uppercase().eq(y.to_uppercase())
        })
}

/// The (unescaped) path of a URL as Go's `url.ParseRequestURI` gives it: `None` when Go would
/// refuse the URL.
fn request_uri_path(url: &str) -> Option<String> {
    let (rest, _query) = url.split_once('?').unwrap_or((url, ""));
    let raw = if rest.starts_with('/') {
        rest
    } else {
        // An absolute URI: a scheme, then `//authority/path` or an opaque part (no path).
        let colon = rest.find(':')?;
        let scheme = &rest[..colon];
        let mut sc = scheme.chars();
        if !sc.next().is_some_and(|c| c.is_ascii_alphabetic())
            || !sc.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        {
            return None;
        }
        let after = &rest[colon + 1..];
        match after.strip_prefix("//") {
            Some(auth_path) => match auth_path.find('/') {
                Some(i) => &auth_path[i..],
                None => "",
            },
            None if after.starts_with('/') => after,
            None => "",
        }
    };
    percent_decode(raw)
}

/// `%XX` escapes decoded; a malformed escape is an error, as in Go's `url.PathUnescape`.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    // A path that decodes to invalid UTF-8 cannot be matched by a str regexp; Go would match
    // its bytes, but such URLs do not occur in our flows.
    String::from_utf8(out).ok()
}

/// Go's `strconv.ParseUint(s, 10, bits)` error text (`strconv.ParseUint: parsing "x": invalid
/// syntax`), or the number.
pub(crate) fn go_parse_uint(s: &str, bits: u32) -> Result<u64, String> {
    let fail = |why: &str| format!("strconv.ParseUint: parsing {}: {why}", go_quote(s));
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(fail("invalid syntax"));
    }
    let max = if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    match s.parse::<u64>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(fail("value out of range")),
    }
}

/// Go's `%q` of a string (`strconv.Quote`).
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        push_go_escaped(&mut out, c, '"');
    }
    out.push('"');
    out
}

/// Go's `%q` of a rune (`strconv.QuoteRune`).
pub(crate) fn go_quote_rune(c: char) -> String {
    let mut out = String::from("'");
    push_go_escaped(&mut out, c, '\'');
    out.push('\'');
    out
}

fn push_go_escaped(out: &mut String, c: char, quote: char) {
    match c {
        '\\' => out.push_str("\\\\"),
        c if c == quote => {
            out.push('\\');
            out.push(c);
        }
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        c if (c as u32) < 0x20 || c as u32 == 0x7f => {
            out.push_str(&format!("\\x{:02x}", c as u32));
        }
        c if go_is_print(c) => out.push(c),
        c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
        c => out.push_str(&format!("\\U{:08x}", c as u32)),
    }
}

/// An approximation of Go's `unicode.IsPrint` beyond ASCII: not a control, format, separator or
/// private-use character.
fn go_is_print(c: char) -> bool {
    if c.is_ascii() {
        return (' '..='~').contains(&c);
    }
    let n = c as u32;
    !(c.is_control()
        || c.is_whitespace()
        || (0x200b..=0x200f).contains(&n)
        || (0x202a..=0x202e).contains(&n)
        || (0x2060..=0x206f).contains(&n)
        || n == 0xfeff
        || (0xe000..=0xf8ff).contains(&n)
        || (0xfff9..=0xfffb).contains(&n)
        || n == 0xad)
}

/// Compile a Go (RE2) regexp with Go's meaning and Go's error messages: `\d`, `\w`, `\s` and
/// `\b` are ASCII-only as in Go, a `{` that starts no repetition is a literal, and the errors
/// read `error parsing regexp: <what>: `<where>``.
pub(crate) fn go_regexp(pattern: &str) -> Result<Regex, String> {
    let translated = go_regex::translate(pattern)?;
    Regex::new(&translated).map_err(|_| go_regex::error_for(pattern))
}

mod go_regex {
    //! Go's regexp dialect on top of the `regex` crate (both are RE2; they differ in what a few
    //! escapes mean and in their messages).

    /// Rewrite `pattern` so that the `regex` crate reads it as Go does, or Go's parse error.
    pub(super) fn translate(pattern: &str) -> Result<String, String> {
        // First, Go's own refusals that the crate would accept or word differently.
        check(pattern)?;
        let chars: Vec<char> = pattern.chars().collect();
        let mut out = String::with_capacity(pattern.len() + 16);
        let mut i = 0;
        let mut class_depth = 0usize;
        while i < chars.len() {
            let c = chars[i];
            match c {
                '\\' if i + 1 < chars.len() => {
                    let e = chars[i + 1];
                    let inside = class_depth > 0;
                    let rep = match (e, inside) {
                        ('d', false) => Some("[0-9]"),
                        ('D', false) => Some("[^0-9]"),
                        ('w', false) => Some("[0-9A-Za-z_]"),
                        ('W', false) => Some("[^0-9A-Za-z_]"),
                        ('s', false) => Some(r"[\t\n\f\r ]"),
                        ('S', false) => Some(r"[^\t\n\f\r ]"),
                        ('b', false) => Some(r"(?-u:\b)"),
                        ('B', false) => Some(r"(?-u:\B)"),
                        ('d', true) => Some("0-9"),
                        ('D', true) => Some("[^0-9]"),
                        ('w', true) => Some("0-9A-Za-z_"),
                        ('W', true) => Some("[^0-9A-Za-z_]"),
                        ('s', true) => Some(r"\t\n\f\r "),
                        ('S', true) => Some(r"[^\t\n\f\r ]"),
                        _ => None,
                    };
                    match rep {
                        Some(r) => out.push_str(r),
                        None => {
                            out.push('\\');
                            out.push(e);
                        }
                    }
                    i += 2;
                    continue;
                }
                '[' => {
                    // `[:alpha:]` inside a class is one item, not a nested class.
                    if class_depth > 0
                        && chars.get(i + 1) == Some(&':')
                        && let Some(end) = find_seq(&chars, i + 2, &[':', ']'])
                    {
                        out.extend(&chars[i..end + 2]);
                        i = end + 2;
                        continue;
                    }
                    if class_depth == 0 {
                        class_depth = 1;
                        out.push('[');
                        i += 1;
                        // A `]` right after `[` or `[^` is a literal.
                        if chars.get(i) == Some(&'^') {
                            out.push('^');
                            i += 1;
                        }
                        if chars.get(i) == Some(&']') {
                            out.push_str(r"\]");
                            i += 1;
                        }
                        continue;
                    }
                    // Go has no nested classes: a `[` inside one is a literal.
                    out.push_str(r"\[");
                    i += 1;
                    continue;
                }
                ']' if class_depth > 0 => {
                    class_depth = 0;
                    out.push(']');
                }
                '{' if class_depth == 0 && repeat_len(&chars, i).is_none() => out.push_str(r"\{"),
                '}' if class_depth == 0 => out.push_str(r"\}"),
                '&' | '~' | '-' if class_depth > 0 && chars.get(i + 1) == Some(&c) => {
                    // `&&`, `~~` and `--` are set operations in the crate, literals in Go.
                    out.push('\\');
                    out.push(c);
                }
                c => out.push(c),
            }
            i += 1;
        }
        Ok(out)
    }

    fn find_seq(chars: &[char], from: usize, seq: &[char]) -> Option<usize> {
        (from..chars.len().saturating_sub(seq.len() - 1)).find(|&k| chars[k..].starts_with(seq))
    }

    /// The length of a `{n}`, `{n,}` or `{n,m}` repetition at `i`, if that is what is there.
    fn repeat_len(chars: &[char], i: usize) -> Option<usize> {
        let mut j = i + 1;
        let digits = |j: &mut usize| {
            let s = *j;
            while *j < chars.len() && chars[*j].is_ascii_digit() {
                *j += 1;
            }
            *j > s
        };
        if !digits(&mut j) {
            return None;
        }
        if chars.get(j) == Some(&',') {
            j += 1;
            digits(&mut j);
        }
        (chars.get(j) == Some(&'}')).then_some(j + 1 - i)
    }

    fn err(what: &str, at: &str) -> String {
        format!("error parsing regexp: {what}: `{at}`")
    }

    /// Go's refusals found by scanning: repetitions of repetitions, counts over 1000 or backwards,
    /// a trailing backslash, and the errors [`error_for`] words.
    fn check(pattern: &str) -> Result<(), String> {
        let chars: Vec<char> = pattern.chars().collect();
        let text = |a: usize, b: usize| chars[a..b].iter().collect::<String>();
        let mut i = 0;
        let mut in_class = false;
        // Where the last repetition operator (with its lazy `?`) started, when it ends at `i`.
        let mut last_rep: Option<usize> = None;
        let mut atom_before = false;
        while i < chars.len() {
            let c = chars[i];
            if in_class {
                match c {
                    '\\' => i += 1,
                    '[' if chars.get(i + 1) == Some(&':') => {
                        if let Some(end) = find_seq(&chars, i + 2, &[':', ']']) {
                            i = end + 1;
                        }
                    }
                    ']' => in_class = false,
                    _ => {}
                }
                i += 1;
                continue;
            }
            let rep_len = match c {
                '*' | '+' | '?' => Some(1),
                '{' => repeat_len(&chars, i),
                _ => None,
            };
            if let Some(len) = rep_len {
                if let Some(start) = last_rep {
                    return Err(err(
                        "invalid nested repetition operator",
                        &text(start, i + len),
                    ));
                }
                if !atom_before {
                    return Err(err(
                        "missing argument to repetition operator",
                        &text(i, i + len),
                    ));
                }
                if c == '{' {
                    let inner = text(i + 1, i + len - 1);
                    let (min, max) = match inner.split_once(',') {
                        Some((a, b)) => (
                            a.parse::<u32>().ok(),
                            if b.is_empty() {
                                None
                            } else {
                                b.parse::<u32>().ok()
                            },
                        ),
                        None => (inner.parse::<u32>().ok(), inner.parse::<u32>().ok()),
                    };
                    let too_big = |n: Option<u32>| n.is_none_or(|n| n > 1000);
                    let has_max = inner.split_once(',').is_none_or(|(_, b)| !b.is_empty());
                    if too_big(min) || (has_max && too_big(max)) || (has_max && max < min) {
                        return Err(err("invalid repeat count", &text(i, i + len)));
                    }
                }
                let mut end = i + len;
                if chars.get(end) == Some(&'?') {
                    end += 1;
                }
                last_rep = Some(i);
                i = end;
                continue;
            }
            last_rep = None;
            match c {
                '\\' => {
                    if i + 1 >= chars.len() {
                        return Err(err("trailing backslash at end of expression", ""));
                    }
                    atom_before = true;
                    i += 2;
                    continue;
                }
                '[' => {
                    in_class = true;
                    atom_before = true;
                    i += 1;
                    if chars.get(i) == Some(&'^') {
                        i += 1;
                    }
                    if chars.get(i) == Some(&']') {
                        i += 1;
                    }
                    continue;
                }
                '(' | '|' => atom_before = false,
                _ => atom_before = true,
            }
            i += 1;
        }
        Ok(())
    }

    /// Go's wording for a pattern the crate refused, from the crate's own parse of it.
    pub(super) fn error_for(pattern: &str) -> String {
        use regex_syntax::ast::ErrorKind as K;
        let Err(e) = regex_syntax::ast::parse::Parser::new().parse(pattern) else {
            return format!(
                "error parsing regexp: invalid or unsupported Perl syntax: `{pattern}`"
            );
        };
        let span = e.span();
        let at = |a: usize, b: usize| pattern.get(a..b).unwrap_or(pattern).to_string();
        let here = at(span.start.offset, span.end.offset);
        match e.kind() {
            K::GroupUnclosed => err("missing closing )", pattern),
            K::GroupUnopened => err("unexpected )", pattern),
            K::ClassUnclosed => err("missing closing ]", &at(span.start.offset, pattern.len())),
            K::RepetitionMissing => err("missing argument to repetition operator", &here),
            K::EscapeUnexpectedEof => err("trailing backslash at end of expression", ""),
            K::EscapeUnrecognized
            | K::EscapeHexEmpty
            | K::EscapeHexInvalid
            | K::EscapeHexInvalidDigit => err("invalid escape sequence", &here),
            K::ClassRangeInvalid
            | K::ClassRangeLiteral
            | K::ClassEscapeInvalid
            | K::UnicodeClassInvalid => err("invalid character class range", &here),
            K::RepetitionCountInvalid
            | K::RepetitionCountUnclosed
            | K::RepetitionCountDecimalEmpty => err("invalid repeat count", &here),
            K::GroupNameInvalid
            | K::GroupNameEmpty
            | K::GroupNameUnexpectedEof
            | K::GroupNameDuplicate { .. } => err(
                "invalid named capture",
                &at(span.start.offset.saturating_sub(4), pattern.len()),
            ),
            K::FlagUnrecognized
            | K::FlagDanglingNegation
            | K::FlagDuplicate { .. }
            | K::FlagRepeatedNegation { .. }
            | K::FlagUnexpectedEof => err(
                "invalid or unsupported Perl syntax",
                &at(span.start.offset.saturating_sub(2), span.end.offset),
            ),
            _ => err("invalid or unsupported Perl syntax", &here),
        }
    }
}

pub(crate) mod selector {
    //! Kubernetes label selectors (`k`, `!k`, `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin
    //! (a,b)`, `k>1`, `k<1`, comma = AND) over Cilium labels (`source:key=value`), with Cilium's
    //! source prefixes: `k8s:app=x` selects only `k8s` labels, `app=x` (or `any:app=x`) any
    //! source. Parse errors are Kubernetes' messages.

    use std::collections::BTreeSet;
    use std::sync::LazyLock;

    use regex::Regex;

    /// Cilium's labels of one endpoint: (source, key, value).
    pub struct LabelArray(Vec<(String, String, String)>);

    impl LabelArray {
        /// `source:key=value` strings; a label without a source has source `unspec`.
        pub fn parse(labels: &[String]) -> LabelArray {
            LabelArray(
                labels
                    .iter()
                    .map(|l| split_label(l, ':', "unspec"))
                    .collect(),
            )
        }

        /// A selector key is `source.key` (the first dot ends the source); no source is any.
        fn find(&self, key: &str) -> Option<&str> {
            let (src, k, _) = split_label(key, '.', "any");
            self.0
                .iter()
                .find(|(s, lk, _)| *lk == k && (src == "any" || *s == src))
                .map(|(_, _, v)| v.as_str())
        }
    }

    /// Cilium's `parseLabel`: `$x` is reserved, then `source<delim>key=value`.
    fn split_label(s: &str, delim: char, unspec: &str) -> (String, String, String) {
        let (src, next) = if let Some(rest) = s.strip_prefix('$') {
            ("reserved".to_string(), rest)
        } else if let Some(i) = s.find(delim) {
            (s[..i].to_string(), &s[i + 1..])
        } else if delim != '.' && s.starts_with("reserved:") {
            ("reserved".to_string(), &s["reserved:".len()..])
        } else {
            (String::new(), s)
        };
        let src = if src.is_empty() {
            unspec.to_string()
        } else {
            src
        };
        match next.find('=') {
            None => (src, next.to_string(), String::new()),
            Some(0) if src == "reserved" => (src, next[1..].to_string(), String::new()),
            Some(i) => (src, next[..i].to_string(), next[i + 1..].to_string()),
        }
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Op {
        Exists,
        DoesNotExist,
        Equals,
        DoubleEquals,
        NotEquals,
        In,
        NotIn,
        Gt,
        Lt,
    }

    #[derive(Debug, Clone)]
    struct Requirement {
        key: String,
        op: Op,
        values: Vec<String>,
    }

    /// A parsed selector: all requirements must hold.
    #[derive(Debug, Clone)]
    pub struct Selector(Vec<Requirement>);

    impl Selector {
        pub fn matches(&self, labels: &LabelArray) -> bool {
            self.0.iter().all(|r| {
                let v = labels.find(&r.key);
                match r.op {
                    Op::Exists => v.is_some(),
                    Op::DoesNotExist => v.is_none(),
                    Op::Equals | Op::DoubleEquals | Op::In => {
                        v.is_some_and(|v| r.values.iter().any(|x| x == v))
                    }
                    Op::NotEquals | Op::NotIn => v.is_none_or(|v| !r.values.iter().any(|x| x == v)),
                    Op::Gt | Op::Lt => {
                        let (Some(have), Some(want)) = (
                            v.and_then(|v| v.parse::<i64>().ok()),
                            r.values.first().and_then(|w| w.parse::<i64>().ok()),
                        ) else {
                            return false;
                        };
                        if r.op == Op::Gt {
                            have > want
                        } else {
                            have < want
                        }
                    }
                }
            })
        }
    }

    static COLON_SOURCE: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r"([^,]\s*[a-z0-9-]+):([a-z0-9-]+)").ok());

    /// Parse a selector as Cilium's Hubble does: `src:key` becomes `src.key` first (Kubernetes
    /// keys cannot hold a colon).
    pub fn parse(selector: &str) -> Result<Selector, String> {
        let translated = match COLON_SOURCE.as_ref() {
            Some(re) => re.replace_all(selector, "${1}.${2}").into_owned(),
            None => selector.to_string(),
        };
        Parser::new(&translated).parse()
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Tok {
        Id,
        Eos,
        ClosedPar,
        Comma,
        DoesNotExist,
        DoubleEquals,
        Equals,
        Gt,
        In,
        Lt,
        NotEquals,
        NotIn,
        OpenPar,
    }

    fn keyword(s: &str) -> Option<Tok> {
        Some(match s {
            ")" => Tok::ClosedPar,
            "," => Tok::Comma,
            "!" => Tok::DoesNotExist,
            "==" => Tok::DoubleEquals,
            "=" => Tok::Equals,
            ">" => Tok::Gt,
            "in" => Tok::In,
            "<" => Tok::Lt,
            "!=" => Tok::NotEquals,
            "notin" => Tok::NotIn,
            "(" => Tok::OpenPar,
            _ => return None,
        })
    }

    fn special(b: u8) -> bool {
        matches!(b, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
    }

    fn space(b: u8) -> bool {
        matches!(b, b' ' | b'\t' | b'\r' | b'\n')
    }

    /// Kubernetes' lexer: identifiers run to a special symbol or a blank; symbols are the longest
    /// operator they spell.
    fn lex(s: &str) -> Vec<(Tok, String)> {
        let b = s.as_bytes();
        let mut i = 0;
        let mut out = Vec::new();
        loop {
            while i < b.len() && space(b[i]) {
                i += 1;
            }
            // A NUL ends the input, as in the Go lexer.
            if i >= b.len() || b[i] == 0 {
                out.push((Tok::Eos, String::new()));
                return out;
            }
            let start = i;
            if special(b[i]) {
                let mut best: Option<(Tok, usize)> = None;
                let mut j = i;
                while j < b.len() && special(b[j]) {
                    j += 1;
                    match keyword(&s[start..j]) {
                        Some(t) => best = Some((t, j)),
                        None if best.is_some() => break,
                        None => {}
                    }
                }
                // Every single symbol is an operator, so `best` is always set.
                let (t, end) = best.unwrap_or((Tok::Id, j));
                out.push((t, s[start..end].to_string()));
                i = end;
            } else {
                while i < b.len() && b[i] != 0 && !special(b[i]) && !space(b[i]) {
                    i += 1;
                }
                let lit = String::from_utf8_lossy(&b[start..i]).into_owned();
                out.push((keyword(&lit).unwrap_or(Tok::Id), lit));
            }
        }
    }

    struct Parser {
        items: Vec<(Tok, String)>,
        pos: usize,
    }

    /// In value position `in` and `notin` are plain identifiers.
    fn as_value(t: Tok) -> Tok {
        match t {
            Tok::In | Tok::NotIn => Tok::Id,
            t => t,
        }
    }

    impl Parser {
        fn new(s: &str) -> Parser {
            Parser {
                items: lex(s),
                pos: 0,
            }
        }

        fn peek(&self, value: bool) -> (Tok, String) {
            let (t, l) = self.items[self.pos.min(self.items.len() - 1)].clone();
            (if value { as_value(t) } else { t }, l)
        }

        fn next(&mut self, value: bool) -> (Tok, String) {
            let item = self.peek(value);
            self.pos = (self.pos + 1).min(self.items.len() - 1);
            item
        }

        fn parse(mut self) -> Result<Selector, String> {
            let mut reqs = Vec::new();
            loop {
                let (t, lit) = self.peek(true);
                match t {
                    Tok::Id | Tok::DoesNotExist => {
                        let r = self
                            .requirement()
                            .map_err(|e| format!("unable to parse requirement: {e}"))?;
                        reqs.push(r);
                        let (t, l) = self.next(true);
                        match t {
                            Tok::Eos => return Ok(Selector(reqs)),
                            Tok::Comma => {
                                let (t2, l2) = self.peek(true);
                                if t2 != Tok::Id && t2 != Tok::DoesNotExist {
                                    return Err(format!(
                                        "found '{l2}', expected: identifier after ','"
                                    ));
                                }
                            }
                            _ => {
                                return Err(format!(
                                    "found '{l}', expected: ',' or 'end of string'"
                                ));
                            }
                        }
                    }
                    Tok::Eos => return Ok(Selector(reqs)),
                    _ => {
                        return Err(format!(
                            "found '{lit}', expected: !, identifier, or 'end of string'"
                        ));
                    }
                }
            }
        }

        fn requirement(&mut self) -> Result<Requirement, String> {
            let (mut t, mut lit) = self.next(true);
            let mut op = None;
            if t == Tok::DoesNotExist {
                op = Some(Op::DoesNotExist);
                (t, lit) = self.next(true);
            }
            if t != Tok::Id {
                return Err(format!("found '{lit}', expected: identifier"));
            }
            let key_errs = qualified_name_errors(&lit);
            if !key_errs.is_empty() {
                return Err(format!(
                    "<nil>: Invalid value: {}: {}",
                    super::go_quote(&lit),
                    key_errs.join("; ")
                ));
            }
            let key = lit;
            let (la, _) = self.peek(true);
            if la == Tok::Eos || la == Tok::Comma {
                op.get_or_insert(Op::Exists);
            }
            if let Some(op) = op {
                return Ok(Requirement {
                    key,
                    op,
                    values: Vec::new(),
                });
            }
            let (t, lit) = self.next(false);
            let op = match t {
                Tok::In => Op::In,
                Tok::Equals => Op::Equals,
                Tok::DoubleEquals => Op::DoubleEquals,
                Tok::Gt => Op::Gt,
                Tok::Lt => Op::Lt,
                Tok::NotIn => Op::NotIn,
                Tok::NotEquals => Op::NotEquals,
                _ => {
                    return Err(format!(
                        "found '{lit}', expected: in, notin, =, ==, !=, gt, lt"
                    ));
                }
            };
            let values = if matches!(op, Op::In | Op::NotIn) {
                self.set_values()?
            } else {
                self.exact_value()?
            };
            // Kubernetes keeps the values as a sorted set.
            let values: Vec<String> = values
                .into_iter()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let mut errs = Vec::new();
            if matches!(op, Op::Gt | Op::Lt) {
                for (i, v) in values.iter().enumerate() {
                    if v.parse::<i64>().is_err() {
                        errs.push(format!(
                            "values[{i}]: Invalid value: {}: for 'Gt', 'Lt' operators, the value must be an integer",
                            super::go_quote(v)
                        ));
                    }
                }
            }
            for (i, v) in values.iter().enumerate() {
                let e = label_value_errors(v);
                if !e.is_empty() {
                    errs.push(format!(
                        "values[{i}][{key}]: Invalid value: {}: {}",
                        super::go_quote(v),
                        e.join("; ")
                    ));
                }
            }
            errs.dedup();
            match errs.len() {
                0 => Ok(Requirement { key, op, values }),
                1 => Err(errs.remove(0)),
                _ => Err(format!("[{}]", errs.join(", "))),
            }
        }

        fn set_values(&mut self) -> Result<Vec<String>, String> {
            let (t, lit) = self.next(true);
            if t != Tok::OpenPar {
                return Err(format!("found '{lit}' expected: '('"));
            }
            let (t, lit) = self.peek(true);
            match t {
                Tok::Id | Tok::Comma => {
                    let s = self.identifiers()?;
                    let (t, _) = self.next(true);
                    if t != Tok::ClosedPar {
                        return Err(format!("found '{lit}', expected: ')'"));
                    }
                    Ok(s)
                }
                Tok::ClosedPar => {
                    self.next(true);
                    Ok(vec![String::new()])
                }
                _ => Err(format!("found '{lit}', expected: ',', ')' or identifier")),
            }
        }

        fn identifiers(&mut self) -> Result<Vec<String>, String> {
            let mut s = Vec::new();
            loop {
                let (t, lit) = self.next(true);
                match t {
                    Tok::Id => {
                        s.push(lit);
                        let (t2, l2) = self.peek(true);
                        match t2 {
                            Tok::Comma => continue,
                            Tok::ClosedPar => return Ok(s),
                            _ => return Err(format!("found '{l2}', expected: ',' or ')'")),
                        }
                    }
                    Tok::Comma => {
                        if s.is_empty() {
                            s.push(String::new());
                        }
                        let (t2, _) = self.peek(true);
                        if t2 == Tok::ClosedPar {
                            s.push(String::new());
                            return Ok(s);
                        }
                        if t2 == Tok::Comma {
                            self.next(true);
                            s.push(String::new());
                        }
                    }
                    _ => return Err(format!("found '{lit}', expected: ',', or identifier")),
                }
            }
        }

        fn exact_value(&mut self) -> Result<Vec<String>, String> {
            let (t, _) = self.peek(true);
            if t == Tok::Eos || t == Tok::Comma {
                return Ok(vec![String::new()]);
            }
            let (t, lit) = self.next(true);
            if t == Tok::Id {
                Ok(vec![lit])
            } else {
                Err(format!("found '{lit}', expected: identifier"))
            }
        }
    }

    const QNAME_MSG: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    const DNS_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

    /// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
    fn is_qualified_name_part(s: &str) -> bool {
        let b = s.as_bytes();
        !b.is_empty()
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
    }

    fn is_dns1123_subdomain(s: &str) -> bool {
        s.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
                && (b[b.len() - 1].is_ascii_lowercase() || b[b.len() - 1].is_ascii_digit())
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        })
    }

    /// Kubernetes' `IsQualifiedName` messages.
    fn qualified_name_errors(v: &str) -> Vec<String> {
        let parts: Vec<&str> = v.split('/').collect();
        let mut errs = Vec::new();
        let name = match parts.as_slice() {
            [name] => *name,
            [prefix, name] => {
                if prefix.is_empty() {
                    errs.push("prefix part must be non-empty".to_string());
                } else {
                    if prefix.len() > 253 {
                        errs.push("prefix part must be no more than 253 characters".to_string());
                    }
                    if !is_dns1123_subdomain(prefix) {
                        errs.push(format!("prefix part {DNS_SUBDOMAIN_MSG}"));
                    }
                }
                *name
            }
            _ => {
                return vec![format!(
                    "a qualified name {QNAME_MSG} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
                )];
            }
        };
        if name.is_empty() {
            errs.push("name part must be non-empty".to_string());
        } else if name.len() > 63 {
            errs.push("name part must be no more than 63 characters".to_string());
        }
        if !is_qualified_name_part(name) {
            errs.push(format!("name part {QNAME_MSG}"));
        }
        errs
    }

    /// Kubernetes' `IsValidLabelValue` messages.
    fn label_value_errors(v: &str) -> Vec<String> {
        let mut errs = Vec::new();
        if v.len() > 63 {
            errs.push("must be no more than 63 characters".to_string());
        }
        if !v.is_empty() && !is_qualified_name_part(v) {
            errs.push(LABEL_VALUE_MSG.to_string());
        }
        errs
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test may unwrap: a panic is its failure report
mod tests {
    use super::*;

    #[test]
    fn go_quoting() {
        assert_eq!(
            go_quote("a\"b\\c\n\u{1}é\u{a0}"),
            "\"a\\\"b\\\\c\\n\\x01é\\u00a0\""
        );
        assert_eq!(go_quote_rune('/'), "'/'");
        assert_eq!(go_quote_rune('\''), "'\\''");
    }

    #[test]
    fn go_regexps() {
        assert!(go_regexp(r"/v1/\d+").unwrap().is_match("/v1/42"));
        assert!(!go_regexp(r"^\d$").unwrap().is_match("٣"));
        assert!(go_regexp("a{").unwrap().is_match("a{"));
        assert!(go_regexp("[]a]").unwrap().is_match("]"));
        assert!(go_regexp("[[:alpha:]]+").unwrap().is_match("ab"));
        assert_eq!(
            go_regexp("(").unwrap_err(),
            "error parsing regexp: missing closing ): `(`"
        );
        assert_eq!(
            go_regexp("a)").unwrap_err(),
            "error parsing regexp: unexpected ): `a)`"
        );
        assert_eq!(
            go_regexp("a[bc").unwrap_err(),
            "error parsing regexp: missing closing ]: `[bc`"
        );
        assert_eq!(
            go_regexp("*a").unwrap_err(),
            "error parsing regexp: missing argument to repetition operator: `*`"
        );
        assert_eq!(
            go_regexp(r"a\q").unwrap_err(),
            "error parsing regexp: invalid escape sequence: `\\q`"
        );
        assert_eq!(
            go_regexp("a\\").unwrap_err(),
            "error parsing regexp: trailing backslash at end of expression: ``"
        );
        assert_eq!(
            go_regexp("[z-a]").unwrap_err(),
            "error parsing regexp: invalid character class range: `z-a`"
        );
        assert_eq!(
            go_regexp("a**").unwrap_err(),
            "error parsing regexp: invalid nested repetition operator: `**`"
        );
        assert_eq!(
            go_regexp("a{2,1}").unwrap_err(),
            "error parsing regexp: invalid repeat count: `{2,1}`"
        );
        assert_eq!(
            go_regexp("x{1001}").unwrap_err(),
            "error parsing regexp: invalid repeat count: `{1001}`"
        );
    }

    #[test]
    fn request_uri_paths() {
        assert_eq!(
            request_uri_path("http://h/v1/a%20b?x=1").as_deref(),
            Some("/v1/a b")
        );
        assert_eq!(request_uri_path("/v1").as_deref(), Some("/v1"));
        assert_eq!(request_uri_path("http://h").as_deref(), Some(""));
        assert_eq!(request_uri_path("h/v1"), None);
        assert_eq!(request_uri_path("http://h/%zz"), None);
    }

    #[test]
    fn ports_parse_like_strconv() {
        assert_eq!(go_parse_uint("80", 16), Ok(80));
        assert_eq!(
            go_parse_uint("x", 16).unwrap_err(),
            "strconv.ParseUint: parsing \"x\": invalid syntax"
        );
        assert_eq!(
            go_parse_uint("70000", 16).unwrap_err(),
            "strconv.ParseUint: parsing \"70000\": value out of range"
        );
    }

    #[test]
    fn cidrs() {
        let n = parse_cidr("10.0.0.0/8").unwrap();
        assert!(cidr_contains(&n, "10.1.2.3".parse().unwrap()));
        assert!(cidr_contains(&n, "::ffff:10.1.2.3".parse().unwrap()));
        assert!(!cidr_contains(&n, "11.1.2.3".parse().unwrap()));
        let n = parse_cidr("fd00::/8").unwrap();
        assert!(cidr_contains(&n, "fd00::1".parse().unwrap()));
        assert!(parse_cidr("10.0.0.0/33").is_none());
        assert!(parse_cidr("10.0.0.0/").is_none());
    }

    #[test]
    fn selectors() {
        let labels = selector::LabelArray::parse(&[
            "k8s:app.kubernetes.io/name=asa-x".to_string(),
            "k8s:org=alianca".to_string(),
            "reserved:world".to_string(),
        ]);
        let m = |s: &str| selector::parse(s).unwrap().matches(&labels);
        assert!(m("org=alianca"));
        assert!(m("k8s:org=alianca"));
        assert!(m("any:org=alianca"));
        assert!(!m("reserved:org=alianca"));
        assert!(m("org in (imperio, alianca)"));
        assert!(!m("org notin (alianca)"));
        assert!(m("org,!class"));
        assert!(m("reserved:world"));
        assert!(m("k8s:app.kubernetes.io/name=asa-x"));
        // The first dot of a key is its source: an unprefixed dotted key never matches.
        assert!(!m("app.kubernetes.io/name=asa-x"));
        assert!(m(""));
    }
}
