//! The faults a hostile probe found in a running galaxy, reproduced through the real binary on
//! 127.0.0.1: who may drive it, what it keeps across a crash, what it refuses to parse, and what
//! a flood of idle connections may take from it.

mod galaxy_util;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::time::Instant;

use galaxy_util::{Galaxy, MUST_HAPPEN, SVC, describe, eventually, up_refused};

const LAND: &str = "estrela-da-morte.default.svc.cluster.local/v1/request-landing";

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The built-in curl's landing from `pod`: its exit code.
fn land(g: &Galaxy, pod: &str) -> Option<i32> {
    g.curl(true, pod, &["-s", "-m", "2", "-XPOST", LAND])
        .status
        .code()
}

#[test]
fn a_second_up_is_refused_and_the_first_keeps_its_discovery_file() {
    let g = Galaxy::up(&["k8s/starwars.yml"], &["--no-patrol"]);
    let before = std::fs::read_to_string(g.control_file()).expect("discovery file");
    let second = up_refused(&g.control_file(), &["k8s/starwars.yml"]);
    assert_eq!(
        second.status.code(),
        Some(1),
        "{}",
        describe(&["up"], &second)
    );
    let first: serde_json::Value = serde_json::from_str(&before).expect("discovery json");
    let pid = first["pid"].as_u64().expect("pid");
    let msg = stderr(&second);
    assert!(
        msg.contains(&format!("a galaxy is already running (pid {pid}"))
            && msg.contains("--control-file"),
        "{msg}"
    );
    // The first one is untouched and still answers.
    assert_eq!(
        std::fs::read_to_string(g.control_file()).expect("discovery file"),
        before
    );
    assert!(g.ok(&["get", "pods"]).contains("estrela-da-morte-"));
}

#[test]
fn a_discovery_directory_others_can_write_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).expect("mkdir");
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let out = up_refused(&shared.join("control.json"), &["k8s/starwars.yml"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&["up"], &out));
    let msg = stderr(&out);
    assert!(
        msg.contains(&format!(
            "{} can be written by other users (mode 777",
            shared.display()
        )) && msg.contains("chmod 700"),
        "{msg}"
    );
    assert!(!shared.join("control.json").exists());

    // The file itself is the user's alone.
    let g = Galaxy::up(&["k8s/starwars.yml"], &["--no-patrol"]);
    let mode = std::fs::metadata(g.control_file())
        .expect("stat")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn applied_policies_come_back_after_kill_9_unless_fresh() {
    let mut g = Galaxy::up(&["k8s/starwars.yml"], &["--no-patrol"]);
    g.ok(&["apply", "-f", "k8s/politica_l7.yml"]);
    assert_eq!(land(&g, "asa-x"), Some(28));

    g.restart(&["k8s/starwars.yml"], &["--no-patrol"]);
    let said = g.stdout();
    assert!(
        said.contains("Restored 1 object(s) a previous galaxy left in ")
            && said.contains(": default/regra1 (--fresh starts without them)."),
        "{said}"
    );
    assert!(g.ok(&["get", "cnp"]).starts_with("NAME     AGE\nregra1   "));
    assert_eq!(
        land(&g, "asa-x"),
        Some(28),
        "the restored policy is in force"
    );
    assert_eq!(land(&g, "caca-tie"), Some(0));

    g.restart(&["k8s/starwars.yml"], &["--no-patrol", "--fresh"]);
    assert!(
        g.stdout().contains("Not restored (--fresh)"),
        "{}",
        g.stdout()
    );
    let none = g.run(&["get", "cnp"]);
    assert_eq!(stderr(&none), "No resources found in default namespace.\n");
    assert_eq!(land(&g, "asa-x"), Some(0));
}

#[test]
fn kinds_kubectl_does_not_know_are_refused_with_its_message() {
    let g = Galaxy::up(&["k8s/starwars.yml"], &["--no-patrol"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let l4 = std::fs::read_to_string(galaxy_util::repo_root().join("k8s/politica_l4.yml"))
        .expect("politica_l4.yml");
    let misspelled = dir.path().join("regra1.yml");
    std::fs::write(
        &misspelled,
        l4.replace("kind: CiliumNetworkPolicy", "kind: CiliumNetworkPolcy"),
    )
    .expect("write");
    let file = misspelled.display().to_string();
    let out = g.run(&["apply", "-f", &file]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&["apply"], &out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    assert_eq!(
        stderr(&out),
        format!(
            "error: resource mapping not found for name: \"regra1\" namespace: \"\" from \"{file}\": no matches for kind \"CiliumNetworkPolcy\" in version \"cilium.io/v2\"\nensure CRDs are installed first\n"
        )
    );
    let none = g.run(&["get", "cnp"]);
    assert_eq!(stderr(&none), "No resources found in default namespace.\n");

    // With a good policy beside it, kubectl applies that one and lists the other errors after.
    let mixed = dir.path().join("mixed.yml");
    std::fs::write(
        &mixed,
        format!(
            "{l4}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ajustes\n---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolcy\nmetadata:\n  name: outra\n  namespace: default\n"
        ),
    )
    .expect("write");
    let mixed = mixed.display().to_string();
    let out = g.run(&["apply", "-f", &mixed]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&["apply"], &out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "ciliumnetworkpolicy.cilium.io/regra1 created\n"
    );
    assert_eq!(
        stderr(&out),
        format!(
            "galaxia does not run ConfigMap objects: a cluster would take configmap/ajustes from \"{mixed}\", a galaxy acts on CiliumNetworkPolicy objects only (its pods and Services come from `galaxia up -f`)\nresource mapping not found for name: \"outra\" namespace: \"default\" from \"{mixed}\": no matches for kind \"CiliumNetworkPolcy\" in version \"cilium.io/v2\"\nensure CRDs are installed first\n"
        )
    );
    assert_eq!(land(&g, "asa-x"), Some(28), "the good policy is in force");

    // `up -f` refuses what `kubectl create -f` would.
    let up = up_refused(
        &dir.path().join("control.json"),
        &["k8s/starwars.yml", &file],
    );
    assert_eq!(up.status.code(), Some(1), "{}", describe(&["up"], &up));
    assert!(
        stderr(&up).starts_with("error: resource mapping not found for name: \"regra1\""),
        "{}",
        stderr(&up)
    );
}

#[test]
fn hostile_manifests_are_refused_naming_the_file_and_the_limit() {
    let g = Galaxy::up(&["k8s/starwars.yml"], &["--no-patrol"]);
    g.ok(&["apply", "-f", "k8s/politica_l7.yml"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).expect("write");
        p.display().to_string()
    };

    // 200,000 nested `[`: minutes of parsing before; refused before the parser now.
    let nested = write("nested.yml", &vec![b'['; 200_000]);
    let out = g.run(&["apply", "-f", &nested]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains(&format!(
            "{nested}: nests deeper than 64 levels (at line 1)"
        )),
        "{}",
        stderr(&out)
    );

    let big = write("big.yml", &vec![b'#'; 10 << 20]);
    let out = g.run(&["apply", "-f", &big]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains(&format!(
            "{big}: 10485760 bytes is more than the 3145728 a manifest may have"
        )),
        "{}",
        stderr(&out)
    );

    let binary = write("binary.yml", &[0x7f, b'E', b'L', b'F', 0xff, 0xfe, 0]);
    let out = g.run(&["apply", "-f", &binary]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains(&format!("{binary}: is not UTF-8 text (a binary file?")),
        "{}",
        stderr(&out)
    );
    let missing = dir.path().join("missing.yml").display().to_string();
    let out = g.run(&["apply", "-f", &missing]);
    assert!(
        stderr(&out).contains(&format!("the path \"{missing}\" does not exist")),
        "{}",
        stderr(&out)
    );

    // A 1 MB regular expression: refused with a short message.
    let l7 = std::fs::read_to_string(galaxy_util::repo_root().join("k8s/politica_l7.yml"))
        .expect("politica_l7.yml");
    let huge = l7.replace(
        "\"/v1/request-landing\"",
        &format!("\"/{}\"", "a".repeat(1 << 20)),
    );
    assert_ne!(huge, l7, "the book's L7 policy names its path");
    let regex = write("regex.yml", huge.as_bytes());
    let out = g.run(&["apply", "-f", &regex]);
    assert_ne!(out.status.code(), Some(0));
    let msg = stderr(&out);
    assert!(
        msg.contains("-byte regular expression: at most 4096 bytes are accepted"),
        "{msg}"
    );
    assert!(msg.len() < 2000, "{} bytes of message", msg.len());

    // The galaxy still runs the policy it had.
    assert_eq!(land(&g, "caca-tie"), Some(0));
    assert_eq!(land(&g, "asa-x"), Some(28));
}

/// One raw HTTP/1.1 exchange with the control API; the status code.
fn raw(port: u16, head: &str) -> u16 {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(MUST_HAPPEN)).expect("timeout");
    s.write_all(head.as_bytes()).expect("write");
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer:?}"))
}

#[test]
fn a_foreign_host_origin_or_token_cannot_touch_the_policies() {
    let g = Galaxy::up(&["k8s/starwars.yml"], &["--no-patrol"]);
    g.ok(&["apply", "-f", "k8s/politica_l7.yml"]);
    let d: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(g.control_file()).expect("read"))
            .expect("json");
    let port: u16 = d["addr"]
        .as_str()
        .and_then(|a| a.rsplit(':').next())
        .and_then(|p| p.parse().ok())
        .expect("addr");
    let token = d["token"].as_str().expect("token").to_string();
    let body = r#"{"keys":[{"kind":"CiliumNetworkPolicy","namespace":"default","name":"regra1"}]}"#;
    let delete = |host: &str, extra: &str| {
        format!(
            "POST /v1/cnp/delete HTTP/1.1\r\nHost: {host}\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let auth = format!("Authorization: Bearer {token}\r\n");
    let here = format!("127.0.0.1:{port}");
    // DNS rebinding: a page's own name pointed at 127.0.0.1.
    assert_eq!(
        raw(port, &delete(&format!("evil.example:{port}"), &auth)),
        403
    );
    // A page of another origin, with the right Host.
    let origin = format!("{auth}Origin: http://evil.example\r\n");
    assert_eq!(raw(port, &delete(&here, &origin)), 403);
    // No token, a wrong one.
    assert_eq!(raw(port, &delete(&here, "")), 403);
    assert_eq!(
        raw(port, &delete(&here, "Authorization: Bearer 00\r\n")),
        403
    );
    assert!(g.ok(&["get", "cnp"]).contains("regra1"));
    assert_eq!(land(&g, "asa-x"), Some(28), "the policy is still in force");
    // The real thing, for contrast: the same request with everything right goes through.
    assert_eq!(raw(port, &delete(&format!("localhost:{port}"), &auth)), 200);
    assert_eq!(land(&g, "asa-x"), Some(0));
}

/// A pod's egress proxy, parsed as an address (never a name to resolve: nothing here may ask the
/// host's resolver).
fn egress(pods: &[serde_json::Value], name: &str) -> SocketAddr {
    pods.iter()
        .find(|p| p["name"] == name)
        .and_then(|p| p["egress"].as_str())
        .and_then(|e| e.strip_prefix("http://"))
        .and_then(|a| a.parse().ok())
        .expect("egress address")
}

#[test]
fn idle_connections_to_one_proxy_leave_the_other_pods_and_the_verbs_alone() {
    galaxia::app::raise_open_file_limit();
    let g = Galaxy::up(&["k8s/starwars.yml"], &["--no-patrol"]);
    let pods = g.pods();
    let asa_x = egress(&pods, "asa-x");
    // More than a listener's share: some wait in the kernel's backlog, none get an answer.
    let idle: Vec<TcpStream> = (0..1100)
        .map(|_| TcpStream::connect(asa_x).expect("connect to asa-x's proxy"))
        .collect();
    let start = Instant::now();
    assert!(g.ok(&["get", "pods"]).contains("caca-tie"));
    assert_eq!(land(&g, "caca-tie"), Some(0));
    assert!(
        start.elapsed() < MUST_HAPPEN,
        "the verbs and caca-tie's landing waited behind asa-x's flood"
    );
    // Connections that never send a head are closed (the head timeout), which frees the slots.
    for mut s in idle.into_iter().take(50) {
        s.set_read_timeout(Some(MUST_HAPPEN)).expect("timeout");
        let mut buf = [0u8; 1];
        assert!(matches!(s.read(&mut buf), Ok(0) | Err(_)));
    }
    eventually("asa-x lands again", || land(&g, "asa-x") == Some(0));
    let _ = SVC;
}

#[test]
fn a_slow_request_head_to_a_proxy_is_cut() {
    let g = Galaxy::up(&["k8s/starwars.yml"], &["--no-patrol"]);
    let egress = egress(&g.pods(), "caca-tie");
    let mut s = TcpStream::connect(egress).expect("connect");
    s.write_all(format!("POST http://{LAND} HTTP/1.1\r\nHost: {SVC}\r\n").as_bytes())
        .expect("write");
    s.set_read_timeout(Some(MUST_HAPPEN)).expect("timeout");
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    // Cut, not answered: the head never ended.
    assert!(!String::from_utf8_lossy(&rest).contains("Ship landed"));
}
