//! The final report (what `--json` writes, field for field) and the printer that renders it
//! and the live progress line for people.
//!
//! Counts are keyed by the typed [`Outcome`], [`RequestKind`] and [`ErrorKind`]; they serialize
//! and print by their names, sorted by name, so the JSON stays a map from name to figure
//! (`report.schema.json` pins its shape).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use frota::{Outcome, RequestKind};
use serde::{Serialize, Serializer};

use crate::backoff;
use crate::client::ErrorKind;
use crate::collector::{HIST_DIGITS, HIST_MAX_US, Tally};
use crate::plan::{Model, Plan, Stop};
use crate::schedule::LATE_AFTER;

/// A map key written by its name: the names are the contract (metrics labels, `--fail-if`,
/// the JSON), while the enums' own order is not alphabetical.
pub trait Named {
    fn key_name(&self) -> Cow<'static, str>;
}

impl Named for Outcome {
    fn key_name(&self) -> Cow<'static, str> {
        self.name()
    }
}

impl Named for RequestKind {
    fn key_name(&self) -> Cow<'static, str> {
        Cow::Borrowed(self.name())
    }
}

impl Named for ErrorKind {
    fn key_name(&self) -> Cow<'static, str> {
        Cow::Borrowed(self.name())
    }
}

/// The entries of a map by name, in name order (how the JSON and the printer list them).
pub fn by_name<K: Named, V>(map: &BTreeMap<K, V>) -> Vec<(Cow<'static, str>, &V)> {
    let mut entries: Vec<_> = map.iter().map(|(k, v)| (k.key_name(), v)).collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries
}

/// Serializes a typed map as a JSON object keyed by name.
struct ByName<'a, K, V>(&'a BTreeMap<K, V>);

impl<K: Named, V: Serialize> Serialize for ByName<'_, K, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(by_name(self.0))
    }
}

fn named_map<K: Named, V: Serialize, S: Serializer>(
    map: &BTreeMap<K, V>,
    s: S,
) -> Result<S::Ok, S::Error> {
    ByName(map).serialize(s)
}

fn named_nested<K: Named, K2: Named, V: Serialize, S: Serializer>(
    map: &BTreeMap<K, BTreeMap<K2, V>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_map(
        by_name(map)
            .into_iter()
            .map(|(name, inner)| (name, ByName(inner))),
    )
}

/// Latency figures in milliseconds (fractional).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Latency {
    pub min_ms: f64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p99_9_ms: f64,
    pub max_ms: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OutcomeCount {
    pub count: u64,
    pub per_second: f64,
    pub share: f64,
}

/// One histogram bucket: `count` latencies at most `le_us` microseconds and above the
/// previous bucket's bound.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Bucket {
    pub le_us: u64,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HistogramDump {
    pub unit: &'static str,
    pub lowest: u64,
    pub highest: u64,
    pub significant_digits: u8,
    pub buckets: Vec<Bucket>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub url: String,
    pub connect_to: String,
    pub via_proxy: bool,
    /// `closed` or `open`.
    pub model: &'static str,
    pub connections: usize,
    pub keepalive: bool,
    pub mix: String,
    pub timeout_ms: f64,
    pub warmup_s: f64,
    /// `--duration` in seconds, when the run was timed.
    pub duration_s: Option<f64>,
    /// `--requests`, when the run was counted.
    pub requests_asked: Option<u64>,
    /// The measured part's length: to the deadline, or to the last answer.
    pub elapsed_s: f64,
    pub requests: u64,
    pub warmup_requests: u64,
    /// Requests in flight at the deadline, abandoned and counted nowhere else.
    pub abandoned: u64,
    /// The run was stopped early (Ctrl-C / SIGTERM).
    pub interrupted: bool,
    pub requested_rate: Option<f64>,
    pub achieved_rate: f64,
    /// Open model: requests started more than `late_after_ms` after their due time.
    pub late: u64,
    pub late_after_ms: f64,
    pub latency: Latency,
    #[serde(serialize_with = "named_map")]
    pub outcomes: BTreeMap<Outcome, OutcomeCount>,
    #[serde(serialize_with = "named_nested")]
    pub by_kind: BTreeMap<RequestKind, BTreeMap<Outcome, u64>>,
    /// Requests with no HTTP answer, by error kind.
    #[serde(serialize_with = "named_map")]
    pub errors: BTreeMap<ErrorKind, u64>,
    pub histogram: HistogramDump,
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

impl Report {
    pub fn new(plan: &Plan, tally: &Tally, elapsed: Duration, abandoned: u64) -> Report {
        let h = &tally.latency_us;
        let q = |q: f64| {
            if h.is_empty() {
                0.0
            } else {
                ms(h.value_at_quantile(q))
            }
        };
        let secs = elapsed.as_secs_f64();
        let per_second = |n: u64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
        let share = |n: u64| {
            if tally.total > 0 {
                n as f64 / tally.total as f64
            } else {
                0.0
            }
        };
        let outcomes = tally
            .outcomes
            .iter()
            .map(|(&o, &n)| {
                (
                    o,
                    OutcomeCount {
                        count: n,
                        per_second: per_second(n),
                        share: share(n),
                    },
                )
            })
            .collect();
        let buckets = h
            .iter_recorded()
            .map(|v| Bucket {
                le_us: h.highest_equivalent(v.value_iterated_to()),
                count: v.count_at_value(),
            })
            .collect();
        let (model, requested_rate) = match plan.model {
            Model::Closed { .. } => ("closed", None),
            Model::Open { rate, .. } => ("open", Some(rate)),
        };
        Report {
            url: format!("http://{}", plan.target.authority()),
            connect_to: plan.target.connect_to().to_string(),
            via_proxy: plan.target.via_proxy(),
            model,
            connections: plan.model.connections(),
            keepalive: plan.keepalive,
            mix: plan.mix.to_string(),
            timeout_ms: plan.timeout.as_secs_f64() * 1000.0,
            warmup_s: plan.warmup.as_secs_f64(),
            duration_s: match plan.stop {
                Stop::After(d) => Some(d.as_secs_f64()),
                Stop::Requests(_) => None,
            },
            requests_asked: match plan.stop {
                Stop::After(_) => None,
                Stop::Requests(n) => Some(n),
            },
            elapsed_s: secs,
            requests: tally.total,
            warmup_requests: tally.warmup_requests,
            abandoned,
            interrupted: false,
            requested_rate,
            achieved_rate: per_second(tally.total),
            late: tally.late,
            late_after_ms: LATE_AFTER.as_secs_f64() * 1000.0,
            latency: Latency {
                min_ms: if h.is_empty() { 0.0 } else { ms(h.min()) },
                mean_ms: h.mean() / 1000.0,
                p50_ms: q(0.5),
                p90_ms: q(0.9),
                p99_ms: q(0.99),
                p99_9_ms: q(0.999),
                max_ms: if h.is_empty() {
                    0.0
                } else {
                    ms(h.highest_equivalent(h.max()))
                },
            },
            outcomes,
            by_kind: tally.by_kind.clone(),
            errors: tally.errors.clone(),
            histogram: HistogramDump {
                unit: "us",
                lowest: 1,
                highest: HIST_MAX_US,
                significant_digits: HIST_DIGITS,
                buckets,
            },
        }
    }

    /// How many measured requests ended with this outcome.
    pub fn count(&self, outcome: Outcome) -> u64 {
        self.outcomes.get(&outcome).map_or(0, |c| c.count)
    }

    /// The human report.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = self.render_into(&mut s);
        s
    }

    fn render_into(&self, s: &mut String) -> std::fmt::Result {
        writeln!(
            s,
            "loadtest {} ({}{}), {} model, {} connections{}, mix {}",
            self.url,
            if self.via_proxy { "via proxy " } else { "" },
            self.connect_to,
            self.model,
            self.connections,
            if self.keepalive {
                ""
            } else {
                " (no keep-alive)"
            },
            self.mix
        )?;
        write!(
            s,
            "  {} requests in {:.2}s: {:.1} req/s",
            self.requests, self.elapsed_s, self.achieved_rate
        )?;
        if let Some(r) = self.requested_rate {
            write!(s, " of {r:.1} requested, {} started late", self.late)?;
        }
        writeln!(s)?;
        if self.interrupted {
            writeln!(s, "  interrupted: stopped early")?;
        }
        if self.warmup_requests > 0 || self.abandoned > 0 {
            writeln!(
                s,
                "  not counted: {} during warm-up, {} in flight at the deadline",
                self.warmup_requests, self.abandoned
            )?;
        }
        let l = &self.latency;
        writeln!(
            s,
            "latency (ms)  p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}  (mean {:.3}, min {:.3})",
            l.p50_ms, l.p90_ms, l.p99_ms, l.p99_9_ms, l.max_ms, l.mean_ms, l.min_ms
        )?;
        writeln!(s, "outcomes")?;
        if self.outcomes.is_empty() {
            writeln!(s, "  no request was measured")?;
        }
        for (name, c) in by_name(&self.outcomes) {
            writeln!(
                s,
                "  {name:<10} {:>10}  {:>10.1}/s  {:>6.2}%",
                c.count,
                c.per_second,
                c.share * 100.0
            )?;
        }
        if self.by_kind.len() > 1 {
            writeln!(s, "by request")?;
            for (kind, m) in by_name(&self.by_kind) {
                let parts: Vec<String> = by_name(m)
                    .into_iter()
                    .map(|(o, n)| format!("{o} {n}"))
                    .collect();
                writeln!(s, "  {kind:<8} {}", parts.join(", "))?;
            }
        }
        // Connect errors get a line of their own, as a rate: they are what the back-off is
        // about, and the one kind that says the load never reached the server.
        let parts: Vec<String> = by_name(&self.errors)
            .into_iter()
            .filter(|(e, _)| e != "connect")
            .map(|(e, n)| format!("{e} {n}"))
            .collect();
        if !parts.is_empty() {
            writeln!(s, "errors: {}", parts.join(", "))?;
        }
        if let Some(&n) = self.errors.get(&ErrorKind::Connect) {
            let rate = if self.elapsed_s > 0.0 {
                n as f64 / self.elapsed_s
            } else {
                0.0
            };
            writeln!(
                s,
                "connect errors: {n} ({rate:.1}/s); each connection backed off {:?} to {:?} between failed connects",
                backoff::FIRST,
                backoff::MAX
            )?;
        }
        Ok(())
    }
}

/// The live line: elapsed, rate, outcomes and p99 so far.
pub fn progress_line(tally: &Tally, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(1e-9);
    let mut s = format!("{:>6.1}s {:>9.0} req/s", secs, tally.total as f64 / secs);
    for (o, n) in &tally.outcomes {
        let _ = write!(s, " {o} {n}");
    }
    if !tally.latency_us.is_empty() {
        let _ = write!(
            s,
            " p99 {:.2}ms",
            ms(tally.latency_us.value_at_quantile(0.99))
        );
    }
    if tally.warmup_requests > 0 && tally.total == 0 {
        s.push_str(" (warming up)");
    }
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::plan::Flags;
    use crate::sample::Sample;
    use tokio::time::Instant;

    fn plan() -> Plan {
        let mix = "land=1,exhaust=1".parse().unwrap();
        Plan::new(&Flags {
            url: "http://127.0.0.1:1",
            connections: 1,
            rate: None,
            duration: None,
            requests: Some(4),
            warmup: Duration::ZERO,
            mix: &mix,
            timeout: Duration::from_secs(1),
            host: None,
            proxy: None,
            keepalive: true,
            threads: None,
        })
        .unwrap()
    }

    #[test]
    fn typed_keys_serialize_and_print_by_name_in_name_order() {
        let mut tally = Tally::new();
        let now = Instant::now();
        for (kind, outcome, error) in [
            (RequestKind::Land, Outcome::Landed, None),
            (RequestKind::Land, Outcome::Http(404), None),
            (
                RequestKind::Exhaust,
                Outcome::Dropped,
                Some(ErrorKind::Timeout),
            ),
            (
                RequestKind::Exhaust,
                Outcome::Refused,
                Some(ErrorKind::Connect),
            ),
        ] {
            tally.add(&Sample {
                kind,
                outcome,
                error,
                latency: Duration::from_millis(1),
                late: false,
                recorded: true,
                done_at: now,
            });
        }
        let report = Report::new(&plan(), &tally, Duration::from_secs(1), 0);
        assert_eq!(report.count(Outcome::Http(404)), 1);
        let json = serde_json::to_string(&report).unwrap();
        // The text between one field's name and the next's; serde_json::Value would sort it.
        let section = |field: &str, next: &str| {
            let from = json.find(&format!("\"{field}\":")).unwrap();
            let to = json.find(&format!("\"{next}\":")).unwrap();
            json[from..to].to_string()
        };
        let in_order = |text: &str, keys: &[&str]| {
            let at: Vec<usize> = keys
                .iter()
                .map(|k| text.find(&format!("\"{k}\":")).unwrap())
                .collect();
            assert!(at.is_sorted(), "{keys:?} not in this order in {text}");
        };
        in_order(
            &section("outcomes", "by_kind"),
            &["dropped", "http_404", "landed", "refused"],
        );
        in_order(&section("by_kind", "errors"), &["exhaust", "land"]);
        in_order(&section("errors", "histogram"), &["connect", "timeout"]);
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["by_kind"]["exhaust"]["refused"], 1);
        assert_eq!(value["outcomes"]["http_404"]["count"], 1);
        let text = report.render();
        assert!(
            text.contains("  exhaust  dropped 1, refused 1\n  land     http_404 1, landed 1\n"),
            "{text}"
        );
        assert!(text.contains("\nerrors: timeout 1\n"), "{text}");
        assert!(
            text.contains("\nconnect errors: 1 (1.0/s); each connection backed off"),
            "{text}"
        );
    }
}
