//! `galaxia apply -f FILE...`: create or update CiliumNetworkPolicies in the running galaxy, printing
//! `ciliumnetworkpolicy.cilium.io/regra1 created` (or `configured`, `unchanged`) as kubectl does.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::Error;
use super::get::{runtime, verb};
use crate::control::client::Control;
use crate::control::discovery::ControlArgs;
use crate::control::views::{ApplyRequest, ApplyResponse};
use crate::galaxy::ApplyMode;

/// Create or update policies from files (a running galaxy's pods come from `galaxia up -f`).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A YAML file, a directory of them, or `-` for stdin.
    #[arg(short = 'f', long = "filename", required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub control: ControlArgs,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<(), Error> {
    send(args.files, &args.control, ApplyMode::Apply, out)
}

/// Shared with `create`: send every document, print kubectl's lines, fail if any object failed.
pub fn send(
    files: Vec<PathBuf>,
    control: &ControlArgs,
    mode: ApplyMode,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let sources = read_sources(&files)?;
    let control = Control::connect(control).map_err(verb)?;
    let rt = runtime()?;
    let mut failed = false;
    for (origin, text) in sources {
        let req = ApplyRequest { mode, origin, text };
        let resp: ApplyResponse = match rt.block_on(control.post("/v1/cnp/apply", &req)) {
            Ok(r) => r,
            Err(crate::control::client::ControlError::Refused(msg)) => {
                eprintln!("error: {msg}");
                failed = true;
                continue;
            }
            Err(e) => return Err(verb(e)),
        };
        failed |= !print_results(&resp, out)?;
    }
    if failed {
        return Err(Error::Reported(1));
    }
    Ok(())
}

/// kubectl's line for each object: stdout when it went through, stderr when not. True when all did.
pub fn print_results(resp: &ApplyResponse, out: &mut dyn Write) -> Result<bool, Error> {
    let mut all = true;
    for r in &resp.results {
        if r.ok {
            writeln!(out, "{}", r.line)?;
        } else {
            all = false;
            eprintln!("{}", r.line);
        }
    }
    Ok(all)
}

/// Read every file named (directories: their `.yaml`, `.yml` and `.json` files, sorted), with the
/// name each came from.
pub fn read_sources(files: &[PathBuf]) -> Result<Vec<(String, String)>, Error> {
    let mut out = Vec::new();
    for f in files {
        if f == Path::new("-") {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            out.push(("-".to_string(), text));
            continue;
        }
        let read_err = |e: std::io::Error| {
            Error::Usage(format!(
                "the path \"{}\" does not exist or cannot be read: {e}",
                f.display()
            ))
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
                let text = std::fs::read_to_string(&p).map_err(read_err)?;
                out.push((p.display().to_string(), text));
            }
        } else {
            let text = std::fs::read_to_string(f).map_err(read_err)?;
            out.push((f.display().to_string(), text));
        }
    }
    Ok(out)
}
