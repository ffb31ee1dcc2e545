//! The book's commands against `galaxia up -f k8s/starwars.yml`, through `galaxia exec` (on this
//! datapath always the ships' curl, run as inside the pod; Debian's curl inside the pods is the
//! eBPF datapath's, tests/ebpf_datapath.rs): byte-exact bodies, curl's exit 28 for drops, kubectl's
//! lines for create/apply/delete, and the tables and flows the verbs print.

mod galaxy_util;

use galaxy_util::{Galaxy, SVC, describe};

fn book_commands(builtin: bool) {
    let g = Galaxy::up(&["k8s/starwars.yml"], &["--no-patrol"]);
    let land = format!("{SVC}/v1/request-landing");
    let exhaust = format!("{SVC}/v1/exhaust-port");
    let expect = |args: &[&str], out: &std::process::Output, code: i32, body: &[u8]| {
        assert_eq!(out.status.code(), Some(code), "{}", describe(args, out));
        assert_eq!(out.stdout, body, "{}", describe(args, out));
    };

    // No policy: both ships land, under every name of the Service.
    for pod in ["caca-tie", "asa-x"] {
        let out = g.curl(builtin, pod, &["-s", "-XPOST", &land]);
        expect(&[pod, "land"], &out, 0, b"Ship landed\n");
    }
    for host in [
        "estrela-da-morte",
        "estrela-da-morte.default",
        "estrela-da-morte.default.svc",
    ] {
        let url = format!("http://{host}/v1/request-landing");
        let out = g.curl(builtin, "caca-tie", &["-s", "-XPOST", &url]);
        expect(&["caca-tie", &url], &out, 0, b"Ship landed\n");
    }

    // L3/L4.
    assert_eq!(
        g.ok(&["create", "-f", "k8s/politica_l4.yml"]),
        "ciliumnetworkpolicy.cilium.io/regra1 created\n"
    );
    let again = g.run(&["create", "-f", "k8s/politica_l4.yml"]);
    assert_eq!(
        again.status.code(),
        Some(1),
        "{}",
        describe(&["create again"], &again)
    );
    assert_eq!(
        String::from_utf8_lossy(&again.stderr),
        "Error from server (AlreadyExists): error when creating \"k8s/politica_l4.yml\": ciliumnetworkpolicies.cilium.io \"regra1\" already exists\n"
    );
    let out = g.curl(builtin, "caca-tie", &["-s", "-XPOST", &land]);
    expect(&["caca-tie", "land L4"], &out, 0, b"Ship landed\n");
    let out = g.curl(builtin, "asa-x", &["-s", "-m", "2", "-XPOST", &land]);
    expect(&["asa-x", "land L4"], &out, 28, b"");
    let cnp = g.ok(&["get", "cnp"]);
    assert!(cnp.starts_with("NAME     AGE\nregra1   "), "{cnp}");

    // L7 over L4.
    assert_eq!(
        g.ok(&["apply", "-f", "k8s/politica_l7.yml"]),
        "ciliumnetworkpolicy.cilium.io/regra1 configured\n"
    );
    assert_eq!(
        g.ok(&["apply", "-f", "k8s/politica_l7.yml"]),
        "ciliumnetworkpolicy.cilium.io/regra1 unchanged\n"
    );
    let out = g.curl(builtin, "caca-tie", &["-s", "-XPUT", &exhaust]);
    expect(&["caca-tie", "exhaust L7"], &out, 0, b"Access denied\r\n");
    let out = g.curl(builtin, "caca-tie", &["-s", &format!("{SVC}/v1")]);
    expect(&["caca-tie", "GET /v1 L7"], &out, 0, b"Access denied\r\n");
    let out = g.curl(builtin, "caca-tie", &["-s", "-XPOST", &land]);
    expect(&["caca-tie", "land L7"], &out, 0, b"Ship landed\n");
    let out = g.curl(builtin, "asa-x", &["-s", "-m", "2", "-XPOST", &land]);
    expect(&["asa-x", "land L7"], &out, 28, b"");
    let out = g.curl(builtin, "caca-tie", &["-s", "-i", "-XPUT", &exhaust]);
    let head = String::from_utf8_lossy(&out.stdout).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 403 forbidden\r\n"), "{head}");
    for h in [
        "content-length: 15\r\n",
        "content-type: text/plain\r\n",
        "server: envoy\r\n",
        "date: ",
    ] {
        assert!(head.contains(h), "missing {h:?} in {head}");
    }

    let described = g.ok(&["describe", "cnp", "regra1"]);
    assert!(
        described.starts_with("Name:         regra1\nNamespace:    default\n"),
        "{described}"
    );
    assert!(described.contains("/v1/request-landing"), "{described}");

    let drops = g.ok(&["observe", "--verdict", "DROPPED", "--last", "1000"]);
    assert!(
        drops.contains(&format!(
            "http-request DROPPED (HTTP/1.1 PUT http://{exhaust})"
        )),
        "{drops}"
    );
    assert!(drops.contains("default/asa-x:"), "{drops}");
    assert!(
        drops.contains("Policy denied DROPPED (TCP Flags: SYN)"),
        "{drops}"
    );
    let json = g.ok(&["observe", "--pod", "asa-x", "-o", "json", "--last", "1000"]);
    for line in json.lines() {
        // hubble's --pod is either end: the requests' source, the replies' destination.
        let v: serde_json::Value = serde_json::from_str(line).expect("a flow per line");
        let ends = [
            &v["flow"]["source"]["pod_name"],
            &v["flow"]["destination"]["pod_name"],
        ];
        assert!(ends.contains(&&serde_json::json!("asa-x")), "{line}");
    }

    // Cleanup: delete by name, then by file (nothing left: kubectl's NotFound).
    assert_eq!(
        g.ok(&["delete", "cnp", "regra1"]),
        "ciliumnetworkpolicy.cilium.io \"regra1\" deleted\n"
    );
    let none = g.run(&["get", "cnp"]);
    assert_eq!(String::from_utf8_lossy(&none.stdout), "");
    assert_eq!(
        String::from_utf8_lossy(&none.stderr),
        "No resources found in default namespace.\n"
    );
    let gone = g.run(&["delete", "-f", "k8s/politica_l7.yml"]);
    assert_eq!(gone.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&gone.stderr),
        "Error from server (NotFound): error when deleting \"k8s/politica_l7.yml\": ciliumnetworkpolicies.cilium.io \"regra1\" not found\n"
    );
    let out = g.curl(builtin, "asa-x", &["-s", "-XPOST", &land]);
    expect(&["asa-x", "land after delete"], &out, 0, b"Ship landed\n");
}

#[test]
fn book_commands_with_the_builtin_curl() {
    book_commands(true);
}

#[test]
fn get_and_describe_pods_and_services() {
    let g = Galaxy::up(&["k8s/starwars.yml"], &["--no-patrol"]);
    let pods = g.ok(&["get", "pods"]);
    let mut lines = pods.lines();
    let head = lines.next().unwrap_or_default();
    for col in ["NAME", "READY", "STATUS", "RESTARTS", "AGE"] {
        assert!(head.contains(col), "{pods}");
    }
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 4, "{pods}");
    assert_eq!(
        rows.iter()
            .filter(|r| r.starts_with("estrela-da-morte-"))
            .count(),
        2,
        "{pods}"
    );
    assert!(
        rows.iter()
            .all(|r| r.contains(" 1/1 ") && r.contains(" Running ")),
        "{pods}"
    );
    let svc = g.ok(&["get", "svc"]);
    assert!(
        svc.starts_with("NAME               TYPE        CLUSTER-IP      EXTERNAL-IP   PORT(S)   AGE\nestrela-da-morte   ClusterIP   10."),
        "{svc}"
    );
    let one = g.ok(&["get", "pods", "caca-tie"]);
    assert_eq!(one.lines().count(), 2, "{one}");
    let missing = g.run(&["get", "pods", "nope"]);
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&missing.stderr),
        "Error from server (NotFound): pods \"nope\" not found\n"
    );
    let described = g.ok(&["describe", "pods", "asa-x"]);
    assert!(described.contains("org=alianca"), "{described}");
    let refused = g.run(&["apply", "-f", "k8s/starwars.yml"]);
    assert_eq!(
        refused.status.code(),
        Some(1),
        "{}",
        describe(&["apply starwars"], &refused)
    );
    // As `hubble observe` against a quiet cluster: nothing at all.
    let empty = g.run(&["observe"]);
    assert_eq!(
        empty.status.code(),
        Some(0),
        "{}",
        describe(&["observe"], &empty)
    );
    assert_eq!(String::from_utf8_lossy(&empty.stdout), "");
}

#[test]
fn verbs_without_a_galaxy_say_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("control.json");
    let out = std::process::Command::new(galaxy_util::bin())
        .args(["get", "pods"])
        .env("GALAXIA_CONTROL_FILE", &file)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no galaxy is running") && err.contains("galaxia up"),
        "{err}"
    );
}

#[test]
fn observe_follow_prints_new_flows_as_they_happen() {
    use std::io::BufRead;
    let g = Galaxy::up(&["k8s/starwars.yml"], &["--no-patrol"]);
    let mut child = std::process::Command::new(galaxy_util::bin())
        .args(["observe", "--follow", "--pod", "caca-tie"])
        .env("GALAXIA_CONTROL_FILE", g.control_file())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn observe --follow");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let land = format!("{SVC}/v1/request-landing");
    let mut seen = None;
    let start = std::time::Instant::now();
    while seen.is_none() && start.elapsed() < galaxy_util::MUST_HAPPEN {
        let out = g.curl(true, "caca-tie", &["-s", "-XPOST", &land]);
        assert_eq!(
            out.stdout,
            b"Ship landed\n",
            "{}",
            describe(&["land"], &out)
        );
        // Without an L7 policy Cilium sees the connections only (no http-request flows): wait
        // for the SYN of the new one.
        let until = std::time::Instant::now() + std::time::Duration::from_secs(2);
        while seen.is_none() {
            let left = until.saturating_duration_since(std::time::Instant::now());
            let Ok(line) = rx.recv_timeout(left) else {
                break;
            };
            if line.contains("default/caca-tie:") && line.contains("(TCP Flags: SYN)") {
                seen = Some(line);
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let line = seen.expect("observe --follow printed the new flow");
    assert!(
        line.contains(" -> default/estrela-da-morte-")
            && line.contains(" to-endpoint FORWARDED (TCP Flags: SYN)"),
        "{line}"
    );
}

/// The tutorial's own table of steps (`galaxia::tutorial::steps::STEPS`), run against a real
/// `galaxia up` with the real binary: every galaxia command exactly as the tutorial shows it, and
/// what the step says it must give. The checks that watch the ships' patrols are the tutorial's
/// own; here the ships do not patrol, so only the commands count.
#[test]
fn the_tutorials_table_against_a_real_galaxy() {
    use galaxia::tutorial::runner::expected;
    use galaxia::tutorial::steps::{Action, Expect, Galaxia, STEPS};
    let g = Galaxy::up(&["k8s/starwars.yml"], &["--no-patrol"]);
    let mut ran = 0;
    for step in STEPS {
        for action in step.actions {
            let Action::Run(cmd) = action else { continue };
            let Galaxia::Verb(line) = cmd.galaxia else {
                continue;
            };
            if cmd.expect == Expect::StartsGalaxy {
                assert!(line.starts_with("galaxia up "), "{line}");
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().skip(1).collect();
            let out = g.run(&words);
            let code = out.status.code().unwrap_or(-1);
            assert!(
                expected(cmd.expect, code, &out.stdout),
                "{line}: expected {:?}\n{}",
                cmd.expect,
                describe(&words, &out)
            );
            ran += 1;
            if cmd.expect == Expect::Exploded {
                // The replica explodes; the Service keeps landing on the other one meanwhile.
                galaxy_util::eventually("the exploded replica is back", || {
                    g.pods().iter().all(|p| p["ready"] == true)
                });
            }
        }
    }
    assert!(ran >= 12, "only {ran} commands ran");
}
