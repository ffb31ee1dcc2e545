//! The bounded flow log shared by every pod's proxy: a ring buffer like Hubble's own, that
//! `galaxia observe` reads (and follows).

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::flow::{Flow, Verdict};

/// How many flows the log keeps; older ones fall off, as in Hubble's own ring buffer.
pub const FLOW_CAPACITY: usize = 4096;

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
                flow.time_ms = crate::clock::now_ms();
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
    use crate::flows::flow::{FlowEndpoint, FlowKind};

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
