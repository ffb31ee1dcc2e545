//! `galaxia get` as kubectl prints it, through the real binary against a real galaxy: the book's
//! exact `get pod,svc`, kubectl's kind spellings and `all`, its columns (the `kubernetes` Service
//! included), its order (by name), `-l`, `-n`, `-A`, `--show-labels`, `--no-headers`, `-o name`,
//! `-o wide`, and its messages for an unknown type and an empty namespace.

#![allow(clippy::unwrap_used)] // a test may unwrap: a panic is its failure report

mod galaxy_util;

use galaxy_util::{Galaxy, describe};
use regex::Regex;

/// The AGE cells, which change from second to second, as `AGE`.
fn masked(table: &str) -> String {
    let age = Regex::new(r"(?m)   \d+s(   |$)").unwrap();
    age.replace_all(table, "   AGE$1").into_owned()
}

#[test]
fn kubectls_get() {
    let g = Galaxy::up(&["k8s/starwars.yml"], &["--no-patrol"]);
    let pods: Vec<String> = {
        let mut v: Vec<String> = g
            .pods()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let (ds1, ds2) = (&pods[2], &pods[3]);
    let svc_ip = {
        let svcs = g.ok(&["get", "svc", "estrela-da-morte", "--no-headers"]);
        svcs.split_whitespace().nth(2).unwrap().to_string()
    };
    assert!(svc_ip.starts_with("10."), "{svc_ip}");

    // The book's command, verbatim: both kinds, each name with its kind, a blank line between.
    let both = g.ok(&["get", "pod,svc"]);
    let w = ds1.len() + 4;
    let want = format!(
        "{:w$}READY   STATUS    RESTARTS   AGE\n\
         {:w$}1/1     Running   0          AGE\n\
         {:w$}1/1     Running   0          AGE\n\
         {:w$}1/1     Running   0          AGE\n\
         {:w$}1/1     Running   0          AGE\n\
         \n\
         NAME                       TYPE        CLUSTER-IP      EXTERNAL-IP   PORT(S)   AGE\n\
         service/estrela-da-morte   ClusterIP   {svc_ip:<13}   <none>        80/TCP    AGE\n\
         service/kubernetes         ClusterIP   10.96.0.1       <none>        443/TCP   AGE\n",
        "NAME",
        "pod/asa-x",
        "pod/caca-tie",
        format!("pod/{ds1}"),
        format!("pod/{ds2}"),
        w = w + 3,
    );
    assert_eq!(masked(&both), want, "{both}");
    // kubectl's other spellings of the same kinds, and `all`.
    for spelling in ["pods,services", "po,service", "all"] {
        assert_eq!(masked(&g.ok(&["get", spelling])), want, "get {spelling}");
    }

    // One kind: bare names, sorted by name.
    let names: Vec<String> = g
        .ok(&["get", "pods", "--no-headers"])
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    assert_eq!(names, pods);

    // The README's kind section: a label selector.
    let deathstars = g.ok(&["get", "pods", "-l", "class=estrela-da-morte", "-o", "name"]);
    assert_eq!(deathstars, format!("pod/{ds1}\npod/{ds2}\n"));
    let rebels = g.ok(&["get", "pods", "--selector", "org!=imperio", "-o", "name"]);
    assert_eq!(rebels, "pod/asa-x\n");

    let labelled = g.ok(&["get", "pods", "asa-x", "--show-labels"]);
    assert!(
        labelled
            .lines()
            .next()
            .unwrap()
            .ends_with("   AGE   LABELS"),
        "{labelled}"
    );
    assert!(
        labelled.ends_with("   app.kubernetes.io/name=asa-x,class=asa-x,org=alianca\n"),
        "{labelled}"
    );

    let wide = g.ok(&["get", "svc", "-o", "wide"]);
    assert!(
        wide.lines()
            .next()
            .unwrap()
            .ends_with("PORT(S)   AGE   SELECTOR"),
        "{wide}"
    );
    assert!(
        wide.contains("   class=estrela-da-morte,org=imperio\n"),
        "{wide}"
    );

    let everywhere = g.ok(&["get", "pods", "-A"]);
    assert!(everywhere.starts_with("NAMESPACE   NAME "), "{everywhere}");
    assert!(everywhere.contains("\ndefault     asa-x "), "{everywhere}");

    // kubectl's messages, on stderr, with its exit codes.
    let other = g.run(&["get", "pods", "-n", "kube-system"]);
    assert_eq!(
        other.status.code(),
        Some(0),
        "{}",
        describe(&["-n"], &other)
    );
    assert_eq!(String::from_utf8_lossy(&other.stdout), "");
    assert_eq!(
        String::from_utf8_lossy(&other.stderr),
        "No resources found in kube-system namespace.\n"
    );
    let unknown = g.run(&["get", "pod,naves"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&unknown.stderr),
        "error: the server doesn't have a resource type \"naves\"\n"
    );
    let partly = g.run(&["get", "pods", "nope", "asa-x", "--no-headers"]);
    assert_eq!(partly.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&partly.stdout).starts_with("asa-x "));
    assert_eq!(
        String::from_utf8_lossy(&partly.stderr),
        "Error from server (NotFound): pods \"nope\" not found\n"
    );
}
