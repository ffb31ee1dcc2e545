//! One run: the workers (one per connection, all running the same loop), the collector, and
//! the report at the end.
//!
//! The worker loop is the only loop: the [`Schedule`] decides whether and when the next request
//! starts (closed or open model, duration or count, warm-up), so flags never multiply loops.

use std::future::Future;
use std::io::Write as _;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use frota::{Failure, Mix, Outcome};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc};
use tokio::time::{Duration, Instant};

use crate::backoff::Backoff;
use crate::client::{Answer, ClientError, Conn, ErrorKind};
use crate::collector::{SAMPLE_BATCH, SAMPLE_MAX_AGE, collect};
use crate::metrics::{LiveMetrics, MetricsError};
use crate::plan::{Model, Plan, Stop};
use crate::report::{Report, progress_line};
use crate::sample::Sample;
use crate::schedule::{LATE_AFTER, Schedule};
use crate::target::{Target, TargetError};

/// How late tokio's timer may fire (its wheel's tick).
const TIMER_RESOLUTION: Duration = Duration::from_millis(1);

/// Sample batches waiting for the collector; workers wait when it is full, so memory stays
/// bounded.
const CHANNEL: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error(transparent)]
    Metrics(#[from] MetricsError),
}

/// What a run does besides loading.
#[derive(Default)]
pub struct RunOptions {
    /// When this completes (e.g. on Ctrl-C), no new request starts; those in flight finish and
    /// the report covers what was done.
    pub interrupt: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    /// Redraw a progress line on stderr once a second (for a terminal).
    pub progress: bool,
    /// Serve the live Prometheus counters on this listener during the run.
    pub metrics: Option<TcpListener>,
}

struct Shared {
    schedule: Schedule,
    target: Target,
    addr: SocketAddr,
    mix: Mix,
    timeout: Duration,
    keepalive: bool,
    open: bool,
    /// Measured requests in flight at the deadline.
    abandoned: AtomicU64,
    /// Wakes the workers waiting out a connect back-off when the run is stopped early.
    stopped: Notify,
}

/// Run the plan to its end and return the report.
pub async fn run(plan: &Plan, opts: RunOptions) -> Result<Report, RunError> {
    let addr = plan.target.resolve().await?;
    let live = LiveMetrics::new()?;
    let server = opts.metrics.map(|l| {
        // Serves until the task is aborted at the end of the run.
        let registry = live.registry().clone();
        tokio::spawn(frota::admin::serve(l, registry, std::future::pending()))
    });

    let start = Instant::now();
    let shared = Arc::new(Shared {
        schedule: Schedule::new(plan.model, plan.stop, plan.warmup, start),
        target: plan.target.clone(),
        addr,
        mix: plan.mix.clone(),
        timeout: plan.timeout,
        keepalive: plan.keepalive,
        open: matches!(plan.model, Model::Open { .. }),
        abandoned: AtomicU64::new(0),
        stopped: Notify::new(),
    });
    // Before the workers, so that the signal handlers are in place once requests flow.
    let interrupter = opts.interrupt.map(|interrupt| {
        let shared = shared.clone();
        tokio::spawn(async move {
            interrupt.await;
            shared.schedule.stop();
            shared.stopped.notify_waiters();
        })
    });
    let (tx, rx) = mpsc::channel(CHANNEL);
    let workers: Vec<_> = (0..plan.model.connections())
        .map(|id| tokio::spawn(worker(id as u64, shared.clone(), tx.clone())))
        .collect();
    drop(tx);

    let measure_from = shared.schedule.measure_from();
    let show = opts.progress;
    let tally = collect(rx, Some(live), |t| {
        if show {
            let line = progress_line(t, Instant::now().saturating_duration_since(measure_from));
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r{line}\x1b[K");
            let _ = err.flush();
        }
    })
    .await;
    for w in workers {
        // A worker only ends by returning; a panic would already have aborted (panic=abort).
        let _ = w.await;
    }
    if show {
        eprintln!();
    }
    if let Some(server) = server {
        server.abort();
    }
    if let Some(task) = interrupter {
        task.abort();
    }
    let interrupted = shared.schedule.stopped();
    let elapsed = match plan.stop {
        Stop::After(d) if interrupted => Instant::now()
            .saturating_duration_since(measure_from)
            .min(d),
        Stop::After(d) => d,
        Stop::Requests(_) => tally.last_done.map_or(Duration::ZERO, |t| {
            t.saturating_duration_since(measure_from)
        }),
    };
    let abandoned = shared.abandoned.load(Ordering::Relaxed);
    let mut report = Report::new(plan, &tally, elapsed, abandoned);
    report.interrupted = interrupted;
    Ok(report)
}

async fn exchange(
    conn: &mut Option<Conn>,
    addr: SocketAddr,
    request: &[u8],
) -> Result<Answer, ClientError> {
    let c = match conn {
        Some(c) => c,
        None => conn.insert(Conn::connect(addr).await?),
    };
    c.exchange(request).await
}

/// Wait out a connect back-off: until `until`, the end of a timed run, or an early stop,
/// whichever comes first.
async fn back_off(sh: &Shared, until: Instant) {
    let until = sh.schedule.deadline().map_or(until, |d| d.min(until));
    let stopped = sh.stopped.notified();
    tokio::pin!(stopped);
    // Registered before the check, so that a stop between the two still wakes us.
    stopped.as_mut().enable();
    if sh.schedule.stopped() {
        return;
    }
    tokio::select! {
        () = tokio::time::sleep_until(until) => {}
        () = stopped => {}
    }
}

/// A worker's samples not yet sent to the collector.
struct Outbox {
    tx: mpsc::Sender<Vec<Sample>>,
    batch: Vec<Sample>,
    oldest: Option<Instant>,
}

impl Outbox {
    /// Queue a sample; false when the collector is gone.
    async fn push(&mut self, s: Sample) -> bool {
        let oldest = *self.oldest.get_or_insert(s.done_at);
        self.batch.push(s);
        if self.batch.len() >= SAMPLE_BATCH
            || s.done_at.saturating_duration_since(oldest) >= SAMPLE_MAX_AGE
        {
            return self.flush().await;
        }
        true
    }

    async fn flush(&mut self) -> bool {
        self.oldest = None;
        if self.batch.is_empty() {
            return true;
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(SAMPLE_BATCH));
        self.tx.send(batch).await.is_ok()
    }
}

/// The worker loop: one connection, one request at a time, until the schedule says stop.
async fn worker(id: u64, sh: Arc<Shared>, tx: mpsc::Sender<Vec<Sample>>) {
    let mut conn: Option<Conn> = None;
    let mut backoff = Backoff::default();
    let mut out = Outbox {
        tx,
        batch: Vec::with_capacity(SAMPLE_BATCH),
        oldest: None,
    };
    // Independent streams per worker; reproducibility across runs is not needed.
    let mut rng = SmallRng::seed_from_u64(id.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5eed);
    let weights = sh.mix.total_weight();
    let deadline = sh.schedule.deadline();
    // One timer per worker, moved lazily: registering a timer per request costs more than the
    // request. It may fire before a request's give-up time (it was set for an earlier request);
    // then it is moved to that time and the request goes on.
    let timer = tokio::time::sleep_until(Instant::now() + sh.timeout);
    tokio::pin!(timer);
    loop {
        let mut now = Instant::now();
        let Some(slot) = sh.schedule.next(now) else {
            break;
        };
        if sh.open && slot.due > now {
            if slot.due.saturating_duration_since(now) > SAMPLE_MAX_AGE / 10 && !out.flush().await {
                return;
            }
            // Tokio's timer wakes up to about a millisecond after its deadline; aiming that much
            // early centres the real start on the due time instead of always after it.
            if let Some(aim) = slot.due.checked_sub(TIMER_RESOLUTION)
                && aim > now
            {
                tokio::time::sleep_until(aim).await;
            }
            now = Instant::now();
        }
        let started = now;
        let late = started.saturating_duration_since(slot.due) > LATE_AFTER;
        let kind = sh.mix.pick(rng.random_range(0..weights));
        let mut give_up = started + sh.timeout;
        let mut cut = false;
        if let Some(d) = deadline
            && d < give_up
        {
            give_up = d;
            cut = true;
        }
        if timer.deadline() > give_up {
            timer.as_mut().reset(give_up);
        }
        let result = {
            let exchange = exchange(&mut conn, sh.addr, sh.target.request(kind));
            tokio::pin!(exchange);
            loop {
                tokio::select! {
                    biased;
                    r = &mut exchange => break Some(r),
                    () = &mut timer => {
                        if Instant::now() >= give_up {
                            break None;
                        }
                        timer.as_mut().reset(give_up);
                    }
                }
            }
        };
        let done_at = Instant::now();
        let (outcome, error) = match result {
            Some(Ok(answer)) => {
                if !answer.reusable || !sh.keepalive {
                    conn = None;
                }
                (answer.outcome(), None)
            }
            Some(Err(e)) => {
                conn = None;
                (Outcome::from_failure(e.failure()), Some(e.kind()))
            }
            None if cut => {
                // The run ended while this request was in flight: it has no outcome.
                if slot.recorded {
                    sh.abandoned.fetch_add(1, Ordering::Relaxed);
                }
                break;
            }
            None => {
                conn = None;
                (
                    Outcome::from_failure(Failure::Timeout),
                    Some(ErrorKind::Timeout),
                )
            }
        };
        let sample = Sample {
            kind,
            outcome,
            error,
            // From the due time, or from the real start when that came first: never shorter
            // than the exchange itself.
            latency: done_at.saturating_duration_since(slot.due.min(started)),
            late,
            recorded: slot.recorded,
            done_at,
        };
        if !out.push(sample).await {
            return;
        }
        match error {
            Some(ErrorKind::Connect) => {
                // Nothing to measure until a connect succeeds; show what was seen so far.
                let wait = backoff.failed(rng.random());
                if !out.flush().await {
                    return;
                }
                back_off(&sh, Instant::now() + wait).await;
                // The open model still hands out slots due before the deadline; one taken at
                // the deadline could only be abandoned.
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
            }
            // No answer in time: the connect may be what hangs, so this neither backs off more
            // nor starts over.
            Some(ErrorKind::Timeout) => {}
            _ => backoff.reset(),
        }
    }
    out.flush().await;
}
