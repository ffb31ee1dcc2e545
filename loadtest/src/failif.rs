//! `--fail-if` conditions: `METRIC OP VALUE`, checked against the final report.
//!
//! Metrics: latencies `p50`, `p90`, `p99`, `p99.9`, `max`, `mean` (value a duration: `50ms`,
//! `1.5s`, `800us`); any outcome name (`landed`, `dropped`, `http_404`, ...), `requests`,
//! `errors` (requests with no HTTP answer), `late` (value a count, or a share of the measured
//! requests with `%`); `rate` (achieved requests per second). Operators: `>`, `>=`, `<`, `<=`,
//! `==`, `!=`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use frota::Outcome;

use crate::report::Report;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    /// A latency figure, compared in milliseconds.
    Latency(LatencyStat),
    Outcome(Outcome),
    Requests,
    Errors,
    Late,
    Rate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LatencyStat {
    P50,
    P90,
    P99,
    P999,
    Max,
    Mean,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

/// A threshold: milliseconds for latencies, a count, a share (0..=1), or a rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    Millis(f64),
    Count(f64),
    Share(f64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub text: String,
    pub metric: Metric,
    pub op: Op,
    pub threshold: Threshold,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConditionError {
    #[error("{0:?}: want METRIC OP VALUE, e.g. p99>50ms or dropped>0")]
    Shape(String),
    #[error(
        "{0:?}: unknown metric; use p50, p90, p99, p99.9, max, mean, rate, requests, errors, late or an outcome (landed, denied, dropped, exploded, http_<code>, refused, reset, error)"
    )]
    Metric(String),
    #[error("{0:?}: a latency needs a duration such as 50ms, 1s or 800us")]
    Duration(String),
    #[error("{0:?}: want a number, or a percentage such as 1%")]
    Number(String),
}

impl FromStr for Condition {
    type Err = ConditionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let shape = || ConditionError::Shape(text.to_string());
        let at = text.find(['<', '>', '=', '!']).ok_or_else(shape)?;
        let (name, rest) = text.split_at(at);
        let (op, value) = [
            (">=", Op::Ge),
            ("<=", Op::Le),
            ("==", Op::Eq),
            ("!=", Op::Ne),
            (">", Op::Gt),
            ("<", Op::Lt),
        ]
        .into_iter()
        .find_map(|(s, op)| rest.strip_prefix(s).map(|v| (op, v.trim())))
        .ok_or_else(shape)?;
        let name = name.trim();
        if name.is_empty() || value.is_empty() {
            return Err(shape());
        }
        let metric = match name {
            "p50" => Metric::Latency(LatencyStat::P50),
            "p90" => Metric::Latency(LatencyStat::P90),
            "p99" => Metric::Latency(LatencyStat::P99),
            "p99.9" | "p999" => Metric::Latency(LatencyStat::P999),
            "max" => Metric::Latency(LatencyStat::Max),
            "mean" => Metric::Latency(LatencyStat::Mean),
            "rate" => Metric::Rate,
            "requests" => Metric::Requests,
            "errors" => Metric::Errors,
            "late" => Metric::Late,
            other => Metric::Outcome(
                Outcome::from_name(other)
                    .ok_or_else(|| ConditionError::Metric(text.to_string()))?,
            ),
        };
        let number = |v: &str| {
            v.parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .ok_or_else(|| ConditionError::Number(text.to_string()))
        };
        let threshold = match metric {
            Metric::Latency(_) => {
                let d: Duration = humantime::parse_duration(value)
                    .map_err(|_| ConditionError::Duration(text.to_string()))?;
                Threshold::Millis(d.as_secs_f64() * 1000.0)
            }
            Metric::Rate => Threshold::Count(number(value)?),
            _ => match value.strip_suffix('%') {
                Some(p) => Threshold::Share(number(p.trim())? / 100.0),
                None => Threshold::Count(number(value)?),
            },
        };
        Ok(Condition {
            text: text.to_string(),
            metric,
            op,
            threshold,
        })
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Condition {
    /// The report's value for this metric, in the threshold's unit.
    pub fn value(&self, r: &Report) -> f64 {
        let count = match self.metric {
            Metric::Latency(stat) => {
                let l = &r.latency;
                return match stat {
                    LatencyStat::P50 => l.p50_ms,
                    LatencyStat::P90 => l.p90_ms,
                    LatencyStat::P99 => l.p99_ms,
                    LatencyStat::P999 => l.p99_9_ms,
                    LatencyStat::Max => l.max_ms,
                    LatencyStat::Mean => l.mean_ms,
                };
            }
            Metric::Rate => return r.achieved_rate,
            Metric::Outcome(o) => r.count(o),
            Metric::Requests => r.requests,
            Metric::Errors => r.errors.values().sum(),
            Metric::Late => r.late,
        };
        match self.threshold {
            Threshold::Share(_) if r.requests == 0 => 0.0,
            Threshold::Share(_) => count as f64 / r.requests as f64,
            _ => count as f64,
        }
    }

    /// True when the condition holds (the run should fail).
    pub fn holds(&self, r: &Report) -> bool {
        let v = self.value(r);
        let t = match self.threshold {
            Threshold::Millis(t) | Threshold::Count(t) | Threshold::Share(t) => t,
        };
        match self.op {
            Op::Gt => v > t,
            Op::Ge => v >= t,
            Op::Lt => v < t,
            Op::Le => v <= t,
            Op::Eq => v == t,
            Op::Ne => v != t,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        let c: Condition = "p99>50ms".parse().unwrap();
        assert_eq!(c.metric, Metric::Latency(LatencyStat::P99));
        assert_eq!(c.op, Op::Gt);
        assert_eq!(c.threshold, Threshold::Millis(50.0));
        let c: Condition = "dropped > 0".parse().unwrap();
        assert_eq!(c.metric, Metric::Outcome(Outcome::Dropped));
        assert_eq!(c.threshold, Threshold::Count(0.0));
        let c: Condition = "landed<1000".parse().unwrap();
        assert_eq!(c.op, Op::Lt);
        let c: Condition = "http_503>=1.5%".parse().unwrap();
        assert_eq!(c.metric, Metric::Outcome(Outcome::Http(503)));
        assert_eq!(c.op, Op::Ge);
        assert_eq!(c.threshold, Threshold::Share(0.015));
        let c: Condition = "p99.9<=2s".parse().unwrap();
        assert_eq!(c.threshold, Threshold::Millis(2000.0));
    }

    #[test]
    fn rejects_what_it_cannot_check() {
        assert!(matches!(
            "p99".parse::<Condition>(),
            Err(ConditionError::Shape(_))
        ));
        assert!(matches!(
            "flew>0".parse::<Condition>(),
            Err(ConditionError::Metric(_))
        ));
        assert!(matches!(
            "p99>50".parse::<Condition>(),
            Err(ConditionError::Duration(_))
        ));
        assert!(matches!(
            "dropped>x".parse::<Condition>(),
            Err(ConditionError::Number(_))
        ));
    }
}
