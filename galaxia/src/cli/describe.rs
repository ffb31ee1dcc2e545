//! `galaxia describe TYPE [NAME...]`: kubectl's describers, line for line, of what a galaxy
//! knows: pods, Services, Deployments (kubectl's typed describers) and CiliumNetworkPolicies
//! (kubectl's generic describer of a custom resource). Fields only a cluster has (container
//! IDs, uids) are left out rather than invented. Events are those the galaxy's controllers
//! recorded (a Deployment's, a ReplicaSet's) and, for a pod, the scheduler's and the kubelet's of
//! what the galaxy did ([`super::events`]); `Events: <none>` says there are none, as for a
//! Service or a policy on a cluster.

use std::collections::BTreeMap;

use serde_json::Value;

use super::error::Error;
use super::events;
use super::get::Resource;
use super::output::{Workload, pod_phase, replica_set, workloads};
use super::print::{Io, OutputArgs};
use super::session::connect;
use crate::control::discovery::ControlArgs;
use crate::control::views::{PodView, ServiceView};
use crate::state::{Phase, Role, StoredPolicy};
use crate::tabwriter::TabWriter;

/// Show objects in detail, as `kubectl describe` does.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// pods (po), svc (service), deploy (deployment), cnp (ciliumnetworkpolicy), or TYPE/NAME.
    #[arg(value_name = "TYPE")]
    pub resource: String,
    /// The objects; none: every one of the kind. A name that matches nothing describes the
    /// objects whose names start with it (`describe pod estrela-da-morte`), as kubectl does.
    pub names: Vec<String>,
    /// The namespace (a galaxy's objects are all in `default`).
    #[arg(short = 'n', long = "namespace", default_value = "default")]
    pub namespace: String,
    /// Every namespace.
    #[arg(short = 'A', long = "all-namespaces")]
    pub all_namespaces: bool,
    /// Only objects whose labels match.
    #[arg(short = 'l', long = "selector", value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// describe prints one format (as kubectl describe).
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub control: ControlArgs,
}

/// One object to describe: its namespace, name, labels and its text.
struct Described {
    namespace: String,
    name: String,
    labels: BTreeMap<String, String>,
    text: String,
}

pub fn run(args: Args, io: &mut Io<'_>) -> Result<(), Error> {
    args.output.format(&[])?;
    let (type_word, mut names) = match args.resource.split_once('/') {
        Some((t, n)) => (t.to_string(), vec![n.to_string()]),
        None => (args.resource.clone(), Vec::new()),
    };
    names.extend(args.names.iter().cloned());
    let kind = match Resource::parse_list(&type_word) {
        Ok(k) if k.len() == 1 => k[0],
        Ok(_) => {
            return Err(Error::Usage(
                "describe takes one TYPE (kubectl describe does not take comma lists)".into(),
            ));
        }
        Err(message) => {
            writeln!(io.err, "{message}")?;
            return Err(Error::Reported(1));
        }
    };
    let selector = match &args.selector {
        Some(s) => Some(super::selector::Selector::parse(s).map_err(Error::Usage)?),
        None => None,
    };
    let (control, rt) = connect(&args.control)?;
    let objects: Vec<Described> = match kind {
        Resource::Pods => rt
            .block_on(control.pods())?
            .iter()
            .map(|p| Described {
                namespace: p.namespace.clone(),
                name: p.name.clone(),
                labels: p.labels.clone(),
                text: pod(p),
            })
            .collect(),
        Resource::Services | Resource::Endpoints => {
            let svcs = rt.block_on(control.services())?;
            svcs.iter()
                .map(|s| Described {
                    namespace: s.namespace.clone(),
                    name: s.name.clone(),
                    labels: s.labels.clone(),
                    text: if kind == Resource::Services {
                        service(s)
                    } else {
                        endpoints(s)
                    },
                })
                .collect()
        }
        Resource::Deployments | Resource::ReplicaSets => {
            let pods = rt.block_on(control.pods())?;
            let views: Vec<Value> = rt
                .block_on(control.deployments())?
                .iter()
                .filter_map(|d| serde_json::to_value(d).ok())
                .collect();
            workloads(&views, &pods)
                .iter()
                .map(|w| {
                    let (name, text) = if kind == Resource::Deployments {
                        (w.name.clone(), deployment(w))
                    } else {
                        (w.replica_set(), replicaset(w, &pods))
                    };
                    Described {
                        namespace: w.namespace.clone(),
                        name,
                        labels: labels_of(&w.template["metadata"]["labels"]),
                        text,
                    }
                })
                .collect()
        }
        Resource::Policies => rt
            .block_on(control.policies())?
            .policies
            .iter()
            .map(|p| Described {
                namespace: p.namespace.clone(),
                name: p.name.clone(),
                labels: labels_of(&p.object["metadata"]["labels"]),
                text: generic(p),
            })
            .collect(),
    };
    let mut objects: Vec<Described> = objects
        .into_iter()
        .filter(|o| args.all_namespaces || o.namespace == args.namespace)
        .filter(|o| selector.as_ref().is_none_or(|s| s.matches(&o.labels)))
        .collect();
    objects.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));

    if names.is_empty() {
        if objects.is_empty() {
            let msg = super::kubectl::no_resources_found(args.all_namespaces, &args.namespace);
            writeln!(io.err, "{msg}")?;
        }
        let texts: Vec<&str> = objects.iter().map(|o| o.text.as_str()).collect();
        io.out.write_all(texts.join("\n\n").as_bytes())?;
        return Ok(());
    }
    let found: Vec<Option<&Described>> = names
        .iter()
        .map(|n| objects.iter().find(|o| &o.name == n))
        .collect();
    if found.iter().all(Option::is_none) && names.len() == 1 {
        // kubectl's fallback for one name it cannot find: the objects it prefixes.
        let prefixed: Vec<&Described> = objects
            .iter()
            .filter(|o| o.name.starts_with(&names[0]))
            .collect();
        if !prefixed.is_empty() {
            for o in prefixed {
                writeln!(io.out, "{}", o.text)?;
            }
            return Ok(());
        }
    }
    let mut first = true;
    let mut failed = false;
    for (n, o) in names.iter().zip(found) {
        match o {
            Some(o) => {
                if !first {
                    io.out.write_all(b"\n\n")?;
                }
                first = false;
                io.out.write_all(o.text.as_bytes())?;
            }
            None => {
                writeln!(io.err, "{}", kind.not_found(n))?;
                failed = true;
            }
        }
    }
    if failed {
        return Err(Error::Reported(1));
    }
    Ok(())
}

fn labels_of(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// kubectl's PrefixWriter over a tabwriter: two spaces a level.
struct Writer(TabWriter);

impl Writer {
    fn new() -> Writer {
        Writer(TabWriter::describe())
    }

    fn line(&mut self, level: usize, text: &str) {
        self.0.push(&"  ".repeat(level));
        self.0.push(text);
        self.0.push("\n");
    }

    /// printLabelsMultiline: `Title:\tk=v` then `\tk=v`, sorted; `<none>` when empty.
    fn labels(&mut self, title: &str, labels: &BTreeMap<String, String>) {
        self.0.push(&format!("{title}:\t"));
        if labels.is_empty() {
            self.0.push("<none>\n");
            return;
        }
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                // The title's own indentation (`  Labels` in a pod template) comes first.
                let indent = title.len() - title.trim_start().len();
                self.0.push(&" ".repeat(indent));
                self.0.push("\t");
            }
            self.0.push(&format!("{k}={v}\n"));
        }
    }

    /// printAnnotationsMultiline, without kubectl's last-applied annotation.
    fn annotations(&mut self, title: &str, annotations: &BTreeMap<String, String>) {
        self.0.push(&format!("{title}:\t"));
        let shown: Vec<(&String, &String)> = annotations
            .iter()
            .filter(|(k, _)| k.as_str() != "kubectl.kubernetes.io/last-applied-configuration")
            .collect();
        if shown.is_empty() {
            self.0.push("<none>\n");
            return;
        }
        const MAX: usize = 140;
        for (i, (k, v)) in shown.into_iter().enumerate() {
            if i > 0 {
                self.0.push("\t");
            }
            let value = v.strip_suffix('\n').unwrap_or(v);
            if value.len() + k.len() + 2 > MAX || value.contains('\n') {
                self.0.push(&format!("{k}:\n"));
                for s in value.split('\n') {
                    let s = if s.len() > MAX - 2 {
                        format!("{}...", &s[..floor_char(s, MAX - 2)])
                    } else {
                        s.to_string()
                    };
                    self.0.push(&format!("\t  {s}\n"));
                }
            } else {
                self.0.push(&format!("{k}: {value}\n"));
            }
        }
    }

    fn finish(self) -> String {
        self.0.finish()
    }
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn map_of(v: &Value) -> BTreeMap<String, String> {
    labels_of(v)
}

/// Go's `time.RFC1123Z` in UTC, as kubectl prints Start Time and CreationTimestamp.
fn rfc1123z(ms: u64) -> String {
    let secs = ms / 1000;
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil(days as i64);
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {d:02} {} {y} {:02}:{:02}:{:02} +0000",
        DAYS[(days % 7) as usize],
        MONTHS[(m - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) (Howard Hinnant's civil_from_days).
fn civil(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// kubectl's describePod, of what the galaxy knows.
fn pod(p: &PodView) -> String {
    let spec = &p.object["spec"];
    let mut w = Writer::new();
    w.line(0, &format!("Name:\t{}", p.name));
    w.line(0, &format!("Namespace:\t{}", p.namespace));
    // The API server's Priority admission gives every pod without a class priority 0.
    w.line(
        0,
        &format!("Priority:\t{}", spec["priority"].as_i64().unwrap_or(0)),
    );
    let sa = s(&spec["serviceAccountName"]);
    w.line(
        0,
        &format!(
            "Service Account:\t{}",
            if sa.is_empty() { "default" } else { sa }
        ),
    );
    w.line(0, &format!("Node:\t{}/{}", p.node, p.node_ip));
    w.line(0, &format!("Start Time:\t{}", rfc1123z(p.created_ms)));
    w.labels("Labels", &p.labels);
    w.annotations("Annotations", &map_of(&p.object["metadata"]["annotations"]));
    w.line(0, &format!("Status:\t{}", pod_phase(p.phase)));
    if let Some(t) = spec["securityContext"]["seccompProfile"]["type"].as_str() {
        w.line(0, &format!("SeccompProfile:\t{t}"));
    }
    w.line(0, &format!("IP:\t{}", p.ip));
    w.line(0, "IPs:");
    w.line(1, &format!("IP:\t{}", p.ip));
    if let Some(rs) = replica_set(p) {
        w.line(0, &format!("Controlled By:\tReplicaSet/{rs}"));
    }
    let containers = spec["containers"].as_array().cloned().unwrap_or_default();
    w.line(
        0,
        &format!(
            "Containers:{}",
            if containers.is_empty() { " <none>" } else { "" }
        ),
    );
    for c in &containers {
        container(&mut w, c, "", Some(p));
    }
    let ready = if p.ready { "True" } else { "False" };
    let started = if p.phase == Phase::ContainerCreating {
        "False"
    } else {
        "True"
    };
    w.line(0, "Conditions:");
    w.line(1, "Type\tStatus");
    for (t, v) in [
        ("PodReadyToStartContainers", started),
        ("Initialized", "True"),
        ("Ready", ready),
        ("ContainersReady", ready),
        ("PodScheduled", "True"),
    ] {
        w.line(1, &format!("{t} \t{v} "));
    }
    volumes(&mut w, spec, "");
    w.line(0, &format!("QoS Class:\t{}", qos(&containers)));
    w.labels("Node-Selectors", &map_of(&spec["nodeSelector"]));
    tolerations(&mut w, spec);
    spread(&mut w, spec, "");
    w.0.push(&events::table(
        &events::of_pod(p),
        std::time::SystemTime::now(),
    ));
    w.finish()
}

/// One container of a pod (with its status) or of a template (`space` = "  ", no status).
fn container(w: &mut Writer, c: &Value, space: &str, status: Option<&PodView>) {
    let indent = if space.is_empty() { "" } else { " " };
    w.line(1, &format!("{indent}{}:", s(&c["name"])));
    w.line(2, &format!("Image:\t{}", s(&c["image"])));
    let ports = c["ports"].as_array().cloned().unwrap_or_default();
    let proto = |p: &Value| p["protocol"].as_str().unwrap_or("TCP").to_string();
    let list: Vec<String> = ports
        .iter()
        .map(|p| format!("{}/{}", p["containerPort"], proto(p)))
        .collect();
    let hosts: Vec<String> = ports
        .iter()
        .map(|p| format!("{}/{}", p["hostPort"].as_i64().unwrap_or(0), proto(p)))
        .collect();
    let or_none = |v: &[String]| {
        if v.is_empty() {
            "<none>".to_string()
        } else {
            v.join(", ")
        }
    };
    w.line(
        2,
        &format!(
            "{}:\t{}",
            if list.len() > 1 { "Ports" } else { "Port" },
            or_none(&list)
        ),
    );
    w.line(
        2,
        &format!(
            "{}:\t{}",
            if hosts.len() > 1 {
                "Host Ports"
            } else {
                "Host Port"
            },
            or_none(&hosts)
        ),
    );
    if let Some(t) = c["securityContext"]["seccompProfile"]["type"].as_str() {
        w.line(2, &format!("SeccompProfile:\t{t}"));
    }
    for (key, title) in [("command", "Command:"), ("args", "Args:")] {
        if let Some(items) = c[key].as_array().filter(|a| !a.is_empty()) {
            w.line(2, title);
            for item in items {
                for line in s(item).split('\n') {
                    w.line(3, line);
                }
            }
        }
    }
    if let Some(p) = status {
        container_state(w, p);
    }
    for (key, title) in [("limits", "Limits:"), ("requests", "Requests:")] {
        if let Some(m) = c["resources"][key].as_object().filter(|m| !m.is_empty()) {
            w.line(2, title);
            let mut names: Vec<&String> = m.keys().collect();
            names.sort();
            for n in names {
                let q = match &m[n] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                w.line(3, &format!("{n}:\t{q}"));
            }
        }
    }
    for (key, title) in [
        ("livenessProbe", "Liveness"),
        ("readinessProbe", "Readiness"),
        ("startupProbe", "Startup"),
    ] {
        if c[key].is_object() {
            w.line(2, &format!("{title}:\t{}", probe(&c[key])));
        }
    }
    let env = c["env"].as_array().cloned().unwrap_or_default();
    w.line(
        2,
        &format!(
            "Environment:{}",
            if env.is_empty() { "\t<none>" } else { "" }
        ),
    );
    for e in &env {
        if e["value"].is_string() || e["valueFrom"].is_null() {
            for (i, line) in s(&e["value"]).split('\n').enumerate() {
                if i == 0 {
                    w.line(3, &format!("{}:\t{line}", s(&e["name"])));
                } else {
                    w.line(3, &format!("\t{line}"));
                }
            }
        } else if let Some(f) = e["valueFrom"]["fieldRef"].as_object() {
            let api = f.get("apiVersion").and_then(Value::as_str).unwrap_or("v1");
            let path = f
                .get("fieldPath")
                .and_then(Value::as_str)
                .unwrap_or_default();
            w.line(3, &format!("{}:\t ({api}:{path})", s(&e["name"])));
        }
    }
    let mounts = c["volumeMounts"].as_array().cloned().unwrap_or_default();
    w.line(
        2,
        &format!("Mounts:{}", if mounts.is_empty() { "\t<none>" } else { "" }),
    );
    let mut mounts: Vec<&Value> = mounts.iter().collect();
    mounts.sort_by_key(|m| s(&m["mountPath"]).to_string());
    for m in mounts {
        let mode = if m["readOnly"].as_bool() == Some(true) {
            "ro"
        } else {
            "rw"
        };
        w.line(
            3,
            &format!("{} from {} ({mode})", s(&m["mountPath"]), s(&m["name"])),
        );
    }
}

/// State, Last State, Ready and Restart Count, from what the galaxy saw of the container.
fn container_state(w: &mut Writer, p: &PodView) {
    let started = p.last_restart_ms.unwrap_or(p.created_ms);
    let death_star = p.role == Role::DeathStar;
    match p.phase {
        Phase::Running | Phase::Terminating => {
            w.line(2, "State:\tRunning");
            w.line(3, &format!("Started:\t{}", rfc1123z(started)));
        }
        Phase::ContainerCreating => {
            w.line(2, "State:\tWaiting");
            w.line(3, "Reason:\tContainerCreating");
        }
        Phase::CrashLoopBackOff => {
            w.line(2, "State:\tWaiting");
            w.line(3, "Reason:\tCrashLoopBackOff");
        }
        Phase::Error => {
            w.line(2, "State:\tTerminated");
            w.line(3, "Reason:\tError");
            if death_star {
                // The exhaust port's panic: the Death Star exits with status 2.
                w.line(3, "Exit Code:\t2");
            }
        }
    }
    if p.restarts > 0 && death_star && p.phase != Phase::Error {
        w.line(2, "Last State:\tTerminated");
        w.line(3, "Reason:\tError");
        w.line(3, "Exit Code:\t2");
        if let Some(ms) = p.last_restart_ms {
            w.line(3, &format!("Finished:\t{}", rfc1123z(ms)));
        }
    }
    w.line(
        2,
        &format!("Ready:\t{}", if p.ready { "True" } else { "False" }),
    );
    w.line(2, &format!("Restart Count:\t{}", p.restarts));
}

/// kubectl's DescribeProbe, with the API server's defaults (timeout 1s, period 10s, #success 1,
/// #failure 3).
fn probe(p: &Value) -> String {
    let n = |k: &str, d: i64| p[k].as_i64().unwrap_or(d);
    let attrs = format!(
        "delay={}s timeout={}s period={}s #success={} #failure={}",
        n("initialDelaySeconds", 0),
        n("timeoutSeconds", 1),
        n("periodSeconds", 10),
        n("successThreshold", 1),
        n("failureThreshold", 3)
    );
    let port = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if let Some(h) = p["httpGet"].as_object() {
        let scheme = h
            .get("scheme")
            .and_then(Value::as_str)
            .unwrap_or("HTTP")
            .to_lowercase();
        let host = h.get("host").and_then(Value::as_str).unwrap_or_default();
        let path = h.get("path").and_then(Value::as_str).unwrap_or_default();
        let port = h.get("port").map(port).unwrap_or_default();
        return format!("http-get {scheme}://{host}:{port}{path} {attrs}");
    }
    if let Some(t) = p["tcpSocket"].as_object() {
        let host = t.get("host").and_then(Value::as_str).unwrap_or_default();
        let port = t.get("port").map(port).unwrap_or_default();
        return format!("tcp-socket {host}:{port} {attrs}");
    }
    if let Some(e) = p["exec"]["command"].as_array() {
        let words: Vec<&str> = e.iter().map(s).collect();
        return format!("exec [{}] {attrs}", words.join(" "));
    }
    format!("unknown {attrs}")
}

fn volumes(w: &mut Writer, spec: &Value, space: &str) {
    let vols = spec["volumes"].as_array().cloned().unwrap_or_default();
    if vols.is_empty() {
        w.line(0, &format!("{space}Volumes:\t<none>"));
        return;
    }
    w.line(0, &format!("{space}Volumes:"));
    let indent = if space.is_empty() { "" } else { " " };
    for v in &vols {
        w.line(1, &format!("{indent}{}:", s(&v["name"])));
        if v["emptyDir"].is_object() {
            w.line(
                2,
                "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)",
            );
            w.line(2, &format!("Medium:\t{}", s(&v["emptyDir"]["medium"])));
            let limit = s(&v["emptyDir"]["sizeLimit"]);
            w.line(
                2,
                &format!(
                    "SizeLimit:\t{}",
                    if limit.is_empty() { "<unset>" } else { limit }
                ),
            );
        }
    }
}

/// Guaranteed when every container's requests equal its limits for cpu and memory, BestEffort
/// when none has any, Burstable otherwise (Kubernetes' GetPodQOS).
fn qos(containers: &[Value]) -> &'static str {
    let mut any = false;
    let mut guaranteed = true;
    for c in containers {
        let r = &c["resources"];
        for res in ["cpu", "memory"] {
            let limit = &r["limits"][res];
            // A limit without a request defaults the request to it.
            let request = if r["requests"][res].is_null() {
                limit
            } else {
                &r["requests"][res]
            };
            any |= !limit.is_null() || !request.is_null();
            guaranteed &= !limit.is_null() && limit == request;
        }
    }
    if !any {
        "BestEffort"
    } else if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

/// The pod's tolerations and the two the DefaultTolerationSeconds admission plugin adds.
fn tolerations(w: &mut Writer, spec: &Value) {
    let mut tols: Vec<Value> = spec["tolerations"].as_array().cloned().unwrap_or_default();
    for key in [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    ] {
        if !tols.iter().any(|t| s(&t["key"]) == key) {
            tols.push(serde_json::json!({
                "effect": "NoExecute", "key": key, "operator": "Exists", "tolerationSeconds": 300,
            }));
        }
    }
    tols.sort_by_key(|t| s(&t["key"]).to_string());
    w.0.push("Tolerations:\t");
    for (i, t) in tols.iter().enumerate() {
        if i > 0 {
            w.0.push("\t");
        }
        let mut line = s(&t["key"]).to_string();
        let value = s(&t["value"]);
        if !value.is_empty() {
            line.push_str(&format!("={value}"));
        }
        if !s(&t["effect"]).is_empty() {
            line.push_str(&format!(":{}", s(&t["effect"])));
        }
        if s(&t["operator"]) == "Exists" && value.is_empty() {
            line.push_str(if line.is_empty() {
                "op=Exists"
            } else {
                " op=Exists"
            });
        }
        if let Some(n) = t["tolerationSeconds"].as_i64() {
            line.push_str(&format!(" for {n}s"));
        }
        w.0.push(&line);
        w.0.push("\n");
    }
}

/// metav1.FormatLabelSelector: `k=v,...`, then `k in (a,b)`, ...; `<none>` when empty.
fn label_selector(sel: &Value) -> String {
    let mut parts: Vec<String> = map_of(&sel["matchLabels"])
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for e in sel["matchExpressions"].as_array().into_iter().flatten() {
        let values: Vec<&str> = e["values"]
            .as_array()
            .into_iter()
            .flatten()
            .map(s)
            .collect();
        let key = s(&e["key"]);
        parts.push(match s(&e["operator"]) {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.to_string(),
            "DoesNotExist" => format!("!{key}"),
            other => format!("{key} {other} ({})", values.join(",")),
        });
    }
    if parts.is_empty() {
        "<none>".into()
    } else {
        parts.join(",")
    }
}

fn spread(w: &mut Writer, spec: &Value, space: &str) {
    let mut tscs = spec["topologySpreadConstraints"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if tscs.is_empty() {
        return;
    }
    tscs.sort_by_key(|t| s(&t["topologyKey"]).to_string());
    w.0.push(&format!("{space}Topology Spread Constraints:\t"));
    for (i, t) in tscs.iter().enumerate() {
        if i > 0 {
            w.0.push(&format!("{space}\t"));
        }
        let mut line = format!(
            "{}:{} when max skew {} is exceeded",
            s(&t["topologyKey"]),
            s(&t["whenUnsatisfiable"]),
            t["maxSkew"]
        );
        if t["labelSelector"].is_object() {
            line.push_str(&format!(
                " for selector {}",
                label_selector(&t["labelSelector"])
            ));
        }
        w.0.push(&line);
        w.0.push("\n");
    }
}

/// kubectl's describeService; Endpoints are the EndpointSlices' addresses (ready or not).
fn service(svc: &ServiceView) -> String {
    let o = super::output::service_object(svc);
    let spec = &o["spec"];
    let mut w = Writer::new();
    w.line(0, &format!("Name:\t{}", svc.name));
    w.line(0, &format!("Namespace:\t{}", svc.namespace));
    w.labels("Labels", &svc.labels);
    w.annotations("Annotations", &map_of(&o["metadata"]["annotations"]));
    let selector: Vec<String> = svc
        .selector
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    w.line(
        0,
        &format!(
            "Selector:\t{}",
            if selector.is_empty() {
                "<none>".to_string()
            } else {
                selector.join(",")
            }
        ),
    );
    w.line(0, &format!("Type:\t{}", s(&spec["type"])));
    w.line(
        0,
        &format!("IP Family Policy:\t{}", s(&spec["ipFamilyPolicy"])),
    );
    w.line(0, "IP Families:\tIPv4");
    w.line(0, &format!("IP:\t{}", svc.cluster_ip));
    w.line(0, &format!("IPs:\t{}", svc.cluster_ip));
    for sp in spec["ports"].as_array().into_iter().flatten() {
        let name = sp["name"].as_str().filter(|n| !n.is_empty());
        let proto = s(&sp["protocol"]);
        w.line(
            0,
            &format!(
                "Port:\t{}\t{}/{proto}",
                name.unwrap_or("<unset>"),
                sp["port"]
            ),
        );
        let target = match &sp["targetPort"] {
            Value::String(t) => t.clone(),
            other => other.to_string(),
        };
        w.line(0, &format!("TargetPort:\t{target}/{proto}"));
        w.line(
            0,
            &format!("Endpoints:\t{}", service_endpoints(svc, name.unwrap_or(""))),
        );
    }
    w.line(
        0,
        &format!("Session Affinity:\t{}", s(&spec["sessionAffinity"])),
    );
    w.line(
        0,
        &format!(
            "Internal Traffic Policy:\t{}",
            s(&spec["internalTrafficPolicy"])
        ),
    );
    w.line(0, "Events:\t<none>");
    w.finish()
}

/// formatEndpointSlices for one Service port: `ip:port` of every pod behind it, at most three
/// and `+ N more...`; `<none>` when the Service has no pods.
fn service_endpoints(svc: &ServiceView, port_name: &str) -> String {
    if svc.members.is_empty() {
        return "<none>".into();
    }
    let addrs: Vec<String> = svc
        .members
        .iter()
        .filter_map(|m| {
            m.ports
                .iter()
                .find(|(n, _, _)| n == port_name)
                .and_then(|(_, p, _)| *p)
                .map(|p| format!("{}:{p}", m.ip))
        })
        .collect();
    three_and_more(&addrs)
}

/// kubectl's endpoint lists: the first three, then ` + N more...`.
pub fn three_and_more(addrs: &[String]) -> String {
    if addrs.len() > 3 {
        format!("{} + {} more...", addrs[..3].join(","), addrs.len() - 3)
    } else {
        addrs.join(",")
    }
}

/// kubectl's describeEndpoints.
fn endpoints(svc: &ServiceView) -> String {
    let o = super::output::endpoints_object(svc);
    let mut w = Writer::new();
    w.line(0, &format!("Name:\t{}", svc.name));
    w.line(0, &format!("Namespace:\t{}", svc.namespace));
    w.labels("Labels", &svc.labels);
    w.annotations("Annotations", &BTreeMap::new());
    w.line(0, "Subsets:");
    for ss in o["subsets"].as_array().into_iter().flatten() {
        let ips = |k: &str| -> String {
            let v: Vec<&str> = ss[k]
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| s(&a["ip"]))
                .collect();
            if v.is_empty() {
                "<none>".into()
            } else {
                v.join(",")
            }
        };
        w.line(1, &format!("Addresses:\t{}", ips("addresses")));
        w.line(
            1,
            &format!("NotReadyAddresses:\t{}", ips("notReadyAddresses")),
        );
        w.line(1, "Ports:");
        w.line(2, "Name\tPort\tProtocol");
        w.line(2, "----\t----\t--------");
        for p in ss["ports"].as_array().into_iter().flatten() {
            let name = p["name"].as_str().unwrap_or("<unset>");
            w.line(2, &format!("{name}\t{}\t{}", p["port"], s(&p["protocol"])));
        }
        w.line(0, "");
    }
    w.line(0, "Events:\t<none>");
    w.finish()
}

/// kubectl's describeDeployment, of what the Deployment's pods show.
fn deployment(d: &Workload) -> String {
    let o = d.deployment_object();
    let mut w = Writer::new();
    w.line(0, &format!("Name:\t{}", d.name));
    w.line(0, &format!("Namespace:\t{}", d.namespace));
    w.line(
        0,
        &format!("CreationTimestamp:\t{}", rfc1123z(d.created_ms)),
    );
    w.labels("Labels", &map_of(&o["metadata"]["labels"]));
    w.annotations("Annotations", &map_of(&o["metadata"]["annotations"]));
    w.line(
        0,
        &format!("Selector:\t{}", label_selector(&o["spec"]["selector"])),
    );
    let available = d.ready.min(d.replicas);
    w.line(
        0,
        &format!(
            "Replicas:\t{} desired | {} updated | {} total | {available} available | {} unavailable",
            d.replicas,
            d.updated,
            d.total,
            d.replicas.saturating_sub(available)
        ),
    );
    let strategy = d.strategy();
    w.line(0, &format!("StrategyType:\t{}", s(&strategy["type"])));
    w.line(
        0,
        &format!(
            "MinReadySeconds:\t{}",
            o["spec"]["minReadySeconds"].as_i64().unwrap_or(0)
        ),
    );
    if strategy["rollingUpdate"].is_object() {
        let q = |v: &Value| match v {
            Value::String(t) => t.clone(),
            other => other.to_string(),
        };
        w.line(
            0,
            &format!(
                "RollingUpdateStrategy:\t{} max unavailable, {} max surge",
                q(&strategy["rollingUpdate"]["maxUnavailable"]),
                q(&strategy["rollingUpdate"]["maxSurge"])
            ),
        );
    }
    template(&mut w, &d.template);
    w.line(0, "Conditions:");
    w.line(1, "Type\tStatus\tReason");
    w.line(1, "----\t------\t------");
    let (status, reason) = if available >= d.replicas {
        ("True", "MinimumReplicasAvailable")
    } else {
        ("False", "MinimumReplicasUnavailable")
    };
    w.line(1, &format!("Available \t{status}\t{reason}"));
    let progressing = if d.old.is_empty() {
        "NewReplicaSetAvailable"
    } else {
        "ReplicaSetUpdated"
    };
    w.line(1, &format!("Progressing \tTrue\t{progressing}"));
    let old: Vec<String> = d
        .old
        .iter()
        .map(|(hash, n)| format!("{}-{hash} ({n}/0 replicas created)", d.name))
        .collect();
    w.line(
        0,
        &format!(
            "OldReplicaSets:\t{}",
            if old.is_empty() {
                "<none>".to_string()
            } else {
                old.join(", ")
            }
        ),
    );
    w.line(
        0,
        &format!(
            "NewReplicaSet:\t{} ({}/{} replicas created)",
            d.replica_set(),
            d.updated,
            d.replicas
        ),
    );
    w.0.push(&events::table(&d.events, std::time::SystemTime::now()));
    w.finish()
}

/// kubectl's DescribePodTemplate.
fn template(w: &mut Writer, t: &Value) {
    w.line(0, "Pod Template:");
    w.labels("  Labels", &map_of(&t["metadata"]["labels"]));
    let annotations = map_of(&t["metadata"]["annotations"]);
    if !annotations.is_empty() {
        w.0.push("  ");
        w.annotations("Annotations", &annotations);
    }
    let spec = &t["spec"];
    if let Some(sa) = spec["serviceAccountName"]
        .as_str()
        .filter(|s| !s.is_empty())
    {
        w.line(1, &format!("Service Account:\t{sa}"));
    }
    let containers = spec["containers"].as_array().cloned().unwrap_or_default();
    w.line(
        0,
        &format!(
            "  Containers:{}",
            if containers.is_empty() { " <none>" } else { "" }
        ),
    );
    for c in &containers {
        container(w, c, "  ", None);
    }
    volumes(w, spec, "  ");
    spread(w, spec, "  ");
    w.labels("  Node-Selectors", &map_of(&spec["nodeSelector"]));
    let tols = spec["tolerations"].as_array().cloned().unwrap_or_default();
    w.0.push("  Tolerations:\t");
    if tols.is_empty() {
        w.0.push("<none>\n");
    } else {
        for (i, t) in tols.iter().enumerate() {
            if i > 0 {
                w.0.push("  \t");
            }
            w.0.push(&format!("{}:{}\n", s(&t["key"]), s(&t["effect"])));
        }
    }
}

/// kubectl's ReplicaSet describer.
fn replicaset(d: &Workload, pods: &[PodView]) -> String {
    let o = d.replica_set_object();
    let mut w = Writer::new();
    w.line(0, &format!("Name:\t{}", d.replica_set()));
    w.line(0, &format!("Namespace:\t{}", d.namespace));
    w.line(
        0,
        &format!("Selector:\t{}", label_selector(&o["spec"]["selector"])),
    );
    w.labels("Labels", &map_of(&o["metadata"]["labels"]));
    w.annotations("Annotations", &map_of(&o["metadata"]["annotations"]));
    w.line(0, &format!("Controlled By:\tDeployment/{}", d.name));
    w.line(
        0,
        &format!("Replicas:\t{} current / {} desired", d.updated, d.replicas),
    );
    let mine = pods
        .iter()
        .filter(|p| replica_set(p).as_deref() == Some(&d.replica_set()));
    let (mut running, mut waiting) = (0, 0);
    for p in mine {
        match pod_phase(p.phase) {
            "Running" => running += 1,
            _ => waiting += 1,
        }
    }
    w.line(
        0,
        &format!("Pods Status:\t{running} Running / {waiting} Waiting / 0 Succeeded / 0 Failed"),
    );
    let mut t = d.template.clone();
    t["metadata"]["labels"][crate::manifest::POD_TEMPLATE_HASH] = Value::String(d.hash.clone());
    template(&mut w, &t);
    let recorded = d.replica_set_events.get(&d.replica_set());
    w.0.push(&events::table(
        recorded.map_or(&[][..], Vec::as_slice),
        std::time::SystemTime::now(),
    ));
    w.finish()
}

/// kubectl's generic describer of a custom resource: Name, Namespace, Labels, Annotations, then
/// every other field sorted, keys as `smartLabelFor` spells them, nested two spaces a level.
fn generic(p: &StoredPolicy) -> String {
    let o = super::output::policy_object(p);
    let mut w = Writer::new();
    w.line(0, &format!("Name:\t{}", p.name));
    w.line(0, &format!("Namespace:\t{}", p.namespace));
    w.labels("Labels", &map_of(&o["metadata"]["labels"]));
    w.annotations("Annotations", &map_of(&o["metadata"]["annotations"]));
    if let Value::Object(m) = &o {
        unstructured(&mut w, 0, m, "");
    }
    w.line(0, "Events:\t<none>");
    w.finish()
}

const SKIPPED: &[&str] = &[
    ".metadata.managedFields",
    ".metadata.name",
    ".metadata.namespace",
    ".metadata.labels",
    ".metadata.annotations",
];

fn unstructured(
    w: &mut Writer,
    level: usize,
    content: &serde_json::Map<String, Value>,
    prefix: &str,
) {
    let mut fields: Vec<&String> = content.keys().collect();
    fields.sort();
    for field in fields {
        let path = format!("{prefix}.{field}");
        if SKIPPED.contains(&path.as_str()) {
            continue;
        }
        match &content[field] {
            Value::Object(m) => {
                w.line(level, &format!("{}:", smart_label(field)));
                unstructured(w, level + 1, m, &path);
            }
            Value::Array(items) => {
                w.line(level, &format!("{}:", smart_label(field)));
                for item in items {
                    match item {
                        Value::Object(m) => unstructured(w, level + 1, m, &path),
                        other => w.line(level + 1, &go_value(other)),
                    }
                }
            }
            other => w.line(
                level,
                &format!("{}:\t{}", smart_label(field), go_value(other)),
            ),
        }
    }
}

/// `%v` of an unstructured value.
fn go_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "<nil>".into(),
        Value::Array(a) => format!("[{}]", a.iter().map(go_value).collect::<Vec<_>>().join(" ")),
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{k}:{}", go_value(&m[*k])))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
        other => other.to_string(),
    }
}

/// kubectl's smartLabelFor: a key of letters and `-` split at its camel case humps (fatih's
/// camelcase), each part title-cased or an upper-cased acronym, joined by spaces; any other key
/// (`app.kubernetes.io/name`, `k8s:app`) as it is.
pub fn smart_label(field: &str) -> String {
    if field.chars().any(|c| !c.is_alphabetic() && c != '-') {
        return field.to_string();
    }
    const ACRONYMS: &[&str] = &["API", "URL", "UID", "OSB", "GUID"];
    camel_split(field)
        .into_iter()
        .filter(|p| p != "_")
        .map(|p| {
            let upper = p.to_uppercase();
            if ACRONYMS.contains(&upper.as_str()) {
                upper
            } else {
                let mut c = p.chars();
                match c.next() {
                    Some(f) => f.to_uppercase().chain(c).collect(),
                    None => String::new(),
                }
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// fatih/camelcase.Split: runs of lower, upper, digit and other characters, with an upper run's
/// last letter moved to the lower run after it (`PDFLoader` -> `PDF`, `Loader`).
fn camel_split(s: &str) -> Vec<String> {
    fn class(c: char) -> u8 {
        if c.is_lowercase() {
            1
        } else if c.is_uppercase() {
            2
        } else if c.is_numeric() {
            3
        } else {
            4
        }
    }
    let mut runs: Vec<Vec<char>> = Vec::new();
    let mut last = 0;
    for c in s.chars() {
        let k = class(c);
        if k == last
            && let Some(r) = runs.last_mut()
        {
            r.push(c);
        } else {
            runs.push(vec![c]);
        }
        last = k;
    }
    for i in 0..runs.len().saturating_sub(1) {
        if runs[i].first().is_some_and(|c| c.is_uppercase())
            && runs[i + 1].first().is_some_and(|c| c.is_lowercase())
            && let Some(moved) = runs[i].pop()
        {
            runs[i + 1].insert(0, moved);
        }
    }
    runs.into_iter()
        .filter(|r| !r.is_empty())
        .map(|r| r.into_iter().collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectls_labels_and_dates() {
        assert_eq!(smart_label("endpointSelector"), "Endpoint Selector");
        assert_eq!(smart_label("creationTimestamp"), "Creation Timestamp");
        assert_eq!(smart_label("uid"), "UID");
        assert_eq!(smart_label("apiVersion"), "API Version");
        assert_eq!(smart_label("toPorts"), "To Ports");
        assert_eq!(smart_label("class"), "Class");
        assert_eq!(
            smart_label("app.kubernetes.io/name"),
            "app.kubernetes.io/name"
        );
        assert_eq!(smart_label("PDFLoader"), "PDF Loader");
        assert_eq!(rfc1123z(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(
            rfc1123z(1_733_112_000_000),
            "Mon, 02 Dec 2024 04:00:00 +0000"
        );
    }
}
