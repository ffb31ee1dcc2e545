//! A curl-compatible front end for the tutorial's commands (`kubectl exec tiefighter -- curl -s
//! -XPOST deathstar.default.svc.cluster.local/v1/request-landing`): the options the book and
//! Cilium's docs use, curl's output bytes and curl's exit codes. It runs when a ship binary is
//! called as `curl`, as `<ship> curl ...`, and inside `galaxia exec` when the system has no curl.
//!
//! [`run`] is async so that a caller already inside a tokio runtime (galaxia) can await it; the
//! ship binaries build a runtime around it. Options it does not know end with exit 2 and a message
//! that names them, like curl's own unknown options. Every failure exits with Debian 12's curl
//! (7.88) code and prints its message, `curl: (N) ...` (with `-s` nothing, with `-sS` the line).
//!
//! Parsing ([`plan`]) does no I/O, so that it can be fuzzed; `-d @file` is opened when the
//! request is made and streamed as it goes out, within `-m`.

use std::io::Write;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::Instant;

use crate::proxy;
use crate::resolve::{ResolveError, Resolver, ResolverSettings};
use crate::transport::{
    self, BodyPart, HttpTarget, Incoming, Outgoing, RequestBody, TransportError,
};

/// The User-Agent the front end sends (it is not curl, and says so).
pub fn user_agent() -> String {
    format!("frota-curl/{}", env!("CARGO_PKG_VERSION"))
}

/// A command-line mistake: curl exits 2 for these.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UsageError {
    #[error("option {0}: is unknown")]
    Unknown(String),
    #[error("option {0}: is not supported by this curl front end (supported: {SUPPORTED})")]
    Unsupported(String),
    #[error("option {0}: requires parameter")]
    MissingValue(String),
    #[error("option {0}: expected a proper numerical parameter")]
    BadNumber(String),
    #[error("no URL specified!")]
    NoUrl,
}

const SUPPORTED: &str = "-s -S -X -H -d --data-ascii --data-binary --data-raw -i -I -v -o -m --connect-timeout -f -w -x --noproxy -A --url -h -V";

/// `--help`: the options this front end implements, in the layout and words of `curl --help
/// all` (long names in alphabetical order), then what differs from curl.
const HELP: &str = "\
Usage: curl [options...] <url>
     --connect-timeout <fractional seconds> Maximum time allowed for connection
 -d, --data <data>        HTTP POST data
     --data-ascii <data>  HTTP POST ASCII data
     --data-binary <data> HTTP POST binary data
     --data-raw <data>    HTTP POST data, '@' allowed
 -f, --fail               Fail fast with no output on HTTP errors
 -I, --head               Show document info only
 -H, --header <header>    Pass custom header(s) to server
 -h, --help <category>    Get help for commands
 -i, --include            Include protocol response headers in the output
 -m, --max-time <fractional seconds> Maximum time allowed for transfer
     --noproxy <no-proxy-list> List of hosts which do not use proxy
 -o, --output <file>      Write to file instead of stdout
 -x, --proxy [protocol://]host[:port] Use this proxy
 -X, --request <method>   Specify request method to use
 -S, --show-error         Show error even when -s is used
 -s, --silent             Silent mode
     --url <url>          URL to work with
 -A, --user-agent <name>  Send User-Agent <name> to server
 -v, --verbose            Make the operation more talkative
 -V, --version            Show version number and quit
 -w, --write-out <format> Use output FORMAT after completion

This is the ships' built-in curl (frota-curl): http:// only, the options above only, every
category of --help at once. -w knows %{http_code} %{response_code} %{size_download}
%{time_total} %{content_type} %{url_effective} %{method} %{remote_ip} %{remote_port}.
Exit codes are curl's: 1 unsupported protocol or response code, 2 bad option, 3 malformed URL,
5 bad proxy, 6 cannot resolve host, 7 cannot connect, 8 weird server reply, 18 partial body,
22 HTTP error with -f, 23 cannot write output, 26 cannot read a -d file, 28 timeout,
52 empty reply, 55 send failure, 56 receive failure.
";

/// Real curl options that this front end knowingly does not implement.
const KNOWN_UNSUPPORTED: &[&str] = &[
    "-L",
    "--location",
    "-k",
    "--insecure",
    "-u",
    "--user",
    "-F",
    "--form",
    "-T",
    "--upload-file",
    "-b",
    "--cookie",
    "-c",
    "--cookie-jar",
    "-e",
    "--referer",
    "-G",
    "--get",
    "-O",
    "--remote-name",
    "--http2",
    "--http1.0",
    "-0",
    "--compressed",
    "-4",
    "-6",
    "--resolve",
    "--retry",
    "-K",
    "--config",
    "-#",
    "--progress-bar",
    "-N",
    "--no-buffer",
    "-D",
    "--dump-header",
    "--data-urlencode",
    "-r",
    "--range",
    "-z",
    "--unix-socket",
    "-M",
    "--manual",
];

/// Parsed options.
#[derive(Debug, Default, Clone, PartialEq)]
struct Opts {
    urls: Vec<String>,
    silent: bool,
    show_error: bool,
    method: Option<String>,
    headers: Vec<String>,
    /// `-d` and friends in order; curl joins them with `&`.
    data: Option<Vec<DataArg>>,
    include: bool,
    head: bool,
    verbose: bool,
    output: Option<String>,
    max_time: Option<Duration>,
    connect_timeout: Option<Duration>,
    fail: bool,
    write_out: Option<String>,
    proxy: Option<String>,
    noproxy: Option<String>,
    user_agent: Option<String>,
    help: bool,
    version: bool,
}

/// One `-d`-like value, as given: read (or not) when the request is made.
#[derive(Debug, Clone, PartialEq)]
enum DataArg {
    Text(Vec<u8>),
    /// `@file`, or `@-` for stdin; `-d` drops its CR and LF bytes, `--data-binary` does not.
    File {
        path: String,
        strip_newlines: bool,
    },
}

/// How `-d` and friends treat their value.
#[derive(Clone, Copy)]
enum DataMode {
    /// `-d`: `@file` reads the file without CR and LF.
    Ascii,
    /// `--data-binary`: `@file` reads the file as is.
    Binary,
    /// `--data-raw`: no `@` processing.
    Raw,
}

enum Flag {
    Silent,
    ShowError,
    Request,
    Header,
    Data(DataMode),
    Include,
    Head,
    Verbose,
    Output,
    MaxTime,
    ConnectTimeout,
    Fail,
    WriteOut,
    Proxy,
    NoProxy,
    UserAgent,
    Url,
    Help,
    Version,
}

impl Flag {
    fn takes_value(&self) -> bool {
        !matches!(
            self,
            Flag::Silent
                | Flag::ShowError
                | Flag::Include
                | Flag::Head
                | Flag::Verbose
                | Flag::Fail
                | Flag::Help
                | Flag::Version
        )
    }

    fn short(c: char) -> Option<Flag> {
        Some(match c {
            's' => Flag::Silent,
            'S' => Flag::ShowError,
            'X' => Flag::Request,
            'H' => Flag::Header,
            'd' => Flag::Data(DataMode::Ascii),
            'i' => Flag::Include,
            'I' => Flag::Head,
            'v' => Flag::Verbose,
            'o' => Flag::Output,
            'm' => Flag::MaxTime,
            'f' => Flag::Fail,
            'w' => Flag::WriteOut,
            'x' => Flag::Proxy,
            'A' => Flag::UserAgent,
            'h' => Flag::Help,
            'V' => Flag::Version,
            _ => return None,
        })
    }

    fn long(name: &str) -> Option<Flag> {
        Some(match name {
            "silent" => Flag::Silent,
            "show-error" => Flag::ShowError,
            "request" => Flag::Request,
            "header" => Flag::Header,
            "data" | "data-ascii" => Flag::Data(DataMode::Ascii),
            "data-binary" => Flag::Data(DataMode::Binary),
            "data-raw" => Flag::Data(DataMode::Raw),
            "include" => Flag::Include,
            "head" => Flag::Head,
            "verbose" => Flag::Verbose,
            "output" => Flag::Output,
            "max-time" => Flag::MaxTime,
            "connect-timeout" => Flag::ConnectTimeout,
            "fail" => Flag::Fail,
            "write-out" => Flag::WriteOut,
            "proxy" => Flag::Proxy,
            "noproxy" => Flag::NoProxy,
            "user-agent" => Flag::UserAgent,
            "url" => Flag::Url,
            "help" => Flag::Help,
            "version" => Flag::Version,
            _ => return None,
        })
    }
}

fn parse(args: &[String]) -> Result<Opts, UsageError> {
    let mut o = Opts::default();
    let mut i = 0;
    let mut only_urls = false;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if only_urls || !arg.starts_with('-') || arg == "-" {
            o.urls.push(arg.clone());
            continue;
        }
        if arg == "--" {
            only_urls = true;
            continue;
        }
        // (flag, the name to report, an attached value)
        let mut pending: Vec<(Flag, String, Option<String>)> = Vec::new();
        if let Some(name) = arg.strip_prefix("--") {
            let flag = Flag::long(name).ok_or_else(|| unknown(arg))?;
            pending.push((flag, arg.clone(), None));
        } else {
            let chars: Vec<char> = arg[1..].chars().collect();
            let mut j = 0;
            while j < chars.len() {
                let c = chars[j];
                let name = format!("-{c}");
                let flag = Flag::short(c).ok_or_else(|| unknown(&name))?;
                j += 1;
                if flag.takes_value() {
                    let rest: String = chars[j..].iter().collect();
                    let attached = (!rest.is_empty()).then_some(rest);
                    pending.push((flag, name, attached));
                    break;
                }
                pending.push((flag, name, None));
            }
        }
        for (flag, name, attached) in pending {
            let value = if flag.takes_value() {
                match attached {
                    Some(v) => v,
                    None => {
                        let v = args
                            .get(i)
                            .cloned()
                            .ok_or_else(|| UsageError::MissingValue(name.clone()))?;
                        i += 1;
                        v
                    }
                }
            } else {
                String::new()
            };
            match flag {
                Flag::Silent => o.silent = true,
                Flag::ShowError => o.show_error = true,
                Flag::Request => o.method = Some(value),
                Flag::Header => o.headers.push(value),
                Flag::Data(mode) => {
                    let file = match mode {
                        DataMode::Raw => None,
                        DataMode::Ascii | DataMode::Binary => value.strip_prefix('@'),
                    };
                    let arg = match file {
                        Some(path) => DataArg::File {
                            path: path.to_string(),
                            strip_newlines: matches!(mode, DataMode::Ascii),
                        },
                        None => DataArg::Text(value.into_bytes()),
                    };
                    o.data.get_or_insert_with(Vec::new).push(arg);
                }
                Flag::Include => o.include = true,
                Flag::Head => o.head = true,
                Flag::Verbose => o.verbose = true,
                Flag::Output => o.output = Some(value),
                // As in curl, 0 means no limit.
                Flag::MaxTime => {
                    o.max_time = Some(seconds(&name, &value)?).filter(|d| !d.is_zero())
                }
                Flag::ConnectTimeout => {
                    o.connect_timeout = Some(seconds(&name, &value)?).filter(|d| !d.is_zero())
                }
                Flag::Fail => o.fail = true,
                Flag::WriteOut => o.write_out = Some(value),
                Flag::Proxy => o.proxy = Some(value),
                Flag::NoProxy => o.noproxy = Some(value),
                Flag::UserAgent => o.user_agent = Some(value),
                Flag::Url => o.urls.push(value),
                Flag::Help => {
                    o.help = true;
                    // Like curl, `-h` takes the next word as a help category (all are one here).
                    if args.get(i).is_some_and(|a| !a.starts_with('-')) {
                        i += 1;
                    }
                }
                Flag::Version => o.version = true,
            }
        }
    }
    if o.urls.is_empty() && !o.help && !o.version {
        return Err(UsageError::NoUrl);
    }
    Ok(o)
}

fn unknown(name: &str) -> UsageError {
    if KNOWN_UNSUPPORTED.contains(&name) {
        UsageError::Unsupported(name.to_string())
    } else {
        UsageError::Unknown(name.to_string())
    }
}

fn seconds(name: &str, value: &str) -> Result<Duration, UsageError> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| UsageError::BadNumber(name.to_string()))
}

/// What [`run`] would send for `args`, without any I/O: each URL's request head as `-v` shows
/// it (a `-d @file` counted as streamed), or curl's exit code and message for that URL; or the
/// command-line mistake. For tests and the fuzz target.
pub fn plan(args: &[String]) -> Result<Vec<Result<Vec<u8>, CurlError>>, UsageError> {
    let o = parse(args)?;
    let no_env = |_: &str| None;
    let streamed = o.data.as_ref().map(|d| {
        if d.iter().all(|a| matches!(a, DataArg::Text(_))) {
            BodyLen::Known(
                d.iter()
                    .map(|a| match a {
                        DataArg::Text(t) => t.len() as u64,
                        DataArg::File { .. } => 0,
                    })
                    .sum::<u64>()
                    + d.len().saturating_sub(1) as u64,
            )
        } else {
            BodyLen::Streamed
        }
    });
    Ok(o.urls
        .iter()
        .map(|url| {
            let out = target(&o, url, &no_env, streamed)?;
            let mut head = request_head(&out);
            // -w with no answer, as after a failure.
            let (mut w, mut e) = (Vec::new(), Vec::new());
            write_out(&o, &mut w, &mut e, None, &out, Duration::ZERO, None);
            head.extend_from_slice(&w);
            Ok(head)
        })
        .collect())
}

/// A failure as curl reports it: the exit code and the message after `curl: (code) `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurlError {
    pub code: i32,
    pub message: String,
}

impl CurlError {
    fn new(code: i32, message: impl Into<String>) -> Self {
        CurlError {
            code,
            message: message.into(),
        }
    }
}

/// The request for `url`, or why there is none.
fn target(
    o: &Opts,
    url: &str,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
    body: Option<BodyLen>,
) -> Result<Outgoing, CurlError> {
    let target = match HttpTarget::parse(url) {
        Ok(t) => t,
        Err(transport::UrlError::Scheme(s)) => {
            return Err(CurlError::new(
                1,
                format!("Protocol \"{s}\" not supported or disabled in libcurl"),
            ));
        }
        // curl 7.88 says the same for a bad port as for any other malformed URL (curl 8 says
        // "URL rejected: Port number was not a decimal number between 0 and 65535").
        Err(_) => {
            return Err(CurlError::new(
                3,
                "URL using bad/illegal format or missing URL",
            ));
        }
    };
    let proxy = proxy::select(&target, o.proxy.as_deref(), o.noproxy.as_deref(), env)
        .map_err(|e| CurlError::new(5, format!("Unsupported proxy syntax in '{}'", e.proxy)))?;
    build(o, target, proxy, body).map_err(|msg| CurlError::new(43, msg))
}

/// The length `-d` gives the request: known (Content-Length) or streamed (chunked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyLen {
    Known(u64),
    Streamed,
}

/// `-d` values up to this size are read whole and sent with a Content-Length, as curl sends
/// every `-d`; a larger (or endless) file or stdin is streamed with chunked encoding instead
/// of being held in memory.
const INLINE_DATA: usize = 1024 * 1024;

/// stdin is read once; a small one is kept for every URL, as curl keeps its `-d @-` data.
enum Stdin {
    Unread,
    Kept(Bytes),
    /// Streamed to the first URL; the others get nothing.
    Streamed,
}

/// The request body for the `-d` values: text as is, files opened now. A file that cannot be
/// opened or read at all is curl's warning and an empty part (curl goes on with the request).
async fn prepare_body(
    data: &[DataArg],
    stdin: &mut Stdin,
    mute: bool,
    stderr: &mut (dyn Write + Send),
) -> RequestBody {
    let mut parts = Vec::new();
    for (i, arg) in data.iter().enumerate() {
        if i > 0 {
            parts.push(BodyPart::Bytes(Bytes::from_static(b"&")));
        }
        let (path, strip_newlines) = match arg {
            DataArg::Text(t) => {
                parts.push(BodyPart::Bytes(Bytes::from(t.clone())));
                continue;
            }
            DataArg::File {
                path,
                strip_newlines,
            } => (path, *strip_newlines),
        };
        let strip = |mut b: Vec<u8>| {
            if strip_newlines {
                b.retain(|c| *c != b'\r' && *c != b'\n');
            }
            Bytes::from(b)
        };
        if path == "-" {
            match std::mem::replace(stdin, Stdin::Streamed) {
                Stdin::Kept(b) => {
                    parts.push(BodyPart::Bytes(b.clone()));
                    *stdin = Stdin::Kept(b);
                }
                Stdin::Streamed => {}
                Stdin::Unread => {
                    let reader: Pin<Box<dyn AsyncRead + Send>> = Box::pin(tokio::io::stdin());
                    match start_reading(reader).await {
                        Ok((prefix, None)) => {
                            let b = strip(prefix);
                            parts.push(BodyPart::Bytes(b.clone()));
                            *stdin = Stdin::Kept(b);
                        }
                        Ok((prefix, Some(rest))) => {
                            parts.push(BodyPart::Bytes(strip(prefix)));
                            parts.push(BodyPart::Reader {
                                reader: rest,
                                strip_newlines,
                                what: "stdin".into(),
                            });
                        }
                        Err(_) => {
                            warn(stderr, mute, &unreadable(path));
                            *stdin = Stdin::Kept(Bytes::new());
                        }
                    }
                }
            }
            continue;
        }
        let opened = match tokio::fs::File::open(path).await {
            // A directory opens but cannot be read: curl warns about it as about a missing file.
            Ok(f) => match f.metadata().await {
                Ok(m) if m.is_dir() => None,
                _ => Some(f),
            },
            Err(_) => None,
        };
        let started = match opened {
            Some(f) => start_reading(Box::pin(f)).await.ok(),
            None => None,
        };
        match started {
            Some((prefix, None)) => parts.push(BodyPart::Bytes(strip(prefix))),
            Some((prefix, Some(rest))) => {
                parts.push(BodyPart::Bytes(strip(prefix)));
                parts.push(BodyPart::Reader {
                    reader: rest,
                    strip_newlines,
                    what: path.clone(),
                });
            }
            None => warn(stderr, mute, &unreadable(path)),
        }
    }
    RequestBody::new(parts)
}

fn unreadable(path: &str) -> String {
    format!("Couldn't read data from file \"{path}\", this makes an empty POST.\n")
}

/// Read up to [`INLINE_DATA`] bytes; the reader comes back when there is more.
async fn start_reading(
    mut reader: Pin<Box<dyn AsyncRead + Send>>,
) -> std::io::Result<(Vec<u8>, Option<Pin<Box<dyn AsyncRead + Send>>>)> {
    let mut prefix = Vec::new();
    let n = (&mut reader)
        .take(INLINE_DATA as u64 + 1)
        .read_to_end(&mut prefix)
        .await?;
    if n <= INLINE_DATA {
        return Ok((prefix, None));
    }
    Ok((prefix, Some(reader)))
}

/// curl's warnings: `Warning: ` before each line, the text wrapped on a blank so that a line
/// stays within 79 columns (tool_msgs.c); `-s` silences them.
fn warn(stderr: &mut (dyn Write + Send), mute: bool, text: &str) {
    const PREFIX: &str = "Warning: ";
    const WIDTH: usize = 79 - PREFIX.len();
    if mute {
        return;
    }
    let mut rest = text.as_bytes();
    while !rest.is_empty() {
        let _ = stderr.write_all(PREFIX.as_bytes());
        if rest.len() > WIDTH {
            let mut cut = WIDTH - 1;
            while cut > 0 && !matches!(rest[cut], b' ' | b'\t') {
                cut -= 1;
            }
            if cut == 0 {
                cut = WIDTH - 1;
            }
            let _ = stderr.write_all(&rest[..=cut]);
            let _ = stderr.write_all(b"\n");
            rest = &rest[cut + 1..];
        } else {
            let _ = stderr.write_all(rest);
            rest = &[];
        }
    }
}

/// Where every TCP connection curl opens really goes, whatever address its name resolved to.
///
/// A pod of galaxia's userspace datapath reaches the cluster only through its egress proxy,
/// which stands where Cilium's datapath stands in a cluster. So curl sees no proxy: it resolves
/// the name itself (the pod's cluster DNS, given as the files of [`ResolverSettings`]), a name
/// that does not resolve is curl's exit 6 as in a pod, requests are origin-form, and `-v` and
/// `%{remote_ip}` show the address the name resolved to. Loopback addresses stay the pod's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Intercept {
    pub egress: std::net::SocketAddr,
}

/// Run curl with `args` (the arguments after the program name). `env` looks up environment
/// variables (`http_proxy`, `no_proxy`, and the resolver overrides of [`ResolverSettings`]).
/// Returns curl's exit code.
pub async fn run(
    args: Vec<std::ffi::OsString>,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
    stdout: &mut (dyn Write + Send),
    stderr: &mut (dyn Write + Send),
) -> i32 {
    run_with(args, env, None, stdout, stderr).await
}

/// [`run`], with every connection sent where `intercept` says.
pub async fn run_with(
    args: Vec<std::ffi::OsString>,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
    intercept: Option<Intercept>,
    stdout: &mut (dyn Write + Send),
    stderr: &mut (dyn Write + Send),
) -> i32 {
    let args: Vec<String> = args
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let opts = match parse(&args) {
        Ok(o) => o,
        Err(e) => {
            let _ = writeln!(stderr, "curl: {e}");
            let _ = writeln!(
                stderr,
                "curl: try 'curl --help' or 'curl --manual' for more information"
            );
            return 2;
        }
    };
    // As curl: help or version, and nothing else.
    if opts.help {
        let _ = stdout.write_all(HELP.as_bytes());
        let _ = stdout.flush();
        return 0;
    }
    if opts.version {
        let _ = writeln!(
            stdout,
            "frota-curl {} (the Star Wars demo ships' built-in curl)\nProtocols: http\nFeatures: AsynchDNS IPv6",
            env!("CARGO_PKG_VERSION")
        );
        let _ = stdout.flush();
        return 0;
    }
    let dial = Dial {
        resolver: Resolver::new(ResolverSettings::from_env(env)),
        intercept,
    };
    let mut stdin = Stdin::Unread;
    let mut code = 0;
    for url in &opts.urls {
        let body = match &opts.data {
            Some(d) => Some(prepare_body(d, &mut stdin, opts.silent, stderr).await),
            None => None,
        };
        let c = one(&opts, url, env, &dial, body, stdout, stderr).await;
        if c != 0 {
            code = c;
        }
    }
    let _ = stdout.flush();
    code
}

/// How names become connections.
struct Dial {
    resolver: Resolver,
    intercept: Option<Intercept>,
}

async fn one(
    o: &Opts,
    url: &str,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
    dial: &Dial,
    body: Option<RequestBody>,
    stdout: &mut (dyn Write + Send),
    stderr: &mut (dyn Write + Send),
) -> i32 {
    let show_errors = !o.silent || o.show_error;
    let fail = |stderr: &mut (dyn Write + Send), code: i32, msg: &str| {
        if show_errors {
            let _ = writeln!(stderr, "curl: ({code}) {msg}");
        }
        code
    };
    let len = body.as_ref().map(|b| match b.known_len() {
        Some(n) => BodyLen::Known(n),
        None => BodyLen::Streamed,
    });
    let out = match target(o, url, env, len) {
        Ok(out) => out,
        Err(e) => return fail(stderr, e.code, &e.message),
    };
    let body = body.unwrap_or_else(|| RequestBody::from(Bytes::new()));

    // -m bounds everything from here, the upload included; --connect-timeout the resolving
    // and connecting. The phase a deadline ends in picks curl's message.
    let start = Instant::now();
    let total = o.max_time.map(|t| start + t);
    let connect_limit = o.connect_timeout.map(|t| start + t);
    let connecting = match (total, connect_limit) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    // curl words a connect that --connect-timeout ends apart from one that -m ends (-m wins a
    // tie).
    let connect_timed_by_option = connect_limit.is_some_and(|c| total.is_none_or(|t| c < t));
    let attempt = async {
        let peer = out.peer();
        let addrs = transport::resolve(&dial.resolver, peer, connecting).await?;
        // curl names the address it tries (`127.0.0.1:80`, `[::1]:80`), not the host.
        if o.verbose
            && let Some(first) = addrs.first()
        {
            let _ = writeln!(stderr, "*   Trying {first}...");
        }
        let (stream, addr, intercepted) = match dial.intercept {
            Some(i) if addrs.iter().any(|a| !a.ip().is_loopback()) => {
                let shown = addrs
                    .iter()
                    .copied()
                    .find(|a| !a.ip().is_loopback())
                    .unwrap_or(i.egress);
                let (stream, _) = transport::connect_to(vec![i.egress], peer, connecting).await?;
                (stream, shown, true)
            }
            _ => {
                let (stream, addr) = transport::connect_to(addrs, peer, connecting).await?;
                (stream, addr, false)
            }
        };
        let announce = |stderr: &mut (dyn Write + Send)| {
            if o.verbose {
                let _ = writeln!(
                    stderr,
                    "* Connected to {} ({}) port {} (#0)",
                    peer.bare_host(),
                    addr.ip(),
                    addr.port()
                );
                let _ = stderr.write_all(&request_head(&out));
            }
        };
        // Through an intercepting egress proxy the handshake is with the proxy, which learns
        // the destination from the request: a connection that a policy drops at L3/L4 is one
        // it never answers. So the wait for the answer is the connect phase here, as a dropped
        // SYN is in a cluster (the galaxy's servers answer at once), and -v says "Connected"
        // only once the answer comes.
        if !intercepted {
            announce(stderr);
        }
        let exchange = transport::exchange_with(stream, &out, body, transport::HeadLimits::HYPER);
        let deadline = if intercepted { connecting } else { total };
        let answer = match deadline {
            Some(t) => tokio::time::timeout_at(t, exchange)
                .await
                .unwrap_or_else(|_| {
                    Err(if intercepted {
                        TransportError::ConnectTimeout {
                            host: peer.bare_host().to_string(),
                            port: peer.port,
                        }
                    } else {
                        TransportError::Timeout(t - start)
                    })
                })?,
            None => exchange.await?,
        };
        if intercepted {
            announce(stderr);
        }
        Ok::<_, TransportError>((answer, addr))
    };
    let result = attempt.await;
    let elapsed = start.elapsed();
    let (answer, addr) = match result {
        Ok(a) => a,
        Err(e) => {
            if o.verbose
                && let TransportError::Malformed(detail) = &e
            {
                let _ = writeln!(stderr, "* {detail}");
            }
            write_out(o, stdout, stderr, None, &out, elapsed, None);
            let msg = curl_message(&e, elapsed, connect_timed_by_option);
            return fail(stderr, e.curl_code(), &msg);
        }
    };
    let status = answer.status.as_u16();
    let head = response_head(&answer);
    if o.verbose {
        for line in head.split_inclusive(|b| *b == b'\n') {
            let _ = stderr.write_all(b"< ");
            let _ = stderr.write_all(line);
        }
    }
    let failed = o.fail && status >= 400;
    let mut code = 0;
    if failed {
        code = fail(
            stderr,
            22,
            &format!("The requested URL returned error: {status}"),
        );
    } else {
        let mut payload = Vec::new();
        if o.include || o.head {
            payload.extend_from_slice(&head);
        }
        if !o.head {
            payload.extend_from_slice(&answer.body);
        }
        match o.output.as_deref() {
            None | Some("-") => {
                let _ = stdout.write_all(&payload);
            }
            Some(path) => {
                if let Err(e) = std::fs::write(path, &payload) {
                    code = fail(
                        stderr,
                        23,
                        &format!(
                            "Failure writing output to destination: {}",
                            transport::io_message(&e)
                        ),
                    );
                }
            }
        }
    }
    if o.verbose {
        let _ = writeln!(
            stderr,
            "* Connection #0 to host {} left intact",
            out.peer().bare_host()
        );
    }
    write_out(o, stdout, stderr, Some(&answer), &out, elapsed, Some(addr));
    code
}

/// The request as curl builds it: Host, User-Agent, Accept (and Proxy-Connection through a
/// proxy), then `-H` headers, then Content-Length and Content-Type for `-d`.
fn build(
    o: &Opts,
    target: HttpTarget,
    proxy: Option<HttpTarget>,
    body: Option<BodyLen>,
) -> Result<Outgoing, String> {
    let method = match (&o.method, o.head, &o.data) {
        (Some(m), _, _) => m.clone(),
        (None, true, _) => "HEAD".into(),
        (None, false, Some(_)) => "POST".into(),
        (None, false, None) => "GET".into(),
    };
    let method =
        Method::from_bytes(method.as_bytes()).map_err(|_| format!("bad method {method:?}"))?;
    let mut headers: Vec<(String, String)> = vec![
        ("Host".into(), target.authority.clone()),
        (
            "User-Agent".into(),
            o.user_agent.clone().unwrap_or_else(user_agent),
        ),
        ("Accept".into(), "*/*".into()),
    ];
    if proxy.is_some() {
        headers.push(("Proxy-Connection".into(), "Keep-Alive".into()));
    }
    let mut custom: Vec<(String, String)> = Vec::new();
    for h in &o.headers {
        // `Name:` removes a header, `Name;` sends it empty, like curl.
        if let Some(name) = h.strip_suffix(';').filter(|n| !n.contains(':')) {
            custom.push((name.trim().to_string(), String::new()));
            continue;
        }
        let Some((name, value)) = h.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim().to_string(), value.trim().to_string());
        custom.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
        // A default header keeps its place (`Host:` stays first) with the new value.
        if let Some(i) = headers
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(&name))
        {
            if value.is_empty() {
                headers.remove(i);
            } else {
                headers[i] = (name, value);
            }
        } else if !value.is_empty() {
            custom.push((name, value));
        }
    }
    let has = |list: &[(String, String)], name: &str| {
        list.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
    };
    let mut tail = Vec::new();
    if let Some(len) = body {
        let framed = has(&custom, "content-length") || has(&custom, "transfer-encoding");
        match len {
            _ if framed => {}
            BodyLen::Known(n) => tail.push(("Content-Length".to_string(), n.to_string())),
            BodyLen::Streamed => {
                tail.push(("Transfer-Encoding".to_string(), "chunked".to_string()))
            }
        }
        if !has(&custom, "content-type") {
            tail.push((
                "Content-Type".to_string(),
                "application/x-www-form-urlencoded".to_string(),
            ));
        }
    }
    headers.extend(custom);
    headers.extend(tail);
    Ok(Outgoing {
        method,
        target,
        proxy,
        headers,
        // The body goes to `exchange_with`, streamed.
        body: Bytes::new(),
    })
}

/// `-v`'s view of the request head, `> ` lines with CRLF as curl prints them.
fn request_head(out: &Outgoing) -> Vec<u8> {
    let mut s = format!("> {} {} HTTP/1.1\r\n", out.method, out.request_target());
    for (n, v) in &out.headers {
        s.push_str(&format!("> {n}: {v}\r\n"));
    }
    s.push_str("> \r\n");
    s.into_bytes()
}

/// The status line and headers as `-i` prints them (hyper keeps the order; our servers send
/// lowercase names, which is what curl prints for them).
fn response_head(a: &Incoming) -> Vec<u8> {
    let version = match a.version {
        http::Version::HTTP_10 => "HTTP/1.0",
        _ => "HTTP/1.1",
    };
    let mut s = format!("{version} {}", a.status.as_u16()).into_bytes();
    if !a.reason.is_empty() {
        s.push(b' ');
        s.extend_from_slice(a.reason.as_bytes());
    }
    s.extend_from_slice(b"\r\n");
    for (n, v) in &a.headers {
        s.extend_from_slice(n.as_str().as_bytes());
        s.extend_from_slice(b": ");
        s.extend_from_slice(v.as_bytes());
        s.extend_from_slice(b"\r\n");
    }
    s.extend_from_slice(b"\r\n");
    s
}

/// curl 7.88's message for the failure (lib/multi.c, connect.c, http.c, transfer.c).
/// `connect_timed_by_option`: the connect deadline was --connect-timeout's, before -m's.
fn curl_message(e: &TransportError, elapsed: Duration, connect_timed_by_option: bool) -> String {
    let ms = elapsed.as_millis();
    match e {
        TransportError::Resolve(
            ResolveError::NotFound { host, .. } | ResolveError::NoAnswer { host, .. },
        ) => format!("Could not resolve host: {host}"),
        // An unreadable resolv.conf leaves glibc, and so curl, without an answer too.
        TransportError::Resolve(ResolveError::Config { .. }) => "Could not resolve host".into(),
        TransportError::ResolveTimeout { .. } => {
            format!("Resolving timed out after {ms} milliseconds")
        }
        TransportError::Connect { host, port, .. } => {
            format!(
                "Failed to connect to {host} port {port} after {ms} ms: Couldn't connect to server"
            )
        }
        // Happy eyeballs gives up at --connect-timeout with its own words; -m is the multi
        // loop's.
        TransportError::ConnectTimeout { host, port } if connect_timed_by_option => {
            format!("Failed to connect to {host} port {port} after {ms} ms: Timeout was reached")
        }
        TransportError::ConnectTimeout { .. } => {
            format!("Connection timed out after {ms} milliseconds")
        }
        TransportError::Timeout(_) => {
            format!("Operation timed out after {ms} milliseconds with 0 bytes received")
        }
        TransportError::EmptyReply => "Empty reply from server".into(),
        TransportError::Recv(m) => format!("Recv failure: {m}"),
        TransportError::Send(m) => format!("Send failure: {m}"),
        TransportError::BadRequest(m) => m.clone(),
        TransportError::BadStatus => "Unsupported response code in HTTP response".into(),
        TransportError::Malformed(_) => "Weird server reply".into(),
        TransportError::BadBody(_) => {
            "Illegal or missing hexadecimal sequence in chunked-encoding".into()
        }
        TransportError::HeadTooLarge => "Too large response headers".into(),
        TransportError::IncompleteBody { remaining: Some(n) } => {
            format!("transfer closed with {n} bytes remaining to read")
        }
        TransportError::IncompleteBody { remaining: None } => {
            "transfer closed with outstanding read data remaining".into()
        }
        TransportError::ReadBody(_) => {
            "Failed to open/read local data from file/application".into()
        }
    }
}

/// `-w`: curl's `%{variable}` and `\n`-style escapes, for the variables the tutorial needs.
fn write_out(
    o: &Opts,
    stdout: &mut (dyn Write + Send),
    stderr: &mut (dyn Write + Send),
    answer: Option<&Incoming>,
    out: &Outgoing,
    elapsed: Duration,
    addr: Option<std::net::SocketAddr>,
) {
    let Some(fmt) = &o.write_out else { return };
    let mut s = String::new();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '%' if chars.peek() == Some(&'{') => {
                chars.next();
                let name: String = chars.by_ref().take_while(|c| *c != '}').collect();
                let value = match name.as_str() {
                    "http_code" | "response_code" => {
                        format!("{:03}", answer.map(|a| a.status.as_u16()).unwrap_or(0))
                    }
                    "size_download" => answer.map(|a| a.body.len()).unwrap_or(0).to_string(),
                    "time_total" => format!("{:.6}", elapsed.as_secs_f64()),
                    "content_type" => answer
                        .and_then(|a| a.headers.get(http::header::CONTENT_TYPE))
                        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                        .unwrap_or_default(),
                    "url_effective" => out.target.absolute(),
                    "method" => out.method.to_string(),
                    "remote_ip" => addr.map(|a| a.ip().to_string()).unwrap_or_default(),
                    "remote_port" => addr.map(|a| a.port().to_string()).unwrap_or_default(),
                    other => {
                        let _ = writeln!(stderr, "curl: unknown --write-out variable: '{other}'");
                        String::new()
                    }
                };
                s.push_str(&value);
            }
            '%' if chars.peek() == Some(&'%') => {
                chars.next();
                s.push('%');
            }
            '\\' => match chars.next() {
                Some('n') => s.push('\n'),
                Some('r') => s.push('\r'),
                Some('t') => s.push('\t'),
                Some('\\') => s.push('\\'),
                Some(other) => {
                    s.push('\\');
                    s.push(other);
                }
                None => s.push('\\'),
            },
            c => s.push(c),
        }
    }
    let _ = stdout.write_all(s.as_bytes());
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Opts, UsageError> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        parse(&args)
    }

    #[test]
    fn parses_the_tutorials_forms() {
        let o = p(&["-s", "-XPOST", "deathstar/v1/request-landing"]).unwrap();
        assert!(o.silent);
        assert_eq!(o.method.as_deref(), Some("POST"));
        let o = p(&[
            "-sSX",
            "PUT",
            "-H",
            "X-Has-Force: True",
            "x/v1/exhaust-port",
        ])
        .unwrap();
        assert!(o.silent && o.show_error);
        assert_eq!(o.method.as_deref(), Some("PUT"));
        assert_eq!(o.headers, ["X-Has-Force: True"]);
        let o = p(&["-d", "a=1", "--data-raw", "@b", "-d@c", "-m1", "u"]).unwrap();
        assert_eq!(
            o.data.unwrap(),
            [
                DataArg::Text(b"a=1".to_vec()),
                DataArg::Text(b"@b".to_vec()),
                DataArg::File {
                    path: "c".into(),
                    strip_newlines: true
                }
            ]
        );
        assert_eq!(o.max_time, Some(Duration::from_secs(1)));
        assert_eq!(p(&["-m", "0", "u"]).unwrap().max_time, None);
        assert!(p(&["--help"]).unwrap().help);
        // -h takes a category word, not the URL after an option.
        assert!(p(&["-h", "all"]).unwrap().urls.is_empty());
        assert!(p(&["-V"]).unwrap().version);
    }

    #[test]
    fn rejects_bad_options() {
        assert_eq!(
            p(&["--nope", "u"]),
            Err(UsageError::Unknown("--nope".into()))
        );
        assert_eq!(p(&["-L", "u"]), Err(UsageError::Unsupported("-L".into())));
        assert_eq!(p(&["u", "-X"]), Err(UsageError::MissingValue("-X".into())));
        assert_eq!(
            p(&["-m", "x", "u"]),
            Err(UsageError::BadNumber("-m".into()))
        );
        // Too large for a Duration is not a number curl takes either.
        assert_eq!(
            p(&["-m", "1e300", "u"]),
            Err(UsageError::BadNumber("-m".into()))
        );
        assert_eq!(p(&["-s"]), Err(UsageError::NoUrl));
    }

    #[test]
    fn plans_without_io() {
        let args: Vec<String> = [
            "-d",
            "@/dev/zero",
            "-d",
            "x",
            "127.0.0.1:1/p",
            "127.0.0.1:99999",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let plan = plan(&args).unwrap();
        let head = String::from_utf8(plan[0].clone().unwrap()).unwrap();
        assert!(head.starts_with("> POST /p HTTP/1.1\r\n"), "{head}");
        assert!(head.contains("> Transfer-Encoding: chunked\r\n"), "{head}");
        assert_eq!(
            plan[1],
            Err(CurlError::new(
                3,
                "URL using bad/illegal format or missing URL"
            ))
        );
    }

    #[test]
    fn warnings_wrap_like_curls() {
        let mut err = Vec::new();
        warn(&mut err, false, &unreadable("/nonexistent"));
        assert_eq!(
            String::from_utf8(err).unwrap(),
            "Warning: Couldn't read data from file \"/nonexistent\", this makes an empty \nWarning: POST.\n"
        );
        let mut err = Vec::new();
        warn(&mut err, true, "x\n");
        assert!(err.is_empty());
    }
}
