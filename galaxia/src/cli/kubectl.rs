//! kubectl's words, in one place: resource names, the result line of each change, its
//! `Error from server (...)` lines, and the AGE column.

use std::time::{Duration, SystemTime};

use crate::manifest::{Applied, Change, ObjectKind, Refusal};

/// A kind's resource name as kubectl prints it: singular (`ciliumnetworkpolicy.cilium.io`) and
/// plural (`ciliumnetworkpolicies.cilium.io`).
pub fn resource(kind: ObjectKind) -> (&'static str, &'static str) {
    match kind {
        ObjectKind::Pod => ("pod", "pods"),
        ObjectKind::Service => ("service", "services"),
        ObjectKind::Deployment => ("deployment.apps", "deployments.apps"),
        ObjectKind::CiliumNetworkPolicy => (
            "ciliumnetworkpolicy.cilium.io",
            "ciliumnetworkpolicies.cilium.io",
        ),
    }
}

/// `Error from server (NotFound): pods "nope" not found`.
pub fn not_found(kind: ObjectKind, name: &str) -> String {
    format!(
        "Error from server (NotFound): {} \"{name}\" not found",
        resource(kind).1
    )
}

/// The line kubectl prints for one object's result: `Ok` goes to stdout, `Err` to stderr.
pub fn applied(a: &Applied) -> Result<String, String> {
    let (singular, plural) = resource(a.key.kind);
    let name = &a.key.name;
    match a.result {
        Ok(Change::Created) => Ok(format!("{singular}/{name} created")),
        Ok(Change::Configured) => Ok(format!("{singular}/{name} configured")),
        Ok(Change::Unchanged) => Ok(format!("{singular}/{name} unchanged")),
        Ok(Change::Deleted) => Ok(format!("{singular} \"{name}\" deleted")),
        Err(Refusal::AlreadyExists) => Err(format!(
            "Error from server (AlreadyExists): {plural} \"{name}\" already exists"
        )),
        Err(Refusal::NotFound) => Err(not_found(a.key.kind, name)),
    }
}

/// The AGE column: Kubernetes' `duration.HumanDuration` of the time since `since`.
pub fn age(since: SystemTime, now: SystemTime) -> String {
    match now.duration_since(since) {
        Ok(d) => human_duration(d),
        // A clock that moved back a little is "now", as kubectl tolerates it.
        Err(e) if e.duration() < Duration::from_secs(2) => "0s".into(),
        Err(_) => "<invalid>".into(),
    }
}

fn human_duration(d: Duration) -> String {
    let seconds = d.as_secs();
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        return match seconds % 60 {
            0 => format!("{minutes}m"),
            s => format!("{minutes}m{s}s"),
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        return match minutes % 60 {
            0 => format!("{hours}h"),
            m => format!("{hours}h{m}m"),
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        return match hours % 24 {
            0 => format!("{}d", hours / 24),
            h => format!("{}d{h}h", hours / 24),
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let years = hours / 24 / 365;
        return match (hours / 24) % 365 {
            0 => format!("{years}y"),
            days => format!("{years}y{days}d"),
        };
    }
    format!("{}y", hours / 24 / 365)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_like_kubectl() {
        let t = SystemTime::UNIX_EPOCH;
        let at = |s| t + Duration::from_secs(s);
        assert_eq!(age(t, at(5)), "5s");
        assert_eq!(age(t, at(130)), "2m10s");
        assert_eq!(age(t, at(900)), "15m");
        assert_eq!(age(t, at(4 * 3600)), "4h");
        assert_eq!(age(t, at(3 * 86_400)), "3d");
    }
}
