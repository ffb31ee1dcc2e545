//! `galaxia describe` as kubectl 1.31's describers print it, through the real binary against a
//! real galaxy: the generic describer of a custom resource (cnp), the Service, Pod, Deployment,
//! ReplicaSet and Endpoints describers, Go's tabwriter layout (a column is aligned over the
//! consecutive lines that have it), kubectl's spellings of the kinds, its prefix fallback
//! (`describe pod estrela-da-morte`), its NotFound message and a pod's Events. The expected texts follow
//! k8s.io/kubectl/pkg/describe/describe.go; only times (and events' ages) are masked.

#![allow(clippy::unwrap_used)] // a test may unwrap: a panic is its failure report

mod galaxy_util;

use galaxy_util::{Galaxy, describe};
use regex::Regex;

/// RFC 1123Z and RFC 3339 times as `TIME`, uids as `UID`, resource versions as `RV`.
fn masked(text: &str) -> String {
    let uid =
        Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}").unwrap();
    let rv = Regex::new(r"(Resource Version: +)\d+").unwrap();
    let text = uid.replace_all(text, "UID");
    let text = rv.replace_all(&text, "${1}RV").into_owned();
    let text = text.as_str();
    let rfc1123 =
        Regex::new(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000").unwrap();
    let rfc3339 = Regex::new(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z").unwrap();
    let t = rfc1123.replace_all(text, "TIME");
    let t = rfc3339.replace_all(&t, "TIME");
    // An event's age (`3s`, `12s`) as `AGE`, padded to the Age column's 6 cells.
    let event_age = Regex::new(r"(?m)^(  Normal  [A-Za-z]+ +)\d{1,2}s +").unwrap();
    event_age.replace_all(&t, "${1}AGE   ").into_owned()
}

/// A pod's IP and node (and the node's address) from `get -o jsonpath`.
fn placed(g: &Galaxy, pod: &str) -> (String, String, String) {
    let out = g.ok(&[
        "get",
        "pod",
        pod,
        "-o",
        "jsonpath={.status.podIP} {.spec.nodeName} {.status.hostIP}",
    ]);
    let v: Vec<&str> = out.split(' ').collect();
    (v[0].to_string(), v[1].to_string(), v[2].to_string())
}

#[test]
fn kubectls_describers() {
    let g = Galaxy::up(&["k8s/starwars.yml"], &["--no-patrol"]);
    g.ok(&["apply", "-f", "k8s/politica_l7.yml"]);

    // The generic describer: metadata fields in Title Case, spec nested two spaces a level,
    // label keys title-cased too (kubectl's smartLabelFor), no invented fields.
    let cnp = g.ok(&["describe", "cnp", "regra1"]);
    assert_eq!(
        masked(&cnp),
        "Name:         regra1\n\
         Namespace:    default\n\
         Labels:       <none>\n\
         Annotations:  <none>\n\
         API Version:  cilium.io/v2\n\
         Kind:         CiliumNetworkPolicy\n\
         Metadata:\n\
         \x20 Creation Timestamp:  TIME\n\
         \x20 Generation:          1\n\
         \x20 Resource Version:    RV\n\
         \x20 UID:                 UID\n\
         Spec:\n\
         \x20 Description:  L7 policy to restrict access to specific HTTP call\n\
         \x20 Endpoint Selector:\n\
         \x20   Match Labels:\n\
         \x20     Class:  estrela-da-morte\n\
         \x20     Org:    imperio\n\
         \x20 Ingress:\n\
         \x20   From Endpoints:\n\
         \x20     Match Labels:\n\
         \x20       Org:  imperio\n\
         \x20   To Ports:\n\
         \x20     Ports:\n\
         \x20       Port:      80\n\
         \x20       Protocol:  TCP\n\
         \x20     Rules:\n\
         \x20       Http:\n\
         \x20         Method:  POST\n\
         \x20         Path:    /v1/request-landing\n\
         Events:            <none>\n",
        "{cnp}"
    );
    assert!(!cnp.contains("Source:"), "{cnp}");
    for spelling in ["ciliumnetworkpolicy", "ciliumnetworkpolicies", "ciliumnp"] {
        assert_eq!(g.ok(&["describe", spelling, "regra1"]), cnp, "{spelling}");
    }
    assert_eq!(g.ok(&["describe", "cnp/regra1"]), cnp, "TYPE/NAME");

    // The Service describer.
    let svc_ip = g.ok(&[
        "get",
        "svc",
        "estrela-da-morte",
        "-o",
        "jsonpath={.spec.clusterIP}",
    ]);
    let ds: Vec<String> = g
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
    let mut ds_ips: Vec<String> = ds.iter().map(|p| placed(&g, p).0).collect();
    ds_ips.sort();
    let svc = g.ok(&["describe", "svc", "estrela-da-morte"]);
    assert_eq!(
        svc,
        format!(
            "Name:                     estrela-da-morte\n\
             Namespace:                default\n\
             Labels:                   app.kubernetes.io/name=estrela-da-morte\n\
             Annotations:              <none>\n\
             Selector:                 class=estrela-da-morte,org=imperio\n\
             Type:                     ClusterIP\n\
             IP Family Policy:         SingleStack\n\
             IP Families:              IPv4\n\
             IP:                       {svc_ip}\n\
             IPs:                      {svc_ip}\n\
             Port:                     http  80/TCP\n\
             TargetPort:               http/TCP\n\
             Endpoints:                {}:80,{}:80\n\
             Session Affinity:         None\n\
             Internal Traffic Policy:  Cluster\n\
             Events:                   <none>\n",
            ds_ips[0], ds_ips[1]
        ),
        "{svc}"
    );
    for spelling in ["service", "services", "service/estrela-da-morte"] {
        let args: Vec<&str> = if spelling.contains('/') {
            vec!["describe", spelling]
        } else {
            vec!["describe", spelling, "estrela-da-morte"]
        };
        assert_eq!(g.ok(&args), svc, "{spelling}");
    }

    // The Pod describer: what the galaxy knows of a ship, nothing a cluster alone knows
    // (container and image IDs).
    let (ip, node, host) = placed(&g, "caca-tie");
    let pod = g.ok(&["describe", "pod", "caca-tie"]);
    let node_line = format!("{node}/{host}");
    assert_eq!(
        masked(&pod),
        format!(
            "Name:             caca-tie\n\
             Namespace:        default\n\
             Priority:         0\n\
             Service Account:  default\n\
             Node:             {node_line}\n\
             Start Time:       TIME\n\
             Labels:           app.kubernetes.io/name=caca-tie\n\
             \x20                 class=caca-tie\n\
             \x20                 org=imperio\n\
             Annotations:      prometheus.io/path: /metrics\n\
             \x20                 prometheus.io/port: 9090\n\
             \x20                 prometheus.io/scrape: true\n\
             Status:           Running\n\
             SeccompProfile:   RuntimeDefault\n\
             IP:               {ip}\n\
             IPs:\n\
             \x20 IP:  {ip}\n\
             Containers:\n\
             \x20 nave:\n\
             \x20   Image:          jornada/caca-tie:0.1.0\n\
             \x20   Port:           9090/TCP\n\
             \x20   Host Port:      0/TCP\n\
             \x20   State:          Running\n\
             \x20     Started:      TIME\n\
             \x20   Ready:          True\n\
             \x20   Restart Count:  0\n\
             \x20   Limits:\n\
             \x20     memory:  32Mi\n\
             \x20   Requests:\n\
             \x20     cpu:        5m\n\
             \x20     memory:     8Mi\n\
             \x20   Liveness:     http-get http://:admin/healthz delay=0s timeout=1s period=10s #success=1 #failure=3\n\
             \x20   Readiness:    http-get http://:admin/readyz delay=0s timeout=1s period=5s #success=1 #failure=3\n\
             \x20   Environment:  <none>\n\
             \x20   Mounts:       <none>\n\
             Conditions:\n\
             \x20 Type                        Status\n\
             \x20 PodReadyToStartContainers   True \n\
             \x20 Initialized                 True \n\
             \x20 Ready                       True \n\
             \x20 ContainersReady             True \n\
             \x20 PodScheduled                True \n\
             Volumes:                      <none>\n\
             QoS Class:                    Burstable\n\
             Node-Selectors:               <none>\n\
             Tolerations:                  node.kubernetes.io/not-ready:NoExecute op=Exists for 300s\n\
             \x20                             node.kubernetes.io/unreachable:NoExecute op=Exists for 300s\n\
             Events:\n\
             \x20 Type    Reason     Age   From               Message\n\
             \x20 ----    ------     ----  ----               -------\n\
             \x20 Normal  Scheduled  AGE   default-scheduler  Successfully assigned default/caca-tie to {node}\n\
             \x20 Normal  Pulled     AGE   kubelet            Container image \"jornada/caca-tie:0.1.0\" already present on machine\n\
             \x20 Normal  Created    AGE   kubelet            Created container nave\n\
             \x20 Normal  Started    AGE   kubelet            Started container nave\n"
        ),
        "{pod}"
    );
    assert!(!pod.contains("Egress Proxy"), "galaxia's own field: {pod}");
    let replica = g.ok(&["describe", "po", &ds[0]]);
    assert!(
        replica.contains("\nIPs:\n  IP:           ")
            && replica.contains("\nControlled By:  ReplicaSet/estrela-da-morte-"),
        "{replica}"
    );
    assert!(
        replica.contains("\nTopology Spread Constraints:  kubernetes.io/hostname:ScheduleAnyway when max skew 1 is exceeded for selector class=estrela-da-morte,org=imperio\n"),
        "{replica}"
    );

    // kubectl's fallback for a name it cannot find: every object it prefixes, each followed
    // by a newline.
    let both = g.ok(&["describe", "pod", "estrela-da-morte"]);
    let first = g.ok(&["describe", "pod", &ds[0]]);
    let second = g.ok(&["describe", "pod", &ds[1]]);
    assert_eq!(both, format!("{first}\n{second}\n"));
    // Several names: separated by a blank line.
    assert_eq!(
        g.ok(&["describe", "pod", &ds[0], &ds[1]]),
        format!("{first}\n\n{second}")
    );

    // The Deployment describer.
    let rs = ds[0].rsplit_once('-').unwrap().0.to_string();
    let deploy = g.ok(&["describe", "deployment", "estrela-da-morte"]);
    assert_eq!(
        masked(&deploy),
        format!(
            "Name:                   estrela-da-morte\n\
             Namespace:              default\n\
             CreationTimestamp:      TIME\n\
             Labels:                 app.kubernetes.io/name=estrela-da-morte\n\
             Annotations:            deployment.kubernetes.io/revision: 1\n\
             Selector:               class=estrela-da-morte,org=imperio\n\
             Replicas:               2 desired | 2 updated | 2 total | 2 available | 0 unavailable\n\
             StrategyType:           RollingUpdate\n\
             MinReadySeconds:        0\n\
             RollingUpdateStrategy:  25% max unavailable, 25% max surge\n\
             Pod Template:\n\
             \x20 Labels:       app.kubernetes.io/name=estrela-da-morte\n\
             \x20               class=estrela-da-morte\n\
             \x20               org=imperio\n\
             \x20 Annotations:  prometheus.io/path: /metrics\n\
             \x20               prometheus.io/port: 9090\n\
             \x20               prometheus.io/scrape: true\n\
             \x20 Containers:\n\
             \x20  estrela-da-morte:\n\
             \x20   Image:       jornada/estrela-da-morte:0.1.0\n\
             \x20   Ports:       80/TCP, 9090/TCP\n\
             \x20   Host Ports:  0/TCP, 0/TCP\n\
             \x20   Limits:\n\
             \x20     memory:  64Mi\n\
             \x20   Requests:\n\
             \x20     cpu:                      10m\n\
             \x20     memory:                   16Mi\n\
             \x20   Liveness:                   http-get http://:admin/healthz delay=0s timeout=1s period=10s #success=1 #failure=3\n\
             \x20   Readiness:                  http-get http://:admin/readyz delay=0s timeout=1s period=2s #success=1 #failure=1\n\
             \x20   Environment:                <none>\n\
             \x20   Mounts:                     <none>\n\
             \x20 Volumes:                      <none>\n\
             \x20 Topology Spread Constraints:  kubernetes.io/hostname:ScheduleAnyway when max skew 1 is exceeded for selector class=estrela-da-morte,org=imperio\n\
             \x20 Node-Selectors:               <none>\n\
             \x20 Tolerations:                  <none>\n\
             Conditions:\n\
             \x20 Type           Status  Reason\n\
             \x20 ----           ------  ------\n\
             \x20 Available      True    MinimumReplicasAvailable\n\
             \x20 Progressing    True    NewReplicaSetAvailable\n\
             OldReplicaSets:  <none>\n\
             NewReplicaSet:   {rs} (2/2 replicas created)\n\
             Events:\n\
             \x20 Type    Reason             Age   From                   Message\n\
             \x20 ----    ------             ----  ----                   -------\n\
             \x20 Normal  ScalingReplicaSet  AGE   deployment-controller  Scaled up replica set {rs} to 2\n"
        ),
        "{deploy}"
    );
    for spelling in ["deploy", "deployments", "deployment.apps"] {
        assert_eq!(
            g.ok(&["describe", spelling, "estrela-da-morte"]),
            deploy,
            "{spelling}"
        );
    }
    let replicaset = g.ok(&["describe", "rs", &rs]);
    assert!(
        replicaset.starts_with(&format!(
            "Name:           {rs}\nNamespace:      default\nSelector:       class=estrela-da-morte,org=imperio,pod-template-hash="
        )) && replicaset.contains("\nControlled By:  Deployment/estrela-da-morte\nReplicas:       2 current / 2 desired\nPods Status:    2 Running / 0 Waiting / 0 Succeeded / 0 Failed\n"),
        "{replicaset}"
    );
    let mut created: Vec<String> = ds
        .iter()
        .map(|pod| {
            format!("  Normal  SuccessfulCreate  AGE   replicaset-controller  Created pod: {pod}\n")
        })
        .collect();
    created.sort();
    let events = masked(replicaset.split_once("\nEvents:\n").unwrap().1);
    let mut rows: Vec<String> = events.lines().skip(2).map(|l| format!("{l}\n")).collect();
    rows.sort();
    assert_eq!(rows, created, "{replicaset}");
    assert!(
        events.starts_with(
            "  Type    Reason            Age   From                   Message\n\
             \x20 ----    ------            ----  ----                   -------\n"
        ),
        "{replicaset}"
    );

    // The Endpoints describer.
    assert_eq!(
        g.ok(&["describe", "ep", "estrela-da-morte"]),
        format!(
            "Name:         estrela-da-morte\n\
             Namespace:    default\n\
             Labels:       app.kubernetes.io/name=estrela-da-morte\n\
             Annotations:  <none>\n\
             Subsets:\n\
             \x20 Addresses:          {},{}\n\
             \x20 NotReadyAddresses:  <none>\n\
             \x20 Ports:\n\
             \x20   Name  Port  Protocol\n\
             \x20   ----  ----  --------\n\
             \x20   http  80    TCP\n\
             \n\
             Events:  <none>\n",
            ds_ips[0], ds_ips[1]
        )
    );

    // kubectl's errors, with exit 1.
    for (args, message) in [
        (
            vec!["describe", "svc", "x"],
            "Error from server (NotFound): services \"x\" not found\n",
        ),
        (
            vec!["describe", "deploy", "x"],
            "Error from server (NotFound): deployments.apps \"x\" not found\n",
        ),
        (
            vec!["describe", "cnp", "x"],
            "Error from server (NotFound): ciliumnetworkpolicies.cilium.io \"x\" not found\n",
        ),
        (
            vec!["describe", "naves", "x"],
            "error: the server doesn't have a resource type \"naves\"\n",
        ),
    ] {
        let out = g.run(&args);
        assert_eq!(out.status.code(), Some(1), "{}", describe(&args, &out));
        assert_eq!(String::from_utf8_lossy(&out.stderr), message);
        assert!(out.stdout.is_empty());
    }
    let none = g.run(&["describe", "cnp", "-n", "kube-system"]);
    assert_eq!(
        String::from_utf8_lossy(&none.stderr),
        "No resources found in kube-system namespace.\n"
    );
}
