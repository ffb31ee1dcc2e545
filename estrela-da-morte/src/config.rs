//! Command-line and environment configuration of the Death Star, plus the defaults that code
//! (tests, galaxia) uses through `Config::default()` without reading the process environment.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Parser, ValueEnum};

/// Upstream's image listens on port 80 of every interface; a pod needs exactly that.
pub const DEFAULT_PORT: u16 = 80;
/// Prometheus' conventional port: probes and scrapes never touch the demo port.
pub const DEFAULT_ADMIN_PORT: u16 = 9090;
/// Upstream's process dies about two seconds after the exhaust port is hit.
pub const DEFAULT_EXPLODE_AFTER: Duration = Duration::from_secs(2);
/// Long enough for kube-proxy/Cilium to drop a terminating pod from the Service endpoints.
pub const DEFAULT_DRAIN: Duration = Duration::from_secs(5);
/// Bound on how long requests still in flight after the drain may take before they are cut.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);
/// Slowloris bound; hyper also applies it to an idle keep-alive connection waiting for its next request.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// No route of the API needs a body; 1 MiB is generous for clients that send one anyway.
pub const DEFAULT_MAX_BODY: u64 = 1024 * 1024;
/// A whole body (at most `DEFAULT_MAX_BODY`) must arrive this long after its head: 100 kB/s is
/// slow for any real client, and the bound keeps stalled uploads from holding connections forever.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Demo connections (TCP and in-process together) served at once. A demo connection costs 12 to
/// 17 kB of memory, about 23 kB while a head near the server's 16 KiB limit is buffered, so 1024
/// of them stay well inside the manifests' 64 Mi limit (28 MB measured, idle RSS included).
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Admin connections served at once: the kubelet's probes and a Prometheus scrape need a few, and
/// a pool of their own keeps them reachable while the demo port is flooded.
pub const DEFAULT_MAX_ADMIN_CONNECTIONS: usize = 32;

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// JSON when stderr is not a terminal (a container), human-readable on a terminal.
    Auto,
    /// One JSON object a line.
    Json,
    /// Human-readable text.
    Text,
}

/// The Death Star: Cilium's Star Wars demo server, wire-compatible with quay.io/cilium/starwars:v2.1.
///
/// The demo API (GET /v1, POST /v1/request-landing, PUT /v1/exhaust-port) is served on --host:--port;
/// /healthz, /readyz and /metrics on --host:--admin-port, so that the demo API stays identical to
/// upstream's.
#[derive(Debug, Clone, Parser)]
#[command(name = "estrela-da-morte", version)]
pub struct Config {
    /// Address to listen on, for both the demo API and the admin port.
    #[arg(long, env = "HOST", default_value_t = IpAddr::V4(Ipv4Addr::UNSPECIFIED))]
    pub host: IpAddr,

    /// Port of the demo API (0 picks a free port, shown in the start-up log line).
    #[arg(long, env = "PORT", default_value_t = DEFAULT_PORT)]
    pub port: u16,

    /// Port of /healthz, /readyz and /metrics (0 picks a free port).
    #[arg(long, env = "ADMIN_PORT", default_value_t = DEFAULT_ADMIN_PORT)]
    pub admin_port: u16,

    /// Name shown as "hostname" by GET /v1 (Kubernetes sets HOSTNAME to the pod name); when
    /// absent, the system hostname read once at start.
    #[arg(long, env = "HOSTNAME")]
    pub hostname: Option<String>,

    /// Delay between a PUT /v1/exhaust-port and the explosion (exit status 2). Readiness fails at
    /// once; landings are still answered during the delay, as upstream's dying process does.
    #[arg(long, env = "EXPLODE_AFTER", default_value = "2s", value_parser = humantime::parse_duration)]
    pub explode_after: Duration,

    /// Answer PUT /v1/exhaust-port with the panic text but never explode: for load tests.
    #[arg(long, env = "NO_EXPLOSIONS", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    pub no_explosions: bool,

    /// On SIGTERM/SIGINT, keep accepting new connections this long (readiness already failing)
    /// before closing the listeners. It exists because kube-proxy and Cilium keep sending new
    /// connections to a terminating pod for a moment, until the endpoint removal has reached
    /// every node; closing at once would refuse those clients.
    #[arg(long, env = "DRAIN", default_value = "5s", value_parser = humantime::parse_duration)]
    pub drain: Duration,

    /// After the drain, how long requests still in flight may take before connections are cut.
    #[arg(long, env = "GRACE", default_value = "10s", value_parser = humantime::parse_duration)]
    pub grace: Duration,

    /// Slowloris and idle keep-alive bound: a connection that completes no request head and has
    /// nothing in progress for a whole period is closed (after one to two periods). 0s disables.
    #[arg(long, env = "HEADER_READ_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub header_read_timeout: Duration,

    /// Largest request body accepted, in bytes (larger: 413).
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = DEFAULT_MAX_BODY)]
    pub max_body_bytes: u64,

    /// A request body must have arrived whole this long after its head, else the answer is 408
    /// and the connection is closed (stalled uploads, chunked bodies that stop, a client that
    /// sent Expect: 100-continue and then nothing). 0s disables.
    #[arg(long, env = "BODY_READ_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub body_read_timeout: Duration,

    /// Demo connections (the demo port and in-process ones together) served at once; over it a
    /// new connection is accepted and closed at once, as nginx and Envoy do. Lowered at start
    /// when the open-files limit could not hold it next to the admin connections.
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS, value_parser = at_least_one)]
    pub max_connections: usize,

    /// Admin connections served at once, a pool separate from the demo port's so that probes and
    /// scrapes still get through when the demo port is flooded.
    #[arg(long, env = "MAX_ADMIN_CONNECTIONS", default_value_t = DEFAULT_MAX_ADMIN_CONNECTIONS, value_parser = at_least_one)]
    pub max_admin_connections: usize,

    /// Log every request (also on at --log-level debug).
    #[arg(long, env = "ACCESS_LOG", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    pub access_log: bool,

    /// Log line format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Auto)]
    pub log_format: LogFormat,

    /// Log level, or a targets list such as "warn,estrela_da_morte=debug".
    #[arg(long, env = "LOG_LEVEL", default_value = "info")]
    pub log_level: String,

    /// Tokio worker threads (default: one per CPU).
    #[arg(long, env = "WORKER_THREADS")]
    pub worker_threads: Option<usize>,
}

impl Default for Config {
    /// The same values as the command line without arguments, but never read from the environment.
    fn default() -> Self {
        Config {
            host: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port: DEFAULT_PORT,
            admin_port: DEFAULT_ADMIN_PORT,
            hostname: None,
            explode_after: DEFAULT_EXPLODE_AFTER,
            no_explosions: false,
            drain: DEFAULT_DRAIN,
            grace: DEFAULT_GRACE,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            max_body_bytes: DEFAULT_MAX_BODY,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_admin_connections: DEFAULT_MAX_ADMIN_CONNECTIONS,
            access_log: false,
            log_format: LogFormat::Auto,
            log_level: "info".to_owned(),
            worker_threads: None,
        }
    }
}

impl Config {
    /// Whether a PUT to the exhaust port really brings the station down.
    pub fn explosions(&self) -> bool {
        !self.no_explosions
    }
}

/// A connection cap of 0 would refuse everything: surely a mistake, so it is refused at start.
fn at_least_one(value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(error) => Err(error.to_string()),
    }
}
