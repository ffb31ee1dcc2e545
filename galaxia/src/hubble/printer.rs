//! What the Hubble CLI (v0.13.6) prints: `hubble observe`'s flow printers (compact, dict, table,
//! json), `hubble status` and `hubble list nodes`, byte for byte, so that `galaxia observe` and
//! the book's `hubble observe` read the same.
//!
//! The rules, in short: times are UTC (`Jan _2 15:04:05.000` by default, milliseconds truncated);
//! an endpoint shows as `namespace/pod:port`, else the service's name, else its DNS names, else
//! its IP (`[ip]:port` for IPv6); identities as `(name)` for Cilium's reserved ones and `(ID:n)`
//! otherwise; the compact arrow is `->`, `<-` (a reply: source and destination swap) or `<>`
//! (direction unknown); policy-verdict events say ALLOWED/DENIED/AUDITED; lost events are not
//! printed. Colors are ANSI codes, on only when asked for.

use std::io::{self, Write};

use super::json;
use super::proto::flow::{Flow, layer4, layer7};
use super::proto::observer::{
    GetFlowsResponse, Node, ServerStatusResponse, get_flows_response::ResponseTypes,
};

/// `hubble observe -o ...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Output {
    /// One line a flow (the default).
    #[default]
    Compact,
    /// `KEY: value` blocks separated by dashes.
    Dict,
    /// Aligned columns, written when the stream ends.
    Table,
    /// One JSON object (the whole GetFlows response) a line; `json` and `jsonpb` alike.
    Json,
}

/// `--time-format`: Go layouts by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeFormat {
    /// `Jan _2 15:04:05.000`
    #[default]
    StampMilli,
    /// `2006-01-02`
    YearMonthDay,
    /// `2006-01-02T15Z07:00`
    YearMonthDayHour,
    /// `2006-01-02T15:04Z07:00`
    YearMonthDayHourMinute,
    /// `2006-01-02T15:04:05Z07:00`
    Rfc3339,
    /// `2006-01-02T15:04:05.999Z07:00`
    Rfc3339Milli,
    /// `2006-01-02T15:04:05.999999Z07:00`
    Rfc3339Micro,
    /// `2006-01-02T15:04:05.999999999Z07:00`
    Rfc3339Nano,
    /// `Mon, 02 Jan 2006 15:04:05 -0700`
    Rfc1123Z,
}

impl TimeFormat {
    /// The format named `name` (case-insensitive); an unknown name is StampMilli, as in Hubble.
    pub fn from_name(name: &str) -> TimeFormat {
        match name.to_ascii_lowercase().as_str() {
            "yearmonthday" => TimeFormat::YearMonthDay,
            "yearmonthdayhour" => TimeFormat::YearMonthDayHour,
            "yearmonthdayhourminute" => TimeFormat::YearMonthDayHourMinute,
            "rfc3339" => TimeFormat::Rfc3339,
            "rfc3339milli" => TimeFormat::Rfc3339Milli,
            "rfc3339micro" => TimeFormat::Rfc3339Micro,
            "rfc3339nano" => TimeFormat::Rfc3339Nano,
            "rfc1123z" => TimeFormat::Rfc1123Z,
            _ => TimeFormat::StampMilli,
        }
    }

    /// `ts` in this format, in UTC; `N/A` when absent or outside what a Timestamp may hold.
    pub fn format(self, ts: Option<&prost_types::Timestamp>) -> String {
        let Some(ts) = ts.filter(|t| timestamp_valid(t)) else {
            return "N/A".into();
        };
        let (y, mo, d, h, mi, s) = json::civil_from_unix(ts.seconds);
        let nanos = ts.nanos as u32;
        let date = format!("{y:04}-{mo:02}-{d:02}");
        // Go's `.999...` fractions: truncated to the digits the layout has, trailing zeros dropped.
        let frac = |digits: u32| {
            let f = nanos / 10u32.pow(9 - digits);
            let text = format!("{f:0width$}", width = digits as usize);
            let text = text.trim_end_matches('0');
            if text.is_empty() {
                String::new()
            } else {
                format!(".{text}")
            }
        };
        match self {
            TimeFormat::StampMilli => format!(
                "{} {d:>2} {h:02}:{mi:02}:{s:02}.{:03}",
                MONTHS[(mo - 1) as usize],
                nanos / 1_000_000
            ),
            TimeFormat::YearMonthDay => date,
            TimeFormat::YearMonthDayHour => format!("{date}T{h:02}Z"),
            TimeFormat::YearMonthDayHourMinute => format!("{date}T{h:02}:{mi:02}Z"),
            TimeFormat::Rfc3339 => format!("{date}T{h:02}:{mi:02}:{s:02}Z"),
            TimeFormat::Rfc3339Milli => format!("{date}T{h:02}:{mi:02}:{s:02}{}Z", frac(3)),
            TimeFormat::Rfc3339Micro => format!("{date}T{h:02}:{mi:02}:{s:02}{}Z", frac(6)),
            TimeFormat::Rfc3339Nano => format!("{date}T{h:02}:{mi:02}:{s:02}{}Z", frac(9)),
            TimeFormat::Rfc1123Z => {
                let weekday = (ts.seconds.div_euclid(86_400) + 4).rem_euclid(7) as usize;
                format!(
                    "{}, {d:02} {} {y:04} {h:02}:{mi:02}:{s:02} +0000",
                    WEEKDAYS[weekday],
                    MONTHS[(mo - 1) as usize]
                )
            }
        }
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/// What a protobuf Timestamp may hold: years 1 to 9999, nanos below a second.
fn timestamp_valid(t: &prost_types::Timestamp) -> bool {
    (-62_135_596_800..=253_402_300_799).contains(&t.seconds)
        && (0..1_000_000_000).contains(&t.nanos)
}

/// How `hubble observe` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    pub output: Output,
    pub time_format: TimeFormat,
    /// `--print-node-name`.
    pub node_name: bool,
    /// Names instead of IPs (on unless `--ip-translation=false` or `--numeric`).
    pub ip_translation: bool,
    /// ANSI colors (`--color always`, or `auto` on a terminal); never in the table.
    pub color: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            output: Output::Compact,
            time_format: TimeFormat::StampMilli,
            node_name: false,
            ip_translation: true,
            color: false,
        }
    }
}

/// ANSI colors as Hubble's printer uses them (fatih/color: `ESC[<n>m` ... `ESC[0m`).
#[derive(Debug, Clone, Copy)]
struct Colors(bool);

impl Colors {
    fn paint(self, code: u8, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn host(self, s: &str) -> String {
        self.paint(36, s)
    }
    fn port(self, s: &str) -> String {
        self.paint(33, s)
    }
    fn identity(self, s: &str) -> String {
        self.paint(35, s)
    }
}

/// Prints a GetFlows stream: feed it every response, then [`Printer::finish`] (the table is
/// only laid out there, as Go's tabwriter does on Flush).
#[derive(Debug)]
pub struct Printer {
    opts: Options,
    colors: Colors,
    /// Flows printed so far (the dict separator and the table header depend on it).
    line: usize,
    /// The table's tab-separated text until `finish`.
    table: String,
}

impl Printer {
    pub fn new(opts: Options) -> Printer {
        Printer {
            opts,
            // Hubble's table cannot align colored cells, so it never colors.
            colors: Colors(opts.color && opts.output != Output::Table),
            line: 0,
            table: String::new(),
        }
    }

    /// Print one response. Lost events (and empty responses) print nothing, as in Hubble CLI
    /// v0.13.6.
    pub fn write(&mut self, out: &mut dyn Write, r: &GetFlowsResponse) -> io::Result<()> {
        match &r.response_types {
            Some(ResponseTypes::Flow(f)) => self.write_flow(out, r, f),
            Some(ResponseTypes::LostEvents(_)) | None => Ok(()),
        }
    }

    fn write_flow(
        &mut self,
        out: &mut dyn Write,
        r: &GetFlowsResponse,
        f: &Flow,
    ) -> io::Result<()> {
        let opts = self.opts;
        let c = self.colors;
        let time = || opts.time_format.format(f.time.as_ref());
        match opts.output {
            Output::Json => {
                let mut line = json::get_flows_response(r);
                line.push('\n');
                out.write_all(line.as_bytes())?;
            }
            Output::Compact => {
                let (mut src, mut dst) = host_names(f, opts.ip_translation, c);
                let mut src_id = c.identity(&identity(f.source.as_ref().map_or(0, |e| e.identity)));
                let mut dst_id =
                    c.identity(&identity(f.destination.as_ref().map_or(0, |e| e.identity)));
                let arrow = match f.is_reply {
                    None => "<>",
                    Some(true) => {
                        std::mem::swap(&mut src, &mut dst);
                        std::mem::swap(&mut src_id, &mut dst_id);
                        "<-"
                    }
                    Some(false) => "->",
                };
                let node = if opts.node_name {
                    format!(" [{}]", f.node_name)
                } else {
                    String::new()
                };
                let line = format!(
                    "{}{node}: {src} {src_id} {arrow} {dst} {dst_id} {} {} ({})\n",
                    time(),
                    flow_type(f),
                    verdict(f, c),
                    summary(f, c),
                );
                out.write_all(line.as_bytes())?;
            }
            Output::Dict => {
                let (src, dst) = host_names(f, opts.ip_translation, c);
                let mut text = String::new();
                if self.line != 0 {
                    text.push_str("------------\n");
                }
                text.push_str(&format!("  TIMESTAMP: {}\n", time()));
                if opts.node_name {
                    text.push_str(&format!("       NODE: {}\n", f.node_name));
                }
                text.push_str(&format!(
                    "     SOURCE: {src}\nDESTINATION: {dst}\n       TYPE: {}\n    VERDICT: {}\n    SUMMARY: {}\n",
                    flow_type(f),
                    verdict(f, c),
                    // dict shows the raw summary, without the auth suffix.
                    f.summary,
                ));
                out.write_all(text.as_bytes())?;
            }
            Output::Table => {
                let (src, dst) = host_names(f, opts.ip_translation, c);
                if self.line == 0 {
                    self.table.push_str("TIMESTAMP\t");
                    if opts.node_name {
                        self.table.push_str("NODE\t");
                    }
                    self.table
                        .push_str("SOURCE\tDESTINATION\tTYPE\tVERDICT\tSUMMARY\n");
                }
                self.table.push_str(&time());
                self.table.push('\t');
                if opts.node_name {
                    self.table.push_str(&f.node_name);
                    self.table.push('\t');
                }
                self.table.push_str(&format!(
                    "{src}\t{dst}\t{}\t{}\t{}\n",
                    flow_type(f),
                    verdict(f, c),
                    summary(f, c)
                ));
            }
        }
        self.line += 1;
        Ok(())
    }

    /// End of the stream: lay out and write the table (other formats have written everything).
    pub fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if !self.table.is_empty() {
            out.write_all(tabwrite(&self.table, 2, 3).as_bytes())?;
            self.table.clear();
        }
        Ok(())
    }
}

/// The SOURCE and DESTINATION columns of a flow (Hubble's `GetHostNames`).
pub fn host_names_plain(f: &Flow, ip_translation: bool) -> (String, String) {
    host_names(f, ip_translation, Colors(false))
}

fn host_names(f: &Flow, ip_translation: bool, c: Colors) -> (String, String) {
    let Some(ip) = &f.ip else {
        // Hubble falls back to the Ethernet addresses, which our flows never carry.
        return (String::new(), String::new());
    };
    let (mut src_ns, src_pod) = f
        .source
        .as_ref()
        .map_or((String::new(), String::new()), |e| {
            (e.namespace.clone(), e.pod_name.clone())
        });
    let (mut dst_ns, dst_pod) = f
        .destination
        .as_ref()
        .map_or((String::new(), String::new()), |e| {
            (e.namespace.clone(), e.pod_name.clone())
        });
    let mut src_svc = String::new();
    let mut dst_svc = String::new();
    // A service replaces the endpoint's namespace even when the pod name wins below.
    if let Some(s) = &f.source_service {
        src_ns.clone_from(&s.namespace);
        src_svc.clone_from(&s.name);
    }
    if let Some(s) = &f.destination_service {
        dst_ns.clone_from(&s.namespace);
        dst_svc.clone_from(&s.name);
    }
    let (src_port, dst_port) = ports(f);
    let src = hostname(
        &ip.source,
        &src_port,
        &src_ns,
        &src_pod,
        &src_svc,
        &f.source_names,
        ip_translation,
        c,
    );
    let dst = hostname(
        &ip.destination,
        &dst_port,
        &dst_ns,
        &dst_pod,
        &dst_svc,
        &f.destination_names,
        ip_translation,
        c,
    );
    (c.host(&src), c.host(&dst))
}

/// Source and destination ports as decimal text; empty without TCP or UDP.
fn ports(f: &Flow) -> (String, String) {
    match f.l4.as_ref().and_then(|l| l.protocol.as_ref()) {
        Some(layer4::Protocol::Tcp(t)) => {
            (t.source_port.to_string(), t.destination_port.to_string())
        }
        Some(layer4::Protocol::Udp(u)) => {
            (u.source_port.to_string(), u.destination_port.to_string())
        }
        None => (String::new(), String::new()),
    }
}

/// One endpoint's name: pod, else service, else DNS names, else the IP; then `:port` (Go's
/// `net.JoinHostPort`, which brackets a host holding a colon) unless the port is empty or 0.
#[allow(clippy::too_many_arguments)]
fn hostname(
    ip: &str,
    port: &str,
    ns: &str,
    pod: &str,
    svc: &str,
    names: &[String],
    ip_translation: bool,
    c: Colors,
) -> String {
    let mut host = ip.to_string();
    if ip_translation {
        if !pod.is_empty() {
            host = go_path_join(ns, pod);
        } else if !svc.is_empty() {
            host = go_path_join(ns, svc);
        } else if !names.is_empty() {
            host = names.join(",");
        }
    }
    if !port.is_empty() && port != "0" {
        let port = c.port(port);
        if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        }
    } else {
        host
    }
}

/// Go's `path.Join(a, b)`: the non-empty parts joined by `/`, then cleaned.
fn go_path_join(a: &str, b: &str) -> String {
    let joined = match (a.is_empty(), b.is_empty()) {
        (true, true) => return String::new(),
        (true, false) => b.to_string(),
        (false, true) => a.to_string(),
        (false, false) => format!("{a}/{b}"),
    };
    go_path_clean(&joined)
}

/// Go's `path.Clean`: no doubled slashes, no `.` elements, `..` resolved lexically.
fn go_path_clean(p: &str) -> String {
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".into(),
        (false, false) => body,
    }
}

/// Cilium's reserved identities by number (the CLI's table: well-known identities such as
/// kube-dns are not in it).
pub fn reserved_identity_name(id: u32) -> Option<&'static str> {
    Some(match id {
        0 => "unknown",
        1 => "host",
        2 => "world",
        3 => "unmanaged",
        4 => "health",
        5 => "init",
        6 => "remote-node",
        7 => "kube-apiserver",
        8 => "ingress",
        9 => "world-ipv4",
        10 => "world-ipv6",
        _ => return None,
    })
}

/// `(world)` or `(ID:1234)`.
fn identity(id: u32) -> String {
    match reserved_identity_name(id) {
        Some(name) => format!("({name})"),
        None => format!("(ID:{id})"),
    }
}

/// The TYPE column (Hubble's `GetFlowType`).
pub fn flow_type(f: &Flow) -> String {
    if let Some(l7) = &f.l7 {
        let kind = json::l7_type_name(l7.r#type)
            .map_or_else(|| l7.r#type.to_string(), str::to_ascii_lowercase);
        let protocol = match &l7.record {
            Some(layer7::Record::Http(_)) => "http",
            None => "l7",
        };
        return format!("{protocol}-{kind}");
    }
    let Some(et) = &f.event_type else {
        return "UNKNOWN".into();
    };
    match et.r#type {
        MSG_TRACE => trace_observation_point(et.sub_type as u8)
            .map_or_else(|| (et.sub_type as u8).to_string(), str::to_string),
        MSG_DROP => drop_reason_text(et.sub_type as u8),
        MSG_POLICY_VERDICT => format!(
            "policy-verdict:{} {}",
            policy_match_type(f.policy_match_type),
            json::traffic_direction_name(f.traffic_direction)
                .map_or_else(|| f.traffic_direction.to_string(), str::to_string)
        ),
        // Debug capture points are not in our proto: Hubble prints the enum name of 0 for them.
        MSG_CAPTURE => "DBG_CAPTURE_POINT_UNKNOWN".into(),
        // Socket translation points are not in our proto either (0 has no short name).
        MSG_TRACE_SOCK => "SOCK_XLATE_POINT_UNKNOWN".into(),
        _ => "UNKNOWN".into(),
    }
}

/// Cilium's monitor message types (`pkg/monitor/api`).
pub const MSG_DROP: i32 = 1;
pub const MSG_DEBUG: i32 = 2;
pub const MSG_CAPTURE: i32 = 3;
pub const MSG_TRACE: i32 = 4;
pub const MSG_POLICY_VERDICT: i32 = 5;
pub const MSG_RECORDER: i32 = 6;
pub const MSG_TRACE_SOCK: i32 = 7;
pub const MSG_ACCESS_LOG: i32 = 129;
pub const MSG_AGENT: i32 = 130;

/// The monitor's names of trace observation points (a trace event's sub-type).
pub fn trace_observation_point(sub_type: u8) -> Option<&'static str> {
    TRACE_POINTS
        .iter()
        .find(|(n, _)| *n == sub_type)
        .map(|(_, s)| *s)
}

pub(crate) const TRACE_POINTS: &[(u8, &str)] = &[
    (0, "to-endpoint"),
    (1, "to-proxy"),
    (2, "to-host"),
    (3, "to-stack"),
    (4, "to-overlay"),
    (5, "from-endpoint"),
    (6, "from-proxy"),
    (7, "from-host"),
    (8, "from-stack"),
    (9, "from-overlay"),
    (10, "from-network"),
    (11, "to-network"),
];

fn policy_match_type(m: u32) -> &'static str {
    match m {
        0 => "none",
        1 => "L3-Only",
        2 => "L3-L4",
        3 => "L4-Only",
        4 => "all",
        5 => "L3-Proto",
        6 => "Proto-Only",
        _ => "unknown",
    }
}

/// The monitor's texts for drop reasons (which differ from the proto's enum names).
pub fn drop_reason_text(code: u8) -> String {
    DROP_TEXTS
        .iter()
        .find(|(n, _)| *n == code)
        .map_or_else(|| format!("{code}, 0"), |(_, s)| (*s).to_string())
}

const DROP_TEXTS: &[(u8, &str)] = &[
    (0, "Success"),
    (2, "Invalid packet"),
    (3, "Interface"),
    (4, "Interface Decrypted"),
    (5, "LB, sock cgroup: No backend slot entry found"),
    (6, "LB, sock cgroup: No backend entry found"),
    (7, "LB, sock cgroup: Reverse entry update failed"),
    (8, "LB, sock cgroup: Reverse entry stale"),
    (9, "Fragmented packet"),
    (10, "Fragmented packet entry update failed"),
    (11, "Missed tail call to custom program"),
    (130, "Invalid source mac"),
    (131, "Invalid destination mac"),
    (132, "Invalid source ip"),
    (133, "Policy denied"),
    (134, "Invalid packet"),
    (135, "CT: Truncated or invalid header"),
    (136, "Fragmentation needed"),
    (137, "CT: Unknown L4 protocol"),
    (138, "CT: Can't create entry from packet"),
    (139, "Unsupported L3 protocol"),
    (140, "Missed tail call"),
    (141, "Error writing to packet"),
    (142, "Unknown L4 protocol"),
    (143, "Unknown ICMPv4 code"),
    (144, "Unknown ICMPv4 type"),
    (145, "Unknown ICMPv6 code"),
    (146, "Unknown ICMPv6 type"),
    (147, "Error retrieving tunnel key"),
    (148, "Error retrieving tunnel options"),
    (149, "Invalid Geneve option"),
    (150, "Unknown L3 target address"),
    (151, "Stale or unroutable IP"),
    (152, "No matching local container found"),
    (153, "Error while correcting L3 checksum"),
    (154, "Error while correcting L4 checksum"),
    (155, "CT: Map insertion failed"),
    (156, "Invalid IPv6 extension header"),
    (157, "IP fragmentation not supported"),
    (158, "Service backend not found"),
    (160, "No tunnel/encapsulation endpoint (datapath BUG!)"),
    (161, "NAT 46/64 not enabled"),
    (162, "Reached EDT rate-limiting drop horizon"),
    (163, "Unknown connection tracking state"),
    (164, "Local host is unreachable"),
    (165, "No configuration available to perform policy decision"),
    (166, "Unsupported L2 protocol"),
    (167, "No mapping for NAT masquerade"),
    (168, "Unsupported protocol for NAT masquerade"),
    (169, "FIB lookup failed"),
    (170, "Encapsulation traffic is prohibited"),
    (171, "Invalid identity"),
    (172, "Unknown sender"),
    (173, "NAT not needed"),
    (174, "Is a ClusterIP"),
    (175, "First logical datagram fragment not found"),
    (176, "Forbidden ICMPv6 message"),
    (177, "Denied by LB src range check"),
    (178, "Socket lookup failed"),
    (179, "Socket assign failed"),
    (180, "Proxy redirection not supported for protocol"),
    (181, "Policy denied by denylist"),
    (182, "VLAN traffic disallowed by VLAN filter"),
    (183, "Incorrect VNI from VTEP"),
    (184, "Failed to update or lookup TC buffer"),
    (185, "No SID was found for the IP address"),
    (186, "SRv6 state was removed during tail call"),
    (187, "L3 translation from IPv4 to IPv6 failed (NAT46)"),
    (188, "L3 translation from IPv6 to IPv4 failed (NAT64)"),
    (189, "Authentication required"),
    (190, "No conntrack map found"),
    (191, "No nat map found"),
    (192, "Invalid ClusterID"),
    (193, "Unsupported packet protocol for DSR encapsulation"),
    (194, "No egress gateway found"),
    (195, "Traffic is unencrypted"),
    (196, "TTL exceeded"),
    (197, "No node ID found"),
    (198, "Rate limited"),
    (199, "IGMP handled"),
    (200, "IGMP subscribed"),
    (201, "Multicast handled"),
    (202, "Host datapath not ready"),
];

/// The VERDICT column: the enum name, or ALLOWED/DENIED/AUDITED for policy-verdict events.
pub fn verdict_text(f: &Flow) -> String {
    verdict(f, Colors(false))
}

fn verdict(f: &Flow, c: Colors) -> String {
    let pv = f
        .event_type
        .as_ref()
        .is_some_and(|e| e.r#type == MSG_POLICY_VERDICT);
    let name = json::verdict_name(f.verdict).map_or_else(|| f.verdict.to_string(), str::to_string);
    match f.verdict {
        // FORWARDED, REDIRECTED
        1 | 5 => c.paint(32, if pv { "ALLOWED" } else { &name }),
        // DROPPED, ERROR
        2 | 3 => c.paint(31, if pv { "DENIED" } else { &name }),
        // AUDIT
        4 => c.paint(33, if pv { "AUDITED" } else { &name }),
        // TRACED, TRANSLATED
        6 | 7 => c.paint(33, &name),
        _ => name,
    }
}

/// The summary with the authentication type when there is one (`...; Auth: SPIRE`).
fn summary(f: &Flow, c: Colors) -> String {
    match f.auth_type {
        0 => f.summary.clone(),
        a => {
            let name = json::auth_type_name(a).map_or_else(|| a.to_string(), str::to_string);
            let code = if a == 2 { 31 } else { 32 };
            format!("{}; Auth: {}", f.summary, c.paint(code, &name))
        }
    }
}

/// Go's `text/tabwriter` (flags 0, padding with spaces) over `text`: every tab-terminated cell
/// padded to its column block's widest cell plus `padding` (at least `min_width`); the cell after
/// a line's last tab is not padded.
pub fn tabwrite(text: &str, min_width: usize, padding: usize) -> String {
    crate::tabwriter::TabWriter::new(min_width, padding).lay_out(text)
}

/// `1234567` -> `1,234,567`.
pub fn uint64_grouping(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Go's `time.Duration.String()` of `ns` nanoseconds (`1h2m3.456789s`, `100ms`, `0s`), or
/// `<n>ns` past what a Duration holds.
pub fn go_duration(ns: u64) -> String {
    if ns > i64::MAX as u64 {
        return format!("{ns}ns");
    }
    if ns == 0 {
        return "0s".into();
    }
    let frac = |v: u64, prec: u32| -> (String, u64) {
        let p = 10u64.pow(prec);
        let f = v % p;
        let text = format!("{f:0width$}", width = prec as usize);
        let text = text.trim_end_matches('0');
        (
            if text.is_empty() {
                String::new()
            } else {
                format!(".{text}")
            },
            v / p,
        )
    };
    if ns < 1_000_000_000 {
        let (unit, prec) = if ns < 1_000 {
            ("ns", 0)
        } else if ns < 1_000_000 {
            ("µs", 3)
        } else {
            ("ms", 6)
        };
        let (f, i) = if prec == 0 {
            (String::new(), ns)
        } else {
            frac(ns, prec)
        };
        return format!("{i}{f}{unit}");
    }
    let (f, secs) = frac(ns, 9);
    let mut out = format!("{}{f}s", secs % 60);
    let mins = secs / 60;
    if mins > 0 {
        out = format!("{}m{out}", mins % 60);
        let hours = mins / 60;
        if hours > 0 {
            out = format!("{hours}h{out}");
        }
    }
    out
}

/// Go's `Duration.Round(time.Second)` on nanoseconds: halves round up.
fn round_to_second(ns: u64) -> u64 {
    let r = ns % 1_000_000_000;
    if r * 2 < 1_000_000_000 {
        ns - r
    } else {
        ns - r + 1_000_000_000
    }
}

/// `hubble status -o ...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFormat {
    #[default]
    Compact,
    Dict,
    Table,
    Json,
}

/// `hubble status` as it prints against a healthy server: the health line (compact only; `target`
/// is the address dialled, e.g. `localhost:4245`) and the server's status.
pub fn status(target: &str, r: &ServerStatusResponse, format: StatusFormat) -> String {
    let mut out = String::new();
    if format == StatusFormat::Compact {
        out.push_str(&format!("Healthcheck (via {target}): Ok\n"));
    }
    out.push_str(&server_status(r, format));
    out
}

/// `WriteServerStatusResponse`: a ServerStatusResponse in one of `hubble status`'s formats.
pub fn server_status(r: &ServerStatusResponse, format: StatusFormat) -> String {
    let na = || "N/A".to_string();
    let connected = r.num_connected_nodes.map_or_else(na, |n| n.to_string());
    let unavailable = r.num_unavailable_nodes.map_or_else(na, |n| n.to_string());
    let mut rate = if r.flows_rate > 0.0 {
        format!("{:.2}", r.flows_rate)
    } else {
        na()
    };
    match format {
        StatusFormat::Json => {
            let mut s = json::server_status_response(r);
            s.push('\n');
            s
        }
        StatusFormat::Table => tabwrite(
            &format!(
                "NUM FLOWS\tMAX FLOWS\tSEEN FLOWS\tFLOWS PER SECOND\tUPTIME\tNUM CONNECTED NODES\tNUM UNAVAILABLE NODES\tVERSION\n{}\t{}\t{}\t{rate}\t{}\t{connected}\t{unavailable}\t{}\n",
                uint64_grouping(r.num_flows),
                uint64_grouping(r.max_flows),
                uint64_grouping(r.seen_flows),
                go_duration(r.uptime_ns),
                r.version
            ),
            2,
            3,
        ),
        StatusFormat::Dict => format!(
            "          NUM FLOWS: {}\n          MAX FLOWS: {}\n         SEEN FLOWS: {}\n   FLOWS PER SECOND: {rate}\n             UPTIME: {}\nNUM CONNECTED NODES: {connected}\n NUM UNAVAIL. NODES: {unavailable}\n            VERSION: {}\n",
            uint64_grouping(r.num_flows),
            uint64_grouping(r.max_flows),
            uint64_grouping(r.seen_flows),
            go_duration(r.uptime_ns),
            r.version
        ),
        StatusFormat::Compact => {
            let ratio = if r.max_flows > 0 {
                format!(" ({:.2}%)", r.num_flows as f64 / r.max_flows as f64 * 100.0)
            } else {
                String::new()
            };
            let mut out = format!(
                "Current/Max Flows: {}/{}{ratio}\n",
                uint64_grouping(r.num_flows),
                uint64_grouping(r.max_flows)
            );
            let uptime_s = r.uptime_ns as f64 / 1e9;
            if rate == "N/A" && uptime_s > 0.0 {
                rate = format!("{:.2}", r.seen_flows as f64 / uptime_s);
            }
            out.push_str(&format!("Flows/s: {rate}\n"));
            if let Some(c) = r.num_connected_nodes {
                let total = r
                    .num_unavailable_nodes
                    .map(|u| format!("/{}", u64::from(u) + u64::from(c)))
                    .unwrap_or_default();
                out.push_str(&format!("Connected Nodes: {c}{total}\n"));
            }
            if let Some(u) = r.num_unavailable_nodes.filter(|u| *u > 0) {
                if r.unavailable_nodes.is_empty() {
                    out.push_str(&format!("Unavailable Nodes: {u}\n"));
                } else {
                    let mut names = r.unavailable_nodes.clone();
                    names.sort();
                    if u as usize > names.len() {
                        names.push(format!("and {} more...", u as usize - names.len()));
                    }
                    out.push_str(&format!(
                        "Unavailable Nodes: {u}\n  - {}\n",
                        names.join("\n  - ")
                    ));
                }
            }
            out
        }
    }
}

/// `hubble list nodes` (`-o table`, or `-o wide` with `wide`): sorted by name, in columns.
pub fn list_nodes(nodes: &[Node], wide: bool) -> String {
    let mut nodes: Vec<&Node> = nodes.iter().collect();
    nodes.sort_by(|a, b| a.name.cmp(&b.name));
    let mut text = String::from("NAME\tSTATUS\tAGE\tFLOWS/S\tCURRENT/MAX-FLOWS");
    if wide {
        text.push_str("\tVERSION\tADDRESS\tTLS");
    }
    text.push('\n');
    for n in nodes {
        let uptime = round_to_second(n.uptime_ns);
        let (age, rate) = if uptime > 0 && uptime <= i64::MAX as u64 {
            (
                go_duration(uptime),
                format!("{:.2}", n.seen_flows as f64 / (uptime as f64 / 1e9)),
            )
        } else {
            ("N/A".to_string(), "N/A".to_string())
        };
        let flows = if n.max_flows > 0 {
            format!(
                "{}/{} ({:6.2}%)",
                n.num_flows,
                n.max_flows,
                n.num_flows as f64 / n.max_flows as f64 * 100.0
            )
        } else {
            "N/A".into()
        };
        let state = match n.state {
            1 => "Connected",
            2 => "Unavailable",
            3 => "Gone",
            4 => "Error",
            _ => "Unknown",
        };
        text.push_str(&format!("{}\t{state}\t{age}\t{rate}\t{flows}", n.name));
        if wide {
            let version = if n.version.is_empty() {
                "N/A"
            } else {
                &n.version
            };
            let tls = match &n.tls {
                None => "N/A",
                Some(t) if t.enabled => "Enabled",
                Some(_) => "Disabled",
            };
            text.push_str(&format!("\t{version}\t{}\t{tls}", n.address));
        }
        text.push('\n');
    }
    tabwrite(&text, 2, 3)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test may unwrap: a panic is its failure report
mod tests {
    use super::*;
    use crate::hubble::proto::flow::{CiliumEventType, Endpoint, Ip, Layer4, Tcp};

    fn ts(seconds: i64, nanos: i32) -> prost_types::Timestamp {
        prost_types::Timestamp { seconds, nanos }
    }

    #[test]
    fn times_are_utc_and_truncated() {
        let t = ts(1234, 567_800_000);
        assert_eq!(
            TimeFormat::StampMilli.format(Some(&t)),
            "Jan  1 00:20:34.567"
        );
        let t = ts(1_714_829_020, 501_999_999);
        assert_eq!(
            TimeFormat::StampMilli.format(Some(&t)),
            "May  4 13:23:40.501"
        );
        assert_eq!(TimeFormat::Rfc3339.format(Some(&t)), "2024-05-04T13:23:40Z");
        assert_eq!(
            TimeFormat::Rfc3339Milli.format(Some(&t)),
            "2024-05-04T13:23:40.501Z"
        );
        assert_eq!(
            TimeFormat::Rfc3339Nano.format(Some(&t)),
            "2024-05-04T13:23:40.501999999Z"
        );
        let t = ts(1_714_829_020, 500_000_000);
        assert_eq!(
            TimeFormat::Rfc3339Micro.format(Some(&t)),
            "2024-05-04T13:23:40.5Z"
        );
        assert_eq!(
            TimeFormat::Rfc1123Z.format(Some(&t)),
            "Sat, 04 May 2024 13:23:40 +0000"
        );
        assert_eq!(
            TimeFormat::YearMonthDayHour.format(Some(&t)),
            "2024-05-04T13Z"
        );
        assert_eq!(TimeFormat::from_name("rfc3339"), TimeFormat::Rfc3339);
        assert_eq!(TimeFormat::from_name("nope"), TimeFormat::StampMilli);
        assert_eq!(TimeFormat::StampMilli.format(None), "N/A");
        assert_eq!(TimeFormat::StampMilli.format(Some(&ts(0, -1))), "N/A");
    }

    #[test]
    fn tabwriter_pads_columns_but_not_the_last_cell() {
        let t = "TIMESTAMP\tSOURCE\tDESTINATION\tTYPE\tVERDICT\tSUMMARY\nJan  1 00:20:34.567\t1.1.1.1:31793\t2.2.2.2:8080\tPolicy denied\tDROPPED\tTCP Flags: SYN\n";
        assert_eq!(
            tabwrite(t, 2, 3),
            "TIMESTAMP             SOURCE          DESTINATION    TYPE            VERDICT   SUMMARY\nJan  1 00:20:34.567   1.1.1.1:31793   2.2.2.2:8080   Policy denied   DROPPED   TCP Flags: SYN\n"
        );
        // A line with fewer cells ends the column block above it.
        assert_eq!(tabwrite("a\tb\nxxxx\nc\td\n", 2, 1), "a b\nxxxx\nc d\n");
        assert_eq!(tabwrite("\tx\n", 2, 3), "   x\n");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(uint64_grouping(0), "0");
        assert_eq!(uint64_grouping(999), "999");
        assert_eq!(uint64_grouping(4095), "4,095");
        assert_eq!(uint64_grouping(1_000_000), "1,000,000");
        assert_eq!(uint64_grouping(u64::MAX), "18,446,744,073,709,551,615");
    }

    #[test]
    fn durations_read_like_go() {
        assert_eq!(go_duration(0), "0s");
        assert_eq!(go_duration(5), "5ns");
        assert_eq!(go_duration(1_500), "1.5µs");
        assert_eq!(go_duration(100_000_000), "100ms");
        assert_eq!(go_duration(1_000_000_000_000), "16m40s");
        assert_eq!(go_duration(3_723_456_789_000), "1h2m3.456789s");
        assert_eq!(go_duration(3_600_000_000_000), "1h0m0s");
        assert_eq!(round_to_second(1_500_000_000), 2_000_000_000);
        assert_eq!(round_to_second(1_499_999_999), 1_000_000_000);
    }

    fn drop_flow() -> Flow {
        Flow {
            time: Some(ts(1234, 567_800_000)),
            verdict: 2,
            ip: Some(Ip {
                source: "1.1.1.1".into(),
                destination: "2.2.2.2".into(),
                ..Ip::default()
            }),
            l4: Some(Layer4 {
                protocol: Some(layer4::Protocol::Tcp(Tcp {
                    source_port: 31793,
                    destination_port: 8080,
                    flags: None,
                })),
            }),
            source: Some(Endpoint {
                identity: 4,
                ..Endpoint::default()
            }),
            destination: Some(Endpoint {
                identity: 12345,
                ..Endpoint::default()
            }),
            event_type: Some(CiliumEventType {
                r#type: 1,
                sub_type: 133,
            }),
            summary: "TCP Flags: SYN".into(),
            ..Flow::default()
        }
    }

    fn print(opts: Options, flows: &[Flow]) -> String {
        let mut p = Printer::new(opts);
        let mut out = Vec::new();
        for f in flows {
            let r = GetFlowsResponse {
                response_types: Some(ResponseTypes::Flow(f.clone())),
                ..GetFlowsResponse::default()
            };
            p.write(&mut out, &r).unwrap();
        }
        p.finish(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn compact_arrows_follow_is_reply() {
        let mut f = drop_flow();
        f.is_reply = Some(false);
        assert_eq!(
            print(Options::default(), &[f.clone()]),
            "Jan  1 00:20:34.567: 1.1.1.1:31793 (health) -> 2.2.2.2:8080 (ID:12345) Policy denied DROPPED (TCP Flags: SYN)\n"
        );
        f.is_reply = Some(true);
        assert_eq!(
            print(Options::default(), &[f.clone()]),
            "Jan  1 00:20:34.567: 2.2.2.2:8080 (ID:12345) <- 1.1.1.1:31793 (health) Policy denied DROPPED (TCP Flags: SYN)\n"
        );
        f.is_reply = None;
        f.event_type = Some(CiliumEventType {
            r#type: 5,
            sub_type: 0,
        });
        f.traffic_direction = 2;
        assert_eq!(
            print(Options::default(), &[f]),
            "Jan  1 00:20:34.567: 1.1.1.1:31793 (health) <> 2.2.2.2:8080 (ID:12345) policy-verdict:none EGRESS DENIED (TCP Flags: SYN)\n"
        );
    }

    #[test]
    fn colors_nest_the_port_in_the_host() {
        let mut f = drop_flow();
        f.source.as_mut().unwrap().namespace = "default".into();
        f.source.as_mut().unwrap().pod_name = "pod".into();
        let opts = Options {
            color: true,
            ..Options::default()
        };
        let line = print(opts, &[f]);
        assert!(
            line.contains(
                "\x1b[36mdefault/pod:\x1b[33m31793\x1b[0m\x1b[0m \x1b[35m(health)\x1b[0m"
            ),
            "{line:?}"
        );
        assert!(line.contains("\x1b[31mDROPPED\x1b[0m"), "{line:?}");
    }

    #[test]
    fn table_lays_out_at_the_end() {
        let opts = Options {
            output: Output::Table,
            ..Options::default()
        };
        assert_eq!(
            print(opts, &[drop_flow()]),
            "TIMESTAMP             SOURCE          DESTINATION    TYPE            VERDICT   SUMMARY\nJan  1 00:20:34.567   1.1.1.1:31793   2.2.2.2:8080   Policy denied   DROPPED   TCP Flags: SYN\n"
        );
        assert_eq!(print(opts, &[]), "");
    }

    #[test]
    fn hostnames() {
        let c = Colors(false);
        assert_eq!(
            hostname("fd00::1", "80", "", "", "", &[], true, c),
            "[fd00::1]:80"
        );
        assert_eq!(
            hostname("10.0.0.1", "0", "", "", "", &[], true, c),
            "10.0.0.1"
        );
        assert_eq!(
            hostname("10.0.0.1", "80", "ns", "pod", "svc", &[], true, c),
            "ns/pod:80"
        );
        assert_eq!(
            hostname("10.0.0.1", "80", "ns", "", "svc", &[], true, c),
            "ns/svc:80"
        );
        assert_eq!(
            hostname("10.0.0.1", "80", "ns", "pod", "", &[], false, c),
            "10.0.0.1:80"
        );
        let names = ["a.com".to_string(), "b.com".to_string()];
        assert_eq!(
            hostname("10.0.0.1", "", "", "", "", &names, true, c),
            "a.com,b.com"
        );
        assert_eq!(hostname("10.0.0.1", "", "", "pod", "", &[], true, c), "pod");
    }

    #[test]
    fn status_compact() {
        let r = ServerStatusResponse {
            num_flows: 4095,
            max_flows: 4095,
            seen_flows: 100,
            uptime_ns: 10_000_000_000,
            num_connected_nodes: Some(1),
            num_unavailable_nodes: Some(0),
            flows_rate: 3.4123,
            ..ServerStatusResponse::default()
        };
        assert_eq!(
            status("localhost:4245", &r, StatusFormat::Compact),
            "Healthcheck (via localhost:4245): Ok\nCurrent/Max Flows: 4,095/4,095 (100.00%)\nFlows/s: 3.41\nConnected Nodes: 1/1\n"
        );
        let r = ServerStatusResponse {
            flows_rate: 0.0,
            num_connected_nodes: None,
            num_unavailable_nodes: None,
            ..r
        };
        assert_eq!(
            server_status(&r, StatusFormat::Compact),
            "Current/Max Flows: 4,095/4,095 (100.00%)\nFlows/s: 10.00\n"
        );
    }

    #[test]
    fn nodes_table() {
        let n = Node {
            name: "galaxia".into(),
            state: 1,
            uptime_ns: 1_000_000_000_000,
            num_flows: 500,
            max_flows: 1000,
            seen_flows: 2000,
            ..Node::default()
        };
        assert_eq!(
            list_nodes(&[n], false),
            "NAME      STATUS      AGE      FLOWS/S   CURRENT/MAX-FLOWS\ngalaxia   Connected   16m40s   2.00      500/1000 ( 50.00%)\n"
        );
    }
}
