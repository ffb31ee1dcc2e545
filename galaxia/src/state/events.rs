//! Kubernetes Events that the galaxy's controllers record as a cluster's would (the deployment
//! controller's ScalingReplicaSet): what `describe` shows under `Events:`. Identical events are
//! counted in one, as client-go's event correlator aggregates them.

use serde::{Deserialize, Serialize};

/// One event of one object, seen `count` times, first and last at these epoch milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// `Normal` or `Warning`.
    pub kind: String,
    pub reason: String,
    /// The component that reported it (`deployment-controller`, `kubelet`).
    pub from: String,
    pub message: String,
    pub count: u32,
    pub first_ms: u64,
    pub last_ms: u64,
}

impl Event {
    pub fn normal(reason: &str, from: &str, message: String, at_ms: u64) -> Event {
        Event {
            kind: "Normal".into(),
            reason: reason.into(),
            from: from.into(),
            message,
            count: 1,
            first_ms: at_ms,
            last_ms: at_ms,
        }
    }
}

/// Add `event` to `events`, counting it into an identical one already there.
pub fn record(events: &mut Vec<Event>, event: Event) {
    let same = events.iter_mut().find(|e| {
        e.kind == event.kind
            && e.reason == event.reason
            && e.from == event.from
            && e.message == event.message
    });
    match same {
        Some(e) => {
            e.count += event.count;
            e.last_ms = e.last_ms.max(event.last_ms);
        }
        None => events.push(event),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_events_are_counted_in_one() {
        let mut all = Vec::new();
        record(
            &mut all,
            Event::normal("Started", "kubelet", "Started container a".into(), 10),
        );
        record(
            &mut all,
            Event::normal("Started", "kubelet", "Started container b".into(), 20),
        );
        record(
            &mut all,
            Event::normal("Started", "kubelet", "Started container a".into(), 30),
        );
        assert_eq!(all.len(), 2);
        assert_eq!((all[0].count, all[0].first_ms, all[0].last_ms), (2, 10, 30));
        assert_eq!(all[1].count, 1);
    }
}
