//! `galaxia apply -f FILE...`: create or update CiliumNetworkPolicies in the running galaxy, printing
//! `ciliumnetworkpolicy.cilium.io/regra1 created` (or `configured`, `unchanged`) as kubectl does.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::error::Error;
use super::kubectl;
use super::print::{Io, OutputArgs};
use super::session::connect;
use crate::control::ControlError;
use crate::control::discovery::ControlArgs;
use crate::control::views::{ApplyRequest, ApplyResponse, Source};
use crate::manifest::ApplyMode;

/// Create or update policies from files (a running galaxy's pods come from `galaxia up -f`).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A YAML file, a directory of them, or `-` for stdin.
    #[arg(short = 'f', long = "filename", required = true)]
    pub files: Vec<PathBuf>,
    /// kubectl's result lines are the only format for now.
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub control: ControlArgs,
}

pub fn run(args: Args, io: &mut Io<'_>) -> Result<(), Error> {
    send(
        &args.files,
        &args.output,
        &args.control,
        ApplyMode::Apply,
        io,
    )
}

/// Shared with `create`: send every document, print kubectl's lines, fail if any object failed.
pub fn send(
    files: &[PathBuf],
    output: &OutputArgs,
    control: &ControlArgs,
    mode: ApplyMode,
    io: &mut Io<'_>,
) -> Result<(), Error> {
    output.format(&[])?;
    let sources = read_sources(files)?;
    let (control, rt) = connect(control)?;
    let mut failed = false;
    for source in sources {
        let req = ApplyRequest { mode, source };
        let resp = match rt.block_on(control.apply(&req)) {
            Ok(r) => r,
            Err(ControlError::Refused(msg)) => {
                writeln!(io.err, "error: {msg}")?;
                failed = true;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        failed |= !print_results(&resp, io)?;
    }
    if failed {
        return Err(Error::Reported(1));
    }
    Ok(())
}

/// kubectl's line for each object: stdout when it went through, stderr when not. True when all did.
pub fn print_results(resp: &ApplyResponse, io: &mut Io<'_>) -> Result<bool, Error> {
    let mut all = true;
    for r in &resp.results {
        match kubectl::applied(r) {
            Ok(line) => writeln!(io.out, "{line}")?,
            Err(line) => {
                all = false;
                writeln!(io.err, "{line}")?;
            }
        }
    }
    Ok(all)
}

/// Read every file named (directories: their `.yaml`, `.yml` and `.json` files, sorted), with the
/// name each came from.
pub fn read_sources(files: &[PathBuf]) -> Result<Vec<Source>, Error> {
    let mut out = Vec::new();
    for f in files {
        if f == Path::new("-") {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            out.push(Source {
                origin: "-".to_string(),
                text,
            });
            continue;
        }
        let read_err = |e: std::io::Error| {
            Error::Usage(format!(
                "the path \"{}\" does not exist or cannot be read: {e}",
                f.display()
            ))
        };
        let read = |p: &Path| -> Result<Source, Error> {
            Ok(Source {
                origin: p.display().to_string(),
                text: std::fs::read_to_string(p).map_err(read_err)?,
            })
        };
        if f.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(f)
                .map_err(read_err)?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.extension()
                        .and_then(|e| e.to_str())
                        .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
                })
                .collect();
            entries.sort();
            for p in entries {
                out.push(read(&p)?);
            }
        } else {
            out.push(read(f)?);
        }
    }
    Ok(out)
}
