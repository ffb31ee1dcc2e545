//! The whole command line, above the verbs and the tutorial: the global flags, `galaxia VERB` and
//! `galaxia tutorial`, and the exit code of a run.

use std::io::IsTerminal;

use clap::{Parser, Subcommand, ValueEnum};

use crate::cli::{self, Error, Io};
use crate::tutorial;

/// The book's Star Wars tutorial on one machine: the same YAML files, Cilium's policy semantics
/// emulated, no cluster needed.
#[derive(Debug, Parser)]
#[command(name = "galaxia", version, propagate_version = true)]
pub struct Cli {
    /// Log format on stderr: `auto` is human on a terminal, JSON otherwise.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Auto, env = "GALAXIA_LOG_FORMAT")]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: TopCommand,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Auto,
    Json,
    Human,
}

// Parsed once per process: the size difference between the variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum TopCommand {
    #[command(flatten)]
    Verb(cli::Command),
    /// The book's tutorial, scripted and narrated, on a galaxy of its own.
    Tutorial(tutorial::Args),
}

/// Run the parsed command line with `io`.
pub fn run(cli: Cli, io: Io<'_>) -> Result<(), Error> {
    match cli.command {
        TopCommand::Verb(cmd) => {
            let mut io = io;
            cmd.run(&mut io)
        }
        TopCommand::Tutorial(args) => tutorial::run(args, io),
    }
}

/// Logs go to stderr so that stdout stays the verb's output (tables, JSON).
pub fn init_logging(format: LogFormat) {
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

/// Lift the soft open-file limit to the hard one, as Go's runtime (1.19 on) and nginx's
/// `worker_rlimit_nofile` do: a galaxy's proxies hold two descriptors a connection, and
/// Debian's soft default of 1024 is what a load test meets first. Failing to is not fatal.
pub fn raise_open_file_limit() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE)
        && soft < hard
        && let Err(e) = setrlimit(Resource::RLIMIT_NOFILE, hard, hard)
    {
        tracing::debug!(error = %e, soft, hard, "raising the open-file limit failed");
    }
}
