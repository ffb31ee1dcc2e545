//! `galaxia scale deployment NAME --replicas=N`: set a Deployment's replicas, as `kubectl scale`
//! does; new replicas join the Service's backends once ready, removed ones leave it at once.

use super::error::Error;
use super::print::Io;
use super::rollout::deployment_name;
use super::session::connect;
use crate::control::ControlError;
use crate::control::api::ScaleRequest;
use crate::control::discovery::ControlArgs;

/// Set a Deployment's replicas.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// `deployment/NAME`, or `deployment` then NAME.
    #[arg(required = true, num_args = 1..=2)]
    pub target: Vec<String>,
    /// The new number of replicas (required).
    #[arg(long)]
    pub replicas: Option<u32>,
    #[arg(short = 'n', long, default_value = "default")]
    pub namespace: String,
    #[command(flatten)]
    pub control: ControlArgs,
}

pub fn run(args: Args, io: &mut Io<'_>) -> Result<(), Error> {
    // kubectl marks the flag required (cobra's words, exit 1).
    let Some(replicas) = args.replicas else {
        writeln!(io.err, "error: required flag(s) \"replicas\" not set")?;
        return Err(Error::Reported(1));
    };
    let name = deployment_name(&args.target)?;
    let (control, rt) = connect(&args.control)?;
    let req = ScaleRequest {
        namespace: args.namespace.clone(),
        name: name.clone(),
        replicas,
    };
    match rt.block_on(control.scale(&req)) {
        Ok(_) => {
            writeln!(io.out, "deployment.apps/{name} scaled")?;
            Ok(())
        }
        Err(ControlError::Refused(msg)) => {
            writeln!(io.err, "{msg}")?;
            Err(Error::Reported(1))
        }
        Err(e) => Err(e.into()),
    }
}
