//! Hubble's JSON: protojson as the Hubble CLI prints it (`hubble observe -o json`, `hubble status
//! -o json`), written by hand over our generated structs, and a reader for the same lines
//! (`--input-file`, `--allowlist`).
//!
//! What the bytes follow (Hubble CLI v0.13.6: protobuf-go's protojson with `UseProtoNames`, then
//! Go's `json.Encoder`): keys are proto names in declaration order (the order of
//! `galaxia/proto/*.proto`, which is Cilium's); zero scalars, empty strings and lists and unset
//! messages are left out, while a set message prints even when empty (`{}`) and a wrapper prints
//! its bare value even when zero; enums print their name (a number when unnamed); 64-bit integers
//! are strings; timestamps are RFC 3339 in UTC with 0, 3, 6 or 9 fractional digits; strings escape
//! `"`, `\` and control characters, plus Go's HTML escapes (`<` `>` `&` as `\u003c` `\u003e`
//! `\u0026`, U+2028 and U+2029). Compact, one object a line (callers add the newline).
//!
//! Enum names come from Cilium's full tables, not our proto subset's, so a value our proto does not
//! declare (a drop reason galaxia never gives, say) still prints as Cilium prints it.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::proto::flow::{
    self, CiliumEventType, Endpoint, EventTypeFilter, Flow, FlowFilter, Http, HttpHeader, Ip,
    Layer4, Layer7, LostEvent, Policy, Service, Tcp, TcpFlags, Udp, Workload, layer4, layer7,
};
use super::proto::observer::{
    GetFlowsRequest, GetFlowsResponse, GetNodesResponse, Node, ServerStatusResponse, Tls,
    get_flows_response::ResponseTypes,
};

/// One `hubble observe -o json` line (without its newline).
pub fn get_flows_response(r: &GetFlowsResponse) -> String {
    let mut o = Obj::new();
    match &r.response_types {
        Some(ResponseTypes::Flow(f)) => o.msg("flow", f, write_flow),
        Some(ResponseTypes::LostEvents(l)) => o.msg("lost_events", l, write_lost_event),
        None => {}
    }
    o.str("node_name", &r.node_name);
    o.opt_msg("time", r.time.as_ref(), write_timestamp);
    o.finish()
}

/// A bare flow (Hubble's legacy JSON output, and what a flow looks like inside a response).
pub fn flow(f: &Flow) -> String {
    let mut s = String::new();
    write_flow(&mut s, f);
    s
}

/// `hubble status -o json`.
pub fn server_status_response(r: &ServerStatusResponse) -> String {
    let mut o = Obj::new();
    o.u64("num_flows", r.num_flows);
    o.u64("max_flows", r.max_flows);
    o.u64("seen_flows", r.seen_flows);
    o.u64("uptime_ns", r.uptime_ns);
    if let Some(n) = r.num_connected_nodes {
        o.raw("num_connected_nodes", &n.to_string());
    }
    if let Some(n) = r.num_unavailable_nodes {
        o.raw("num_unavailable_nodes", &n.to_string());
    }
    o.strs("unavailable_nodes", &r.unavailable_nodes);
    o.str("version", &r.version);
    o.f64("flows_rate", r.flows_rate);
    o.finish()
}

/// One flow filter, as `hubble observe --print-raw-filters` lists it.
pub fn flow_filter(f: &FlowFilter) -> String {
    let mut s = String::new();
    write_flow_filter(&mut s, f);
    s
}

/// A GetFlows request (what `galaxia observe` sends; for logs and tests).
pub fn get_flows_request(r: &GetFlowsRequest) -> String {
    let mut o = Obj::new();
    o.u64("number", r.number);
    o.bool("first", r.first);
    o.bool("follow", r.follow);
    o.msgs("blacklist", &r.blacklist, write_flow_filter);
    o.msgs("whitelist", &r.whitelist, write_flow_filter);
    o.opt_msg("since", r.since.as_ref(), write_timestamp);
    o.opt_msg("until", r.until.as_ref(), write_timestamp);
    o.finish()
}

/// One node of `GetNodes`, compact.
pub fn node(n: &Node) -> String {
    let mut s = String::new();
    write_node(&mut s, n);
    s
}

/// `hubble list nodes -o json`: the nodes (sorted by the caller) as an indented JSON array, as
/// Go's `json.MarshalIndent(nodes, "", "  ")` lays out their protojson, and a newline.
pub fn list_nodes(nodes: &[Node]) -> String {
    let mut compact = String::from("[");
    for (i, n) in nodes.iter().enumerate() {
        if i > 0 {
            compact.push(',');
        }
        write_node(&mut compact, n);
    }
    compact.push(']');
    let mut out = indent(&compact, "  ");
    out.push('\n');
    out
}

/// `GetNodesResponse` compact (for logs and tests).
pub fn get_nodes_response(r: &GetNodesResponse) -> String {
    let mut o = Obj::new();
    o.msgs("nodes", &r.nodes, write_node);
    o.finish()
}

// ---------------------------------------------------------------------------------------------
// Writing

/// A JSON object being written: keys are added in the order the proto declares them.
struct Obj {
    out: String,
    empty: bool,
}

impl Obj {
    fn new() -> Obj {
        Obj {
            out: String::from("{"),
            empty: true,
        }
    }

    fn key(&mut self, k: &str) {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        push_json_string(&mut self.out, k);
        self.out.push(':');
    }

    fn raw(&mut self, k: &str, v: &str) {
        self.key(k);
        self.out.push_str(v);
    }

    fn str(&mut self, k: &str, v: &str) {
        if !v.is_empty() {
            self.key(k);
            push_json_string(&mut self.out, v);
        }
    }

    fn bool(&mut self, k: &str, v: bool) {
        if v {
            self.raw(k, "true");
        }
    }

    fn u32(&mut self, k: &str, v: u32) {
        if v != 0 {
            self.raw(k, &v.to_string());
        }
    }

    fn i32(&mut self, k: &str, v: i32) {
        if v != 0 {
            self.raw(k, &v.to_string());
        }
    }

    /// 64-bit integers are strings in proto3 JSON.
    fn u64(&mut self, k: &str, v: u64) {
        if v != 0 {
            self.raw(k, &format!("\"{v}\""));
        }
    }

    fn f64(&mut self, k: &str, v: f64) {
        // proto3 presence is by bits: -0.0 is "set".
        if v.to_bits() != 0 {
            self.raw(k, &format_double(v));
        }
    }

    fn enum_(&mut self, k: &str, v: i32, name: fn(i32) -> Option<&'static str>) {
        if v != 0 {
            self.key(k);
            push_enum(&mut self.out, v, name);
        }
    }

    fn strs(&mut self, k: &str, v: &[String]) {
        if !v.is_empty() {
            self.key(k);
            self.out.push('[');
            for (i, s) in v.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                push_json_string(&mut self.out, s);
            }
            self.out.push(']');
        }
    }

    fn list<T>(&mut self, k: &str, v: &[T], mut item: impl FnMut(&mut String, &T)) {
        if !v.is_empty() {
            self.key(k);
            self.out.push('[');
            for (i, x) in v.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                item(&mut self.out, x);
            }
            self.out.push(']');
        }
    }

    fn msgs<T>(&mut self, k: &str, v: &[T], write: fn(&mut String, &T)) {
        self.list(k, v, write);
    }

    fn msg<T: ?Sized>(&mut self, k: &str, v: &T, write: fn(&mut String, &T)) {
        self.key(k);
        write(&mut self.out, v);
    }

    fn opt_msg<T>(&mut self, k: &str, v: Option<&T>, write: fn(&mut String, &T)) {
        if let Some(v) = v {
            self.msg(k, v, write);
        }
    }

    fn finish(mut self) -> String {
        self.out.push('}');
        self.out
    }

    fn close_into(self, out: &mut String) {
        out.push_str(&self.finish());
    }
}

fn push_enum(out: &mut String, v: i32, name: fn(i32) -> Option<&'static str>) {
    match name(v) {
        Some(n) => push_json_string(out, n),
        None => {
            let _ = write!(out, "{v}");
        }
    }
}

fn write_flow(out: &mut String, f: &Flow) {
    let mut o = Obj::new();
    o.opt_msg("time", f.time.as_ref(), write_timestamp);
    o.str("uuid", &f.uuid);
    o.enum_("verdict", f.verdict, verdict_name);
    o.u32("drop_reason", f.drop_reason);
    o.enum_("auth_type", f.auth_type, auth_type_name);
    o.opt_msg("IP", f.ip.as_ref(), write_ip);
    o.opt_msg("l4", f.l4.as_ref(), write_layer4);
    o.opt_msg("source", f.source.as_ref(), write_endpoint);
    o.opt_msg("destination", f.destination.as_ref(), write_endpoint);
    o.enum_("Type", f.r#type, flow_type_name);
    o.str("node_name", &f.node_name);
    o.strs("source_names", &f.source_names);
    o.strs("destination_names", &f.destination_names);
    o.opt_msg("l7", f.l7.as_ref(), write_layer7);
    o.bool("reply", f.reply);
    o.opt_msg("event_type", f.event_type.as_ref(), write_event_type);
    o.opt_msg("source_service", f.source_service.as_ref(), write_service);
    o.opt_msg(
        "destination_service",
        f.destination_service.as_ref(),
        write_service,
    );
    o.enum_(
        "traffic_direction",
        f.traffic_direction,
        traffic_direction_name,
    );
    o.u32("policy_match_type", f.policy_match_type);
    o.enum_(
        "trace_observation_point",
        f.trace_observation_point,
        observation_point_name,
    );
    o.enum_("drop_reason_desc", f.drop_reason_desc, drop_reason_name);
    if let Some(r) = f.is_reply {
        o.raw("is_reply", if r { "true" } else { "false" });
    }
    o.u32("proxy_port", f.proxy_port);
    o.str("Summary", &f.summary);
    o.msgs("egress_allowed_by", &f.egress_allowed_by, write_policy);
    o.msgs("ingress_allowed_by", &f.ingress_allowed_by, write_policy);
    o.close_into(out);
}

fn write_ip(out: &mut String, ip: &Ip) {
    let mut o = Obj::new();
    o.str("source", &ip.source);
    o.str("destination", &ip.destination);
    o.enum_("ipVersion", ip.ip_version, ip_version_name);
    o.bool("encrypted", ip.encrypted);
    o.close_into(out);
}

fn write_layer4(out: &mut String, l4: &Layer4) {
    let mut o = Obj::new();
    match &l4.protocol {
        Some(layer4::Protocol::Tcp(t)) => o.msg("TCP", t, write_tcp),
        Some(layer4::Protocol::Udp(u)) => o.msg("UDP", u, write_udp),
        None => {}
    }
    o.close_into(out);
}

fn write_tcp(out: &mut String, t: &Tcp) {
    let mut o = Obj::new();
    o.u32("source_port", t.source_port);
    o.u32("destination_port", t.destination_port);
    o.opt_msg("flags", t.flags.as_ref(), write_tcp_flags);
    o.close_into(out);
}

fn write_tcp_flags(out: &mut String, f: &TcpFlags) {
    let mut o = Obj::new();
    o.bool("FIN", f.fin);
    o.bool("SYN", f.syn);
    o.bool("RST", f.rst);
    o.bool("PSH", f.psh);
    o.bool("ACK", f.ack);
    o.bool("URG", f.urg);
    o.bool("ECE", f.ece);
    o.bool("CWR", f.cwr);
    o.bool("NS", f.ns);
    o.close_into(out);
}

fn write_udp(out: &mut String, u: &Udp) {
    let mut o = Obj::new();
    o.u32("source_port", u.source_port);
    o.u32("destination_port", u.destination_port);
    o.close_into(out);
}

fn write_endpoint(out: &mut String, e: &Endpoint) {
    let mut o = Obj::new();
    o.u32("ID", e.id);
    o.u32("identity", e.identity);
    o.str("namespace", &e.namespace);
    o.strs("labels", &e.labels);
    o.str("pod_name", &e.pod_name);
    o.msgs("workloads", &e.workloads, write_workload);
    o.close_into(out);
}

fn write_workload(out: &mut String, w: &Workload) {
    let mut o = Obj::new();
    o.str("name", &w.name);
    o.str("kind", &w.kind);
    o.close_into(out);
}

fn write_layer7(out: &mut String, l7: &Layer7) {
    let mut o = Obj::new();
    o.enum_("type", l7.r#type, l7_type_name);
    o.u64("latency_ns", l7.latency_ns);
    match &l7.record {
        Some(layer7::Record::Http(h)) => o.msg("http", h, write_http),
        None => {}
    }
    o.close_into(out);
}

fn write_http(out: &mut String, h: &Http) {
    let mut o = Obj::new();
    o.u32("code", h.code);
    o.str("method", &h.method);
    o.str("url", &h.url);
    o.str("protocol", &h.protocol);
    o.msgs("headers", &h.headers, write_http_header);
    o.close_into(out);
}

fn write_http_header(out: &mut String, h: &HttpHeader) {
    let mut o = Obj::new();
    o.str("key", &h.key);
    o.str("value", &h.value);
    o.close_into(out);
}

fn write_event_type(out: &mut String, e: &CiliumEventType) {
    let mut o = Obj::new();
    o.i32("type", e.r#type);
    o.i32("sub_type", e.sub_type);
    o.close_into(out);
}

fn write_service(out: &mut String, s: &Service) {
    let mut o = Obj::new();
    o.str("name", &s.name);
    o.str("namespace", &s.namespace);
    o.close_into(out);
}

fn write_policy(out: &mut String, p: &Policy) {
    let mut o = Obj::new();
    o.str("name", &p.name);
    o.str("namespace", &p.namespace);
    o.strs("labels", &p.labels);
    o.u64("revision", p.revision);
    o.close_into(out);
}

fn write_lost_event(out: &mut String, l: &LostEvent) {
    let mut o = Obj::new();
    o.enum_("source", l.source, lost_event_source_name);
    o.u64("num_events_lost", l.num_events_lost);
    if let Some(cpu) = l.cpu {
        o.raw("cpu", &cpu.to_string());
    }
    o.close_into(out);
}

fn write_event_type_filter(out: &mut String, e: &EventTypeFilter) {
    let mut o = Obj::new();
    o.i32("type", e.r#type);
    o.bool("match_sub_type", e.match_sub_type);
    o.i32("sub_type", e.sub_type);
    o.close_into(out);
}

fn write_flow_filter(out: &mut String, f: &FlowFilter) {
    let enums = |o: &mut Obj, k: &str, v: &[i32], name: fn(i32) -> Option<&'static str>| {
        o.list(k, v, |out, x| push_enum(out, *x, name));
    };
    let mut o = Obj::new();
    o.strs("uuid", &f.uuid);
    o.strs("source_ip", &f.source_ip);
    o.strs("source_pod", &f.source_pod);
    o.strs("source_fqdn", &f.source_fqdn);
    o.strs("source_label", &f.source_label);
    o.strs("source_service", &f.source_service);
    o.msgs("source_workload", &f.source_workload, write_workload);
    o.strs("destination_ip", &f.destination_ip);
    o.strs("destination_pod", &f.destination_pod);
    o.strs("destination_fqdn", &f.destination_fqdn);
    o.strs("destination_label", &f.destination_label);
    o.strs("destination_service", &f.destination_service);
    o.msgs(
        "destination_workload",
        &f.destination_workload,
        write_workload,
    );
    enums(
        &mut o,
        "traffic_direction",
        &f.traffic_direction,
        traffic_direction_name,
    );
    enums(&mut o, "verdict", &f.verdict, verdict_name);
    o.msgs("event_type", &f.event_type, write_event_type_filter);
    o.strs("http_status_code", &f.http_status_code);
    o.strs("protocol", &f.protocol);
    o.strs("source_port", &f.source_port);
    o.strs("destination_port", &f.destination_port);
    o.list("reply", &f.reply, |out, b| {
        out.push_str(if *b { "true" } else { "false" })
    });
    o.strs("dns_query", &f.dns_query);
    o.list("source_identity", &f.source_identity, |out, n| {
        let _ = write!(out, "{n}");
    });
    o.list("destination_identity", &f.destination_identity, |out, n| {
        let _ = write!(out, "{n}");
    });
    o.strs("http_method", &f.http_method);
    o.strs("http_path", &f.http_path);
    o.strs("http_url", &f.http_url);
    o.msgs("http_header", &f.http_header, write_http_header);
    o.msgs("tcp_flags", &f.tcp_flags, write_tcp_flags);
    o.strs("node_name", &f.node_name);
    enums(&mut o, "ip_version", &f.ip_version, ip_version_name);
    o.strs("trace_id", &f.trace_id);
    o.close_into(out);
}

fn write_node(out: &mut String, n: &Node) {
    let mut o = Obj::new();
    o.str("name", &n.name);
    o.str("version", &n.version);
    o.str("address", &n.address);
    o.enum_("state", n.state, node_state_name);
    o.opt_msg("tls", n.tls.as_ref(), write_tls);
    o.u64("uptime_ns", n.uptime_ns);
    o.u64("num_flows", n.num_flows);
    o.u64("max_flows", n.max_flows);
    o.u64("seen_flows", n.seen_flows);
    o.close_into(out);
}

fn write_tls(out: &mut String, t: &Tls) {
    let mut o = Obj::new();
    o.bool("enabled", t.enabled);
    o.str("server_name", &t.server_name);
    o.close_into(out);
}

fn write_timestamp(out: &mut String, ts: &prost_types::Timestamp) {
    out.push('"');
    out.push_str(&rfc3339_proto(ts));
    out.push('"');
}

/// A timestamp as protojson writes it: UTC, `Z`, and the fraction in groups of three digits.
pub(crate) fn rfc3339_proto(ts: &prost_types::Timestamp) -> String {
    let (y, mo, d, h, mi, s) = civil_from_unix(ts.seconds);
    let mut text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
    let nanos = ts.nanos.clamp(0, 999_999_999);
    if nanos != 0 {
        let mut frac = format!("{nanos:09}");
        for _ in 0..2 {
            if frac.ends_with("000") {
                frac.truncate(frac.len() - 3);
            }
        }
        text.push('.');
        text.push_str(&frac);
    }
    text.push('Z');
    text
}

/// A double as protojson writes it: the shortest text that reads back the same, in plain
/// notation between 1e-6 and 1e21 and in Go's exponent notation (`1e+21`, `1e-7`) outside.
pub(crate) fn format_double(v: f64) -> String {
    if v.is_nan() {
        return "\"NaN\"".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "\"Infinity\"".into()
        } else {
            "\"-Infinity\"".into()
        };
    }
    let a = v.abs();
    if a != 0.0 && !(1e-6..1e21).contains(&a) {
        let s = format!("{v:e}");
        match s.split_once('e') {
            Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
            _ => s,
        }
    } else {
        format!("{v}")
    }
}

/// A string as protojson escapes it, with Go's `json.Encoder` HTML escapes on top.
pub(crate) fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Go's `json.Indent` over compact JSON: one value a line, `": "` after keys, empty objects and
/// arrays kept as `{}` and `[]`.
fn indent(compact: &str, step: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    let mut in_str = false;
    let mut escaped = false;
    let mut chars = compact.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str(step);
        }
    };
    while let Some(c) = chars.next() {
        if in_str {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_str = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                let close = if c == '{' { '}' } else { ']' };
                if chars.peek() == Some(&close) {
                    out.push(close);
                    chars.next();
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Time

/// Seconds of the Unix epoch as (year, month, day, hour, minute, second), proleptic Gregorian, UTC.
pub(crate) fn civil_from_unix(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let h = (rem / 3600) as u32;
    let mi = ((rem % 3600) / 60) as u32;
    let s = (rem % 60) as u32;
    (y, m, d, h, mi, s)
}

/// Days since 1970-01-01 as a civil date (Howard Hinnant's algorithm).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A civil date as days since 1970-01-01.
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

// ---------------------------------------------------------------------------------------------
// Enum names (Cilium 1.15's tables)

/// A proto enum's name and value lookups, from the generated type (whose names are Cilium's).
macro_rules! proto_enum {
    ($name:ident, $value:ident, $ty:path) => {
        pub(crate) fn $name(v: i32) -> Option<&'static str> {
            <$ty>::try_from(v).ok().map(|v| v.as_str_name())
        }

        pub(crate) fn $value(s: &str) -> Option<i32> {
            <$ty>::from_str_name(s).map(|v| v as i32)
        }
    };
}

proto_enum!(verdict_name, verdict_value, flow::Verdict);
proto_enum!(flow_type_name, flow_type_value, flow::FlowType);
proto_enum!(auth_type_name, auth_type_value, flow::AuthType);
proto_enum!(
    traffic_direction_name,
    traffic_direction_value,
    flow::TrafficDirection
);
proto_enum!(
    observation_point_name,
    observation_point_value,
    flow::TraceObservationPoint
);
proto_enum!(ip_version_name, ip_version_value, flow::IpVersion);
proto_enum!(l7_type_name, l7_type_value, flow::L7FlowType);
proto_enum!(
    lost_event_source_name,
    lost_event_source_value,
    flow::LostEventSource
);

pub(crate) fn node_state_name(v: i32) -> Option<&'static str> {
    super::proto::relay::NodeState::try_from(v)
        .ok()
        .map(|v| v.as_str_name())
}

/// Cilium's `DropReason` enum names (the proto names, not the monitor's texts).
const DROP_REASONS: &[(i32, &str)] = &[
    (0, "DROP_REASON_UNKNOWN"),
    (130, "INVALID_SOURCE_MAC"),
    (131, "INVALID_DESTINATION_MAC"),
    (132, "INVALID_SOURCE_IP"),
    (133, "POLICY_DENIED"),
    (134, "INVALID_PACKET_DROPPED"),
    (135, "CT_TRUNCATED_OR_INVALID_HEADER"),
    (136, "CT_MISSING_TCP_ACK_FLAG"),
    (137, "CT_UNKNOWN_L4_PROTOCOL"),
    (138, "CT_CANNOT_CREATE_ENTRY_FROM_PACKET"),
    (139, "UNSUPPORTED_L3_PROTOCOL"),
    (140, "MISSED_TAIL_CALL"),
    (141, "ERROR_WRITING_TO_PACKET"),
    (142, "UNKNOWN_L4_PROTOCOL"),
    (143, "UNKNOWN_ICMPV4_CODE"),
    (144, "UNKNOWN_ICMPV4_TYPE"),
    (145, "UNKNOWN_ICMPV6_CODE"),
    (146, "UNKNOWN_ICMPV6_TYPE"),
    (147, "ERROR_RETRIEVING_TUNNEL_KEY"),
    (148, "ERROR_RETRIEVING_TUNNEL_OPTIONS"),
    (149, "INVALID_GENEVE_OPTION"),
    (150, "UNKNOWN_L3_TARGET_ADDRESS"),
    (151, "STALE_OR_UNROUTABLE_IP"),
    (152, "NO_MATCHING_LOCAL_CONTAINER_FOUND"),
    (153, "ERROR_WHILE_CORRECTING_L3_CHECKSUM"),
    (154, "ERROR_WHILE_CORRECTING_L4_CHECKSUM"),
    (155, "CT_MAP_INSERTION_FAILED"),
    (156, "INVALID_IPV6_EXTENSION_HEADER"),
    (157, "IP_FRAGMENTATION_NOT_SUPPORTED"),
    (158, "SERVICE_BACKEND_NOT_FOUND"),
    (160, "NO_TUNNEL_OR_ENCAPSULATION_ENDPOINT"),
    (161, "FAILED_TO_INSERT_INTO_PROXYMAP"),
    (162, "REACHED_EDT_RATE_LIMITING_DROP_HORIZON"),
    (163, "UNKNOWN_CONNECTION_TRACKING_STATE"),
    (164, "LOCAL_HOST_IS_UNREACHABLE"),
    (165, "NO_CONFIGURATION_AVAILABLE_TO_PERFORM_POLICY_DECISION"),
    (166, "UNSUPPORTED_L2_PROTOCOL"),
    (167, "NO_MAPPING_FOR_NAT_MASQUERADE"),
    (168, "UNSUPPORTED_PROTOCOL_FOR_NAT_MASQUERADE"),
    (169, "FIB_LOOKUP_FAILED"),
    (170, "ENCAPSULATION_TRAFFIC_IS_PROHIBITED"),
    (171, "INVALID_IDENTITY"),
    (172, "UNKNOWN_SENDER"),
    (173, "NAT_NOT_NEEDED"),
    (174, "IS_A_CLUSTERIP"),
    (175, "FIRST_LOGICAL_DATAGRAM_FRAGMENT_NOT_FOUND"),
    (176, "FORBIDDEN_ICMPV6_MESSAGE"),
    (177, "DENIED_BY_LB_SRC_RANGE_CHECK"),
    (178, "SOCKET_LOOKUP_FAILED"),
    (179, "SOCKET_ASSIGN_FAILED"),
    (180, "PROXY_REDIRECTION_NOT_SUPPORTED_FOR_PROTOCOL"),
    (181, "POLICY_DENY"),
    (182, "VLAN_FILTERED"),
    (183, "INVALID_VNI"),
    (184, "INVALID_TC_BUFFER"),
    (185, "NO_SID"),
    (186, "MISSING_SRV6_STATE"),
    (187, "NAT46"),
    (188, "NAT64"),
    (189, "AUTH_REQUIRED"),
    (190, "CT_NO_MAP_FOUND"),
    (191, "SNAT_NO_MAP_FOUND"),
    (192, "INVALID_CLUSTER_ID"),
    (193, "UNSUPPORTED_PROTOCOL_FOR_DSR_ENCAP"),
    (194, "NO_EGRESS_GATEWAY"),
    (195, "UNENCRYPTED_TRAFFIC"),
    (196, "TTL_EXCEEDED"),
    (197, "NO_NODE_ID"),
    (198, "DROP_RATE_LIMITED"),
    (199, "IGMP_HANDLED"),
    (200, "IGMP_SUBSCRIBED"),
    (201, "MULTICAST_HANDLED"),
    (202, "DROP_HOST_NOT_READY"),
];

pub(crate) fn drop_reason_name(v: i32) -> Option<&'static str> {
    DROP_REASONS.iter().find(|(n, _)| *n == v).map(|(_, s)| *s)
}

pub(crate) fn drop_reason_value(s: &str) -> Option<i32> {
    DROP_REASONS.iter().find(|(_, n)| *n == s).map(|(v, _)| *v)
}

/// An enum's names both ways.
type EnumTable = (fn(i32) -> Option<&'static str>, fn(&str) -> Option<i32>);

const VERDICT: EnumTable = (verdict_name, verdict_value);
const FLOW_TYPE: EnumTable = (flow_type_name, flow_type_value);
const AUTH_TYPE: EnumTable = (auth_type_name, auth_type_value);
const TRAFFIC_DIRECTION: EnumTable = (traffic_direction_name, traffic_direction_value);
const OBSERVATION_POINT: EnumTable = (observation_point_name, observation_point_value);
const IP_VERSION: EnumTable = (ip_version_name, ip_version_value);
const L7_TYPE: EnumTable = (l7_type_name, l7_type_value);
const LOST_EVENT_SOURCE: EnumTable = (lost_event_source_name, lost_event_source_value);
const DROP_REASON: EnumTable = (drop_reason_name, drop_reason_value);

// ---------------------------------------------------------------------------------------------
// Reading

/// A JSON line that is not a response (or filter) in Hubble's format.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("{0}")]
    Syntax(#[from] serde_json::Error),
    #[error("{path}: {problem}")]
    Field { path: String, problem: String },
}

fn bad(path: &str, problem: impl Into<String>) -> DecodeError {
    DecodeError::Field {
        path: path.to_string(),
        problem: problem.into(),
    }
}

/// Read one line of `hubble observe -o json` (what `--input-file` holds). Fields we do not model
/// are skipped, as Hubble skips fields newer than itself.
pub fn parse_get_flows_response(line: &str) -> Result<GetFlowsResponse, DecodeError> {
    let v: Value = serde_json::from_str(line)?;
    let o = Fields::new(&v, "GetFlowsResponse")?;
    let mut r = GetFlowsResponse {
        node_name: o.string("node_name")?,
        time: o.opt("time", read_timestamp)?,
        response_types: None,
    };
    if let Some(f) = o.opt("flow", read_flow)? {
        r.response_types = Some(ResponseTypes::Flow(f));
    } else if let Some(l) = o.opt("lost_events", read_lost_event)? {
        r.response_types = Some(ResponseTypes::LostEvents(l));
    }
    Ok(r)
}

/// Read flow filters written as JSON, one or several objects one after the other (Hubble's
/// `--allowlist`/`--denylist`).
pub fn parse_flow_filters(text: &str) -> Result<Vec<FlowFilter>, DecodeError> {
    let mut out = Vec::new();
    for v in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
        out.push(read_flow_filter(&v?, "FlowFilter")?);
    }
    Ok(out)
}

/// Read a bare flow.
pub fn parse_flow(text: &str) -> Result<Flow, DecodeError> {
    let v: Value = serde_json::from_str(text)?;
    read_flow(&v, "Flow")
}

/// An object's fields, found by proto name or by protojson's lowerCamelCase name.
struct Fields<'a> {
    map: &'a Map<String, Value>,
    path: &'a str,
}

impl<'a> Fields<'a> {
    fn new(v: &'a Value, path: &'a str) -> Result<Fields<'a>, DecodeError> {
        match v {
            Value::Object(map) => Ok(Fields { map, path }),
            _ => Err(bad(path, "not an object")),
        }
    }

    fn get(&self, name: &str) -> Option<&'a Value> {
        let v = self
            .map
            .get(name)
            .or_else(|| self.map.get(&lower_camel(name)))?;
        (!v.is_null()).then_some(v)
    }

    fn sub(&self, name: &str) -> String {
        format!("{}.{name}", self.path)
    }

    fn opt<T>(
        &self,
        name: &str,
        read: impl Fn(&Value, &str) -> Result<T, DecodeError>,
    ) -> Result<Option<T>, DecodeError> {
        self.get(name).map(|v| read(v, &self.sub(name))).transpose()
    }

    fn or_default<T: Default>(
        &self,
        name: &str,
        read: impl Fn(&Value, &str) -> Result<T, DecodeError>,
    ) -> Result<T, DecodeError> {
        Ok(self.opt(name, read)?.unwrap_or_default())
    }

    fn string(&self, name: &str) -> Result<String, DecodeError> {
        self.or_default(name, read_string)
    }

    fn bool(&self, name: &str) -> Result<bool, DecodeError> {
        self.or_default(name, read_bool)
    }

    fn u32(&self, name: &str) -> Result<u32, DecodeError> {
        self.or_default(name, |v, p| {
            read_uint(v, p, u64::from(u32::MAX)).map(|n| n as u32)
        })
    }

    fn i32(&self, name: &str) -> Result<i32, DecodeError> {
        self.or_default(name, read_i32)
    }

    fn u64(&self, name: &str) -> Result<u64, DecodeError> {
        self.or_default(name, |v, p| read_uint(v, p, u64::MAX))
    }

    fn enum_(&self, name: &str, table: EnumTable) -> Result<i32, DecodeError> {
        self.or_default(name, |v, p| read_enum(v, p, table))
    }

    fn list<T>(
        &self,
        name: &str,
        read: impl Fn(&Value, &str) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => {
                let p = self.sub(name);
                items.iter().map(|v| read(v, &p)).collect()
            }
            Some(_) => Err(bad(&self.sub(name), "not a list")),
        }
    }

    fn strings(&self, name: &str) -> Result<Vec<String>, DecodeError> {
        self.list(name, read_string)
    }
}

/// protojson's JSON name for a proto field: `source_port` -> `sourcePort`.
fn lower_camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn read_string(v: &Value, path: &str) -> Result<String, DecodeError> {
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| bad(path, "not a string"))
}

fn read_bool(v: &Value, path: &str) -> Result<bool, DecodeError> {
    v.as_bool().ok_or_else(|| bad(path, "not a boolean"))
}

/// An unsigned integer as a JSON number or, as protojson also reads it, a string.
fn read_uint(v: &Value, path: &str, max: u64) -> Result<u64, DecodeError> {
    let n = match v {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= u64::MAX as f64)
                .map(|f| f as u64)
        }),
        Value::String(s) => s.parse::<u64>().ok(),
        _ => None,
    };
    n.filter(|n| *n <= max)
        .ok_or_else(|| bad(path, "not an unsigned integer in range"))
}

fn read_i32(v: &Value, path: &str) -> Result<i32, DecodeError> {
    let n = match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse::<i64>().ok(),
        _ => None,
    };
    n.and_then(|n| i32::try_from(n).ok())
        .ok_or_else(|| bad(path, "not a 32-bit integer"))
}

fn read_enum(v: &Value, path: &str, table: EnumTable) -> Result<i32, DecodeError> {
    match v {
        Value::String(s) => {
            (table.1)(s).ok_or_else(|| bad(path, format!("invalid value for enum: {s}")))
        }
        Value::Number(_) => read_i32(v, path),
        _ => Err(bad(path, "not an enum")),
    }
}

fn read_timestamp(v: &Value, path: &str) -> Result<prost_types::Timestamp, DecodeError> {
    let s = v.as_str().ok_or_else(|| bad(path, "not a timestamp"))?;
    parse_rfc3339(s).ok_or_else(|| bad(path, format!("invalid timestamp {s:?}")))
}

/// RFC 3339 with `Z` or an offset and up to nine fractional digits.
pub(crate) fn parse_rfc3339(s: &str) -> Option<prost_types::Timestamp> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo)
        || d < 1
        || d > days_in_month(i64::from(y), mo)
        || h > 23
        || mi > 59
        || sec > 59
    {
        return None;
    }
    let mut i = 19;
    let mut nanos = 0u32;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        let mut end = start;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
        if end == start || end - start > 9 {
            return None;
        }
        let digits = &s[start..end];
        nanos = digits.parse::<u32>().ok()? * 10u32.pow(9 - (end - start) as u32);
        i = end;
    }
    let offset = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        c @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let oh = num(i + 1..i + 3)?;
            let om = num(i + 4..i + 6)?;
            if oh > 23 || om > 59 {
                return None;
            }
            let o = i64::from(oh * 3600 + om * 60);
            if *c == b'-' { -o } else { o }
        }
        _ => return None,
    };
    let days = days_from_civil(i64::from(y), mo, d);
    let seconds = days * 86_400 + i64::from(h * 3600 + mi * 60 + sec) - offset;
    Some(prost_types::Timestamp {
        seconds,
        nanos: nanos as i32,
    })
}

pub(crate) fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

fn read_flow(v: &Value, path: &str) -> Result<Flow, DecodeError> {
    let o = Fields::new(v, path)?;
    Ok(Flow {
        time: o.opt("time", read_timestamp)?,
        uuid: o.string("uuid")?,
        verdict: o.enum_("verdict", VERDICT)?,
        drop_reason: o.u32("drop_reason")?,
        auth_type: o.enum_("auth_type", AUTH_TYPE)?,
        ip: o.opt("IP", read_ip)?,
        l4: o.opt("l4", read_layer4)?,
        source: o.opt("source", read_endpoint)?,
        destination: o.opt("destination", read_endpoint)?,
        r#type: o.enum_("Type", FLOW_TYPE)?,
        node_name: o.string("node_name")?,
        source_names: o.strings("source_names")?,
        destination_names: o.strings("destination_names")?,
        l7: o.opt("l7", read_layer7)?,
        reply: o.bool("reply")?,
        event_type: o.opt("event_type", read_event_type)?,
        source_service: o.opt("source_service", read_service)?,
        destination_service: o.opt("destination_service", read_service)?,
        traffic_direction: o.enum_("traffic_direction", TRAFFIC_DIRECTION)?,
        policy_match_type: o.u32("policy_match_type")?,
        trace_observation_point: o.enum_("trace_observation_point", OBSERVATION_POINT)?,
        drop_reason_desc: o.enum_("drop_reason_desc", DROP_REASON)?,
        is_reply: o.opt("is_reply", read_bool)?,
        proxy_port: o.u32("proxy_port")?,
        summary: o.string("Summary")?,
        egress_allowed_by: o.list("egress_allowed_by", read_policy)?,
        ingress_allowed_by: o.list("ingress_allowed_by", read_policy)?,
    })
}

fn read_ip(v: &Value, path: &str) -> Result<Ip, DecodeError> {
    let o = Fields::new(v, path)?;
    Ok(Ip {
        source: o.string("source")?,
        destination: o.string("destination")?,
        ip_version: o.enum_("ipVersion", IP_VERSION)?,
        encrypted: o.bool("encrypted")?,
    })
}

fn read_layer4(v: &Value, path: &str) -> Result<Layer4, DecodeError> {
    let o = Fields::new(v, path)?;
    let protocol = if let Some(t) = o.opt("TCP", read_tcp)? {
        Some(layer4::Protocol::Tcp(t))
    } else {
        o.opt("UDP", read_udp)?.map(layer4::Protocol::Udp)
    };
    Ok(Layer4 { protocol })
}

fn read_tcp(v: &Value, path: &str) -> Result<Tcp, DecodeError> {
    let o = Fields::new(v, path)?;
    Ok(Tcp {
        source_port: o.u32("source_port")?,
        destination_port: o.u32("destination_port")?,
        flags: o.opt("flags", read_tcp_flags)?,
    })
}

fn read_tcp_flags(v: &Value, path: &str) -> Result<TcpFlags, DecodeError> {
    let o = Fields::new(v, path)?;
    Ok(TcpFlags {
        fin: o.bool("FIN")?,
        syn: o.bool("SYN")?,
        rst: o.bool("RST")?,
        psh: o.bool("PSH")?,
        ack: o.bool("ACK")?,
        urg: o.bool("URG")?,
        ece: o.bool("ECE")?,
        cwr: o.bool("CWR")?,
        ns: o.bool("NS")?,
    })
}

fn read_udp(v: &Value, path: &str) -> Result<Udp, DecodeError> {
    let o = Fields::new(v, path)?;
    Ok(Udp {
        source_port: o.u32("source_port")?,
        destination_port: o.u32("destination_port")?,
    })
}

fn read_endpoint(v: &Value, path: &str) -> Result<Endpoint, DecodeError> {
    let o = Fields::new(v, path)?;
    Ok(Endpoint {
        id: o.u32("ID")?,
        identity: o.u32("identity")?,
        namespace: o.string("namespace")?,
        labels: o.strings("labels")?,
        pod_name: o.string("pod_name")?,
        workloads: o.list("workloads", read_workload)?,
    })
}

fn read_workload(v: &Value, path: &str) -> Result<Workload, DecodeError> {
    let o = Fields::new(v, path)?;
    Ok(Workload {
        name: o.string("name")?,
        kind: o.string("kind")?,
    })
}

fn read_layer7(v: &Value, path: &str) -> Result<Layer7, DecodeError> {
    let o = Fields::new(v, path)?;
    Ok(Layer7 {
        r#type: o.enum_("type", L7_TYPE)?,
        latency_ns: o.u64("latency_ns")?,
        record: o.opt("http", read_http)?.map(layer7::Record::Http),
    })
}

fn read_http(v: &Value, path: &str) -> Result<Http, DecodeError> {
    let o = Fields::new(v, path)?;
    Ok(Http {
        code: o.u32("code")?,
        method: o.string("method")?,
        url: o.string("url")?,
        protocol: o.string("protocol")?,
        headers: o.list("headers", read_http_header)?,
    })
}

fn read_http_header(v: &Value, path: &str) -> Result<HttpHeader, DecodeError> {
    let o = Fields::new(v, path)?;
    Ok(HttpHeader {
        key: o.string("key")?,
        value: o.string("value")?,
    })
}

fn read_event_type(v: &Value, path: &str) -> Result<CiliumEventType, DecodeError> {
    let o = Fields::new(v, path)?;
    Ok(CiliumEventType {
        r#type: o.i32("type")?,
        sub_type: o.i32("sub_type")?,
    })
}

fn read_service(v: &Value, path: &str) -> Result<Service, DecodeError> {
    let o = Fields::new(v, path)?;
    Ok(Service {
        name: o.string("name")?,
        namespace: o.string("namespace")?,
    })
}

fn read_policy(v: &Value, path: &str) -> Result<Policy, DecodeError> {
    let o = Fields::new(v, path)?;
    Ok(Policy {
        name: o.string("name")?,
        namespace: o.string("namespace")?,
        labels: o.strings("labels")?,
        revision: o.u64("revision")?,
    })
}

fn read_lost_event(v: &Value, path: &str) -> Result<LostEvent, DecodeError> {
    let o = Fields::new(v, path)?;
    Ok(LostEvent {
        source: o.enum_("source", LOST_EVENT_SOURCE)?,
        num_events_lost: o.u64("num_events_lost")?,
        cpu: o.opt("cpu", read_i32)?,
    })
}

fn read_event_type_filter(v: &Value, path: &str) -> Result<EventTypeFilter, DecodeError> {
    let o = Fields::new(v, path)?;
    Ok(EventTypeFilter {
        r#type: o.i32("type")?,
        match_sub_type: o.bool("match_sub_type")?,
        sub_type: o.i32("sub_type")?,
    })
}

fn read_flow_filter(v: &Value, path: &str) -> Result<FlowFilter, DecodeError> {
    let o = Fields::new(v, path)?;
    let enums = |name: &str, table: EnumTable| o.list(name, |v, p| read_enum(v, p, table));
    let u32s = |name: &str| {
        o.list(name, |v, p| {
            read_uint(v, p, u64::from(u32::MAX)).map(|n| n as u32)
        })
    };
    Ok(FlowFilter {
        uuid: o.strings("uuid")?,
        source_ip: o.strings("source_ip")?,
        source_pod: o.strings("source_pod")?,
        source_fqdn: o.strings("source_fqdn")?,
        source_label: o.strings("source_label")?,
        source_service: o.strings("source_service")?,
        source_workload: o.list("source_workload", read_workload)?,
        destination_ip: o.strings("destination_ip")?,
        destination_pod: o.strings("destination_pod")?,
        destination_fqdn: o.strings("destination_fqdn")?,
        destination_label: o.strings("destination_label")?,
        destination_service: o.strings("destination_service")?,
        destination_workload: o.list("destination_workload", read_workload)?,
        traffic_direction: enums("traffic_direction", TRAFFIC_DIRECTION)?,
        verdict: enums("verdict", VERDICT)?,
        event_type: o.list("event_type", read_event_type_filter)?,
        http_status_code: o.strings("http_status_code")?,
        protocol: o.strings("protocol")?,
        source_port: o.strings("source_port")?,
        destination_port: o.strings("destination_port")?,
        reply: o.list("reply", read_bool)?,
        dns_query: o.strings("dns_query")?,
        source_identity: u32s("source_identity")?,
        destination_identity: u32s("destination_identity")?,
        http_method: o.strings("http_method")?,
        http_path: o.strings("http_path")?,
        http_url: o.strings("http_url")?,
        http_header: o.list("http_header", read_http_header)?,
        tcp_flags: o.list("tcp_flags", read_tcp_flags)?,
        node_name: o.strings("node_name")?,
        ip_version: enums("ip_version", IP_VERSION)?,
        trace_id: o.strings("trace_id")?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test may unwrap: a panic is its failure report
mod tests {
    use super::*;

    fn ts(seconds: i64, nanos: i32) -> prost_types::Timestamp {
        prost_types::Timestamp { seconds, nanos }
    }

    #[test]
    fn timestamps_keep_groups_of_three_fraction_digits() {
        assert_eq!(
            rfc3339_proto(&ts(1234, 567_800_000)),
            "1970-01-01T00:20:34.567800Z"
        );
        assert_eq!(rfc3339_proto(&ts(5, 0)), "1970-01-01T00:00:05Z");
        assert_eq!(
            rfc3339_proto(&ts(5, 100_000_000)),
            "1970-01-01T00:00:05.100Z"
        );
        assert_eq!(rfc3339_proto(&ts(5, 1)), "1970-01-01T00:00:05.000000001Z");
        assert_eq!(
            rfc3339_proto(&ts(1_714_829_020, 501_234_567)),
            "2024-05-04T13:23:40.501234567Z"
        );
        assert_eq!(
            rfc3339_proto(&ts(-62_135_596_800, 0)),
            "0001-01-01T00:00:00Z"
        );
    }

    #[test]
    fn rfc3339_reads_back_with_offsets() {
        let t = parse_rfc3339("2024-05-04T13:23:40.501234567Z").unwrap();
        assert_eq!(t, ts(1_714_829_020, 501_234_567));
        assert_eq!(
            parse_rfc3339("2024-05-04T15:23:40+02:00").unwrap(),
            ts(1_714_829_020, 0)
        );
        assert!(parse_rfc3339("2024-02-30T00:00:00Z").is_none());
        assert!(parse_rfc3339("2024-05-04 13:23:40Z").is_none());
    }

    #[test]
    fn doubles_print_like_go() {
        assert_eq!(format_double(3.41), "3.41");
        assert_eq!(format_double(5.0), "5");
        assert_eq!(format_double(1e21), "1e+21");
        assert_eq!(format_double(1.5e-7), "1.5e-7");
        assert_eq!(format_double(0.000001), "0.000001");
        assert_eq!(format_double(f64::NAN), "\"NaN\"");
    }

    #[test]
    fn strings_escape_like_go_json_encoder() {
        let mut s = String::new();
        push_json_string(&mut s, "a<b>&\"\\\n\u{1}\u{2028}é");
        assert_eq!(s, r#""a\u003cb\u003e\u0026\"\\\n\u0001\u2028é""#);
    }

    #[test]
    fn server_status_uses_strings_for_64_bit_and_bare_wrappers() {
        let r = ServerStatusResponse {
            num_flows: 4095,
            max_flows: 4095,
            seen_flows: 10,
            uptime_ns: 0,
            num_connected_nodes: Some(0),
            num_unavailable_nodes: None,
            unavailable_nodes: vec![],
            version: "cilium v1.15.4".into(),
            flows_rate: 3.41,
        };
        assert_eq!(
            server_status_response(&r),
            r#"{"num_flows":"4095","max_flows":"4095","seen_flows":"10","num_connected_nodes":0,"version":"cilium v1.15.4","flows_rate":3.41}"#
        );
    }

    #[test]
    fn list_nodes_indents_like_go() {
        let n = Node {
            name: "galaxia".into(),
            state: 1,
            tls: Some(Tls::default()),
            ..Node::default()
        };
        assert_eq!(
            list_nodes(&[n]),
            "[\n  {\n    \"name\": \"galaxia\",\n    \"state\": \"NODE_CONNECTED\",\n    \"tls\": {}\n  }\n]\n"
        );
        assert_eq!(list_nodes(&[]), "[]\n");
    }

    #[test]
    fn flow_filters_read_concatenated_objects_and_camel_case() {
        let f = parse_flow_filters(
            r#"{"source_pod":["a"]} {"destinationPort":["80"],"verdict":["DROPPED",1]}"#,
        )
        .unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].source_pod, vec!["a"]);
        assert_eq!(f[1].destination_port, vec!["80"]);
        assert_eq!(f[1].verdict, vec![2, 1]);
        assert_eq!(
            flow_filter(&f[1]),
            r#"{"verdict":["DROPPED","FORWARDED"],"destination_port":["80"]}"#
        );
    }
}
