//! `galaxia get` as kubectl prints it, through the real binary against a real galaxy: the book's
//! exact `get pod,svc`, kubectl's kind spellings and `all`, its columns (the `kubernetes` Service
//! included), its order (by name), `-l`, `-n`, `-A`, `--show-labels`, `--no-headers`, `-o name`,
//! `-o wide`, and its messages for an unknown type and an empty namespace; Deployments,
//! ReplicaSets, Endpoints (with kubectl's `+ N more...`) and `get all`; `-o yaml`, `-o json`
//! (the API server's objects, a `List` for several), `-o jsonpath=...`, and `-w`.

#![allow(clippy::unwrap_used)] // a test may unwrap: a panic is its failure report

mod galaxy_util;

use galaxy_util::{Galaxy, describe};
use regex::Regex;

/// The AGE cells, which change from second to second, as `AGE` (the column's padding kept
/// when it is not the last).
fn masked(table: &str) -> String {
    let age = Regex::new(r"(?m)   \d+s( +|$)").unwrap();
    age.replace_all(table, |c: &regex::Captures<'_>| {
        let cell = c[0].len() - 3;
        if c[1].is_empty() {
            "   AGE".to_string()
        } else {
            format!("   {:w$}", "AGE", w = cell.max(6))
        }
    })
    .into_owned()
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
    // kubectl's other spellings of the same kinds (`all` adds the workloads: see below).
    for spelling in ["pods,services", "po,service"] {
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

/// The Death Star replicas' names (sorted) and their IPs (in the same order).
fn death_stars(g: &Galaxy) -> (Vec<String>, Vec<String>) {
    let names: Vec<String> = g
        .ok(&[
            "get",
            "pods",
            "-l",
            "class=estrela-da-morte",
            "-o",
            "jsonpath={.items[*].metadata.name}",
        ])
        .split(' ')
        .map(str::to_string)
        .collect();
    let ips = g
        .ok(&[
            "get",
            "pods",
            "-l",
            "class=estrela-da-morte",
            "-o",
            "jsonpath={.items[*].status.podIP}",
        ])
        .split(' ')
        .map(str::to_string)
        .collect();
    (names, ips)
}

#[test]
fn workloads_endpoints_and_all() {
    let g = Galaxy::up(&["k8s/starwars.yml"], &["--no-patrol"]);
    let (ds, ips) = death_stars(&g);
    let rs = ds[0].rsplit_once('-').unwrap().0.to_string();
    let hash = rs.rsplit_once('-').unwrap().1.to_string();

    let deploy = g.ok(&["get", "deploy"]);
    let want = "NAME               READY   UP-TO-DATE   AVAILABLE   AGE\n\
                estrela-da-morte   2/2     2            2           AGE\n";
    assert_eq!(masked(&deploy), want, "{deploy}");
    for spelling in ["deployment", "deployments", "deployments.apps"] {
        assert_eq!(masked(&g.ok(&["get", spelling])), want, "{spelling}");
    }
    let wide = g.ok(&["get", "deploy", "-o", "wide"]);
    assert_eq!(
        masked(&wide),
        "NAME               READY   UP-TO-DATE   AVAILABLE   AGE   CONTAINERS         IMAGES                           SELECTOR\n\
         estrela-da-morte   2/2     2            2           AGE   estrela-da-morte   jornada/estrela-da-morte:0.1.0   class=estrela-da-morte,org=imperio\n",
        "{wide}"
    );
    let rs_wide = g.ok(&["get", "rs", "-o", "wide", "--no-headers"]);
    assert_eq!(
        masked(&rs_wide),
        format!(
            "{rs}   2     2     2     AGE   estrela-da-morte   jornada/estrela-da-morte:0.1.0   class=estrela-da-morte,org=imperio,pod-template-hash={hash}\n"
        ),
        "{rs_wide}"
    );

    // Endpoints: ip:port of the ready pods; the kubernetes Service has none in a galaxy.
    let ep = g.ok(&["get", "ep"]);
    let cell = format!("{}:80,{}:80", sorted_ips(&ips)[0], sorted_ips(&ips)[1]);
    let w = cell.len().max("ENDPOINTS".len()) + 3;
    assert_eq!(
        masked(&ep),
        format!(
            "NAME               {:w$}AGE\nestrela-da-morte   {cell:w$}AGE\nkubernetes         {:w$}AGE\n",
            "ENDPOINTS", "<none>"
        ),
        "{ep}"
    );
    assert_eq!(g.ok(&["get", "endpoints"]), ep);

    // kubectl's `all`: pods, Services, Deployments, ReplicaSets, each named with its kind.
    let all = masked(&g.ok(&["get", "all"]));
    let blocks: Vec<&str> = all.split("\n\n").collect();
    assert_eq!(blocks.len(), 4, "{all}");
    assert!(
        blocks[0].starts_with("NAME ") && blocks[0].contains("\npod/asa-x "),
        "{all}"
    );
    assert!(blocks[1].contains("\nservice/kubernetes "), "{all}");
    assert_eq!(
        blocks[2],
        "NAME                               READY   UP-TO-DATE   AVAILABLE   AGE\n\
         deployment.apps/estrela-da-morte   2/2     2            2           AGE"
    );
    assert_eq!(
        blocks[3],
        format!(
            "NAME                                          DESIRED   CURRENT   READY   AGE\n\
             replicaset.apps/{rs}   2         2         2       AGE\n"
        )
    );
    assert_eq!(
        g.ok(&["get", "all", "-o", "name"])
            .lines()
            .filter(|l| l.contains(".apps/"))
            .collect::<Vec<_>>(),
        vec![
            "deployment.apps/estrela-da-morte".to_string(),
            format!("replicaset.apps/{rs}")
        ]
    );

    // The CRD's printer columns (Cilium 1.15.10: Age only).
    g.ok(&["apply", "-f", "k8s/politica_l7.yml"]);
    assert_eq!(
        masked(&g.ok(&["get", "cnp"])),
        "NAME     AGE\nregra1   AGE\n"
    );

    // kubectl's NotFound for each kind, exit 1.
    for (args, message) in [
        (
            vec!["get", "svc", "x"],
            "Error from server (NotFound): services \"x\" not found\n",
        ),
        (
            vec!["get", "deploy", "x"],
            "Error from server (NotFound): deployments.apps \"x\" not found\n",
        ),
        (
            vec!["get", "ep", "x"],
            "Error from server (NotFound): endpoints \"x\" not found\n",
        ),
        (
            vec!["get", "svc", "x", "-o", "yaml"],
            "Error from server (NotFound): services \"x\" not found\n",
        ),
    ] {
        let out = g.run(&args);
        assert_eq!(out.status.code(), Some(1), "{}", describe(&args, &out));
        assert_eq!(String::from_utf8_lossy(&out.stderr), message);
        assert!(out.stdout.is_empty(), "{}", describe(&args, &out));
    }
}

fn sorted_ips(ips: &[String]) -> Vec<String> {
    let mut v = ips.to_vec();
    v.sort();
    v
}

#[test]
fn endpoints_past_three_say_how_many_more() {
    let dir = tempfile::tempdir().unwrap();
    let five = std::fs::read_to_string(galaxy_util::repo_root().join("k8s/starwars.yml"))
        .unwrap()
        .replace("replicas: 2", "replicas: 5");
    let file = dir.path().join("five.yml");
    std::fs::write(&file, five).unwrap();
    let g = Galaxy::up(&[file.to_str().unwrap()], &["--no-patrol"]);
    let (_, ips) = death_stars(&g);
    let ips = sorted_ips(&ips);
    let ep = g.ok(&["get", "ep", "estrela-da-morte", "--no-headers"]);
    assert!(
        ep.starts_with(&format!(
            "estrela-da-morte   {}:80,{}:80,{}:80 + 2 more...   ",
            ips[0], ips[1], ips[2]
        )),
        "{ep}"
    );
    let svc = g.ok(&["describe", "svc", "estrela-da-morte"]);
    assert!(svc.contains(" + 2 more...\n"), "{svc}");
}

#[test]
fn kubectls_object_printers() {
    let g = Galaxy::up(&["k8s/starwars.yml"], &["--no-patrol"]);
    let (ds, _) = death_stars(&g);
    let svc_ip = g.ok(&[
        "get",
        "svc",
        "estrela-da-morte",
        "-o",
        "jsonpath={.spec.clusterIP}",
    ]);

    // -o yaml: the Service as the API server gives it (its defaults filled in), keys sorted,
    // lists at their key's indentation, go-yaml's quotes.
    let yaml = g.ok(&["get", "svc", "estrela-da-morte", "-o", "yaml"]);
    let stamp = Regex::new(r#""\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z""#).unwrap();
    assert_eq!(
        stamp.replace_all(&yaml, "TIME"),
        format!(
            "apiVersion: v1\n\
             kind: Service\n\
             metadata:\n\
             \x20 creationTimestamp: TIME\n\
             \x20 labels:\n\
             \x20   app.kubernetes.io/name: estrela-da-morte\n\
             \x20 name: estrela-da-morte\n\
             \x20 namespace: default\n\
             spec:\n\
             \x20 clusterIP: {svc_ip}\n\
             \x20 clusterIPs:\n\
             \x20 - {svc_ip}\n\
             \x20 internalTrafficPolicy: Cluster\n\
             \x20 ipFamilies:\n\
             \x20 - IPv4\n\
             \x20 ipFamilyPolicy: SingleStack\n\
             \x20 ports:\n\
             \x20 - name: http\n\
             \x20   port: 80\n\
             \x20   protocol: TCP\n\
             \x20   targetPort: http\n\
             \x20 selector:\n\
             \x20   class: estrela-da-morte\n\
             \x20   org: imperio\n\
             \x20 sessionAffinity: None\n\
             \x20 type: ClusterIP\n\
             status:\n\
             \x20 loadBalancer: {{}}\n"
        ),
        "{yaml}"
    );
    let pod_yaml = g.ok(&["get", "pod", "caca-tie", "-o", "yaml"]);
    assert!(
        pod_yaml.contains("\n    prometheus.io/port: \"9090\"\n"),
        "{pod_yaml}"
    );

    // -o json: one object for one name, four-space indents; a List for a listing.
    let one: serde_json::Value =
        serde_json::from_str(&g.ok(&["get", "pod", "caca-tie", "-o", "json"])).unwrap();
    assert_eq!(one["kind"], "Pod");
    assert_eq!(one["metadata"]["name"], "caca-tie");
    assert_eq!(one["status"]["phase"], "Running");
    let text = g.ok(&["get", "pods", "-o", "json"]);
    assert!(
        text.starts_with("{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n"),
        "{text}"
    );
    assert!(
        text.ends_with("    ],\n    \"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}\n"),
        "{text}"
    );
    let list: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 4);
    assert_eq!(
        list["items"][2]["metadata"]["ownerReferences"][0]["kind"],
        "ReplicaSet"
    );
    let replica: serde_json::Value =
        serde_json::from_str(&g.ok(&["get", "pods", &ds[0], "-o", "json"])).unwrap();
    assert_eq!(replica["metadata"]["labels"]["class"], "estrela-da-morte");

    // -o jsonpath: kubectl's three everyday forms.
    assert_eq!(
        g.ok(&["get", "pods", "-o", "jsonpath={.items[*].metadata.name}"]),
        format!("asa-x caca-tie {} {}", ds[0], ds[1])
    );
    assert_eq!(
        g.ok(&["get", "pod", "asa-x", "-o", "jsonpath={.metadata.name}"]),
        "asa-x"
    );
    assert_eq!(
        g.ok(&[
            "get",
            "pods",
            "-o",
            "jsonpath={range .items[*]}{.metadata.name}{\"\\n\"}{end}"
        ]),
        format!("asa-x\ncaca-tie\n{}\n{}\n", ds[0], ds[1])
    );
    assert_eq!(
        g.ok(&[
            "get",
            "pods",
            "-l",
            "org=imperio",
            "-o",
            "jsonpath={.items[*].metadata.labels.class}"
        ]),
        "caca-tie estrela-da-morte estrela-da-morte"
    );
}

#[test]
fn watch_prints_a_line_per_change() {
    use std::io::{BufRead, BufReader};
    let g = Galaxy::up(&["k8s/starwars.yml"], &["--no-patrol"]);
    let (ds, _) = death_stars(&g);
    let mut child = g
        .command(&["get", "pods", "-w"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let next = || rx.recv_timeout(std::time::Duration::from_secs(20)).unwrap();
    let head = next();
    assert!(
        head.starts_with("NAME ") && head.ends_with("   AGE"),
        "{head}"
    );
    for _ in 0..4 {
        next();
    }
    // The exhaust port: the replica that answers panics, and the watch shows its fall and return.
    let out = g.run(&[
        "exec",
        "caca-tie",
        "--",
        "curl",
        "-s",
        "-XPUT",
        "http://estrela-da-morte/v1/exhaust-port",
    ]);
    assert!(out.status.success(), "{}", describe(&["exec"], &out));
    let mut seen = Vec::new();
    while !seen.iter().any(|l: &String| l.contains("   1 (")) {
        seen.push(next());
    }
    let col = head.find("READY").unwrap();
    for l in &seen {
        assert!(ds.iter().any(|d| l.starts_with(d.as_str())), "{seen:?}");
        // The table's widths are kept (kubectl's RememberWidths).
        assert_eq!(&l[col - 3..col], "   ", "{seen:?}");
    }
    assert!(seen.iter().any(|l| l.contains(" Error ")), "{seen:?}");
    // A deleted pod: its last line, not ready and Terminating, and its replacement's.
    let deleted = g.ok(&["delete", "pod", &ds[1]]);
    assert_eq!(deleted, format!("pod \"{}\" deleted\n", ds[1]));
    let mut after = Vec::new();
    while !after.iter().any(|l: &String| l.starts_with(&ds[1])) || after.len() < 2 {
        after.push(next());
    }
    let gone = after.iter().find(|l| l.starts_with(&ds[1])).unwrap();
    assert!(gone.contains("   0/1     Terminating   "), "{after:?}");
    assert!(
        after
            .iter()
            .any(|l| l.starts_with("estrela-da-morte-")
                && !ds.contains(&l[..ds[0].len()].to_string())),
        "the ReplicaSet's new pod: {after:?}"
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap()),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(0),
        "Ctrl+C ends the watch as kubectl's: exit 0"
    );

    let several = g.run(&["get", "pod,svc", "-w"]);
    assert_eq!(several.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&several.stderr),
        "error: watch is only supported on individual resources and resource collections - more than 1 resource was found\n"
    );
}
