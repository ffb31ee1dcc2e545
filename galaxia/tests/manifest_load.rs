//! The manifest loader on real files: the book's and Cilium's manifests load into the expected
//! pods, services and policies; every bad input gives one clear error naming its place.

#![allow(clippy::unwrap_used)] // a test may unwrap: a panic is its failure report

use std::path::{Path, PathBuf};

use galaxia::manifest::{ApplyMode, Change, Refusal};
use galaxia::manifest::{
    ImageKind, LoadErrors, ObjectKind, POD_TEMPLATE_HASH, load_paths, load_str,
};
use politica::Protocol;

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel)
}

#[test]
fn the_books_app_loads_with_two_death_star_replicas() {
    let m = load_paths(&[testdata("livro/starwars.yml")]).unwrap();
    let names: Vec<&str> = m.pods().iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names.len(), 4, "{names:?}");
    let ds: Vec<_> = m
        .pods()
        .iter()
        .filter(|p| p.owner.as_deref() == Some("estrela-da-morte"))
        .collect();
    assert_eq!(ds.len(), 2);
    for p in &ds {
        // <name>-<hash>-<suffix>, the hash also as the pod-template-hash label.
        let hash = &p.labels[POD_TEMPLATE_HASH];
        let rest = p.name.strip_prefix("estrela-da-morte-").unwrap();
        let (h, suffix) = rest.rsplit_once('-').unwrap();
        assert_eq!(h, hash);
        assert_eq!(suffix.len(), 5);
        assert_eq!(p.namespace, "default");
        assert_eq!(p.labels["org"], "imperio");
        assert!(p.is_death_star());
        // No containerPort declared: the Death Star still serves 80, named http.
        assert_eq!(p.http_port(), Some(80));
        assert!(!p.containers[0].ports_declared);
        assert_eq!(p.containers[0].kind, ImageKind::DeathStar);
    }
    assert_ne!(ds[0].name, ds[1].name);
    let tie = m.pod("default", "caca-tie").unwrap();
    assert_eq!(tie.containers[0].name, "nave");
    assert_eq!(tie.containers[0].kind, ImageKind::Ship);
    assert!(tie.endpoint().ports.is_empty());
    let svc = m.service("default", "estrela-da-morte").unwrap();
    let backends: Vec<_> = m.backends(svc).iter().map(|p| p.name.clone()).collect();
    assert_eq!(backends, vec![ds[0].name.clone(), ds[1].name.clone()]);
    assert_eq!(svc.target_port_on(svc.port(80).unwrap(), ds[0]), Some(80));
    // Deterministic: loading again gives the same names.
    let again = load_paths(&[testdata("livro/starwars.yml")]).unwrap();
    assert_eq!(again.pods()[0].name, m.pods()[0].name);
}

#[test]
fn cilium_originals_load_and_directories_load_every_file() {
    let m = load_paths(&[
        testdata("cilium/http-sw-app.yaml"),
        testdata("cilium/sw_l3_l4_policy.yaml"),
    ])
    .unwrap();
    assert_eq!(m.pods().len(), 4);
    assert_eq!(m.policies().len(), 1);
    assert_eq!(m.policies()[0].compiled.id.to_string(), "default/rule1");
    let m = load_paths(&[testdata("livro")]).unwrap();
    // politica_l4 and politica_l7 both define regra1: the later file replaces the earlier.
    assert_eq!(m.policies().len(), 1);
    assert!(m.policies()[0].origin.source.ends_with("politica_l7.yml"));
}

#[test]
fn named_target_ports_replicas_namespaces_and_ignored_kinds() {
    let text = r#"
apiVersion: kind.x-k8s.io/v1alpha4
kind: Cluster
---
apiVersion: v1
kind: ConfigMap
metadata: {name: extra}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: estrela-da-morte, namespace: imperio}
spec:
  replicas: 3
  selector: {matchLabels: {class: estrela-da-morte}}
  template:
    metadata: {labels: {class: estrela-da-morte}}
    spec:
      containers:
        - name: estrela-da-morte
          image: ghcr.io/jornada/estrela-da-morte:0.1.0
          ports: [{name: http, containerPort: 8080}, {name: admin, containerPort: 9090}]
          resources: {limits: {cpu: 1, memory: 64Mi}}
---
apiVersion: v1
kind: Service
metadata: {name: estrela-da-morte, namespace: imperio}
spec:
  selector: {class: estrela-da-morte}
  ports: [{name: http, port: 80, targetPort: http}]
"#;
    let m = load_str(text, "inline").unwrap();
    assert_eq!(m.pods().len(), 3);
    assert!(
        m.pods()
            .iter()
            .all(|p| p.namespace == "imperio" && p.http_port() == Some(8080))
    );
    let ep = m.pods()[0].endpoint();
    assert_eq!(ep.labels["io.kubernetes.pod.namespace"], "imperio");
    assert!(ep.ports.iter().any(|p| p.name.as_deref() == Some("admin")
        && p.port == 9090
        && p.protocol == Protocol::Tcp));
    let svc = m.service("imperio", "estrela-da-morte").unwrap();
    assert_eq!(
        svc.target_port_on(svc.port(80).unwrap(), &m.pods()[0]),
        Some(8080)
    );
    let ignored: Vec<_> = m.ignored().iter().map(|i| i.kind.as_str()).collect();
    assert_eq!(ignored, ["Cluster", "ConfigMap"]);
    let kinds: Vec<_> = m.objects().iter().map(|o| o.key.kind).collect();
    assert_eq!(kinds, [ObjectKind::Deployment, ObjectKind::Service]);
}

#[test]
fn apply_replaces_and_delete_removes() {
    let mut m = load_paths(&[
        testdata("livro/starwars.yml"),
        testdata("livro/politica_l4.yml"),
    ])
    .unwrap();
    let l7 = load_paths(&[testdata("livro/politica_l7.yml")]).unwrap();
    let changes = m.apply(l7.clone(), ApplyMode::Apply);
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].result, Ok(Change::Configured));
    assert_eq!(
        m.apply(l7.clone(), ApplyMode::Apply)[0].result,
        Ok(Change::Unchanged)
    );
    assert_eq!(
        m.apply(l7, ApplyMode::Create)[0].result,
        Err(Refusal::AlreadyExists)
    );
    let id = m.policies()[0].compiled.id.clone();
    let key = galaxia::manifest::ObjectKey {
        kind: ObjectKind::CiliumNetworkPolicy,
        namespace: id.namespace.clone(),
        name: id.name.clone(),
    };
    assert_eq!(m.delete(&key).result, Ok(Change::Deleted));
    assert!(m.policies().is_empty());
    assert_eq!(m.delete(&key).result, Err(Refusal::NotFound));
}

/// Load one invalid file: exactly one error, naming the file and containing every `needles`.
fn one_error(file: &str, needles: &[&str]) -> LoadErrors {
    let err = match load_paths(&[testdata(&format!("invalid/{file}"))]) {
        Ok(_) => panic!("{file} loaded"),
        Err(e) => e,
    };
    let text = err.to_string();
    assert_eq!(err.len(), 1, "{file}: {text}");
    assert!(text.contains(file), "{text}");
    for n in needles {
        assert!(text.contains(n), "{file}: {n:?} not in {text:?}");
    }
    err
}

#[test]
fn bad_inputs_give_one_clear_error_each() {
    one_error("broken-yaml.yaml", &["document 1", "not valid YAML"]);
    one_error(
        "wrong-type.yaml",
        &["document 1", "spec.replicas", "invalid type"],
    );
    one_error(
        "bad-regex.yaml",
        &[
            "spec.ingress[0].toPorts[0].rules.http[0].path",
            "RE2",
            "/v1/(request-landing",
        ],
    );
    one_error(
        "unknown-operator.yaml",
        &[
            "spec.endpointSelector.matchExpressions[0].operator",
            "\"Has\"",
            "In, NotIn, Exists or DoesNotExist",
        ],
    );
    one_error(
        "label-too-long.yaml",
        &[
            "spec.endpointSelector.matchLabels.org",
            "64 characters",
            "at most 63",
        ],
    );
    one_error("empty.yaml", &["empty"]);
    one_error(
        "both-selectors.yaml",
        &["endpointSelector and nodeSelector"],
    );
    one_error(
        "unknown-field.yaml",
        &["spec.ingress[0]", "unknown field `fromEndpoint`"],
    );
    one_error("egress.yaml", &["spec.egress", "a real Cilium is needed"]);
    one_error(
        "port-number.yaml",
        &["spec.ingress[0].toPorts[0].ports[0].port", "\"80\""],
    );
    one_error(
        "unknown-k8s-field.yaml",
        &["spec.containers[0].imagem", "unknown field"],
    );
    one_error(
        "unknown-image.yaml",
        &[
            "spec.containers[0].image",
            "nginx:1.27",
            "quay.io/cilium/starwars",
        ],
    );
}

#[test]
fn every_problem_is_collected_not_only_the_first() {
    let text = r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: muitos-erros}
spec:
  endpointSelector: {matchLabels: {org: imperio}}
  ingress:
    - fromCIDR: [10.0.0.0/8]
      fromEntities: [galaxia]
      toPorts:
        - ports: [{port: "99999"}, {port: "80", protocol: ICMP}]
          rules: {http: [{method: "(", headers: ["b@d: x"]}], kafka: [{topic: t}]}
---
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: global}
spec: {}
---
apiVersion: cilium.io/v1
kind: CiliumNetworkPolicy
metadata: {name: velha}
---
kind: Pod
"#;
    let err = load_str(text, "varios.yaml").unwrap_err();
    let text = err.to_string();
    for needle in [
        "fromCIDR is not emulated",
        "unknown entity \"galaxia\"",
        "\"99999\" is not a port number",
        "\"ICMP\" is not TCP, UDP, SCTP or ANY",
        "http[0].method",
        "http[0].headers[0]",
        "kafka is not emulated",
        "varios.yaml, document 2",
        "CiliumClusterwideNetworkPolicy is not emulated",
        "document 3",
        "use cilium.io/v2",
        "document 4",
        "apiVersion: missing",
    ] {
        assert!(text.contains(needle), "{needle:?} not in:\n{text}");
    }
    assert_eq!(err.len(), 10, "{text}");
}

#[test]
fn odd_documents_never_panic() {
    for text in [
        "",
        "---\n---\n",
        "# only a comment\n",
        "[1, 2]",
        "just text",
        "apiVersion: v1\nkind: Pod\n",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: []}\n",
        "!!binary aGk=",
        "a: &x [*x]",
    ] {
        let _ = load_str(text, "odd");
    }
    assert!(
        load_str("", "vazio")
            .unwrap_err()
            .to_string()
            .contains("empty")
    );
    assert!(load_paths::<&str>(&[]).is_err());
    assert!(
        load_paths(&[testdata("nao-existe.yaml")])
            .unwrap_err()
            .to_string()
            .contains("cannot read")
    );
}
