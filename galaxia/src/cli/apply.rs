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
    send_saving(files, output, control, mode, false, io)
}

/// [`send`], with `create --save-config`'s choice.
pub fn send_saving(
    files: &[PathBuf],
    output: &OutputArgs,
    control: &ControlArgs,
    mode: ApplyMode,
    save_config: bool,
    io: &mut Io<'_>,
) -> Result<(), Error> {
    output.format(&[])?;
    let sources = read_sources(files)?;
    let (control, rt) = connect(control)?;
    let mut errors = Errors::default();
    for source in sources {
        let origin = source.origin.clone();
        let req = ApplyRequest { mode, source };
        let answer = if save_config {
            rt.block_on(control.create_saving_config(&req))
        } else {
            rt.block_on(control.apply(&req))
        };
        match answer {
            Ok(resp) => errors.results(&resp, Some(&origin), io)?,
            Err(ControlError::Refused(msg)) => errors.0.push(msg),
            Err(e) => return Err(e.into()),
        }
    }
    errors.finish(io)
}

/// What a verb could not do, printed after everything it did, as kubectl aggregates them.
#[derive(Debug, Default)]
pub struct Errors(pub Vec<String>);

impl Errors {
    /// Print each object's line that went through; keep the refusals and the documents left
    /// alone for the end. `from` is the file the request carried.
    pub fn results(
        &mut self,
        resp: &ApplyResponse,
        from: Option<&str>,
        io: &mut Io<'_>,
    ) -> Result<(), Error> {
        // cli-runtime's builder fails a document before the server sees any, so kubectl lists
        // these before the server's refusals.
        self.0.extend(resp.not_run.iter().map(kubectl::not_run));
        // kubectl prints an object's warning as the server answers it, before its line.
        for w in &resp.warnings {
            writeln!(io.err, "{w}")?;
        }
        for r in &resp.results {
            match kubectl::applied(r, from) {
                Ok(line) => writeln!(io.out, "{line}")?,
                Err(line) => self.0.push(line),
            }
        }
        Ok(())
    }

    /// Exit 1 after printing them, when there are any.
    pub fn finish(self, io: &mut Io<'_>) -> Result<(), Error> {
        if self.0.is_empty() {
            return Ok(());
        }
        io.err.write_all(kubectl::errors(&self.0).as_bytes())?;
        Err(Error::Reported(1))
    }
}

/// Read every file named (directories: their `.yaml`, `.yml` and `.json` files, sorted), with the
/// name each came from.
pub fn read_sources(files: &[PathBuf]) -> Result<Vec<Source>, Error> {
    let mut out = Vec::new();
    for f in files {
        if f == Path::new("-") {
            let mut text = String::new();
            // One byte past the limit is enough to tell that it is too large.
            std::io::stdin()
                .take(crate::manifest::limits::MAX_BYTES as u64 + 1)
                .read_to_string(&mut text)?;
            if let Err(e) = crate::manifest::limits::check(&text) {
                return Err(Error::Usage(format!("-: {e}")));
            }
            out.push(Source {
                origin: "-".to_string(),
                text,
            });
            continue;
        }
        // kubectl's words for a path that is not there; what galaxia found wrong otherwise.
        let read_err = |e: std::io::Error| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::Usage(format!("the path \"{}\" does not exist", f.display()))
            } else {
                Error::Usage(format!("the path \"{}\" cannot be read: {e}", f.display()))
            }
        };
        let read = |p: &Path| -> Result<Source, Error> {
            if !p.exists() {
                return Err(read_err(std::io::ErrorKind::NotFound.into()));
            }
            let text = crate::manifest::read_manifest(p)
                .map_err(|e| Error::Usage(format!("{}: {e}", p.display())))?;
            Ok(Source {
                origin: p.display().to_string(),
                text,
            })
        };
        if f.is_dir() {
            for p in crate::manifest::list_dir(f).map_err(read_err)? {
                out.push(read(&p)?);
            }
        } else {
            out.push(read(f)?);
        }
    }
    Ok(out)
}
