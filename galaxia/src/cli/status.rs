//! `galaxia status [--wait]`: the running galaxy as `cilium status` (cilium-cli 0.16, the one of
//! Cilium 1.15) shows a cluster, laid out the same way (its logo block, then its tabwriter
//! table), saying only what is true here: the galaxy plays Cilium's agent on each of its nodes,
//! Hubble Relay (the Observer API) and Hubble UI in one process, so the images are `galaxia`,
//! with no version invented; there is no operator, no Helm chart, no ClusterMesh. The L7 proxy
//! is in the datapath, as Cilium 1.15's embedded Envoy is.
//!
//! With `--wait`, as cilium-cli: try again every 2 s until every part answers and every pod is
//! ready, for at most `--wait-duration` (5 minutes), and fail with cilium-cli's words after it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::error::Error;
use super::print::Io;
use super::session::runtime;
use crate::control::Control;
use crate::control::discovery::{self, ControlArgs, Discovery};
use crate::control::views::PodView;
use crate::hubble::proto::observer::ServerStatusRequest;
use crate::hubble::proto::observer::observer_client::ObserverClient;

/// cilium-cli's `defaults.WaitRetryInterval`.
const RETRY: Duration = Duration::from_secs(2);
/// How long one look at a part may take.
const ASK: Duration = Duration::from_secs(5);

/// Display status (as `cilium status`): the galaxy's agents, Hubble Relay and UI, its pods.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Wait for status to report success (no errors and warnings): every part answers, every
    /// pod is ready. Also waits for a galaxy to start.
    #[arg(long)]
    pub wait: bool,
    /// Maximum time to wait for status.
    #[arg(long, default_value = "5m", value_parser = humantime::parse_duration)]
    pub wait_duration: Duration,
    #[command(flatten)]
    pub control: ControlArgs,
}

/// What one look at the galaxy found.
#[derive(Debug, Clone, Default)]
pub struct Status {
    /// The galaxy's process and addresses.
    pub discovery: Option<Discovery>,
    /// Nodes, as Hubble Relay counts them (a DaemonSet's desired pods).
    pub nodes: Option<u32>,
    pub relay_ok: bool,
    pub ui_ok: bool,
    pub pods: Vec<PodView>,
    /// By part (cilium-cli's deployment names), what is wrong.
    pub errors: BTreeMap<&'static str, Vec<String>>,
    pub warnings: BTreeMap<(&'static str, String), Vec<String>>,
}

impl Status {
    /// cilium-cli's `statusIsReady`: no errors, no warnings.
    pub fn ready(&self) -> bool {
        self.discovery.is_some() && self.errors.is_empty() && self.warnings.is_empty()
    }
}

pub fn run(args: Args, io: &mut Io<'_>) -> Result<(), Error> {
    let rt = runtime()?;
    let path = args.control.path();
    let deadline = Instant::now() + args.wait_duration;
    loop {
        let found = match discovery::read(&path) {
            Ok(d) => rt.block_on(look(d)),
            Err(e) => Err(e.to_string()),
        };
        match found {
            Ok(s) if s.ready() || !args.wait => {
                io.out
                    .write_all(format(&s, io.out_is_terminal).as_bytes())?;
                if let Some(d) = &s.discovery {
                    writeln!(io.out, "\n{}", galaxia_line(d))?;
                }
                return Ok(());
            }
            Err(e) if !args.wait => {
                writeln!(io.err, "galaxia: {e}")?;
                return Err(Error::Reported(1));
            }
            last => {
                if Instant::now() + RETRY > deadline {
                    if let Ok(s) = &last {
                        io.err.write_all(format(s, false).as_bytes())?;
                    } else if let Err(e) = &last {
                        writeln!(io.err, "galaxia: {e}")?;
                    }
                    writeln!(
                        io.err,
                        "\nError: Unable to determine status:  timeout while waiting for status to become successful: context deadline exceeded"
                    )?;
                    return Err(Error::Reported(1));
                }
                std::thread::sleep(RETRY);
            }
        }
    }
}

/// Ask each part of the galaxy found in `d`; an error when the galaxy itself does not answer
/// (a discovery file that a galaxy killed with `kill -9` left).
async fn look(d: Discovery) -> Result<Status, String> {
    let mut s = Status {
        discovery: Some(d.clone()),
        ..Status::default()
    };
    let control = Control::at(d.addr, d.token.clone());
    let gone = |why: String| {
        format!(
            "no galaxy answers at {} ({why}; the discovery file names pid {}): start one with `galaxia up`",
            d.addr, d.pid
        )
    };
    match tokio::time::timeout(ASK, control.pods()).await {
        Ok(Ok(pods)) => s.pods = pods,
        Ok(Err(e)) => return Err(gone(e.to_string())),
        Err(_) => return Err(gone("no answer in time".into())),
    }
    if let Some(addr) = d.hubble {
        match relay_nodes(addr).await {
            Ok(n) => {
                s.nodes = Some(n);
                s.relay_ok = true;
            }
            Err(e) => s
                .errors
                .entry("hubble-relay")
                .or_default()
                .push(format!("unable to reach the Observer API on {addr}: {e}")),
        }
    }
    if let Some(addr) = d.ui {
        match ui_answers(addr).await {
            Ok(()) => s.ui_ok = true,
            Err(e) => s
                .errors
                .entry("hubble-ui")
                .or_default()
                .push(format!("http://{addr}: {e}")),
        }
    }
    for p in s.pods.iter().filter(|p| !p.ready) {
        s.warnings
            .entry(("galaxia", format!("{}/{}", p.namespace, p.name)))
            .or_default()
            .push(format!("pod is not ready ({})", p.phase.as_str()));
    }
    Ok(s)
}

/// Hubble Relay's count of connected nodes (its ServerStatus).
async fn relay_nodes(addr: SocketAddr) -> Result<u32, String> {
    let ask = async {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .map_err(|e| e.to_string())?
            .connect()
            .await
            .map_err(|e| e.to_string())?;
        let status = ObserverClient::new(channel)
            .server_status(ServerStatusRequest {})
            .await
            .map_err(|e| e.message().to_string())?
            .into_inner();
        Ok(status.num_connected_nodes.unwrap_or(0))
    };
    tokio::time::timeout(ASK, ask)
        .await
        .map_err(|_| "no answer in time".to_string())?
}

/// The web UI's page answers 200.
async fn ui_answers(addr: SocketAddr) -> Result<(), String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let ask = async {
        let mut conn = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| e.to_string())?;
        let req = format!("GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        conn.write_all(req.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut head = [0u8; 12];
        conn.read_exact(&mut head)
            .await
            .map_err(|e| e.to_string())?;
        match &head[9..12] {
            b"200" => Ok(()),
            other => Err(format!("answered {}", String::from_utf8_lossy(other))),
        }
    };
    tokio::time::timeout(ASK, ask)
        .await
        .map_err(|_| "no answer in time".to_string())?
}

/// What cilium-cli never says: which process all of this is, and where.
fn galaxia_line(d: &Discovery) -> String {
    let mut parts = vec![format!("control API {}", d.addr)];
    if let Some(h) = d.hubble {
        parts.push(format!("Hubble Relay (gRPC) {h}"));
    }
    if let Some(u) = d.ui {
        parts.push(format!("Hubble UI http://{u}"));
    }
    format!(
        "The agents, Hubble Relay and Hubble UI above are one galaxia process (pid {}): {}.",
        d.pid,
        parts.join(", ")
    )
}

/// cilium-cli's colors, written only to a terminal.
struct Colors {
    on: bool,
}

impl Colors {
    fn c(&self, code: &'static str) -> &'static str {
        if self.on { code } else { "" }
    }
}

const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const BLUE: &str = "\x1b[34m";
const GREEN: &str = "\x1b[32m";
const MAGENTA: &str = "\x1b[35m";
const CYAN: &str = "\x1b[36m";
const RESET: &str = "\x1b[0m";

/// `cilium status`'s summary layout (status.Format of cilium-cli 0.16).
pub fn format(s: &Status, color: bool) -> String {
    let k = Colors { on: color };
    let summary = |part: &str, on: bool| -> String {
        let errors = s.errors.get(part).map_or(0, Vec::len);
        let warnings: usize = s
            .warnings
            .iter()
            .filter(|((d, _), _)| *d == part)
            .map(|(_, w)| w.len())
            .sum();
        let mut items = Vec::new();
        if errors > 0 {
            items.push(format!("{}{errors} errors{}", k.c(RED), k.c(RESET)));
        }
        if warnings > 0 {
            items.push(format!("{}{warnings} warnings{}", k.c(YELLOW), k.c(RESET)));
        }
        if !on {
            items.push(format!("{}disabled{}", k.c(CYAN), k.c(RESET)));
        }
        if items.is_empty() {
            format!("{}OK{}", k.c(GREEN), k.c(RESET))
        } else {
            items.join(", ")
        }
    };
    let agent_up = s.discovery.is_some();
    let relay_on = s.discovery.as_ref().is_some_and(|d| d.hubble.is_some());
    let ui_on = s.discovery.as_ref().is_some_and(|d| d.ui.is_some());
    let (y, c, g, r, m, b, z) = (
        k.c(YELLOW),
        k.c(CYAN),
        k.c(GREEN),
        k.c(RED),
        k.c(MAGENTA),
        k.c(BLUE),
        k.c(RESET),
    );
    let mut t = String::new();
    t.push_str(&format!("{y}    /¯¯\\\n"));
    t.push_str(&format!(
        "{c} /¯¯{y}\\__/{g}¯¯\\{z}\tCilium:\t{}\n",
        summary("cilium", agent_up)
    ));
    t.push_str(&format!(
        "{c} \\__{r}/¯¯\\{g}__/{z}\tOperator:\t{}\n",
        summary("cilium-operator", false)
    ));
    t.push_str(&format!(
        "{g} /¯¯{r}\\__/{m}¯¯\\{z}\tEnvoy DaemonSet:\t{}\n",
        summary("cilium-envoy", false).replacen("disabled", "disabled (using embedded mode)", 1)
    ));
    t.push_str(&format!(
        "{g} \\__{b}/¯¯\\{m}__/{z}\tHubble Relay:\t{}\n",
        summary("hubble-relay", relay_on)
    ));
    t.push_str(&format!(
        "{b}{b}{b}    \\__/{z}\tClusterMesh:\t{}\n",
        summary("clustermesh-apiserver", false)
    ));
    t.push('\n');

    let ready = |ok: bool, n: u32| if ok { n } else { 0 };
    let state = |desired: u32, ready: u32| {
        let mut items = Vec::new();
        if desired > 0 {
            items.push(format!("Desired: {desired}"));
        }
        let color = if ready < desired { y } else { g };
        if ready > 0 {
            items.push(format!("Ready: {color}{ready}/{desired}{z}"));
            items.push(format!("Available: {color}{ready}/{desired}{z}"));
        }
        if desired > ready {
            items.push(format!("Unavailable: {r}{}/{desired}{z}", desired - ready));
        }
        items.join(", ")
    };
    // (type, name, desired, ready), as the parts the galaxy plays.
    let mut parts: Vec<(&str, &str, u32, u32)> = Vec::new();
    if let Some(n) = s.nodes.or_else(|| agent_up.then(|| pod_nodes(&s.pods))) {
        let ok = !s.errors.contains_key("cilium");
        parts.push(("DaemonSet", "cilium", n, ready(ok, n)));
    }
    if relay_on {
        parts.push(("Deployment", "hubble-relay", 1, ready(s.relay_ok, 1)));
    }
    if ui_on {
        parts.push(("Deployment", "hubble-ui", 1, ready(s.ui_ok, 1)));
    }
    for (kind, name, desired, ready) in &parts {
        t.push_str(&format!("{kind}\t{name}\t{}\n", state(*desired, *ready)));
    }
    let mut header = "Containers:";
    for (_, name, _, ready) in &parts {
        if *ready > 0 {
            t.push_str(&format!("{header}\t{name}\tRunning: {g}{ready}{z}\n"));
            header = "";
        }
    }
    let managed = s.pods.len();
    t.push_str(&format!(
        "Cluster Pods:\t{managed}/{managed} managed by Cilium\n"
    ));
    // No Helm chart installed the galaxy: cilium-cli prints the label with nothing after it.
    t.push_str("Helm chart version:\t\n");
    let mut header = "Image versions";
    for (_, name, _, ready) in &parts {
        if *ready > 0 {
            t.push_str(&format!("{header}\t{name}\tgalaxia: {ready}\n"));
            header = "";
        }
    }
    let mut header = "Errors:";
    for (part, errors) in &s.errors {
        for e in errors {
            t.push_str(&format!("{header}\t{part}\t{part}\t{e}\n"));
            header = "";
        }
    }
    let mut header = "Warnings:";
    for ((part, pod), warnings) in &s.warnings {
        for w in warnings {
            t.push_str(&format!("{header}\t{part}\t{pod}\t{w}\n"));
            header = "";
        }
    }
    tabwriter(&t, 4)
}

/// When Hubble does not answer: the nodes the pods run on.
fn pod_nodes(pods: &[PodView]) -> u32 {
    let nodes: std::collections::BTreeSet<&str> = pods.iter().map(|p| p.node.as_str()).collect();
    u32::try_from(nodes.len()).unwrap_or(u32::MAX)
}

/// `tabwriter.NewWriter(w, 0, 0, padding, ' ', 0)`, as cilium-cli lays out its status (widths
/// count characters, escape codes too, as Go counts them).
pub fn tabwriter(text: &str, padding: usize) -> String {
    crate::tabwriter::TabWriter::new(0, padding).lay_out(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_logo_block_lines_up_as_cilium_cli_s() {
        let s = Status {
            discovery: Some(Discovery {
                addr: "127.0.0.1:1".parse().expect("addr"),
                pid: 1,
                hubble: Some("127.0.0.1:4245".parse().expect("addr")),
                ui: Some("127.0.0.1:12000".parse().expect("addr")),
                token: String::new(),
            }),
            nodes: Some(4),
            relay_ok: true,
            ui_ok: true,
            ..Status::default()
        };
        let text = format(&s, false);
        let want = "    /¯¯\\\n /¯¯\\__/¯¯\\    Cilium:             OK\n \\__/¯¯\\__/    Operator:           disabled\n /¯¯\\__/¯¯\\    Envoy DaemonSet:    disabled (using embedded mode)\n \\__/¯¯\\__/    Hubble Relay:       OK\n    \\__/       ClusterMesh:        disabled\n\nDaemonSet              cilium          Desired: 4, Ready: 4/4, Available: 4/4\nDeployment             hubble-relay    Desired: 1, Ready: 1/1, Available: 1/1\nDeployment             hubble-ui       Desired: 1, Ready: 1/1, Available: 1/1\nContainers:            cilium          Running: 4\n                       hubble-relay    Running: 1\n                       hubble-ui       Running: 1\nCluster Pods:          0/0 managed by Cilium\nHelm chart version:    \nImage versions         cilium          galaxia: 4\n                       hubble-relay    galaxia: 1\n                       hubble-ui       galaxia: 1\n";
        assert_eq!(text, want);
        // With colors the columns stay where cilium-cli puts them (the escape codes count).
        let colored = format(&s, true);
        let plain: String = regex::Regex::new("\x1b\\[[0-9]+m")
            .expect("regex")
            .replace_all(&colored, "")
            .into_owned();
        assert_eq!(plain, want);
    }
}
