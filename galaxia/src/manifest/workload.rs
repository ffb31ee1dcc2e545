//! Pods: declared ones and the replicas a Deployment expands to, with the facts galaxia needs to
//! run them (containers, images, ports) and to decide policy for them (an [`Endpoint`]).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Container, Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use politica::labels;
use politica::{Endpoint, NamedPort, Protocol};

use super::error::{LoadError, Origin};
use super::image::{ImageKind, image_kind};

/// The label Kubernetes adds to a Deployment's pods.
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";
/// The name of the container port where the Death Star serves probes and metrics.
const ADMIN_PORT_NAME: &str = "admin";
/// estrela-da-morte's `--admin-port` default.
const DEFAULT_ADMIN_PORT: u16 = 9090;
/// Every replica is a process on this machine: a typo like `replicas: 20000` must not fork-bomb it.
pub const MAX_REPLICAS: i32 = 64;

/// A pod galaxia runs: declared, or one replica of a Deployment.
#[derive(Debug, Clone)]
pub struct PodModel {
    pub name: String,
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    /// The Deployment that owns the pod (`None` for a bare Pod).
    pub owner: Option<String>,
    pub service_account: Option<String>,
    pub containers: Vec<ContainerModel>,
    /// The Kubernetes object, as declared or built from the Deployment's template (name,
    /// namespace and labels filled in).
    pub pod: Pod,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerModel {
    pub name: String,
    pub image: String,
    pub kind: ImageKind,
    /// Declared ports, or the image's default port when the container declares none.
    pub ports: Vec<NamedPort>,
    pub ports_declared: bool,
}

impl PodModel {
    /// The pod as the policy engine sees it.
    pub fn endpoint(&self) -> Endpoint {
        Endpoint::new(
            self.name.clone(),
            self.namespace.clone(),
            &self.labels,
            self.service_account.as_deref(),
            self.containers
                .iter()
                .flat_map(|c| c.ports.iter().cloned())
                .collect(),
        )
    }

    /// True when a container of this pod runs the Death Star.
    pub fn is_death_star(&self) -> bool {
        self.containers
            .iter()
            .any(|c| c.kind == ImageKind::DeathStar)
    }

    /// The port a client reaches the Death Star on: its container port named `http`, else its
    /// first TCP port that is not the admin port. The one rule, for the runtime and the tables.
    pub fn http_port(&self) -> Option<u16> {
        let ports: Vec<_> = self.death_star_tcp_ports().collect();
        ports
            .iter()
            .find(|p| p.name.as_deref() == Some("http"))
            .or(ports
                .iter()
                .find(|p| p.name.as_deref() != Some(ADMIN_PORT_NAME)))
            .map(|p| p.port)
    }

    /// The port of the Death Star's probes and metrics: its container port named `admin`, else
    /// estrela-da-morte's default.
    pub fn admin_port(&self) -> u16 {
        self.death_star_tcp_ports()
            .find(|p| p.name.as_deref() == Some(ADMIN_PORT_NAME))
            .map_or(DEFAULT_ADMIN_PORT, |p| p.port)
    }

    fn death_star_tcp_ports(&self) -> impl Iterator<Item = &NamedPort> {
        self.containers
            .iter()
            .filter(|c| c.kind == ImageKind::DeathStar)
            .flat_map(|c| c.ports.iter())
            .filter(|p| p.protocol == Protocol::Tcp)
    }

    /// The label value named `key`, or empty (the ships' `org` and `class`).
    pub fn label(&self, key: &str) -> &str {
        self.labels.get(key).map_or("", String::as_str)
    }
}

/// Build the model of a declared Pod, pushing every problem found.
pub(crate) fn pod_model(
    pod: &Pod,
    origin: &Origin,
    errors: &mut Vec<LoadError>,
) -> Option<PodModel> {
    let meta = &pod.metadata;
    let before = errors.len();
    let (namespace, name, mut err) = open_object("Pod", meta, origin, errors);
    let Some(spec) = pod.spec.as_ref() else {
        err("spec", "missing: a Pod needs a spec with containers".into());
        return None;
    };
    let containers = containers(spec, "spec", &mut err);
    // The reporter borrows `errors`; it is done once the checks are.
    drop(err);
    if errors.len() > before {
        return None;
    }
    Some(PodModel {
        name,
        namespace,
        labels: meta.labels.clone().unwrap_or_default(),
        owner: None,
        service_account: spec.service_account_name.clone(),
        containers,
        pod: pod.clone(),
        origin: origin.clone(),
    })
}

/// Expand a Deployment into its replicas, named `<name>-<template hash>-<suffix>` like
/// Kubernetes names them. The hash is a deterministic FNV-1a of the template, so re-applying an
/// unchanged Deployment keeps its pod names and changing the template renames them (a rollout).
pub(crate) fn deployment_pods(
    deployment: &Deployment,
    origin: &Origin,
    errors: &mut Vec<LoadError>,
) -> Vec<PodModel> {
    let meta = &deployment.metadata;
    let before = errors.len();
    let (namespace, name, mut err) = open_object("Deployment", meta, origin, errors);
    let Some(spec) = deployment.spec.as_ref() else {
        err(
            "spec",
            "missing: a Deployment needs selector and template".into(),
        );
        return Vec::new();
    };
    let replicas = spec.replicas.unwrap_or(1);
    if replicas < 0 {
        err("spec.replicas", format!("{replicas} is negative"));
    } else if replicas > MAX_REPLICAS {
        err(
            "spec.replicas",
            format!("{replicas} is more than galaxia runs on one machine (at most {MAX_REPLICAS})"),
        );
    }
    let template_labels = spec
        .template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    check_labels(
        Some(&template_labels),
        "spec.template.metadata.labels",
        &mut err,
    );
    if let Err(msg) = selector_matches(&spec.selector, &template_labels) {
        err("spec.selector", msg);
    }
    let Some(pod_spec) = spec.template.spec.as_ref() else {
        err(
            "spec.template.spec",
            "missing: the template needs containers".into(),
        );
        return Vec::new();
    };
    let containers = containers(pod_spec, "spec.template.spec", &mut err);
    // The reporter borrows `errors`; it is done once the checks are.
    drop(err);
    if errors.len() > before {
        return Vec::new();
    }

    let template_json = serde_json::to_string(&spec.template).unwrap_or_default();
    let hash = safe_encode(&fnv1a(template_json.as_bytes()).to_string());
    let mut labels = template_labels;
    labels.insert(POD_TEMPLATE_HASH.to_string(), hash.clone());
    let mut names: Vec<String> = Vec::new();
    let mut pods = Vec::new();
    for i in 0..replicas.max(0) {
        // A suffix collision is improbable; perturbing the seed keeps names unique anyway.
        let mut seed = 0u32;
        let pod_name = loop {
            let key = format!("{name}/{hash}/{i}/{seed}");
            let suffix: String = safe_encode(&fnv1a(key.as_bytes()).to_string())
                .chars()
                .rev()
                .take(5)
                .collect();
            let candidate = format!("{name}-{hash}-{suffix}");
            if !names.contains(&candidate) {
                break candidate;
            }
            seed += 1;
        };
        names.push(pod_name.clone());
        let pod = Pod {
            metadata: ObjectMeta {
                name: Some(pod_name.clone()),
                namespace: Some(namespace.clone()),
                labels: Some(labels.clone()),
                annotations: spec
                    .template
                    .metadata
                    .as_ref()
                    .and_then(|m| m.annotations.clone()),
                ..ObjectMeta::default()
            },
            spec: Some(pod_spec.clone()),
            status: None,
        };
        pods.push(PodModel {
            name: pod_name,
            namespace: namespace.clone(),
            labels: labels.clone(),
            owner: Some(name.clone()),
            service_account: pod_spec.service_account_name.clone(),
            containers: containers.clone(),
            pod,
            origin: origin.clone(),
        });
    }
    pods
}

/// The start shared by every object's model: its namespace and name, a reporter that files each
/// problem under `Kind namespace/name` with its field, and the checks of `metadata.name` and
/// `metadata.labels` already run through it.
pub(crate) fn open_object<'a>(
    kind: &str,
    meta: &ObjectMeta,
    origin: &'a Origin,
    errors: &'a mut Vec<LoadError>,
) -> (String, String, impl FnMut(&str, String) + 'a) {
    let namespace = namespace_of(meta);
    let name = meta.name.clone().unwrap_or_default();
    let object = format!("{kind} {namespace}/{name}");
    let mut err = move |field: &str, msg: String| {
        errors.push(
            LoadError::at(origin, msg)
                .with_object(Some(&object))
                .with_field(field),
        )
    };
    check_name(&name, "metadata.name", &mut err);
    check_labels(meta.labels.as_ref(), "metadata.labels", &mut err);
    (namespace, name, err)
}

/// A port number field (1-65535), or a problem filed at `field`.
pub(crate) fn port_number(n: i32, field: &str, err: &mut impl FnMut(&str, String)) -> Option<u16> {
    let port = u16::try_from(n).ok().filter(|p| *p > 0);
    if port.is_none() {
        err(field, format!("{n} is not a port number (1-65535)"));
    }
    port
}

/// A port's protocol field (TCP when absent), or a problem filed at `field`.
pub(crate) fn port_protocol(
    value: Option<&str>,
    field: &str,
    err: &mut impl FnMut(&str, String),
) -> Option<Protocol> {
    let Some(s) = value else {
        return Some(Protocol::Tcp);
    };
    let protocol = Protocol::parse(s);
    if protocol.is_none() {
        err(field, format!("{s:?} is not TCP, UDP or SCTP"));
    }
    protocol
}

pub(crate) fn namespace_of(meta: &ObjectMeta) -> String {
    meta.namespace
        .clone()
        .filter(|ns| !ns.is_empty())
        .unwrap_or_else(|| "default".to_string())
}

pub(crate) fn check_name(name: &str, field: &str, err: &mut impl FnMut(&str, String)) {
    if name.is_empty() {
        err(field, "missing: every object needs a name".into());
    } else if !labels::is_dns_subdomain(name) {
        err(
            field,
            format!("{name:?} is not a valid name: use lowercase letters, digits, '-' and '.'"),
        );
    }
}

pub(crate) fn check_labels(
    labels: Option<&BTreeMap<String, String>>,
    field: &str,
    err: &mut impl FnMut(&str, String),
) {
    for (k, v) in labels.into_iter().flatten() {
        if let Err(msg) = labels::check_key(k) {
            err(field, msg);
        }
        if let Err(msg) = labels::check_value(v) {
            err(&format!("{field}.{k}"), msg);
        }
    }
}

fn containers(
    spec: &PodSpec,
    field: &str,
    err: &mut impl FnMut(&str, String),
) -> Vec<ContainerModel> {
    if spec.containers.is_empty() {
        err(
            &format!("{field}.containers"),
            "empty: a pod needs at least one container".into(),
        );
    }
    if spec.init_containers.as_ref().is_some_and(|c| !c.is_empty()) {
        err(
            &format!("{field}.initContainers"),
            "init containers are not emulated by galaxia: a real cluster is needed".into(),
        );
    }
    spec.containers
        .iter()
        .enumerate()
        .filter_map(|(i, c)| container(c, &format!("{field}.containers[{i}]"), err))
        .collect()
}

fn container(
    c: &Container,
    field: &str,
    err: &mut impl FnMut(&str, String),
) -> Option<ContainerModel> {
    let Some(image) = c.image.as_deref().filter(|i| !i.trim().is_empty()) else {
        err(&format!("{field}.image"), "missing".into());
        return None;
    };
    let kind = match image_kind(image) {
        Ok(kind) => kind,
        Err(e) => {
            err(&format!("{field}.image"), e.to_string());
            return None;
        }
    };
    let mut ports = Vec::new();
    for (i, p) in c.ports.iter().flatten().enumerate() {
        let pfield = format!("{field}.ports[{i}]");
        let Some(port) = port_number(p.container_port, &format!("{pfield}.containerPort"), err)
        else {
            continue;
        };
        let Some(protocol) =
            port_protocol(p.protocol.as_deref(), &format!("{pfield}.protocol"), err)
        else {
            continue;
        };
        ports.push(NamedPort {
            name: p.name.clone(),
            port,
            protocol,
        });
    }
    let ports_declared = !ports.is_empty();
    if !ports_declared && let Some((name, port)) = kind.default_port() {
        ports.push(NamedPort {
            name: Some(name.to_string()),
            port,
            protocol: Protocol::Tcp,
        });
    }
    Some(ContainerModel {
        name: c.name.clone(),
        image: image.to_string(),
        kind,
        ports,
        ports_declared,
    })
}

/// Kubernetes refuses a Deployment whose selector does not select its own template.
fn selector_matches(
    selector: &LabelSelector,
    labels: &BTreeMap<String, String>,
) -> Result<(), String> {
    let match_labels = selector.match_labels.clone().unwrap_or_default();
    let exprs = selector.match_expressions.clone().unwrap_or_default();
    if match_labels.is_empty() && exprs.is_empty() {
        return Err("empty: a Deployment needs a selector matching its template labels".into());
    }
    for (k, v) in &match_labels {
        if labels.get(k) != Some(v) {
            return Err(format!(
                "matchLabels {k}={v} does not match spec.template.metadata.labels"
            ));
        }
    }
    for e in &exprs {
        let value = labels.get(&e.key);
        let values = e.values.clone().unwrap_or_default();
        let ok = match e.operator.as_str() {
            "In" => value.is_some_and(|v| values.contains(v)),
            "NotIn" => value.is_none_or(|v| !values.contains(v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            other => {
                return Err(format!(
                    "unknown operator {other:?}: want In, NotIn, Exists or DoesNotExist"
                ));
            }
        };
        if !ok {
            return Err(format!(
                "matchExpressions {} {} does not match spec.template.metadata.labels",
                e.key, e.operator
            ));
        }
    }
    Ok(())
}

fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

/// Kubernetes' `rand.SafeEncodeString`: no vowels (no words) and no look-alike characters.
fn safe_encode(s: &str) -> String {
    const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    s.bytes()
        .map(|b| char::from(ALPHANUMS[usize::from(b) % ALPHANUMS.len()]))
        .collect()
}
