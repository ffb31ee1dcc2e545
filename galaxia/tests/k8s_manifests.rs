//! Checks on the real files of `k8s/`: every document parses as its Kubernetes type (k8s-openapi,
//! with a round trip that catches unknown fields, which k8s-openapi would silently drop) or as a
//! CiliumNetworkPolicy; selectors pick exactly the intended pods; images are Dockerfile targets with
//! the one tag of `k8s/env.sh`; pods carry the production settings; kind's cluster and the
//! kustomization say what the book says. External validators (kubernetes-validate, shellcheck, the
//! Cilium CRD schema) run from `scripts/test-manifests.sh`; `kubectl kustomize` runs here when present.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Container, Pod, PodSpec, Service};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

type Labels = BTreeMap<String, String>;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("galaxia sits in the workspace root")
        .to_path_buf()
}

fn read(rel: &str) -> String {
    let path = repo().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Every YAML document of a file, as JSON values (empty documents skipped).
fn documents(rel: &str) -> Vec<Value> {
    let text = read(rel);
    serde_norway::Deserializer::from_str(&text)
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("{rel}: {e}")))
        .filter(|v| !v.is_null())
        .collect()
}

/// Decodes `doc` as `T` and checks that encoding it again gives the same document, so that a
/// misspelt or misplaced field (which k8s-openapi would ignore) fails the test.
fn strict<T: DeserializeOwned + serde::Serialize>(rel: &str, doc: &Value) -> T {
    let typed: T = serde_json::from_value(doc.clone())
        .unwrap_or_else(|e| panic!("{rel}: {} {}: {e}", doc["kind"], doc["metadata"]["name"]));
    let again = serde_json::to_value(&typed).expect("k8s-openapi types serialize");
    assert_eq!(
        &again, doc,
        "{rel}: {} {} has fields its Kubernetes type does not know",
        doc["kind"], doc["metadata"]["name"]
    );
    typed
}

/// The objects of all Kubernetes manifests in k8s/, by kind.
#[derive(Default)]
struct Objects {
    services: Vec<Service>,
    deployments: Vec<Deployment>,
    pods: Vec<Pod>,
    pdbs: Vec<PodDisruptionBudget>,
    jobs: Vec<Job>,
    policies: Vec<(String, Value)>,
}

/// The files of k8s/ and what each one must be.
fn k8s_files() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo().join("k8s"))
        .expect("k8s/ exists")
        .map(|e| {
            e.expect("k8s/ is readable")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

fn load_objects() -> Objects {
    let mut objects = Objects::default();
    for name in k8s_files() {
        let rel = format!("k8s/{name}");
        if !(name.ends_with(".yml") || name.ends_with(".yaml")) {
            continue;
        }
        if name == "cluster.yml" || name == "kustomization.yaml" {
            continue; // Not Kubernetes API objects: checked by their own tests below.
        }
        let docs = documents(&rel);
        assert!(!docs.is_empty(), "{rel} holds no document");
        for doc in docs {
            let api_version = doc["apiVersion"].as_str().unwrap_or_default();
            let kind = doc["kind"].as_str().unwrap_or_default();
            match (api_version, kind) {
                ("v1", "Service") => objects.services.push(strict(&rel, &doc)),
                ("apps/v1", "Deployment") => objects.deployments.push(strict(&rel, &doc)),
                ("v1", "Pod") => objects.pods.push(strict(&rel, &doc)),
                ("policy/v1", "PodDisruptionBudget") => objects.pdbs.push(strict(&rel, &doc)),
                ("batch/v1", "Job") => objects.jobs.push(strict(&rel, &doc)),
                ("cilium.io/v2", "CiliumNetworkPolicy") => {
                    check_cnp_shape(&rel, &doc);
                    objects.policies.push((name.clone(), doc));
                }
                _ => panic!("{rel}: unexpected apiVersion {api_version:?} kind {kind:?}"),
            }
        }
    }
    objects
}

/// The fields a CiliumNetworkPolicy of this repository may use, checked strictly; the full schema
/// check against Cilium's CRD is in scripts/test-manifests.sh.
fn check_cnp_shape(rel: &str, doc: &Value) {
    let keys = |v: &Value| -> Vec<String> {
        v.as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    };
    for key in keys(doc) {
        assert!(
            ["apiVersion", "kind", "metadata", "spec"].contains(&key.as_str()),
            "{rel}: {key}"
        );
    }
    let spec = &doc["spec"];
    for key in keys(spec) {
        assert!(
            ["description", "endpointSelector", "ingress"].contains(&key.as_str()),
            "{rel}: spec.{key} is not used by the book's policies"
        );
    }
    assert!(
        spec["description"].is_string(),
        "{rel}: description belongs inside spec"
    );
    assert!(
        doc.get("description").is_none(),
        "{rel}: description belongs inside spec"
    );
    let _: LabelSelector = serde_json::from_value(spec["endpointSelector"].clone())
        .unwrap_or_else(|e| panic!("{rel}: endpointSelector: {e}"));
}

fn labels_of_pod(pod: &Pod) -> Labels {
    pod.metadata.labels.clone().unwrap_or_default()
}

/// Matches a Kubernetes label selector; the manifests here use matchLabels only.
fn selects(selector: &LabelSelector, labels: &Labels) -> bool {
    assert!(
        selector.match_expressions.is_none(),
        "extend this matcher for matchExpressions"
    );
    selector
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v))
}

fn selector_from(map: &Labels) -> LabelSelector {
    LabelSelector {
        match_labels: Some(map.clone()),
        match_expressions: None,
    }
}

/// The pods the demo runs: two Death Star replicas (the Deployment's template) and the two ships.
fn pods_of(objects: &Objects) -> Vec<(String, Labels)> {
    let mut pods = Vec::new();
    for d in &objects.deployments {
        let name = d.metadata.name.clone().unwrap_or_default();
        let spec = d.spec.as_ref().expect("Deployment has a spec");
        let labels = spec
            .template
            .metadata
            .as_ref()
            .and_then(|m| m.labels.clone());
        for i in 0..spec.replicas.unwrap_or(1) {
            pods.push((format!("{name}-{i}"), labels.clone().unwrap_or_default()));
        }
    }
    for p in &objects.pods {
        pods.push((
            p.metadata.name.clone().unwrap_or_default(),
            labels_of_pod(p),
        ));
    }
    pods
}

fn names_selected(selector: &LabelSelector, pods: &[(String, Labels)]) -> Vec<String> {
    pods.iter()
        .filter(|(_, labels)| selects(selector, labels))
        .map(|(name, _)| name.clone())
        .collect()
}

const DEATH_STARS: [&str; 2] = ["estrela-da-morte-0", "estrela-da-morte-1"];

#[test]
fn every_file_in_k8s_is_known_and_parses() {
    let objects = load_objects();
    assert_eq!(objects.services.len(), 1);
    assert_eq!(objects.deployments.len(), 1);
    assert_eq!(objects.pdbs.len(), 1);
    assert_eq!(objects.pods.len(), 2);
    let policies: Vec<&str> = objects.policies.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        policies,
        [
            "politica_l4.yml",
            "politica_l7.yml",
            "politica_visibilidade.yml"
        ]
    );
    for name in k8s_files() {
        let known = name.ends_with(".yml")
            || name.ends_with(".yaml")
            || name.ends_with(".sh")
            || name.ends_with(".md");
        assert!(
            known,
            "k8s/{name}: what is this file? teach this test about it"
        );
    }
}

#[test]
fn the_books_names_and_labels() {
    let objects = load_objects();
    let service = &objects.services[0];
    assert_eq!(service.metadata.name.as_deref(), Some("estrela-da-morte"));
    let label = |m: &Option<Labels>| {
        m.as_ref()
            .and_then(|l| l.get("app.kubernetes.io/name"))
            .cloned()
    };
    assert_eq!(
        label(&service.metadata.labels).as_deref(),
        Some("estrela-da-morte")
    );
    let spec = service.spec.as_ref().expect("Service has a spec");
    assert_eq!(spec.type_.as_deref(), Some("ClusterIP"));
    let ports = spec.ports.as_ref().expect("Service has ports");
    assert_eq!(ports.len(), 1);
    assert_eq!(ports[0].port, 80);
    assert_eq!(
        ports[0].target_port,
        Some(IntOrString::String("http".into()))
    );

    let deployment = &objects.deployments[0];
    assert_eq!(
        deployment.metadata.name.as_deref(),
        Some("estrela-da-morte")
    );
    assert_eq!(deployment.spec.as_ref().and_then(|s| s.replicas), Some(2));

    for (name, org) in [("caca-tie", "imperio"), ("asa-x", "alianca")] {
        let pod = objects
            .pods
            .iter()
            .find(|p| p.metadata.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("Pod {name} missing"));
        let labels = labels_of_pod(pod);
        assert_eq!(labels.get("org").map(String::as_str), Some(org), "{name}");
        assert_eq!(
            labels.get("class").map(String::as_str),
            Some(name),
            "{name}"
        );
        assert_eq!(
            labels.get("app.kubernetes.io/name").map(String::as_str),
            Some(name)
        );
        let containers = &pod.spec.as_ref().expect("Pod has a spec").containers;
        assert_eq!(containers.len(), 1);
        assert_eq!(
            containers[0].name, "nave",
            "{name}: the book's container name"
        );
    }
}

#[test]
fn selectors_pick_exactly_the_intended_pods() {
    let objects = load_objects();
    let pods = pods_of(&objects);
    assert_eq!(pods.len(), 4);

    let service = objects.services[0]
        .spec
        .as_ref()
        .and_then(|s| s.selector.clone());
    let service = selector_from(&service.expect("Service has a selector"));
    assert_eq!(names_selected(&service, &pods), DEATH_STARS);

    let deployment = objects.deployments[0].spec.as_ref().expect("spec");
    assert_eq!(names_selected(&deployment.selector, &pods), DEATH_STARS);
    for constraint in deployment
        .template
        .spec
        .as_ref()
        .and_then(|s| s.topology_spread_constraints.clone())
        .unwrap_or_default()
    {
        let selector = constraint.label_selector.expect("spread selects pods");
        assert_eq!(names_selected(&selector, &pods), DEATH_STARS);
    }

    let pdb = objects.pdbs[0]
        .spec
        .as_ref()
        .and_then(|s| s.selector.clone());
    assert_eq!(
        names_selected(&pdb.expect("PDB selector"), &pods),
        DEATH_STARS
    );

    for (file, policy) in &objects.policies {
        let spec = &policy["spec"];
        let target: LabelSelector =
            serde_json::from_value(spec["endpointSelector"].clone()).expect("checked");
        assert_eq!(names_selected(&target, &pods), DEATH_STARS, "{file}");
        let ingress = spec["ingress"]
            .as_array()
            .expect("policies have ingress rules");
        assert_eq!(ingress.len(), 1, "{file}");
        let rule = &ingress[0];
        let ports = &rule["toPorts"][0]["ports"];
        assert_eq!(
            ports,
            &serde_json::json!([{"port": "80", "protocol": "TCP"}]),
            "{file}"
        );
        if file == "politica_visibilidade.yml" {
            assert_eq!(rule["fromEntities"], serde_json::json!(["all"]));
            assert_eq!(
                rule["toPorts"][0]["rules"],
                serde_json::json!({"http": [{}]})
            );
            continue;
        }
        assert_eq!(policy["metadata"]["name"], "regra1", "{file}");
        let peers: Vec<LabelSelector> =
            serde_json::from_value(rule["fromEndpoints"].clone()).expect("fromEndpoints");
        let mut allowed: Vec<String> = peers
            .iter()
            .flat_map(|s| names_selected(s, &pods))
            .collect();
        allowed.sort();
        assert_eq!(
            allowed,
            ["caca-tie", "estrela-da-morte-0", "estrela-da-morte-1"],
            "{file}: only imperial pods may reach the Death Star"
        );
        let http = &rule["toPorts"][0]["rules"];
        if file == "politica_l4.yml" {
            assert!(http.is_null(), "{file}: L4 only");
        } else {
            assert_eq!(
                http,
                &serde_json::json!({"http": [{"method": "POST", "path": "/v1/request-landing"}]}),
                "{file}"
            );
        }
    }
}

/// The final stages of the Dockerfile: `FROM scratch AS <name>` after the `binaries` stage.
fn dockerfile_targets() -> Vec<String> {
    let dockerfile = read("Dockerfile");
    let mut targets = Vec::new();
    for line in dockerfile.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let ["FROM", "scratch", as_, name] = words.as_slice()
            && as_.eq_ignore_ascii_case("as")
            && *name != "prebuilt"
        {
            targets.push((*name).to_string());
        }
    }
    targets
}

/// The value `k8s/env.sh` gives a variable when the environment does not set it.
fn env_sh(var: &str) -> Option<String> {
    let script = format!(". k8s/env.sh && printf %s \"${var}\"");
    match Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(repo())
        .env_clear()
        .output()
    {
        Ok(out) => {
            assert!(out.status.success(), "sourcing k8s/env.sh failed: {out:?}");
            Some(String::from_utf8(out.stdout).expect("env.sh prints text"))
        }
        Err(e) => {
            testkit::skip::skip(
                "k8s_manifests: env.sh values",
                &format!("bash not runnable here: {e}"),
            );
            None
        }
    }
}

fn all_containers(objects: &Objects) -> Vec<(String, Container)> {
    let mut specs: Vec<(String, PodSpec)> = Vec::new();
    for d in &objects.deployments {
        let spec = d.spec.as_ref().and_then(|s| s.template.spec.clone());
        specs.push((
            d.metadata.name.clone().unwrap_or_default(),
            spec.expect("pod spec"),
        ));
    }
    for p in &objects.pods {
        specs.push((
            p.metadata.name.clone().unwrap_or_default(),
            p.spec.clone().expect("spec"),
        ));
    }
    for j in &objects.jobs {
        let spec = j.spec.as_ref().and_then(|s| s.template.spec.clone());
        specs.push((
            j.metadata.name.clone().unwrap_or_default(),
            spec.expect("pod spec"),
        ));
    }
    specs
        .into_iter()
        .flat_map(|(owner, spec)| spec.containers.into_iter().map(move |c| (owner.clone(), c)))
        .collect()
}

#[test]
fn images_are_dockerfile_targets_with_the_one_tag() {
    let targets = dockerfile_targets();
    assert_eq!(
        targets,
        ["estrela-da-morte", "caca-tie", "asa-x", "loadtest"]
    );
    let version = env!("CARGO_PKG_VERSION");

    if let Some(tag) = env_sh("IMAGE_TAG") {
        assert_eq!(
            tag, version,
            "k8s/env.sh IMAGE_TAG is the workspace version"
        );
    }
    if let Some(repo) = env_sh("IMAGE_REPO") {
        assert_eq!(repo, "jornada");
    }

    let kustomization = documents("k8s/kustomization.yaml").remove(0);
    let images = kustomization["images"]
        .as_array()
        .expect("kustomization sets images");
    let mut named: Vec<String> = Vec::new();
    for image in images {
        let name = image["name"].as_str().expect("image name");
        let target = name
            .strip_prefix("jornada/")
            .expect("our images are jornada/<target>");
        assert!(
            targets.iter().any(|t| t == target),
            "{name} is no Dockerfile target"
        );
        assert_eq!(image["newTag"], version, "{name}: the kustomization tag");
        assert!(image.get("newName").is_none() && image.get("digest").is_none());
        named.push(target.to_string());
    }
    assert_eq!(
        named, targets,
        "the kustomization sets the tag of every image"
    );

    let objects = load_objects();
    for (owner, container) in all_containers(&objects) {
        let image = container.image.expect("every container names an image");
        let (name, tag) = image.split_once(':').expect("images carry a tag");
        let target = name
            .strip_prefix("jornada/")
            .unwrap_or_else(|| panic!("{owner}: {image}"));
        assert!(
            targets.iter().any(|t| t == target),
            "{owner}: {image} is no Dockerfile target"
        );
        assert_eq!(
            tag, version,
            "{owner}: {image} must carry the tag of k8s/env.sh"
        );
        assert_eq!(
            container.image_pull_policy.as_deref(),
            Some("IfNotPresent"),
            "{owner}"
        );
    }
}

fn port_named(container: &Container, name: &str) -> Option<i32> {
    container
        .ports
        .iter()
        .flatten()
        .find(|p| p.name.as_deref() == Some(name))
        .map(|p| p.container_port)
}

#[test]
fn pods_carry_the_production_settings() {
    let objects = load_objects();
    let mut specs: Vec<(String, PodSpec, BTreeMap<String, String>)> = Vec::new();
    for d in &objects.deployments {
        let template = &d.spec.as_ref().expect("spec").template;
        let annotations = template
            .metadata
            .as_ref()
            .and_then(|m| m.annotations.clone());
        let spec = template.spec.clone().expect("pod spec");
        specs.push((
            "estrela-da-morte".into(),
            spec,
            annotations.unwrap_or_default(),
        ));
    }
    for p in &objects.pods {
        let annotations = p.metadata.annotations.clone().unwrap_or_default();
        let name = p.metadata.name.clone().unwrap_or_default();
        specs.push((name, p.spec.clone().expect("spec"), annotations));
    }
    for (name, spec, annotations) in specs {
        let pod_sc = spec.security_context.clone().expect("pod securityContext");
        assert_eq!(pod_sc.run_as_non_root, Some(true), "{name}");
        assert_eq!(pod_sc.run_as_user, Some(65532), "{name}");
        assert_eq!(pod_sc.run_as_group, Some(65532), "{name}");
        let seccomp = pod_sc.seccomp_profile.expect("seccomp profile");
        assert_eq!(seccomp.type_, "RuntimeDefault", "{name}");
        assert_eq!(
            spec.enable_service_links,
            Some(false),
            "{name}: service env vars off"
        );
        assert_eq!(spec.automount_service_account_token, Some(false), "{name}");
        assert!(spec.termination_grace_period_seconds.is_some(), "{name}");
        assert_eq!(
            annotations.get("prometheus.io/scrape").map(String::as_str),
            Some("true")
        );
        assert_eq!(
            annotations.get("prometheus.io/path").map(String::as_str),
            Some("/metrics")
        );

        assert_eq!(spec.containers.len(), 1, "{name}");
        let container = &spec.containers[0];
        let admin = port_named(container, "admin").expect("a named admin port");
        assert_eq!(
            annotations.get("prometheus.io/port"),
            Some(&admin.to_string()),
            "{name}"
        );
        for (probe, path) in [
            (&container.liveness_probe, "/healthz"),
            (&container.readiness_probe, "/readyz"),
        ] {
            let get = probe.as_ref().and_then(|p| p.http_get.clone());
            let get = get.unwrap_or_else(|| panic!("{name}: HTTP probes"));
            assert_eq!(get.path.as_deref(), Some(path), "{name}");
            assert_eq!(get.port, IntOrString::String("admin".into()), "{name}");
        }
        let sc = container
            .security_context
            .clone()
            .expect("container securityContext");
        assert_eq!(sc.allow_privilege_escalation, Some(false), "{name}");
        assert_eq!(sc.read_only_root_filesystem, Some(true), "{name}");
        let caps = sc.capabilities.and_then(|c| c.drop).unwrap_or_default();
        assert_eq!(caps, ["ALL"], "{name}");
        let resources = container.resources.clone().expect("resources");
        let requests = resources.requests.expect("requests");
        assert!(
            requests.contains_key("cpu") && requests.contains_key("memory"),
            "{name}"
        );
        assert!(
            resources.limits.expect("limits").contains_key("memory"),
            "{name}"
        );

        if name == "estrela-da-morte" {
            // Cilium policies match the container port: the Death Star must really listen on 80.
            assert_eq!(port_named(container, "http"), Some(80));
            let sysctls = pod_sc.sysctls.unwrap_or_default();
            assert!(
                sysctls
                    .iter()
                    .any(|s| s.name == "net.ipv4.ip_unprivileged_port_start" && s.value == "80"),
                "uid 65532 without capabilities binds port 80 thanks to this sysctl"
            );
            // SIGKILL must not cut the drain (new connections while endpoints are withdrawn) nor
            // the grace given to requests in flight.
            let drain =
                estrela_da_morte::config::DEFAULT_DRAIN + estrela_da_morte::config::DEFAULT_GRACE;
            let grace = spec
                .termination_grace_period_seconds
                .expect("checked above");
            assert!(
                u64::try_from(grace).expect("positive") > drain.as_secs(),
                "terminationGracePeriodSeconds {grace} must exceed drain + grace {drain:?}"
            );
            let spread = spec.topology_spread_constraints.unwrap_or_default();
            assert!(
                spread
                    .iter()
                    .any(|c| c.topology_key == "kubernetes.io/hostname")
            );
        }
    }
}

/// kind's Cluster config, decoded strictly so that a misspelt key fails here and not in `kind`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct KindCluster {
    kind: String,
    api_version: String,
    name: String,
    nodes: Vec<KindNode>,
    networking: KindNetworking,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KindNode {
    role: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct KindNetworking {
    #[serde(rename = "disableDefaultCNI")]
    disable_default_cni: bool,
    pod_subnet: String,
    service_subnet: String,
}

#[test]
fn kind_cluster_is_the_books() {
    let text = read("k8s/cluster.yml");
    let cluster: KindCluster = serde_norway::from_str(&text).expect("k8s/cluster.yml");
    assert_eq!(cluster.kind, "Cluster");
    assert_eq!(cluster.api_version, "kind.x-k8s.io/v1alpha4");
    assert_eq!(cluster.name, "jornada-k8s-ebpf");
    let roles: Vec<&str> = cluster.nodes.iter().map(|n| n.role.as_str()).collect();
    assert_eq!(roles, ["control-plane", "worker", "worker", "worker"]);
    assert!(cluster.networking.disable_default_cni, "Cilium is the CNI");
    assert_eq!(cluster.networking.pod_subnet, "10.244.0.0/16");
    assert_eq!(cluster.networking.service_subnet, "10.96.0.0/12");

    if let Some(name) = env_sh("CLUSTER_NAME") {
        assert_eq!(name, cluster.name);
        assert_eq!(env_sh("CONTEXT").as_deref(), Some("kind-jornada-k8s-ebpf"));
        assert_eq!(env_sh("CILIUM_VERSION").as_deref(), Some("1.15.10"));
        assert_eq!(env_sh("CILIUM_TAG").as_deref(), Some("v1.15.10"));
    }
}

#[test]
fn kustomization_lists_existing_files_and_renders() {
    let kustomization = documents("k8s/kustomization.yaml").remove(0);
    for resource in kustomization["resources"].as_array().expect("resources") {
        let file = resource.as_str().expect("resource paths");
        assert!(
            repo().join("k8s").join(file).is_file(),
            "k8s/{file} missing"
        );
    }
    let output = match Command::new("kubectl")
        .arg("kustomize")
        .arg("k8s/")
        .current_dir(repo())
        .output()
    {
        Ok(output) => output,
        Err(e) => {
            testkit::skip::skip_optional(
                "k8s_manifests: kubectl kustomize",
                &format!("kubectl not runnable here: {e}"),
            );
            return;
        }
    };
    assert!(
        output.status.success(),
        "kubectl kustomize k8s/: {output:?}"
    );
    let rendered = String::from_utf8(output.stdout).expect("YAML is text");
    let version = env!("CARGO_PKG_VERSION");
    for image in ["estrela-da-morte", "caca-tie", "asa-x"] {
        let reference = format!("image: jornada/{image}:{version}");
        assert!(
            rendered.contains(&reference),
            "rendered manifests lack {reference}"
        );
    }
}

/// galaxia reads these very files for the local tutorial: they must load without a single problem,
/// the policies through its strict CiliumNetworkPolicy model.
#[test]
fn galaxia_loads_every_manifest() {
    for name in k8s_files() {
        if !(name.ends_with(".yml") || name.ends_with(".yaml")) || name == "kustomization.yaml" {
            continue;
        }
        let path = repo().join("k8s").join(&name);
        let manifests = galaxia::manifest::load_paths(&[&path])
            .unwrap_or_else(|e| panic!("k8s/{name}: {:#?}", e.0));
        if name.starts_with("politica_") {
            assert_eq!(manifests.policies().len(), 1, "k8s/{name}");
        }
        if name == "starwars.yml" {
            assert_eq!(manifests.pods().len(), 4, "two Death Stars and two ships");
            assert_eq!(manifests.services().len(), 1);
        }
    }
}

#[test]
fn a_misspelt_policy_field_is_rejected() {
    let good = read("k8s/politica_l7.yml");
    assert!(galaxia::manifest::load_str(&good, "politica_l7.yml").is_ok());
    let bad = good.replace("toPorts:", "toPortz:");
    assert!(
        galaxia::manifest::load_str(&bad, "bad.yml").is_err(),
        "toPortz must not pass"
    );
}

#[test]
fn the_round_trip_catches_what_k8s_openapi_ignores() {
    let doc = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "x"},
        "spec": {"enableServiceLink": false, "containers": [{"name": "nave", "image": "i"}]}
    });
    let caught = std::panic::catch_unwind(|| strict::<Pod>("inline", &doc));
    assert!(
        caught.is_err(),
        "a misspelt field must fail the strict decode"
    );
}

/// The Dockerfile's build stage compiles the whole workspace from an allow-listed context: a member
/// missing from `.dockerignore` would break `docker build` only, far from its cause.
#[test]
fn dockerignore_lets_every_workspace_member_in() {
    let cargo_toml = read("Cargo.toml");
    let start = cargo_toml.find("members = [").expect("workspace members");
    let end = start + cargo_toml[start..].find(']').expect("end of members");
    let members: Vec<&str> = cargo_toml[start..end]
        .split('"')
        .skip(1)
        .step_by(2)
        .collect();
    assert!(members.contains(&"estrela-da-morte"), "parsed {members:?}");
    let ignore = read(".dockerignore");
    let allowed: Vec<&str> = ignore.lines().map(str::trim).collect();
    assert_eq!(
        allowed
            .iter()
            .find(|l| !l.starts_with('#') && !l.is_empty()),
        Some(&"*")
    );
    for needed in ["Cargo.toml", "Cargo.lock", "dist/"] {
        assert!(
            allowed.contains(&format!("!{needed}").as_str()),
            ".dockerignore lacks !{needed}"
        );
    }
    for member in members {
        let line = format!("!{member}/");
        assert!(
            allowed.contains(&line.as_str()),
            ".dockerignore lacks {line}"
        );
    }
}
