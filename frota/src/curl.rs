//! A curl-compatible front end for the tutorial's commands (`kubectl exec tiefighter -- curl -s
//! -XPOST deathstar.default.svc.cluster.local/v1/request-landing`): the options the book and
//! Cilium's docs use, curl's output bytes and curl's exit codes. It runs when a ship binary is
//! called as `curl`, as `<ship> curl ...`, and inside `galaxia exec` when the system has no curl.
//!
//! [`run`] is async so that a caller already inside a tokio runtime (galaxia) can await it; the
//! ship binaries build a runtime around it. Options it does not know end with exit 2 and a message
//! that names them, like curl's own unknown options.

use std::io::Write;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Method;

use crate::proxy;
use crate::resolve::{Resolver, ResolverSettings};
use crate::transport::{self, HttpTarget, Incoming, Outgoing, TransportError};

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
    #[error("no URL specified")]
    NoUrl,
}

const SUPPORTED: &str = "-s -S -X -H -d --data-raw --data-binary -i -I -v -o -m --connect-timeout -f -w -x --noproxy -A --url";

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
    "-h",
    "--help",
    "-V",
    "--version",
];

/// Parsed options.
#[derive(Debug, Default, Clone, PartialEq)]
struct Opts {
    urls: Vec<String>,
    silent: bool,
    show_error: bool,
    method: Option<String>,
    headers: Vec<String>,
    data: Option<Vec<u8>>,
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
            _ => return None,
        })
    }
}

/// A file named by `-d @file` could not be read: curl's exit 26.
#[derive(Debug)]
struct ReadError(String);

fn parse(args: &[String]) -> Result<Result<Opts, ReadError>, UsageError> {
    let mut o = Opts::default();
    let mut read_error = None;
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
                    let bytes = match data_value(&value, mode) {
                        Ok(b) => b,
                        Err(e) => {
                            read_error.get_or_insert(e);
                            Vec::new()
                        }
                    };
                    let data = o.data.get_or_insert_with(Vec::new);
                    if !data.is_empty() {
                        data.push(b'&');
                    }
                    data.extend_from_slice(&bytes);
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
            }
        }
    }
    if o.urls.is_empty() {
        return Err(UsageError::NoUrl);
    }
    Ok(match read_error {
        Some(e) => Err(e),
        None => Ok(o),
    })
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
        .map(Duration::from_secs_f64)
        .ok_or_else(|| UsageError::BadNumber(name.to_string()))
}

fn data_value(value: &str, mode: DataMode) -> Result<Vec<u8>, ReadError> {
    let file = match mode {
        DataMode::Raw => None,
        DataMode::Ascii | DataMode::Binary => value.strip_prefix('@'),
    };
    let Some(path) = file else {
        return Ok(value.as_bytes().to_vec());
    };
    let bytes = if path == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
            .map_err(|e| ReadError(format!("stdin: {e}")))?;
        buf
    } else {
        std::fs::read(path).map_err(|e| ReadError(format!("{path}: {e}")))?
    };
    Ok(match mode {
        DataMode::Ascii => bytes
            .into_iter()
            .filter(|b| *b != b'\r' && *b != b'\n')
            .collect(),
        _ => bytes,
    })
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
    let args: Vec<String> = args
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let opts = match parse(&args) {
        Ok(Ok(o)) => o,
        Ok(Err(ReadError(msg))) => {
            let _ = writeln!(
                stderr,
                "curl: (26) Failed to open/read local data from {msg}"
            );
            return 26;
        }
        Err(e) => {
            let _ = writeln!(stderr, "curl: {e}");
            let _ = writeln!(
                stderr,
                "curl: try 'curl --help' or 'curl --manual' for more information"
            );
            return 2;
        }
    };
    let resolver = Resolver::new(ResolverSettings::from_env(env));
    let mut code = 0;
    for url in &opts.urls {
        let c = one(&opts, url, env, &resolver, stdout, stderr).await;
        if c != 0 {
            code = c;
        }
    }
    let _ = stdout.flush();
    code
}

async fn one(
    o: &Opts,
    url: &str,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
    resolver: &Resolver,
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
    let target = match HttpTarget::parse(url) {
        Ok(t) => t,
        Err(transport::UrlError::Scheme(s)) => {
            return fail(
                stderr,
                1,
                &format!("Protocol \"{s}\" not supported or disabled in libcurl"),
            );
        }
        Err(_) => return fail(stderr, 3, "URL using bad/illegal format or missing URL"),
    };
    let proxy = match proxy::select(&target, o.proxy.as_deref(), o.noproxy.as_deref(), env) {
        Ok(p) => p,
        Err(_) => return fail(stderr, 5, "Couldn't resolve proxy name"),
    };
    let out = match build(o, target, proxy) {
        Ok(out) => out,
        Err(msg) => return fail(stderr, 43, &msg),
    };

    let start = Instant::now();
    let attempt = async {
        let peer = out.peer();
        if o.verbose {
            let _ = writeln!(stderr, "*   Trying {}:{}...", peer.bare_host(), peer.port);
        }
        let (stream, addr) = transport::connect(resolver, peer, o.connect_timeout).await?;
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
        let answer = transport::exchange(stream, &out).await?;
        Ok::<_, TransportError>((answer, addr))
    };
    let result = match o.max_time {
        Some(t) => tokio::time::timeout(t, attempt)
            .await
            .unwrap_or(Err(TransportError::Timeout(t))),
        None => attempt.await,
    };
    let elapsed = start.elapsed();
    let (answer, addr) = match result {
        Ok(a) => a,
        Err(e) => {
            write_out(o, stdout, stderr, None, &out, elapsed, None);
            let msg = curl_message(&e, elapsed);
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
                        &format!("Failure writing output to destination: {e}"),
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
fn build(o: &Opts, target: HttpTarget, proxy: Option<HttpTarget>) -> Result<Outgoing, String> {
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
    let body = Bytes::from(o.data.clone().unwrap_or_default());
    let mut tail = Vec::new();
    if o.data.is_some() {
        if !has(&custom, "content-length") {
            tail.push(("Content-Length".to_string(), body.len().to_string()));
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
        body,
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

fn curl_message(e: &TransportError, elapsed: Duration) -> String {
    let ms = elapsed.as_millis();
    match e {
        TransportError::Resolve(crate::resolve::ResolveError::NotFound { host, .. }) => {
            format!("Could not resolve host: {host}")
        }
        TransportError::Resolve(other) => other.to_string(),
        TransportError::Connect { host, port, .. } => {
            format!(
                "Failed to connect to {host} port {port} after {ms} ms: Couldn't connect to server"
            )
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
        parse(&args).map(|r| r.map_err(|e| e.0).unwrap())
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
        let o = p(&["-d", "a=1", "--data-raw", "@b", "-m1", "u"]).unwrap();
        assert_eq!(o.data.as_deref(), Some(&b"a=1&@b"[..]));
        assert_eq!(o.max_time, Some(Duration::from_secs(1)));
        assert_eq!(p(&["-m", "0", "u"]).unwrap().max_time, None);
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
        assert_eq!(p(&["-s"]), Err(UsageError::NoUrl));
    }
}
