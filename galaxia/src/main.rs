//! The `galaxia` binary: parse the command line, set up logging, run it, and turn an error into
//! one message on stderr and a non-zero exit code (the only place that does so).

use std::process::ExitCode;

use clap::Parser;
use galaxia::app::{self, Cli};
use galaxia::cli::{Error, Io};

// A running galaxy allocates a little for every proxied request (headers, flow records); glibc's
// allocator (malloc, free and their helpers) was about 15% of a profile under load there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let logs = app::init_logging(&cli);
    app::raise_open_file_limit();
    // Unlocked stdout: verbs that run servers may print from several threads.
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    let terminal = std::io::IsTerminal::is_terminal(&out);
    match app::run(
        cli,
        &logs,
        Io::new(&mut out, &mut err).with_terminal(terminal),
    ) {
        Ok(()) => ExitCode::SUCCESS,
        // `galaxia policy table | head` closes the pipe early; that is not a failure.
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        // The verb has already said what went wrong (or the child of `exec` has).
        Err(Error::Reported(code)) => ExitCode::from(code),
        Err(e) => {
            eprintln!("galaxia: {}", e.chain());
            ExitCode::from(e.exit_code())
        }
    }
}
