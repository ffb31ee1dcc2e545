//! `galaxia rollout restart deployment/NAME`: replace a Deployment's replicas one by one with
//! pods of a new template hash, as `kubectl rollout restart` does (it sets the template's
//! `kubectl.kubernetes.io/restartedAt`); the Service keeps a ready backend throughout.

use super::error::Error;
use super::print::Io;
use super::session::connect;
use crate::control::ControlError;
use crate::control::api::DeploymentRequest;
use crate::control::discovery::ControlArgs;

#[derive(Debug, clap::Subcommand)]
pub enum RolloutCommand {
    /// Restart a Deployment: `rollout restart deployment/NAME` (or `deployment NAME`).
    Restart(Args),
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// `deployment/NAME`, or `deployment` then NAME.
    #[arg(required = true, num_args = 1..=2)]
    pub target: Vec<String>,
    #[arg(short = 'n', long, default_value = "default")]
    pub namespace: String,
    #[command(flatten)]
    pub control: ControlArgs,
}

impl RolloutCommand {
    pub fn control_mut(&mut self) -> &mut ControlArgs {
        match self {
            RolloutCommand::Restart(a) => &mut a.control,
        }
    }
}

pub fn run(cmd: RolloutCommand, io: &mut Io<'_>) -> Result<(), Error> {
    let RolloutCommand::Restart(args) = cmd;
    let name = deployment_name(&args.target)?;
    let (control, rt) = connect(&args.control)?;
    let req = DeploymentRequest {
        namespace: args.namespace.clone(),
        name: name.clone(),
    };
    match rt.block_on(control.restart(&req)) {
        Ok(_) => {
            writeln!(io.out, "deployment.apps/{name} restarted")?;
            Ok(())
        }
        Err(ControlError::Refused(msg)) => {
            writeln!(io.err, "{msg}")?;
            Err(Error::Reported(1))
        }
        Err(e) => Err(e.into()),
    }
}

/// The Deployment named by `deployment/NAME` or `deployment NAME` (kubectl's resource names:
/// `deploy`, `deployment`, `deployments`, `deployment.apps`).
pub fn deployment_name(words: &[String]) -> Result<String, Error> {
    let is_kind = |k: &str| {
        matches!(
            k,
            "deploy" | "deployment" | "deployments" | "deployment.apps" | "deployments.apps"
        )
    };
    match words {
        [one] => match one.split_once('/') {
            Some((kind, name)) if is_kind(kind) && !name.is_empty() => Ok(name.to_string()),
            Some((kind, _)) => Err(unsupported_kind(kind)),
            None if is_kind(one) => Err(Error::Usage(
                "error: resource(s) were provided, but no name was specified".into(),
            )),
            None => Err(unsupported_kind(one)),
        },
        [kind, name] if is_kind(kind) => Ok(name.clone()),
        [kind, _] => Err(unsupported_kind(kind)),
        _ => Err(Error::Usage(
            "error: required resource not specified".into(),
        )),
    }
}

fn unsupported_kind(kind: &str) -> Error {
    Error::Usage(format!(
        "error: the server doesn't have a resource type \"{kind}\" (galaxia's workloads are Deployments: deployment/NAME)"
    ))
}
