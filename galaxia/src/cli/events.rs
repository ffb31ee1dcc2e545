//! The Events of `kubectl describe`: kubectl's DescribeEvents table, of the events the galaxy's
//! controllers recorded (`crate::state::events`) and, for a pod, of what the scheduler and the
//! kubelet of a cluster record, derived from what the galaxy saw of it (its creation, its
//! container's starts). Events a galaxy cannot know truly are left out: image pulls (a
//! pod's binary is always on the machine, hence kubelet's "already present"), and BackOff, whose
//! message names the pod's uid.
//!
//! The messages are Kubernetes 1.31.0's, the version of kind's default node image for the book
//! (later kubelets write `Created container: NAME`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::kubectl::age;
use crate::control::views::PodView;
use crate::state::{Event, Phase};

/// The events a cluster would hold for `p`, in the order they were recorded.
pub fn of_pod(p: &PodView) -> Vec<Event> {
    let mut events = vec![Event::normal(
        "Scheduled",
        "default-scheduler",
        format!(
            "Successfully assigned {}/{} to {}",
            p.namespace, p.name, p.node
        ),
        p.created_ms,
    )];
    if p.phase == Phase::ContainerCreating && p.restarts == 0 {
        return events;
    }
    // Each start of a container repeats the kubelet's three events; kubectl counts them.
    let starts = p.restarts + 1;
    let last_ms = p.last_restart_ms.unwrap_or(p.created_ms);
    let containers = p.object["spec"]["containers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for c in &containers {
        let name = c["name"].as_str().unwrap_or_default();
        let image = c["image"].as_str().unwrap_or_default();
        for (reason, message) in [
            (
                "Pulled",
                format!(
                    "Container image {} already present on machine",
                    quoted(image)
                ),
            ),
            ("Created", format!("Created container {name}")),
            ("Started", format!("Started container {name}")),
        ] {
            events.push(Event {
                count: starts,
                last_ms,
                ..Event::normal(reason, "kubelet", message, p.created_ms)
            });
        }
    }
    events
}

/// Go's `%q` of an image reference (which has no character Go would escape).
fn quoted(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// kubectl's DescribeEvents: `Events:\t<none>`, or the table sorted by each event's last time.
pub fn table(events: &[Event], now: SystemTime) -> String {
    if events.is_empty() {
        return "Events:\t<none>\n".to_string();
    }
    let mut sorted = events.to_vec();
    // Go's sort.Sort is not stable; equal times keep the recorded order here, as they mostly
    // do there.
    sorted.sort_by_key(|e| e.last_ms);
    let at = |ms: u64| UNIX_EPOCH + Duration::from_millis(ms);
    let mut out = String::from("Events:\n  Type\tReason\tAge\tFrom\tMessage\n");
    out.push_str("  ----\t------\t----\t----\t-------\n");
    for e in &sorted {
        let first = age(at(e.first_ms), now);
        let interval = if e.count > 1 {
            format!("{} (x{} over {first})", age(at(e.last_ms), now), e.count)
        } else {
            first
        };
        out.push_str(&format!(
            "  {}\t{}\t{interval}\t{}\t{}\n",
            e.kind,
            e.reason,
            e.from,
            e.message.trim()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tabwriter::TabWriter;

    #[test]
    fn kubectls_events_table() {
        let now = UNIX_EPOCH + Duration::from_secs(1000);
        let ev = |reason, count, first_s: u64, last_s: u64, from, message: &str| Event {
            count,
            last_ms: last_s * 1000,
            ..Event::normal(reason, from, message.to_string(), first_s * 1000)
        };
        let events = [
            ev(
                "Started",
                3,
                700,
                990,
                "kubelet",
                "Started container estrela-da-morte",
            ),
            ev(
                "Scheduled",
                1,
                700,
                700,
                "default-scheduler",
                "Successfully assigned default/x to kind-worker",
            ),
        ];
        let text = TabWriter::describe().lay_out(&table(&events, now));
        assert_eq!(
            text,
            "Events:\n\
             \x20 Type    Reason     Age               From               Message\n\
             \x20 ----    ------     ----              ----               -------\n\
             \x20 Normal  Scheduled  5m                default-scheduler  Successfully assigned default/x to kind-worker\n\
             \x20 Normal  Started    10s (x3 over 5m)  kubelet            Started container estrela-da-morte\n"
        );
        assert_eq!(table(&[], now), "Events:\t<none>\n");
        assert_eq!(
            quoted("docker.io/cilium/starwars"),
            "\"docker.io/cilium/starwars\""
        );
    }
}
