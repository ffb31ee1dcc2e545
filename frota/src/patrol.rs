//! The patrol: requests forever at a jittered rate, each one accounted exactly once, in one place
//! (a log line, the metrics and the totals together), with a one-line summary every
//! `report_every`. Failures of the Death Star are outcomes, never a reason to stop; only the
//! shutdown future ends a patrol, after the requests in flight have finished.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::client::{Client, ClientConfig, ClientError, Reply};
use crate::identity::Identity;
use crate::kind::Mix;
use crate::metrics::ShipMetrics;
use crate::outcome::Outcome;

/// How a ship patrols.
#[derive(Debug, Clone)]
pub struct PatrolConfig {
    pub client: ClientConfig,
    /// Requests per second (default 1).
    pub rate: f64,
    pub mix: Mix,
    /// How much each gap between requests varies, as a fraction of the mean gap (0..=1; default
    /// 0.2), so that replicas started together do not stay in step.
    pub jitter: f64,
    /// A summary line this often; `None` for only the final one.
    pub report_every: Option<Duration>,
}

impl PatrolConfig {
    pub fn new(client: ClientConfig) -> Self {
        PatrolConfig {
            client,
            rate: 1.0,
            mix: Mix::default(),
            jitter: 0.2,
            report_every: Some(Duration::from_secs(10)),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PatrolError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("the rate must be a number of requests per second above 0, got {0}")]
    Rate(f64),
    #[error("the jitter must be between 0 and 1, got {0}")]
    Jitter(f64),
    #[error("the summary interval must be above 0")]
    ReportEvery,
}

/// Requests counted by outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatrolTotals {
    counts: BTreeMap<Outcome, u64>,
}

impl PatrolTotals {
    pub fn add(&mut self, outcome: Outcome) {
        *self.counts.entry(outcome).or_default() += 1;
    }

    pub fn get(&self, outcome: Outcome) -> u64 {
        self.counts.get(&outcome).copied().unwrap_or(0)
    }

    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    /// Outcomes seen at least once, in report order.
    pub fn iter(&self) -> impl Iterator<Item = (Outcome, u64)> + '_ {
        self.counts.iter().map(|(o, n)| (*o, *n))
    }
}

/// `landed=9 dropped=1` (`none` before the first request).
impl fmt::Display for PatrolTotals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.counts.is_empty() {
            return f.write_str("none");
        }
        for (i, (o, n)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{o}={n}")?;
        }
        Ok(())
    }
}

/// Patrol until `shutdown` resolves; returns what was sent. `metrics` may be `None` (galaxia's
/// in-process ships need no Prometheus).
pub async fn run(
    config: PatrolConfig,
    metrics: Option<ShipMetrics>,
    shutdown: impl Future<Output = ()>,
) -> Result<PatrolTotals, PatrolError> {
    if !(config.rate.is_finite() && config.rate > 0.0) {
        return Err(PatrolError::Rate(config.rate));
    }
    if !(0.0..=1.0).contains(&config.jitter) {
        return Err(PatrolError::Jitter(config.jitter));
    }
    if config.report_every == Some(Duration::ZERO) {
        return Err(PatrolError::ReportEvery);
    }
    let client = Client::new(config.client.clone())?;
    let id = client.identity().clone();
    let gap = Duration::from_secs_f64(1.0 / config.rate);
    let mut totals = PatrolTotals::default();
    let mut in_flight: JoinSet<Reply> = JoinSet::new();

    tracing::info!(
        ship = %id.name, org = %id.org, class = %id.class,
        target = %client.url(crate::RequestKind::Land),
        proxy = client.proxy().as_deref().unwrap_or("none"),
        rate = config.rate, mix = %config.mix, timeout_ms = config.client.timeout.as_millis() as u64,
        "patrol started"
    );

    // A random start inside the first gap spreads replicas that start together.
    let mut next = Instant::now() + gap.mul_f64(rand::random::<f64>());
    let report_every = config.report_every.unwrap_or(Duration::MAX);
    let mut next_report = Instant::now().checked_add(report_every);
    tokio::pin!(shutdown);
    loop {
        let report_at = next_report.unwrap_or_else(far_future);
        tokio::select! {
            _ = &mut shutdown => break,
            _ = tokio::time::sleep_until(next) => {
                let kind = config.mix.pick(rand::random_range(0..config.mix.total_weight()));
                let c = client.clone();
                in_flight.spawn(async move { c.send(kind).await });
                next += jittered(gap, config.jitter);
                // After a stall (a suspended laptop) resume the rate instead of bursting.
                let now = Instant::now();
                if next < now {
                    next = now + jittered(gap, config.jitter);
                }
            }
            Some(done) = in_flight.join_next(), if !in_flight.is_empty() => {
                account(&id, done, &mut totals, metrics.as_ref());
            }
            _ = tokio::time::sleep_until(report_at), if next_report.is_some() => {
                summary(&id, &totals, false);
                next_report = Instant::now().checked_add(report_every);
            }
        }
    }
    // Requests already sent end within the client timeout; count them before the final line.
    while let Some(done) = in_flight.join_next().await {
        account(&id, done, &mut totals, metrics.as_ref());
    }
    summary(&id, &totals, true);
    Ok(totals)
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86400 * 365)
}

fn jittered(gap: Duration, jitter: f64) -> Duration {
    let factor = 1.0 + jitter * (2.0 * rand::random::<f64>() - 1.0);
    gap.mul_f64(factor.max(0.0))
}

fn account(
    id: &Identity,
    done: Result<Reply, tokio::task::JoinError>,
    totals: &mut PatrolTotals,
    metrics: Option<&ShipMetrics>,
) {
    let reply = match done {
        Ok(r) => r,
        // A request task cannot panic short of a bug; it still counts, as an error.
        Err(e) => {
            tracing::error!(ship = %id.name, org = %id.org, class = %id.class, error = %e, "request task failed");
            totals.add(Outcome::Error);
            return;
        }
    };
    totals.add(reply.outcome);
    if let Some(m) = metrics {
        m.observe(&reply);
    }
    tracing::info!(
        ship = %id.name, org = %id.org, class = %id.class,
        kind = %reply.kind,
        outcome = %reply.outcome,
        status = reply.status,
        latency_ms = reply.latency.as_secs_f64() * 1000.0,
        error = reply.error.as_deref(),
        failure = reply.failure.map(|f| f.name()),
        "request"
    );
}

fn summary(id: &Identity, totals: &PatrolTotals, last: bool) {
    tracing::info!(
        ship = %id.name, org = %id.org, class = %id.class,
        total = totals.total(),
        counts = %totals,
        last,
        "summary"
    );
}
