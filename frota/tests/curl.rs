//! The curl front end against Debian's curl: both run the same arguments against the same local
//! server, and must agree on stdout bytes and exit status (and, for `-v`, on the `> `/`< ` lines).
//! Without `/usr/bin/curl`-like `curl` on PATH the comparisons are skipped with a message, and the
//! front end is still checked against the expected bytes.
#![allow(clippy::unwrap_used)]

use std::ffi::OsString;

use testkit::{consts, servers};

/// What a curl run produced.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

async fn ours(args: &[&str], env: &[(&str, &str)]) -> Run {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let lookup = move |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let mut out = Vec::new();
    let mut err = Vec::new();
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    let code = frota::curl::run(args, &lookup, &mut out, &mut err).await;
    Run {
        code,
        stdout: out,
        stderr: String::from_utf8_lossy(&err).into_owned(),
    }
}

/// Real curl with only `env` in its environment (no stray proxy settings from the host).
async fn real(args: &[&str], env: &[(&str, &str)]) -> Option<Run> {
    let mut cmd = tokio::process::Command::new("curl");
    cmd.args(args).env_clear().envs(env.iter().copied());
    match cmd.output().await {
        Ok(o) => Some(Run {
            code: o.status.code().unwrap_or(-1),
            stdout: o.stdout,
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }),
        Err(e) => {
            testkit::skip::skip(
                "frota curl: comparison with real curl",
                &format!("cannot run it ({e}): apt-get install -y curl"),
            );
            None
        }
    }
}

/// Run both and require the same exit code and stdout; returns ours.
async fn same(args: &[&str], env: &[(&str, &str)]) -> Run {
    let o = ours(args, env).await;
    if let Some(r) = real(args, env).await {
        assert_eq!(
            (o.code, String::from_utf8_lossy(&o.stdout)),
            (r.code, String::from_utf8_lossy(&r.stdout)),
            "curl {args:?}\nours stderr: {}\nreal stderr: {}",
            o.stderr,
            r.stderr
        );
    }
    o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tutorial_commands_match_curl() {
    let mut ds = servers::death_star().await;
    let host = ds.addr.to_string();

    // The book's landing, without a scheme and with the attached -XPOST.
    let r = same(
        &["-s", "-XPOST", &format!("{host}/v1/request-landing")],
        &[],
    )
    .await;
    assert_eq!((r.code, &r.stdout[..]), (0, &b"Ship landed\n"[..]));
    let r = same(
        &[
            "-s",
            "--request",
            "POST",
            &format!("http://{host}/v1/request-landing"),
        ],
        &[],
    )
    .await;
    assert_eq!(r.code, 0);
    // The exhaust port, explosions off in the server: a 503 with the panic text.
    let r = same(
        &["-s", "-X", "PUT", &format!("{host}/v1/exhaust-port")],
        &[],
    )
    .await;
    assert!(r.stdout.starts_with(b"Panic: deathstar exploded\n"));
    // GET /v1 and the status code only.
    let r = same(&["-sS", &format!("http://{host}/v1")], &[]).await;
    assert!(r.stdout.ends_with(b"}\n"));
    let r = same(
        &[
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &format!("{host}/v1"),
        ],
        &[],
    )
    .await;
    assert_eq!(r.stdout, b"200");
    let r = same(
        &[
            "-s",
            "-w",
            "%{http_code}\\n",
            "-XPOST",
            &format!("{host}/v1/request-landing"),
        ],
        &[],
    )
    .await;
    assert_eq!(r.stdout, b"Ship landed\n200\n");
    // An unknown path: the JSON error, and -f turns it into exit 22 without a body.
    same(&["-s", &format!("{host}/nope?x=1")], &[]).await;
    let r = same(&["-sf", &format!("{host}/nope")], &[]).await;
    assert_eq!(r.code, 22);
    // -d sends a form body: the Death Star rejects that Content-Type with 415.
    same(
        &["-s", "-d", "a=b", &format!("{host}/v1/request-landing")],
        &[],
    )
    .await;
    same(
        &[
            "-s",
            "--data-raw",
            "{}",
            "-H",
            "Content-Type: application/json",
            &format!("{host}/v1/request-landing"),
        ],
        &[],
    )
    .await;
    ds.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denial_headers_and_output_options_match_curl() {
    let (envoy, _) = servers::canned(consts::ENVOY_403).await;
    let url = format!("http://{envoy}/v1/exhaust-port");
    let r = same(&["-s", "-XPUT", &url], &[]).await;
    assert_eq!(r.stdout, b"Access denied\r\n");
    let r = same(&["-s", "-f", "-XPUT", &url], &[]).await;
    assert_eq!((r.code, r.stdout.len()), (22, 0));
    let r = same(&["-sS", "-f", "-w", "%{http_code}", "-XPUT", &url], &[]).await;
    assert_eq!(r.stdout, b"403");
    assert!(r.stderr.contains("(22)"), "{}", r.stderr);
    let r = same(&["-s", "-i", "-XPUT", &url], &[]).await;
    assert!(
        r.stdout
            .starts_with(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 15\r\n")
    );
    let (landed, _) = servers::canned(consts::LANDED_200).await;
    let r = same(&["-s", "-I", &format!("{landed}/v1/request-landing")], &[]).await;
    assert!(r.stdout.ends_with(b"\r\n\r\n"));
    same(
        &["-s", "--include", "--max-time", "5", &format!("{landed}/")],
        &[],
    )
    .await;

    // -o writes the same file.
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("ours");
    let b = dir.path().join("real");
    let o = ours(&["-s", "-o", a.to_str().unwrap(), &url], &[]).await;
    assert_eq!(o.code, 0);
    assert_eq!(std::fs::read(&a).unwrap(), b"Access denied\r\n");
    if real(&["-s", "-o", b.to_str().unwrap(), &url], &[])
        .await
        .is_some()
    {
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_on_the_wire_match_curl() {
    let (server, seen) = servers::canned(consts::LANDED_200).await;
    let args = [
        "-s",
        "-d",
        "a=b",
        "-H",
        "X-Ship: x-wing",
        "-H",
        "Accept:",
        "-H",
        "Host: estrela-da-morte",
        &format!("{server}/v1/request-landing?x=1"),
    ];
    same(&args, &[]).await;
    let got = seen.lock().unwrap().clone();
    let strip_ua = |r: &Vec<u8>| {
        String::from_utf8_lossy(r)
            .split("\r\n")
            .filter(|l| !l.starts_with("User-Agent:"))
            .collect::<Vec<_>>()
            .join("\r\n")
    };
    assert_eq!(
        strip_ua(&got[0]),
        "POST /v1/request-landing?x=1 HTTP/1.1\r\nHost: estrela-da-morte\r\nX-Ship: x-wing\r\nContent-Length: 3\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\na=b"
    );
    if got.len() > 1 {
        assert_eq!(strip_ua(&got[0]), strip_ua(&got[1]), "ours vs real curl");
    }

    // -v: the same `> ` and `< ` lines on stderr (User-Agent aside).
    let verbose = |s: &str| {
        s.split_inclusive('\n')
            .filter(|l| {
                (l.starts_with("> ") || l.starts_with("< ")) && !l.starts_with("> User-Agent")
            })
            .collect::<String>()
    };
    let args = ["-s", "-v", &format!("http://{server}/v1")];
    let o = same(&args, &[]).await;
    assert!(
        verbose(&o.stderr).starts_with("> GET /v1 HTTP/1.1\r\n"),
        "{}",
        o.stderr
    );
    if let Some(r) = real(&args, &[]).await {
        assert_eq!(verbose(&o.stderr), verbose(&r.stderr));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxies_match_curl() {
    let (proxy, seen) = servers::canned(consts::LANDED_200).await;
    let service = "http://estrela-da-morte.default.svc.cluster.local/v1/request-landing";
    let p = proxy.to_string();
    // Names are never resolved through a proxy: nothing leaves loopback.
    let r = same(&["-s", "-XPOST", service], &[("http_proxy", &p)]).await;
    assert_eq!(r.stdout, b"Ship landed\n");
    let r = same(
        &["-s", "-XPOST", "-x", &format!("http://{p}"), service],
        &[],
    )
    .await;
    assert_eq!(r.stdout, b"Ship landed\n");
    for req in seen.lock().unwrap().iter() {
        let req = String::from_utf8_lossy(req);
        assert!(
            req.starts_with(&format!("POST {service} HTTP/1.1\r\n")),
            "{req}"
        );
        assert!(req.contains("Proxy-Connection: Keep-Alive\r\n"), "{req}");
    }
    // no_proxy bypasses the proxy (here a closed port) for the Death Star's loopback address.
    let mut ds = servers::death_star().await;
    let dead = servers::closed_port().await.to_string();
    let r = same(
        &["-s", "-XPOST", &format!("{}/v1/request-landing", ds.addr)],
        &[("http_proxy", &dead), ("no_proxy", "localhost,127.0.0.1")],
    )
    .await;
    assert_eq!(r.stdout, b"Ship landed\n");
    // ...and without no_proxy the dead proxy is used: connection refused.
    let r = same(
        &["-s", "-XPOST", &format!("{}/v1/request-landing", ds.addr)],
        &[("http_proxy", &dead)],
    )
    .await;
    assert_eq!(r.code, 7);
    ds.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_exit_like_curl() {
    let silent = servers::silent().await.to_string();
    let r = same(
        &["-s", "-m", "1", &format!("{silent}/v1/request-landing")],
        &[],
    )
    .await;
    assert_eq!(r.code, 28);
    let r = same(
        &[
            "-s",
            "--connect-timeout",
            "1",
            "-m",
            "1",
            "-w",
            "%{http_code}",
            &silent,
        ],
        &[],
    )
    .await;
    assert_eq!((r.code, &r.stdout[..]), (28, &b"000"[..]));
    let closed = servers::closed_port().await.to_string();
    let r = same(&["-s", &closed], &[]).await;
    assert_eq!(r.code, 7);
    let r = same(&["-s", &servers::hangs_up().await.to_string()], &[]).await;
    assert_eq!(r.code, 52);
    // Unknown options: exit 2 (the message names the option).
    let r = same(&["--frobnicate", &closed], &[]).await;
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--frobnicate"), "{}", r.stderr);
    let r = ours(&["-L", &closed], &[]).await;
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("-L") && r.stderr.contains("not supported"),
        "{}",
        r.stderr
    );
    let r = same(&["-s"], &[]).await;
    assert_eq!(r.code, 2);
    // A name nobody knows: only ours (real curl would ask the system's DNS).
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("resolv.conf");
    // No nameserver: only the (empty) hosts file can answer, so nothing is sent anywhere.
    std::fs::write(&conf, "search default.svc.cluster.local\noptions ndots:5\n").unwrap();
    let hosts = dir.path().join("hosts");
    std::fs::write(&hosts, "").unwrap();
    let r = ours(
        &["-sS", "http://no-such-ship/"],
        &[
            ("FROTA_RESOLV_CONF", conf.to_str().unwrap()),
            ("FROTA_HOSTS", hosts.to_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(
        r.stderr.contains("Could not resolve host: no-such-ship"),
        "{}",
        r.stderr
    );
}
