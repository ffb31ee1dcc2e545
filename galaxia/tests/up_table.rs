//! `galaxia up` says, before anything else, what it read and what it runs: each object of the
//! `-f` files, loaded or ignored and why (as `kubectl create -f` would: the second regra1 is
//! refused with kubectl's AlreadyExists, the first one runs), then the pods with their IP and
//! node, the Services with their ClusterIP and ports, the policies and the galaxy's ports.

mod galaxy_util;

use galaxy_util::Galaxy;

/// The line of `table` whose cells hold all of `pieces`.
fn row<'a>(table: &'a str, pieces: &[&str]) -> &'a str {
    table
        .lines()
        .find(|l| pieces.iter().all(|p| l.contains(p)))
        .unwrap_or_else(|| panic!("no line with {pieces:?} in:\n{table}"))
}

#[test]
fn up_on_the_k8s_directory_follows_kubectl_create() {
    let g = Galaxy::up(&["k8s/"], &["--no-patrol"]);
    let out = g.stdout();
    // Directory order, each object's fate.
    row(
        &out,
        &[
            "k8s/politica_l4.yml",
            "ciliumnetworkpolicy.cilium.io/regra1",
            "loaded",
        ],
    );
    row(
        &out,
        &[
            "k8s/politica_l7.yml",
            "ciliumnetworkpolicy.cilium.io/regra1",
            "ignored: Error from server (AlreadyExists): error when creating \"k8s/politica_l7.yml\": ciliumnetworkpolicies.cilium.io \"regra1\" already exists",
        ],
    );
    row(&out, &["k8s/politica_visibilidade.yml", "loaded"]);
    row(
        &out,
        &[
            "k8s/starwars.yml",
            "deployment.apps/estrela-da-morte",
            "loaded",
        ],
    );
    row(
        &out,
        &["k8s/starwars.yml", "service/estrela-da-morte", "loaded"],
    );
    row(&out, &["k8s/starwars.yml", "pod/caca-tie", "loaded"]);
    row(
        &out,
        &[
            "k8s/loadtest-job.yml",
            "job.batch/loadtest",
            "ignored: galaxia runs Pods",
        ],
    );
    row(
        &out,
        &[
            "k8s/kustomization.yaml",
            "ignored: `kubectl apply -k`'s file",
        ],
    );
    row(&out, &["k8s/cluster.yml", "read: the kind cluster's nodes"]);
    let files = out.find("FILE ").expect("the files' table");
    let running = out.find("WHAT ").expect("the table of what runs");
    assert!(files < running, "the files come first:\n{out}");

    // The regra1 that runs is politica_l4.yml's: no HTTP rule in it.
    let cnp = g.ok(&["get", "cnp", "regra1", "-o", "json"]);
    assert!(!cnp.contains("request-landing"), "{cnp}");
    row(
        &out,
        &[
            "policy",
            "default/regra1",
            "CiliumNetworkPolicy from k8s/politica_l4.yml",
        ],
    );

    // Every pod with its IP and node, as get pods says; the Service with its ClusterIP.
    // kubectl's wide columns: NAME READY STATUS RESTARTS AGE IP NODE ...
    let wide = g.ok(&["get", "pods", "-o", "wide", "--no-headers"]);
    assert_eq!(wide.lines().count(), 4, "{wide}");
    for line in wide.lines() {
        let cells: Vec<&str> = line.split_whitespace().collect();
        let (name, ip, node) = (cells[0], cells[5], cells[6]);
        row(
            &out,
            &[
                "pod ",
                &format!("default/{name} "),
                &format!(" {ip} "),
                &format!("node {node},"),
            ],
        );
    }
    // kubectl's columns: NAME TYPE CLUSTER-IP ...
    let svc = g.ok(&["get", "svc", "estrela-da-morte", "--no-headers"]);
    let ip = svc
        .split_whitespace()
        .nth(2)
        .unwrap_or_else(|| panic!("the Service's ClusterIP in {svc}"))
        .to_string();
    row(
        &out,
        &[
            "service ",
            "default/estrela-da-morte",
            &ip,
            "ClusterIP, port(s) 80/TCP",
        ],
    );

    // The galaxy's own ports, as the discovery file has them.
    let d: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(g.control_file()).expect("discovery file"))
            .expect("discovery json");
    row(&out, &["control API", d["addr"].as_str().expect("addr")]);
    row(
        &out,
        &["Hubble (gRPC)", d["hubble"].as_str().expect("hubble")],
    );
    row(
        &out,
        &[
            "Hubble UI",
            &format!("http://{}", d["ui"].as_str().expect("ui")),
        ],
    );
}

#[test]
fn the_first_file_to_name_an_object_wins_in_command_line_order() {
    let g = Galaxy::up(
        &[
            "k8s/starwars.yml",
            "k8s/politica_l7.yml",
            "k8s/politica_l4.yml",
        ],
        &["--no-patrol"],
    );
    let out = g.stdout();
    row(&out, &["k8s/politica_l7.yml", "regra1", "loaded"]);
    row(
        &out,
        &[
            "k8s/politica_l4.yml",
            "regra1",
            "ignored: Error from server (AlreadyExists)",
        ],
    );
    let cnp = g.ok(&["get", "cnp", "regra1", "-o", "json"]);
    assert!(
        cnp.contains("request-landing"),
        "politica_l7.yml's regra1 runs: {cnp}"
    );
}

#[test]
fn a_misspelled_kind_still_stops_up_with_kubectls_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("bad.yml");
    std::fs::write(
        &bad,
        "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolcy\nmetadata:\n  name: regra1\nspec:\n  endpointSelector: {}\n",
    )
    .expect("write");
    let out = galaxy_util::up_refused(
        &dir.path().join("control.json"),
        &["k8s/starwars.yml", bad.to_str().expect("path")],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no matches for kind \"CiliumNetworkPolcy\" in version \"cilium.io/v2\""),
        "{err}"
    );
}
