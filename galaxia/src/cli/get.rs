//! `galaxia get pods|svc|cnp [NAME] [-o json|wide]`: kubectl-like tables of the running galaxy.

use std::time::SystemTime;

use super::error::Error;
use super::kubectl::{age, not_found};
use super::print::{Format, Io, OutputArgs, Table, write_json};
use super::session::connect;
use crate::clock::from_epoch_ms;
use crate::control::discovery::ControlArgs;
use crate::manifest::ObjectKind;

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

impl Resource {
    pub fn kind(self) -> ObjectKind {
        match self {
            Resource::Pods => ObjectKind::Pod,
            Resource::Services => ObjectKind::Service,
            Resource::Policies => ObjectKind::CiliumNetworkPolicy,
        }
    }
}

/// Show pods, Services or CiliumNetworkPolicies of the running galaxy.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to list: pods, svc or cnp.
    pub resource: Resource,
    /// Only this one.
    pub name: Option<String>,
    /// `json` for machines; `wide` adds the local addresses.
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub control: ControlArgs,
}

pub fn run(args: Args, io: &mut Io<'_>) -> Result<(), Error> {
    let format = args.output.format(&[Format::Json, Format::Wide])?;
    let (control, rt) = connect(&args.control)?;
    let now = SystemTime::now();
    let name = args.name.as_deref();
    let missing = |io: &mut Io<'_>, empty: bool| -> Result<(), Error> {
        match name {
            Some(n) if empty => {
                writeln!(io.err, "{}", not_found(args.resource.kind(), n))?;
                Err(Error::Reported(1))
            }
            _ => Ok(()),
        }
    };
    let table = match args.resource {
        Resource::Pods => {
            let mut pods = rt.block_on(control.pods())?;
            pods.retain(|p| name.is_none_or(|n| n == p.name));
            missing(io, pods.is_empty())?;
            if format == Format::Json {
                return write_json(io.out, &pods);
            }
            let wide = format == Format::Wide;
            let mut head = vec!["NAME", "READY", "STATUS", "RESTARTS", "AGE"];
            if wide {
                head.extend(["IP", "NODE", "NOMINATED NODE", "READINESS GATES"]);
            }
            let mut t = Table::kubectl(&head);
            for p in &pods {
                let restarts = match p.last_restart_ms {
                    Some(ms) if p.restarts > 0 => {
                        format!("{} ({} ago)", p.restarts, age(from_epoch_ms(ms), now))
                    }
                    _ => p.restarts.to_string(),
                };
                let mut row = vec![
                    p.name.clone(),
                    format!("{}/1", u8::from(p.ready)),
                    p.phase.to_string(),
                    restarts,
                    age(from_epoch_ms(p.created_ms), now),
                ];
                if wide {
                    row.extend([
                        p.ip.clone(),
                        p.node.clone(),
                        "<none>".into(),
                        "<none>".into(),
                    ]);
                }
                t.row(row);
            }
            t
        }
        Resource::Services => {
            let mut svcs = rt.block_on(control.services())?;
            svcs.retain(|s| name.is_none_or(|n| n == s.name));
            missing(io, svcs.is_empty())?;
            if format == Format::Json {
                return write_json(io.out, &svcs);
            }
            // No CLUSTER-IP: the galaxy resolves Service names in each pod's proxy.
            let mut t = Table::kubectl(&["NAME", "TYPE", "PORT(S)", "ENDPOINTS", "AGE"]);
            for s in &svcs {
                t.row(vec![
                    s.name.clone(),
                    "ClusterIP".into(),
                    s.ports.join(","),
                    if s.endpoints.is_empty() {
                        "<none>".into()
                    } else {
                        s.endpoints.join(",")
                    },
                    age(from_epoch_ms(s.created_ms), now),
                ]);
            }
            t
        }
        Resource::Policies => {
            let mut resp = rt.block_on(control.policies())?;
            resp.policies.retain(|p| name.is_none_or(|n| n == p.name));
            missing(io, resp.policies.is_empty())?;
            if format == Format::Json {
                let objects: Vec<_> = resp.policies.iter().map(|p| &p.object).collect();
                return write_json(io.out, &objects);
            }
            let mut t = Table::kubectl(&["NAME", "AGE"]);
            for p in &resp.policies {
                t.row(vec![p.name.clone(), age(from_epoch_ms(p.created_ms), now)]);
            }
            t
        }
    };
    if table.is_empty() {
        // kubectl says so on stderr: `kubectl get cnp | wc -l` counts 0.
        writeln!(io.err, "No resources found in default namespace.")?;
    } else {
        io.out.write_all(table.render().as_bytes())?;
    }
    Ok(())
}
