//! `galaxia describe cnp NAME`: a policy as `kubectl describe` shows a custom resource (keys in
//! Title Case, nested by indentation), and `describe pods NAME`.

use std::io::Write;

use super::error::Error;
use super::get::Resource;
use super::kubectl::not_found;
use super::print::{Io, OutputArgs};
use super::session::connect;
use crate::control::discovery::ControlArgs;

/// Show one object in detail.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// `cnp` or `pods`.
    #[arg(value_enum)]
    pub resource: Resource,
    pub name: String,
    /// describe prints one format (as kubectl describe).
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub control: ControlArgs,
}

pub fn run(args: Args, io: &mut Io<'_>) -> Result<(), Error> {
    args.output.format(&[])?;
    let (control, rt) = connect(&args.control)?;
    let out = &mut *io.out;
    let missing = |err: &mut dyn Write| -> Result<(), Error> {
        writeln!(err, "{}", not_found(args.resource.kind(), &args.name))?;
        Err(Error::Reported(1))
    };
    match args.resource {
        Resource::Policies => {
            let resp = rt.block_on(control.policies())?;
            let Some(p) = resp.policies.iter().find(|p| p.name == args.name) else {
                return missing(io.err);
            };
            let o = &p.object;
            let text = |v: &serde_json::Value| v.as_str().unwrap_or("<none>").to_string();
            let map_or_none = |v: &serde_json::Value| match v.as_object() {
                Some(m) if !m.is_empty() => m
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join("\n              "),
                _ => "<none>".into(),
            };
            let created =
                humantime::format_rfc3339_seconds(crate::clock::from_epoch_ms(p.created_ms));
            writeln!(out, "Name:         {}", p.name)?;
            writeln!(out, "Namespace:    {}", p.namespace)?;
            writeln!(
                out,
                "Labels:       {}",
                map_or_none(&o["metadata"]["labels"])
            )?;
            writeln!(
                out,
                "Annotations:  {}",
                map_or_none(&o["metadata"]["annotations"])
            )?;
            writeln!(out, "API Version:  {}", text(&o["apiVersion"]))?;
            writeln!(out, "Kind:         {}", text(&o["kind"]))?;
            writeln!(out, "Metadata:")?;
            writeln!(out, "  Creation Timestamp:  {created}")?;
            writeln!(out, "  Source:              {}", p.origin)?;
            for (key, value) in o.as_object().into_iter().flatten() {
                if matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
                    continue;
                }
                render(out, &title(key), value, 0)?;
            }
            writeln!(out, "Events:       <none>")?;
            Ok(())
        }
        Resource::Pods => {
            let pods = rt.block_on(control.pods())?;
            let Some(p) = pods.iter().find(|p| p.name == args.name) else {
                return missing(io.err);
            };
            writeln!(out, "Name:          {}", p.name)?;
            writeln!(out, "Namespace:     {}", p.namespace)?;
            let labels: Vec<String> = p.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            writeln!(out, "Labels:        {}", labels.join("\n               "))?;
            writeln!(out, "Status:        {}", p.phase)?;
            writeln!(out, "Ready:         {}", p.ready)?;
            writeln!(out, "Restart Count: {}", p.restarts)?;
            writeln!(out, "Egress Proxy:  {}", p.egress)?;
            for (port, addr) in &p.ports {
                writeln!(out, "Port:          {port}/TCP -> {addr}")?;
            }
            Ok(())
        }
        Resource::Services => Err(Error::Usage(
            "describe knows cnp and pods; try `galaxia get svc`".into(),
        )),
    }
}

/// `endpointSelector` -> `Endpoint Selector`, as kubectl describe prints unstructured keys.
fn title(key: &str) -> String {
    let mut out = String::new();
    for (i, c) in key.chars().enumerate() {
        if i == 0 {
            out.extend(c.to_uppercase());
        } else if c.is_uppercase() {
            out.push(' ');
            out.push(c);
        } else {
            out.push(c);
        }
    }
    out
}

fn render(
    out: &mut dyn Write,
    key: &str,
    v: &serde_json::Value,
    depth: usize,
) -> Result<(), Error> {
    let pad = "  ".repeat(depth);
    match v {
        serde_json::Value::Object(m) => {
            writeln!(out, "{pad}{key}:")?;
            // Label keys are data, not field names: keep them as written.
            fields(out, m, depth + 1, key == "Match Labels")?;
        }
        serde_json::Value::Array(items) => {
            writeln!(out, "{pad}{key}:")?;
            for item in items {
                match item {
                    serde_json::Value::Object(m) => fields(out, m, depth + 1, false)?,
                    other => writeln!(out, "{pad}  {}", scalar(other))?,
                }
            }
        }
        other => writeln!(out, "{pad}{key}:  {}", scalar(other))?,
    }
    Ok(())
}

/// The fields of one object, scalar values aligned in a column as kubectl describe does.
fn fields(
    out: &mut dyn Write,
    m: &serde_json::Map<String, serde_json::Value>,
    depth: usize,
    labels: bool,
) -> Result<(), Error> {
    let name = |k: &String| if labels { k.clone() } else { title(k) };
    let width = m
        .iter()
        .filter(|(_, v)| !v.is_object() && !v.is_array())
        .map(|(k, _)| name(k).len())
        .max()
        .unwrap_or(0);
    let pad = "  ".repeat(depth);
    for (k, v) in m {
        if v.is_object() || v.is_array() {
            render(out, &name(k), v, depth)?;
        } else {
            let shown = format!("{}:", name(k));
            writeln!(out, "{pad}{shown:<w$}  {}", scalar(v), w = width + 1)?;
        }
    }
    Ok(())
}

fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
