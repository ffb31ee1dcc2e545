//! The manifest model: Kubernetes and Cilium YAML files read into typed objects.
//!
//! [`load_paths`] reads files and directories (every `.yml`, `.yaml` and `.json` file directly
//! inside, in name order), [`load_str`] reads text (what `apply -f` sends to the control API).
//! Each YAML document is read as a value first, its `apiVersion`/`kind` decide the type, and
//! then it is decoded strictly: k8s-openapi types for Pod, Service and Deployment, our own model
//! ([`cnp`]) for CiliumNetworkPolicy. Every problem is collected, each naming the file, the
//! document and the field. Objects of other kinds are listed in [`Manifests::ignored`].
//! Loading also compiles the policies, so a bad regex is a load error with its place.

pub mod book;
pub mod change;
pub mod cluster;
pub mod error;
pub mod image;
pub mod kinds;
pub mod limits;
pub mod object;
pub mod reach;
pub mod service;
pub mod workload;

use std::path::Path;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Pod, Service};
use serde::Deserialize;
use serde_norway::Value;

pub use change::{Applied, ApplyMode, Change, NotRun, Refusal};
pub use cluster::KindCluster;
pub use error::{LoadError, LoadErrors, Origin};
pub use image::ImageKind;
pub use object::{ObjectKey, ObjectKind, split_namespaced};
pub use service::ServiceModel;
pub use workload::{POD_TEMPLATE_HASH, PodModel};

use politica::{CiliumNetworkPolicy, CompiledPolicy, PolicySet};

/// A decoded, validated object.
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    Pod(Box<Pod>),
    Deployment(Box<Deployment>),
    Service(Box<Service>),
    Policy(Box<CiliumNetworkPolicy>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct LoadedObject {
    pub key: ObjectKey,
    pub object: Object,
    pub origin: Origin,
}

/// A document of a kind galaxia does not run (a kind `Cluster`, a ConfigMap, ...).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Ignored {
    #[serde(skip)]
    pub origin: Origin,
    pub api_version: String,
    pub kind: String,
    pub name: Option<String>,
    /// `metadata.namespace` as written (kubectl's message quotes it, empty when absent).
    pub namespace: Option<String>,
}

impl Ignored {
    /// Whether a cluster would take it (a ConfigMap) or kubectl refuses it (a misspelled kind).
    pub fn served(&self) -> bool {
        kinds::served(&self.api_version, &self.kind)
    }
}

/// A policy with where it came from and its compiled form.
#[derive(Debug, Clone)]
pub struct PolicyModel {
    pub cnp: CiliumNetworkPolicy,
    pub origin: Origin,
    pub compiled: Arc<CompiledPolicy>,
}

/// A consistent set of objects, with the pods, services and policies derived from them.
#[derive(Debug, Clone, Default)]
pub struct Manifests {
    objects: Vec<LoadedObject>,
    /// Every object document in load order, repeated keys included: `apply` goes through them
    /// one by one as kubectl visits each document (a repeat is `configured`, or refused by
    /// `create` as AlreadyExists), where `objects` keeps one per key.
    documents: Vec<LoadedObject>,
    /// The kind cluster config among the documents, if any (the last one wins).
    cluster: Option<KindCluster>,
    ignored: Vec<Ignored>,
    pods: Vec<PodModel>,
    services: Vec<ServiceModel>,
    policies: Vec<PolicyModel>,
}

impl Manifests {
    /// The objects, in load order; one per key (a later document with the same key replaced
    /// the earlier, as `kubectl apply` would).
    pub fn objects(&self) -> &[LoadedObject] {
        &self.objects
    }

    pub fn ignored(&self) -> &[Ignored] {
        &self.ignored
    }

    /// The kind cluster these manifests run on: theirs, else the book's.
    pub fn cluster(&self) -> KindCluster {
        self.cluster.clone().unwrap_or_else(KindCluster::book)
    }

    /// Every pod: declared Pods and the replicas of every Deployment.
    pub fn pods(&self) -> &[PodModel] {
        &self.pods
    }

    pub fn services(&self) -> &[ServiceModel] {
        &self.services
    }

    pub fn policies(&self) -> &[PolicyModel] {
        &self.policies
    }

    /// The engine over every policy here.
    pub fn policy_set(&self) -> PolicySet {
        PolicySet::new(self.policies.iter().map(|p| p.compiled.clone()))
    }

    pub fn pod(&self, namespace: &str, name: &str) -> Option<&PodModel> {
        self.pods
            .iter()
            .find(|p| p.namespace == namespace && p.name == name)
    }

    pub fn service(&self, namespace: &str, name: &str) -> Option<&ServiceModel> {
        self.services
            .iter()
            .find(|s| s.namespace == namespace && s.name == name)
    }

    /// The pods a Service selects.
    pub fn backends(&self, service: &ServiceModel) -> Vec<&PodModel> {
        service.backends(&self.pods)
    }

    /// Apply `other` over this set as kubectl would: with [`ApplyMode::Apply`] the same key
    /// replaces (configured, or unchanged when equal) and a new key adds; with
    /// [`ApplyMode::Create`] an existing key is refused (AlreadyExists).
    pub fn apply(&mut self, other: Manifests, mode: ApplyMode) -> Vec<Applied> {
        let mut results = Vec::new();
        for obj in other.documents {
            let key = obj.key.clone();
            let result = match (mode, self.objects.iter_mut().find(|o| o.key == obj.key)) {
                (ApplyMode::Create, Some(_)) => Err(Refusal::AlreadyExists),
                (ApplyMode::Apply, Some(existing)) if existing.object == obj.object => {
                    Ok(Change::Unchanged)
                }
                (ApplyMode::Apply, Some(existing)) => {
                    *existing = obj;
                    Ok(Change::Configured)
                }
                (_, None) => {
                    self.objects.push(obj);
                    Ok(Change::Created)
                }
            };
            results.push(Applied { key, result });
        }
        self.ignored.extend(other.ignored);
        self.documents = self.objects.clone();
        self.derive();
        results
    }

    /// Remove one object (NotFound when there is none with that key).
    pub fn delete(&mut self, key: &ObjectKey) -> Applied {
        let before = self.objects.len();
        self.objects.retain(|o| &o.key != key);
        let result = if self.objects.len() == before {
            Err(Refusal::NotFound)
        } else {
            self.documents = self.objects.clone();
            self.derive();
            Ok(Change::Deleted)
        };
        Applied {
            key: key.clone(),
            result,
        }
    }

    /// Only the CiliumNetworkPolicy objects of this set.
    pub fn policies_only(&self) -> Manifests {
        let objects = self
            .objects
            .iter()
            .filter(|o| matches!(o.object, Object::Policy(_)))
            .cloned()
            .collect();
        Manifests::from_objects(objects, Vec::new())
    }

    fn from_objects(objects: Vec<LoadedObject>, ignored: Vec<Ignored>) -> Manifests {
        let mut m = Manifests {
            objects: Vec::new(),
            documents: objects.clone(),
            ignored,
            ..Manifests::default()
        };
        for obj in objects {
            match m.objects.iter_mut().find(|o| o.key == obj.key) {
                Some(existing) => *existing = obj,
                None => m.objects.push(obj),
            }
        }
        m.derive();
        m
    }

    /// Recompute pods, services and policies; objects were validated when loaded, so no
    /// problem can appear here.
    fn derive(&mut self) {
        let mut sink = Vec::new();
        self.pods.clear();
        self.services.clear();
        self.policies.clear();
        for obj in &self.objects {
            match &obj.object {
                Object::Pod(pod) => {
                    self.pods
                        .extend(workload::pod_model(pod, &obj.origin, &mut sink));
                }
                Object::Deployment(d) => {
                    self.pods
                        .extend(workload::deployment_pods(d, &obj.origin, &mut sink));
                }
                Object::Service(s) => {
                    self.services
                        .extend(service::service_model(s, &obj.origin, &mut sink));
                }
                Object::Policy(cnp) => {
                    if let Ok(compiled) = CompiledPolicy::compile(cnp) {
                        self.policies.push(PolicyModel {
                            cnp: (**cnp).clone(),
                            origin: obj.origin.clone(),
                            compiled: Arc::new(compiled),
                        });
                    }
                }
            }
        }
    }
}

/// Load files and directories (every `.yml`, `.yaml`, `.json` directly inside, by name).
pub fn load_paths<P: AsRef<Path>>(paths: &[P]) -> Result<Manifests, LoadErrors> {
    let mut loader = Loader::default();
    if paths.is_empty() {
        loader.errors.push(LoadError::file(
            &Arc::from("<arguments>"),
            "no file given: name at least one file or directory with -f",
        ));
    }
    for path in paths {
        let path = path.as_ref();
        let source: Arc<str> = Arc::from(path.display().to_string());
        if path.is_dir() {
            match list_dir(path) {
                Ok(files) if files.is_empty() => loader.errors.push(LoadError::file(
                    &source,
                    "the directory holds no .yml, .yaml or .json file",
                )),
                Ok(files) => {
                    for file in files {
                        loader.file(&file);
                    }
                }
                Err(e) => loader.errors.push(LoadError::file(
                    &source,
                    format!("cannot list the directory: {e}"),
                )),
            }
        } else {
            loader.file(path);
        }
    }
    loader.finish()
}

/// Load YAML text; `source` names it in errors (`<stdin>`, a file name sent by a client).
pub fn load_str(text: &str, source: &str) -> Result<Manifests, LoadErrors> {
    let mut loader = Loader::default();
    loader.text(text, Arc::from(source));
    loader.finish()
}

/// A manifest file's text: refused unread when it is larger than a manifest may be, and with a
/// message that says so when it is not text (a binary file, or another encoding).
pub fn read_manifest(path: &Path) -> Result<String, String> {
    let len = std::fs::metadata(path)
        .map_err(|e| format!("cannot read: {e}"))?
        .len();
    if len > limits::MAX_BYTES as u64 {
        return Err(limits::TooBig::Bytes(usize::try_from(len).unwrap_or(usize::MAX)).to_string());
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "is not UTF-8 text (a binary file? the first bad byte is at offset {}): manifests are YAML or JSON text",
            e.utf8_error().valid_up_to()
        )
    })
}

/// The manifest files of a directory (`.yml`, `.yaml`, `.json`), sorted by name, as `kubectl -f DIR`
/// reads them.
pub fn list_dir(dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let manifest_ext = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "yml" | "yaml" | "json"));
        if manifest_ext && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

#[derive(Default)]
struct Loader {
    objects: Vec<LoadedObject>,
    ignored: Vec<Ignored>,
    cluster: Option<KindCluster>,
    errors: Vec<LoadError>,
}

impl Loader {
    fn finish(self) -> Result<Manifests, LoadErrors> {
        if self.errors.is_empty() {
            let mut m = Manifests::from_objects(self.objects, self.ignored);
            m.cluster = self.cluster;
            Ok(m)
        } else {
            Err(LoadErrors(self.errors))
        }
    }

    fn file(&mut self, path: &Path) {
        let source: Arc<str> = Arc::from(path.display().to_string());
        match read_manifest(path) {
            Ok(text) => self.text(&text, source),
            Err(e) => self.errors.push(LoadError::file(&source, e)),
        }
    }

    fn text(&mut self, text: &str, source: Arc<str>) {
        if let Err(e) = limits::check(text) {
            self.errors.push(LoadError::file(&source, e.to_string()));
            return;
        }
        let mut documents = 0;
        for (i, doc) in serde_norway::Deserializer::from_str(text).enumerate() {
            let origin = Origin {
                source: source.clone(),
                document: i + 1,
            };
            let value = match Value::deserialize(doc) {
                Ok(v) => v,
                Err(e) => {
                    // The parser cannot resynchronise after a syntax error: stop this file.
                    self.errors
                        .push(LoadError::at(&origin, format!("not valid YAML: {e}")));
                    return;
                }
            };
            if value.is_null() {
                continue;
            }
            documents += 1;
            self.document(value, &origin);
        }
        if documents == 0 {
            self.errors.push(LoadError::file(
                &source,
                "empty: no Kubernetes object in it (a document needs apiVersion and kind)",
            ));
        }
    }

    fn document(&mut self, mut value: Value, origin: &Origin) {
        let Value::Mapping(map) = &value else {
            self.errors.push(LoadError::at(
                origin,
                format!(
                    "a document must be a mapping with apiVersion and kind, not {}",
                    type_name(&value)
                ),
            ));
            return;
        };
        let field = |name: &str| map.get(name).and_then(Value::as_str).map(str::to_string);
        let name = map
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let namespace = map
            .get("metadata")
            .and_then(|m| m.get("namespace"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let (api_version, kind) = match (field("apiVersion"), field("kind")) {
            (Some(a), Some(k)) => (a, k),
            (a, _) => {
                let missing = if a.is_none() { "apiVersion" } else { "kind" };
                self.errors.push(
                    LoadError::at(
                        origin,
                        "missing (or not a string): every object needs apiVersion and kind",
                    )
                    .with_field(missing),
                );
                return;
            }
        };
        let object_name = format!("{kind} {}", name.as_deref().unwrap_or("<no name>"));
        let err = |field: &str, msg: String| {
            LoadError::at(origin, msg)
                .with_object(Some(&object_name))
                .with_field(field)
        };
        let expected = match kind.as_str() {
            "Pod" | "Service" => Some("v1"),
            "Deployment" => Some("apps/v1"),
            "CiliumNetworkPolicy" => Some("cilium.io/v2"),
            _ => None,
        };
        match expected {
            Some(want) if want != api_version => {
                self.errors.push(err(
                    "apiVersion",
                    format!("{api_version:?} is not supported for {kind}: use {want}"),
                ));
                return;
            }
            Some(_) => {}
            None => {
                if kind == "CiliumClusterwideNetworkPolicy" {
                    self.errors.push(err(
                        "kind",
                        "CiliumClusterwideNetworkPolicy is not emulated by galaxia: a real Cilium is needed (or write a namespaced CiliumNetworkPolicy)".into(),
                    ));
                } else {
                    if kinds::is_kind_config(&api_version, &kind) {
                        match KindCluster::deserialize(value) {
                            Ok(c) => self.cluster = Some(c),
                            Err(e) => self
                                .errors
                                .push(err("", format!("not a kind cluster config: {e}"))),
                        }
                    }
                    self.ignored.push(Ignored {
                        origin: origin.clone(),
                        api_version,
                        kind,
                        name,
                        namespace,
                    });
                }
                return;
            }
        }
        if kind != "CiliumNetworkPolicy" {
            quantities_as_strings(&mut value);
        }
        let before = self.errors.len();
        let object = match kind.as_str() {
            "Pod" => decode::<Pod>(value).map(|(p, u)| (Object::Pod(Box::new(p)), u)),
            "Service" => decode::<Service>(value).map(|(s, u)| (Object::Service(Box::new(s)), u)),
            "Deployment" => {
                decode::<Deployment>(value).map(|(d, u)| (Object::Deployment(Box::new(d)), u))
            }
            _ => {
                decode::<CiliumNetworkPolicy>(value).map(|(p, u)| (Object::Policy(Box::new(p)), u))
            }
        };
        let object = match object {
            Ok((o, unknown)) => {
                for field in unknown {
                    self.errors.push(err(
                        &field,
                        "unknown field (not in the Kubernetes 1.31 API): check its spelling and place".into(),
                    ));
                }
                o
            }
            Err((path, msg)) => {
                self.errors.push(err(&path, msg));
                return;
            }
        };
        // Validate now, so that every problem carries its file and document.
        let key = match &object {
            Object::Pod(pod) => {
                workload::pod_model(pod, origin, &mut self.errors);
                key_of(ObjectKind::Pod, &pod.metadata)
            }
            Object::Deployment(d) => {
                workload::deployment_pods(d, origin, &mut self.errors);
                key_of(ObjectKind::Deployment, &d.metadata)
            }
            Object::Service(s) => {
                service::service_model(s, origin, &mut self.errors);
                key_of(ObjectKind::Service, &s.metadata)
            }
            Object::Policy(cnp) => {
                let mut meta_errors = Vec::new();
                workload::check_name(cnp.name(), "metadata.name", &mut |f: &str, m: String| {
                    meta_errors.push(err(f, m));
                });
                self.errors.extend(meta_errors);
                if let Err(problems) = CompiledPolicy::compile(cnp) {
                    for p in problems.0 {
                        self.errors.push(err(&p.field, p.message));
                    }
                }
                key_of(ObjectKind::CiliumNetworkPolicy, &cnp.metadata)
            }
        };
        if self.errors.len() == before {
            self.objects.push(LoadedObject {
                key,
                object,
                origin: origin.clone(),
            });
        }
    }
}

fn key_of(
    kind: ObjectKind,
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> ObjectKey {
    ObjectKey {
        kind,
        namespace: workload::namespace_of(meta),
        name: meta.name.clone().unwrap_or_default(),
    }
}

/// Decode strictly, keeping the path of the field that failed. Our CNP model rejects unknown
/// fields itself; k8s-openapi skips them, so the skipped ones are returned to be reported.
fn decode<T: serde::de::DeserializeOwned>(
    value: Value,
) -> Result<(T, Vec<String>), (String, String)> {
    let mut unknown = Vec::new();
    let mut record = |path: serde_ignored::Path<'_>| unknown.push(field_path(&path));
    let result =
        serde_path_to_error::deserialize(serde_ignored::Deserializer::new(value, &mut record));
    match result {
        Ok(t) => Ok((t, unknown)),
        Err(e) => {
            let path = e.path().to_string();
            Err((path, e.into_inner().to_string()))
        }
    }
}

/// `spec.containers[0].imagee`, the way the other errors name fields.
fn field_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", field_path(parent)),
        Path::Map { parent, key } => {
            let parent = field_path(parent);
            if parent.is_empty() {
                key.clone()
            } else {
                format!("{parent}.{key}")
            }
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => field_path(parent),
    }
}

/// Kubernetes quantities may be written as YAML numbers (`cpu: 1`); k8s-openapi wants strings.
fn quantities_as_strings(value: &mut Value) {
    match value {
        Value::Mapping(map) => {
            for (k, v) in map.iter_mut() {
                let is_quantity_map =
                    matches!(k.as_str(), Some("limits" | "requests" | "overhead"));
                if is_quantity_map && let Value::Mapping(q) = v {
                    for (_, amount) in q.iter_mut() {
                        if let Value::Number(n) = amount {
                            *amount = Value::String(n.to_string());
                        }
                    }
                } else {
                    quantities_as_strings(v);
                }
            }
        }
        Value::Sequence(seq) => seq.iter_mut().for_each(quantities_as_strings),
        _ => {}
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}
