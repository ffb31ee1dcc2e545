//! The `loadtest` binary: parse and validate the flags, run, print the report, write `--json`,
//! and turn errors and `--fail-if` conditions into the exit status (see `Args` for the codes).

use std::io::IsTerminal as _;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser as _;
use loadtest::output::JsonFile;
use loadtest::{Args, Report, RunOptions};

const EXIT_RUN_FAILED: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_CONDITION: u8 = 3;

fn main() -> ExitCode {
    let args = Args::parse();
    init_logs();
    let plan = match args.plan() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("loadtest: {:#}", anyhow::Error::from(e));
            return ExitCode::from(EXIT_USAGE);
        }
    };
    // Before the run: a path that cannot be written must not cost a whole run.
    let json = match args.json.as_deref().map(JsonFile::open).transpose() {
        Ok(j) => j,
        Err(e) => {
            eprintln!("loadtest: {e}");
            return ExitCode::from(EXIT_RUN_FAILED);
        }
    };
    let report = match execute(&args, &plan) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("loadtest: {e:#}");
            if let Some(json) = json {
                json.discard();
            }
            return ExitCode::from(EXIT_RUN_FAILED);
        }
    };
    print!("{}", report.render());
    if let Some(json) = json
        && let Err(e) = json.write(&report)
    {
        eprintln!("loadtest: {e}");
        return ExitCode::from(EXIT_RUN_FAILED);
    }
    let held: Vec<_> = args.fail_if.iter().filter(|c| c.holds(&report)).collect();
    for c in &held {
        eprintln!("loadtest: failing: {c} (value {:.3})", c.value(&report));
    }
    if held.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_CONDITION)
    }
}

fn execute(args: &Args, plan: &loadtest::Plan) -> anyhow::Result<Report> {
    let threads = args
        .threads
        .or_else(|| std::thread::available_parallelism().ok().map(usize::from))
        .unwrap_or(1);
    // One thread: a current-thread runtime skips work-stealing entirely.
    let mut builder = if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(threads);
        b
    };
    let rt = builder
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    rt.block_on(async {
        let metrics = match args.prometheus_port {
            None => None,
            Some(port) => {
                let l = tokio::net::TcpListener::bind((args.prometheus_bind, port))
                    .await
                    .with_context(|| {
                        format!(
                            "cannot listen on {}:{port} for --prometheus-port",
                            args.prometheus_bind
                        )
                    })?;
                let addr = l.local_addr().context("metrics listener address")?;
                eprintln!("loadtest: prometheus metrics on http://{addr}/metrics");
                Some(l)
            }
        };
        let opts = RunOptions {
            progress: !args.no_progress && std::io::stderr().is_terminal(),
            metrics,
            interrupt: Some(Box::pin(interrupted())),
        };
        loadtest::run(plan, opts)
            .await
            .with_context(|| format!("load run against {}", args.url))
    })
}

/// Ctrl-C or SIGTERM (a Job's pod being stopped): end the run early but still report.
async fn interrupted() {
    frota::signal::terminated().await;
    eprintln!("loadtest: interrupted: finishing the requests in flight");
}

fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::io::stderr().is_terminal() {
        builder.init();
    } else {
        builder.json().init();
    }
}
