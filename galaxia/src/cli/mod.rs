//! The command line: one top-level [`Cli`] with one [`Command`] variant per verb, each verb in its
//! own module `cli/<verb>.rs` holding its clap args and `run(args, out)`.
//!
//! Adding a verb: create `cli/<verb>.rs` with `pub struct Args` (clap `Args`, its doc comment is
//! the help) and `pub fn run(args: Args, out: &mut dyn Write) -> Result<(), Error>`, then add
//! `pub mod <verb>;`, one variant to [`Command`] and one arm to [`Command::run`].
//! Output goes to the injected writer so that tests read it; logs go to stderr.
//! Verbs that need an async runtime build their own (`tokio::runtime::Runtime`) inside `run`.

use std::io::Write;

use clap::{Parser, Subcommand, ValueEnum};

pub mod apply;
pub mod create;
pub mod delete;
pub mod describe;
pub mod exec;
pub mod get;
pub mod observe;
pub mod policy;
pub mod tutorial;
pub mod up;

/// The book's Star Wars tutorial on one machine: the same YAML files, Cilium's policy semantics
/// emulated, no cluster needed.
#[derive(Debug, Parser)]
#[command(name = "galaxia", version, propagate_version = true)]
pub struct Cli {
    /// Log format on stderr: `auto` is human on a terminal, JSON otherwise.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Auto, env = "GALAXIA_LOG_FORMAT")]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Auto,
    Json,
    Human,
}

/// One variant per verb; the variant's doc comment (or the args' own) is its help line.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ask the policy engine: trace one connection or request, or print the truth table.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Run the galaxy in the foreground: Death Star replicas, ships, proxies, control API.
    Up(up::Args),
    /// List pods, svc or cnp of the running galaxy.
    Get(get::Args),
    /// Create or update CiliumNetworkPolicies in the running galaxy.
    Apply(apply::Args),
    /// Create CiliumNetworkPolicies; an existing name is an error.
    Create(create::Args),
    /// Delete CiliumNetworkPolicies by file or name.
    Delete(delete::Args),
    /// Show one policy or pod in detail.
    Describe(describe::Args),
    /// Run a command with a pod's identity (its traffic goes through the pod's proxy).
    Exec(exec::Args),
    /// Hubble-like flows of the running galaxy.
    Observe(observe::Args),
    /// The book's tutorial, scripted and narrated, on a galaxy of its own.
    Tutorial(tutorial::Args),
}

impl Command {
    pub fn run(self, out: &mut dyn Write) -> Result<(), Error> {
        match self {
            Command::Policy(cmd) => policy::run(cmd, out),
            Command::Up(args) => up::run(args, out),
            Command::Get(args) => get::run(args, out),
            Command::Apply(args) => apply::run(args, out),
            Command::Create(args) => create::run(args, out),
            Command::Delete(args) => delete::run(args, out),
            Command::Describe(args) => describe::run(args, out),
            Command::Exec(args) => exec::run(args, out),
            Command::Observe(args) => observe::run(args, out),
            Command::Tutorial(args) => tutorial::run(args, out),
        }
    }
}

/// Run the parsed command line, writing the verb's output to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<(), Error> {
    cli.command.run(out)
}

/// What a verb can fail with. Verbs with their own error type add a variant (`#[from]`), or wrap
/// it in [`Error::Verb`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The manifests could not be loaded; the message lists every problem.
    #[error(transparent)]
    Manifest(#[from] crate::manifest::LoadErrors),
    /// The policies could not be compiled.
    #[error(transparent)]
    Policy(#[from] crate::policy::CompileErrors),
    /// The command line names something that does not exist or makes no sense together.
    #[error("{0}")]
    Usage(String),
    /// Any other verb failure, with the verb's name for context.
    #[error("{verb}")]
    Verb {
        verb: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// The verb already told the user on stderr (kubectl-style lines, or a child's own output):
    /// exit with this code and print nothing more.
    #[error("exit status {0}")]
    Reported(u8),
    /// Writing to stdout failed.
    #[error("writing the output")]
    Output(#[from] std::io::Error),
}

impl Error {
    /// The process exit code: 2 for bad input (manifests, policies, arguments), 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Manifest(_) | Error::Policy(_) | Error::Usage(_) => 2,
            Error::Verb { .. } | Error::Output(_) => 1,
            Error::Reported(code) => *code,
        }
    }

    /// True when stdout was closed by the reader (`| head`): not worth an error message.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Output(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}
