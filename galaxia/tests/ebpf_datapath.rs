//! `galaxia up --datapath ebpf`, end to end, as root: the book's commands through `galaxia exec`
//! with Debian's curl inside the pods (byte-exact), politica_l4's drop in the kernel (curl's exit
//! 28 in the connect phase, no SYN in the Death Star's namespace, the drop counter of the policy
//! map, Hubble's `Policy denied DROPPED` flows), a keep-alive connection that stalls once the
//! policy denies it, politica_l7's `Access denied`, the exploding replica, `galaxia bpf`, and the
//! network-safety checks: the host's links, addresses, routes and nftables ruleset are the same
//! before and after a galaxy, and nothing of a galaxy killed with `kill -9` survives the next start
//! or `galaxia cleanup`.
//!
//! Where not root, or where the kernel refuses the programs, the tests say so and pass; with
//! `REQUIRE_ALL=1` (CI) they fail instead.

mod galaxy_util;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use galaxy_util::{Galaxy, PANIC, SVC, bin, describe, eventually, repo_root};

/// One eBPF galaxy at a time: the safety checks compare the whole machine before and after.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Why this machine cannot run the eBPF datapath, if it cannot.
fn unavailable() -> Option<String> {
    if let Err(e) = galaxia::ebpf::preflight() {
        return Some(e.to_string());
    }
    // The kernel's verdict: load every program (the verifier runs) and drop them again.
    if let Err(e) = galaxia::ebpf::loader::Loaded::load() {
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            text.push_str(&format!(": {s}"));
            source = s.source();
        }
        return Some(format!(
            "the kernel refused galaxia's eBPF programs: {text}"
        ));
    }
    for tool in ["curl", "ip", "nft"] {
        if !have(tool) {
            return Some(format!(
                "{tool} is not installed (apt-get install -y curl iproute2 nftables)"
            ));
        }
    }
    None
}

/// True when the test may go on; otherwise it says why it is skipped (or fails, under
/// `REQUIRE_ALL=1`).
fn runnable(test: &str) -> bool {
    match unavailable() {
        None => true,
        Some(why) => {
            testkit::skip::skip(test, &format!("the eBPF datapath cannot run here: {why}"));
            false
        }
    }
}

/// A tool the test needs beyond the datapath's own: skipped without it, failed under REQUIRE_ALL.
fn optional_tool(tool: &str, package: &str) -> bool {
    if have(tool) {
        return true;
    }
    testkit::skip::skip(
        &format!("ebpf_datapath: the part that uses {tool}"),
        &format!("{tool} is not installed (apt-get install -y {package})"),
    );
    false
}

/// The host namespace's network, as the safety rule names it.
fn host_network() -> String {
    let mut out = String::new();
    for args in [
        &["ip", "-o", "link"][..],
        &["ip", "-o", "addr"],
        &["ip", "route", "show", "table", "all"],
        &["nft", "list", "ruleset"],
    ] {
        let o = Command::new(args[0])
            .args(&args[1..])
            .output()
            .expect("run a network listing");
        out.push_str(&format!("$ {}\n", args.join(" ")));
        out.push_str(&String::from_utf8_lossy(&o.stdout));
        out.push_str(&String::from_utf8_lossy(&o.stderr));
    }
    out
}

/// Everything of galaxy `tag` (`galaxia-<pid>-<n>`) still on the machine.
fn leftovers(tag: &str) -> Vec<String> {
    let mut found = Vec::new();
    let prefix = format!("{tag}-");
    if let Ok(dir) = std::fs::read_dir("/run/netns") {
        for e in dir.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.starts_with(&prefix) {
                found.push(format!("netns {n}"));
            }
        }
    }
    if Path::new("/run").join(tag).exists() {
        found.push(format!("/run/{tag}"));
    }
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    for l in mountinfo.lines().filter(|l| l.contains(tag)) {
        found.push(format!("mount {l}"));
    }
    for root in ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"] {
        if Path::new(root).join(tag).exists() {
            found.push(format!("cgroup {root}/{tag}"));
        }
    }
    found
}

/// The programs named `galaxia_*` loaded in the kernel (bpftool, when installed).
fn galaxia_programs() -> Vec<String> {
    let Ok(o) = Command::new("bpftool").args(["prog", "show"]).output() else {
        return Vec::new();
    };
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| l.contains("name galaxia_"))
        .map(str::to_string)
        .collect()
}

/// `galaxia up --datapath ebpf` with the book's manifests and no patrol.
fn up() -> Galaxy {
    Galaxy::up(
        &["k8s/starwars.yml"],
        &["--no-patrol", "--datapath", "ebpf"],
    )
}

/// `galaxia-<pid>-0`: the tag of that process's (first) galaxy.
fn tag(g: &Galaxy) -> String {
    format!("galaxia-{}-0", g.pid())
}

/// `galaxia exec POD -- curl ARGS` with Debian's curl.
fn curl(g: &Galaxy, pod: &str, args: &[&str]) -> Output {
    g.curl(false, pod, args)
}

fn death_stars(g: &Galaxy) -> Vec<(String, String)> {
    g.pods()
        .iter()
        .filter(|p| {
            p["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("estrela-da-morte-"))
        })
        .map(|p| {
            (
                p["name"].as_str().unwrap_or_default().to_string(),
                p["ip"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn pod_ip(g: &Galaxy, name: &str) -> String {
    g.pods()
        .iter()
        .find(|p| p["name"] == name)
        .and_then(|p| p["ip"].as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("no pod {name}"))
}

#[test]
fn refuses_without_root_saying_what_to_do() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = if nix::unistd::geteuid().is_root() {
        if !have("setpriv") {
            testkit::skip::skip(
                "ebpf_datapath: refusal as nobody",
                "setpriv (util-linux) is needed to run galaxia as nobody",
            );
            return;
        }
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", bin()]);
        c
    } else {
        Command::new(bin())
    };
    // nobody may not write the temp dir: the refusal must come before any file is written.
    let out = cmd
        .current_dir(repo_root())
        .args(["up", "-f", "k8s/starwars.yml", "--datapath", "ebpf"])
        .args(["--hubble-port", "0", "--ui-port", "0"])
        .arg("--control-file")
        .arg(dir.path().join("control.json"))
        .env_remove("GALAXIA_CONTROL_FILE")
        .stdin(Stdio::null())
        .output()
        .expect("run galaxia up");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "{}",
        describe(&["up --datapath ebpf"], &out)
    );
    assert!(
        stderr.contains("--datapath ebpf needs root") && stderr.contains("--datapath userspace"),
        "{}",
        describe(&["up --datapath ebpf"], &out)
    );
}

#[test]
fn the_book_on_the_ebpf_datapath() {
    if !runnable("the_book_on_the_ebpf_datapath") {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let before = host_network();
    let g = up();
    let tag = tag(&g);
    assert!(
        !leftovers(&tag).is_empty(),
        "the galaxy's namespaces exist while it runs"
    );
    let land = format!("{SVC}/v1/request-landing");
    let exhaust = format!("{SVC}/v1/exhaust-port");
    let expect = |what: &str, out: &Output, code: i32, body: &[u8]| {
        assert_eq!(
            out.status.code(),
            Some(code),
            "{what}\n{}\n{}",
            describe(&[what], out),
            g.log()
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(body),
            "{what}\n{}",
            describe(&[what], out)
        );
    };

    // Inside a pod: its eth0 and the pod subnet, Kubernetes' resolv.conf, no default route.
    let asa_x_ip = pod_ip(&g, "asa-x");
    let addr = g.ok(&[
        "exec", "asa-x", "--", "ip", "-o", "-4", "addr", "show", "dev", "eth0",
    ]);
    assert!(addr.contains(&format!("inet {asa_x_ip}/32")), "{addr}");
    assert_eq!(
        g.ok(&["exec", "asa-x", "--", "ip", "route", "show", "default"]),
        ""
    );
    assert_eq!(
        g.ok(&["exec", "asa-x", "--", "cat", "/etc/resolv.conf"]),
        "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"
    );
    // No namespace of the galaxy has a default route, in any table.
    let namespaces: Vec<String> = leftovers(&tag)
        .iter()
        .filter_map(|l| l.strip_prefix("netns ").map(str::to_string))
        .collect();
    assert!(namespaces.len() >= 4 + 1 + 4, "{namespaces:?}");
    for ns in &namespaces {
        let o = Command::new("ip")
            .args(["-n", ns, "route", "show", "table", "all"])
            .output()
            .expect("ip route");
        let routes = String::from_utf8_lossy(&o.stdout);
        assert!(
            !routes.lines().any(|l| l.starts_with("default")),
            "{ns} has a default route:\n{routes}"
        );
    }
    // Cluster DNS answers cluster names only: nothing is forwarded (curl's 6, no such host).
    let out = curl(&g, "caca-tie", &["-s", "-m", "5", "http://example.com/"]);
    expect("example.com does not resolve", &out, 6, b"");

    // No policy: both ships land, under every name of the Service.
    for pod in ["caca-tie", "asa-x"] {
        let out = curl(&g, pod, &["-s", "-XPOST", &land]);
        expect(&format!("{pod} lands"), &out, 0, b"Ship landed\n");
    }
    // The ships' own curl front end, run inside the pod the same way.
    let out = g.run(&[
        "exec",
        "--builtin-curl",
        "asa-x",
        "--",
        "curl",
        "-s",
        "-XPOST",
        &land,
    ]);
    expect("the built-in curl lands", &out, 0, b"Ship landed\n");
    for host in [
        "estrela-da-morte",
        "estrela-da-morte.default",
        "estrela-da-morte.default.svc",
    ] {
        let url = format!("http://{host}/v1/request-landing");
        let out = curl(&g, "caca-tie", &["-s", "-XPOST", &url]);
        expect(&url, &out, 0, b"Ship landed\n");
    }

    // An X-wing's keep-alive connection, opened before the policy: its next request stalls.
    let go = g.dir.path().join("policy-applied");
    let ready = g.dir.path().join("first-answered");
    let script = format!(
        r#"exec 3<>/dev/tcp/{SVC}/80
req='POST /v1/request-landing HTTP/1.1\r\nHost: {SVC}\r\nContent-Length: 0\r\n\r\n'
printf "$req" >&3
while read -t 1 -r l <&3; do echo "first: $l"; done
: > {ready}
while [ ! -e {go} ]; do sleep 0.05; done
printf "$req" >&3
if read -t 3 -r l <&3; then echo "second: $l"; else echo "second: stalled"; fi"#,
        go = go.display(),
        ready = ready.display()
    );
    let keepalive = g
        .command(&["exec", "asa-x", "--", "bash", "-c", &script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the keep-alive client");
    eventually("the keep-alive client's first answer", || ready.exists());

    // L3/L4.
    assert_eq!(
        g.ok(&["create", "-f", "k8s/politica_l4.yml"]),
        "ciliumnetworkpolicy.cilium.io/regra1 created\n"
    );
    // The maps follow within a few milliseconds.
    std::thread::sleep(Duration::from_millis(200));
    std::fs::write(&go, b"").expect("signal the keep-alive client");
    let out = keepalive.wait_with_output().expect("keep-alive client");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("first: HTTP/1.1 200 OK"), "{text}");
    assert!(text.contains("first: Ship landed"), "{text}");
    assert!(
        text.ends_with("second: stalled\n"),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = curl(&g, "caca-tie", &["-s", "-XPOST", &land]);
    expect("caca-tie lands under L4", &out, 0, b"Ship landed\n");

    // The X-wing's SYNs vanish: curl gives up in the connect phase, and neither Death Star
    // replica's namespace sees one of them.
    let tcpdump = optional_tool("tcpdump", "tcpdump");
    let captures: Vec<Child> = if tcpdump {
        death_stars(&g)
            .iter()
            .map(|(name, _)| {
                let filter = format!("tcp and src host {asa_x_ip}");
                g.command(&[
                    "exec", name, "--", "timeout", "5", "tcpdump", "-i", "eth0", "-n", "-l", "-p",
                    &filter,
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn tcpdump")
            })
            .collect()
    } else {
        Vec::new()
    };
    std::thread::sleep(Duration::from_millis(1500));
    let start = Instant::now();
    let out = curl(
        &g,
        "asa-x",
        &["-s", "--connect-timeout", "2", "-XPOST", &land],
    );
    let took = start.elapsed();
    expect("asa-x is dropped under L4", &out, 28, b"");
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(4),
        "curl --connect-timeout 2 took {took:?}"
    );
    for c in captures {
        let out = c.wait_with_output().expect("tcpdump");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "",
            "a packet of asa-x reached a Death Star: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("0 packets captured"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The drop counters of the policy map: the denied SYNs, retransmissions included.
    let mut dropped = 0u64;
    for (name, _) in death_stars(&g) {
        let table = g.ok(&["bpf", "policy", "get", &name]);
        assert!(
            table.starts_with("POLICY   DIRECTION   LABELS (source:key[=value])"),
            "{table}"
        );
        for l in table.lines() {
            let cols: Vec<&str> = l.split_whitespace().collect();
            if cols.first() == Some(&"Deny")
                && l.contains("k8s:app.kubernetes.io/name=asa-x")
                && cols.get(3) == Some(&"80/TCP")
            {
                dropped += cols.get(7).and_then(|p| p.parse::<u64>().ok()).unwrap_or(0);
            }
        }
    }
    assert!(
        dropped >= 2,
        "the SYN and its retransmission are counted: {dropped}"
    );
    let drops = g.ok(&["observe", "--verdict", "DROPPED", "--last", "1000"]);
    let syn_drops: Vec<&str> = drops
        .lines()
        .filter(|l| {
            l.contains("default/asa-x:") && l.ends_with("Policy denied DROPPED (TCP Flags: SYN)")
        })
        .collect();
    assert!(
        syn_drops.len() >= 2,
        "the kernel's retransmissions are flows too:\n{drops}"
    );
    // At the kernel's retransmission times: the first retransmission of a SYN comes one initial
    // RTO (1 s) after it.
    let mut by_port: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
    for l in &syn_drops {
        let words: Vec<&str> = l.split_whitespace().collect();
        let (Some(time), Some(src)) = (words.get(2), words.get(3)) else {
            continue;
        };
        let secs: Vec<f64> = time
            .trim_end_matches(':')
            .split(':')
            .filter_map(|x| x.parse().ok())
            .collect();
        if let [h, m, s] = secs[..] {
            by_port
                .entry(src)
                .or_default()
                .push(h * 3600.0 + m * 60.0 + s);
        }
    }
    let gaps: Vec<f64> = by_port
        .values()
        .filter(|t| t.len() >= 2)
        .map(|t| t[1] - t[0])
        .collect();
    assert!(
        gaps.iter().any(|g| (0.9..1.6).contains(g)),
        "SYN drops 1 s apart: {gaps:?}\n{drops}"
    );

    // L7 over L4: the Empire may only land; the proxy answers Envoy's 403 body.
    assert_eq!(
        g.ok(&["apply", "-f", "k8s/politica_l7.yml"]),
        "ciliumnetworkpolicy.cilium.io/regra1 configured\n"
    );
    std::thread::sleep(Duration::from_millis(200));
    let out = curl(&g, "caca-tie", &["-s", "-XPUT", &exhaust]);
    expect("PUT under L7", &out, 0, b"Access denied\r\n");
    let out = curl(&g, "caca-tie", &["-s", "-XPOST", &land]);
    expect("POST under L7", &out, 0, b"Ship landed\n");
    let out = curl(
        &g,
        "asa-x",
        &["-s", "--connect-timeout", "2", "-XPOST", &land],
    );
    expect("asa-x under L7", &out, 28, b"");
    let out = curl(&g, "caca-tie", &["-s", "-i", "-XPUT", &exhaust]);
    let head = String::from_utf8_lossy(&out.stdout).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 403 forbidden\r\n"), "{head}");
    let drops = g.ok(&["observe", "--verdict", "DROPPED", "--last", "1000"]);
    assert!(
        drops.contains(&format!(
            "http-request DROPPED (HTTP/1.1 PUT http://{exhaust})"
        )),
        "{drops}"
    );

    // The maps, as Cilium 1.15's `cilium-dbg bpf ...` prints them.
    check_bpf_tables(&g);
    if have("bpftool") {
        let progs = galaxia_programs().join("\n");
        for p in [
            "galaxia_pod_in",
            "galaxia_pod_out",
            "galaxia_node_in",
            "galaxia_sock_lb",
        ] {
            assert!(progs.contains(p), "bpftool prog show: {progs}");
        }
    }

    // Back to no policy; the exhaust port explodes a replica, which restarts, and the Service
    // keeps landing ships on the other one meanwhile.
    g.ok(&["delete", "cnp", "regra1"]);
    std::thread::sleep(Duration::from_millis(200));
    let out = curl(&g, "caca-tie", &["-s", "-XPUT", &exhaust]);
    expect("the exhaust port", &out, 0, PANIC.as_bytes());
    let until = Instant::now() + Duration::from_secs(4);
    while Instant::now() < until {
        let out = curl(&g, "caca-tie", &["-s", "-m", "3", "-XPOST", &land]);
        expect(
            "landing while a replica explodes",
            &out,
            0,
            b"Ship landed\n",
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    eventually("the exploded replica restarts and is ready", || {
        g.pods().iter().all(|p| p["ready"] == true)
            && g.pods()
                .iter()
                .any(|p| p["restarts"].as_u64().is_some_and(|r| r >= 1))
    });

    g.stop();
    assert_eq!(
        leftovers(&tag),
        Vec::<String>::new(),
        "the galaxy left things behind"
    );
    assert_eq!(
        galaxia_programs(),
        Vec::<String>::new(),
        "programs outlived the galaxy"
    );
    assert_eq!(before, host_network(), "the host's network changed");
}

fn pod_identity(g: &Galaxy, name: &str) -> u64 {
    g.pods()
        .iter()
        .find(|p| p["name"] == name)
        .and_then(|p| p["identity"].as_u64())
        .unwrap_or_else(|| panic!("no identity for pod {name}"))
}

/// Every line of `text` but the first matches `row` (a regex); the tabwriter pads rows ending in
/// a tab to one length.
fn rows_match(what: &str, text: &str, row: &str, same_length: bool) {
    let re = regex::Regex::new(row).expect("row regex");
    let mut lengths = std::collections::BTreeSet::new();
    for l in text.lines().skip(1) {
        assert!(re.is_match(l), "{what}: {l:?} is not {row}\n{text}");
        lengths.insert(l.len());
    }
    if same_length {
        assert_eq!(
            lengths.len(),
            1,
            "{what}: rows of one padded length\n{text}"
        );
    }
}

/// `galaxia bpf ...` under politica_l7: the headers, cells and padding of Cilium 1.15.10's
/// tables, with only what varies (ports, counters, lifetimes, MACs) masked.
fn check_bpf_tables(g: &Galaxy) {
    let (tie, x) = (pod_ip(g, "caca-tie"), pod_ip(g, "asa-x"));
    let (tie_id, x_id) = (pod_identity(g, "caca-tie"), pod_identity(g, "asa-x"));

    let ipcache = g.ok(&["bpf", "ipcache", "list"]);
    assert!(
        ipcache.starts_with("IP PREFIX/ADDRESS   IDENTITY\n"),
        "{ipcache}"
    );
    rows_match(
        "ipcache",
        &ipcache,
        r"^\d+\.\d+\.\d+\.\d+/32 +identity=\d+ encryptkey=0 tunnelendpoint=0\.0\.0\.0 flags=<none> +$",
        false,
    );
    for (ip, id) in [(&tie, tie_id), (&x, x_id)] {
        let row = format!("{ip}/32");
        let line = ipcache
            .lines()
            .find(|l| l.starts_with(&format!("{row} ")))
            .unwrap_or_else(|| panic!("no {row}:\n{ipcache}"));
        // The value column starts after the widest key plus 3.
        assert_eq!(
            line[20..].trim_end(),
            format!("identity={id} encryptkey=0 tunnelendpoint=0.0.0.0 flags=<none>"),
            "{ipcache}"
        );
        assert!(line.ends_with("   "), "{ipcache}");
    }

    let endpoints = g.ok(&["bpf", "endpoint", "list"]);
    assert!(
        regex::Regex::new(r"^IP ADDRESS {5,}LOCAL ENDPOINT INFO\n")
            .expect("regex")
            .is_match(&endpoints),
        "{endpoints}"
    );
    assert_eq!(endpoints.lines().count(), 1 + g.pods().len(), "{endpoints}");
    let mac = "[0-9A-F]{2}(:[0-9A-F]{2}){5}";
    rows_match(
        "endpoint list",
        &endpoints,
        &format!(
            r"^10\.244\.\d+\.\d+:0 +id=[0-9 ]{{5}} sec_id=[0-9 ]{{5,}} flags=0x0000 ifindex=[0-9 ]{{3,}} mac={mac} nodemac={mac} {{3,}}$"
        ),
        false,
    );
    assert!(
        endpoints.contains(&format!(" sec_id={x_id} flags=0x0000 ")),
        "{endpoints}"
    );

    let (ds, _) = death_stars(g).into_iter().next().expect("a Death Star");
    let policy = g.ok(&["bpf", "policy", "get", &ds]);
    let header = policy.lines().next().unwrap_or_default();
    let re = regex::Regex::new(
        r"^POLICY   DIRECTION   LABELS \(source:key\[=value\]\) +PORT/PROTO   PROXY PORT   AUTH TYPE   BYTES +PACKETS +PREFIX   $",
    )
    .expect("regex");
    assert!(re.is_match(header), "{policy}");
    // Each identity's first label on its row, the others under it in the labels column.
    rows_match(
        "policy get",
        &policy,
        r"^((Allow|Deny) +(Ingress|Egress) +\S+ +(ANY|TCP|UDP|\d+/(TCP|UDP)) +(NONE|\d+) +disabled +\d+ +\d+ +(0|8|24) +| {21}k8s:\S+ +)$",
        true,
    );
    let redirect = regex::Regex::new(
        r"(?m)^Allow    Ingress     k8s:app\.kubernetes\.io/name=caca-tie +80/TCP       \d+ +disabled    \d+ +\d+ +24       $",
    )
    .expect("regex");
    assert!(
        redirect.is_match(&policy),
        "caca-tie's port 80 goes to the proxy:\n{policy}"
    );
    assert!(
        regex::Regex::new(r"(?m)^Deny     Ingress     k8s:app\.kubernetes\.io/name=asa-x +80/TCP       NONE         disabled    \d+ +\d+ +24       $")
            .expect("regex")
            .is_match(&policy),
        "{policy}"
    );
    assert!(
        regex::Regex::new(r"Allow    Egress      reserved:unknown +ANY          NONE         disabled    0 +0 +0        \n$")
            .expect("regex")
            .is_match(&policy),
        "{policy}"
    );

    let ct = g.ok(&["bpf", "ct", "list", "global"]);
    // The TCP table, an empty line, the other protocols' table, an empty line.
    let (tcp, rest) = ct.split_once("\n\n").unwrap_or_else(|| panic!("{ct}"));
    assert!(
        rest.ends_with('\n')
            && rest
                .trim_end_matches('\n')
                .lines()
                .all(|l| l.starts_with("UDP ")),
        "{ct}"
    );
    let entry = regex::Regex::new(
        r"^(TCP|UDP) (IN|OUT) \d+\.\d+\.\d+\.\d+:\d+ -> \d+\.\d+\.\d+\.\d+:\d+ expires=\d+ RxPackets=\d+ RxBytes=\d+ RxFlagsSeen=0x[0-9a-f]{2} LastRxReport=\d+ TxPackets=\d+ TxBytes=\d+ TxFlagsSeen=0x[0-9a-f]{2} LastTxReport=\d+ Flags=0x[0-9a-f]{4} \[ ([A-Za-z]+ )*\] RevNAT=0 SourceSecurityID=\d+ IfIndex=0 $",
    )
    .expect("regex");
    for l in ct.lines().filter(|l| !l.is_empty()) {
        assert!(entry.is_match(l), "{l:?}\n{ct}");
    }
    assert!(tcp.lines().all(|l| l.starts_with("TCP ")), "{ct}");
    assert!(
        tcp.lines()
            .any(|l| l.starts_with(&format!("TCP OUT {tie}:"))
                && l.contains(":80 expires=")
                && l.contains("SeenNonSyn ProxyRedirect ]")
                && l.ends_with(&format!(" SourceSecurityID={tie_id} IfIndex=0 "))),
        "caca-tie's connections through the proxy:\n{ct}"
    );
    assert!(
        rest.lines()
            .any(|l| l.starts_with(&format!("UDP OUT {tie}:")) && l.contains(" -> 10.96.0.10:53 ")),
        "the ships' DNS queries:\n{ct}"
    );

    let lb = g.ok(&["bpf", "lb", "list"]);
    assert!(
        lb.starts_with("SERVICE ADDRESS    BACKEND ADDRESS (REVNAT_ID) (SLOT)\n"),
        "{lb}"
    );
    for (_, ip) in death_stars(g) {
        assert!(lb.contains(&format!("{ip}:80 ")), "{lb}");
    }
}

#[test]
fn nothing_survives_kill_9() {
    if !runnable("nothing_survives_kill_9") {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let before = host_network();

    // Killed; the next galaxy's start removes what it left.
    let mut first = up();
    let first_tag = tag(&first);
    first.crash();
    assert!(
        !leftovers(&first_tag).is_empty(),
        "a killed galaxy's namespaces stay"
    );
    let mut second = up();
    assert_eq!(
        leftovers(&first_tag),
        Vec::<String>::new(),
        "the next start cleans up"
    );

    // Killed; `galaxia cleanup` removes what it left, and its programs died with it.
    let second_tag = tag(&second);
    second.crash();
    let out = Command::new(bin())
        .arg("cleanup")
        .output()
        .expect("galaxia cleanup");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", describe(&["cleanup"], &out));
    assert!(
        text.contains(&format!("removed netns {second_tag}-fabric")),
        "{text}"
    );
    assert_eq!(leftovers(&second_tag), Vec::<String>::new());
    assert_eq!(
        galaxia_programs(),
        Vec::<String>::new(),
        "programs outlived the galaxy"
    );
    let again = Command::new(bin())
        .arg("cleanup")
        .output()
        .expect("galaxia cleanup");
    assert_eq!(
        String::from_utf8_lossy(&again.stdout),
        "Nothing to clean up: no galaxy left anything behind.\n"
    );
    assert_eq!(before, host_network(), "the host's network changed");
}

#[test]
fn the_tutorial_on_the_ebpf_datapath() {
    if !runnable("the_tutorial_on_the_ebpf_datapath") {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let before = host_network();
    let child = Command::new(bin())
        .args(["tutorial", "--lang", "en", "--datapath", "ebpf"])
        .env("GALAXIA_LOG_FORMAT", "human")
        .env_remove("RUST_LOG")
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run galaxia tutorial --datapath ebpf");
    let tag = format!("galaxia-{}-0", child.id());
    let out = child.wait_with_output().expect("galaxia tutorial");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        describe(&["tutorial", "--datapath", "ebpf"], &out)
    );
    assert!(
        stdout.contains("Tutorial complete: every step behaved as the book says."),
        "{stdout}"
    );
    assert!(!stdout.contains("FAILED"), "{stdout}");
    // The pods were namespaces of this tutorial's galaxy, and Debian's curl ran inside them.
    let netns = stdout
        .lines()
        .filter(|l| l.contains(&format!("netns /run/netns/{tag}-pod-")))
        .count();
    assert!(netns >= 4, "every pod in a namespace of its own:\n{stdout}");
    for shown in [
        "Ship landed",
        "Access denied",
        "Panic: deathstar exploded",
        "ciliumnetworkpolicy.cilium.io/regra1 created",
        "ciliumnetworkpolicy.cilium.io/regra1 configured",
        "Policy denied DROPPED (TCP Flags: SYN)",
        &format!("http-request DROPPED (HTTP/1.1 PUT http://{SVC}/v1/exhaust-port)"),
        "to-endpoint FORWARDED (TCP Flags: ",
    ] {
        assert!(stdout.contains(shown), "missing {shown:?}:\n{stdout}");
    }
    assert_eq!(
        leftovers(&tag),
        Vec::<String>::new(),
        "the tutorial's galaxy left things behind"
    );
    assert_eq!(
        galaxia_programs(),
        Vec::<String>::new(),
        "programs outlived the tutorial"
    );
    assert_eq!(before, host_network(), "the host's network changed");
}

#[test]
fn the_tutorial_refuses_the_ebpf_datapath_without_root() {
    if !nix::unistd::geteuid().is_root() {
        let out = Command::new(bin())
            .args(["tutorial", "--datapath", "ebpf"])
            .stdin(Stdio::null())
            .output()
            .expect("run galaxia tutorial");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(stderr.contains("--datapath ebpf needs root"), "{stderr}");
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("==="),
            "refused before the first narrated step"
        );
        return;
    }
    if !have("setpriv") {
        testkit::skip::skip(
            "ebpf_datapath: the tutorial's refusal as nobody",
            "setpriv (util-linux) is needed to run galaxia as nobody",
        );
        return;
    }
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", bin()])
        .args(["tutorial", "--lang", "en", "--datapath", "ebpf"])
        .current_dir("/")
        .stdin(Stdio::null())
        .output()
        .expect("run galaxia tutorial as nobody");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "{}",
        describe(&["tutorial --datapath ebpf"], &out)
    );
    assert!(
        stderr.contains("--datapath ebpf needs root") && stderr.contains("--datapath userspace"),
        "{}",
        describe(&["tutorial --datapath ebpf"], &out)
    );
    // (Only the line that says where the logs go may come first.)
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains("==="),
        "refused before the first narrated step: {stdout}"
    );
}

#[test]
fn a_service_without_ready_backends_fails_at_connect() {
    if !runnable("a_service_without_ready_backends_fails_at_connect") {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().expect("temp dir");
    let empty = dir.path().join("sem-backends.yml");
    std::fs::write(
        &empty,
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: hangar-vazio\nspec:\n  type: ClusterIP\n  ports:\n    - port: 80\n      protocol: TCP\n  selector:\n    app.kubernetes.io/name: ninguem\n",
    )
    .expect("write the Service");
    let path = empty.display().to_string();
    let g = Galaxy::up(
        &["k8s/starwars.yml", &path],
        &["--no-patrol", "--datapath", "ebpf"],
    );
    // Cilium's socket load balancer refuses the connect() itself (EHOSTUNREACH): curl fails at
    // once instead of waiting for an answer from the ClusterIP.
    let start = Instant::now();
    let out = curl(
        &g,
        "caca-tie",
        &["-s", "-m", "5", "http://hangar-vazio/v1/request-landing"],
    );
    assert_eq!(
        out.status.code(),
        Some(7),
        "{}",
        describe(&["curl hangar-vazio"], &out)
    );
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    if !optional_tool("python3", "python3") {
        g.stop();
        return;
    }
    let errno = g.ok(&[
        "exec",
        "caca-tie",
        "--",
        "python3",
        "-c",
        "import socket\ns = socket.socket()\ntry:\n    s.connect(('hangar-vazio', 80))\nexcept OSError as e:\n    print(e.strerror)",
    ]);
    assert_eq!(errno, "No route to host\n");
    g.stop();
}
