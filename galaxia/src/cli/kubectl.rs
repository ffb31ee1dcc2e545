//! kubectl's words, in one place: resource names, the result line of each change, its
//! `Error from server (...)` lines, and the AGE column.

use std::time::{Duration, SystemTime};

use crate::manifest::{Applied, Change, NotRun, ObjectKind, Refusal};

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

/// kubectl's stderr line when a listing matched nothing (`kubectl get cnp | wc -l` counts 0).
pub fn no_resources_found(all_namespaces: bool, namespace: &str) -> String {
    if all_namespaces {
        "No resources found".into()
    } else {
        format!("No resources found in {namespace} namespace.")
    }
}

/// The line kubectl prints for one object's result: `Ok` goes to stdout, `Err` to stderr.
/// `from` is the file the object came from (`-f`), which kubectl names in a server's refusal.
pub fn applied(a: &Applied, from: Option<&str>) -> Result<String, String> {
    let (singular, plural) = resource(a.key.kind);
    let name = &a.key.name;
    let when = |verb: &str| match from {
        Some(f) => format!("error when {verb} \"{}\": ", source_name(f)),
        None => String::new(),
    };
    match a.result {
        Ok(Change::Created) => Ok(format!("{singular}/{name} created")),
        Ok(Change::Configured) => Ok(format!("{singular}/{name} configured")),
        Ok(Change::Unchanged) => Ok(format!("{singular}/{name} unchanged")),
        Ok(Change::Deleted) => Ok(format!("{singular} \"{name}\" deleted")),
        Err(Refusal::AlreadyExists) => Err(format!(
            "Error from server (AlreadyExists): {}{plural} \"{name}\" already exists",
            when("creating")
        )),
        Err(Refusal::NotFound) => Err(format!(
            "Error from server (NotFound): {}{plural} \"{name}\" not found",
            when("deleting")
        )),
    }
}

/// kubectl's name for a manifest's source: the path as given, `STDIN` for `-`.
pub fn source_name(origin: &str) -> &str {
    if origin == "-" { "STDIN" } else { origin }
}

/// kubectl's error for a document of a kind the cluster does not serve (cli-runtime's resource
/// mapper); for a kind a cluster would take but a galaxy does not run, galaxia's own words,
/// since kubectl would have created it.
pub fn not_run(n: &NotRun) -> String {
    if !n.served {
        return format!(
            "resource mapping not found for name: {:?} namespace: {:?} from {:?}: no matches for kind {:?} in version {:?}\nensure CRDs are installed first",
            n.name,
            n.namespace,
            source_name(&n.origin),
            n.kind,
            n.api_version
        );
    }
    let group = n.api_version.rsplit_once('/').map(|(g, _)| g);
    let resource = match group {
        Some(g) => format!("{}.{g}", n.kind.to_lowercase()),
        None => n.kind.to_lowercase(),
    };
    format!(
        "galaxia does not run {} objects: a cluster would take {resource}/{} from {:?}, a galaxy acts on CiliumNetworkPolicy objects only (its pods and Services come from `galaxia up -f`)",
        n.kind,
        n.name,
        source_name(&n.origin)
    )
}

/// How kubectl prints the errors a verb collected: one alone as `error: ...` (unless it is a
/// server's `Error from server (...)`), several each on its own line as they are.
pub fn errors(errors: &[String]) -> String {
    match errors {
        [one] if !one.starts_with("Error from server") && !one.starts_with("error: ") => {
            format!("error: {one}\n")
        }
        many => many.iter().map(|e| format!("{e}\n")).collect(),
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
