//! `galaxia exec POD -- curl ...` on the userspace datapath fails as curl fails in a pod: the
//! exit code and the `curl: (N) ...` line of Debian's curl (nothing with `-s`, the line with
//! `-sS`), through a real galaxy. A name no Service has is curl's 6 (Debian's curl is asked the
//! same name in a network namespace of its own, where glibc's query cannot leave), a closed port
//! 7, a policy's 403 under `-f` 22, a bad option 2, a bad URL 3, an L3/L4 drop 28; and curl sees
//! no proxy: origin-form requests, the ClusterIP as the remote address.
#![allow(clippy::unwrap_used)]

mod galaxy_util;

use std::process::{Command, Output};

use galaxy_util::{Galaxy, SVC, describe};

/// What a curl printed and returned.
#[derive(Debug, PartialEq, Eq)]
struct Said {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn said(out: &Output) -> Said {
    Said {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: normalized(&String::from_utf8_lossy(&out.stderr)),
    }
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

/// Debian's curl with an empty environment; `isolated`: in a new network namespace (a loopback
/// that is down), so that a name it resolves reaches no nameserver. `None` (said as a skip)
/// without it.
fn debian_curl(args: &[&str], isolated: bool) -> Option<Said> {
    let version = Command::new("/usr/bin/curl").arg("--version").output();
    if !version.is_ok_and(|v| v.stdout.starts_with(b"curl ")) {
        testkit::skip::skip(
            "exec_curl: comparison with Debian's curl",
            "/usr/bin/curl is not Debian's curl (apt-get install -y curl)",
        );
        return None;
    }
    let mut c = if isolated {
        if !Command::new("unshare")
            .args(["-n", "true"])
            .status()
            .is_ok_and(|s| s.success())
        {
            testkit::skip::skip(
                "exec_curl: Debian's curl on an unresolvable name",
                "`unshare -n` is not allowed here (needs root)",
            );
            return None;
        }
        let mut c = Command::new("unshare");
        c.args(["-n", "/usr/bin/curl"]);
        c
    } else {
        Command::new("/usr/bin/curl")
    };
    Some(said(&c.args(args).env_clear().output().unwrap()))
}

/// `galaxia exec POD -- curl ARGS`.
fn exec(g: &Galaxy, pod: &str, args: &[&str]) -> Output {
    let mut v = vec!["exec", pod, "--", "curl"];
    v.extend(args);
    g.run(&v)
}

/// Our curl through the galaxy, held to `expected` (and to Debian's curl when it is given).
fn check(g: &Galaxy, pod: &str, args: &[&str], expected: &Said, debian: Option<Said>) {
    let out = exec(g, pod, args);
    assert_eq!(&said(&out), expected, "{}", describe(args, &out));
    if let Some(d) = debian {
        assert_eq!(&d, expected, "Debian's curl {args:?}");
    }
}

fn failed(code: i32, line: &str) -> Said {
    Said {
        code: Some(code),
        stdout: String::new(),
        stderr: line.to_string(),
    }
}

#[test]
fn curl_in_a_pod_fails_as_debian_curl_does() {
    let g = Galaxy::up(&["k8s/starwars.yml"], &["--no-patrol"]);

    // A name no Service has: 6, silent with -s.
    let url = "http://no-such-ship/v1/request-landing";
    for (mode, line) in [
        ("-s", ""),
        ("-sS", "curl: (6) Could not resolve host: no-such-ship\n"),
    ] {
        let args = [mode, "-XPOST", url];
        check(
            &g,
            "caca-tie",
            &args,
            &failed(6, line),
            debian_curl(&args, true),
        );
    }
    // A pod's name does not resolve in a cluster either.
    check(
        &g,
        "asa-x",
        &["-sS", "http://caca-tie/"],
        &failed(6, "curl: (6) Could not resolve host: caca-tie\n"),
        None,
    );

    // A closed port on the pod's loopback: 7, with the time it took.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let url = format!("http://127.0.0.1:{port}/");
    let line = format!(
        "curl: (7) Failed to connect to 127.0.0.1 port {port} after N ms: Couldn't connect to server\n"
    );
    for (mode, line) in [("-s", ""), ("-sS", line.as_str())] {
        let args = [mode, url.as_str()];
        check(
            &g,
            "caca-tie",
            &args,
            &failed(7, line),
            debian_curl(&args, false),
        );
    }

    // A command-line mistake: 2, whatever -s says.
    let args = ["-s", "--xyz", SVC];
    check(
        &g,
        "caca-tie",
        &args,
        &failed(
            2,
            "curl: option --xyz: is unknown\ncurl: try 'curl --help' or 'curl --manual' for more information\n",
        ),
        debian_curl(&args, false),
    );
    // A port no URL can have: 3.
    let args = ["-sS", "http://estrela-da-morte:99999/"];
    check(
        &g,
        "caca-tie",
        &args,
        &failed(3, "curl: (3) URL using bad/illegal format or missing URL\n"),
        debian_curl(&args, false),
    );

    // The L7 policy's 403 under -f: 22 and no body.
    g.ok(&["apply", "-f", "k8s/politica_l7.yml"]);
    let exhaust = format!("{SVC}/v1/exhaust-port");
    check(
        &g,
        "caca-tie",
        &["-sSf", "-XPUT", &exhaust],
        &failed(22, "curl: (22) The requested URL returned error: 403\n"),
        None,
    );
    let out = exec(&g, "caca-tie", &["-s", "-XPUT", &exhaust]);
    assert_eq!(
        said(&out),
        Said {
            code: Some(0),
            stdout: "Access denied\r\n".into(),
            stderr: String::new()
        }
    );

    // The L4 policy drops the X-wing's SYN in a cluster: curl's connect phase ends at -m or
    // at --connect-timeout, each with its own words (the book's `-m 2` shows only the 28).
    g.ok(&["apply", "-f", "k8s/politica_l4.yml"]);
    let land = format!("{SVC}/v1/request-landing");
    check(
        &g,
        "asa-x",
        &["-sS", "-m", "1", "-XPOST", &land],
        &failed(28, "curl: (28) Connection timed out after N milliseconds\n"),
        None,
    );
    check(
        &g,
        "asa-x",
        &["-sS", "--connect-timeout", "1", "-XPOST", &land],
        &failed(
            28,
            &format!(
                "curl: (28) Failed to connect to {SVC} port 80 after N ms: Timeout was reached\n"
            ),
        ),
        None,
    );
    check(
        &g,
        "asa-x",
        &["-s", "-m", "1", "-XPOST", &land],
        &failed(28, ""),
        None,
    );
    // The TIE fighter still lands.
    let out = exec(&g, "caca-tie", &["-s", "-m", "1", "-XPOST", &land]);
    assert_eq!(
        out.stdout,
        b"Ship landed\n",
        "{}",
        describe(&["land"], &out)
    );
    g.stop();
}

#[test]
fn curl_in_a_pod_sees_no_proxy() {
    let g = Galaxy::up(&["k8s/starwars.yml"], &["--no-patrol"]);
    let svc: serde_json::Value =
        serde_json::from_str(&g.ok(&["get", "svc", "estrela-da-morte", "-o", "json"])).unwrap();
    let cluster_ip = svc["spec"]["clusterIP"].as_str().unwrap().to_string();
    // The search list of the pod's namespace, as a pod's resolv.conf has it.
    for host in [
        "estrela-da-morte",
        "estrela-da-morte.default",
        "estrela-da-morte.default.svc",
        SVC,
    ] {
        let url = format!("http://{host}/v1/request-landing");
        let args = ["-s", "-XPOST", "-w", " %{remote_ip}:%{remote_port}", &url];
        let out = exec(&g, "caca-tie", &args);
        assert_eq!(
            said(&out),
            Said {
                code: Some(0),
                stdout: format!("Ship landed\n {cluster_ip}:80"),
                stderr: String::new()
            },
            "{}",
            describe(&args, &out)
        );
    }
    // -v: the request as sent to the Service itself, not to a proxy.
    let url = format!("{SVC}/v1/request-landing");
    let out = exec(&g, "caca-tie", &["-sv", "-XPOST", &url]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(&format!(
            "*   Trying {cluster_ip}:80...\n* Connected to {SVC} ({cluster_ip}) port 80 (#0)\n"
        )),
        "{err}"
    );
    assert!(
        err.contains("> POST /v1/request-landing HTTP/1.1\r\n"),
        "{err}"
    );
    assert!(!err.contains("Proxy-Connection"), "{err}");
    g.stop();
}
