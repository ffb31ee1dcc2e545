//! The ships' built-in curl as a container runs it (`caca-tie curl ...`), held to Debian's curl:
//! the same exit code and the same `curl: (N) ...` line for every failure it handles, nothing
//! with `-s`, the line with `-sS`; a port above 65535 refused; a nameserver that never answers
//! given up on as glibc gives up; an endless `-d @file` streamed and stopped by `-m`; and
//! `--help`. Comparisons with Debian's curl are skipped with testkit::skip without it (a failure under
//! REQUIRE_ALL=1) and still check ours.
#![allow(clippy::unwrap_used)]

mod util;

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use testkit::{consts, servers};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_caca-tie");
const DEBIAN_CURL: &str = "/usr/bin/curl";

struct Out {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
    elapsed: Duration,
}

async fn output(mut c: Command) -> Out {
    let start = Instant::now();
    let o = c.kill_on_drop(true).output().await.unwrap();
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: o.stdout,
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        elapsed: start.elapsed(),
    }
}

/// `caca-tie curl ARGS` with only `env` in its environment.
async fn ours(args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut c = Command::new(BIN);
    c.arg("curl")
        .args(args)
        .env_clear()
        .envs(env.iter().copied());
    output(c).await
}

/// Debian's curl, when installed (it is not our `curl` link: it says `curl 7.` or `8.`).
fn debian_curl() -> Option<&'static str> {
    let v = std::process::Command::new(DEBIAN_CURL)
        .arg("--version")
        .output()
        .ok()?;
    String::from_utf8_lossy(&v.stdout)
        .starts_with("curl ")
        .then_some(DEBIAN_CURL)
        .or_else(|| {
            testkit::skip::skip(
                "caca-tie curl: comparison with Debian's curl",
                &format!("{DEBIAN_CURL} is not curl"),
            );
            None
        })
}

/// Debian's curl with an empty environment; `isolated` runs it in a new network namespace
/// (only a loopback that is down) so that a name it resolves cannot reach any nameserver.
async fn real(args: &[&str], isolated: bool) -> Option<Out> {
    let Some(curl) = debian_curl() else {
        testkit::skip::skip(
            "caca-tie curl: comparison with Debian's curl",
            &format!("{DEBIAN_CURL} missing (apt-get install -y curl)"),
        );
        return None;
    };
    let mut c = if isolated {
        let probe = std::process::Command::new("unshare")
            .args(["-n", "true"])
            .status();
        if !probe.is_ok_and(|s| s.success()) {
            testkit::skip::skip(
                "caca-tie curl: comparisons in a network namespace",
                "`unshare -n` is not allowed here (run as root)",
            );
            return None;
        }
        let mut c = Command::new("unshare");
        c.args(["-n", curl]);
        c
    } else {
        Command::new(curl)
    };
    c.args(args).env_clear();
    Some(output(c).await)
}

/// curl's timings (`after 0 ms`, `after 1001 milliseconds`) vary by a millisecond or two.
fn normalized(stderr: &str) -> String {
    let mut out = String::new();
    let mut rest = stderr;
    while let Some(i) = rest.find("after ") {
        out.push_str(&rest[..i + 6]);
        rest = &rest[i + 6..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            out.push('N');
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_failure_exits_and_says_what_debian_curl_does() {
    let closed = servers::closed_port().await;
    let silent = servers::silent().await;
    let hangs_up = servers::hangs_up().await;
    let resets = util::resets().await;
    let (bad_status, _) = servers::canned(consts::BAD_STATUS).await;
    let (partial, _) = servers::canned(consts::BODY_CUT_SHORT).await;
    let (denied, _) = servers::canned(consts::ENVOY_403).await;
    // Ours resolves `nope` with no nameserver at all; Debian's curl in a network namespace of
    // its own, where glibc's queries cannot go anywhere.
    let dir = tempfile::tempdir().unwrap();
    let conf = write(dir.path(), "resolv.conf", "options ndots:1\n");
    let hosts = write(dir.path(), "hosts", "");
    let no_dns = [
        ("FROTA_RESOLV_CONF", conf.as_str()),
        ("FROTA_HOSTS", hosts.as_str()),
    ];
    let cases: Vec<(i32, Vec<String>, &str)> = vec![
        (
            3,
            vec!["http://127.0.0.1:99999/".into()],
            "curl: (3) URL using bad/illegal format or missing URL",
        ),
        (
            5,
            vec![
                "-x".into(),
                "127.0.0.1:99999".into(),
                format!("http://{closed}/"),
            ],
            "curl: (5) Unsupported proxy syntax in '127.0.0.1:99999'",
        ),
        (
            6,
            vec!["http://nope/".into()],
            "curl: (6) Could not resolve host: nope",
        ),
        (
            7,
            vec![format!("http://{closed}/")],
            "curl: (7) Failed to connect to 127.0.0.1 port PORT after N ms: Couldn't connect to server",
        ),
        (
            28,
            vec!["-m".into(), "1".into(), format!("http://{silent}/")],
            "curl: (28) Operation timed out after N milliseconds with 0 bytes received",
        ),
        (
            52,
            vec![format!("http://{hangs_up}/")],
            "curl: (52) Empty reply from server",
        ),
        (
            56,
            vec![format!("http://{resets}/")],
            "curl: (56) Recv failure: Connection reset by peer",
        ),
        (
            1,
            vec![format!("http://{bad_status}/")],
            "curl: (1) Unsupported response code in HTTP response",
        ),
        (
            18,
            vec![format!("http://{partial}/")],
            "curl: (18) transfer closed with 7 bytes remaining to read",
        ),
        (
            22,
            vec!["-f".into(), format!("http://{denied}/v1/exhaust-port")],
            "curl: (22) The requested URL returned error: 403",
        ),
    ];
    for (code, args, expected) in &cases {
        let expected = expected.replace("PORT", &closed.port().to_string());
        let env: &[(&str, &str)] = if *code == 6 { &no_dns } else { &[] };
        for mode in [Some("-s"), Some("-sS"), None] {
            let args: Vec<&str> = mode
                .into_iter()
                .chain(args.iter().map(String::as_str))
                .collect();
            let o = ours(&args, env).await;
            assert_eq!(o.code, *code, "ours {args:?}: {}", o.stderr);
            assert!(o.stdout.is_empty(), "ours {args:?}: {:?}", o.stdout);
            match mode {
                // -s: not a word, as curl.
                Some("-s") => assert_eq!(o.stderr, "", "ours {args:?}"),
                _ => assert_eq!(
                    normalized(&o.stderr),
                    format!("{expected}\n"),
                    "ours {args:?}"
                ),
            }
            let Some(r) = real(&args, *code == 6).await else {
                continue;
            };
            assert_eq!(r.code, o.code, "Debian curl {args:?}: {}", r.stderr);
            if mode.is_some() {
                assert_eq!(
                    normalized(&r.stderr),
                    normalized(&o.stderr),
                    "stderr of {args:?}"
                );
            } else {
                // curl's progress meter comes first, without a line end.
                assert!(
                    normalized(&r.stderr).ends_with(&normalized(&o.stderr)),
                    "stderr of {args:?}: {:?} vs ours {:?}",
                    r.stderr,
                    o.stderr
                );
            }
        }
    }
}

/// A command-line mistake is said whatever -s asks, and exits 2, as Debian's curl.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_option_exits_2_and_says_so_even_with_s() {
    let closed = servers::closed_port().await.to_string();
    for args in [
        vec!["--xyz", closed.as_str()],
        vec!["-s", "--xyz", closed.as_str()],
        vec!["-sS", "-W", closed.as_str()],
    ] {
        let unknown = args[args.len() - 2];
        let o = ours(&args, &[]).await;
        assert_eq!(o.code, 2, "{args:?}: {}", o.stderr);
        assert_eq!(
            o.stderr,
            format!(
                "curl: option {unknown}: is unknown\ncurl: try 'curl --help' or 'curl --manual' for more information\n"
            ),
            "{args:?}"
        );
        if let Some(r) = real(&args, false).await {
            assert_eq!(
                (r.code, &r.stderr),
                (o.code, &o.stderr),
                "Debian curl {args:?}"
            );
        }
    }
}

/// A listener whose accept queue is full: Linux drops further SYNs, so a client stays in its
/// connect phase (the kept streams hold the queue).
fn backlog_full() -> (std::net::SocketAddr, Vec<std::net::TcpStream>) {
    let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    drop(socket);
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(addr).unwrap();
    let std_listener = socket.listen(0).unwrap().into_std().unwrap();
    let mut held = Vec::new();
    for _ in 0..3 {
        if let Ok(s) = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            held.push(s);
        }
    }
    // The listener must outlive the test's connects; leak it with the streams' owner.
    std::mem::forget(std_listener);
    (addr, held)
}

/// A connect that never completes: --connect-timeout and -m end it with different words
/// (`Failed to connect ... Timeout was reached` and `Connection timed out`), -m winning a tie.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_timeouts_say_which_limit_ended_them() {
    let (addr, _held) = backlog_full();
    let url = format!("http://{addr}/");
    let port = addr.port();
    let by_option = format!(
        "curl: (28) Failed to connect to 127.0.0.1 port {port} after N ms: Timeout was reached\n"
    );
    let by_max_time = "curl: (28) Connection timed out after N milliseconds\n".to_string();
    for (args, expected) in [
        (vec!["-sS", "--connect-timeout", "1", &url], &by_option),
        (
            vec!["-sS", "--connect-timeout", "1", "-m", "2", &url],
            &by_option,
        ),
        (vec!["-sS", "-m", "1", &url], &by_max_time),
        (
            vec!["-sS", "--connect-timeout", "1", "-m", "1", &url],
            &by_max_time,
        ),
        (
            vec!["-sS", "--connect-timeout", "2", "-m", "1", &url],
            &by_max_time,
        ),
    ] {
        let o = ours(&args, &[]).await;
        assert_eq!(
            (o.code, normalized(&o.stderr)),
            (28, expected.clone()),
            "ours {args:?}"
        );
        if let Some(r) = real(&args, false).await {
            assert_eq!(
                (r.code, normalized(&r.stderr)),
                (28, expected.clone()),
                "Debian curl {args:?}"
            );
        }
    }
}

/// A port above 65535 used to become 80 (`http`'s `port_u16()` is `None` for it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_above_65535_is_refused() {
    for url in [
        "127.0.0.1:99999",
        "http://127.0.0.1:65536/v1",
        "http://[::1]:100000/",
    ] {
        let o = ours(&["-sS", url], &[]).await;
        assert_eq!(
            (o.code, o.stderr.as_str()),
            (3, "curl: (3) URL using bad/illegal format or missing URL\n"),
            "{url}"
        );
    }
    // The ship's own --target too, before any request.
    let mut c = Command::new(BIN);
    c.args(["land", "--target", "http://127.0.0.1:99999"])
        .env_clear();
    let o = output(c).await;
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("port number \"99999\" is not a decimal number between 0 and 65535"),
        "{}",
        o.stderr
    );
    // The edges curl accepts: 65535, leading zeros, an empty port (80).
    let closed = servers::closed_port().await;
    let padded = format!("http://127.0.0.1:00{}/", closed.port());
    let o = ours(&["-sS", &padded], &[]).await;
    assert_eq!(o.code, 7, "{}", o.stderr);
    assert!(
        o.stderr.contains(&format!("port {} after", closed.port())),
        "{}",
        o.stderr
    );
}

/// A nameserver that never answers: curl (glibc) gives up after resolv.conf's timeout ×
/// attempts and exits 6; the ship's curl used to wait 6 s here (its own 2 retries of A, then
/// AAAA) and two minutes with Kubernetes' search list. A ship counts it as `error`, never as
/// the `dropped` of a policy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswering_nameserver_fails_like_curl_not_like_a_drop() {
    let (dns_port, asked) = util::silent_dns().await;
    let port = dns_port.to_string();
    let dir = tempfile::tempdir().unwrap();
    let hosts = write(dir.path(), "hosts", "");
    let quick = write(
        dir.path(),
        "quick.conf",
        "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n",
    );
    let env = |conf: &str| {
        vec![
            ("FROTA_RESOLV_CONF", conf.to_string()),
            ("FROTA_HOSTS", hosts.clone()),
            ("FROTA_DNS_PORT", port.clone()),
        ]
    };
    let run = |args: Vec<&'static str>, env: Vec<(&'static str, String)>| async move {
        let mut c = Command::new(BIN);
        c.args(args).env_clear().envs(env);
        output(c).await
    };

    let o = run(vec!["curl", "-sS", "http://nope/"], env(&quick)).await;
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (6, "curl: (6) Could not resolve host: nope\n")
    );
    // Debian's curl takes 1 s here (timeout:1 × attempts:1); the fault took 6 s.
    assert!(o.elapsed < Duration::from_millis(2500), "{:?}", o.elapsed);
    assert!(
        asked.lock().unwrap().iter().any(|n| n == "nope."),
        "the nameserver was never asked: {:?}",
        asked.lock().unwrap()
    );

    // glibc's search order: the search list stops at the first name nobody answered for, then
    // the name as given; never the other search domains.
    asked.lock().unwrap().clear();
    let searching = write(
        dir.path(),
        "search.conf",
        "search a.local b.local c.local\nnameserver 127.0.0.1\noptions ndots:5 timeout:1 attempts:1\n",
    );
    let o = run(vec!["curl", "-sS", "http://nope/"], env(&searching)).await;
    assert_eq!(o.code, 6, "{}", o.stderr);
    let mut names = asked.lock().unwrap().clone();
    names.dedup();
    assert_eq!(names, ["nope.a.local.", "nope."]);

    // -m ends the wait with curl's 28.
    let o = run(
        vec!["curl", "-sS", "-m", "0.5", "http://nope/"],
        env(&searching),
    )
    .await;
    assert_eq!(o.code, 28, "{}", o.stderr);
    assert_eq!(
        normalized(&o.stderr),
        "curl: (28) Resolving timed out after N milliseconds\n"
    );

    // The ship: an unanswered name is `error` (dns), exit 9, whether the resolver gives up...
    let o = run(
        vec!["land", "--timeout", "10s", "--target", "http://nope"],
        env(&quick),
    )
    .await;
    assert_eq!(o.code, 9, "{}", o.stderr);
    assert!(o.stderr.contains("error (dns)"), "{}", o.stderr);
    // ...or --timeout ends first (resolv.conf's defaults: 10 s): not `dropped` (exit 4).
    let defaults = write(dir.path(), "defaults.conf", "nameserver 127.0.0.1\n");
    let o = run(
        vec!["land", "--timeout", "300ms", "--target", "http://nope"],
        env(&defaults),
    )
    .await;
    assert_eq!(o.code, 9, "{}", o.stderr);
    assert!(o.stderr.contains("error (dns)"), "{}", o.stderr);
}

/// The peak resident memory of a running process, from /proc (VmHWM, in bytes).
fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// `-d @/dev/zero -m 2` used to read the endless file into memory first (3.5 GB in 5 s) and
/// never stop; now the body streams and `-m` ends the whole transfer, upload included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_data_file_is_streamed_and_max_time_stops_it() {
    const LIMIT_RSS: u64 = 50 * 1024 * 1024;
    const LIMIT_TIME: Duration = Duration::from_secs(3);
    let (sink, got) = util::sink().await;
    for data in ["-d", "--data-binary"] {
        got.store(0, Ordering::Relaxed);
        let url = format!("http://{sink}/v1/request-landing");
        let mut child = Command::new(BIN)
            .args(["curl", "-sS", "-m", "2", data, "@/dev/zero", &url])
            .env_clear()
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let pid = child.id().unwrap();
        let start = Instant::now();
        let mut peak = 0;
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            peak = peak.max(peak_rss(pid).unwrap_or(0));
            // Stop the fault before it takes the machine down.
            if peak > LIMIT_RSS || start.elapsed() > LIMIT_TIME {
                child.start_kill().unwrap();
                let _ = child.wait().await;
                panic!(
                    "{data} @/dev/zero -m 2: {} MB after {:?}",
                    peak >> 20,
                    start.elapsed()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let elapsed = start.elapsed();
        let mut stderr = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr)
            .await
            .unwrap();
        assert_eq!(status.code(), Some(28), "{stderr}");
        assert_eq!(
            normalized(&stderr),
            "curl: (28) Operation timed out after N milliseconds with 0 bytes received\n"
        );
        assert!(elapsed < LIMIT_TIME, "{elapsed:?}");
        assert!(peak < LIMIT_RSS, "{} MB", peak >> 20);
        // It did send: megabytes of zeros went out while -m ran.
        let sent = got.load(Ordering::Relaxed);
        assert!(sent > 1 << 20, "only {sent} bytes reached the server");
    }
}

/// Small `-d @file` bodies are still read whole and sent with a Content-Length, like curl's;
/// a file that cannot be read is curl's warning and an empty POST (not an exit).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_data_files_keep_curls_content_length_and_warning() {
    let (server, seen) = servers::canned(consts::LANDED_200).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "body", "a=1\r\nb=2\n");
    let url = format!("http://{server}/v1/request-landing");
    let args = ["-s", "-d", &format!("@{file}"), "-d", "c=3", &url];
    let o = ours(&args, &[]).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let tail = |r: &[u8]| {
        let r = String::from_utf8_lossy(r).into_owned();
        r[r.find("\r\nContent-Length").unwrap()..].to_string()
    };
    let req = tail(&seen.lock().unwrap()[0]);
    assert_eq!(
        req,
        "\r\nContent-Length: 10\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\na=1b=2&c=3"
    );
    if real(&args, false).await.is_some() {
        assert_eq!(tail(&seen.lock().unwrap()[1]), req, "Debian curl's request");
    }
    let missing = dir.path().join("missing");
    let missing = missing.to_str().unwrap();
    let args = ["-d", &format!("@{missing}"), "-o", "/dev/null", &url];
    let o = ours(&args, &[]).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let warning = format!("Couldn't read data from file \"{missing}\", this makes an empty POST.");
    // Wrapped within 79 columns, each line `Warning: `.
    assert!(
        o.stderr
            .lines()
            .all(|l| l.starts_with("Warning: ") && l.len() <= 79)
    );
    let text: Vec<&str> = o.stderr.lines().map(|l| &l["Warning: ".len()..]).collect();
    assert_eq!(text.concat(), warning, "{}", o.stderr);
    if let Some(r) = real(&args, false).await {
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(
            r.stderr.starts_with(&o.stderr),
            "{}\nvs ours\n{}",
            r.stderr,
            o.stderr
        );
    }
    let o = ours(&["-s", "-d", &format!("@{missing}"), &url], &[]).await;
    assert_eq!((o.code, o.stderr.as_str()), (0, ""));
}

/// `curl --help` lists what the front end supports, in curl's words and layout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_lists_the_supported_options_like_curl() {
    let o = ours(&["--help"], &[]).await;
    assert_eq!((o.code, o.stderr.as_str()), (0, ""));
    let help = String::from_utf8(o.stdout).unwrap();
    assert!(
        help.starts_with("Usage: curl [options...] <url>\n"),
        "{help}"
    );
    for flag in [
        "-d, --data <data>",
        "--data-binary",
        "--data-raw",
        "-H, --header",
        "-X, --request <method>",
        "-m, --max-time",
        "--connect-timeout",
        "-w, --write-out",
        "-x, --proxy",
        "--noproxy",
        "-s, --silent",
        "-S, --show-error",
        "-v, --verbose",
    ] {
        assert!(help.contains(flag), "{flag} missing from\n{help}");
    }
    assert!(help.contains("28 timeout"), "{help}");
    // -h with a category and a URL after it: still only the help.
    let o = ours(&["-h", "all", "http://127.0.0.1:1/"], &[]).await;
    assert_eq!(o.code, 0);
    assert_eq!(String::from_utf8(o.stdout).unwrap(), help);
    let o = ours(&["-V"], &[]).await;
    assert_eq!(o.code, 0);
    assert!(String::from_utf8_lossy(&o.stdout).contains("Protocols: http\n"));
    // Every option line but -H (ours takes no @file) is Debian curl's own line.
    if let Some(r) = real(&["--help", "all"], false).await {
        let theirs = String::from_utf8_lossy(&r.stdout).into_owned();
        let lines = help.lines().skip(1).take_while(|l| !l.is_empty());
        for line in lines.filter(|l| !l.contains("--header")) {
            assert!(
                theirs.lines().any(|t| t == line),
                "not in curl --help all: {line:?}"
            );
        }
    }
}
