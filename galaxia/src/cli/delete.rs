//! `galaxia delete -f FILE...` and `galaxia delete cnp NAME...`: remove policies from the running
//! galaxy; traffic feels it from the next connection on.

use std::io::Write;
use std::path::PathBuf;

use super::Error;
use super::get::{Resource, runtime, verb};
use crate::control::client::Control;
use crate::control::discovery::ControlArgs;
use crate::control::views::{ApplyResponse, DeleteRequest};

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
    #[command(flatten)]
    pub control: ControlArgs,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<(), Error> {
    let mut requests = Vec::new();
    match args.resource {
        Some(Resource::Policies) => {
            if args.names.is_empty() {
                return Err(Error::Usage(
                    "resource(s) were provided, but no name was specified".into(),
                ));
            }
            requests.push(DeleteRequest {
                names: args
                    .names
                    .iter()
                    .map(|n| ("default".to_string(), n.clone()))
                    .collect(),
                text: None,
            });
        }
        Some(other) => {
            return Err(Error::Usage(format!(
                "a running galaxy's {other:?} come from `galaxia up -f`; only cnp can be deleted"
            )));
        }
        None => {
            for (origin, text) in super::apply::read_sources(&args.files)? {
                requests.push(DeleteRequest {
                    names: Vec::new(),
                    text: Some((origin, text)),
                });
            }
        }
    }
    let control = Control::connect(&args.control).map_err(verb)?;
    let rt = runtime()?;
    let mut failed = false;
    for req in requests {
        let resp: ApplyResponse = rt
            .block_on(control.post("/v1/cnp/delete", &req))
            .map_err(verb)?;
        failed |= !super::apply::print_results(&resp, out)?;
    }
    if failed {
        return Err(Error::Reported(1));
    }
    Ok(())
}
