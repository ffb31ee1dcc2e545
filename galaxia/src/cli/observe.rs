//! `galaxia observe`: a Hubble client. It asks the galaxy's Observer API (gRPC, the address
//! `galaxia up` wrote in the discovery file, or `--server`) for flows with the request that
//! `hubble observe` would send for the same flags ([`crate::hubble::request`]) and prints them
//! as `hubble observe` prints them ([`crate::hubble::printer`]): the same command line gives the
//! same output as Hubble CLI v0.13.6. It also reads flows saved by `hubble observe -o json`
//! (`--input-file`), filtering them on this side as Hubble does.
//!
//! Errors are printed as Hubble prints them (its message alone on stderr, exit status 1).

use std::collections::VecDeque;
use std::io::{BufRead, IsTerminal};
use std::time::{Duration, SystemTime};

use super::error::Error;
use super::print::{Format, Io, OutputArgs};
use super::session::runtime;
use crate::control::discovery::{self, ControlArgs, DiscoveryError};
use crate::hubble::filter::{self, Filters};
use crate::hubble::json;
use crate::hubble::printer::{Options, Output, Printer, TimeFormat};
use crate::hubble::proto::observer::observer_client::ObserverClient;
use crate::hubble::proto::observer::{GetFlowsRequest, GetFlowsResponse};
use crate::hubble::request::{self, ObserveFlags};

/// Where the `hubble` CLI looks when told nothing (Hubble Relay's port).
pub const DEFAULT_SERVER: &str = "localhost:4245";

/// Hubble's dial timeout.
const DIAL_TIMEOUT: Duration = Duration::from_secs(5);

/// The most `--last` reads from a file (Hubble's bound).
const MAX_FILE_LAST: u64 = 1_000_000;

/// Flows of the galaxy, as `hubble observe` shows them (same flags, same output).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Output formats (-o): compact (the default), dict, table, json (or jsonpb).\nThe flows come from the running galaxy's Observer API (its discovery file), --server HOST:PORT, or --input-file."
)]
pub struct Args {
    #[command(flatten)]
    pub flags: ObserveFlags,
    /// Time format: StampMilli (default), YearMonthDay, YearMonthDayHour, YearMonthDayHourMinute,
    /// RFC3339, RFC3339Milli, RFC3339Micro, RFC3339Nano, RFC1123Z (not for json).
    #[arg(long, default_value = "StampMilli", help_heading = "Formatting")]
    pub time_format: String,
    /// Print each flow's node name.
    #[arg(
        long,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        default_value = "false",
        value_parser = clap::builder::BoolishValueParser::new(),
        help_heading = "Formatting"
    )]
    pub print_node_name: bool,
    /// Colors in compact and dict output: auto (on a terminal, unless NO_COLOR is set or TERM is
    /// dumb), always or never.
    #[arg(long, default_value = "auto", help_heading = "Formatting")]
    pub color: String,
    /// Names (pods, services, DNS names) instead of IP addresses.
    #[arg(
        long,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        default_value = "true",
        value_parser = clap::builder::BoolishValueParser::new(),
        help_heading = "Formatting"
    )]
    pub ip_translation: bool,
    /// Everything numeric (no names for IP addresses).
    #[arg(
        long,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        default_value = "false",
        value_parser = clap::builder::BoolishValueParser::new(),
        help_heading = "Formatting"
    )]
    pub numeric: bool,
    /// The Observer API to ask (HOST:PORT); by default the running galaxy's, else localhost:4245.
    #[arg(long, env = "HUBBLE_SERVER", value_name = "HOST:PORT")]
    pub server: Option<String>,
    /// Read flows saved by `hubble observe -o json` from this file (`-` for stdin) instead of a
    /// server.
    #[arg(long, value_name = "PATH")]
    pub input_file: Option<String>,
    /// Print the request's allowlist and denylist (YAML) and stop.
    #[arg(
        long,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        default_value = "false",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub print_raw_filters: bool,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub control: ControlArgs,
}

/// A failure worded as Hubble words it (printed alone on stderr), or an output error.
enum Failure {
    Hubble(String),
    Output(std::io::Error),
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Failure {
        Failure::Output(e)
    }
}

fn hubble(msg: impl std::fmt::Display) -> Failure {
    Failure::Hubble(msg.to_string())
}

pub fn run(args: Args, io: &mut Io<'_>) -> Result<(), Error> {
    match observe(&args, io) {
        Ok(()) => Ok(()),
        Err(Failure::Output(e)) => Err(Error::Output(e)),
        Err(Failure::Hubble(msg)) => {
            writeln!(io.err, "{msg}")?;
            Err(Error::Reported(1))
        }
    }
}

fn observe(args: &Args, io: &mut Io<'_>) -> Result<(), Failure> {
    // Hubble's order: the flags as they parse, then the output options, then the selectors.
    let parsed = args.flags.parse().map_err(hubble)?;
    parsed.check_trailing_not().map_err(hubble)?;
    let output = output_format(&args.output)?;
    if output == Output::Table && args.flags.follow {
        return Err(hubble(
            "table output format is not compatible with follow mode",
        ));
    }
    let req = parsed
        .request(SystemTime::now(), args.input_file.is_some())
        .map_err(hubble)?;
    if args.print_raw_filters {
        let yaml = request::raw_filters_yaml(&req.whitelist, &req.blacklist);
        io.out.write_all(yaml.as_bytes())?;
        return Ok(());
    }
    let opts = Options {
        output,
        time_format: TimeFormat::from_name(&args.time_format),
        node_name: args.print_node_name,
        ip_translation: args.ip_translation && !args.numeric,
        color: colors(&args.color, io.out_is_terminal),
    };
    let mut printer = Printer::new(opts);
    let result = match &args.input_file {
        Some(path) => from_file(path, &req, &mut printer, io),
        None => from_server(args, req, &mut printer, io),
    };
    // What was read is printed even when the stream broke off (the table only now).
    printer.finish(io.out)?;
    io.out.flush()?;
    result
}

/// `-o`, through the verbs' shared flag, with Hubble's names and message.
fn output_format(o: &OutputArgs) -> Result<Output, Failure> {
    match &o.output {
        None | Some(Format::Compact) => Ok(Output::Compact),
        Some(Format::Dict) => Ok(Output::Dict),
        Some(Format::Table) => Ok(Output::Table),
        Some(Format::Json | Format::Jsonpb) => Ok(Output::Json),
        Some(Format::Unknown(s)) if s == "JSON" => Ok(Output::Json),
        Some(Format::Unknown(s)) if s == "tab" => Ok(Output::Table),
        Some(other) => Err(hubble(format!("invalid output format: {other}"))),
    }
}

/// Hubble's `--color`: `auto` colors only a terminal, and not with NO_COLOR set or TERM=dumb.
fn colors(when: &str, out_is_terminal: bool) -> bool {
    match when.to_ascii_lowercase().as_str() {
        "always" => true,
        "never" => false,
        _ => {
            out_is_terminal
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var("TERM").is_ok_and(|t| t != "dumb")
        }
    }
}

fn write_response(
    printer: &mut Printer,
    io: &mut Io<'_>,
    r: &GetFlowsResponse,
) -> Result<(), Failure> {
    printer.write(io.out, r)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// --input-file

/// Flows from a file of `hubble observe -o json` lines, selected and filtered here as Hubble's
/// file reader does: since/until on each response's time, then the filters, then `--first N`
/// (the first N that pass) or `--last N` (the last N); a line that does not parse is skipped.
fn from_file(
    path: &str,
    req: &GetFlowsRequest,
    printer: &mut Printer,
    io: &mut Io<'_>,
) -> Result<(), Failure> {
    let filters = filter::compile(&req.whitelist, &req.blacklist).map_err(hubble)?;
    let n = req.number;
    let last = (!req.first && n != 0 && n != u64::MAX).then_some(n);
    if let Some(n) = last.filter(|n| *n > MAX_FILE_LAST) {
        return Err(hubble(format!("--last must be <= 1_000_000, got {n}")));
    }
    let first = (req.first && n != 0 && n != u64::MAX).then_some(n);
    let reader: Box<dyn BufRead> = if path == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        let f = std::fs::File::open(path).map_err(|e| hubble(go_open_error(path, &e)))?;
        Box::new(std::io::BufReader::new(f))
    };
    let mut kept: VecDeque<GetFlowsResponse> = VecDeque::new();
    let mut returned = 0u64;
    for line in reader.lines() {
        let line = line.map_err(hubble)?;
        let Some(r) = admit(&line, req, &filters, io)? else {
            continue;
        };
        if let Some(n) = last {
            if kept.len() as u64 == n {
                kept.pop_front();
            }
            kept.push_back(r);
        } else {
            write_response(printer, io, &r)?;
            returned += 1;
            if first.is_some_and(|n| returned >= n) {
                return Ok(());
            }
        }
    }
    for r in kept {
        write_response(printer, io, &r)?;
    }
    Ok(())
}

/// One line, if it parses and passes the time window and the filters.
fn admit(
    line: &str,
    req: &GetFlowsRequest,
    filters: &Filters,
    io: &mut Io<'_>,
) -> Result<Option<GetFlowsResponse>, Failure> {
    let r = match json::parse_get_flows_response(line) {
        Ok(r) => r,
        Err(e) => {
            writeln!(io.err, "Failed to unmarshal json to flow: {e}: {line}")?;
            return Ok(None);
        }
    };
    // A response without a time is at the epoch, as Go reads a nil Timestamp.
    let t = r.time.as_ref().map_or((0, 0), |t| (t.seconds, t.nanos));
    let key = |ts: &prost_types::Timestamp| (ts.seconds, ts.nanos);
    if req.since.as_ref().is_some_and(|s| key(s) > t) {
        return Ok(None);
    }
    if req.until.as_ref().is_some_and(|u| key(u) < t) {
        return Ok(None);
    }
    Ok(filters.matches_response(&r).then_some(r))
}

/// Go's `os.Open` error text.
fn go_open_error(path: &str, e: &std::io::Error) -> String {
    format!("open {path}: {}", go_errno_text(e))
}

/// An I/O error as Go's syscall errors read (`connection refused`, `no such file or directory`).
fn go_errno_text(e: &std::io::Error) -> String {
    let text = e.to_string();
    let text = match text.find(" (os error") {
        Some(i) => &text[..i],
        None => &text,
    };
    let mut c = text.chars();
    match c.next() {
        Some(first) => first.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// The Observer API

/// Where to ask, and what to add to a connection error (when it was a guess).
struct Target {
    addr: String,
    hint: Option<String>,
}

fn target(args: &Args) -> Result<Target, Failure> {
    if let Some(s) = args.server.as_deref().filter(|s| !s.is_empty()) {
        return Ok(Target {
            addr: s.to_string(),
            hint: None,
        });
    }
    let path = args.control.path();
    match discovery::read(&path) {
        Ok(d) => Ok(match d.hubble {
            Some(a) => Target {
                addr: a.to_string(),
                hint: Some(format!(
                    "(the galaxy of {} does not answer there: is `galaxia up` still running?)",
                    path.display()
                )),
            },
            None => Target {
                addr: DEFAULT_SERVER.into(),
                hint: Some(format!(
                    "(the galaxy of {} serves no Observer API; pass --server HOST:PORT)",
                    path.display()
                )),
            },
        }),
        Err(e @ DiscoveryError::NotRunning { .. }) => Ok(Target {
            addr: DEFAULT_SERVER.into(),
            hint: Some(format!("({e})")),
        }),
        Err(e) => Err(hubble(Error::verb("finding the galaxy", e).chain())),
    }
}

fn from_server(
    args: &Args,
    req: GetFlowsRequest,
    printer: &mut Printer,
    io: &mut Io<'_>,
) -> Result<(), Failure> {
    let target = target(args)?;
    if target.addr.starts_with("tls://") || target.addr.starts_with("unix://") {
        return Err(hubble(format!(
            "failed to connect to '{}': galaxia observe speaks plaintext TCP only",
            target.addr
        )));
    }
    // The verb may run on a thread with no runtime (the tutorial runs verbs that way).
    let rt = runtime().map_err(|e| hubble(e.chain()))?;
    rt.block_on(async {
        let channel = match connect(&target.addr).await {
            Ok(c) => c,
            Err(msg) => {
                return Err(hubble(match &target.hint {
                    Some(h) => format!("{msg}\n{h}"),
                    None => msg,
                }));
            }
        };
        let mut client = ObserverClient::new(channel);
        let follow = req.follow;
        let mut stream = client
            .get_flows(req)
            .await
            .map_err(|s| hubble(status_text(&s)))?
            .into_inner();
        loop {
            match stream.message().await {
                Ok(Some(r)) => {
                    write_response(printer, io, &r)?;
                    if follow {
                        io.out.flush()?;
                    }
                }
                Ok(None) => return Ok(()),
                Err(s) if s.code() == tonic::Code::Cancelled => return Ok(()),
                Err(s) => return Err(hubble(status_text(&s))),
            }
        }
    })
}

/// Dial `target` (`host:port`) as Hubble does (blocking, 5 s), trying each address it
/// resolves to; Hubble's error text on failure.
async fn connect(target: &str) -> Result<tonic::transport::Channel, String> {
    let fail = |why: String| format!("failed to connect to '{target}': {why}");
    let dial = |why: String| {
        fail(format!(
            "connection error: desc = \"transport: error while dialing: {why}\""
        ))
    };
    let addrs: Vec<std::net::SocketAddr> = match tokio::net::lookup_host(target).await {
        Ok(a) => a.collect(),
        Err(e) => {
            return Err(dial(if target.contains(':') {
                format!("dial tcp: lookup {target}: {}", go_errno_text(&e))
            } else {
                format!("dial tcp: address {target}: missing port in address")
            }));
        }
    };
    let mut first_error = None;
    for addr in addrs {
        let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .map_err(|e| fail(e.to_string()))?
            .connect_timeout(DIAL_TIMEOUT);
        match tokio::time::timeout(DIAL_TIMEOUT, endpoint.connect()).await {
            Ok(Ok(channel)) => return Ok(channel),
            Ok(Err(e)) => {
                let why = match io_cause(&e) {
                    Some(io) if io.kind() == std::io::ErrorKind::TimedOut => {
                        fail("context deadline exceeded".into())
                    }
                    Some(io) => dial(format!("dial tcp {addr}: connect: {}", go_errno_text(io))),
                    None => dial(format!("dial tcp {addr}: {e}")),
                };
                first_error.get_or_insert(why);
            }
            Err(_) => {
                first_error.get_or_insert(fail("context deadline exceeded".into()));
            }
        }
    }
    Err(first_error.unwrap_or_else(|| dial(format!("dial tcp: lookup {target}: no such host"))))
}

/// The I/O error under a transport error, if there is one.
fn io_cause<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a std::io::Error> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        cur = err.source();
    }
    None
}

/// A gRPC error as the Hubble CLI prints it: the message alone for `Unknown` (what a server's
/// plain error becomes), grpc-go's `rpc error: code = X desc = Y` otherwise.
fn status_text(s: &tonic::Status) -> String {
    use tonic::Code as C;
    let code = match s.code() {
        C::Ok => "OK",
        C::Cancelled => "Canceled",
        C::Unknown => return s.message().to_string(),
        C::InvalidArgument => "InvalidArgument",
        C::DeadlineExceeded => "DeadlineExceeded",
        C::NotFound => "NotFound",
        C::AlreadyExists => "AlreadyExists",
        C::PermissionDenied => "PermissionDenied",
        C::ResourceExhausted => "ResourceExhausted",
        C::FailedPrecondition => "FailedPrecondition",
        C::Aborted => "Aborted",
        C::OutOfRange => "OutOfRange",
        C::Unimplemented => "Unimplemented",
        C::Internal => "Internal",
        C::Unavailable => "Unavailable",
        C::DataLoss => "DataLoss",
        C::Unauthenticated => "Unauthenticated",
    };
    format!("rpc error: code = {code} desc = {}", s.message())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test may unwrap: a panic is its failure report
mod tests {
    use super::*;

    #[test]
    fn grpc_errors_read_like_grpc_go() {
        assert_eq!(
            status_text(&tonic::Status::invalid_argument(
                "first cannot be specified with follow"
            )),
            "rpc error: code = InvalidArgument desc = first cannot be specified with follow"
        );
        assert_eq!(
            status_text(&tonic::Status::unknown("invalid CIDR in filter: \"x/\"")),
            "invalid CIDR in filter: \"x/\""
        );
    }

    #[test]
    fn output_names() {
        let o = |s: Option<Format>| output_format(&OutputArgs { output: s }).ok();
        assert_eq!(o(None), Some(Output::Compact));
        assert_eq!(o(Some(Format::Json)), Some(Output::Json));
        assert_eq!(o(Some(Format::Unknown("tab".into()))), Some(Output::Table));
        assert!(o(Some(Format::Wide)).is_none());
    }

    #[test]
    fn colors_only_when_asked_or_on_a_terminal() {
        assert!(colors("always", false));
        assert!(!colors("never", true));
        assert!(!colors("auto", false));
    }
}
