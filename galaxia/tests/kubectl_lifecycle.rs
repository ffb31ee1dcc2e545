//! The verbs that change a running galaxy's workloads, as kubectl 1.31 prints them, through the
//! real binary against a real galaxy: `delete pod` (a Deployment's replica is replaced under a
//! new name; a bare pod is gone), `scale`, `rollout restart` (new names, the Service keeps
//! landing ships), `logs` with `--previous` after an explosion and `--tail`, kubectl's NotFound
//! and BadRequest errors with exit 1, `apply` over `create`'s missing last-applied warning, and
//! a name twice in one file.

#![allow(clippy::unwrap_used)] // a test may unwrap: a panic is its failure report

mod galaxy_util;

use galaxy_util::{Galaxy, describe, eventually};

const SVC: &str = "http://estrela-da-morte.default.svc.cluster.local";

/// `get pods`' rows: NAME, READY, STATUS, RESTARTS.
fn rows(g: &Galaxy) -> Vec<Vec<String>> {
    g.ok(&["get", "pods", "--no-headers"])
        .lines()
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// A replica's ReplicaSet: its name without the pod's suffix.
fn rs_of(pod: &str) -> String {
    pod.rsplit_once('-')
        .map(|(rs, _)| rs.to_string())
        .unwrap_or_default()
}

/// The Death Star replicas' names, sorted (as `get pods` lists them).
fn replicas(g: &Galaxy) -> Vec<String> {
    rows(g)
        .into_iter()
        .map(|r| r[0].clone())
        .filter(|n| n.starts_with("estrela-da-morte-"))
        .collect()
}

fn ready_replicas(g: &Galaxy) -> usize {
    rows(g)
        .iter()
        .filter(|r| r[0].starts_with("estrela-da-morte-") && r[1] == "1/1")
        .count()
}

/// A landing from caca-tie through the Service: `Ship landed`.
fn lands(g: &Galaxy) {
    let url = format!("{SVC}/v1/request-landing");
    let out = g.curl(true, "caca-tie", &["-s", "-m", "5", "-XPOST", &url]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Ship landed\n",
        "{}",
        describe(&["exec caca-tie -- curl -XPOST", &url], &out)
    );
}

/// A failure's stderr and exit code.
fn fails(g: &Galaxy, args: &[&str]) -> String {
    let out = g.run(args);
    assert_eq!(out.status.code(), Some(1), "{}", describe(args, &out));
    assert!(out.stdout.is_empty(), "{}", describe(args, &out));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn delete_scale_and_rollout_restart_replace_replicas_and_ships_keep_landing() {
    let g = Galaxy::up(&["k8s/starwars.yml"], &["--no-patrol"]);
    let before = replicas(&g);
    assert_eq!(before.len(), 2, "{before:?}");

    // delete pod: kubectl's line; the ReplicaSet makes another with a new suffix, same hash.
    let victim = before[0].clone();
    let victim_ip = g.ok(&["get", "pod", &victim, "-o", "jsonpath={.status.podIP}"]);
    assert!(victim_ip.starts_with("10.244."), "{victim_ip:?}");
    assert_eq!(
        g.ok(&["delete", "pod", &victim]),
        format!("pod \"{victim}\" deleted\n")
    );
    let after = replicas(&g);
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(!after.contains(&victim), "{after:?}");
    assert!(
        after.iter().all(|n| rs_of(n) == rs_of(&victim)),
        "{after:?}"
    );
    eventually("two ready replicas after delete", || {
        ready_replicas(&g) == 2
    });
    for _ in 0..4 {
        lands(&g);
    }
    // It has left the Service's endpoints, in every verb that lists them.
    for args in [
        &["describe", "svc", "estrela-da-morte"][..],
        &["get", "ep"],
        &["describe", "ep"],
    ] {
        let out = g.ok(args);
        assert!(
            !out.contains(&format!("{victim_ip}:"))
                && !out.contains(&format!("{victim_ip},"))
                && !out.contains(&format!("{victim_ip}\n")),
            "{args:?}: {out}"
        );
    }
    // The gone pod is NotFound for every verb.
    let err = fails(&g, &["delete", "pod", &victim]);
    assert_eq!(
        err,
        format!("Error from server (NotFound): pods \"{victim}\" not found\n")
    );
    let err = fails(&g, &["logs", &victim]);
    assert_eq!(
        err,
        format!("Error from server (NotFound): pods \"{victim}\" not found\n")
    );

    // scale up: three replicas, all of them serving; scale down removes pods.
    assert_eq!(
        g.ok(&["scale", "deployment", "estrela-da-morte", "--replicas=3"]),
        "deployment.apps/estrela-da-morte scaled\n"
    );
    assert_eq!(replicas(&g).len(), 3);
    eventually("three ready replicas", || ready_replicas(&g) == 3);
    let mut hosts = std::collections::BTreeSet::new();
    for _ in 0..12 {
        let out = g.curl(true, "caca-tie", &["-s", "-m", "5", &format!("{SVC}/v1")]);
        let body = String::from_utf8_lossy(&out.stdout).into_owned();
        let host = body
            .lines()
            .find(|l| l.contains("\"hostname\""))
            .unwrap_or_else(|| panic!("{body}"))
            .to_string();
        hosts.insert(host);
    }
    assert_eq!(
        hosts.len(),
        3,
        "the Service balances over the new replica too: {hosts:?}"
    );
    assert_eq!(
        g.ok(&["scale", "deployment/estrela-da-morte", "--replicas", "1"]),
        "deployment.apps/estrela-da-morte scaled\n"
    );
    assert_eq!(replicas(&g).len(), 1);
    lands(&g);
    let err = fails(&g, &["scale", "deployment", "estrela-da-morte"]);
    assert_eq!(err, "error: required flag(s) \"replicas\" not set\n");
    let err = fails(&g, &["scale", "deployment", "nope", "--replicas=2"]);
    assert_eq!(
        err,
        "Error from server (NotFound): deployments.apps \"nope\" not found\n"
    );
    g.ok(&["scale", "deployment", "estrela-da-morte", "--replicas=2"]);
    eventually("two ready replicas again", || ready_replicas(&g) == 2);

    // rollout restart: every replica replaced by one of a new template hash, one at a time,
    // while ships keep landing.
    let old = replicas(&g);
    assert_eq!(
        g.ok(&["rollout", "restart", "deployment/estrela-da-morte"]),
        "deployment.apps/estrela-da-morte restarted\n"
    );
    let start = std::time::Instant::now();
    loop {
        lands(&g);
        let now = replicas(&g);
        if now.len() == 2 && now.iter().all(|n| !old.contains(n)) && ready_replicas(&g) == 2 {
            assert!(
                now.iter().all(|n| rs_of(n) != rs_of(&old[0])),
                "{now:?} {old:?}"
            );
            break;
        }
        assert!(
            start.elapsed().as_secs() < 30,
            "rollout did not finish: {now:?}"
        );
    }
    // The deployment controller's events of it all, as describe shows them, oldest first.
    let (rs1, rs2) = (rs_of(&old[0]), rs_of(&replicas(&g)[0]));
    let expected = [
        format!("Scaled up replica set {rs1} to 2"),
        format!("Scaled up replica set {rs1} to 3 from 2"),
        format!("Scaled down replica set {rs1} to 1 from 3"),
        format!("Scaled up replica set {rs1} to 2 from 1"),
        format!("Scaled up replica set {rs2} to 1"),
        format!("Scaled down replica set {rs1} to 1 from 2"),
        format!("Scaled up replica set {rs2} to 2 from 1"),
        format!("Scaled down replica set {rs1} to 0 from 1"),
    ];
    let messages = || -> Vec<String> {
        g.ok(&["describe", "deployment", "estrela-da-morte"])
            .lines()
            .filter_map(|l| l.split_once("deployment-controller  "))
            .map(|(_, m)| m.to_string())
            .collect()
    };
    eventually("the rollout's last event", || {
        messages().len() == expected.len()
    });
    assert_eq!(messages(), expected);
    let rs = g.ok(&["describe", "rs", &rs2]);
    assert_eq!(
        rs.matches("replicaset-controller  Created pod: ").count(),
        2,
        "{rs}"
    );
    assert_eq!(
        g.ok(&["rollout", "restart", "deployment", "estrela-da-morte"]),
        "deployment.apps/estrela-da-morte restarted\n"
    );
    let err = fails(&g, &["rollout", "restart", "deployment/nope"]);
    assert_eq!(
        err,
        "Error from server (NotFound): deployments.apps \"nope\" not found\n"
    );

    // A bare pod is deleted for good.
    assert_eq!(g.ok(&["delete", "pod", "asa-x"]), "pod \"asa-x\" deleted\n");
    assert!(rows(&g).iter().all(|r| r[0] != "asa-x"));
    g.stop();
}

#[test]
fn logs_show_the_access_log_and_previous_shows_the_explosion() {
    let g = Galaxy::up(
        &["k8s/starwars.yml"],
        &["--explode-after", "1s", "--restart-backoff", "1s"],
    );
    let ds = replicas(&g);
    // No previous container before a restart: kubectl's BadRequest.
    let err = fails(&g, &["logs", &ds[0], "--previous"]);
    assert_eq!(
        err,
        format!(
            "Error from server (BadRequest): previous terminated container \"estrela-da-morte\" in pod \"{}\" not found\n",
            ds[0]
        )
    );
    let err = fails(&g, &["logs", "nope"]);
    assert_eq!(
        err,
        "Error from server (NotFound): pods \"nope\" not found\n"
    );
    for _ in 0..4 {
        lands(&g);
    }
    let both = format!("{}{}", g.ok(&["logs", &ds[0]]), g.ok(&["logs", &ds[1]]));
    assert!(both.contains("estrela-da-morte is up"), "{both}");
    assert!(both.contains("\"path\":\"/v1/request-landing\""), "{both}");
    let last = g.ok(&["logs", &ds[0], "--tail", "1"]);
    assert_eq!(last.lines().count(), 1, "{last}");

    // The exhaust port: the replica that took it explodes and restarts; its previous log ends
    // with the panic.
    let out = g.curl(
        true,
        "caca-tie",
        &["-s", "-XPUT", &format!("{SVC}/v1/exhaust-port")],
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Panic: deathstar exploded"));
    let mut exploded = None;
    eventually("a replica restarts after the exhaust port", || {
        exploded = rows(&g)
            .into_iter()
            .find(|r| r[3] == "1" && r[1] == "1/1")
            .map(|r| r[0].clone());
        exploded.is_some()
    });
    let exploded = exploded.unwrap();
    let prev = g.ok(&["logs", &exploded, "-p"]);
    assert!(
        prev.contains("exhaust port hit: the Death Star explodes"),
        "{prev}"
    );
    assert!(
        prev.contains("\"path\":\"/v1/exhaust-port\",\"status\":503"),
        "{prev}"
    );
    assert!(prev.contains("the Death Star exploded"), "{prev}");
    assert!(
        prev.ends_with("        temp/main.go:5 +0x85\n")
            && prev.contains("Panic: deathstar exploded\n"),
        "{prev}"
    );
    let now = g.ok(&["logs", &exploded]);
    assert!(
        now.contains("estrela-da-morte is up") && !now.contains("exploded"),
        "{now}"
    );

    // -f prints what comes and ends when the pod is deleted.
    let mut follow = g
        .command(&["logs", "-f", &exploded])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    g.ok(&["delete", "pod", &exploded]);
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(s) = follow.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed().as_secs() < 10,
            "logs -f did not end with its pod"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(status.success());
    let mut text = String::new();
    std::io::Read::read_to_string(&mut follow.stdout.take().unwrap(), &mut text).unwrap();
    assert!(text.contains("estrela-da-morte is up"), "{text}");

    // A ship's log: its patrol.
    let ship = g.ok(&["logs", "caca-tie"]);
    assert!(ship.contains("patrol started"), "{ship}");
    g.stop();
}

#[test]
fn apply_over_create_warns_of_the_missing_last_applied_annotation() {
    let g = Galaxy::up(&["k8s/starwars.yml"], &["--no-patrol"]);
    let warning = "Warning: resource ciliumnetworkpolicies/regra1 is missing the kubectl.kubernetes.io/last-applied-configuration annotation which is required by kubectl apply. kubectl apply should only be used on resources created declaratively by either kubectl create --save-config or kubectl apply. The missing annotation will be patched automatically.\n";
    let args = ["create", "-f", "k8s/politica_l4.yml"];
    assert_eq!(
        g.ok(&args),
        "ciliumnetworkpolicy.cilium.io/regra1 created\n"
    );
    let args = ["apply", "-f", "k8s/politica_l4.yml"];
    let out = g.run(&args);
    assert!(out.status.success(), "{}", describe(&args, &out));
    assert_eq!(String::from_utf8_lossy(&out.stderr), warning);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "ciliumnetworkpolicy.cilium.io/regra1 configured\n"
    );
    // Patched: the next apply neither warns nor changes anything.
    let out = g.run(&args);
    assert!(out.stderr.is_empty(), "{}", describe(&args, &out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "ciliumnetworkpolicy.cilium.io/regra1 unchanged\n"
    );
    // create --save-config records it: no warning.
    g.ok(&["delete", "cnp", "regra1"]);
    g.ok(&["create", "--save-config", "-f", "k8s/politica_l4.yml"]);
    let out = g.run(&args);
    assert!(out.stderr.is_empty(), "{}", describe(&args, &out));
    g.stop();
}

/// Two documents of one name in one file are two objects to kubectl, visited in order: `create`
/// makes the first and refuses the second as AlreadyExists, `apply` makes the first and
/// configures it with the second.
#[test]
fn a_name_twice_in_one_file_is_created_then_refused_or_configured() {
    let g = Galaxy::up(&["k8s/starwars.yml"], &["--no-patrol"]);
    let root = galaxy_util::repo_root();
    let l4 = std::fs::read_to_string(root.join("k8s/politica_l4.yml")).unwrap();
    let l7 = std::fs::read_to_string(root.join("k8s/politica_l7.yml")).unwrap();
    let file = g.dir.path().join("twice.yml");
    std::fs::write(&file, format!("{l4}\n---\n{l7}")).unwrap();
    let file = file.display().to_string();

    let args = ["create", "-f", file.as_str()];
    let out = g.run(&args);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&args, &out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "ciliumnetworkpolicy.cilium.io/regra1 created\n"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "Error from server (AlreadyExists): error when creating \"{file}\": ciliumnetworkpolicies.cilium.io \"regra1\" already exists\n"
        )
    );
    // The first document is what runs: regra1 without its L7 rules.
    let cnp = g.ok(&["get", "cnp", "regra1", "-o", "json"]);
    assert!(!cnp.contains("request-landing"), "{cnp}");

    g.ok(&["delete", "cnp", "regra1"]);
    let args = ["apply", "-f", file.as_str()];
    let out = g.run(&args);
    assert!(out.status.success(), "{}", describe(&args, &out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "ciliumnetworkpolicy.cilium.io/regra1 created\n\
         ciliumnetworkpolicy.cilium.io/regra1 configured\n"
    );
    let cnp = g.ok(&["get", "cnp", "regra1", "-o", "json"]);
    assert!(cnp.contains("request-landing"), "{cnp}");
    g.stop();
}

/// The eBPF datapath plans its pods' namespaces and map entries once: it refuses, with a
/// message saying so, every verb that would add or remove a pod; `logs` shows what the pod's
/// process (the real estrela-da-morte binary) writes.
#[test]
fn the_ebpf_datapath_refuses_the_verbs_that_change_its_pods() {
    if let Err(e) = galaxia::ebpf::preflight() {
        assert!(
            !std::env::var("REQUIRE_ALL").is_ok_and(|v| v == "1"),
            "REQUIRE_ALL=1 and the eBPF datapath cannot run here: {e}"
        );
        eprintln!("skipped: the eBPF datapath cannot run here: {e}");
        return;
    }
    let g = Galaxy::up(
        &["k8s/starwars.yml"],
        &["--no-patrol", "--datapath", "ebpf"],
    );
    let ds = replicas(&g);
    let scale = ["scale", "deployment", "estrela-da-morte", "--replicas=3"];
    let restart = ["rollout", "restart", "deployment/estrela-da-morte"];
    for args in [
        &["delete", "pod", ds[0].as_str()][..],
        &scale[..],
        &restart[..],
    ] {
        let err = fails(&g, args);
        assert!(
            err.contains("needs the userspace datapath") && err.contains("--datapath ebpf"),
            "{err}"
        );
    }
    assert_eq!(replicas(&g), ds);
    lands(&g);
    let log = g.ok(&["logs", &ds[0]]);
    assert!(log.contains("estrela-da-morte is up"), "{log}");
    let err = fails(&g, &["logs", &ds[0], "-p"]);
    assert!(
        err.starts_with("Error from server (BadRequest): previous terminated container"),
        "{err}"
    );
    g.stop();
}
