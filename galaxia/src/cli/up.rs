//! `galaxia up [-f FILE...]`: run the galaxy in the foreground until Ctrl-C: Death Star replicas and
//! ships as real servers and clients on loopback, each pod behind its own egress proxy, the policies
//! of the files in force, and the control API that the other verbs find through the discovery file.

use std::path::PathBuf;
use std::time::Duration;

use super::error::Error;
use super::print::Io;
use crate::config;
use crate::control::discovery::{self, ControlArgs, Discovery};
use crate::galaxy::{Options, Ports, Upstream};
use crate::manifest::{self, Manifests, book};

/// How the pods' proxies reach the Death Star replicas (the flag's spelling of [`Upstream`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum UpstreamArg {
    /// In-process connections (estrela-da-morte's pipe): no second trip through the kernel.
    Pipe,
    /// The replicas' loopback ports, as a proxy in another process would.
    Tcp,
}

impl From<UpstreamArg> for Upstream {
    fn from(a: UpstreamArg) -> Upstream {
        match a {
            UpstreamArg::Pipe => Upstream::Pipe,
            UpstreamArg::Tcp => Upstream::Tcp,
        }
    }
}

/// Start the galaxy (the book's `kubectl create -f starwars.yml`, without a cluster).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Manifests (files or directories). Default: `k8s/starwars.yml` when it exists here, else the
    /// copy of the book's file built into galaxia.
    #[arg(short = 'f', long = "filename")]
    pub files: Vec<PathBuf>,
    /// Do not start the ships' patrols (only `exec` sends traffic).
    #[arg(long, env = "GALAXIA_NO_PATROL")]
    pub no_patrol: bool,
    /// Base of the restart back-off of an exploded replica (Kubernetes: 10s, doubling to 5m).
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    pub restart_backoff: Duration,
    /// Delay between a PUT /v1/exhaust-port and the replica's explosion.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    pub explode_after: Duration,
    /// Mean time between two patrol requests of a ship.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    pub patrol_interval: Duration,
    /// A patrol request with no answer after this long counts as dropped.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    pub patrol_timeout: Duration,
    /// `POD=HOST`: also open a loopback port where plain (origin-form) requests go to HOST with
    /// POD's identity and under its policies (for wrk, browsers, anything without proxy support).
    #[arg(long, value_name = "POD=HOST")]
    pub forward: Vec<String>,
    /// How the pods' proxies reach the Death Star replicas: `pipe` (in-process connections) or
    /// `tcp` (the replicas' loopback ports, one more trip through the kernel; for comparison).
    #[arg(long, value_enum, default_value = "pipe")]
    pub upstream: UpstreamArg,
    /// Port of Hubble's Observer API on 127.0.0.1 (the `hubble` CLI's default server is
    /// localhost:4245); 0 picks a free one. The discovery file records it.
    #[arg(long, env = "GALAXIA_HUBBLE_PORT", default_value_t = crate::hubble::server::DEFAULT_PORT)]
    pub hubble_port: u16,
    /// How many flows Hubble keeps (Cilium's `--hubble-event-buffer-capacity`: one less than a
    /// power of two, at most 65535).
    #[arg(long, default_value_t = crate::flows::ring::DEFAULT_CAPACITY)]
    pub hubble_buffer: usize,
    /// Record no flows (Hubble off; the Observer API then serves an empty ring). For measuring
    /// what Hubble costs.
    #[arg(long)]
    pub no_hubble: bool,
    #[command(flatten)]
    pub control: ControlArgs,
}

/// The manifests `up` runs: the files named, else `k8s/starwars.yml` here, else the built-in copy.
fn manifests(files: &[PathBuf]) -> Result<Manifests, Error> {
    if !files.is_empty() {
        return Ok(manifest::load_paths(files)?);
    }
    let local = PathBuf::from("k8s/starwars.yml");
    if local.is_file() {
        Ok(manifest::load_paths(&[local])?)
    } else {
        Ok(manifest::load_str(
            book::STARWARS,
            "starwars.yml (built in)",
        )?)
    }
}

pub fn run(args: Args, io: &mut Io<'_>) -> Result<(), Error> {
    let manifests = manifests(&args.files)?;
    let options = Options {
        patrol: !args.no_patrol,
        restart_backoff: args.restart_backoff,
        explosion_delay: args.explode_after,
        patrol_interval: args.patrol_interval,
        patrol_timeout: args.patrol_timeout,
        upstream: args.upstream.into(),
        hubble_buffer: (!args.no_hubble).then_some(args.hubble_buffer),
    };
    let ports = Ports {
        hubble: args.hubble_port,
    };
    let path = args.control.path();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::verb("starting the runtime", e))?;
    rt.block_on(async {
        let running = crate::galaxy::launch(&manifests, options, ports)
            .await
            .map_err(|e| Error::verb("starting the galaxy", e))?;
        discovery::write(
            &path,
            &Discovery {
                addr: running.addr,
                pid: std::process::id(),
                hubble: Some(running.hubble),
            },
        )
        .map_err(|e| Error::verb("announcing the galaxy", e))?;
        let mut forwards = Vec::new();
        for f in &args.forward {
            let Some((pod, host)) = f.split_once('=') else {
                return Err(Error::Usage(format!("--forward wants POD=HOST, got {f:?}")));
            };
            let addr = running
                .galaxy
                .forward(pod, host, running.shutdown_signal())
                .await
                .map_err(|e| Error::verb("opening a port-forward", e))?;
            forwards.push(format!("  port-forward {pod} -> {host} on http://{addr}"));
        }
        let waiting = running.galaxy.wait_ready(config::READY_WAIT).await;
        for name in &waiting {
            tracing::warn!(pod = %name, "pod not ready yet");
        }
        let out = &mut *io.out;
        let pods = &running.galaxy.cluster.pods;
        writeln!(out, "galaxia is up: {} pods, control API on {} (discovery file {}).", pods.len(), running.addr, path.display())?;
        for p in pods {
            writeln!(out, "  pod {:<40} egress proxy http://{}", p.name(), p.egress)?;
        }
        for f in &forwards {
            writeln!(out, "{f}")?;
        }
        writeln!(out, "Hubble's Observer API on {} (hubble observe --server {}).", running.hubble, running.hubble)?;
        writeln!(out, "Try: galaxia get pods; galaxia exec caca-tie -- curl -s -XPOST estrela-da-morte.default.svc.cluster.local/v1/request-landing")?;
        writeln!(out, "Ctrl-C stops it.")?;
        out.flush()?;
        frota::signal::terminated().await;
        writeln!(out, "galaxia: stopping")?;
        discovery::remove_if_ours(&path);
        running.stop().await;
        Ok(())
    })
}
