//! Hubble-like flow records: what the galaxy's enforcement point did with each connection and HTTP
//! request, kept in a bounded ring buffer that `galaxia observe` reads (and follows).
//!
//! The line format imitates `hubble observe`, so that the book's screenshots and the local twin read
//! the same: `Nov 26 05:11:20.123: default/asa-x:41234 <> default/estrela-da-morte-...:80 Policy
//! denied DROPPED (TCP Flags: SYN)`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// How many flows the log keeps; older ones fall off, as in Hubble's own ring buffer.
pub const FLOW_CAPACITY: usize = 4096;

/// Hubble's two verdicts that the emulator produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    Forwarded,
    Dropped,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Forwarded => "FORWARDED",
            Verdict::Dropped => "DROPPED",
        }
    }
}

/// One end of a flow: a pod and a port (the client's ephemeral port, or the container port).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowEndpoint {
    /// Shared with the pod (a flow is written for every request; its names are not copied).
    pub namespace: Arc<str>,
    pub pod: Arc<str>,
    pub port: u16,
}

/// What was seen: a connection attempt dropped at L3/L4, or one HTTP request or response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum FlowKind {
    /// A connection refused by policy: Cilium drops the SYN.
    PolicyDenied,
    /// An HTTP request seen by the L7 path; `url` is absolute (`http://host/path?query`).
    HttpRequest { method: String, url: String },
    /// The answer to a forwarded request.
    HttpResponse {
        method: String,
        url: String,
        code: u16,
        latency_ms: u64,
    },
}

/// One flow record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flow {
    /// Position in the log since the galaxy started; `observe --follow` resumes after it.
    pub seq: u64,
    /// Milliseconds since the Unix epoch.
    pub time_ms: u64,
    pub source: FlowEndpoint,
    pub destination: FlowEndpoint,
    pub verdict: Verdict,
    #[serde(flatten)]
    pub kind: FlowKind,
    /// The policy and rule that decided, or why nothing did (free text for people, not parsed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Flow {
    /// True when `pod` is either end (`observe --pod`): by name, or `namespace/name`.
    pub fn involves(&self, pod: &str) -> bool {
        [&self.source, &self.destination].iter().any(|e| {
            *e.pod == *pod
                || pod
                    .split_once('/')
                    .is_some_and(|(ns, name)| ns == &*e.namespace && name == &*e.pod)
        })
    }

    /// The Hubble-like one-line rendering.
    pub fn line(&self) -> String {
        let arrow = match (self.verdict, &self.kind) {
            (Verdict::Dropped, FlowKind::PolicyDenied) => "<>",
            (_, FlowKind::HttpResponse { .. }) => "<-",
            _ => "->",
        };
        // A response is printed from the client's side, with the arrow pointing back to it, as
        // Hubble prints replies.
        let (left, right) = (&self.source, &self.destination);
        let what = match &self.kind {
            FlowKind::PolicyDenied => {
                format!("Policy denied {} (TCP Flags: SYN)", self.verdict.as_str())
            }
            FlowKind::HttpRequest { method, url } => {
                format!(
                    "http-request {} (HTTP/1.1 {method} {url})",
                    self.verdict.as_str()
                )
            }
            FlowKind::HttpResponse {
                method,
                url,
                code,
                latency_ms,
            } => format!(
                "http-response {} (HTTP/1.1 {code} {latency_ms}ms ({method} {url}))",
                self.verdict.as_str()
            ),
        };
        format!(
            "{}: {}/{}:{} {arrow} {}/{}:{} {what}",
            hubble_time(self.time_ms),
            left.namespace,
            left.pod,
            left.port,
            right.namespace,
            right.pod,
            right.port
        )
    }
}

/// Hubble's timestamp, `Nov 26 05:11:20.123` (UTC).
pub fn hubble_time(time_ms: u64) -> String {
    let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(time_ms);
    // `2026-11-26T05:11:20.123Z`: reshaped rather than pulling in a calendar crate.
    let iso = humantime::format_rfc3339_millis(t).to_string();
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = iso
        .get(5..7)
        .and_then(|m| m.parse::<usize>().ok())
        .and_then(|m| MONTHS.get(m.wrapping_sub(1)))
        .copied()
        .unwrap_or("???");
    let day = iso.get(8..10).unwrap_or("??");
    let clock = iso.get(11..23).unwrap_or("??:??:??.???");
    format!("{month} {day} {clock}")
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The bounded flow log shared by every pod's proxy.
#[derive(Debug)]
pub struct FlowLog {
    inner: Mutex<Ring>,
    /// Wakes `observe --follow` readers waiting for flows after the last one they saw.
    changed: tokio::sync::Notify,
    capacity: usize,
}

#[derive(Debug, Default)]
struct Ring {
    next_seq: u64,
    flows: VecDeque<Flow>,
}

/// What a reader asks for.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FlowFilter {
    /// Only flows after this sequence number.
    #[serde(default)]
    pub after: Option<u64>,
    /// Only flows involving this pod (`name` or `namespace/name`).
    #[serde(default)]
    pub pod: Option<String>,
    #[serde(default)]
    pub verdict: Option<Verdict>,
    /// At most this many (the most recent ones).
    #[serde(default)]
    pub last: Option<usize>,
}

impl FlowFilter {
    pub fn matches(&self, f: &Flow) -> bool {
        self.after.is_none_or(|a| f.seq > a)
            && self.pod.as_deref().is_none_or(|p| f.involves(p))
            && self.verdict.is_none_or(|v| f.verdict == v)
    }
}

impl Default for FlowLog {
    fn default() -> Self {
        FlowLog::with_capacity(FLOW_CAPACITY)
    }
}

impl FlowLog {
    pub fn with_capacity(capacity: usize) -> Self {
        FlowLog {
            inner: Mutex::new(Ring::default()),
            changed: tokio::sync::Notify::new(),
            capacity: capacity.max(1),
        }
    }

    /// Record a flow (its `seq` and, when zero, its time are filled in here).
    pub fn push(&self, mut flow: Flow) {
        {
            let mut ring = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            ring.next_seq += 1;
            flow.seq = ring.next_seq;
            if flow.time_ms == 0 {
                flow.time_ms = now_ms();
            }
            if ring.flows.len() == self.capacity {
                ring.flows.pop_front();
            }
            ring.flows.push_back(flow);
        }
        self.changed.notify_waiters();
    }

    /// The flows matching `filter`, oldest first.
    pub fn query(&self, filter: &FlowFilter) -> Vec<Flow> {
        let ring = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<Flow> = ring
            .flows
            .iter()
            .filter(|f| filter.matches(f))
            .cloned()
            .collect();
        if let Some(n) = filter.last {
            let skip = out.len().saturating_sub(n);
            out.drain(..skip);
        }
        out
    }

    /// The sequence number of the newest flow (0 when none yet).
    pub fn last_seq(&self) -> u64 {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .next_seq
    }

    /// Like [`FlowLog::query`], but waits up to `wait` for at least one matching flow.
    pub async fn wait_query(&self, filter: &FlowFilter, wait: std::time::Duration) -> Vec<Flow> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Registered before querying so that a flow pushed in between still wakes us.
            let notified = self.changed.notified();
            let found = self.query(filter);
            if !found.is_empty() {
                return found;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Vec::new();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(pod: &str, verdict: Verdict, kind: FlowKind) -> Flow {
        Flow {
            seq: 0,
            time_ms: 1_795_670_000_123,
            source: FlowEndpoint {
                namespace: "default".into(),
                pod: pod.into(),
                port: 41234,
            },
            destination: FlowEndpoint {
                namespace: "default".into(),
                pod: "estrela-da-morte-abc-def".into(),
                port: 80,
            },
            verdict,
            kind,
            reason: None,
        }
    }

    #[test]
    fn renders_like_hubble() {
        let f = flow("asa-x", Verdict::Dropped, FlowKind::PolicyDenied);
        assert!(
            f.line().ends_with(
                ": default/asa-x:41234 <> default/estrela-da-morte-abc-def:80 Policy denied DROPPED (TCP Flags: SYN)"
            ),
            "{}",
            f.line()
        );
        let f = flow(
            "caca-tie",
            Verdict::Dropped,
            FlowKind::HttpRequest {
                method: "PUT".into(),
                url: "http://estrela-da-morte.default.svc.cluster.local/v1/exhaust-port".into(),
            },
        );
        assert!(f.line().ends_with("-> default/estrela-da-morte-abc-def:80 http-request DROPPED (HTTP/1.1 PUT http://estrela-da-morte.default.svc.cluster.local/v1/exhaust-port)"));
        assert!(f.line().starts_with("Nov "), "{}", f.line());
    }

    #[test]
    fn ring_is_bounded_and_filters() {
        let log = FlowLog::with_capacity(3);
        for i in 0..5 {
            let pod = if i % 2 == 0 { "asa-x" } else { "caca-tie" };
            log.push(flow(pod, Verdict::Forwarded, FlowKind::PolicyDenied));
        }
        let all = log.query(&FlowFilter::default());
        assert_eq!(all.iter().map(|f| f.seq).collect::<Vec<_>>(), [3, 4, 5]);
        let x = log.query(&FlowFilter {
            pod: Some("default/asa-x".into()),
            ..FlowFilter::default()
        });
        assert_eq!(x.iter().map(|f| f.seq).collect::<Vec<_>>(), [3, 5]);
        let after = log.query(&FlowFilter {
            after: Some(4),
            ..FlowFilter::default()
        });
        assert_eq!(after.len(), 1);
    }
}
