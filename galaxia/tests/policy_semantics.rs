//! One test per Cilium semantic rule that galaxia emulates (DESIGN.md), each with its own small
//! policy, through the public API: load YAML text, build the policy set, ask for verdicts.

#![allow(clippy::unwrap_used)] // a test may unwrap: a panic is its failure report

use galaxia::manifest::{Manifests, load_str};
use politica::{
    ConnectionReason, ConnectionVerdict, Endpoint, HttpReason, HttpRequest, HttpVerdict, L4Verdict,
    L7Verdict, Protocol,
};

/// Pods in two namespaces: the Death Star serves 80 (`http`) and 8080 (`admin`).
const PODS: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: estrela-da-morte, labels: {org: imperio, class: estrela-da-morte}}
spec:
  containers:
    - name: estrela-da-morte
      image: jornada/estrela-da-morte:0.1.0
      ports:
        - {name: http, containerPort: 80}
        - {name: admin, containerPort: 8080}
---
apiVersion: v1
kind: Pod
metadata: {name: caca-tie, labels: {org: imperio, class: caca-tie}}
spec: {containers: [{name: nave, image: jornada/caca-tie:0.1.0}]}
---
apiVersion: v1
kind: Pod
metadata: {name: interceptador, labels: {org: imperio, class: interceptador}}
spec: {containers: [{name: nave, image: jornada/caca-tie:0.1.0}]}
---
apiVersion: v1
kind: Pod
metadata: {name: asa-x, labels: {org: alianca, class: asa-x}}
spec: {containers: [{name: nave, image: jornada/asa-x:0.1.0}]}
---
apiVersion: v1
kind: Pod
metadata: {name: sonda, namespace: outra, labels: {org: imperio, class: sonda}}
spec: {containers: [{name: nave, image: jornada/caca-tie:0.1.0}]}
---
apiVersion: v1
kind: Pod
metadata: {name: estrela-outra, namespace: outra, labels: {org: imperio, class: estrela-da-morte}}
spec: {containers: [{name: estrela-da-morte, image: jornada/estrela-da-morte:0.1.0}]}
"#;

struct World {
    m: Manifests,
}

impl World {
    fn new(policies: &str) -> World {
        let text = format!("{PODS}\n---\n{policies}");
        match load_str(&text, "test") {
            Ok(m) => World { m },
            Err(e) => panic!("the test manifests do not load: {e}"),
        }
    }

    fn ep(&self, name: &str) -> Endpoint {
        let (ns, name) = name.split_once('/').unwrap_or(("default", name));
        self.m
            .pod(ns, name)
            .unwrap_or_else(|| panic!("no pod {ns}/{name}"))
            .endpoint()
    }

    fn conn(&self, from: &str, to: &str, port: u16) -> ConnectionVerdict {
        self.m
            .policy_set()
            .connection(&self.ep(from), &self.ep(to), port, Protocol::Tcp)
    }

    fn http(
        &self,
        from: &str,
        to: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> HttpVerdict {
        let mut map = http::HeaderMap::new();
        for (k, v) in headers {
            map.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                http::HeaderValue::from_str(v).unwrap(),
            );
        }
        let req = HttpRequest {
            method,
            path,
            host: "estrela-da-morte",
            headers: &map,
        };
        self.conn(from, to, 80)
            .http(&req)
            .expect("a request on an allowed connection gets an HTTP verdict")
    }

    /// The HTTP verdict when the connection may be dropped (then there is none).
    fn http_on(&self, from: &str, to: &str, method: &str, path: &str) -> Option<HttpVerdict> {
        let map = http::HeaderMap::new();
        let req = HttpRequest {
            method,
            path,
            host: "estrela-da-morte",
            headers: &map,
        };
        self.conn(from, to, 80).http(&req)
    }

    fn allowed(&self, from: &str, to: &str, port: u16) -> bool {
        self.conn(from, to, port).verdict == L4Verdict::Allowed
    }
}

fn policy(name: &str, spec: &str) -> String {
    let indented: String = spec.lines().map(|l| format!("  {l}\n")).collect();
    format!(
        "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: {name}\nspec:\n{indented}"
    )
}

const DS: &str = "endpointSelector:\n  matchLabels: {class: estrela-da-morte}\n";

#[test]
fn without_policies_everything_is_allowed() {
    let w = World::new("");
    for from in ["caca-tie", "asa-x", "outra/sonda"] {
        let v = w.conn(from, "estrela-da-morte", 80);
        assert_eq!(v.verdict, L4Verdict::Allowed);
        assert_eq!(v.reason, ConnectionReason::NotSelected);
        assert!(v.l7.is_none());
    }
    let h = w.http("asa-x", "estrela-da-morte", "PUT", "/v1/exhaust-port", &[]);
    assert_eq!(
        (h.verdict, h.reason),
        (L7Verdict::Forwarded, HttpReason::NoL7Rules)
    );
}

#[test]
fn book_l4_policy_lets_only_the_empire_in_on_80() {
    let w = World::new(&policy(
        "regra1",
        "endpointSelector:\n  matchLabels: {org: imperio, class: estrela-da-morte}\ningress:\n  - fromEndpoints: [{matchLabels: {org: imperio}}]\n    toPorts: [{ports: [{port: \"80\", protocol: TCP}]}]",
    ));
    let v = w.conn("caca-tie", "estrela-da-morte", 80);
    assert_eq!(v.verdict, L4Verdict::Allowed);
    match &v.reason {
        ConnectionReason::AllowedBy(r) => {
            assert_eq!(r.policy.to_string(), "default/regra1");
            assert_eq!(r.path(), "spec.ingress[0].toPorts[0]");
        }
        other => panic!("{other:?}"),
    }
    let h = w.http(
        "caca-tie",
        "estrela-da-morte",
        "PUT",
        "/v1/exhaust-port",
        &[],
    );
    assert_eq!(h.verdict, L7Verdict::Forwarded, "L4 policy: any request");
    let v = w.conn("asa-x", "estrela-da-morte", 80);
    assert_eq!(v.verdict, L4Verdict::Dropped);
    assert!(
        matches!(&v.reason, ConnectionReason::DefaultDeny { selected_by } if selected_by.name == "regra1")
    );
    let text = v.explain(&w.ep("asa-x"), &w.ep("estrela-da-morte"), 80, Protocol::Tcp);
    assert!(
        text.starts_with("default deny: no rule allows asa-x -> estrela-da-morte on 80/TCP"),
        "{text}"
    );
    // AND inside the rule: the right peer on another port is dropped.
    assert!(!w.allowed("caca-tie", "estrela-da-morte", 8080));
    // Pods the policy does not select stay open.
    assert!(w.allowed("asa-x", "caca-tie", 80));
}

#[test]
fn book_l7_policy_forwards_only_landing_requests() {
    let w = World::new(&policy(
        "regra1",
        "endpointSelector:\n  matchLabels: {org: imperio, class: estrela-da-morte}\ningress:\n  - fromEndpoints: [{matchLabels: {org: imperio}}]\n    toPorts:\n      - ports: [{port: \"80\", protocol: TCP}]\n        rules:\n          http: [{method: POST, path: /v1/request-landing}]",
    ));
    let h = w.http(
        "caca-tie",
        "estrela-da-morte",
        "POST",
        "/v1/request-landing",
        &[],
    );
    assert_eq!(h.verdict, L7Verdict::Forwarded);
    assert!(
        matches!(&h.reason, HttpReason::AllowedBy(r) if r.path() == "spec.ingress[0].toPorts[0].rules.http[0]")
    );
    for (method, path) in [
        ("PUT", "/v1/exhaust-port"),
        ("GET", "/v1"),
        ("POST", "/v1/request-landing/x"),
        // `:path` includes the query, and the regex must match all of it.
        ("POST", "/v1/request-landing?ala=esquerda"),
        ("post", "/v1/request-landing"),
    ] {
        let h = w.http("caca-tie", "estrela-da-morte", method, path, &[]);
        assert_eq!(h.verdict, L7Verdict::Denied, "{method} {path}");
        assert!(matches!(h.reason, HttpReason::DefaultDeny { .. }));
    }
    assert_eq!(
        w.conn("asa-x", "estrela-da-morte", 80).verdict,
        L4Verdict::Dropped
    );
    // The connection is dropped: no request gets through, so there is no HTTP verdict at all.
    assert_eq!(
        w.http_on("asa-x", "estrela-da-morte", "POST", "/v1/request-landing"),
        None
    );
}

#[test]
fn a_policy_without_ingress_does_not_enforce_default_deny() {
    for spec in [
        DS.to_string(),
        format!("{DS}ingress: []"),
        format!("{DS}description: so um seletor"),
    ] {
        let w = World::new(&policy("sem-ingress", &spec));
        let v = w.conn("asa-x", "estrela-da-morte", 80);
        assert_eq!(v.reason, ConnectionReason::NotSelected, "{spec}");
    }
}

#[test]
fn ingress_with_an_empty_rule_selects_and_allows_nothing() {
    let w = World::new(&policy(
        "deny-all",
        "endpointSelector:\n  matchLabels: {org: imperio}\ningress:\n  - {}",
    ));
    for (from, to) in [
        ("asa-x", "estrela-da-morte"),
        ("caca-tie", "estrela-da-morte"),
        ("estrela-da-morte", "caca-tie"),
    ] {
        let v = w.conn(from, to, 80);
        assert_eq!(v.verdict, L4Verdict::Dropped, "{from} -> {to}");
        assert!(matches!(v.reason, ConnectionReason::DefaultDeny { .. }));
    }
    assert!(
        w.allowed("caca-tie", "asa-x", 80),
        "org=alianca is not selected"
    );
    assert!(
        w.allowed("caca-tie", "outra/estrela-outra", 80),
        "other namespace"
    );
}

#[test]
fn rules_and_policies_are_ored() {
    let a = policy(
        "so-imperio",
        &format!("{DS}ingress:\n  - fromEndpoints: [{{matchLabels: {{org: imperio}}}}]"),
    );
    let b = policy(
        "so-alianca",
        &format!(
            "{DS}ingress:\n  - fromEndpoints: [{{matchLabels: {{org: alianca}}}}]\n    toPorts: [{{ports: [{{port: \"80\"}}]}}]"
        ),
    );
    let w = World::new(&format!("{a}---\n{b}"));
    assert!(
        w.allowed("caca-tie", "estrela-da-morte", 8080),
        "L3-only rule: every port"
    );
    assert!(w.allowed("asa-x", "estrela-da-morte", 80));
    assert!(!w.allowed("asa-x", "estrela-da-morte", 8080));
    // Two items in one list are ORed too.
    let w = World::new(&policy(
        "lista",
        &format!(
            "{DS}ingress:\n  - fromEndpoints: [{{matchLabels: {{class: asa-x}}}}, {{matchLabels: {{class: caca-tie}}}}]"
        ),
    ));
    assert!(w.allowed("asa-x", "estrela-da-morte", 80));
    assert!(w.allowed("caca-tie", "estrela-da-morte", 80));
    assert!(!w.allowed("interceptador", "estrela-da-morte", 80));
}

#[test]
fn match_expressions_in_notin_exists_doesnotexist() {
    let case = |expr: &str| {
        World::new(&policy(
            "expr",
            &format!("{DS}ingress:\n  - fromEndpoints: [{{matchExpressions: [{expr}]}}]"),
        ))
    };
    let w = case("{key: class, operator: In, values: [caca-tie, asa-x]}");
    assert!(
        w.allowed("caca-tie", "estrela-da-morte", 80) && w.allowed("asa-x", "estrela-da-morte", 80)
    );
    assert!(!w.allowed("interceptador", "estrela-da-morte", 80));
    let w = case("{key: org, operator: NotIn, values: [alianca]}");
    assert!(
        w.allowed("caca-tie", "estrela-da-morte", 80)
            && !w.allowed("asa-x", "estrela-da-morte", 80)
    );
    let w = case("{key: org, operator: Exists}");
    assert!(w.allowed("asa-x", "estrela-da-morte", 80));
    let w = case("{key: rebelde, operator: DoesNotExist}");
    assert!(w.allowed("asa-x", "estrela-da-morte", 80));
    let w = case("{key: org, operator: DoesNotExist}");
    assert!(!w.allowed("asa-x", "estrela-da-morte", 80));
    // matchLabels and matchExpressions AND.
    let w = World::new(&policy(
        "ambos",
        &format!(
            "{DS}ingress:\n  - fromEndpoints: [{{matchLabels: {{org: imperio}}, matchExpressions: [{{key: class, operator: NotIn, values: [interceptador]}}]}}]"
        ),
    ));
    assert!(w.allowed("caca-tie", "estrela-da-morte", 80));
    assert!(!w.allowed("interceptador", "estrela-da-morte", 80));
}

#[test]
fn the_empty_selector_selects_every_pod_of_the_namespace() {
    let w = World::new(&policy(
        "todos",
        "endpointSelector: {}\ningress:\n  - fromEndpoints: [{}]",
    ));
    assert!(w.allowed("asa-x", "estrela-da-morte", 80), "same namespace");
    assert!(
        w.allowed("estrela-da-morte", "asa-x", 80),
        "every pod is selected"
    );
    assert!(
        !w.allowed("outra/sonda", "estrela-da-morte", 80),
        "fromEndpoints {{}} stays in the namespace"
    );
    assert!(
        w.allowed("caca-tie", "outra/estrela-outra", 80),
        "other namespace not selected"
    );
}

#[test]
fn source_prefixes_any_and_k8s_match_pod_labels_reserved_does_not() {
    for key in ["any:org", "k8s:org", "org"] {
        let w = World::new(&policy(
            "prefixo",
            &format!("{DS}ingress:\n  - fromEndpoints: [{{matchLabels: {{\"{key}\": alianca}}}}]"),
        ));
        assert!(w.allowed("asa-x", "estrela-da-morte", 80), "{key}");
        assert!(!w.allowed("caca-tie", "estrela-da-morte", 80), "{key}");
    }
    let w = World::new(&policy(
        "reservado",
        &format!("{DS}ingress:\n  - fromEndpoints: [{{matchLabels: {{\"reserved:host\": \"\"}}}}]"),
    ));
    assert!(!w.allowed("caca-tie", "estrela-da-morte", 80));
    let w = World::new(&policy(
        "prefixo-seletor",
        "endpointSelector:\n  matchLabels: {\"k8s:class\": estrela-da-morte}\ningress:\n  - {}",
    ));
    assert!(!w.allowed("caca-tie", "estrela-da-morte", 80));
}

#[test]
fn a_policy_is_scoped_to_its_namespace_and_so_are_its_peers() {
    // A policy in `outra` does not select the default namespace's Death Star.
    let p = policy("fechada", &format!("{DS}ingress:\n  - {{}}"))
        .replace("name: fechada", "name: fechada\n  namespace: outra");
    let w = World::new(&p);
    assert!(w.allowed("asa-x", "estrela-da-morte", 80));
    assert!(!w.allowed("asa-x", "outra/estrela-outra", 80));
    // fromEndpoints get the policy's namespace: sonda (org=imperio, in outra) is not let in...
    let w = World::new(&policy(
        "regra1",
        &format!("{DS}ingress:\n  - fromEndpoints: [{{matchLabels: {{org: imperio}}}}]"),
    ));
    assert!(w.allowed("caca-tie", "estrela-da-morte", 80));
    assert!(!w.allowed("outra/sonda", "estrela-da-morte", 80));
    // ...unless the selector names the namespace.
    for key in [
        "k8s:io.kubernetes.pod.namespace",
        "io.kubernetes.pod.namespace",
    ] {
        let w = World::new(&policy(
            "de-outra",
            &format!(
                "{DS}ingress:\n  - fromEndpoints: [{{matchLabels: {{org: imperio, \"{key}\": outra}}}}]"
            ),
        ));
        assert!(w.allowed("outra/sonda", "estrela-da-morte", 80), "{key}");
        assert!(!w.allowed("caca-tie", "estrela-da-morte", 80), "{key}");
    }
    let w = World::new(&policy(
        "qualquer-ns",
        &format!(
            "{DS}ingress:\n  - fromEndpoints: [{{matchExpressions: [{{key: k8s:io.kubernetes.pod.namespace, operator: Exists}}], matchLabels: {{org: imperio}}}}]"
        ),
    ));
    assert!(w.allowed("outra/sonda", "estrela-da-morte", 80));
    assert!(w.allowed("caca-tie", "estrela-da-morte", 80));
}

#[test]
fn entities_all_and_cluster_include_every_pod_world_does_not() {
    for entity in ["all", "cluster"] {
        let w = World::new(&policy(
            "entidade",
            &format!("{DS}ingress:\n  - fromEntities: [{entity}]"),
        ));
        assert!(w.allowed("outra/sonda", "estrela-da-morte", 80), "{entity}");
        assert!(w.allowed("asa-x", "estrela-da-morte", 8080), "{entity}");
    }
    let w = World::new(&policy(
        "mundo",
        &format!("{DS}ingress:\n  - fromEntities: [world]"),
    ));
    assert!(!w.allowed("asa-x", "estrela-da-morte", 80));
}

#[test]
fn ingress_deny_wins_over_any_allow() {
    let w = World::new(&policy(
        "nega-alianca",
        &format!(
            "{DS}ingress:\n  - fromEntities: [all]\ningressDeny:\n  - fromEndpoints: [{{matchLabels: {{org: alianca}}}}]\n    toPorts: [{{ports: [{{port: \"80\", protocol: TCP}}]}}]"
        ),
    ));
    let v = w.conn("asa-x", "estrela-da-morte", 80);
    assert_eq!(v.verdict, L4Verdict::Dropped);
    assert!(
        matches!(&v.reason, ConnectionReason::DeniedBy(r) if r.path() == "spec.ingressDeny[0].toPorts[0]")
    );
    assert!(
        w.allowed("asa-x", "estrela-da-morte", 8080),
        "the deny names port 80 only"
    );
    assert!(w.allowed("caca-tie", "estrela-da-morte", 80));
    // A deny in another policy wins as well, and a deny-only policy enforces default deny.
    let w = World::new(&policy(
        "so-nega",
        &format!("{DS}ingressDeny:\n  - fromEndpoints: [{{matchLabels: {{org: alianca}}}}]"),
    ));
    assert_eq!(
        w.conn("asa-x", "estrela-da-morte", 80).verdict,
        L4Verdict::Dropped
    );
    assert!(matches!(
        w.conn("caca-tie", "estrela-da-morte", 80).reason,
        ConnectionReason::DefaultDeny { .. }
    ));
}

#[test]
fn ports_by_number_or_container_port_name() {
    let w = World::new(&policy(
        "nomeada",
        &format!("{DS}ingress:\n  - toPorts: [{{ports: [{{port: admin}}]}}]"),
    ));
    assert!(w.allowed("asa-x", "estrela-da-morte", 8080));
    assert!(!w.allowed("asa-x", "estrela-da-morte", 80));
    let w = World::new(&policy(
        "todas",
        &format!("{DS}ingress:\n  - toPorts: [{{ports: [{{port: \"0\"}}]}}]"),
    ));
    assert!(
        w.allowed("asa-x", "estrela-da-morte", 8080) && w.allowed("asa-x", "estrela-da-morte", 80)
    );
}

#[test]
fn protocols_any_matches_tcp_udp_does_not() {
    let w = World::new(&policy(
        "any",
        &format!("{DS}ingress:\n  - toPorts: [{{ports: [{{port: \"80\", protocol: ANY}}]}}]"),
    ));
    assert!(w.allowed("asa-x", "estrela-da-morte", 80));
    let w = World::new(&policy(
        "udp",
        &format!("{DS}ingress:\n  - toPorts: [{{ports: [{{port: \"80\", protocol: UDP}}]}}]"),
    ));
    assert!(!w.allowed("asa-x", "estrela-da-morte", 80));
    let v =
        w.m.policy_set()
            .connection(&w.ep("asa-x"), &w.ep("estrela-da-morte"), 80, Protocol::Udp);
    assert_eq!(v.verdict, L4Verdict::Allowed);
}

#[test]
fn header_rules_exact_value_or_presence() {
    let w = World::new(&policy(
        "forca",
        &format!(
            "{DS}ingress:\n  - fromEndpoints: [{{matchLabels: {{org: imperio}}}}]\n    toPorts:\n      - ports: [{{port: \"80\", protocol: TCP}}]\n        rules:\n          http:\n            - {{method: POST, path: /v1/request-landing}}\n            - method: PUT\n              path: /v1/exhaust-port\n              headers: ['X-Has-Force: True']\n            - {{method: GET, headers: [X-Jedi]}}"
        ),
    ));
    let put = |h: &[(&str, &str)]| {
        w.http("caca-tie", "estrela-da-morte", "PUT", "/v1/exhaust-port", h)
            .verdict
    };
    assert_eq!(put(&[]), L7Verdict::Denied);
    assert_eq!(
        put(&[("x-has-force", "True")]),
        L7Verdict::Forwarded,
        "names are case-insensitive"
    );
    assert_eq!(
        put(&[("X-Has-Force", "true")]),
        L7Verdict::Denied,
        "values are exact"
    );
    assert_eq!(put(&[("X-Has-Force", "False")]), L7Verdict::Denied);
    let h = w.http(
        "caca-tie",
        "estrela-da-morte",
        "PUT",
        "/v1/exhaust-port",
        &[("X-Has-Force", "True")],
    );
    assert!(matches!(&h.reason, HttpReason::AllowedBy(r) if r.http == Some(1)));
    assert_eq!(
        w.http(
            "caca-tie",
            "estrela-da-morte",
            "GET",
            "/v1",
            &[("X-Jedi", "")]
        )
        .verdict,
        L7Verdict::Forwarded
    );
    assert_eq!(
        w.http("caca-tie", "estrela-da-morte", "GET", "/v1", &[])
            .verdict,
        L7Verdict::Denied
    );
}

#[test]
fn method_path_and_host_are_full_match_regexes() {
    let w = World::new(&policy(
        "regex",
        &format!(
            "{DS}ingress:\n  - toPorts:\n      - ports: [{{port: \"80\"}}]\n        rules:\n          http:\n            - {{method: \"GET|POST\", path: \"/v1/.*\", host: \"estrela-da-.*\"}}"
        ),
    ));
    let f = |m: &str, p: &str| w.http("asa-x", "estrela-da-morte", m, p, &[]).verdict;
    assert_eq!(f("GET", "/v1/healthz"), L7Verdict::Forwarded);
    assert_eq!(f("POST", "/v1/request-landing"), L7Verdict::Forwarded);
    assert_eq!(f("PUT", "/v1/exhaust-port"), L7Verdict::Denied);
    assert_eq!(f("GETX", "/v1/x"), L7Verdict::Denied, "anchored method");
    assert_eq!(f("GET", "/v1"), L7Verdict::Denied, "anchored path");
    let w = World::new(&policy(
        "host",
        &format!(
            "{DS}ingress:\n  - toPorts:\n      - ports: [{{port: \"80\"}}]\n        rules:\n          http: [{{host: outro}}]"
        ),
    ));
    assert_eq!(
        w.http("asa-x", "estrela-da-morte", "GET", "/", &[]).verdict,
        L7Verdict::Denied
    );
}

#[test]
fn an_l4_only_rule_cancels_l7_filtering_for_the_peers_it_allows() {
    let l7 = policy(
        "l7-imperio",
        &format!(
            "{DS}ingress:\n  - fromEndpoints: [{{matchLabels: {{org: imperio}}}}]\n    toPorts:\n      - ports: [{{port: \"80\", protocol: TCP}}]\n        rules: {{http: [{{method: POST, path: /v1/request-landing}}]}}"
        ),
    );
    let l4 = policy(
        "l4-caca",
        &format!(
            "{DS}ingress:\n  - fromEndpoints: [{{matchLabels: {{class: caca-tie}}}}]\n    toPorts: [{{ports: [{{port: \"80\", protocol: TCP}}]}}]"
        ),
    );
    let w = World::new(&format!("{l7}---\n{l4}"));
    let h = w.http(
        "caca-tie",
        "estrela-da-morte",
        "PUT",
        "/v1/exhaust-port",
        &[],
    );
    assert_eq!(
        (h.verdict, h.reason),
        (L7Verdict::Forwarded, HttpReason::NoL7Rules)
    );
    assert_eq!(
        w.http(
            "interceptador",
            "estrela-da-morte",
            "PUT",
            "/v1/exhaust-port",
            &[]
        )
        .verdict,
        L7Verdict::Denied
    );
    assert_eq!(
        w.http(
            "interceptador",
            "estrela-da-morte",
            "POST",
            "/v1/request-landing",
            &[]
        )
        .verdict,
        L7Verdict::Forwarded
    );
    // An L3-only rule (every port) cancels it too.
    let l3 = policy(
        "l3-caca",
        &format!("{DS}ingress:\n  - fromEndpoints: [{{matchLabels: {{class: caca-tie}}}}]"),
    );
    let w = World::new(&format!("{l7}---\n{l3}"));
    assert_eq!(
        w.http(
            "caca-tie",
            "estrela-da-morte",
            "PUT",
            "/v1/exhaust-port",
            &[]
        )
        .verdict,
        L7Verdict::Forwarded
    );
    // HTTP rules of several policies are ORed.
    let l7b = policy(
        "l7-info",
        &format!(
            "{DS}ingress:\n  - toPorts:\n      - ports: [{{port: \"80\"}}]\n        rules: {{http: [{{method: GET, path: /v1}}]}}"
        ),
    );
    let w = World::new(&format!("{l7}---\n{l7b}"));
    assert_eq!(
        w.http("caca-tie", "estrela-da-morte", "GET", "/v1", &[])
            .verdict,
        L7Verdict::Forwarded
    );
    assert_eq!(
        w.http(
            "caca-tie",
            "estrela-da-morte",
            "POST",
            "/v1/request-landing",
            &[]
        )
        .verdict,
        L7Verdict::Forwarded
    );
    assert_eq!(
        w.http(
            "asa-x",
            "estrela-da-morte",
            "POST",
            "/v1/request-landing",
            &[]
        )
        .verdict,
        L7Verdict::Denied
    );
}

#[test]
fn specs_lists_are_handled_and_named() {
    let p = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: varias}\nspecs:\n  - endpointSelector: {matchLabels: {class: estrela-da-morte}}\n    ingress: [{fromEndpoints: [{matchLabels: {org: imperio}}]}]\n  - endpointSelector: {matchLabels: {class: estrela-da-morte}}\n    ingress: [{fromEndpoints: [{matchLabels: {org: alianca}}]}]\n";
    let w = World::new(p);
    let v = w.conn("asa-x", "estrela-da-morte", 80);
    assert!(
        matches!(&v.reason, ConnectionReason::AllowedBy(r) if r.path() == "specs[1].ingress[0]")
    );
    assert!(w.allowed("caca-tie", "estrela-da-morte", 80));
}

#[test]
fn the_first_policy_by_name_is_the_one_named() {
    let a = policy(
        "b-segunda",
        &format!("{DS}ingress:\n  - fromEntities: [all]"),
    );
    let b = policy(
        "a-primeira",
        &format!("{DS}ingress:\n  - fromEntities: [cluster]"),
    );
    let w = World::new(&format!("{a}---\n{b}"));
    assert_eq!(
        w.conn("asa-x", "estrela-da-morte", 80)
            .policy()
            .map(|p| p.name.as_str()),
        Some("a-primeira")
    );
}
