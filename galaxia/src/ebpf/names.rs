//! The names of everything the eBPF datapath creates. One galaxy is `galaxia-<pid>-<n>` (the
//! `galaxia up` process and a counter, so that two galaxies of one process, or of two processes,
//! never meet), and every namespace, cgroup, state directory and mount of it starts with that tag;
//! the cleanup finds leftovers by the prefix and tells a dead owner from a live one by the pid and
//! the start time recorded in the state directory. Interfaces live inside the galaxy's own
//! namespaces and carry the plain `galaxia-` prefix; BPF programs and maps have 15 characters
//! for a name, so they are `galaxia_<what>` and die with the process that holds them.

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// What every name starts with.
pub const PREFIX: &str = "galaxia-";

/// Where each galaxy keeps its files (resolv.conf and hosts of each pod, logs, its owner).
pub const STATE_ROOT: &str = "/run";

/// Interfaces, inside the galaxy's namespaces (at most 15 characters each).
pub const BRIDGE: &str = "galaxia-br";
/// A node's link to the bridge, in the node's namespace.
pub const UPLINK: &str = "galaxia-up";
/// A pod's interface, as Kubernetes names it.
pub const POD_IF: &str = "eth0";

/// The bridge's port for node `i`, in the fabric's namespace.
pub fn fabric_port(node: usize) -> String {
    format!("galaxia-n{node}")
}

/// The node's end of a pod's veth (Cilium's `lxc<hash>`), named by the pod's endpoint id.
pub fn lxc(endpoint: u16) -> String {
    format!("galaxia-lxc{endpoint}")
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// One galaxy's tag: `galaxia-<pid>-<n>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag {
    pub pid: u32,
    pub n: u32,
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}{}-{}", self.pid, self.n)
    }
}

impl Tag {
    /// A new tag for a galaxy of this process.
    pub fn fresh() -> Tag {
        Tag {
            pid: std::process::id(),
            n: NEXT.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// The tag a name starts with, and what follows it (`node-1` of `galaxia-12-0-node-1`).
    pub fn parse(name: &str) -> Option<(Tag, &str)> {
        let rest = name.strip_prefix(PREFIX)?;
        let (pid, rest) = rest.split_once('-')?;
        let (n, rest) = match rest.split_once('-') {
            Some((n, rest)) => (n, rest),
            None => (rest, ""),
        };
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(pid) || !all_digits(n) {
            return None;
        }
        Some((
            Tag {
                pid: pid.parse().ok()?,
                n: n.parse().ok()?,
            },
            rest,
        ))
    }

    pub fn fabric(&self) -> String {
        format!("{self}-fabric")
    }

    pub fn node(&self, i: usize) -> String {
        format!("{self}-node-{i}")
    }

    /// A pod's network namespace: `<tag>-pod-<name>` (`<namespace>.<name>` outside `default`).
    pub fn pod(&self, namespace: &str, name: &str) -> String {
        if namespace == "default" {
            format!("{self}-pod-{name}")
        } else {
            format!("{self}-pod-{namespace}.{name}")
        }
    }

    /// `/run/<tag>`.
    pub fn state_dir(&self) -> PathBuf {
        PathBuf::from(STATE_ROOT).join(self.to_string())
    }

    /// Is the process that made this tag still the one running under its pid? A pid that a
    /// later process reuses does not count: the start time recorded in the state directory must
    /// match (without the record, a living pid counts as alive: never clean up what may be used).
    pub fn owner_alive(&self) -> bool {
        let Some(started) = start_time(self.pid) else {
            return false;
        };
        match std::fs::read_to_string(self.state_dir().join(OWNER_FILE)) {
            Ok(text) => text.trim() == format!("{} {started}", self.pid),
            Err(_) => true,
        }
    }

    /// Record this process as the owner (see [`Tag::owner_alive`]).
    pub fn record_owner(&self) -> std::io::Result<()> {
        let started = start_time(self.pid).unwrap_or_default();
        std::fs::write(
            self.state_dir().join(OWNER_FILE),
            format!("{} {started}\n", self.pid),
        )
    }
}

const OWNER_FILE: &str = "owner";

/// A process's start time in clock ticks since boot (field 22 of `/proc/<pid>/stat`).
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

/// The file in a galaxy's state directory that lists its maps: `name id` per line (what
/// `galaxia bpf` opens them by).
pub const MAPS_FILE: &str = "maps";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_read_back_and_others_do_not() {
        let t = Tag { pid: 4321, n: 7 };
        assert_eq!(t.to_string(), "galaxia-4321-7");
        assert_eq!(Tag::parse(&t.node(2)), Some((t, "node-2")));
        assert_eq!(Tag::parse(&t.to_string()), Some((t, "")));
        assert_eq!(
            Tag::parse(&t.pod("default", "asa-x")),
            Some((t, "pod-asa-x"))
        );
        assert_eq!(
            t.pod("kube-system", "dns"),
            "galaxia-4321-7-pod-kube-system.dns"
        );
        for other in [
            "galaxia-tutorial-1-0",
            "galaxia",
            "cilium-1-2",
            "galaxia-12",
            "galaxia--1",
        ] {
            assert_eq!(Tag::parse(other), None, "{other}");
        }
    }

    #[test]
    fn interface_names_fit_the_kernels_limit() {
        for name in [BRIDGE, UPLINK, &fabric_port(99), &lxc(4095)] {
            assert!(name.len() <= 15, "{name}");
            assert!(name.starts_with(PREFIX), "{name}");
        }
    }

    #[test]
    fn a_dead_pid_is_not_alive_and_we_are() {
        let me = Tag::fresh();
        assert!(me.owner_alive(), "no record: a living pid counts as alive");
        assert!(start_time(std::process::id()).is_some());
        // Pids above the kernel's pid_max (at most 2^22) never exist.
        assert!(
            !Tag {
                pid: 99_999_999,
                n: 0
            }
            .owner_alive()
        );
    }
}
