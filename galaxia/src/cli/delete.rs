//! `galaxia delete -f FILE...` and `galaxia delete cnp NAME...`: remove policies from the running
//! galaxy; traffic feels it from the next connection on. `galaxia delete pod NAME...`: a
//! Deployment's replica is replaced by its ReplicaSet under a new name, a bare pod is gone.

use std::path::PathBuf;

use super::apply::{Errors, read_sources};
use super::error::Error;
use super::get::Resource;
use super::print::{Io, OutputArgs};
use super::session::connect;
use crate::control::discovery::ControlArgs;
use crate::control::views::DeleteRequest;
use crate::manifest::{ObjectKey, ObjectKind};

/// Delete policies by file or by name.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// `cnp` (the only kind a running galaxy deletes), then names.
    #[arg(value_enum, required_unless_present = "files")]
    pub resource: Option<Resource>,
    pub names: Vec<String>,
    /// Delete the policies defined in these files.
    #[arg(short = 'f', long = "filename", conflicts_with = "resource")]
    pub files: Vec<PathBuf>,
    /// kubectl's result lines are the only format for now.
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub control: ControlArgs,
}

pub fn run(args: Args, io: &mut Io<'_>) -> Result<(), Error> {
    args.output.format(&[])?;
    let mut requests = Vec::new();
    match args.resource {
        Some(Resource::Policies) => {
            if args.names.is_empty() {
                return Err(Error::Usage(
                    "resource(s) were provided, but no name was specified".into(),
                ));
            }
            let keys = args
                .names
                .iter()
                .map(|n| ObjectKey {
                    kind: ObjectKind::CiliumNetworkPolicy,
                    namespace: "default".to_string(),
                    name: n.clone(),
                })
                .collect();
            requests.push(DeleteRequest { keys, source: None });
        }
        Some(Resource::Pods) => return delete_pods(&args, io),
        Some(other) => {
            return Err(Error::Usage(format!(
                "a running galaxy's {other:?} come from `galaxia up -f`; only cnp can be deleted"
            )));
        }
        None => {
            for source in read_sources(&args.files)? {
                requests.push(DeleteRequest {
                    keys: Vec::new(),
                    source: Some(source),
                });
            }
        }
    }
    let (control, rt) = connect(&args.control)?;
    let mut errors = Errors::default();
    for req in requests {
        let resp = rt.block_on(control.delete(&req))?;
        let from = req.source.as_ref().map(|s| s.origin.as_str());
        errors.results(&resp, from, io)?;
    }
    errors.finish(io)
}

/// `delete pod NAME...`: kubectl's line for each, the NotFound errors after, exit 1 if any.
fn delete_pods(args: &Args, io: &mut Io<'_>) -> Result<(), Error> {
    if args.names.is_empty() {
        return Err(Error::Usage(
            "resource(s) were provided, but no name was specified".into(),
        ));
    }
    let (control, rt) = connect(&args.control)?;
    let mut failed = false;
    for name in &args.names {
        match rt.block_on(control.delete_pod(&format!("default/{name}"))) {
            Ok(done) => writeln!(io.out, "pod \"{}\" deleted", done.pod)?,
            Err(crate::control::ControlError::Refused(msg)) => {
                writeln!(io.err, "{msg}")?;
                failed = true;
            }
            Err(e) => return Err(e.into()),
        }
    }
    if failed {
        return Err(Error::Reported(1));
    }
    Ok(())
}
