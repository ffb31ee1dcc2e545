//! `galaxia get TYPE[,TYPE...] [NAME...]`: kubectl's tables of the running galaxy (pods, Services,
//! CiliumNetworkPolicies; `all` is pods and Services), with kubectl's spellings, columns, order
//! (by name) and flags: `-l`, `-n`, `-A`, `--show-labels`, `--no-headers`, `-o wide|json|name`.

use std::collections::BTreeMap;
use std::time::SystemTime;

use clap::ValueEnum;

use super::error::Error;
use super::kubectl::{age, not_found};
use super::print::{Format, Io, OutputArgs, Table, write_json};
use super::selector::Selector;
use super::session::connect;
use crate::clock::from_epoch_ms;
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
            Resource::Services => ObjectKind::Service,
            Resource::Policies => ObjectKind::CiliumNetworkPolicy,
        }
    }

    /// How `-o name` and a listing of several kinds name an object's kind.
    fn prefix(self) -> &'static str {
        match self {
            Resource::Pods => "pod",
            Resource::Services => "service",
            Resource::Policies => "ciliumnetworkpolicy.cilium.io",
        }
    }

    /// `pod,svc`, `pods`, `all`: kubectl's TYPE argument, in the order given, each kind once;
    /// otherwise kubectl's message for the word it does not know.
    pub fn parse_list(s: &str) -> Result<Vec<Resource>, String> {
        let mut kinds = Vec::new();
        for word in s.split(',') {
            let found = match word.to_ascii_lowercase().as_str() {
                // kubectl's `all` category holds the workloads and Services; a galaxy has pods
                // and Services of those (its Deployments are not objects of their own here).
                "all" => vec![Resource::Pods, Resource::Services],
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

/// Show pods, Services or CiliumNetworkPolicies of the running galaxy.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to list: pods (po), svc (service), cnp (ciliumnetworkpolicy), a comma list of them
    /// (`pod,svc`), or `all` (pods and Services).
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
    /// `wide` adds IP and NODE (pods) or SELECTOR (Services); `name` prints `kind/name`;
    /// `json` is galaxia's own view of one kind.
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub control: ControlArgs,
}

/// What the flags ask of every table.
struct Shape {
    wide: bool,
    names_only: bool,
    with_kind: bool,
    all_namespaces: bool,
    show_labels: bool,
    no_headers: bool,
}

pub fn run(args: Args, io: &mut Io<'_>) -> Result<(), Error> {
    let format = args
        .output
        .format(&[Format::Json, Format::Wide, Format::Name])?;
    let kinds = match Resource::parse_list(&args.resource) {
        Ok(k) => k,
        Err(message) => {
            writeln!(io.err, "{message}")?;
            return Err(Error::Reported(1));
        }
    };
    let selector = match &args.selector {
        Some(s) => Some(Selector::parse(s).map_err(Error::Usage)?),
        None => None,
    };
    if format == Format::Json && kinds.len() > 1 {
        return Err(Error::Usage(
            "-o json prints one kind at a time here (galaxia's own view of it): name one TYPE"
                .into(),
        ));
    }
    let (control, rt) = connect(&args.control)?;
    let now = SystemTime::now();
    let shape = Shape {
        wide: format == Format::Wide,
        names_only: format == Format::Name,
        with_kind: kinds.len() > 1,
        all_namespaces: args.all_namespaces,
        show_labels: args.show_labels,
        no_headers: args.no_headers,
    };
    // An object is shown when it is in the namespace asked, matches the selector and, when names
    // are given, is one of them.
    let keep = |ns: &str, name: &str, labels: &BTreeMap<String, String>| {
        (args.all_namespaces || ns == args.namespace)
            && selector.as_ref().is_none_or(|s| s.matches(labels))
            && (args.names.is_empty() || args.names.iter().any(|n| n == name))
    };
    let mut blocks: Vec<String> = Vec::new();
    let mut missing: Vec<String> = Vec::new();
    for kind in &kinds {
        let (rendered, names): (Option<String>, Vec<String>) = match kind {
            Resource::Pods => {
                let mut pods = rt.block_on(control.pods())?;
                pods.retain(|p| keep(&p.namespace, &p.name, &p.labels));
                pods.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
                if format == Format::Json {
                    note_missing(&args.names, pods.iter().map(|p| &p.name), *kind, io)?;
                    return write_json(io.out, &pods);
                }
                let names = pods.iter().map(|p| p.name.clone()).collect();
                (pods_table(&pods, &shape, now), names)
            }
            Resource::Services => {
                let mut svcs = rt.block_on(control.services())?;
                svcs.retain(|s| keep(&s.namespace, &s.name, &s.labels));
                if format == Format::Json {
                    note_missing(&args.names, svcs.iter().map(|s| &s.name), *kind, io)?;
                    return write_json(io.out, &svcs);
                }
                let names = svcs.iter().map(|s| s.name.clone()).collect();
                (services_table(&svcs, &shape, now), names)
            }
            Resource::Policies => {
                let mut resp = rt.block_on(control.policies())?;
                resp.policies
                    .retain(|p| keep(&p.namespace, &p.name, &object_labels(&p.object)));
                resp.policies
                    .sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
                if format == Format::Json {
                    note_missing(
                        &args.names,
                        resp.policies.iter().map(|p| &p.name),
                        *kind,
                        io,
                    )?;
                    let objects: Vec<_> = resp.policies.iter().map(|p| &p.object).collect();
                    return write_json(io.out, &objects);
                }
                let names = resp.policies.iter().map(|p| p.name.clone()).collect();
                let rows: Vec<Row> = resp
                    .policies
                    .iter()
                    .map(|p| Row {
                        namespace: p.namespace.clone(),
                        name: p.name.clone(),
                        labels: object_labels(&p.object),
                        cells: vec![age(from_epoch_ms(p.created_ms), now)],
                        wide: vec![],
                    })
                    .collect();
                (render(*kind, &["AGE"], &[], &rows, &shape), names)
            }
        };
        for n in &args.names {
            if !names.contains(n) {
                missing.push(not_found(kind.kind(), n));
            }
        }
        blocks.extend(rendered);
    }
    // kubectl separates the kinds' tables with a blank line; names print one a line.
    let sep = if shape.names_only { "" } else { "\n" };
    io.out.write_all(blocks.join(sep).as_bytes())?;
    if !missing.is_empty() {
        for m in &missing {
            writeln!(io.err, "{m}")?;
        }
        return Err(Error::Reported(1));
    }
    if blocks.is_empty() {
        // kubectl says so on stderr: `kubectl get cnp | wc -l` counts 0.
        if args.all_namespaces {
            writeln!(io.err, "No resources found")?;
        } else {
            writeln!(
                io.err,
                "No resources found in {} namespace.",
                args.namespace
            )?;
        }
    }
    Ok(())
}

/// An object's `metadata.labels`, from its JSON.
fn object_labels(object: &serde_json::Value) -> BTreeMap<String, String> {
    object["metadata"]["labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// With `-o json` the names asked for that are not there are kubectl's NotFound errors.
fn note_missing<'a>(
    asked: &[String],
    found: impl Iterator<Item = &'a String> + Clone,
    kind: Resource,
    io: &mut Io<'_>,
) -> Result<(), Error> {
    let gone: Vec<&String> = asked
        .iter()
        .filter(|n| !found.clone().any(|f| f == *n))
        .collect();
    for n in &gone {
        writeln!(io.err, "{}", not_found(kind.kind(), n))?;
    }
    if gone.is_empty() {
        Ok(())
    } else {
        Err(Error::Reported(1))
    }
}

/// One object's line: the cells after NAME, and those `-o wide` adds.
struct Row {
    namespace: String,
    name: String,
    labels: BTreeMap<String, String>,
    cells: Vec<String>,
    wide: Vec<String>,
}

fn pods_table(pods: &[PodView], shape: &Shape, now: SystemTime) -> Option<String> {
    let rows: Vec<Row> = pods
        .iter()
        .map(|p| {
            let restarts = match p.last_restart_ms {
                Some(ms) if p.restarts > 0 => {
                    format!("{} ({} ago)", p.restarts, age(from_epoch_ms(ms), now))
                }
                _ => p.restarts.to_string(),
            };
            Row {
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
            }
        })
        .collect();
    render(
        Resource::Pods,
        &["READY", "STATUS", "RESTARTS", "AGE"],
        &["IP", "NODE", "NOMINATED NODE", "READINESS GATES"],
        &rows,
        shape,
    )
}

fn services_table(svcs: &[ServiceView], shape: &Shape, now: SystemTime) -> Option<String> {
    let rows: Vec<Row> = svcs
        .iter()
        .map(|s| Row {
            namespace: s.namespace.clone(),
            name: s.name.clone(),
            labels: s.labels.clone(),
            cells: vec![
                "ClusterIP".into(),
                s.cluster_ip.clone(),
                "<none>".into(),
                s.ports.join(","),
                age(from_epoch_ms(s.created_ms), now),
            ],
            wide: vec![labels_or_none(&s.selector)],
        })
        .collect();
    render(
        Resource::Services,
        &["TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"],
        &["SELECTOR"],
        &rows,
        shape,
    )
}

/// `key=value,...` sorted by key, as kubectl prints labels and selectors; `<none>` when empty.
fn labels_or_none(labels: &BTreeMap<String, String>) -> String {
    if labels.is_empty() {
        return "<none>".into();
    }
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// One kind's table as kubectl lays it out for these flags; `None` when it has no rows.
fn render(
    kind: Resource,
    head: &[&str],
    wide_head: &[&str],
    rows: &[Row],
    shape: &Shape,
) -> Option<String> {
    if rows.is_empty() {
        return None;
    }
    let name = |r: &Row| {
        if shape.with_kind || shape.names_only {
            format!("{}/{}", kind.prefix(), r.name)
        } else {
            r.name.clone()
        }
    };
    if shape.names_only {
        return Some(rows.iter().map(|r| name(r) + "\n").collect());
    }
    let mut columns: Vec<&str> = Vec::new();
    if shape.all_namespaces {
        columns.push("NAMESPACE");
    }
    columns.push("NAME");
    columns.extend(head);
    if shape.wide {
        columns.extend(wide_head);
    }
    if shape.show_labels {
        columns.push("LABELS");
    }
    let mut t = Table::kubectl(&columns);
    for r in rows {
        let mut cells = Vec::new();
        if shape.all_namespaces {
            cells.push(r.namespace.clone());
        }
        cells.push(name(r));
        cells.extend(r.cells.iter().cloned());
        if shape.wide {
            cells.extend(r.wide.iter().cloned());
        }
        if shape.show_labels {
            cells.push(labels_or_none(&r.labels));
        }
        t.row(cells);
    }
    let text = t.render();
    Some(if shape.no_headers {
        text.split_once('\n')
            .map_or(String::new(), |(_, rest)| rest.to_string())
    } else {
        text
    })
}
