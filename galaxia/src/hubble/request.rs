//! `hubble observe`'s command line turned into a `GetFlowsRequest`, as Hubble CLI v0.13.6 builds
//! it: the filter flags, `--not`, the selectors (`--last`, `--first`, `--all`, `--follow`,
//! `--since`, `--until`) and the raw `--allowlist`/`--denylist`, with Hubble's error messages.
//!
//! How the flags become filters. Each filter flag lands in the whitelist, or in the blacklist
//! when the flag right before it was `--not` (one `--not` negates one flag). Each list is built
//! from two FlowFilters, `left` and `right`, ORed: "either end" flags (`--pod`, `--ip`,
//! `--label`, `--service`, `--port`, `--identity`, `--fqdn`, `--workload`) put their value on
//! the source side of `left` and the destination side of `right`; every other flag goes into
//! both. The namespaces (`-n`, `--from-namespace`, `--to-namespace`, `-A`, ...) are applied last,
//! to the pod and service fields. When `left` and `right` end up equal, the list is just one.
//!
//! Why the parsing is done here and not by clap's derive: `--not` is positional (it applies to
//! the flag after it), and the order of the filter flags decides the order of the values. So the
//! filter flags are declared to clap one by one ([`ObserveFlags`] implements [`clap::Args`] by
//! hand: clap still parses, checks and documents them, `--help` included) and the order is
//! recovered afterwards from [`clap::ArgMatches::indices_of`].

use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Arg, ArgAction, ArgMatches};

use super::filter::{go_parse_uint, go_quote};
use super::json;
use super::proto::flow::{EventTypeFilter, FlowFilter, HttpHeader, TcpFlags, Workload};
use super::proto::observer::GetFlowsRequest;

/// Hubble's default number of flows (`defaults.FlowPrintCount`).
pub const DEFAULT_LAST: u64 = 20;

/// What cannot be turned into a request; the Display is Hubble's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// A flag's value was refused while parsing (pflag's wording around Hubble's reason).
    #[error("invalid argument {} for {} flag: {reason}", go_quote(.value), go_quote(.flag))]
    Flag {
        /// As pflag names it: `--pod`, or `-n, --namespace` for a flag with a shorthand.
        flag: String,
        value: String,
        reason: String,
    },
    #[error("trailing --not found in the arguments")]
    TrailingNot,
    #[error("cannot set both --{0} and --{1}")]
    Selectors(&'static str, &'static str),
    #[error("failed to parse the {which} time: failed to convert {input} to time")]
    Time { which: &'static str, input: String },
    #[error("failed to convert `{which}` timestamp to proto: {reason}")]
    TimeRange { which: &'static str, reason: String },
    #[error("invalid --{flag} flag: failed to decode '{input}': {reason}")]
    RawFilter {
        flag: &'static str,
        input: String,
        reason: String,
    },
}

/// Every filter flag of `hubble observe`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FilterFlag {
    Not,
    Uuid,
    NodeName,
    Cluster,
    Protocol,
    TcpFlags,
    Type,
    Verdict,
    HttpStatus,
    HttpMethod,
    HttpPath,
    HttpUrl,
    HttpHeader,
    TraceId,
    FromFqdn,
    Fqdn,
    ToFqdn,
    FromIp,
    Ip,
    ToIp,
    Ipv4,
    Ipv6,
    IpVersion,
    FromPod,
    Pod,
    ToPod,
    FromNamespace,
    Namespace,
    ToNamespace,
    FromAllNamespaces,
    AllNamespaces,
    ToAllNamespaces,
    FromLabel,
    Label,
    ToLabel,
    FromService,
    Service,
    ToService,
    FromPort,
    Port,
    ToPort,
    FromWorkload,
    Workload,
    ToWorkload,
    FromIdentity,
    Identity,
    ToIdentity,
    TrafficDirection,
}

/// name, shorthand, value when given without one (pflag's NoOptDefVal), value name, help.
type FlagSpec = (
    FilterFlag,
    &'static str,
    Option<char>,
    Option<&'static str>,
    &'static str,
);

const FLAGS: &[FlagSpec] = &[
    (
        FilterFlag::Not,
        "not",
        None,
        Some("true"),
        "Negate the next filter flag: its flows are excluded (e.g. --not --from-ip 2.2.2.2)",
    ),
    (
        FilterFlag::Uuid,
        "uuid",
        None,
        None,
        "Only the flow with this unique identifier",
    ),
    (
        FilterFlag::NodeName,
        "node-name",
        None,
        None,
        "Flows of the nodes matching these names (globs, e.g. \"k8s*\", \"cluster/*.example.com\")",
    ),
    (
        FilterFlag::Cluster,
        "cluster",
        None,
        None,
        "Flows of the clusters matching these names (globs)",
    ),
    (
        FilterFlag::Protocol,
        "protocol",
        None,
        None,
        "Flows of this L4/L7 protocol (tcp, udp, icmp, http, dns, ...)",
    ),
    (
        FilterFlag::TcpFlags,
        "tcp-flags",
        None,
        None,
        "Flows with all of these TCP flags (e.g. \"syn\", \"syn,ack\")",
    ),
    (
        FilterFlag::Type,
        "type",
        Some('t'),
        None,
        "Event type TYPE[:SUBTYPE]: capture, drop, l7, policy-verdict, trace[:to-endpoint|to-proxy|from-endpoint|...], trace-sock, or numbers",
    ),
    (
        FilterFlag::Verdict,
        "verdict",
        None,
        None,
        "Flows with this verdict [FORWARDED, DROPPED, AUDIT, REDIRECTED, ERROR, TRACED, TRANSLATED]",
    ),
    (
        FilterFlag::HttpStatus,
        "http-status",
        None,
        None,
        "HTTP flows with this status code or prefix (e.g. \"404\", \"5+\")",
    ),
    (
        FilterFlag::HttpMethod,
        "http-method",
        None,
        None,
        "HTTP flows with this method (any case)",
    ),
    (
        FilterFlag::HttpPath,
        "http-path",
        None,
        None,
        "HTTP flows whose path matches this regular expression",
    ),
    (
        FilterFlag::HttpUrl,
        "http-url",
        None,
        None,
        "HTTP flows whose URL matches this regular expression",
    ),
    (
        FilterFlag::HttpHeader,
        "http-header",
        None,
        None,
        "HTTP flows with this header, as name:value",
    ),
    (
        FilterFlag::TraceId,
        "trace-id",
        None,
        None,
        "Flows with this trace ID",
    ),
    (
        FilterFlag::FromFqdn,
        "from-fqdn",
        None,
        None,
        "Flows from this DNS name (e.g. \"*.cilium.io\")",
    ),
    (
        FilterFlag::Fqdn,
        "fqdn",
        None,
        None,
        "Flows from or to this DNS name",
    ),
    (
        FilterFlag::ToFqdn,
        "to-fqdn",
        None,
        None,
        "Flows to this DNS name",
    ),
    (
        FilterFlag::FromIp,
        "from-ip",
        None,
        None,
        "Flows from this IP address or CIDR range",
    ),
    (
        FilterFlag::Ip,
        "ip",
        None,
        None,
        "Flows from or to this IP address or CIDR range",
    ),
    (
        FilterFlag::ToIp,
        "to-ip",
        None,
        None,
        "Flows to this IP address or CIDR range",
    ),
    (
        FilterFlag::Ipv4,
        "ipv4",
        Some('4'),
        Some("v4"),
        "Only IPv4 flows",
    ),
    (
        FilterFlag::Ipv6,
        "ipv6",
        Some('6'),
        Some("v6"),
        "Only IPv6 flows",
    ),
    (
        FilterFlag::IpVersion,
        "ip-version",
        None,
        None,
        "Only flows of this IP version (\"v4\", \"v6\", \"none\")",
    ),
    (
        FilterFlag::FromPod,
        "from-pod",
        None,
        None,
        "Flows from pods whose name starts with this ([namespace/]pod; namespace default)",
    ),
    (
        FilterFlag::Pod,
        "pod",
        None,
        None,
        "Flows from or to pods whose name starts with this ([namespace/]pod; namespace default)",
    ),
    (
        FilterFlag::ToPod,
        "to-pod",
        None,
        None,
        "Flows to pods whose name starts with this ([namespace/]pod; namespace default)",
    ),
    (
        FilterFlag::FromNamespace,
        "from-namespace",
        None,
        None,
        "Flows from this Kubernetes namespace",
    ),
    (
        FilterFlag::Namespace,
        "namespace",
        Some('n'),
        None,
        "Flows from or to this Kubernetes namespace",
    ),
    (
        FilterFlag::ToNamespace,
        "to-namespace",
        None,
        None,
        "Flows to this Kubernetes namespace",
    ),
    (
        FilterFlag::FromAllNamespaces,
        "from-all-namespaces",
        None,
        Some("true"),
        "Flows from any Kubernetes namespace",
    ),
    (
        FilterFlag::AllNamespaces,
        "all-namespaces",
        Some('A'),
        Some("true"),
        "Flows from or to any Kubernetes namespace",
    ),
    (
        FilterFlag::ToAllNamespaces,
        "to-all-namespaces",
        None,
        Some("true"),
        "Flows to any Kubernetes namespace",
    ),
    (
        FilterFlag::FromLabel,
        "from-label",
        None,
        None,
        "Flows from endpoints with these labels (a label selector, e.g. \"org=imperio\", \"reserved:world\")",
    ),
    (
        FilterFlag::Label,
        "label",
        Some('l'),
        None,
        "Flows from or to endpoints with these labels",
    ),
    (
        FilterFlag::ToLabel,
        "to-label",
        None,
        None,
        "Flows to endpoints with these labels",
    ),
    (
        FilterFlag::FromService,
        "from-service",
        None,
        None,
        "Flows from services whose name starts with this ([namespace/]service)",
    ),
    (
        FilterFlag::Service,
        "service",
        None,
        None,
        "Flows from or to services whose name starts with this ([namespace/]service)",
    ),
    (
        FilterFlag::ToService,
        "to-service",
        None,
        None,
        "Flows to services whose name starts with this ([namespace/]service)",
    ),
    (
        FilterFlag::FromPort,
        "from-port",
        None,
        None,
        "Flows from this port",
    ),
    (
        FilterFlag::Port,
        "port",
        None,
        None,
        "Flows from or to this port",
    ),
    (
        FilterFlag::ToPort,
        "to-port",
        None,
        None,
        "Flows to this port",
    ),
    (
        FilterFlag::FromWorkload,
        "from-workload",
        None,
        None,
        "Flows from endpoints of this workload ([kind/]name)",
    ),
    (
        FilterFlag::Workload,
        "workload",
        None,
        None,
        "Flows from or to endpoints of this workload ([kind/]name)",
    ),
    (
        FilterFlag::ToWorkload,
        "to-workload",
        None,
        None,
        "Flows to endpoints of this workload ([kind/]name)",
    ),
    (
        FilterFlag::FromIdentity,
        "from-identity",
        None,
        None,
        "Flows from endpoints with this security identity (a number or a reserved name)",
    ),
    (
        FilterFlag::Identity,
        "identity",
        None,
        None,
        "Flows from or to endpoints with this security identity",
    ),
    (
        FilterFlag::ToIdentity,
        "to-identity",
        None,
        None,
        "Flows to endpoints with this security identity",
    ),
    (
        FilterFlag::TrafficDirection,
        "traffic-direction",
        None,
        None,
        "Flows in this direction (ingress or egress)",
    ),
];

impl FilterFlag {
    fn spec(self) -> &'static FlagSpec {
        // Every variant is in FLAGS (checked by a test).
        FLAGS.iter().find(|s| s.0 == self).unwrap_or(&FLAGS[0])
    }

    /// The long name (`from-pod`).
    pub fn name(self) -> &'static str {
        self.spec().1
    }

    /// The flag as pflag names it in errors: `-n, --namespace` or `--pod`.
    pub fn display(self) -> String {
        match self.spec().2 {
            Some(c) => format!("-{c}, --{}", self.name()),
            None => format!("--{}", self.name()),
        }
    }

    pub fn from_name(name: &str) -> Option<FilterFlag> {
        FLAGS.iter().find(|s| s.1 == name).map(|s| s.0)
    }
}

/// One filter flag as given, in command-line order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterArg {
    pub flag: FilterFlag,
    pub value: String,
}

impl FilterArg {
    pub fn new(flag: FilterFlag, value: impl Into<String>) -> FilterArg {
        FilterArg {
            flag,
            value: value.into(),
        }
    }
}

/// `hubble observe`'s filter, selector and raw-filter flags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObserveFlags {
    /// The filter flags in command-line order (`--not` included).
    pub filters: Vec<FilterArg>,
    /// `--last N` as typed (Go's ParseUint rules apply when building).
    pub last: Option<String>,
    pub first: Option<String>,
    pub all: bool,
    pub follow: bool,
    pub since: Option<String>,
    pub until: Option<String>,
    /// `--allowlist`/`--denylist`: FlowFilters as JSON.
    pub allowlist: Vec<String>,
    pub denylist: Vec<String>,
}

const FILTERS_HEADING: &str = "Filters";
const SELECTORS_HEADING: &str = "Selectors";

impl clap::Args for ObserveFlags {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        // pflag semantics: a repeated single-valued flag keeps its last value.
        let mut cmd = cmd.args_override_self(true);
        for (_, name, short, no_opt, help) in FLAGS {
            let mut arg = Arg::new(*name)
                .long(*name)
                .help(*help)
                .action(ArgAction::Append)
                .help_heading(FILTERS_HEADING);
            if let Some(c) = short {
                arg = arg.short(*c);
            }
            arg = match no_opt {
                // Like pflag's NoOptDefVal: a value only with `=`.
                Some(default) => arg
                    .num_args(0..=1)
                    .require_equals(true)
                    .default_missing_value(*default)
                    .value_name("filter"),
                // pflag takes the next word as the value whatever it looks like.
                None => arg
                    .num_args(1)
                    .allow_hyphen_values(true)
                    .value_name("filter"),
            };
            cmd = cmd.arg(arg);
        }
        let value = |name: &'static str, help: &'static str| {
            Arg::new(name)
                .long(name)
                .help(help)
                .num_args(1)
                .allow_hyphen_values(true)
                .help_heading(SELECTORS_HEADING)
        };
        let flag = |name: &'static str, help: &'static str| {
            Arg::new(name)
                .long(name)
                .help(help)
                .num_args(0..=1)
                .require_equals(true)
                .default_missing_value("true")
                .value_parser(clap::builder::BoolishValueParser::new())
                .action(ArgAction::Set)
                .help_heading(SELECTORS_HEADING)
        };
        cmd.arg(flag("all", "All flows in Hubble's buffer (best with filters)"))
            .arg(value("last", "The last N flows in Hubble's buffer (default 20)").value_name("uint"))
            .arg(value("first", "The first N flows in Hubble's buffer").value_name("uint"))
            .arg(flag("follow", "Keep printing new flows").short('f'))
            .arg(value(
                "since",
                "Flows since this time: relative (3s, 4m, 1h43m) or one of YearMonthDay (2006-01-02), YearMonthDayHour (2006-01-02T15-07:00), YearMonthDayHourMinute, RFC3339, RFC3339Milli, RFC3339Micro, RFC3339Nano, RFC1123Z",
            ).value_name("string"))
            .arg(value("until", "Flows until this time (same formats as --since)").value_name("string"))
            .arg(
                Arg::new("allowlist")
                    .long("allowlist")
                    .help("Allowlist as JSON FlowFilters")
                    .action(ArgAction::Append)
                    .num_args(1)
                    .allow_hyphen_values(true)
                    .value_name("stringArray")
                    .help_heading("Raw filters"),
            )
            .arg(
                Arg::new("denylist")
                    .long("denylist")
                    .help("Denylist as JSON FlowFilters")
                    .action(ArgAction::Append)
                    .num_args(1)
                    .allow_hyphen_values(true)
                    .value_name("stringArray")
                    .help_heading("Raw filters"),
            )
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl clap::FromArgMatches for ObserveFlags {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let mut me = ObserveFlags::default();
        me.update_from_arg_matches(m)?;
        Ok(me)
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        let mut ordered: Vec<(usize, FilterArg)> = Vec::new();
        for (flag, name, ..) in FLAGS {
            let (Some(values), Some(indices)) = (m.get_many::<String>(name), m.indices_of(name))
            else {
                continue;
            };
            for (value, index) in values.zip(indices) {
                ordered.push((index, FilterArg::new(*flag, value.clone())));
            }
        }
        if !ordered.is_empty() {
            ordered.sort_by_key(|(i, _)| *i);
            self.filters = ordered.into_iter().map(|(_, f)| f).collect();
        }
        let string = |name: &str| m.get_one::<String>(name).cloned();
        let flag = |name: &str| m.get_one::<bool>(name).copied().unwrap_or(false);
        let many = |name: &str| -> Vec<String> {
            m.get_many::<String>(name)
                .map(|v| v.cloned().collect())
                .unwrap_or_default()
        };
        self.last = string("last").or(self.last.take());
        self.first = string("first").or(self.first.take());
        self.since = string("since").or(self.since.take());
        self.until = string("until").or(self.until.take());
        self.all |= flag("all");
        self.follow |= flag("follow");
        self.allowlist.extend(many("allowlist"));
        self.denylist.extend(many("denylist"));
        Ok(())
    }
}

/// The flags parsed as pflag parses them (every filter flag applied in order): what is left to
/// check is the trailing `--not` and the selectors.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub whitelist: Vec<FlowFilter>,
    pub blacklist: Vec<FlowFilter>,
    /// The last filter flag was `--not` (refused by [`Parsed::check_trailing_not`]).
    pub trailing_not: bool,
    last: u64,
    first: u64,
    flags: ObserveFlags,
}

impl ObserveFlags {
    /// The flags with `filters` in this order (for tests and callers that build flags by hand).
    pub fn with_filters(filters: Vec<FilterArg>) -> ObserveFlags {
        ObserveFlags {
            filters,
            ..ObserveFlags::default()
        }
    }

    /// Apply the filter flags in order and read the numbers, refusing a value as Hubble's flag
    /// parser does.
    pub fn parse(&self) -> Result<Parsed, RequestError> {
        let mut f = FilterBuilder::default();
        for a in &self.filters {
            f.set(a.flag, &a.value)
                .map_err(|reason| RequestError::Flag {
                    flag: a.flag.display(),
                    value: a.value.clone(),
                    reason,
                })?;
        }
        let number = |name: &'static str, v: &Option<String>| -> Result<u64, RequestError> {
            match v {
                None => Ok(0),
                Some(s) => go_parse_uint_base0(s, 64).map_err(|reason| RequestError::Flag {
                    flag: format!("--{name}"),
                    value: s.clone(),
                    reason,
                }),
            }
        };
        let last = number("last", &self.last)?;
        let first = number("first", &self.first)?;
        Ok(Parsed {
            trailing_not: f.negating,
            whitelist: f.whitelist.map(Tracker::flow_filters).unwrap_or_default(),
            blacklist: f.blacklist.map(Tracker::flow_filters).unwrap_or_default(),
            last,
            first,
            flags: self.clone(),
        })
    }

    /// The whole request at `now` (relative `--since`/`--until` count back from it);
    /// `reading_file` is `--input-file`, where no default `--last` applies.
    pub fn request(
        &self,
        now: SystemTime,
        reading_file: bool,
    ) -> Result<GetFlowsRequest, RequestError> {
        let p = self.parse()?;
        p.check_trailing_not()?;
        p.request(now, reading_file)
    }
}

impl Parsed {
    pub fn check_trailing_not(&self) -> Result<(), RequestError> {
        if self.trailing_not {
            Err(RequestError::TrailingNot)
        } else {
            Ok(())
        }
    }

    /// The selectors and raw filters on top of the flag filters (Hubble's `getFlowsRequest`).
    pub fn request(
        &self,
        now: SystemTime,
        reading_file: bool,
    ) -> Result<GetFlowsRequest, RequestError> {
        let o = &self.flags;
        let first = self.first > 0;
        let last_set = self.last > 0;
        if first && last_set {
            return Err(RequestError::Selectors("first", "last"));
        }
        if first && o.all {
            return Err(RequestError::Selectors("first", "all"));
        }
        if first && o.follow {
            return Err(RequestError::Selectors("first", "follow"));
        }
        if last_set && o.all {
            return Err(RequestError::Selectors("last", "all"));
        }
        let time =
            |which: &'static str, input: &str| -> Result<prost_types::Timestamp, RequestError> {
                let ts = parse_time(input, now).ok_or_else(|| RequestError::Time {
                    which,
                    input: input.to_string(),
                })?;
                if !(-62_135_596_800..=253_402_300_799).contains(&ts.seconds) {
                    return Err(RequestError::TimeRange {
                        which,
                        reason: format!(
                            "timestamp ({}) after 9999-12-31 or before 0001-01-01",
                            json::rfc3339_proto(&ts)
                        ),
                    });
                }
                Ok(ts)
            };
        let since = o
            .since
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| time("since", s))
            .transpose()?;
        // With --follow the server sets no end.
        let until = match o.until.as_deref().filter(|s| !s.is_empty()) {
            Some(s) if !o.follow => Some(time("until", s)?),
            _ => None,
        };
        let mut last = self.last;
        if since.is_none() && until.is_none() && !first {
            if o.all {
                last = u64::MAX;
            } else if last == 0 && !o.follow && !reading_file {
                last = DEFAULT_LAST;
            }
        }
        let mut whitelist = self.whitelist.clone();
        let mut blacklist = self.blacklist.clone();
        for (flag, inputs, into) in [
            ("allowlist", &o.allowlist, &mut whitelist),
            ("denylist", &o.denylist, &mut blacklist),
        ] {
            for input in inputs {
                let filters =
                    json::parse_flow_filters(input).map_err(|e| RequestError::RawFilter {
                        flag,
                        input: input.clone(),
                        reason: e.to_string(),
                    })?;
                into.extend(filters);
            }
        }
        Ok(GetFlowsRequest {
            number: if first { self.first } else { last },
            first,
            follow: o.follow,
            blacklist,
            whitelist,
            since,
            until,
        })
    }
}

/// `--print-raw-filters`: the request's filters as YAML (what `hubble observe` prints).
pub fn raw_filters_yaml(whitelist: &[FlowFilter], blacklist: &[FlowFilter]) -> String {
    if whitelist.is_empty() && blacklist.is_empty() {
        return "{}\n".into();
    }
    let mut out = String::new();
    for (key, list) in [("allowlist", whitelist), ("denylist", blacklist)] {
        if list.is_empty() {
            continue;
        }
        out.push_str(key);
        out.push_str(":\n");
        for f in list {
            // A JSON object always starts with `{`, so YAML single-quotes it.
            out.push_str("    - '");
            out.push_str(&json::flow_filter(f).replace('\'', "''"));
            out.push_str("'\n");
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The filter trackers

/// Which list the flags go to, and whether the next one is negated.
#[derive(Debug, Default)]
struct FilterBuilder {
    whitelist: Option<Tracker>,
    blacklist: Option<Tracker>,
    negating: bool,
}

/// One list under construction: `left OR right`, the namespaces to apply at the end, and which
/// flags were used (for Hubble's "cannot be combined" rules).
#[derive(Debug, Default)]
struct Tracker {
    left: Option<FlowFilter>,
    right: Option<FlowFilter>,
    ns: Vec<String>,
    src_ns: Vec<String>,
    dst_ns: Vec<String>,
    used: Vec<FilterFlag>,
}

/// Flags that cannot be used together in one list, in Hubble's order (which decides the pair
/// an error names). Groups of one only mark the flag as tracked.
const CONFLICTS: &[&[&str]] = &[
    &[
        "from-fqdn",
        "from-ip",
        "ip",
        "fqdn",
        "from-namespace",
        "namespace",
        "from-all-namespaces",
        "all-namespaces",
    ],
    &["from-fqdn", "from-ip", "ip", "fqdn", "from-pod", "pod"],
    &[
        "to-fqdn",
        "to-ip",
        "ip",
        "fqdn",
        "to-namespace",
        "namespace",
        "to-all-namespaces",
        "all-namespaces",
    ],
    &["to-fqdn", "to-ip", "ip", "fqdn", "to-pod", "pod"],
    &["to-pod", "namespace", "all-namespaces"],
    &["from-pod", "namespace", "all-namespaces"],
    &["to-service", "namespace", "all-namespaces"],
    &["from-service", "namespace", "all-namespaces"],
    &["label", "from-label"],
    &["label", "to-label"],
    &["service", "from-service"],
    &["service", "to-service"],
    &["port", "to-port"],
    &["port", "from-port"],
    &["identity", "to-identity"],
    &["identity", "from-identity"],
    &["workload", "to-workload"],
    &["workload", "from-workload"],
    &["node-name", "cluster"],
];

impl FilterBuilder {
    fn set(&mut self, flag: FilterFlag, value: &str) -> Result<(), String> {
        if flag == FilterFlag::Not {
            if self.negating {
                return Err("consecutive --not statements".into());
            }
            self.negating = true;
            return Ok(());
        }
        let tracker = if std::mem::take(&mut self.negating) {
            self.blacklist.get_or_insert_with(Tracker::default)
        } else {
            self.whitelist.get_or_insert_with(Tracker::default)
        };
        tracker.set(flag, value)
    }
}

impl Tracker {
    fn both(&mut self, f: impl Fn(&mut FlowFilter)) {
        f(self.left.get_or_insert_with(FlowFilter::default));
        f(self.right.get_or_insert_with(FlowFilter::default));
    }

    /// An "either end" flag: the source side on the left, the destination side on the right.
    fn either(&mut self, src: impl FnOnce(&mut FlowFilter), dst: impl FnOnce(&mut FlowFilter)) {
        src(self.left.get_or_insert_with(FlowFilter::default));
        dst(self.right.get_or_insert_with(FlowFilter::default));
    }

    fn check_conflicts(&self) -> Result<(), String> {
        let used = |name: &str| self.used.iter().any(|f| f.name() == name);
        for group in CONFLICTS {
            for a in group.iter().filter(|a| used(a)) {
                if let Some(b) = group.iter().find(|b| *b != a && used(b)) {
                    return Err(format!("filters --{a} and --{b} cannot be combined"));
                }
            }
        }
        Ok(())
    }

    fn set(&mut self, flag: FilterFlag, v: &str) -> Result<(), String> {
        use FilterFlag as F;
        if !self.used.contains(&flag) {
            self.used.push(flag);
        }
        self.check_conflicts()?;
        let s = || v.to_string();
        match flag {
            F::Not => {}
            F::Uuid => self.both(|f| f.uuid.push(s())),
            F::Fqdn => self.either(
                |f| f.source_fqdn.push(s()),
                |f| f.destination_fqdn.push(s()),
            ),
            F::FromFqdn => self.both(|f| f.source_fqdn.push(s())),
            F::ToFqdn => self.both(|f| f.destination_fqdn.push(s())),
            F::Pod => self.either(|f| f.source_pod.push(s()), |f| f.destination_pod.push(s())),
            F::FromPod => self.both(|f| f.source_pod.push(s())),
            F::ToPod => self.both(|f| f.destination_pod.push(s())),
            F::Ip => self.either(|f| f.source_ip.push(s()), |f| f.destination_ip.push(s())),
            F::FromIp => self.both(|f| f.source_ip.push(s())),
            F::ToIp => self.both(|f| f.destination_ip.push(s())),
            F::Ipv4 => self.both(|f| f.ip_version.push(1)),
            F::Ipv6 => self.both(|f| f.ip_version.push(2)),
            F::IpVersion => {
                let version = match v.to_lowercase().as_str() {
                    "4" | "v4" | "ipv4" | "ip4" => 1,
                    "6" | "v6" | "ipv6" | "ip6" => 2,
                    _ => 0,
                };
                self.both(|f| f.ip_version.push(version));
            }
            F::Label => self.either(
                |f| f.source_label.push(s()),
                |f| f.destination_label.push(s()),
            ),
            F::FromLabel => self.both(|f| f.source_label.push(s())),
            F::ToLabel => self.both(|f| f.destination_label.push(s())),
            F::Namespace => self.ns.push(s()),
            F::FromNamespace => self.src_ns.push(s()),
            F::ToNamespace => self.dst_ns.push(s()),
            F::AllNamespaces => self.ns.push(String::new()),
            F::FromAllNamespaces => self.src_ns.push(String::new()),
            F::ToAllNamespaces => self.dst_ns.push(String::new()),
            F::Service => self.either(
                |f| f.source_service.push(s()),
                |f| f.destination_service.push(s()),
            ),
            F::FromService => self.both(|f| f.source_service.push(s())),
            F::ToService => self.both(|f| f.destination_service.push(s())),
            F::Port => self.either(
                |f| f.source_port.push(s()),
                |f| f.destination_port.push(s()),
            ),
            F::FromPort => self.both(|f| f.source_port.push(s())),
            F::ToPort => self.both(|f| f.destination_port.push(s())),
            F::TraceId => self.both(|f| f.trace_id.push(s())),
            F::Verdict => {
                let verdict = json::verdict_value(v)
                    .ok_or_else(|| format!("invalid --verdict value: {v}"))?;
                self.both(|f| f.verdict.push(verdict));
            }
            F::HttpStatus => self.both(|f| f.http_status_code.push(s())),
            F::HttpMethod => self.both(|f| f.http_method.push(s())),
            F::HttpPath => self.both(|f| f.http_path.push(s())),
            F::HttpUrl => self.both(|f| f.http_url.push(s())),
            F::HttpHeader => {
                let (key, value) = v.split_once(':').ok_or_else(|| {
                    format!(
                        "invalid http-header value {}, expected name:value",
                        go_quote(v)
                    )
                })?;
                let h = HttpHeader {
                    key: key.to_string(),
                    value: value.to_string(),
                };
                self.both(|f| f.http_header.push(h.clone()));
            }
            F::Type => {
                let t = event_type_filter(v)?;
                self.both(|f| f.event_type.push(t));
            }
            F::Protocol => self.both(|f| f.protocol.push(s())),
            F::Workload => {
                let w = workload(v);
                self.either(
                    |f| f.source_workload.push(w.clone()),
                    |f| f.destination_workload.push(w.clone()),
                );
            }
            F::FromWorkload => {
                let w = workload(v);
                self.both(|f| f.source_workload.push(w.clone()));
            }
            F::ToWorkload => {
                let w = workload(v);
                self.both(|f| f.destination_workload.push(w.clone()));
            }
            F::Identity | F::FromIdentity | F::ToIdentity => {
                let id = identity(v)?;
                match flag {
                    F::Identity => self.either(
                        |f| f.source_identity.push(id),
                        |f| f.destination_identity.push(id),
                    ),
                    F::FromIdentity => self.both(|f| f.source_identity.push(id)),
                    _ => self.both(|f| f.destination_identity.push(id)),
                }
            }
            F::NodeName => self.both(|f| f.node_name.push(s())),
            F::Cluster => self.both(|f| f.node_name.push(format!("{v}/"))),
            F::TcpFlags => {
                let flags = tcp_flags(v)?;
                self.both(|f| f.tcp_flags.push(flags));
            }
            F::TrafficDirection => {
                let d = v.to_lowercase();
                let dir = match d.as_str() {
                    "ingress" => 1,
                    "egress" => 2,
                    _ => {
                        return Err(format!(
                            "{d}: invalid traffic direction, expected ingress or egress"
                        ));
                    }
                };
                self.both(|f| f.traffic_direction.push(dir));
            }
        }
        if let Some(l) = &self.left {
            self.namespace_conflicts(l)?;
        }
        if let Some(r) = &self.right {
            self.namespace_conflicts(r)?;
        }
        Ok(())
    }

    /// A namespace flag against a pod or service that names another namespace, and a pod and a
    /// service of different namespaces on one side; every problem of one filter, one a line.
    fn namespace_conflicts(&self, ff: &FlowFilter) -> Result<(), String> {
        let conflicts = |nss: &[String], names: &[String]| -> Option<String> {
            for ns in nss {
                for name in names {
                    let nn = namespace_of(name);
                    if !nn.is_empty() && nn != ns {
                        return Some(format!(
                            "namespace conflict: {} does not contain {}",
                            go_quote(ns),
                            go_quote(name)
                        ));
                    }
                }
            }
            None
        };
        let inconsistent = |pods: &[String], services: &[String]| -> Option<String> {
            for pod in pods {
                let pod_ns = namespace_of(pod);
                if pod_ns.is_empty() {
                    continue;
                }
                for svc in services {
                    if namespace_of(svc) != pod_ns {
                        return Some(format!(
                            "namespace of service {} conflict with pod {}",
                            go_quote(svc),
                            go_quote(pod_ns)
                        ));
                    }
                }
            }
            None
        };
        let errs: Vec<String> = [
            conflicts(&self.ns, &ff.source_pod),
            conflicts(&self.ns, &ff.source_service),
            conflicts(&self.ns, &ff.destination_pod),
            conflicts(&self.ns, &ff.destination_service),
            conflicts(&self.src_ns, &ff.source_pod),
            conflicts(&self.src_ns, &ff.source_service),
            conflicts(&self.dst_ns, &ff.destination_pod),
            conflicts(&self.dst_ns, &ff.destination_service),
            inconsistent(&ff.source_pod, &ff.source_service),
            inconsistent(&ff.destination_pod, &ff.destination_service),
        ]
        .into_iter()
        .flatten()
        .collect();
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs.join("\n"))
        }
    }

    /// The list: namespaces applied, then `[left]` or `[left, right]`.
    fn flow_filters(mut self) -> Vec<FlowFilter> {
        if self.left.is_none()
            && self.right.is_none()
            && self.ns.is_empty()
            && self.src_ns.is_empty()
            && self.dst_ns.is_empty()
        {
            return Vec::new();
        }
        let mut left = self.left.take().unwrap_or_default();
        let mut right = self.right.take().unwrap_or_default();
        if !self.dst_ns.is_empty() {
            apply_destination(&mut left, &self.dst_ns);
            apply_destination(&mut right, &self.dst_ns);
        }
        if !self.src_ns.is_empty() {
            apply_source(&mut left, &self.src_ns);
            apply_source(&mut right, &self.src_ns);
        }
        if !self.ns.is_empty() {
            apply_source(&mut left, &self.ns);
            apply_destination(&mut right, &self.ns);
        }
        if left == right {
            vec![left]
        } else {
            vec![left, right]
        }
    }
}

/// The namespace of `ns/name` (empty without a slash).
fn namespace_of(name: &str) -> &str {
    match name.split_once('/') {
        Some((ns, _)) => ns,
        None => "",
    }
}

fn apply_source(ff: &mut FlowFilter, nss: &[String]) {
    if ff.source_pod.is_empty() && ff.source_service.is_empty() {
        ff.source_pod = vec![String::new()];
    }
    ff.source_pod = with_namespaces(&ff.source_pod, nss);
    ff.source_service = with_namespaces(&ff.source_service, nss);
}

fn apply_destination(ff: &mut FlowFilter, nss: &[String]) {
    if ff.destination_pod.is_empty() && ff.destination_service.is_empty() {
        ff.destination_pod = vec![String::new()];
    }
    ff.destination_pod = with_namespaces(&ff.destination_pod, nss);
    ff.destination_service = with_namespaces(&ff.destination_service, nss);
}

/// Each name without a namespace once per namespace (`ns/name`); names with one as they are.
fn with_namespaces(names: &[String], nss: &[String]) -> Vec<String> {
    if nss.is_empty() || names.is_empty() {
        return names.to_vec();
    }
    let mut out = Vec::new();
    for n in names {
        if n.contains('/') {
            out.push(n.clone());
        } else {
            out.extend(nss.iter().map(|ns| format!("{ns}/{n}")));
        }
    }
    out
}

/// The monitor's message type names (`--type`).
const TYPE_NAMES: &[(&str, i32)] = &[
    ("drop", 1),
    ("debug", 2),
    ("capture", 3),
    ("trace", 4),
    ("policy-verdict", 5),
    ("recorder", 6),
    ("trace-sock", 7),
    ("l7", 129),
    ("agent", 130),
];

/// Agent event sub-type names (`--type agent:...`).
const AGENT_SUBTYPES: &[(&str, i32)] = &[
    ("unspecified", 0),
    ("message", 1),
    ("agent-started", 2),
    ("endpoint-regenerate-success", 3),
    ("endpoint-regenerate-failure", 4),
    ("policy-updated", 5),
    ("policy-deleted", 6),
    ("endpoint-created", 7),
    ("endpoint-deleted", 8),
    ("ipcache-upserted", 9),
    ("ipcache-deleted", 10),
    ("service-upserted", 11),
    ("service-deleted", 12),
];

/// `TYPE[:SUBTYPE]`. Sub-type names are only known after a type given by name (a numeric type
/// takes numeric sub-types only, as in Hubble).
fn event_type_filter(v: &str) -> Result<EventTypeFilter, String> {
    let (t, sub) = match v.split_once(':') {
        Some((t, s)) => (t, Some(s)),
        None => (v, None),
    };
    let named = TYPE_NAMES.iter().find(|(n, _)| *n == t).map(|(_, n)| *n);
    let mut filter = EventTypeFilter {
        r#type: match named {
            Some(n) => n,
            None => go_parse_uint(t, 32).map_err(|e| {
                format!(
                    "unable to parse type '{t}', not a known type name and unable to parse as numeric value: {e}"
                )
            })? as i32,
        },
        ..EventTypeFilter::default()
    };
    if let Some(sub) = sub {
        let by_name = match named {
            Some(4) => super::printer::TRACE_POINTS
                .iter()
                .find(|(_, n)| *n == sub)
                .map(|(c, _)| i32::from(*c)),
            Some(130) => AGENT_SUBTYPES
                .iter()
                .find(|(n, _)| *n == sub)
                .map(|(_, c)| *c),
            _ => None,
        };
        filter.match_sub_type = true;
        filter.sub_type = match by_name {
            Some(c) => c,
            None => go_parse_uint(sub, 32).map_err(|e| {
                format!("unable to parse event sub-type '{sub}', not a known sub-type name and unable to parse as numeric value: {e}")
            })? as i32,
        };
    }
    Ok(filter)
}

/// `[kind/]name`.
fn workload(v: &str) -> Workload {
    match v.split_once('/') {
        Some((kind, name)) => Workload {
            name: name.to_string(),
            kind: kind.to_string(),
        },
        None => Workload {
            name: v.to_string(),
            kind: String::new(),
        },
    }
}

/// A reserved identity's name or a number (Go's `ParseUint(s, 0, 32)`: `0x10` works).
fn identity(v: &str) -> Result<u32, String> {
    const RESERVED: &[(&str, u32)] = &[
        ("host", 1),
        ("world", 2),
        ("unmanaged", 3),
        ("health", 4),
        ("init", 5),
        ("remote-node", 6),
        ("kube-apiserver", 7),
        ("ingress", 8),
        ("world-ipv4", 9),
        ("world-ipv6", 10),
    ];
    if let Some((_, id)) = RESERVED.iter().find(|(n, _)| *n == v) {
        return Ok(*id);
    }
    go_parse_uint_base0(v, 32).map(|n| n as u32).map_err(|_| {
        let names: Vec<&str> = RESERVED.iter().map(|(n, _)| *n).collect();
        format!(
            "invalid security identity, expected one of [{}] or a numeric value",
            names.join(" ")
        )
    })
}

fn tcp_flags(v: &str) -> Result<TcpFlags, String> {
    let mut f = TcpFlags::default();
    for name in v.split(',') {
        match name.to_uppercase().as_str() {
            "SYN" => f.syn = true,
            "FIN" => f.fin = true,
            "RST" => f.rst = true,
            "PSH" => f.psh = true,
            "ACK" => f.ack = true,
            "URG" => f.urg = true,
            "ECE" => f.ece = true,
            "CWR" => f.cwr = true,
            "NS" => f.ns = true,
            _ => return Err(format!("unknown tcp flag: {name}")),
        }
    }
    Ok(f)
}

/// Go's `strconv.ParseUint(s, 0, bits)`: `0x`, `0o`, `0b` and a leading `0` (octal) prefixes,
/// `_` between digits after a prefix.
fn go_parse_uint_base0(s: &str, bits: u32) -> Result<u64, String> {
    let syntax = || format!("strconv.ParseUint: parsing {}: invalid syntax", go_quote(s));
    let range = || {
        format!(
            "strconv.ParseUint: parsing {}: value out of range",
            go_quote(s)
        )
    };
    let lower = s.to_ascii_lowercase();
    let (digits, radix, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (d, 16, true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (d, 8, true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (d, 2, true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (&lower[1..], 8, true)
    } else {
        (lower.as_str(), 10, false)
    };
    let underscores_ok =
        prefixed && !digits.starts_with('_') && !digits.ends_with('_') && !digits.contains("__");
    if digits.contains('_') && !underscores_ok {
        return Err(syntax());
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    if clean.is_empty() || !clean.chars().all(|c| c.is_digit(radix)) {
        return Err(syntax());
    }
    let max = if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    match u64::from_str_radix(&clean, radix) {
        Ok(n) if n <= max => Ok(n),
        _ => Err(range()),
    }
}

// ---------------------------------------------------------------------------------------------
// --since / --until

/// A Go duration back from `now`, or one of Hubble's layouts (zone-less ones are UTC).
pub fn parse_time(input: &str, now: SystemTime) -> Option<prost_types::Timestamp> {
    if let Some(d) = go_parse_duration(input) {
        let now_ns = match now.duration_since(UNIX_EPOCH) {
            Ok(d) => i128::try_from(d.as_nanos()).ok()?,
            Err(e) => -i128::try_from(e.duration().as_nanos()).ok()?,
        };
        let t = now_ns - d;
        return Some(prost_types::Timestamp {
            seconds: i64::try_from(t.div_euclid(1_000_000_000)).ok()?,
            nanos: t.rem_euclid(1_000_000_000) as i32,
        });
    }
    parse_layouts(input)
}

/// Go's `time.ParseDuration` in nanoseconds (`3s`, `1h43m`, `1.5h`, `-2m`, `300ms`, `0`).
pub fn go_parse_duration(s: &str) -> Option<i128> {
    let (neg, mut rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let int_end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let int_part = &rest[..int_end];
        rest = &rest[int_end..];
        let mut frac_part = "";
        if let Some(r) = rest.strip_prefix('.') {
            let frac_end = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
            frac_part = &r[..frac_end];
            rest = &r[frac_end..];
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        let unit_end = rest
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit: i128 = match &rest[..unit_end] {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        rest = &rest[unit_end..];
        let whole: i128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().ok()?
        };
        let mut v = whole.checked_mul(unit)?;
        if !frac_part.is_empty() {
            let digits = frac_part.len().min(30) as u32;
            let f: i128 = frac_part[..digits as usize].parse().ok()?;
            v += f * unit / 10i128.pow(digits);
        }
        total = total.checked_add(v)?;
        if total > i128::from(i64::MAX) + i128::from(neg) {
            return None;
        }
    }
    Some(if neg { -total } else { total })
}

/// Hubble's `--since` layouts, tried in its order: YearMonthDay, YearMonthDayHour,
/// YearMonthDayHourMinute, RFC3339, RFC3339Nano, RFC3339Milli, RFC3339Micro, RFC1123Z. (The
/// RFC 3339 ones all accept a fraction, as Go's parser does, so they read alike.)
fn parse_layouts(s: &str) -> Option<prost_types::Timestamp> {
    let mut p = Cursor { s, i: 0 };
    if let Some(t) = p.rfc1123z() {
        return Some(t);
    }
    let y = p.fixed(4)?;
    p.lit("-")?;
    let mo = p.fixed(2)?;
    p.lit("-")?;
    let d = p.fixed(2)?;
    let (mut h, mut mi, mut sec, mut nanos, mut offset) = (0, 0, 0, 0, 0i64);
    if !p.done() {
        p.lit("T")?;
        h = p.hour()?;
        if p.peek() == Some(b':') {
            p.lit(":")?;
            mi = p.fixed(2)?;
            if p.peek() == Some(b':') {
                p.lit(":")?;
                sec = p.fixed(2)?;
                nanos = p.fraction()?;
            }
        }
        offset = p.zone_colon()?;
        if !p.done() {
            return None;
        }
    }
    civil_timestamp(y, mo, d, h, mi, sec, nanos, offset)
}

#[allow(clippy::too_many_arguments)]
fn civil_timestamp(
    y: u32,
    mo: u32,
    d: u32,
    h: u32,
    mi: u32,
    sec: u32,
    nanos: u32,
    offset: i64,
) -> Option<prost_types::Timestamp> {
    if !(1..=12).contains(&mo)
        || d < 1
        || d > json::days_in_month(i64::from(y), mo)
        || h > 23
        || mi > 59
        || sec > 59
    {
        return None;
    }
    let days = json::days_from_civil(i64::from(y), mo, d);
    Some(prost_types::Timestamp {
        seconds: days * 86_400 + i64::from(h * 3600 + mi * 60 + sec) - offset,
        nanos: nanos as i32,
    })
}

struct Cursor<'a> {
    s: &'a str,
    i: usize,
}

impl Cursor<'_> {
    fn done(&self) -> bool {
        self.i >= self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.i).copied()
    }

    fn lit(&mut self, l: &str) -> Option<()> {
        self.s[self.i..].starts_with(l).then(|| self.i += l.len())
    }

    fn fixed(&mut self, n: usize) -> Option<u32> {
        let t = self.s.get(self.i..self.i + n)?;
        if !t.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        self.i += n;
        t.parse().ok()
    }

    /// Go's `15`: one or two digits.
    fn hour(&mut self) -> Option<u32> {
        let b = self.s.as_bytes();
        let mut n = 0;
        while n < 2 && b.get(self.i + n).is_some_and(u8::is_ascii_digit) {
            n += 1;
        }
        if n == 0 {
            return None;
        }
        self.fixed(n)
    }

    /// An optional `.ddd` or `,ddd` fraction of a second, as nanoseconds.
    fn fraction(&mut self) -> Option<u32> {
        if !matches!(self.peek(), Some(b'.' | b',')) {
            return Some(0);
        }
        let start = self.i + 1;
        let b = self.s.as_bytes();
        let mut end = start;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
        if end == start {
            return None;
        }
        self.i = end;
        let digits = &self.s[start..end.min(start + 9)];
        let n: u32 = digits.parse().ok()?;
        Some(n * 10u32.pow(9 - digits.len() as u32))
    }

    /// Go's `Z07:00`: `Z`, or `+hh:mm`/`-hh:mm`; the offset in seconds.
    fn zone_colon(&mut self) -> Option<i64> {
        if self.lit("Z").is_some() {
            return Some(0);
        }
        let sign = match self.peek()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        self.i += 1;
        let h = self.fixed(2)?;
        self.lit(":")?;
        let m = self.fixed(2)?;
        if h > 24 || m > 60 {
            return None;
        }
        Some(sign * i64::from(h * 3600 + m * 60))
    }

    /// `Mon, 02 Jan 2006 15:04:05 -0700` (the weekday is checked for form only, as in Go).
    fn rfc1123z(&mut self) -> Option<prost_types::Timestamp> {
        const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let s = self.s;
        let wd = s.get(0..3)?;
        if !DAYS.contains(&wd) {
            return None;
        }
        let mut c = Cursor { s, i: 3 };
        c.lit(", ")?;
        let d = c.fixed(2)?;
        c.lit(" ")?;
        let mon = s.get(c.i..c.i + 3)?;
        let mo = MONTHS.iter().position(|m| *m == mon)? as u32 + 1;
        c.i += 3;
        c.lit(" ")?;
        let y = c.fixed(4)?;
        c.lit(" ")?;
        let h = c.hour()?;
        c.lit(":")?;
        let mi = c.fixed(2)?;
        c.lit(":")?;
        let sec = c.fixed(2)?;
        let nanos = c.fraction()?;
        c.lit(" ")?;
        let sign = match c.peek()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        c.i += 1;
        let oh = c.fixed(2)?;
        let om = c.fixed(2)?;
        if !c.done() {
            return None;
        }
        civil_timestamp(
            y,
            mo,
            d,
            h,
            mi,
            sec,
            nanos,
            sign * i64::from(oh * 3600 + om * 60),
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test may unwrap: a panic is its failure report
mod tests {
    use super::*;

    fn filters(args: &[(FilterFlag, &str)]) -> Result<(Vec<String>, Vec<String>), RequestError> {
        let flags =
            ObserveFlags::with_filters(args.iter().map(|(f, v)| FilterArg::new(*f, *v)).collect());
        let p = flags.parse()?;
        p.check_trailing_not()?;
        Ok((
            p.whitelist.iter().map(json::flow_filter).collect(),
            p.blacklist.iter().map(json::flow_filter).collect(),
        ))
    }

    #[test]
    fn every_flag_has_a_spec() {
        use FilterFlag as F;
        let all = [
            F::Not,
            F::Uuid,
            F::NodeName,
            F::Cluster,
            F::Protocol,
            F::TcpFlags,
            F::Type,
            F::Verdict,
            F::HttpStatus,
            F::HttpMethod,
            F::HttpPath,
            F::HttpUrl,
            F::HttpHeader,
            F::TraceId,
            F::FromFqdn,
            F::Fqdn,
            F::ToFqdn,
            F::FromIp,
            F::Ip,
            F::ToIp,
            F::Ipv4,
            F::Ipv6,
            F::IpVersion,
            F::FromPod,
            F::Pod,
            F::ToPod,
            F::FromNamespace,
            F::Namespace,
            F::ToNamespace,
            F::FromAllNamespaces,
            F::AllNamespaces,
            F::ToAllNamespaces,
            F::FromLabel,
            F::Label,
            F::ToLabel,
            F::FromService,
            F::Service,
            F::ToService,
            F::FromPort,
            F::Port,
            F::ToPort,
            F::FromWorkload,
            F::Workload,
            F::ToWorkload,
            F::FromIdentity,
            F::Identity,
            F::ToIdentity,
            F::TrafficDirection,
        ];
        assert_eq!(all.len(), FLAGS.len());
        for f in all {
            assert_eq!(f.spec().0, f);
            assert_eq!(FilterFlag::from_name(f.name()), Some(f));
        }
    }

    #[test]
    fn either_flags_split_and_equal_filters_collapse() {
        use FilterFlag as F;
        let (w, b) = filters(&[(F::Namespace, "cilium"), (F::Port, "443")]).unwrap();
        assert_eq!(
            w,
            [
                r#"{"source_pod":["cilium/"],"source_port":["443"]}"#,
                r#"{"destination_pod":["cilium/"],"destination_port":["443"]}"#
            ]
        );
        assert!(b.is_empty());
        let (w, _) = filters(&[(F::Verdict, "DROPPED"), (F::HttpMethod, "get")]).unwrap();
        assert_eq!(w, [r#"{"verdict":["DROPPED"],"http_method":["get"]}"#]);
    }

    #[test]
    fn not_negates_one_flag() {
        use FilterFlag as F;
        let (w, b) = filters(&[
            (F::Not, "true"),
            (F::HttpMethod, "put"),
            (F::Not, "true"),
            (F::ToNamespace, "foo"),
            (F::Verdict, "FORWARDED"),
        ])
        .unwrap();
        assert_eq!(w, [r#"{"verdict":["FORWARDED"]}"#]);
        assert_eq!(b, [r#"{"destination_pod":["foo/"],"http_method":["put"]}"#]);
        assert_eq!(
            filters(&[(F::Not, "true"), (F::Not, "true")])
                .unwrap_err()
                .to_string(),
            "invalid argument \"true\" for \"--not\" flag: consecutive --not statements"
        );
        assert_eq!(
            filters(&[(F::Not, "true")]).unwrap_err(),
            RequestError::TrailingNot
        );
    }

    #[test]
    fn flag_errors_read_like_hubble() {
        use FilterFlag as F;
        let e = |args: &[(FilterFlag, &str)]| filters(args).unwrap_err().to_string();
        assert_eq!(
            e(&[(F::Label, "a"), (F::FromLabel, "b")]),
            "invalid argument \"b\" for \"--from-label\" flag: filters --label and --from-label cannot be combined"
        );
        assert_eq!(
            e(&[(F::Type, "foo")]),
            "invalid argument \"foo\" for \"-t, --type\" flag: unable to parse type 'foo', not a known type name and unable to parse as numeric value: strconv.ParseUint: parsing \"foo\": invalid syntax"
        );
        assert_eq!(
            e(&[(F::Pod, "a/x"), (F::Namespace, "b")]),
            "invalid argument \"b\" for \"-n, --namespace\" flag: namespace conflict: \"b\" does not contain \"a/x\""
        );
        assert_eq!(
            e(&[(F::TrafficDirection, "Up")]),
            "invalid argument \"Up\" for \"--traffic-direction\" flag: up: invalid traffic direction, expected ingress or egress"
        );
    }

    #[test]
    fn selectors_default_and_conflict() {
        let now = UNIX_EPOCH + std::time::Duration::from_secs(1_714_829_020);
        let r = ObserveFlags::default().request(now, false).unwrap();
        assert_eq!(r.number, 20);
        assert_eq!(
            ObserveFlags::default().request(now, true).unwrap().number,
            0
        );
        let all = ObserveFlags {
            all: true,
            ..ObserveFlags::default()
        };
        assert_eq!(all.request(now, false).unwrap().number, u64::MAX);
        let follow = ObserveFlags {
            follow: true,
            until: Some("1h".into()),
            ..ObserveFlags::default()
        };
        let r = follow.request(now, false).unwrap();
        assert_eq!((r.number, r.follow, r.until), (0, true, None));
        let since = ObserveFlags {
            since: Some("1h43m".into()),
            last: Some("5".into()),
            ..ObserveFlags::default()
        };
        let r = since.request(now, false).unwrap();
        assert_eq!(r.number, 5);
        assert_eq!(r.since.unwrap().seconds, 1_714_829_020 - 6180);
        let both = ObserveFlags {
            first: Some("3".into()),
            last: Some("2".into()),
            ..ObserveFlags::default()
        };
        assert_eq!(
            both.request(now, false).unwrap_err().to_string(),
            "cannot set both --first and --last"
        );
        let bad = ObserveFlags {
            since: Some("Jan  2 15:04:05.000".into()),
            ..ObserveFlags::default()
        };
        assert_eq!(
            bad.request(now, false).unwrap_err().to_string(),
            "failed to parse the since time: failed to convert Jan  2 15:04:05.000 to time"
        );
        let hex = ObserveFlags {
            last: Some("0x10".into()),
            ..ObserveFlags::default()
        };
        assert_eq!(hex.request(now, false).unwrap().number, 16);
    }

    #[test]
    fn durations_and_layouts() {
        assert_eq!(go_parse_duration("3s"), Some(3_000_000_000));
        assert_eq!(go_parse_duration("1h43m"), Some(6_180_000_000_000));
        assert_eq!(go_parse_duration("1.5h"), Some(5_400_000_000_000));
        assert_eq!(go_parse_duration("300ms"), Some(300_000_000));
        assert_eq!(go_parse_duration("0"), Some(0));
        assert_eq!(go_parse_duration("5"), None);
        assert_eq!(go_parse_duration("5x"), None);
        let t = |s: &str| parse_layouts(s).map(|t| (t.seconds, t.nanos));
        assert_eq!(t("2024-05-04"), Some((1_714_780_800, 0)));
        assert_eq!(t("2024-05-04T13Z"), Some((1_714_827_600, 0)));
        assert_eq!(t("2024-05-04T13:23Z"), Some((1_714_828_980, 0)));
        assert_eq!(t("2024-05-04T13:23:40Z"), Some((1_714_829_020, 0)));
        assert_eq!(
            t("2024-05-04T15:23:40.5+02:00"),
            Some((1_714_829_020, 500_000_000))
        );
        assert_eq!(
            t("Sat, 04 May 2024 13:23:40 +0000"),
            Some((1_714_829_020, 0))
        );
        assert_eq!(t("2024-05-04T13:23:40"), None);
        assert_eq!(t("May  4 13:23:40.501"), None);
    }

    #[test]
    fn raw_filters_yaml_quotes_like_yaml_v3() {
        let f = FlowFilter {
            http_path: vec!["it's".into()],
            ..FlowFilter::default()
        };
        assert_eq!(
            raw_filters_yaml(&[f], &[]),
            "allowlist:\n    - '{\"http_path\":[\"it''s\"]}'\n"
        );
        assert_eq!(raw_filters_yaml(&[], &[]), "{}\n");
    }
}
