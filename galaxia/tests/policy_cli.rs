//! `galaxia policy trace|table` as a user runs them: the real binary on the book's files (our
//! testdata copies, and the repository's `k8s/` manifests), reading stdout, stderr and the exit code.

#![allow(clippy::unwrap_used)] // a test may unwrap: a panic is its failure report

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn testdata(rel: &str) -> String {
    root().join("testdata").join(rel).display().to_string()
}

/// Run galaxia; the failure message shows the command and both streams.
fn galaxia(args: &[&str]) -> (Output, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_galaxia"))
        .args(args)
        .output()
        .expect("galaxia runs");
    let context = format!(
        "galaxia {}\nstatus: {}\nstdout:\n{}\nstderr:\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, context)
}

fn ok(args: &[&str]) -> String {
    let (out, context) = galaxia(args);
    assert!(out.status.success(), "{context}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `policy trace -o json`, returning (verdict, policy, reason).
fn trace(files: &[String], extra: &[&str]) -> (String, Value, String) {
    let mut args = vec!["policy", "trace", "-o", "json", "-f"];
    args.extend(files.iter().map(String::as_str));
    args.extend(extra);
    let text = ok(&args);
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (
        v["verdict"].as_str().unwrap_or_default().to_string(),
        v["policy"].clone(),
        v["reason"].as_str().unwrap_or_default().to_string(),
    )
}

const LAND: [&str; 4] = ["--method", "POST", "--path", "/v1/request-landing"];
const EXHAUST: [&str; 4] = ["--method", "PUT", "--path", "/v1/exhaust-port"];
const INFO: [&str; 4] = ["--method", "GET", "--path", "/v1"];
const LAND_X: [&str; 4] = ["--method", "POST", "--path", "/v1/request-landing/x"];

fn verdict(files: &[String], from: &str, req: &[&str]) -> String {
    let mut extra = vec!["--from", from, "--to", "estrela-da-morte", "--port", "80"];
    extra.extend(req);
    trace(files, &extra).0
}

/// The checks on one set of files (the app plus, optionally, a policy).
fn book_checks(app: &str, l4: &str, l7: &str) {
    let none = vec![app.to_string()];
    for req in [&LAND[..], &EXHAUST, &INFO, &LAND_X] {
        for ship in ["caca-tie", "asa-x"] {
            assert_eq!(
                verdict(&none, ship, req),
                "forwarded",
                "no policy: {ship} {req:?}"
            );
        }
    }
    assert_eq!(verdict(&none, "asa-x", &[]), "allowed");

    let l4 = vec![app.to_string(), l4.to_string()];
    assert_eq!(verdict(&l4, "caca-tie", &[]), "allowed");
    for req in [&LAND[..], &EXHAUST, &INFO, &LAND_X] {
        assert_eq!(verdict(&l4, "caca-tie", req), "forwarded", "l4 {req:?}");
        assert_eq!(verdict(&l4, "asa-x", req), "dropped", "l4 {req:?}");
    }
    let (v, policy, reason) = trace(&l4, &["--from", "asa-x", "--to", "estrela-da-morte"]);
    assert_eq!(
        (v.as_str(), policy.as_str()),
        ("dropped", Some("default/regra1"))
    );
    assert!(
        reason.starts_with("default deny: no rule allows asa-x -> estrela-da-morte-"),
        "{reason}"
    );

    let l7 = vec![app.to_string(), l7.to_string()];
    assert_eq!(verdict(&l7, "caca-tie", &LAND), "forwarded");
    assert_eq!(verdict(&l7, "caca-tie", &EXHAUST), "denied");
    assert_eq!(verdict(&l7, "caca-tie", &INFO), "denied");
    assert_eq!(verdict(&l7, "caca-tie", &LAND_X), "denied");
    assert_eq!(verdict(&l7, "asa-x", &LAND), "dropped");
    let (_, policy, reason) = trace(&l7, &["--from", "caca-tie", "--to", "estrela-da-morte"]);
    assert_eq!(policy.as_str(), Some("default/regra1"));
    assert!(reason.contains("HTTP requests are filtered"), "{reason}");
}

#[test]
fn trace_on_the_books_files_testdata_copies() {
    book_checks(
        &testdata("livro/starwars.yml"),
        &testdata("livro/politica_l4.yml"),
        &testdata("livro/politica_l7.yml"),
    );
}

#[test]
fn trace_on_the_repositorys_k8s_manifests() {
    let k8s = root().join("../k8s");
    let files = ["starwars.yml", "politica_l4.yml", "politica_l7.yml"].map(|f| k8s.join(f));
    if let Some(missing) = files.iter().find(|f| !f.exists()) {
        println!("skipped: {} is absent", missing.display());
        return;
    }
    let [app, l4, l7] = files.map(|f| f.display().to_string());
    book_checks(&app, &l4, &l7);
}

#[test]
fn trace_on_ciliums_english_originals() {
    let app = testdata("cilium/http-sw-app.yaml");
    let files = |p: &str| vec![app.clone(), testdata(p)];
    let v = |files: &[String], from: &str, req: &[&str]| {
        let mut extra = vec!["--from", from, "--to", "deathstar"];
        extra.extend(req);
        trace(files, &extra).0
    };
    assert_eq!(
        v(&files("cilium/sw_l3_l4_policy.yaml"), "tiefighter", &LAND),
        "forwarded"
    );
    assert_eq!(
        v(&files("cilium/sw_l3_l4_policy.yaml"), "xwing", &LAND),
        "dropped"
    );
    assert_eq!(
        v(
            &files("cilium/sw_l3_l4_l7_policy.yaml"),
            "tiefighter",
            &EXHAUST
        ),
        "denied"
    );
    assert_eq!(
        v(&files("cilium/sw_deny_all.yaml"), "tiefighter", &LAND),
        "dropped"
    );
    let header = files("cilium/sw_header_policy.yaml");
    assert_eq!(v(&header, "tiefighter", &EXHAUST), "denied");
    let mut force = EXHAUST.to_vec();
    force.extend(["--header", "X-Has-Force: True"]);
    assert_eq!(v(&header, "tiefighter", &force), "forwarded");
}

#[test]
fn what_if_labels_and_human_output() {
    let l4 = vec![
        testdata("livro/starwars.yml"),
        testdata("livro/politica_l4.yml"),
    ];
    let (v, ..) = trace(
        &l4,
        &[
            "--from",
            "caca-tie",
            "--from-labels",
            "org=alianca",
            "--to",
            "estrela-da-morte",
        ],
    );
    assert_eq!(v, "dropped");
    let (v, ..) = trace(
        &l4,
        &[
            "--from-labels",
            "org=imperio,class=sonda",
            "--to",
            "estrela-da-morte",
        ],
    );
    assert_eq!(v, "allowed");
    let mut args = vec![
        "policy",
        "trace",
        "--from",
        "asa-x",
        "--to",
        "estrela-da-morte",
        "-f",
    ];
    args.extend(l4.iter().map(String::as_str));
    let text = ok(&args);
    assert!(text.contains("verdict: dropped"), "{text}");
    assert!(text.contains("policy:  default/regra1"), "{text}");
    // The Service's two replicas are both traced.
    assert_eq!(text.matches("verdict:").count(), 2, "{text}");
}

#[test]
fn table_in_three_formats() {
    let l7 = [
        testdata("livro/starwars.yml"),
        testdata("livro/politica_l7.yml"),
    ];
    let text = ok(&["policy", "table", "-f", &l7[0], &l7[1]]);
    let tie = text
        .lines()
        .find(|l| l.starts_with("caca-tie"))
        .unwrap_or_else(|| panic!("{text}"));
    let cols: Vec<&str> = tie.split_whitespace().collect();
    assert_eq!(
        cols,
        [
            "caca-tie",
            "estrela-da-morte:80",
            "forwarded",
            "denied",
            "denied"
        ],
        "{text}"
    );
    let x = text
        .lines()
        .find(|l| l.starts_with("asa-x"))
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(
        x.split_whitespace().skip(2).collect::<Vec<_>>(),
        ["dropped"; 3]
    );
    assert!(text.contains("Policies: default/regra1"), "{text}");

    let md = ok(&["policy", "table", "-o", "markdown", "-f", &l7[0], &l7[1]]);
    assert!(
        md.contains("| caca-tie | estrela-da-morte:80 | forwarded | denied | denied |"),
        "{md}"
    );

    let json: Value = serde_json::from_str(&ok(&[
        "policy", "table", "-o", "json", "-f", &l7[0], &l7[1],
    ]))
    .unwrap();
    let rows = json.as_array().unwrap();
    assert_eq!(
        rows.len(),
        2,
        "caca-tie and asa-x to the Death Star: {json}"
    );
    assert_eq!(rows[0]["land"]["verdict"], "forwarded");

    let none = ok(&["policy", "table", "-f", &testdata("livro/starwars.yml")]);
    assert!(none.contains("No CiliumNetworkPolicy"), "{none}");
    assert_eq!(none.matches("forwarded").count(), 6, "{none}");
}

#[test]
fn empty_results_print_a_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let ships = dir.path().join("naves.yml");
    std::fs::write(
        &ships,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: asa-x, labels: {org: alianca}}\nspec: {containers: [{name: nave, image: jornada/asa-x:0.1.0}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: vazio}\nspec: {selector: {org: ninguem}, ports: [{port: 80}]}\n",
    )
    .unwrap();
    let ships = ships.display().to_string();
    let text = ok(&["policy", "table", "-f", &ships]);
    assert!(text.starts_with("No Death Star pod"), "{text}");
    let text = ok(&[
        "policy", "trace", "-f", &ships, "--from", "asa-x", "--to", "vazio",
    ]);
    assert!(text.contains("selects no pod"), "{text}");
}

#[test]
fn bad_input_exits_2_with_one_message() {
    let (out, context) = galaxia(&["policy", "table", "-f", &testdata("invalid/bad-regex.yaml")]);
    assert_eq!(out.status.code(), Some(2), "{context}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("galaxia: ") && stderr.contains("RE2"),
        "{context}"
    );
    assert!(out.stdout.is_empty(), "{context}");

    let app = testdata("livro/starwars.yml");
    let (out, context) = galaxia(&[
        "policy",
        "trace",
        "-f",
        &app,
        "--from",
        "tie",
        "--to",
        "estrela-da-morte",
    ]);
    assert_eq!(out.status.code(), Some(2), "{context}");
    assert!(
        context.contains("known: asa-x, caca-tie, estrela-da-morte"),
        "{context}"
    );

    let (out, context) = galaxia(&[
        "policy",
        "trace",
        "-f",
        &app,
        "--from",
        "asa-x",
        "--to",
        "estrela-da-morte",
        "--port",
        "8080",
    ]);
    assert_eq!(out.status.code(), Some(2), "{context}");
    assert!(context.contains("no port 8080"), "{context}");
}
