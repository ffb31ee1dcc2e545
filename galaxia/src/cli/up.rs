//! `galaxia up [-f FILE...]`: run the galaxy in the foreground until Ctrl-C: Death Star replicas and
//! ships as real servers and clients on loopback, each pod behind its own egress proxy, the policies
//! of the files in force, and the control API that the other verbs find through the discovery file.

use std::path::PathBuf;
use std::time::Duration;

use super::error::Error;
use super::print::Io;
use crate::config;
use crate::control::discovery::{self, ControlArgs, Discovery};
use crate::galaxy::{Datapath, Options, Ports, Upstream};
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

/// Which datapath carries the pods' traffic (the flag's spelling of [`Datapath`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DatapathArg {
    /// Pods in this process, each behind an egress proxy on loopback, policies enforced there:
    /// no root needed.
    #[default]
    Userspace,
    /// Pods as processes in network namespaces (no Kubernetes, nothing on the host's network),
    /// policies enforced per packet by eBPF programs, L7 through galaxia's proxy: needs root
    /// and clang at build time.
    Ebpf,
}

impl From<DatapathArg> for Datapath {
    fn from(a: DatapathArg) -> Datapath {
        match a {
            DatapathArg::Userspace => Datapath::Userspace,
            DatapathArg::Ebpf => Datapath::Ebpf,
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
    /// Port of the web UI on 127.0.0.1 (Hubble UI's, which `cilium hubble ui` forwards, is
    /// 12000); 0 picks a free one. The discovery file records it.
    #[arg(long, env = "GALAXIA_UI_PORT", default_value_t = crate::ui::DEFAULT_PORT)]
    pub ui_port: u16,
    /// How many flows Hubble keeps (Cilium's `--hubble-event-buffer-capacity`: one less than a
    /// power of two, at most 65535).
    #[arg(long, default_value_t = crate::flows::ring::DEFAULT_CAPACITY)]
    pub hubble_buffer: usize,
    /// Record no flows (Hubble off; the Observer API then serves an empty ring). For measuring
    /// what Hubble costs.
    #[arg(long)]
    pub no_hubble: bool,
    /// Start without the policies a crashed galaxy left (a cluster keeps its objects, so after
    /// a kill -9 the next `up` applies them again; Ctrl-C, like `kind delete cluster`, forgets).
    #[arg(long)]
    pub fresh: bool,
    /// The datapath: `userspace` (the default, no root) or `ebpf` (network namespaces and eBPF
    /// programs, as Cilium does it; root).
    #[arg(
        long,
        value_enum,
        env = "GALAXIA_DATAPATH",
        default_value = "userspace"
    )]
    pub datapath: DatapathArg,
    #[command(flatten)]
    pub control: ControlArgs,
}

/// The manifests `up` runs: the files named, else `k8s/starwars.yml` here, else the built-in copy.
fn manifests(files: &[PathBuf], err: &mut dyn std::io::Write) -> Result<Manifests, Error> {
    if !files.is_empty() {
        let m = manifest::load_paths(files)?;
        // What `kubectl create -f` would refuse (a misspelled kind), `up` refuses too; a kind
        // cluster's own config is what `kind create cluster --config` reads.
        let unknown: Vec<String> = m
            .ignored()
            .iter()
            .filter(|i| !i.served() && !manifest::kinds::is_kind_config(&i.api_version, &i.kind))
            .map(|i| super::kubectl::not_run(&crate::manifest::NotRun::from(i)))
            .collect();
        if !unknown.is_empty() {
            err.write_all(super::kubectl::errors(&unknown).as_bytes())?;
            return Err(Error::Reported(1));
        }
        return Ok(m);
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

/// Where the galaxy keeps its applied objects between runs: beside an explicit discovery file
/// (`PATH.objects.yaml`), else in the user's state directory (`$XDG_STATE_HOME/galaxia`, else
/// `~/.local/state/galaxia`).
fn saved_objects(control: &ControlArgs) -> PathBuf {
    if let Some(file) = &control.control_file {
        let mut name = file.as_os_str().to_os_string();
        name.push(".objects.yaml");
        return PathBuf::from(name);
    }
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(std::env::temp_dir);
    state.join("galaxia").join("objects.yaml")
}

/// Apply what a crashed galaxy left at `saved` (unless `fresh`); the line that says so.
fn restore(
    running: &crate::galaxy::Running,
    saved: &std::path::Path,
    fresh: bool,
    err: &mut dyn std::io::Write,
) -> Result<Option<String>, Error> {
    use std::os::unix::fs::DirBuilderExt;
    if let Some(dir) = saved.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| Error::verb("preparing the galaxy's state directory", e))?;
    }
    let text = match std::fs::read_to_string(saved) {
        Ok(t) if !t.trim().is_empty() => t,
        _ => return Ok(None),
    };
    if fresh {
        return Ok(Some(format!(
            "Not restored (--fresh): the objects a previous galaxy left in {}.",
            saved.display()
        )));
    }
    let origin = saved.display().to_string();
    match running
        .galaxy
        .cluster
        .policies
        .apply(&text, &origin, crate::manifest::ApplyMode::Apply)
    {
        Ok(results) => {
            let names: Vec<String> = results
                .iter()
                .filter(|r| r.result.is_ok())
                .map(|r| format!("{}/{}", r.key.namespace, r.key.name))
                .collect();
            Ok(Some(format!(
                "Restored {} object(s) a previous galaxy left in {}: {} (--fresh starts without them).",
                names.len(),
                saved.display(),
                names.join(", ")
            )))
        }
        Err(e) => {
            writeln!(
                err,
                "galaxia: the objects a previous galaxy left in {} do not load any more, starting without them: {e}",
                saved.display()
            )?;
            Ok(None)
        }
    }
}

pub fn run(args: Args, io: &mut Io<'_>) -> Result<(), Error> {
    let manifests = manifests(&args.files, &mut *io.err)?;
    let options = Options {
        patrol: !args.no_patrol,
        restart_backoff: args.restart_backoff,
        explosion_delay: args.explode_after,
        patrol_interval: args.patrol_interval,
        patrol_timeout: args.patrol_timeout,
        upstream: args.upstream.into(),
        hubble_buffer: (!args.no_hubble).then_some(args.hubble_buffer),
        datapath: args.datapath.into(),
    };
    if args.datapath == DatapathArg::Ebpf && !args.forward.is_empty() {
        return Err(Error::Usage(
            "--forward is for the userspace datapath: on --datapath ebpf, run the client inside a pod (galaxia exec POD -- CMD)".into(),
        ));
    }
    // Refuse before anything is claimed when root, the programs or a binary is missing.
    if args.datapath == DatapathArg::Ebpf {
        crate::ebpf::preflight().map_err(|e| Error::Usage(e.to_string()))?;
    }
    let ports = Ports {
        hubble: args.hubble_port,
        ui: args.ui_port,
    };
    let path = args.control.path();
    // Before anything starts: a second galaxy must not take over the first one's discovery file.
    discovery::claim(&path).map_err(|e| Error::verb("announcing the galaxy", e))?;
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
                ui: Some(running.ui),
                token: running.token.clone(),
            },
        )
        .map_err(|e| Error::verb("announcing the galaxy", e))?;
        let saved = saved_objects(&args.control);
        let restored = restore(&running, &saved, args.fresh, &mut *io.err)?;
        running
            .galaxy
            .cluster
            .policies
            .save_to(saved.clone())
            .map_err(|e| Error::verb("saving the galaxy's objects", e))?;
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
            match crate::ebpf::registry::sandbox(&running.galaxy.cluster, p.id) {
                Some(sb) => writeln!(out, "  pod {:<40} {:<15} netns {}", p.name(), p.info.ip, sb.netns.display())?,
                None => writeln!(out, "  pod {:<40} egress proxy http://{}", p.name(), p.egress)?,
            }
        }
        for f in &forwards {
            writeln!(out, "{f}")?;
        }
        writeln!(out, "Hubble's Observer API on {} (hubble observe --server {}).", running.hubble, running.hubble)?;
        writeln!(out, "Hubble UI: http://{} (galaxia hubble ui opens it).", running.ui)?;
        writeln!(out, "Try: galaxia get pods; galaxia exec caca-tie -- curl -s -XPOST estrela-da-morte.default.svc.cluster.local/v1/request-landing")?;
        if let Some(line) = restored {
            writeln!(out, "{line}")?;
        }
        writeln!(out, "Ctrl-C stops it.")?;
        out.flush()?;
        frota::signal::terminated().await;
        writeln!(out, "galaxia: stopping")?;
        discovery::remove_if_ours(&path);
        running.stop().await;
        // A clean stop is `kind delete cluster`: nothing to offer back next time.
        let _ = std::fs::remove_file(&saved);
        Ok(())
    })
}
