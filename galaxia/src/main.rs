//! The `galaxia` binary: parse the command line, set up logging, run the verb, and turn an error
//! into one message on stderr and a non-zero exit code (the only place that does so).

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use galaxia::cli::{Cli, LogFormat};

// A running galaxy allocates a little for every proxied request (headers, flow records); glibc's
// allocator (malloc, free and their helpers) was about 15% of a profile under load there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    // Unlocked stdout: verbs that run servers may print from several threads.
    let mut out = std::io::stdout();
    match galaxia::cli::run(cli, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        // `galaxia policy table | head` closes the pipe early; that is not a failure.
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        // The verb has already said what went wrong (or the child of `exec` has).
        Err(galaxia::cli::Error::Reported(code)) => ExitCode::from(code),
        Err(e) => {
            eprintln!("galaxia: {}", error_chain(&e));
            ExitCode::from(e.exit_code())
        }
    }
}

/// Logs go to stderr so that stdout stays the verb's output (tables, JSON).
fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        // A running galaxy's ships and replicas log every request at info: keep them to warnings
        // unless RUST_LOG asks for more, so that `up` and `tutorial` stay readable.
        .unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new("info,frota::patrol=warn,estrela_da_morte=warn")
        });
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Human => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// The error and its causes on one line, so that the context is never lost.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // thiserror's `transparent` and `{0}` displays would otherwise repeat the same text.
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
