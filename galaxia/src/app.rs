//! The whole command line, above the verbs and the tutorial: the global flags, `galaxia VERB` and
//! `galaxia tutorial`, and the exit code of a run.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::cli::{self, Error, Io};
use crate::tutorial;

/// The book's Star Wars tutorial on one machine: the same YAML files, Cilium's policy semantics
/// emulated, no cluster needed.
#[derive(Debug, Parser)]
#[command(
    name = "galaxia",
    version,
    propagate_version = true,
    long_about = "The book's Star Wars tutorial on one machine: the same YAML files, Cilium's policy semantics emulated, no cluster needed.\n\nLanguage: only the tutorial is translated (galaxia tutorial --lang pt|en; Portuguese is the default, as in the book). The help, the verbs' messages and kubectl's, Cilium's and Hubble's words stay in English, as the real tools print them, whatever LANG says.\n(Somente o tutorial está traduzido: galaxia tutorial --lang pt|en. A ajuda e as mensagens ficam em inglês, como nas ferramentas reais.)"
)]
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

/// Run the parsed command line with `io`; `logs` is where [`init_logging`] sent the log lines.
pub fn run(cli: Cli, logs: &Logs, io: Io<'_>) -> Result<(), Error> {
    match cli.command {
        TopCommand::Verb(cmd) => {
            let mut io = io;
            cmd.run(&mut io)
        }
        TopCommand::Tutorial(args) => {
            if let Logs::File(path) = logs {
                writeln!(
                    io.out,
                    "{} {}",
                    tutorial::narration::log_file(args.lang),
                    path.display()
                )?;
            }
            tutorial::run(args, io)
        }
    }
}

/// Where the log lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Logs {
    Stderr,
    /// The tutorial's galaxy logs to a file, named on the tutorial's first line, so that no log
    /// line cuts into the narration.
    File(PathBuf),
}

/// Logs go to stderr so that stdout stays the verb's output (tables, JSON); the tutorial's go
/// to a file of its own (`$TMPDIR/galaxia-tutorial-PID.log`, human lines unless `--log-format
/// json`), and stderr if that file cannot be made.
pub fn init_logging(cli: &Cli) -> Logs {
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_default_env()
            // A running galaxy's ships and replicas log every request at info: keep them to
            // warnings unless RUST_LOG asks for more, so that `up` and `tutorial` stay readable.
            .unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("info,frota::patrol=warn,estrela_da_morte=warn")
            })
    };
    if matches!(cli.command, TopCommand::Tutorial(_))
        && let Some((path, file)) = tutorial_log_file()
    {
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter())
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file));
        if cli.log_format == LogFormat::Json {
            builder.json().init();
        } else {
            builder.init();
        }
        return Logs::File(path);
    }
    let json = match cli.log_format {
        LogFormat::Json => true,
        LogFormat::Human => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
    Logs::Stderr
}

/// A new file in the temporary directory that only its owner reads: created, never opened
/// where it exists (a name in a shared /tmp may have been placed there by someone else).
fn tutorial_log_file() -> Option<(PathBuf, std::fs::File)> {
    use std::os::unix::fs::OpenOptionsExt;
    let pid = std::process::id();
    (0..100u32).find_map(|i| {
        let name = match i {
            0 => format!("galaxia-tutorial-{pid}.log"),
            i => format!("galaxia-tutorial-{pid}-{i}.log"),
        };
        let path = std::env::temp_dir().join(name);
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .ok()
            .map(|f| (path, f))
    })
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
