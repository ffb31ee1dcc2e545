//! `galaxia get pods|svc|cnp [NAME] [-o json]`: kubectl-like tables of the running galaxy.

use std::io::Write;
use std::time::{Duration, SystemTime};

use super::Error;
use crate::control::client::Control;
use crate::control::discovery::ControlArgs;
use crate::control::views::{PodView, PoliciesResponse, ServiceView};
use crate::galaxy::age;

/// The kinds `get`, `describe` and `delete` know, with kubectl's spellings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    Json,
    Wide,
}

/// Show pods, Services or CiliumNetworkPolicies of the running galaxy.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to list: pods, svc or cnp.
    pub resource: Resource,
    /// Only this one.
    pub name: Option<String>,
    /// `json` for machines; `wide` adds the local addresses.
    #[arg(short, long, value_enum)]
    pub output: Option<Output>,
    #[command(flatten)]
    pub control: ControlArgs,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<(), Error> {
    let control = Control::connect(&args.control).map_err(verb)?;
    let rt = runtime()?;
    let now = SystemTime::now();
    let at = |ms: u64| SystemTime::UNIX_EPOCH + Duration::from_millis(ms);
    let name = args.name.as_deref();
    let json = args.output == Some(Output::Json);
    let wide = args.output == Some(Output::Wide);
    match args.resource {
        Resource::Pods => {
            let mut pods: Vec<PodView> = rt.block_on(control.get("/v1/pods")).map_err(verb)?;
            pods.retain(|p| name.is_none_or(|n| n == p.name));
            not_found(name, pods.is_empty(), "pods")?;
            if json {
                return write_json(out, &pods);
            }
            let mut head = vec!["NAME", "READY", "STATUS", "RESTARTS", "AGE"];
            if wide {
                head.extend(["EGRESS-PROXY", "PORTS"]);
            }
            let rows = pods
                .iter()
                .map(|p| {
                    let restarts = match p.last_restart_ms {
                        Some(ms) if p.restarts > 0 => {
                            format!("{} ({} ago)", p.restarts, age(at(ms), now))
                        }
                        _ => p.restarts.to_string(),
                    };
                    let mut row = vec![
                        p.name.clone(),
                        format!("{}/1", u8::from(p.ready)),
                        format!("{:?}", p.phase),
                        restarts,
                        age(at(p.created_ms), now),
                    ];
                    if wide {
                        row.push(p.egress.clone());
                        row.push(
                            p.ports
                                .iter()
                                .map(|(c, l)| format!("{c}->{l}"))
                                .collect::<Vec<_>>()
                                .join(","),
                        );
                    }
                    row
                })
                .collect();
            write_table(out, &head, rows, "pods")
        }
        Resource::Services => {
            let mut svcs: Vec<ServiceView> =
                rt.block_on(control.get("/v1/services")).map_err(verb)?;
            svcs.retain(|s| name.is_none_or(|n| n == s.name));
            not_found(name, svcs.is_empty(), "services")?;
            if json {
                return write_json(out, &svcs);
            }
            // No CLUSTER-IP: the galaxy resolves Service names in each pod's proxy.
            let head = ["NAME", "TYPE", "PORT(S)", "ENDPOINTS", "AGE"];
            let rows = svcs
                .iter()
                .map(|s| {
                    vec![
                        s.name.clone(),
                        "ClusterIP".into(),
                        s.ports.join(","),
                        if s.endpoints.is_empty() {
                            "<none>".into()
                        } else {
                            s.endpoints.join(",")
                        },
                        age(at(s.created_ms), now),
                    ]
                })
                .collect();
            write_table(out, &head, rows, "services")
        }
        Resource::Policies => {
            let mut resp: PoliciesResponse = rt.block_on(control.get("/v1/cnp")).map_err(verb)?;
            resp.policies.retain(|p| name.is_none_or(|n| n == p.name));
            not_found(name, resp.policies.is_empty(), "ciliumnetworkpolicies")?;
            if json {
                let objects: Vec<_> = resp.policies.iter().map(|p| &p.object).collect();
                return write_json(out, &objects);
            }
            let rows = resp
                .policies
                .iter()
                .map(|p| vec![p.name.clone(), age(at(p.created_ms), now)])
                .collect();
            write_table(out, &["NAME", "AGE"], rows, "ciliumnetworkpolicies")
        }
    }
}

fn not_found(name: Option<&str>, empty: bool, plural: &str) -> Result<(), Error> {
    match name {
        Some(n) if empty => {
            let kind = match plural {
                "ciliumnetworkpolicies" => "ciliumnetworkpolicies.cilium.io",
                other => other,
            };
            eprintln!("Error from server (NotFound): {kind} \"{n}\" not found");
            Err(Error::Reported(1))
        }
        _ => Ok(()),
    }
}

/// A single-threaded runtime for a verb that only talks to the control API.
pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Verb {
            verb: "runtime",
            source: Box::new(e),
        })
}

/// A control API failure, as a verb error.
pub fn verb(e: crate::control::client::ControlError) -> Error {
    Error::Verb {
        verb: "galaxy",
        source: Box::new(e),
    }
}

pub fn write_json<T: serde::Serialize>(out: &mut dyn Write, v: &T) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(v).map_err(|e| Error::Verb {
        verb: "json",
        source: Box::new(e),
    })?;
    writeln!(out, "{text}")?;
    Ok(())
}

/// kubectl's table: left-aligned columns, three spaces apart; an empty list prints a sentence.
pub fn write_table(
    out: &mut dyn Write,
    head: &[&str],
    rows: Vec<Vec<String>>,
    _plural: &str,
) -> Result<(), Error> {
    if rows.is_empty() {
        writeln!(out, "No resources found in default namespace.")?;
        return Ok(());
    }
    out.write_all(table(head, &rows).as_bytes())?;
    Ok(())
}

pub fn table(head: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = head.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        let n = cells.len();
        for (i, c) in cells.into_iter().enumerate() {
            s.push_str(c);
            if i + 1 < n {
                let pad = widths[i] - c.chars().count() + 3;
                s.extend(std::iter::repeat_n(' ', pad));
            }
        }
        s.push('\n');
        s
    };
    let mut out = line(head.to_vec());
    for r in rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    out
}
