//! `galaxia create -f FILE...`: create CiliumNetworkPolicies; an existing name is refused as
//! kubectl refuses it (`Error from server (AlreadyExists): ...`).

use std::io::Write;
use std::path::PathBuf;

use super::Error;
use crate::control::discovery::ControlArgs;
use crate::galaxy::ApplyMode;

/// Create policies from files; fails for a name that exists (use `apply` to update).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A YAML file, a directory of them, or `-` for stdin.
    #[arg(short = 'f', long = "filename", required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub control: ControlArgs,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<(), Error> {
    super::apply::send(args.files, &args.control, ApplyMode::Create, out)
}
