//! `galaxia create -f FILE...`: create CiliumNetworkPolicies; an existing name is refused as
//! kubectl refuses it (`Error from server (AlreadyExists): ...`).

use std::path::PathBuf;

use super::error::Error;
use super::print::{Io, OutputArgs};
use crate::control::discovery::ControlArgs;
use crate::manifest::ApplyMode;

/// Create policies from files; fails for a name that exists (use `apply` to update).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A YAML file, a directory of them, or `-` for stdin.
    #[arg(short = 'f', long = "filename", required = true)]
    pub files: Vec<PathBuf>,
    /// Record the object's configuration in its last-applied annotation, so that a later
    /// `apply` treats it as declaratively managed.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub save_config: Option<bool>,
    /// kubectl's result lines are the only format for now.
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub control: ControlArgs,
}

pub fn run(args: Args, io: &mut Io<'_>) -> Result<(), Error> {
    super::apply::send_saving(
        &args.files,
        &args.output,
        &args.control,
        ApplyMode::Create,
        args.save_config.unwrap_or(false),
        io,
    )
}
