//! `galaxia up [-f FILE...]`: run the galaxy in the foreground until Ctrl-C: Death Star replicas and
//! ships as real servers and clients on loopback, each pod behind its own egress proxy, the policies
//! of the files in force, and the control API that the other verbs find through the discovery file.

use std::path::PathBuf;
use std::time::Duration;

use super::error::Error;
use super::print::Io;
use super::print::Table;
use crate::config;
use crate::control::discovery::{self, ControlArgs, Discovery};
use crate::galaxy::{Datapath, Options, Ports, Upstream};
use crate::manifest::{self, ApplyMode, Manifests, book};

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

/// One object of the manifests and what `up` did with it, as `kubectl create -f` would have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The file as named (a directory's files by their paths).
    pub file: String,
    /// kubectl's `resource/name`.
    pub object: String,
    /// `loaded`, or `ignored: WHY`, or what a tool's own file is read for.
    pub result: String,
}

/// The manifests `up` runs, with what became of each object: the files named, else
/// `k8s/starwars.yml` here, else the built-in copy.
///
/// The files are read as `kubectl create -f` reads them: a directory's files in name order,
/// documents in order, and an object whose name an earlier one took is refused
/// (`AlreadyExists`), so `up -f k8s/` runs politica_l4.yml's regra1 and says that
/// politica_l7.yml's was not created. Kinds galaxia does not run are listed as ignored with the
/// reason; a kind kubectl does not know (a misspelling) stops `up` with kubectl's message.
fn manifests(
    files: &[PathBuf],
    err: &mut dyn std::io::Write,
) -> Result<(Manifests, Vec<Outcome>), Error> {
    if files.is_empty() {
        let local = PathBuf::from("k8s/starwars.yml");
        let (m, from) = if local.is_file() {
            (manifest::load_paths(&[&local])?, "k8s/starwars.yml")
        } else {
            (
                manifest::load_str(book::STARWARS, "starwars.yml (built in)")?,
                "starwars.yml (built in)",
            )
        };
        let rows = m
            .objects()
            .iter()
            .map(|o| Outcome {
                file: from.to_string(),
                object: object_name(&o.key),
                result: "loaded".into(),
            })
            .collect();
        return Ok((m, rows));
    }
    let all = manifest::load_paths(files)?;
    // What `kubectl create -f` would refuse (a misspelled kind), `up` refuses too; the files of
    // kind and kustomize are not API objects and are listed below instead.
    let unknown: Vec<String> = all
        .ignored()
        .iter()
        .filter(|i| !i.served() && tool_file(&i.api_version, &i.kind).is_none())
        .map(|i| super::kubectl::not_run(&crate::manifest::NotRun::from(i)))
        .collect();
    if !unknown.is_empty() {
        err.write_all(super::kubectl::errors(&unknown).as_bytes())?;
        return Err(Error::Reported(1));
    }
    let mut each = Vec::new();
    for file in expand(files).map_err(|e| Error::verb("listing the manifests", e))? {
        let m = manifest::load_paths(&[&file])?;
        each.push((file.display().to_string(), m));
    }
    // Outcomes in kubectl's order: each file's objects created unless taken.
    let mut created = Manifests::default();
    let mut rows = Vec::new();
    for (file, m) in &each {
        for i in m.ignored() {
            rows.push(Outcome {
                file: file.clone(),
                object: ignored_name(i),
                result: ignored_reason(i),
            });
        }
        for a in created.apply(m.clone(), ApplyMode::Create) {
            let result = match super::kubectl::applied(&a, Some(file)) {
                Ok(_) => "loaded".to_string(),
                Err(refusal) => format!(
                    "ignored: {refusal} (as `kubectl create -f` refuses it; the first one runs)"
                ),
            };
            rows.push(Outcome {
                file: file.clone(),
                object: object_name(&a.key),
                result,
            });
        }
    }
    // The objects that run: every file's, the earliest of each name winning (the set read at
    // once keeps the last), with the kind cluster the files name.
    let mut run = all;
    for (_, m) in each.into_iter().rev() {
        run.apply(m, ApplyMode::Apply);
    }
    Ok((run, rows))
}

/// The files `-f` names: a directory's manifests (`.yml`, `.yaml`, `.json` directly inside) in
/// name order, as kubectl and [`manifest::load_paths`] read them.
fn expand(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for p in paths {
        if !p.is_dir() {
            files.push(p.clone());
            continue;
        }
        files.extend(crate::manifest::list_dir(p)?);
    }
    Ok(files)
}

fn object_name(key: &crate::manifest::ObjectKey) -> String {
    format!("{}/{}", super::kubectl::resource(key.kind).0, key.name)
}

fn ignored_name(i: &crate::manifest::Ignored) -> String {
    let kind = i.kind.to_lowercase();
    let resource = match i.api_version.rsplit_once('/') {
        Some((group, _)) => format!("{kind}.{group}"),
        None => kind,
    };
    match &i.name {
        Some(n) if !n.is_empty() => format!("{resource}/{n}"),
        _ => resource,
    }
}

/// A tool's own file among the manifests: not an API object, read by the tool named.
fn tool_file(api_version: &str, kind: &str) -> Option<&'static str> {
    if manifest::kinds::is_kind_config(api_version, kind) {
        Some("read: the kind cluster's nodes (`kind create cluster --config` reads this file)")
    } else if kind == "Kustomization" && api_version.starts_with("kustomize.config.k8s.io/") {
        Some(
            "ignored: `kubectl apply -k`'s file, not an object (`kubectl create -f` refuses it: no matches for kind \"Kustomization\")",
        )
    } else {
        None
    }
}

fn ignored_reason(i: &crate::manifest::Ignored) -> String {
    match tool_file(&i.api_version, &i.kind) {
        Some(why) => why.to_string(),
        None => format!(
            "ignored: galaxia runs Pods, Deployments, Services and CiliumNetworkPolicies (a cluster would create this {})",
            i.kind
        ),
    }
}

/// `1 pod`, `2 pods`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What `up` prints before the galaxy starts: each object of the manifests and its outcome.
fn outcomes_table(rows: &[Outcome]) -> String {
    let mut t = Table::compact(&["FILE", "OBJECT", "RESULT"]);
    for r in rows {
        t.row(vec![r.file.clone(), r.object.clone(), r.result.clone()]);
    }
    t.render()
}

/// What the galaxy runs, and where: pods (IP, node), Services (ClusterIP, ports), policies,
/// and the galaxy's own ports.
fn running_table(
    running: &crate::galaxy::Running,
    control: &std::path::Path,
    outcomes: &[Outcome],
) -> String {
    let cluster = &running.galaxy.cluster;
    let mut t = Table::compact(&["WHAT", "NAME", "ADDRESS", "DETAIL"]);
    for p in cluster.pods.iter() {
        let detail = match crate::ebpf::registry::sandbox(cluster, p.id) {
            Some(sb) => format!("node {}, netns {}", p.info.node, sb.netns.display()),
            None => format!("node {}, egress proxy http://{}", p.info.node, p.egress),
        };
        t.row(vec![
            "pod".into(),
            format!("{}/{}", p.namespace(), p.name()),
            p.info.ip.to_string(),
            detail,
        ]);
    }
    for s in &cluster.services {
        let ports: Vec<String> = s
            .model
            .ports
            .iter()
            .map(|p| format!("{}/{}", p.port, p.protocol))
            .collect();
        t.row(vec![
            "service".into(),
            format!("{}/{}", s.model.namespace, s.model.name),
            s.cluster_ip.to_string(),
            format!("ClusterIP, port(s) {}", ports.join(",")),
        ]);
    }
    for p in cluster.policies.list() {
        let object = format!("ciliumnetworkpolicy.cilium.io/{}", p.name);
        let from = outcomes
            .iter()
            .find(|o| o.object == object && o.result == "loaded")
            .map_or(p.origin.as_str(), |o| o.file.as_str());
        t.row(vec![
            "policy".into(),
            format!("{}/{}", p.namespace, p.name),
            String::new(),
            format!("CiliumNetworkPolicy from {from}"),
        ]);
    }
    t.row(vec![
        "control API".into(),
        String::new(),
        running.addr.to_string(),
        format!("discovery file {}", control.display()),
    ]);
    t.row(vec![
        "Hubble (gRPC)".into(),
        String::new(),
        running.hubble.to_string(),
        format!("hubble observe --server {}", running.hubble),
    ]);
    t.row(vec![
        "Hubble UI".into(),
        String::new(),
        format!("http://{}", running.ui),
        "galaxia hubble ui".into(),
    ]);
    t.render()
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
    let (manifests, outcomes) = manifests(&args.files, &mut *io.err)?;
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
    io.out.write_all(outcomes_table(&outcomes).as_bytes())?;
    io.out.flush()?;
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
        let cluster = &running.galaxy.cluster;
        writeln!(
            out,
            "\ngalaxia is up: {}, {}, {}, control API on {} (discovery file {}).\n",
            count(cluster.pods.iter().count(), "pod", "pods"),
            count(cluster.services.len(), "Service", "Services"),
            count(cluster.policies.list().len(), "policy", "policies"),
            running.addr,
            path.display()
        )?;
        out.write_all(running_table(&running, &path, &outcomes).as_bytes())?;
        writeln!(out)?;
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
