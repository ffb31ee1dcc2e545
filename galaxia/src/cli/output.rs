//! The objects of a galaxy in the shape the API server gives kubectl (`apiVersion`, `kind`,
//! `metadata` with `creationTimestamp`, `spec`, `status`), and kubectl's printers of them:
//! `-o json` (Go's `json.MarshalIndent` with four spaces and its HTML escapes), `-o yaml`
//! (sigs.k8s.io/yaml: keys sorted), a `List` around several objects, `-o jsonpath=...`.
//!
//! Only what a galaxy knows is filled in: defaults the API server would add are written where
//! they are fixed by Kubernetes (a Service's `sessionAffinity: None`), fields only a cluster has
//! (`uid`, `resourceVersion`, container IDs) are left out rather than invented.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::error::Error;
use super::gojson::go_json;
use super::jsonpath::Template;
use crate::clock::from_epoch_ms;
use crate::control::views::{PodView, ServiceView};
use crate::manifest::POD_TEMPLATE_HASH;
use crate::state::{Phase, StoredPolicy};

/// An RFC 3339 timestamp in UTC to the second, as `metav1.Time` marshals.
pub fn timestamp(ms: u64) -> String {
    humantime::format_rfc3339_seconds(from_epoch_ms(ms)).to_string()
}

/// A pod's `status.phase`: the galaxy's STATUS words are container states of a Running pod.
pub fn pod_phase(phase: Phase) -> &'static str {
    match phase {
        Phase::ContainerCreating => "Pending",
        Phase::Running | Phase::Error | Phase::CrashLoopBackOff | Phase::Terminating => "Running",
    }
}

/// The ReplicaSet that owns a Deployment's pod: `<deployment>-<pod-template-hash>`.
pub fn replica_set(p: &PodView) -> Option<String> {
    let owner = p.owner.as_ref()?;
    let hash = p.labels.get(POD_TEMPLATE_HASH)?;
    Some(format!("{owner}-{hash}"))
}

pub fn pod_object(p: &PodView) -> Value {
    let declared = &p.object;
    let mut meta = Map::new();
    copy(&declared["metadata"], &mut meta, &["annotations"]);
    meta.insert("creationTimestamp".into(), json!(timestamp(p.created_ms)));
    if let Some(rs) = replica_set(p) {
        meta.insert("generateName".into(), json!(format!("{rs}-")));
        meta.insert(
            "ownerReferences".into(),
            json!([{
                "apiVersion": "apps/v1",
                "blockOwnerDeletion": true,
                "controller": true,
                "kind": "ReplicaSet",
                "name": rs,
            }]),
        );
    }
    meta.insert("labels".into(), json!(p.labels));
    meta.insert("name".into(), json!(p.name));
    meta.insert("namespace".into(), json!(p.namespace));
    let mut spec = declared["spec"].as_object().cloned().unwrap_or_default();
    spec.insert("nodeName".into(), json!(p.node));
    let containers: Vec<Value> = spec
        .get("containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    let mut st = json!({
                        "image": c["image"],
                        "name": c["name"],
                        "ready": p.ready,
                        "restartCount": p.restarts,
                        "started": p.phase == Phase::Running,
                    });
                    st["state"] = match p.phase {
                        Phase::Running => json!({"running": {}}),
                        Phase::ContainerCreating => {
                            json!({"waiting": {"reason": "ContainerCreating"}})
                        }
                        Phase::CrashLoopBackOff => {
                            json!({"waiting": {"reason": "CrashLoopBackOff"}})
                        }
                        Phase::Error => json!({"terminated": {"reason": "Error"}}),
                        Phase::Terminating => json!({"running": {}}),
                    };
                    st
                })
                .collect()
        })
        .unwrap_or_default();
    let status = json!({
        "containerStatuses": containers,
        "hostIP": p.node_ip,
        "hostIPs": [{"ip": p.node_ip}],
        "phase": pod_phase(p.phase),
        "podIP": p.ip,
        "podIPs": [{"ip": p.ip}],
        "startTime": timestamp(p.created_ms),
    });
    sorted(&json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": spec,
        "status": status,
    }))
}

pub fn service_object(s: &ServiceView) -> Value {
    let declared = &s.object;
    let mut meta = Map::new();
    copy(&declared["metadata"], &mut meta, &["annotations"]);
    meta.insert("creationTimestamp".into(), json!(timestamp(s.created_ms)));
    if !s.labels.is_empty() {
        meta.insert("labels".into(), json!(s.labels));
    }
    meta.insert("name".into(), json!(s.name));
    meta.insert("namespace".into(), json!(s.namespace));
    let mut spec = declared["spec"].as_object().cloned().unwrap_or_default();
    // What the API server fills in for a ClusterIP Service of a single-stack IPv4 cluster.
    spec.insert("clusterIP".into(), json!(s.cluster_ip));
    spec.insert("clusterIPs".into(), json!([s.cluster_ip]));
    spec.entry("internalTrafficPolicy")
        .or_insert(json!("Cluster"));
    spec.entry("ipFamilies").or_insert(json!(["IPv4"]));
    spec.entry("ipFamilyPolicy").or_insert(json!("SingleStack"));
    spec.entry("sessionAffinity").or_insert(json!("None"));
    spec.entry("type").or_insert(json!("ClusterIP"));
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports {
            if p.get("protocol").is_none() {
                p["protocol"] = json!("TCP");
            }
            if p.get("targetPort").is_none() {
                p["targetPort"] = p["port"].clone();
            }
        }
    }
    sorted(&json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta,
        "spec": spec,
        "status": {"loadBalancer": {}},
    }))
}

/// The Endpoints object of a Service: its ready pods and the container ports they serve,
/// grouped into subsets of the same ports (notReadyAddresses for the others).
pub fn endpoints_object(s: &ServiceView) -> Value {
    /// A subset's ports (name, port, protocol), and its ready and not ready addresses.
    type Ports = Vec<(String, u16, String)>;
    let mut subsets: BTreeMap<Ports, (Vec<Value>, Vec<Value>)> = BTreeMap::new();
    for m in &s.members {
        let ports: Ports = m
            .ports
            .iter()
            .filter_map(|(name, port, proto)| port.map(|p| (name.clone(), p, proto.clone())))
            .collect();
        let addr = json!({
            "ip": m.ip,
            "targetRef": {"kind": "Pod", "name": m.pod, "namespace": s.namespace},
        });
        let entry = subsets.entry(ports).or_default();
        if m.ready {
            entry.0.push(addr);
        } else {
            entry.1.push(addr);
        }
    }
    let subsets: Vec<Value> = subsets
        .into_iter()
        .map(|(ports, (mut ready, mut not_ready))| {
            // The Endpoints controller keeps each subset's addresses sorted.
            let ip = |a: &Value| a["ip"].as_str().unwrap_or_default().to_string();
            ready.sort_by_key(ip);
            not_ready.sort_by_key(ip);
            let mut ss = Map::new();
            if !ready.is_empty() {
                ss.insert("addresses".into(), json!(ready));
            }
            if !not_ready.is_empty() {
                ss.insert("notReadyAddresses".into(), json!(not_ready));
            }
            let ports: Vec<Value> = ports
                .into_iter()
                .map(|(name, port, protocol)| {
                    let mut p = json!({"port": port, "protocol": protocol});
                    if !name.is_empty() {
                        p["name"] = json!(name);
                    }
                    p
                })
                .collect();
            ss.insert("ports".into(), json!(ports));
            Value::Object(ss)
        })
        .collect();
    let mut meta = json!({
        "creationTimestamp": timestamp(s.created_ms),
        "name": s.name,
        "namespace": s.namespace,
    });
    if !s.labels.is_empty() {
        meta["labels"] = json!(s.labels);
    }
    let mut ep = json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": meta});
    if !subsets.is_empty() {
        ep["subsets"] = json!(subsets);
    }
    sorted(&ep)
}

/// A policy as stored, with the metadata the galaxy keeps for it.
pub fn policy_object(p: &StoredPolicy) -> Value {
    let mut o = p.object.clone();
    if !o["metadata"].is_object() {
        o["metadata"] = json!({});
    }
    o["metadata"]["creationTimestamp"] = json!(timestamp(p.created_ms));
    o["metadata"]["namespace"] = json!(p.namespace);
    // uid, generation and resourceVersion, when the galaxy keeps them (read by name: they are
    // the store's additions to the view).
    let view = serde_json::to_value(p).unwrap_or_default();
    if let Some(uid) = view["uid"].as_str().filter(|u| !u.is_empty()) {
        o["metadata"]["uid"] = json!(uid);
    }
    if let Some(g) = view["generation"].as_u64().filter(|g| *g > 0) {
        o["metadata"]["generation"] = json!(g);
    }
    if let Some(rv) = view["resource_version"].as_u64().filter(|r| *r > 0) {
        o["metadata"]["resourceVersion"] = json!(rv.to_string());
    }
    if let Some(last) = view["last_applied"].as_str() {
        o["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] =
            json!(format!("{last}\n"));
    }
    sorted(&o)
}

/// A Deployment of the galaxy: the control API's view of it (with the object as declared when
/// the galaxy gives it), and its pods.
#[derive(Debug, Clone)]
pub struct Workload {
    pub name: String,
    pub namespace: String,
    pub created_ms: u64,
    /// The current ReplicaSet's `pod-template-hash`.
    pub hash: String,
    /// Desired replicas.
    pub replicas: usize,
    /// Pods it owns now, of them ready, and of the current template.
    pub total: usize,
    pub ready: usize,
    pub updated: usize,
    /// Older ReplicaSets that still have pods (a rollout in progress): hash and pod count.
    pub old: Vec<(String, usize)>,
    /// The Deployment as declared, `Null` when the galaxy does not say.
    pub object: Value,
    /// A `rollout restart` replaced its pods (`kubectl.kubernetes.io/restartedAt`).
    pub restarted: bool,
    /// The pod template: labels (without the hash), annotations, spec.
    pub template: Value,
    /// The deployment controller's events about it.
    pub events: Vec<crate::state::Event>,
    /// The replicaset controller's events, by ReplicaSet name.
    pub replica_set_events: BTreeMap<String, Vec<crate::state::Event>>,
}

/// The Deployments: from the control API's views (`deployments`, as JSON) and their pods; when
/// there are no views, from the pods' owners.
pub fn workloads(deployments: &[Value], pods: &[PodView]) -> Vec<Workload> {
    let mut by: BTreeMap<(String, String), Workload> = BTreeMap::new();
    for d in deployments {
        let name = d["name"].as_str().unwrap_or_default().to_string();
        let namespace = d["namespace"].as_str().unwrap_or("default").to_string();
        let object = d.get("object").cloned().unwrap_or(Value::Null);
        by.insert(
            (namespace.clone(), name.clone()),
            Workload {
                name,
                namespace,
                created_ms: d["created_ms"].as_u64().unwrap_or(0),
                hash: d["template_hash"].as_str().unwrap_or_default().to_string(),
                replicas: d["replicas"].as_u64().unwrap_or(0) as usize,
                total: 0,
                ready: 0,
                updated: 0,
                old: Vec::new(),
                template: {
                    let mut t = object["spec"]["template"].clone();
                    if let (Some(at), true) = (d["restarted_at"].as_str(), t.is_object()) {
                        t["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"] =
                            json!(at);
                    }
                    t
                },
                restarted: d["restarted_at"].is_string(),
                object,
                events: serde_json::from_value(d["events"].clone()).unwrap_or_default(),
                replica_set_events: serde_json::from_value(d["replica_set_events"].clone())
                    .unwrap_or_default(),
            },
        );
    }
    let from_views = !by.is_empty();
    for p in pods {
        let Some(owner) = &p.owner else { continue };
        let key = (p.namespace.clone(), owner.clone());
        let hash = p.labels.get(POD_TEMPLATE_HASH).cloned().unwrap_or_default();
        if !from_views && !by.contains_key(&key) {
            by.insert(
                key.clone(),
                Workload {
                    name: owner.clone(),
                    namespace: p.namespace.clone(),
                    created_ms: p.created_ms,
                    hash: hash.clone(),
                    replicas: 0,
                    total: 0,
                    ready: 0,
                    updated: 0,
                    old: Vec::new(),
                    object: Value::Null,
                    restarted: false,
                    template: Value::Null,
                    events: Vec::new(),
                    replica_set_events: BTreeMap::new(),
                },
            );
        }
        let Some(w) = by.get_mut(&key) else { continue };
        if !from_views {
            w.replicas += 1;
            w.created_ms = w.created_ms.min(p.created_ms);
        }
        w.total += 1;
        w.ready += usize::from(p.ready);
        if hash == w.hash {
            w.updated += 1;
            if w.template.is_null() {
                let mut labels = p.labels.clone();
                labels.remove(POD_TEMPLATE_HASH);
                let mut meta = json!({"labels": labels});
                if let Some(a) = p.object["metadata"].get("annotations") {
                    meta["annotations"] = a.clone();
                }
                w.template = json!({"metadata": meta, "spec": p.object["spec"]});
            }
        } else if let Some(o) = w.old.iter_mut().find(|(h, _)| *h == hash) {
            o.1 += 1;
        } else {
            w.old.push((hash, 1));
        }
    }
    by.into_values().collect()
}

impl Workload {
    /// `name-hash`, the ReplicaSet that makes the pods.
    pub fn replica_set(&self) -> String {
        format!("{}-{}", self.name, self.hash)
    }

    /// The Deployment's `spec.selector.matchLabels` (empty when the galaxy does not say).
    pub fn selector(&self) -> BTreeMap<String, String> {
        self.object["spec"]["selector"]["matchLabels"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `(container names, images)` joined by commas, as the wide columns show them.
    pub fn containers(&self) -> (String, String) {
        let cs = self.template["spec"]["containers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let names: Vec<&str> = cs.iter().filter_map(|c| c["name"].as_str()).collect();
        let images: Vec<&str> = cs.iter().filter_map(|c| c["image"].as_str()).collect();
        (names.join(","), images.join(","))
    }

    /// The Deployment's `spec.strategy` with the API server's defaults.
    pub fn strategy(&self) -> Value {
        let mut st = self.object["spec"]["strategy"].clone();
        if !st.is_object() {
            st = json!({});
        }
        if st.get("type").is_none() {
            st["type"] = json!("RollingUpdate");
        }
        if st["type"] == "RollingUpdate" {
            for k in ["maxSurge", "maxUnavailable"] {
                if st["rollingUpdate"].get(k).is_none() {
                    st["rollingUpdate"][k] = json!("25%");
                }
            }
        }
        st
    }

    pub fn deployment_object(&self) -> Value {
        let mut meta = Map::new();
        copy(
            &self.object["metadata"],
            &mut meta,
            &["annotations", "labels"],
        );
        if !self.restarted {
            // Each `rollout restart` makes a revision; the galaxy counts only whether there was one.
            let annotations = meta.entry("annotations").or_insert(json!({}));
            annotations["deployment.kubernetes.io/revision"] = json!("1");
        }
        meta.insert(
            "creationTimestamp".into(),
            json!(timestamp(self.created_ms)),
        );
        meta.insert("name".into(), json!(self.name));
        meta.insert("namespace".into(), json!(self.namespace));
        let mut spec = self.object["spec"].as_object().cloned().unwrap_or_default();
        spec.insert("replicas".into(), json!(self.replicas));
        spec.insert("strategy".into(), self.strategy());
        spec.insert("template".into(), self.template.clone());
        spec.entry("progressDeadlineSeconds").or_insert(json!(600));
        spec.entry("revisionHistoryLimit").or_insert(json!(10));
        let available = self.ready.min(self.replicas);
        sorted(&json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": meta,
            "spec": spec,
            "status": {
                "availableReplicas": available,
                "readyReplicas": self.ready,
                "replicas": self.total,
                "unavailableReplicas": self.replicas.saturating_sub(available),
                "updatedReplicas": self.updated,
            },
        }))
    }

    pub fn replica_set_object(&self) -> Value {
        let mut template = self.template.clone();
        template["metadata"]["labels"][POD_TEMPLATE_HASH] = json!(self.hash);
        let mut selector = self.object["spec"]["selector"].clone();
        if selector.is_object() {
            selector["matchLabels"][POD_TEMPLATE_HASH] = json!(self.hash);
        }
        let mut spec = json!({"replicas": self.replicas, "template": template});
        if selector.is_object() {
            spec["selector"] = selector;
        }
        // What the Deployment controller writes on its ReplicaSets: desired replicas, desired
        // plus maxSurge (a percentage rounds up), and the revision.
        let surge = match &self.strategy()["rollingUpdate"]["maxSurge"] {
            Value::String(p) => p
                .strip_suffix('%')
                .and_then(|n| n.parse::<usize>().ok())
                .map_or(0, |n| (self.replicas * n).div_ceil(100)),
            Value::Number(n) => n.as_u64().unwrap_or(0) as usize,
            _ => 0,
        };
        let mut annotations = json!({
            "deployment.kubernetes.io/desired-replicas": self.replicas.to_string(),
            "deployment.kubernetes.io/max-replicas": (self.replicas + surge).to_string(),
        });
        if !self.restarted {
            annotations["deployment.kubernetes.io/revision"] = json!("1");
        }
        sorted(&json!({
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "annotations": annotations,
                "creationTimestamp": timestamp(self.created_ms),
                "labels": template["metadata"]["labels"],
                "name": self.replica_set(),
                "namespace": self.namespace,
                "ownerReferences": [{
                    "apiVersion": "apps/v1",
                    "blockOwnerDeletion": true,
                    "controller": true,
                    "kind": "Deployment",
                    "name": self.name,
                }],
            },
            "spec": spec,
            "status": {
                "availableReplicas": self.ready,
                "fullyLabeledReplicas": self.updated,
                "readyReplicas": self.ready,
                "replicas": self.updated,
            },
        }))
    }
}

fn copy(from: &Value, to: &mut Map<String, Value>, keys: &[&str]) {
    for k in keys {
        if let Some(v) = from.get(*k).filter(|v| !v.is_null()) {
            to.insert((*k).to_string(), v.clone());
        }
    }
}

/// The value with every map's keys in order (as Go's encoders print an unstructured object),
/// whatever order serde_json's maps keep.
pub fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                out.insert(k.clone(), sorted(&m[k]));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// kubectl's wrapper around the objects of a listing.
pub fn list(items: Vec<Value>) -> Value {
    json!({
        "apiVersion": "v1",
        "items": items,
        "kind": "List",
        "metadata": {"resourceVersion": ""},
    })
}

/// How `-o` prints objects: `json`, `yaml`, `jsonpath=...`.
#[derive(Debug, Clone)]
pub enum Printer {
    Json,
    Yaml,
    JsonPath(Template),
}

impl Printer {
    /// One object, or (`as_list`) a `List` of them, printed.
    pub fn print(&self, objects: Vec<Value>, as_list: bool) -> Result<String, Error> {
        let value = match (as_list, objects.len()) {
            (false, 1) => objects.into_iter().next().unwrap_or_default(),
            _ => list(objects),
        };
        Ok(match self {
            Printer::Json => go_json(&value, true) + "\n",
            Printer::Yaml => yaml(&value)?,
            Printer::JsonPath(t) => t
                .render(&value)
                .map_err(|e| Error::Usage(format!("error executing jsonpath: {e}")))?,
        })
    }
}

/// YAML as kubectl prints it (sigs.k8s.io/yaml over go-yaml v2): keys sorted, lists at their
/// key's indentation, go-yaml's choice of plain, single- or double-quoted and literal scalars.
/// Own emitter: serde_norway quotes `"9090"` as `'9090'` and leaves timestamps plain.
pub fn yaml(v: &Value) -> Result<String, Error> {
    let mut out = String::new();
    match v {
        Value::Object(m) if !m.is_empty() => yaml_map(m, 0, &mut out),
        Value::Array(a) if !a.is_empty() => yaml_list(a, 0, &mut out),
        other => {
            out.push_str(&yaml_inline(other, 0));
            out.push('\n');
        }
    }
    Ok(out)
}

fn yaml_map(m: &Map<String, Value>, indent: usize, out: &mut String) {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    for (i, k) in keys.into_iter().enumerate() {
        // The first key of a list item sits on the `- ` line.
        if i > 0 || !out.ends_with("- ") {
            out.extend(std::iter::repeat_n(' ', indent));
        }
        out.push_str(&yaml_string(k, indent));
        out.push(':');
        yaml_value(&m[k], indent, out);
    }
}

fn yaml_list(a: &[Value], indent: usize, out: &mut String) {
    for (i, item) in a.iter().enumerate() {
        if i > 0 || !out.ends_with("- ") {
            out.extend(std::iter::repeat_n(' ', indent));
        }
        out.push_str("- ");
        match item {
            Value::Object(m) if !m.is_empty() => yaml_map(m, indent + 2, out),
            Value::Array(l) if !l.is_empty() => yaml_list(l, indent + 2, out),
            other => {
                out.push_str(&yaml_inline(other, indent + 2));
                out.push('\n');
            }
        }
    }
}

/// What follows `key:`.
fn yaml_value(v: &Value, indent: usize, out: &mut String) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            yaml_map(m, indent + 2, out);
        }
        // go-yaml writes a mapping's list at the key's own indentation.
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            yaml_list(a, indent, out);
        }
        other => {
            out.push(' ');
            out.push_str(&yaml_inline(other, indent + 2));
            out.push('\n');
        }
    }
}

fn yaml_inline(v: &Value, indent: usize) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => yaml_string(s, indent),
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
    }
}

/// One string scalar, as go-yaml v2 styles it: literal when it has line breaks, double-quoted
/// when plain it would read as another type, else plain when the emitter allows it, else single.
fn yaml_string(s: &str, indent: usize) -> String {
    if s.contains('\n') {
        let chomp = if !s.ends_with('\n') {
            "-"
        } else if s.ends_with("\n\n") {
            "+"
        } else {
            ""
        };
        let pad = " ".repeat(indent);
        let mut out = format!("|{chomp}");
        let body = s.strip_suffix('\n').unwrap_or(s);
        for line in body.split('\n') {
            out.push('\n');
            if !line.is_empty() {
                out.push_str(&pad);
                out.push_str(line);
            }
        }
        return out;
    }
    if !reads_as_string(s) {
        return double_quote(s);
    }
    if plain_allowed(s) {
        return s.to_string();
    }
    if s.chars().all(|c| !c.is_control()) {
        return format!("'{}'", s.replace('\'', "''"));
    }
    double_quote(s)
}

fn double_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\x{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// go-yaml's resolve: would this text, plain, be a string (not null, bool, number, timestamp)?
fn reads_as_string(s: &str) -> bool {
    const OTHER: &[&str] = &[
        "", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE", "y",
        "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
        "OFF", ".inf", ".Inf", ".INF", "-.inf", "-.Inf", "-.INF", "+.inf", "+.Inf", "+.INF",
        ".nan", ".NaN", ".NAN", "<<",
    ];
    if OTHER.contains(&s) {
        return false;
    }
    let t = s.replace('_', "");
    let unsigned = t.strip_prefix(['-', '+']).unwrap_or(&t);
    let number = !unsigned.is_empty()
        && (unsigned.parse::<f64>().is_ok() && !unsigned.contains(['i', 'I', 'n', 'N'])
            || unsigned
                .strip_prefix("0x")
                .is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()))
            || unsigned
                .strip_prefix("0b")
                .is_some_and(|b| !b.is_empty() && b.chars().all(|c| c == '0' || c == '1'))
            // base 60 (`1:20`), which go-yaml v2 still quotes.
            || (unsigned.contains(':')
                && unsigned.split(':').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))));
    !number && !is_timestamp(s)
}

/// `2006-01-02`, or with a time (`T` or ` `): what go-yaml v2 resolves as a timestamp.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let date = b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit);
    if !date {
        return false;
    }
    if b.len() == 10 {
        return true;
    }
    humantime::parse_rfc3339_weak(s).is_ok() || humantime::parse_rfc3339(s).is_ok()
}

/// libyaml's analysis of a block plain scalar.
fn plain_allowed(s: &str) -> bool {
    if s.starts_with(' ') || s.ends_with(' ') || s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_space = chars.get(i + 1).is_none_or(|n| *n == ' ');
        let preceded_by_space = i > 0 && chars[i - 1] == ' ';
        if c.is_control() || c == '\u{feff}' {
            return false;
        }
        let indicator = if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => true,
                '?' | ':' | '-' => followed_by_space,
                _ => false,
            }
        } else {
            match c {
                ':' => followed_by_space,
                '#' => preceded_by_space,
                _ => false,
            }
        };
        if indicator {
            return false;
        }
    }
    true
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test may unwrap: a panic is its failure report
mod tests {
    use super::*;

    #[test]
    fn gos_json_and_kubectls_yaml() {
        let v = json!({"b": {"x": "<none>", "port": "9090", "l": ["a"]}, "a": 1});
        assert_eq!(
            go_json(&v, true),
            "{\n    \"a\": 1,\n    \"b\": {\n        \"l\": [\n            \"a\"\n        ],\n        \"port\": \"9090\",\n        \"x\": \"\\u003cnone\\u003e\"\n    }\n}"
        );
        assert_eq!(
            yaml(&v).unwrap(),
            "a: 1\nb:\n  l:\n  - a\n  port: \"9090\"\n  x: <none>\n"
        );
        // go-yaml v2 reads `y` and `n` as booleans, so it quotes them even as keys.
        let v = json!({
            "t": "2024-01-02T03:04:05Z", "e": "", "y": "true", "c": "a: b", "s": "*",
            "m": "x\ny\n", "items": [{"a": 1, "b": [{"c": "d"}]}, "z"], "o": {}, "n": null,
        });
        assert_eq!(
            yaml(&v).unwrap(),
            "c: 'a: b'\ne: \"\"\nitems:\n- a: 1\n  b:\n  - c: d\n- z\nm: |\n  x\n  y\n\"n\": null\no: {}\ns: '*'\nt: \"2024-01-02T03:04:05Z\"\n\"y\": \"true\"\n"
        );
    }
}
