//! `galaxia policy trace|table`: ask the policy engine about the manifests, without running
//! anything. `trace` answers one question (this pod, that pod or Service, this request); `table`
//! draws the picture a teacher puts on a slide (every pod to every Death Star, for the demo's
//! three requests).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use politica::{Endpoint, HttpRequest, Protocol, labels};
use serde::Serialize;

use super::error::Error;
use super::print::{Format, Io, OutputArgs, Table, write_json};
use crate::manifest::reach::{Decision, connection_decision, http_decision, truth_table};
use crate::manifest::{self, Manifests, PodModel, split_namespaced};

// Parsed once per process: the size difference between the variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Trace one connection (and optionally one HTTP request) through the policies.
    Trace(TraceArgs),
    /// Print who reaches what: every pod to every Death Star, for land, exhaust and info.
    Table(TableArgs),
}

/// Trace one connection and, with --method/--path/--header, one HTTP request.
#[derive(Debug, Args)]
pub struct TraceArgs {
    /// Manifest files or directories (every .yml/.yaml/.json inside); repeat or list several.
    #[arg(short = 'f', long = "filename", required = true, num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// The source pod: its name, namespace/name, or a Deployment's name (its first replica).
    #[arg(long, required_unless_present = "from_labels")]
    pub from: Option<String>,
    /// Source labels for what-if questions (org=alianca,class=asa-x). With --from they override
    /// that pod's labels; alone they describe a hypothetical pod.
    #[arg(long = "from-labels", value_delimiter = ',')]
    pub from_labels: Vec<String>,
    /// The namespace of the hypothetical pod given by --from-labels alone.
    #[arg(long, default_value = "default")]
    pub from_namespace: String,
    /// The destination: a pod, a Deployment or a Service (name or namespace/name).
    #[arg(long)]
    pub to: String,
    /// The destination port: a Service port when --to is a Service, else the container port.
    #[arg(long, default_value_t = 80)]
    pub port: u16,
    /// The transport protocol.
    #[arg(long, default_value = "TCP", value_parser = ["TCP", "UDP", "SCTP"])]
    pub protocol: String,
    /// HTTP method of the request to trace (default GET when --path is given).
    #[arg(long)]
    pub method: Option<String>,
    /// HTTP path with query of the request to trace (default / when --method is given).
    #[arg(long)]
    pub path: Option<String>,
    /// Host header of the request (default: the --to name, as curl would send it).
    #[arg(long)]
    pub host: Option<String>,
    /// A request header, 'Name: value'; repeatable.
    #[arg(long = "header", short = 'H')]
    pub headers: Vec<String>,
    /// Output format: human (the default) or json.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Print the truth table of the demo's three requests from every pod to every Death Star.
#[derive(Debug, Args)]
pub struct TableArgs {
    /// Manifest files or directories (every .yml/.yaml/.json inside); repeat or list several.
    #[arg(short = 'f', long = "filename", required = true, num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// Output format: human (the default), json or markdown.
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(cmd: PolicyCommand, io: &mut Io<'_>) -> Result<(), Error> {
    match cmd {
        PolicyCommand::Trace(args) => trace(args, io.out),
        PolicyCommand::Table(args) => table(args, io.out),
    }
}

/// One traced connection (and request) to one destination pod.
#[derive(Debug, Serialize)]
pub struct TraceResult {
    /// `allowed` or `dropped` (the connection), `forwarded` or `denied` (the request).
    pub verdict: &'static str,
    pub policy: Option<String>,
    /// The deciding rule's YAML path inside the policy (`spec.ingress[0].toPorts[0]`).
    pub rule: Option<String>,
    pub reason: String,
    pub from: String,
    pub to: String,
    pub port: u16,
    pub protocol: Protocol,
    pub request: Option<RequestView>,
    pub connection: Decision,
    pub http: Option<Decision>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RequestView {
    pub method: String,
    pub path: String,
    pub host: String,
    pub headers: Vec<String>,
}

#[derive(Debug, Serialize)]
struct TraceOutput<'a> {
    #[serde(flatten)]
    first: &'a TraceResult,
    targets: &'a [TraceResult],
}

fn trace(args: TraceArgs, out: &mut dyn Write) -> Result<(), Error> {
    let format = args.output.format(&[Format::Human, Format::Json])?;
    let manifests = manifest::load_paths(&args.files)?;
    let policies = manifests.policy_set();
    let protocol = Protocol::parse(&args.protocol).unwrap_or(Protocol::Tcp);
    let src = source_endpoint(&manifests, &args)?;
    let targets = destinations(&manifests, &args.to, args.port)?;

    let request =
        (args.method.is_some() || args.path.is_some() || !args.headers.is_empty()).then(|| {
            RequestView {
                method: args.method.clone().unwrap_or_else(|| "GET".into()),
                path: args.path.clone().unwrap_or_else(|| "/".into()),
                host: args.host.clone().unwrap_or_else(|| args.to.clone()),
                headers: args.headers.clone(),
            }
        });
    let header_map = match &request {
        Some(r) => parse_headers(&r.headers)?,
        None => http::HeaderMap::new(),
    };

    if targets.is_empty() {
        writeln!(
            out,
            "{} selects no pod on port {}: there is nothing to trace.",
            args.to, args.port
        )?;
        return Ok(());
    }
    let results: Vec<TraceResult> = targets
        .iter()
        .map(|(pod, port)| {
            let dst = pod.endpoint();
            let conn = policies.connection(&src, &dst, *port, protocol);
            let connection = connection_decision(&conn, &src, &dst, *port, protocol);
            let http = request.as_ref().map(|r| {
                let req = HttpRequest {
                    method: &r.method,
                    path: &r.path,
                    host: &r.host,
                    headers: &header_map,
                };
                http_decision(&conn, &req)
            });
            // The request's decision is the answer when a request was asked about and the
            // connection got through; otherwise the connection's.
            let last = match &http {
                Some(h) if conn.is_allowed() => h.clone(),
                _ => connection.clone(),
            };
            TraceResult {
                verdict: last.verdict,
                policy: last.policy.clone(),
                rule: last.rule.clone(),
                reason: last.reason.clone(),
                from: src.to_string(),
                to: dst.to_string(),
                port: *port,
                protocol,
                request: request.clone(),
                connection,
                http,
            }
        })
        .collect();

    match format {
        Format::Json => {
            let view = TraceOutput {
                first: &results[0],
                targets: &results,
            };
            write_json(out, &view)?;
        }
        _ => {
            for (i, r) in results.iter().enumerate() {
                if i > 0 {
                    writeln!(out)?;
                }
                let req = r
                    .request
                    .as_ref()
                    .map(|q| format!("  {} {}", q.method, q.path))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "{} -> {} port {}/{}{req}",
                    r.from, r.to, r.port, r.protocol
                )?;
                writeln!(out, "  verdict: {}", r.verdict)?;
                writeln!(out, "  policy:  {}", r.policy.as_deref().unwrap_or("-"))?;
                writeln!(out, "  reason:  {}", r.reason)?;
                if r.http.is_some() && r.connection.verdict == politica::L4Verdict::Allowed.as_str()
                {
                    writeln!(out, "  connection: {}", r.connection.reason)?;
                }
            }
        }
    }
    Ok(())
}

fn parse_headers(headers: &[String]) -> Result<http::HeaderMap, Error> {
    let mut map = http::HeaderMap::new();
    for h in headers {
        let (name, value) = h.split_once(':').unwrap_or((h.as_str(), ""));
        let name = http::HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
            Error::Usage(format!(
                "--header {h:?}: not a valid header name; want 'Name: value'"
            ))
        })?;
        let value = http::HeaderValue::from_str(value.trim_start())
            .map_err(|_| Error::Usage(format!("--header {h:?}: not a valid header value")))?;
        map.append(name, value);
    }
    Ok(map)
}

/// Pods named `name`, else the replicas of a Deployment named so.
fn find_pods<'a>(m: &'a Manifests, reference: &str) -> Vec<&'a PodModel> {
    let (ns, name) = split_namespaced(reference);
    let in_ns = |p: &&PodModel| ns.is_none_or(|ns| p.namespace == ns);
    let exact: Vec<_> = m
        .pods()
        .iter()
        .filter(in_ns)
        .filter(|p| p.name == name)
        .collect();
    if !exact.is_empty() {
        return exact;
    }
    m.pods()
        .iter()
        .filter(in_ns)
        .filter(|p| p.owner.as_deref() == Some(name))
        .collect()
}

fn known_names(m: &Manifests) -> String {
    let mut names: Vec<String> = m
        .pods()
        .iter()
        .map(|p| p.owner.clone().unwrap_or_else(|| p.name.clone()))
        .chain(m.services().iter().map(|s| format!("service {}", s.name)))
        .collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        "the manifests hold no pod".into()
    } else {
        format!("known: {}", names.join(", "))
    }
}

fn source_endpoint(m: &Manifests, args: &TraceArgs) -> Result<Endpoint, Error> {
    let mut overrides = BTreeMap::new();
    for kv in args.from_labels.iter().filter(|s| !s.trim().is_empty()) {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| Error::Usage(format!("--from-labels {kv:?}: want key=value")))?;
        labels::check_key(k.trim()).map_err(Error::Usage)?;
        labels::check_value(v.trim()).map_err(Error::Usage)?;
        overrides.insert(k.trim().to_string(), v.trim().to_string());
    }
    match &args.from {
        Some(from) => {
            let pod = find_pods(m, from).into_iter().next().ok_or_else(|| {
                Error::Usage(format!(
                    "--from {from}: no such pod or Deployment ({})",
                    known_names(m)
                ))
            })?;
            let mut labels = pod.labels.clone();
            labels.extend(overrides);
            let mut ep = pod.endpoint();
            ep = Endpoint::new(
                ep.name,
                pod.namespace.clone(),
                &labels,
                pod.service_account.as_deref(),
                ep.ports,
            );
            Ok(ep)
        }
        None => Ok(Endpoint::new(
            "what-if",
            args.from_namespace.clone(),
            &overrides,
            None,
            Vec::new(),
        )),
    }
}

/// The destination pods with the container port the connection reaches on each. A Service
/// comes before a Deployment of the same name: `--to estrela-da-morte` is what a ship's curl
/// reaches, so `--port` is the Service port there.
fn destinations<'a>(
    m: &'a Manifests,
    to: &str,
    port: u16,
) -> Result<Vec<(&'a PodModel, u16)>, Error> {
    let (ns, name) = split_namespaced(to);
    let in_ns = |p: &&PodModel| ns.is_none_or(|ns| p.namespace == ns);
    let pods: Vec<_> = m
        .pods()
        .iter()
        .filter(in_ns)
        .filter(|p| p.name == name)
        .collect();
    if !pods.is_empty() {
        return Ok(pods.into_iter().map(|p| (p, port)).collect());
    }
    let Some(service) = m
        .services()
        .iter()
        .find(|s| s.name == name && ns.is_none_or(|ns| s.namespace == ns))
    else {
        let pods = find_pods(m, to);
        if pods.is_empty() {
            return Err(Error::Usage(format!(
                "--to {to}: no such pod, Deployment or Service ({})",
                known_names(m)
            )));
        }
        return Ok(pods.into_iter().map(|p| (p, port)).collect());
    };
    let sp = service.port(port).ok_or_else(|| {
        let ports: Vec<String> = service.ports.iter().map(|p| p.port.to_string()).collect();
        Error::Usage(format!(
            "--to {to}: the Service has no port {port} (its ports: {}); --port is the Service port",
            if ports.is_empty() {
                "none".to_string()
            } else {
                ports.join(", ")
            }
        ))
    })?;
    Ok(m.backends(service)
        .into_iter()
        .filter_map(|p| service.target_port_on(sp, p).map(|n| (p, n)))
        .collect())
}

fn table(args: TableArgs, out: &mut dyn Write) -> Result<(), Error> {
    let format = args
        .output
        .format(&[Format::Human, Format::Json, Format::Markdown])?;
    let manifests = manifest::load_paths(&args.files)?;
    let rows = truth_table(&manifests, &manifests.policy_set());
    if rows.is_empty() && format != Format::Json {
        writeln!(
            out,
            "No Death Star pod with a TCP port and another pod to call it in these manifests: the table is empty."
        )?;
        return Ok(());
    }
    match format {
        Format::Json => write_json(out, &rows)?,
        Format::Markdown => {
            writeln!(out, "| from | to | land | exhaust | info |")?;
            writeln!(out, "|---|---|---|---|---|")?;
            for r in &rows {
                writeln!(
                    out,
                    "| {} | {}:{} | {} | {} | {} |",
                    r.from, r.to, r.port, r.land.verdict, r.exhaust.verdict, r.info.verdict
                )?;
            }
        }
        _ => {
            let mut t = Table::compact(&["FROM", "TO", "LAND", "EXHAUST", "INFO"]);
            for r in &rows {
                t.row(vec![
                    r.from.clone(),
                    format!("{}:{}", r.to, r.port),
                    r.land.verdict.to_string(),
                    r.exhaust.verdict.to_string(),
                    r.info.verdict.to_string(),
                ]);
            }
            out.write_all(t.render().as_bytes())?;
            let policies: Vec<String> = manifests
                .policies()
                .iter()
                .map(|p| p.compiled.id.to_string())
                .collect();
            if policies.is_empty() {
                writeln!(out, "\nNo CiliumNetworkPolicy: every request is allowed.")?;
            } else {
                writeln!(out, "\nPolicies: {}", policies.join(", "))?;
            }
        }
    }
    Ok(())
}
