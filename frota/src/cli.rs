//! The ships' shared command line: `caca-tie` and `asa-x` are an [`Identity`] plus this.
//!
//! Subcommands `land`, `exhaust`, `info` (one request), `patrol` (the default) and `curl`; a
//! binary invoked under the name `curl` is the curl front end. [`main`] returns the process exit
//! code and leaves exiting to the binary.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use crate::client::{Client, ClientConfig};
use crate::identity::Identity;
use crate::kind::{Mix, RequestKind};
use crate::metrics::ShipMetrics;
use crate::outcome::Outcome;
use crate::patrol::{self, PatrolConfig};
use crate::resolve::ResolverSettings;
use crate::transport::{DEFAULT_TARGET, HttpTarget};

/// Exit codes of `land`, `exhaust` and `info`.
pub mod exit {
    /// The request got a 2xx (landed, or the info text).
    pub const OK: i32 = 0;
    /// A failure of the ship itself (bad flag value, cannot bind the admin port).
    pub const FAILURE: i32 = 1;
    /// A command-line mistake (clap's own code).
    pub const USAGE: i32 = 2;
    /// `denied`: Cilium's L7 proxy answered 403 `Access denied`.
    pub const DENIED: i32 = 3;
    /// `dropped`: no answer within `--timeout`.
    pub const DROPPED: i32 = 4;
    /// `exploded`: the exhaust port answered 503 `Panic: deathstar exploded`.
    pub const EXPLODED: i32 = 5;
    /// `refused`: nothing listens at the target.
    pub const REFUSED: i32 = 6;
    /// `reset`: the connection was reset or closed before an answer.
    pub const RESET: i32 = 7;
    /// `http_<code>`: any other HTTP status.
    pub const HTTP: i32 = 8;
    /// `error`: name resolution, a malformed answer, or any other failure.
    pub const ERROR: i32 = 9;
}

/// The exit codes as `--help` lists them (the same table as the README's).
const EXIT_HELP: &str = "\
Exit status of land, exhaust and info:
  0  landed: any 2xx answer (landed, the info text)
  1  the ship itself failed: bad --target or proxy URL, cannot bind the admin port
  2  command-line mistake
  3  denied: 403 with body `Access denied` (Cilium's L7 proxy)
  4  dropped: no answer within --timeout (what an L3/L4 policy drop looks like)
  5  exploded: 503 whose body starts with `Panic: deathstar exploded`
  6  refused: connection refused
  7  reset: the connection was reset or closed before a whole answer
  8  http_<code>: any other HTTP status
  9  error: name resolution, a malformed or oversized answer, anything else
patrol exits 0 after SIGTERM or SIGINT, 1 when it cannot start.
`curl` exits with curl's own codes (see `curl --help`).";

/// The ids of [`PatrolArgs`]' flags: on the command line they only make sense for `patrol`.
const PATROL_FLAGS: [&str; 7] = [
    "rate",
    "mix",
    "jitter",
    "report_every",
    "admin_port",
    "admin_host",
    "no_admin",
];

/// The exit code for an outcome of `land`, `exhaust` or `info`.
pub fn exit_code(outcome: Outcome) -> i32 {
    match outcome {
        Outcome::Landed => exit::OK,
        Outcome::Denied => exit::DENIED,
        Outcome::Dropped => exit::DROPPED,
        Outcome::Exploded => exit::EXPLODED,
        Outcome::Refused => exit::REFUSED,
        Outcome::Reset => exit::RESET,
        Outcome::Http(_) => exit::HTTP,
        Outcome::Error => exit::ERROR,
    }
}

#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    common: Common,
    /// Global, so that they apply before or after the word `patrol`, or without it, as a
    /// container's args give them.
    #[command(flatten)]
    patrol: PatrolArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Args)]
struct Common {
    /// The Death Star's base URL (`http://` is assumed without a scheme).
    #[arg(long, short = 't', env = "DEATH_STAR_URL", default_value = DEFAULT_TARGET, global = true)]
    target: String,
    /// Send requests through this HTTP proxy; without it `http_proxy`/`HTTP_PROXY` apply, minus
    /// the hosts in `no_proxy`/`NO_PROXY`. An empty value means no proxy.
    #[arg(long, env = "SHIP_PROXY", global = true)]
    proxy: Option<String>,
    /// A request without a complete answer by then is `dropped` (e.g. 2s, 500ms).
    #[arg(long, env = "SHIP_TIMEOUT", default_value = "2s", value_parser = parse_duration, global = true)]
    timeout: Duration,
    /// This ship's name in logs, metrics and the User-Agent [default: $HOSTNAME, else the class].
    #[arg(long, env = "SHIP_NAME", global = true)]
    name: Option<String>,
    /// Log format: JSON lines, human text, or auto (JSON unless stdout is a terminal).
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Auto, global = true)]
    log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Auto,
    Json,
    Text,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// One landing request (POST /v1/request-landing); prints the body.
    #[command(after_help = EXIT_HELP)]
    Land,
    /// One request to the exhaust port (PUT /v1/exhaust-port); prints the body.
    #[command(after_help = EXIT_HELP)]
    Exhaust,
    /// One info request (GET /v1); prints the body.
    #[command(after_help = EXIT_HELP)]
    Info,
    /// Request forever at --rate, with metrics on the admin port (the default).
    Patrol,
    /// A curl-compatible front end: `<ship> curl -s -XPOST host/v1/request-landing`.
    Curl {
        /// curl's arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
        args: Vec<OsString>,
    },
}

/// The patrol's flags; [`PATROL_FLAGS`] names them for the check that refuses them elsewhere.
#[derive(Debug, Args)]
#[command(next_help_heading = "Patrol options")]
struct PatrolArgs {
    /// Requests per second (may be below 1, e.g. 0.2).
    #[arg(long, env = "PATROL_RATE", default_value_t = 1.0, global = true)]
    rate: f64,
    /// Weighted request kinds, e.g. `land=8,info=1,exhaust=1`.
    #[arg(long, env = "PATROL_MIX", default_value = "land", global = true)]
    mix: Mix,
    /// How much each gap between requests varies, as a fraction of the mean gap (0 to 1).
    #[arg(long, env = "PATROL_JITTER", default_value_t = 0.2, global = true)]
    jitter: f64,
    /// A one-line summary of the counts per outcome this often.
    #[arg(long, env = "PATROL_REPORT_EVERY", default_value = "10s", value_parser = parse_duration, global = true)]
    report_every: Duration,
    /// Port of /healthz, /readyz and /metrics (0 picks a free one; the log says which).
    #[arg(long, env = "ADMIN_PORT", default_value_t = 9090, global = true)]
    admin_port: u16,
    /// Address the admin port binds to.
    #[arg(long, env = "ADMIN_HOST", default_value = "0.0.0.0", global = true)]
    admin_host: IpAddr,
    /// No admin listener at all.
    #[arg(long, env = "NO_ADMIN", global = true)]
    no_admin: bool,
}

/// A duration like `2s`, `500ms`, `1m`; a bare number is seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    if let Ok(secs) = s.trim().parse::<f64>()
        && secs.is_finite()
        && secs >= 0.0
    {
        return Ok(Duration::from_secs_f64(secs));
    }
    humantime::parse_duration(s.trim()).map_err(|e| e.to_string())
}

/// The ship's whole command line: `args` as from `std::env::args_os()`. Returns the exit code.
pub fn main(identity: Identity, args: Vec<OsString>) -> i32 {
    let env = |k: &str| std::env::var(k).ok();
    let invoked_as = args.first().map(|a| {
        std::path::Path::new(a)
            .file_name()
            .unwrap_or(a.as_os_str())
            .to_os_string()
    });
    let curl_args = if invoked_as.as_deref() == Some(std::ffi::OsStr::new("curl")) {
        Some(args[1..].to_vec())
    } else if args.get(1).map(OsString::as_os_str) == Some(std::ffi::OsStr::new("curl")) {
        Some(args[2..].to_vec())
    } else {
        None
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{}: cannot start the async runtime: {e}", identity.class);
            return exit::FAILURE;
        }
    };
    if let Some(curl_args) = curl_args {
        return curl_main(runtime, curl_args, &env);
    }

    let command = Cli::command()
        .name(identity.class.clone())
        .about(format!(
            "The {} ship (org={}) of the Star Wars demo: patrols the Death Star, or sends one request",
            identity.class, identity.org
        ))
        .after_help(EXIT_HELP)
        .version(env!("CARGO_PKG_VERSION"));
    let cli = match parse(command, &args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
        }
    };
    let name = cli
        .common
        .name
        .clone()
        .or_else(|| env("HOSTNAME"))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| identity.class.clone());
    let identity = identity.named(name);
    let client = match client_config(&cli.common, identity.clone(), &env) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{}: {e}", identity.class);
            return exit::FAILURE;
        }
    };
    match cli.command.unwrap_or(Command::Patrol) {
        Command::Land => runtime.block_on(once(client, RequestKind::Land)),
        Command::Exhaust => runtime.block_on(once(client, RequestKind::Exhaust)),
        Command::Info => runtime.block_on(once(client, RequestKind::Info)),
        // `parse` only lets `curl` through here without ship flags, as if it came first.
        Command::Curl { args } => curl_main(runtime, args, &env),
        Command::Patrol => {
            init_logs(cli.common.log_format);
            runtime.block_on(run_patrol(client, cli.patrol))
        }
    }
}

/// Parse and validate the ship command line. Ship and patrol flags are clap globals, so each
/// one is parsed once whatever its position; what clap cannot express is checked here: patrol
/// flags typed for a one-shot request, and ship flags before `curl`, would otherwise be silently
/// ignored.
fn parse(mut command: clap::Command, args: &[OsString]) -> Result<Cli, clap::Error> {
    let matches = command.try_get_matches_from_mut(args)?;
    let typed = |id: &str| {
        matches.try_get_raw(id).is_ok_and(|v| v.is_some())
            && matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine)
    };
    let flag = |id: &str| {
        command
            .get_arguments()
            .find(|a| a.get_id() == id)
            .and_then(|a| a.get_long())
            .map_or_else(|| id.to_string(), |l| format!("--{l}"))
    };
    match matches.subcommand_name() {
        Some(sub @ ("land" | "exhaust" | "info")) => {
            if let Some(id) = PATROL_FLAGS.into_iter().find(|id| typed(id)) {
                return Err(command.error(
                    clap::error::ErrorKind::ArgumentConflict,
                    format!("{} only applies to patrol, not to {sub}", flag(id)),
                ));
            }
        }
        Some("curl") => {
            let ids: Vec<String> = matches.ids().map(|i| i.as_str().to_string()).collect();
            if let Some(id) = ids.iter().find(|id| typed(id)) {
                // clap would also take curl's own first option (`--proxy`, `--help`) as a ship
                // flag here; only `<ship> curl ...` hands curl its arguments untouched.
                return Err(command.error(
                    clap::error::ErrorKind::ArgumentConflict,
                    format!(
                        "{} does not apply to the curl front end: put `curl` first and use curl's own options (-x for a proxy, -m for a time limit)",
                        flag(id)
                    ),
                ));
            }
        }
        _ => {}
    }
    Cli::from_arg_matches(&matches)
}

fn curl_main(
    runtime: tokio::runtime::Runtime,
    args: Vec<OsString>,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
) -> i32 {
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    let code = runtime.block_on(crate::curl::run(args, env, &mut out, &mut err));
    // A `-d @-` read cut short by -m may still block on stdin in tokio's blocking pool; the
    // process must exit anyway, as curl does.
    runtime.shutdown_background();
    code
}

fn client_config(
    common: &Common,
    identity: Identity,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ClientConfig, String> {
    let target = HttpTarget::parse(&common.target)
        .map_err(|e| format!("--target {}: {e}", common.target))?;
    let proxy = crate::proxy::select(&target, common.proxy.as_deref(), None, env)
        .map_err(|e| format!("proxy: {e}"))?;
    Ok(ClientConfig {
        target: common.target.clone(),
        proxy: proxy.map(|p| p.absolute()),
        timeout: common.timeout,
        identity,
        resolver: ResolverSettings::from_env(env),
    })
}

async fn once(config: ClientConfig, kind: RequestKind) -> i32 {
    let class = config.identity.class.clone();
    let client = match Client::new(config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{class}: {e}");
            return exit::FAILURE;
        }
    };
    let reply = client.send(kind).await;
    let mut out = std::io::stdout();
    let _ = out.write_all(&reply.body);
    let _ = out.flush();
    if reply.outcome != Outcome::Landed {
        match (&reply.error, reply.status) {
            // The failure kind tells an `error` apart: dns, malformed, head_too_large, ...
            (Some(e), _) => match reply.failure {
                Some(f) if reply.outcome == Outcome::Error => {
                    eprintln!("{class}: {kind}: {} ({f}): {e}", reply.outcome)
                }
                _ => eprintln!("{class}: {kind}: {}: {e}", reply.outcome),
            },
            (None, Some(s)) => eprintln!("{class}: {kind}: {} (HTTP {s})", reply.outcome),
            (None, None) => eprintln!("{class}: {kind}: {}", reply.outcome),
        }
    }
    exit_code(reply.outcome)
}

fn init_logs(format: LogFormat) {
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !std::io::stdout().is_terminal(),
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stdout);
    // A second initialisation (tests calling main twice) keeps the first subscriber.
    let _ = if json {
        // Without tracing's own `target` (the module path), which would collide with the
        // patrol's `target` field (the Death Star URL) as a duplicate JSON key.
        builder
            .json()
            .with_target(false)
            .flatten_event(true)
            .with_current_span(false)
            .try_init()
    } else {
        builder.try_init()
    };
}

async fn run_patrol(client: ClientConfig, p: PatrolArgs) -> i32 {
    let shutdown = crate::signal::terminated();
    let class = client.identity.class.clone();
    let registry = prometheus::Registry::new();
    #[cfg(target_os = "linux")]
    {
        let _ = registry.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ));
    }
    let metrics = match ShipMetrics::register(&registry, &client.identity) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{class}: metrics: {e}");
            return exit::FAILURE;
        }
    };
    let (stop_admin, admin_stopped) = tokio::sync::oneshot::channel::<()>();
    let admin = if p.no_admin {
        None
    } else {
        let addr = SocketAddr::new(p.admin_host, p.admin_port);
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("{class}: cannot listen on the admin address {addr}: {e}");
                return exit::FAILURE;
            }
        };
        let local = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        tracing::info!(ship = %client.identity.name, org = %client.identity.org, class = %class, addr = %local, "admin listening");
        Some(tokio::spawn(crate::admin::serve(
            listener,
            registry.clone(),
            async {
                let _ = admin_stopped.await;
            },
        )))
    };
    let config = PatrolConfig {
        client,
        rate: p.rate,
        mix: p.mix,
        jitter: p.jitter,
        report_every: Some(p.report_every),
    };
    let result = patrol::run(config, Some(metrics), shutdown).await;
    let _ = stop_admin.send(());
    if let Some(a) = admin {
        let _ = a.await;
    }
    match result {
        Ok(_) => exit::OK,
        Err(e) => {
            eprintln!("{class}: patrol: {e}");
            exit::FAILURE
        }
    }
}
