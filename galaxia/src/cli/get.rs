//! `galaxia get TYPE[,TYPE...] [NAME...]`: kubectl's tables of the running galaxy (pods,
//! Services, Deployments, ReplicaSets, Endpoints, CiliumNetworkPolicies; `all` as kubectl's
//! category), with kubectl's spellings, columns, order (by name) and flags: `-l`, `-n`, `-A`,
//! `--show-labels`, `--no-headers`, `-o wide|name|json|yaml|jsonpath=...`, `-w`.

use std::collections::BTreeMap;
use std::time::SystemTime;

use clap::ValueEnum;
use serde_json::Value;

use super::error::Error;
use super::jsonpath::Template;
use super::kubectl::{age, not_found};
use super::output::{self, Printer, Workload};
use super::print::{Format, Io, OutputArgs};
use super::selector::Selector;
use super::session::connect;
use crate::clock::from_epoch_ms;
use crate::control::Control;
use crate::control::discovery::ControlArgs;
use crate::control::views::{PodView, ServiceView};
use crate::manifest::ObjectKind;

/// The kinds `get`, `describe` and `delete` know, with kubectl's spellings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Resource {
    #[value(alias = "pod", alias = "po")]
    Pods,
    #[value(name = "svc", alias = "service", alias = "services")]
    Services,
    #[value(name = "deploy", alias = "deployment", alias = "deployments")]
    Deployments,
    #[value(name = "rs", alias = "replicaset", alias = "replicasets")]
    ReplicaSets,
    #[value(name = "ep", alias = "endpoints")]
    Endpoints,
    #[value(
        name = "cnp",
        alias = "ciliumnetworkpolicy",
        alias = "ciliumnetworkpolicies",
        alias = "ciliumnp"
    )]
    Policies,
}

impl Resource {
    pub fn kind(self) -> ObjectKind {
        match self {
            Resource::Pods => ObjectKind::Pod,
            Resource::Services | Resource::Endpoints => ObjectKind::Service,
            Resource::Deployments | Resource::ReplicaSets => ObjectKind::Deployment,
            Resource::Policies => ObjectKind::CiliumNetworkPolicy,
        }
    }

    /// How `-o name` and a listing of several kinds name an object's kind.
    fn prefix(self) -> &'static str {
        match self {
            Resource::Pods => "pod",
            Resource::Services => "service",
            Resource::Deployments => "deployment.apps",
            Resource::ReplicaSets => "replicaset.apps",
            Resource::Endpoints => "endpoints",
            Resource::Policies => "ciliumnetworkpolicy.cilium.io",
        }
    }

    /// The plural of kubectl's NotFound message.
    fn plural(self) -> &'static str {
        match self {
            Resource::Pods => "pods",
            Resource::Services => "services",
            Resource::Deployments => "deployments.apps",
            Resource::ReplicaSets => "replicasets.apps",
            Resource::Endpoints => "endpoints",
            Resource::Policies => "ciliumnetworkpolicies.cilium.io",
        }
    }

    /// `Error from server (NotFound): deployments.apps "x" not found`.
    pub fn not_found(self, name: &str) -> String {
        match self {
            Resource::Pods | Resource::Services | Resource::Policies => {
                not_found(self.kind(), name)
            }
            other => format!(
                "Error from server (NotFound): {} \"{name}\" not found",
                other.plural()
            ),
        }
    }

    /// `pod,svc`, `pods`, `all`: kubectl's TYPE argument, in the order given, each kind once;
    /// otherwise kubectl's message for the word it does not know.
    pub fn parse_list(s: &str) -> Result<Vec<Resource>, String> {
        let mut kinds = Vec::new();
        for word in s.split(',') {
            let found = match word.to_ascii_lowercase().as_str() {
                // kubectl's `all` category, of the kinds a galaxy has, in its order.
                "all" => vec![
                    Resource::Pods,
                    Resource::Services,
                    Resource::Deployments,
                    Resource::ReplicaSets,
                ],
                // kubectl's group-qualified spellings.
                "deployments.apps" | "deployment.apps" => vec![Resource::Deployments],
                "replicasets.apps" | "replicaset.apps" => vec![Resource::ReplicaSets],
                "ciliumnetworkpolicies.cilium.io" | "ciliumnetworkpolicy.cilium.io" => {
                    vec![Resource::Policies]
                }
                w => vec![Resource::from_str(w, false).map_err(|_| {
                    format!("error: the server doesn't have a resource type \"{word}\"")
                })?],
            };
            for r in found {
                if !kinds.contains(&r) {
                    kinds.push(r);
                }
            }
        }
        Ok(kinds)
    }
}

/// Show pods, Services, Deployments, ReplicaSets, Endpoints or CiliumNetworkPolicies of the
/// running galaxy.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to list: pods (po), svc (service), deploy (deployment), rs (replicaset),
    /// ep (endpoints), cnp (ciliumnetworkpolicy), a comma list of them (`pod,svc`), `all`, or
    /// TYPE/NAME.
    #[arg(value_name = "TYPE")]
    pub resource: String,
    /// Only these.
    pub names: Vec<String>,
    /// Only objects whose labels match (`class=estrela-da-morte`, `org!=alianca`, `app`, `!app`,
    /// `org in (imperio,alianca)`, comma-separated terms all hold).
    #[arg(short = 'l', long = "selector", value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// The namespace to list (a galaxy's objects are all in `default`).
    #[arg(short = 'n', long = "namespace", default_value = "default")]
    pub namespace: String,
    /// Every namespace (adds a NAMESPACE column).
    #[arg(short = 'A', long = "all-namespaces")]
    pub all_namespaces: bool,
    /// Add a LABELS column.
    #[arg(long = "show-labels")]
    pub show_labels: bool,
    /// Leave out the header line.
    #[arg(long = "no-headers")]
    pub no_headers: bool,
    /// After the table, print a line for every change (one kind only); Ctrl+C ends it.
    #[arg(short = 'w', long = "watch")]
    pub watch: bool,
    /// `wide` adds kubectl's wide columns; `name` prints `kind/name`; `json` and `yaml` print
    /// the objects as the API server gives them (a `List` for several); `jsonpath=TEMPLATE`
    /// (`{.items[*].metadata.name}`, `{range .items[*]}{.metadata.name}{"\n"}{end}`).
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub control: ControlArgs,
}

/// What the flags ask of every table.
pub(crate) struct Shape {
    pub wide: bool,
    pub with_kind: bool,
    pub all_namespaces: bool,
    pub show_labels: bool,
    pub no_headers: bool,
}

/// One object: its table cells and its API shape.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub kind: Resource,
    pub namespace: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub cells: Vec<String>,
    pub wide: Vec<String>,
    pub object: Value,
}

/// The galaxy's objects, fetched once a route however many kinds need them.
pub(crate) struct Snapshot {
    pub pods: Vec<PodView>,
    /// The control API's Deployment views, as JSON (read by field name).
    pub deployments: Vec<Value>,
    pub services: Vec<ServiceView>,
    pub policies: Vec<crate::state::StoredPolicy>,
}

impl Snapshot {
    pub fn fetch(
        control: &Control,
        rt: &tokio::runtime::Runtime,
        kinds: &[Resource],
    ) -> Result<Snapshot, Error> {
        let need = |ks: &[Resource]| kinds.iter().any(|k| ks.contains(k));
        let pods = if need(&[Resource::Pods, Resource::Deployments, Resource::ReplicaSets]) {
            rt.block_on(control.pods())?
        } else {
            Vec::new()
        };
        let deployments = if need(&[Resource::Deployments, Resource::ReplicaSets]) {
            rt.block_on(control.deployments())?
                .iter()
                .filter_map(|d| serde_json::to_value(d).ok())
                .collect()
        } else {
            Vec::new()
        };
        let services = if need(&[Resource::Services, Resource::Endpoints]) {
            rt.block_on(control.services())?
        } else {
            Vec::new()
        };
        let policies = if need(&[Resource::Policies]) {
            rt.block_on(control.policies())?.policies
        } else {
            Vec::new()
        };
        Ok(Snapshot {
            pods,
            deployments,
            services,
            policies,
        })
    }

    /// One kind's rows, sorted by namespace and name.
    pub fn rows(&self, kind: Resource, now: SystemTime) -> Vec<Row> {
        let ago = |ms: u64| age(from_epoch_ms(ms), now);
        let mut rows: Vec<Row> = match kind {
            Resource::Pods => self.pods.iter().map(|p| pod_row(p, now)).collect(),
            Resource::Services => self
                .services
                .iter()
                .map(|s| Row {
                    kind,
                    namespace: s.namespace.clone(),
                    name: s.name.clone(),
                    labels: s.labels.clone(),
                    cells: vec![
                        "ClusterIP".into(),
                        s.cluster_ip.clone(),
                        "<none>".into(),
                        s.ports.join(","),
                        ago(s.created_ms),
                    ],
                    wide: vec![labels_or_none(&s.selector)],
                    object: output::service_object(s),
                })
                .collect(),
            Resource::Endpoints => self
                .services
                .iter()
                .map(|s| {
                    let object = output::endpoints_object(s);
                    Row {
                        kind,
                        namespace: s.namespace.clone(),
                        name: s.name.clone(),
                        labels: s.labels.clone(),
                        cells: vec![format_endpoints(&object), ago(s.created_ms)],
                        wide: vec![],
                        object,
                    }
                })
                .collect(),
            Resource::Deployments => output::workloads(&self.deployments, &self.pods)
                .iter()
                .map(|w| {
                    let (names, images) = w.containers();
                    let object = w.deployment_object();
                    Row {
                        kind,
                        namespace: w.namespace.clone(),
                        name: w.name.clone(),
                        labels: labels_of(&object["metadata"]["labels"]),
                        cells: vec![
                            format!("{}/{}", w.ready, w.replicas),
                            w.updated.to_string(),
                            w.ready.min(w.replicas).to_string(),
                            ago(w.created_ms),
                        ],
                        wide: vec![names, images, selector_of(w, false)],
                        object,
                    }
                })
                .collect(),
            Resource::ReplicaSets => output::workloads(&self.deployments, &self.pods)
                .iter()
                .map(|w| {
                    let (names, images) = w.containers();
                    let object = w.replica_set_object();
                    Row {
                        kind,
                        namespace: w.namespace.clone(),
                        name: w.replica_set(),
                        labels: labels_of(&object["metadata"]["labels"]),
                        cells: vec![
                            w.replicas.to_string(),
                            w.updated.to_string(),
                            w.ready.min(w.updated).to_string(),
                            ago(w.created_ms),
                        ],
                        wide: vec![names, images, selector_of(w, true)],
                        object,
                    }
                })
                .collect(),
            Resource::Policies => self
                .policies
                .iter()
                .map(|p| {
                    let object = output::policy_object(p);
                    Row {
                        kind,
                        namespace: p.namespace.clone(),
                        name: p.name.clone(),
                        labels: labels_of(&object["metadata"]["labels"]),
                        // The CRD's one additionalPrinterColumn: Age (.metadata.creationTimestamp).
                        cells: vec![ago(p.created_ms)],
                        wide: vec![],
                        object,
                    }
                })
                .collect(),
        };
        rows.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        rows
    }
}

fn pod_row(p: &PodView, now: SystemTime) -> Row {
    let restarts = match p.last_restart_ms {
        Some(ms) if p.restarts > 0 => {
            format!("{} ({} ago)", p.restarts, age(from_epoch_ms(ms), now))
        }
        _ => p.restarts.to_string(),
    };
    Row {
        kind: Resource::Pods,
        namespace: p.namespace.clone(),
        name: p.name.clone(),
        labels: p.labels.clone(),
        cells: vec![
            format!("{}/1", u8::from(p.ready)),
            p.phase.to_string(),
            restarts,
            age(from_epoch_ms(p.created_ms), now),
        ],
        wide: vec![
            p.ip.clone(),
            p.node.clone(),
            "<none>".into(),
            "<none>".into(),
        ],
        object: output::pod_object(p),
    }
}

/// A Deployment's selector as kubectl's wide column prints it (the ReplicaSet's adds the
/// template hash).
fn selector_of(w: &Workload, with_hash: bool) -> String {
    let mut sel = w.selector();
    if with_hash && !sel.is_empty() {
        sel.insert(
            crate::manifest::POD_TEMPLATE_HASH.to_string(),
            w.hash.clone(),
        );
    }
    labels_or_none(&sel)
}

/// kubectl's formatEndpoints: `ip:port` for every port and ready address, the first three and
/// ` + N more...`; `<none>` without subsets.
pub(crate) fn format_endpoints(ep: &Value) -> String {
    let Some(subsets) = ep["subsets"].as_array() else {
        return "<none>".into();
    };
    let mut list = Vec::new();
    let mut count = 0;
    for ss in subsets {
        let addrs: Vec<&str> = ss["addresses"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a["ip"].as_str())
            .collect();
        for p in ss["ports"].as_array().into_iter().flatten() {
            count += addrs.len();
            for a in &addrs {
                if list.len() == 3 {
                    break;
                }
                list.push(format!("{a}:{}", p["port"]));
            }
        }
    }
    let text = list.join(",");
    if count > 3 {
        format!("{text} + {} more...", count - 3)
    } else {
        text
    }
}

fn labels_of(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// `key=value,...` sorted by key, as kubectl prints labels and selectors; `<none>` when empty.
pub(crate) fn labels_or_none(labels: &BTreeMap<String, String>) -> String {
    if labels.is_empty() {
        return "<none>".into();
    }
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// A kind's column heads after NAME, and those `-o wide` adds.
pub(crate) fn heads(kind: Resource) -> (&'static [&'static str], &'static [&'static str]) {
    match kind {
        Resource::Pods => (
            &["READY", "STATUS", "RESTARTS", "AGE"],
            &["IP", "NODE", "NOMINATED NODE", "READINESS GATES"],
        ),
        Resource::Services => (
            &["TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"],
            &["SELECTOR"],
        ),
        Resource::Deployments => (
            &["READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
            &["CONTAINERS", "IMAGES", "SELECTOR"],
        ),
        Resource::ReplicaSets => (
            &["DESIRED", "CURRENT", "READY", "AGE"],
            &["CONTAINERS", "IMAGES", "SELECTOR"],
        ),
        Resource::Endpoints => (&["ENDPOINTS", "AGE"], &[]),
        Resource::Policies => (&["AGE"], &[]),
    }
}

/// The header cells for these flags.
pub(crate) fn header(kind: Resource, shape: &Shape) -> Vec<String> {
    let (head, wide_head) = heads(kind);
    let mut columns: Vec<String> = Vec::new();
    if shape.all_namespaces {
        columns.push("NAMESPACE".into());
    }
    columns.push("NAME".into());
    columns.extend(head.iter().map(|s| s.to_string()));
    if shape.wide {
        columns.extend(wide_head.iter().map(|s| s.to_string()));
    }
    if shape.show_labels {
        columns.push("LABELS".into());
    }
    columns
}

/// One row's cells for these flags.
pub(crate) fn cells(r: &Row, shape: &Shape) -> Vec<String> {
    let mut cells = Vec::new();
    if shape.all_namespaces {
        cells.push(r.namespace.clone());
    }
    cells.push(if shape.with_kind {
        format!("{}/{}", r.kind.prefix(), r.name)
    } else {
        r.name.clone()
    });
    cells.extend(r.cells.iter().cloned());
    if shape.wide {
        cells.extend(r.wide.iter().cloned());
    }
    if shape.show_labels {
        cells.push(labels_or_none(&r.labels));
    }
    cells
}

/// Which objects the command line asks for.
pub(crate) struct Filter {
    pub namespace: String,
    pub all_namespaces: bool,
    pub selector: Option<Selector>,
    pub names: Vec<String>,
}

impl Filter {
    pub fn keep(&self, r: &Row) -> bool {
        (self.all_namespaces || r.namespace == self.namespace)
            && self.selector.as_ref().is_none_or(|s| s.matches(&r.labels))
            && (self.names.is_empty() || self.names.contains(&r.name))
    }
}

pub fn run(args: Args, io: &mut Io<'_>) -> Result<(), Error> {
    run_then(args, io, |_, _| Ok(()))
}

/// What `-w` goes on from: the table just printed, its column widths, and how to read more.
pub(crate) struct Watched<'a> {
    pub control: &'a Control,
    pub rt: &'a tokio::runtime::Runtime,
    pub kind: Resource,
    pub filter: &'a Filter,
    pub shape: &'a Shape,
    pub first: Vec<Row>,
    pub widths: Vec<usize>,
}

/// `get`, then, under `-w`, `then` with what the watch goes on from (cli/watch.rs).
pub(crate) fn run_then(
    args: Args,
    io: &mut Io<'_>,
    then: impl FnOnce(Watched<'_>, &mut Io<'_>) -> Result<(), Error>,
) -> Result<(), Error> {
    let format = args.output.format(&[
        Format::Wide,
        Format::Name,
        Format::Json,
        Format::Yaml,
        Format::JsonPath(String::new()),
        Format::ViewJson,
    ])?;
    let (type_word, mut names) = match args.resource.split_once('/') {
        Some((t, n)) => (t.to_string(), vec![n.to_string()]),
        None => (args.resource.clone(), Vec::new()),
    };
    names.extend(args.names.iter().cloned());
    let kinds = match Resource::parse_list(&type_word) {
        Ok(k) => k,
        Err(message) => {
            writeln!(io.err, "{message}")?;
            return Err(Error::Reported(1));
        }
    };
    let printer = match &format {
        Format::Json => Some(Printer::Json),
        Format::Yaml => Some(Printer::Yaml),
        Format::JsonPath(t) => {
            Some(Printer::JsonPath(Template::parse(t).map_err(|e| {
                Error::Usage(format!("error parsing jsonpath {t}, {e}"))
            })?))
        }
        _ => None,
    };
    let filter = Filter {
        namespace: args.namespace.clone(),
        all_namespaces: args.all_namespaces,
        selector: match &args.selector {
            Some(s) => Some(Selector::parse(s).map_err(Error::Usage)?),
            None => None,
        },
        names: names.clone(),
    };
    let (control, rt) = connect(&args.control)?;
    let now = SystemTime::now();
    let snapshot = Snapshot::fetch(&control, &rt, &kinds)?;
    let groups: Vec<(Resource, Vec<Row>)> = kinds
        .iter()
        .map(|k| {
            let rows: Vec<Row> = snapshot
                .rows(*k, now)
                .into_iter()
                .filter(|r| filter.keep(r))
                .collect();
            (*k, rows)
        })
        .collect();
    let mut missing: Vec<String> = Vec::new();
    for (kind, rows) in &groups {
        for n in &names {
            if !rows.iter().any(|r| &r.name == n) {
                missing.push(kind.not_found(n));
            }
        }
    }
    let found: usize = groups.iter().map(|(_, r)| r.len()).sum();
    let kinds_found = groups.iter().filter(|(_, r)| !r.is_empty()).count();
    if args.watch {
        if kinds_found > 1 || kinds.len() > 1 && names.is_empty() {
            writeln!(
                io.err,
                "error: watch is only supported on individual resources and resource collections - more than 1 resource was found"
            )?;
            return Err(Error::Reported(1));
        }
        if !missing.is_empty() {
            for m in &missing {
                writeln!(io.err, "{m}")?;
            }
            return Err(Error::Reported(1));
        }
    }

    if format == Format::ViewJson {
        return view_json(&snapshot, &kinds, &filter, &missing, io);
    }
    if let Some(printer) = printer {
        // One name of one kind found is the object itself; anything else is a List.
        let single = kinds.len() == 1 && names.len() == 1 && found == 1;
        let objects: Vec<Value> = groups
            .iter()
            .flat_map(|(_, rows)| rows.iter().map(|r| r.object.clone()))
            .collect();
        // One name not found is only its error (kubectl's single item implied).
        if names.len() != 1 || found > 0 {
            io.out
                .write_all(printer.print(objects, !single)?.as_bytes())?;
        }
        return report_missing(&missing, io);
    }
    if format == Format::Name {
        for (kind, rows) in &groups {
            for r in rows {
                writeln!(io.out, "{}/{}", kind.prefix(), r.name)?;
            }
        }
        return report_missing(&missing, io);
    }
    let shape = Shape {
        wide: format == Format::Wide,
        with_kind: kinds_found > 1,
        all_namespaces: args.all_namespaces,
        show_labels: args.show_labels,
        no_headers: args.no_headers,
    };
    let mut blocks: Vec<String> = Vec::new();
    let mut widths = Vec::new();
    for (kind, rows) in &groups {
        if rows.is_empty() {
            continue;
        }
        widths = Vec::new();
        let mut text = String::new();
        let mut lines: Vec<Vec<String>> = Vec::new();
        if !shape.no_headers {
            lines.push(header(*kind, &shape));
        }
        lines.extend(rows.iter().map(|r| cells(r, &shape)));
        remember(&mut widths, &lines);
        for l in &lines {
            text.push_str(&line(l, &widths));
        }
        blocks.push(text);
    }
    // kubectl separates the kinds' tables with a blank line.
    io.out.write_all(blocks.join("\n").as_bytes())?;
    if !missing.is_empty() {
        return report_missing(&missing, io);
    }
    if blocks.is_empty() && !args.watch {
        let msg = super::kubectl::no_resources_found(args.all_namespaces, &args.namespace);
        writeln!(io.err, "{msg}")?;
    }
    if args.watch {
        io.out.flush()?;
        let kind = kinds[0];
        let first = groups
            .into_iter()
            .next()
            .map(|(_, r)| r)
            .unwrap_or_default();
        let watched = Watched {
            control: &control,
            rt: &rt,
            kind,
            filter: &filter,
            shape: &shape,
            first,
            widths,
        };
        return then(watched, io);
    }
    Ok(())
}

/// kubectl's table layout (liggitt/tabwriter with `RememberWidths`, minwidth 6, padding 3): a
/// `-w` line keeps the widths of the table above it and widens them when it must.
const MIN_WIDTH: usize = 6;
const PADDING: usize = 3;

/// Widen `widths` to hold every cell of `lines` but each line's last.
pub fn remember(widths: &mut Vec<usize>, lines: &[Vec<String>]) {
    for l in lines {
        for (i, c) in l.iter().enumerate().take(l.len().saturating_sub(1)) {
            let w = (c.chars().count() + PADDING).max(MIN_WIDTH);
            if i < widths.len() {
                widths[i] = widths[i].max(w);
            } else {
                widths.push(w);
            }
        }
    }
}

/// One line laid out on `widths` (the last cell unpadded).
pub fn line(cells: &[String], widths: &[usize]) -> String {
    let mut out = String::new();
    for (i, c) in cells.iter().enumerate() {
        out.push_str(c);
        if i + 1 < cells.len() {
            let pad = widths
                .get(i)
                .copied()
                .unwrap_or(MIN_WIDTH)
                .saturating_sub(c.chars().count());
            out.extend(std::iter::repeat_n(' ', pad));
        }
    }
    out.push('\n');
    out
}

/// `-o galaxia-json`: one kind's control API views, filtered as the table would be.
fn view_json(
    snapshot: &Snapshot,
    kinds: &[Resource],
    filter: &Filter,
    missing: &[String],
    io: &mut Io<'_>,
) -> Result<(), Error> {
    let keep = |ns: &str, name: &str, labels: &BTreeMap<String, String>| {
        (filter.all_namespaces || ns == filter.namespace)
            && filter.selector.as_ref().is_none_or(|s| s.matches(labels))
            && (filter.names.is_empty() || filter.names.iter().any(|n| n == name))
    };
    let value = match kinds {
        [Resource::Pods] => serde_json::to_value(
            snapshot
                .pods
                .iter()
                .filter(|p| keep(&p.namespace, &p.name, &p.labels))
                .collect::<Vec<_>>(),
        ),
        [Resource::Services] => serde_json::to_value(
            snapshot
                .services
                .iter()
                .filter(|s| keep(&s.namespace, &s.name, &s.labels))
                .collect::<Vec<_>>(),
        ),
        [Resource::Policies] => serde_json::to_value(
            snapshot
                .policies
                .iter()
                .filter(|p| {
                    keep(
                        &p.namespace,
                        &p.name,
                        &labels_of(&p.object["metadata"]["labels"]),
                    )
                })
                .collect::<Vec<_>>(),
        ),
        _ => {
            return Err(Error::Usage(
                "-o galaxia-json prints one kind of pods, svc or cnp (the control API's views)"
                    .into(),
            ));
        }
    }
    .map_err(|e| Error::verb("printing JSON", e))?;
    super::print::write_json(io.out, &value)?;
    report_missing(missing, io)
}

fn report_missing(missing: &[String], io: &mut Io<'_>) -> Result<(), Error> {
    if missing.is_empty() {
        return Ok(());
    }
    for m in missing {
        writeln!(io.err, "{m}")?;
    }
    Err(Error::Reported(1))
}
