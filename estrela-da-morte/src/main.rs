//! The `estrela-da-morte` binary: parse flags, set up logs, bind both ports, serve until a signal or
//! an explosion. Exit status: 0 after a graceful shutdown, 2 after an explosion, 1 on errors.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use estrela_da_morte::{Config, Exit};
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};

/// Upstream's process dies with a Go panic, whose exit status is 2; Kubernetes restarts it.
const EXPLODED_STATUS: u8 = 2;

fn main() -> ExitCode {
    let config = Config::parse();
    if let Err(error) = estrela_da_morte::logging::init(&config) {
        eprintln!("estrela-da-morte: {error:#}");
        return ExitCode::FAILURE;
    }
    match serve(config) {
        Ok(Exit::Shutdown) => ExitCode::SUCCESS,
        Ok(Exit::Exploded) => ExitCode::from(EXPLODED_STATUS),
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "estrela-da-morte failed");
            eprintln!("estrela-da-morte: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(config: Config) -> anyhow::Result<Exit> {
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.enable_all();
    if let Some(threads) = config.worker_threads {
        runtime.worker_threads(threads.max(1));
    }
    let runtime = runtime.build().context("cannot start the tokio runtime")?;
    let exit = runtime.block_on(async move {
        let demo_addr = SocketAddr::new(config.host, config.port);
        let admin_addr = SocketAddr::new(config.host, config.admin_port);
        let demo = TcpListener::bind(demo_addr)
            .await
            .with_context(|| format!("cannot listen on {demo_addr} (demo API)"))?;
        let admin = TcpListener::bind(admin_addr)
            .await
            .with_context(|| format!("cannot listen on {admin_addr} (admin port)"))?;
        let mut term = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
        let mut int = signal(SignalKind::interrupt()).context("cannot watch SIGINT")?;
        let shutdown = async move {
            tokio::select! {
                _ = term.recv() => tracing::info!(signal = "SIGTERM", "signal received"),
                _ = int.recv() => tracing::info!(signal = "SIGINT", "signal received"),
            }
        };
        estrela_da_morte::run(demo, admin, config, shutdown)
            .await
            .context("the Death Star stopped serving")
    });
    // Stray tasks must not hold the exit (Kubernetes is waiting for it).
    runtime.shutdown_timeout(Duration::from_millis(100));
    exit
}
