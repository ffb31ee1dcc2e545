//! The command line of `loadtest`: clap checks the shapes of the flags, and [`Args::plan`] hands
//! them to [`Plan::new`], which checks how they combine (see `plan.rs`).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use frota::Mix;

use crate::failif::Condition;
use crate::plan::{Flags, Plan, PlanError};

/// Load the Death Star with the demo's requests and report what each one got.
///
/// Outcomes are the demo's own: landed, denied (Cilium's L7 403), dropped (no answer before
/// --timeout: an L3/L4 drop), exploded, http_<code>, refused, reset, error.
///
/// Exit codes: 0 the run finished and no --fail-if condition held; 1 the run could not be made
/// (name resolution, a --json path that cannot be written, metrics port failure); 2 bad command
/// line (including a URL that curl would reject, e.g. a port above 65535); 3 at least one
/// --fail-if condition held.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "loadtest", version)]
pub struct Args {
    /// The Death Star's base URL (http only; without a scheme, http:// is assumed), e.g.
    /// http://127.0.0.1:8080, 127.0.0.1:8080 or http://estrela-da-morte.default.svc.cluster.local
    #[arg(env = "LOADTEST_URL")]
    pub url: String,

    /// Connections. Closed model: each sends its next request as soon as the previous answer
    /// came back. Open model (--rate): the most requests in flight at once.
    #[arg(short = 'c', long, default_value_t = 50, env = "LOADTEST_CONNECTIONS")]
    pub connections: usize,

    /// Open model: start R requests per second on a fixed schedule (e.g. 500, 2k, 1.5k);
    /// latency counts from each request's intended start. Without it: closed model.
    #[arg(short = 'r', long, value_parser = parse_rate, env = "LOADTEST_RATE")]
    pub rate: Option<f64>,

    /// Measure for this long (e.g. 30s, 2m). Default 10s when --requests is not given.
    #[arg(short = 'd', long, value_parser = humantime::parse_duration,
          conflicts_with = "requests", env = "LOADTEST_DURATION")]
    pub duration: Option<Duration>,

    /// Measure exactly this many requests (after the warm-up), then stop.
    #[arg(short = 'n', long, env = "LOADTEST_REQUESTS")]
    pub requests: Option<u64>,

    /// Load for this long first without recording anything (connections open, caches warm).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "0s",
          env = "LOADTEST_WARMUP")]
    pub warmup: Duration,

    /// Which requests, with weights: land (POST /v1/request-landing), info (GET /v1),
    /// exhaust (PUT /v1/exhaust-port), e.g. land=8,info=1,exhaust=1.
    #[arg(long, default_value = "land", env = "LOADTEST_MIX")]
    pub mix: Mix,

    /// A request with no whole answer within this time is `dropped`.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "5s",
          env = "LOADTEST_TIMEOUT")]
    pub timeout: Duration,

    /// Send this Host header instead of the URL's authority.
    #[arg(long, env = "LOADTEST_HOST")]
    pub host: Option<String>,

    /// Send every request through this HTTP proxy (absolute-form request targets), e.g. a
    /// galaxia pod's egress proxy: http://127.0.0.1:PORT (or 127.0.0.1:PORT)
    #[arg(long, env = "LOADTEST_PROXY")]
    pub proxy: Option<String>,

    /// Open a new connection for every request (`Connection: close`).
    #[arg(long, env = "LOADTEST_NO_KEEPALIVE")]
    pub no_keepalive: bool,

    /// Runtime threads (default: the number of CPUs).
    #[arg(long, env = "LOADTEST_THREADS")]
    pub threads: Option<usize>,

    /// Also write the whole report, histogram included, as JSON to this file.
    #[arg(long, env = "LOADTEST_JSON")]
    pub json: Option<PathBuf>,

    /// Serve live Prometheus counters at /metrics on this port during the run (0: any free port,
    /// printed on stderr).
    #[arg(long, env = "LOADTEST_PROMETHEUS_PORT")]
    pub prometheus_port: Option<u16>,

    /// The address --prometheus-port listens on (0.0.0.0 inside a pod, to be scraped).
    #[arg(long, default_value = "127.0.0.1", env = "LOADTEST_PROMETHEUS_BIND")]
    pub prometheus_bind: IpAddr,

    /// Exit with status 3 when this holds at the end, e.g. 'p99>50ms', 'dropped>0',
    /// 'landed<1000', 'denied>=1%', 'rate<500', 'late>0'. May be repeated.
    #[arg(
        long = "fail-if",
        value_name = "CONDITION",
        env = "LOADTEST_FAIL_IF",
        value_delimiter = ','
    )]
    pub fail_if: Vec<Condition>,

    /// Never print the live progress line (it is only printed when stderr is a terminal).
    #[arg(long)]
    pub no_progress: bool,
}

impl Args {
    /// Check how the flags combine and build the plan.
    pub fn plan(&self) -> Result<Plan, PlanError> {
        Plan::new(&Flags {
            url: &self.url,
            connections: self.connections,
            rate: self.rate,
            duration: self.duration,
            requests: self.requests,
            warmup: self.warmup,
            mix: &self.mix,
            timeout: self.timeout,
            host: self.host.as_deref(),
            proxy: self.proxy.as_deref(),
            keepalive: !self.no_keepalive,
            threads: self.threads,
        })
    }
}

/// `500`, `2k`, `1.5k`, `1m` (a million) requests per second.
pub fn parse_rate(s: &str) -> Result<f64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, 'k' | 'K')) => (&s[..i], 1e3),
        Some((i, 'm' | 'M')) => (&s[..i], 1e6),
        _ => (s, 1.0),
    };
    let n: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a rate: use e.g. 500, 2k or 1.5k"))?;
    let rate = n * mult;
    if rate.is_finite() && rate > 0.0 {
        Ok(rate)
    } else {
        Err(format!("{s:?}: the rate must be above 0"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::plan::{DEFAULT_DURATION, Model, Stop};
    use clap::Parser;

    fn plan(args: &[&str]) -> Result<Plan, PlanError> {
        let mut v = vec!["loadtest"];
        v.extend_from_slice(args);
        Args::try_parse_from(v).unwrap().plan()
    }

    #[test]
    fn rates_take_suffixes() {
        assert_eq!(parse_rate("500"), Ok(500.0));
        assert_eq!(parse_rate("2k"), Ok(2000.0));
        assert_eq!(parse_rate("1.5K"), Ok(1500.0));
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("fast").is_err());
    }

    #[test]
    fn flags_become_one_model_and_stop() {
        let p = plan(&["http://127.0.0.1:1"]).unwrap();
        assert_eq!(p.model, Model::Closed { connections: 50 });
        assert_eq!(p.stop, Stop::After(DEFAULT_DURATION));
        let p = plan(&["http://127.0.0.1:1", "-r", "2k", "-c", "8", "-n", "100"]).unwrap();
        assert_eq!(
            p.model,
            Model::Open {
                rate: 2000.0,
                connections: 8
            }
        );
        assert_eq!(p.stop, Stop::Requests(100));
    }

    #[test]
    fn rejects_bad_combinations() {
        assert!(matches!(
            plan(&["http://127.0.0.1:1", "-c", "0"]),
            Err(PlanError::NoConnections)
        ));
        assert!(matches!(
            plan(&["http://127.0.0.1:1", "-n", "0"]),
            Err(PlanError::NoRequests)
        ));
        assert!(
            Args::try_parse_from(["loadtest", "http://x", "-n", "5", "-d", "1s"]).is_err(),
            "--requests and --duration conflict"
        );
        assert!(matches!(
            plan(&["https://127.0.0.1:1"]),
            Err(PlanError::Target(_))
        ));
    }
}
