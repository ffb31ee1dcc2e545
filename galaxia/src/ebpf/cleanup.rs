//! Removing what a galaxy left behind when its `galaxia up` died without stopping it (`kill -9`):
//! found by the `galaxia-<pid>-<n>` prefix ([`super::names`]) in `/run/netns`, the cgroup2
//! hierarchies, the mount table and `/run`, and removed only when the owner is dead. A galaxy's BPF
//! programs and maps need nothing: they were held by its process's file descriptors and went
//! with it. Its pods' processes are killed by pid: those in its cgroup and those still inside
//! its network namespaces (a `galaxia exec` left running), all started by galaxia.

use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::mount::{MntFlags, umount2};

use super::cgroup;
use super::names::{PREFIX, STATE_ROOT, Tag};
use super::netns;

/// What a cleanup did.
#[derive(Debug, Default)]
pub struct Report {
    /// What was removed, one line each (`netns galaxia-12-0-node-1`, `process 4242`).
    pub removed: Vec<String>,
    /// Galaxies left alone because their owner lives.
    pub alive: Vec<Tag>,
    pub errors: Vec<String>,
}

/// Every galaxy tag found on the machine.
pub fn tags() -> BTreeSet<Tag> {
    let mut found = BTreeSet::new();
    for name in netns::list(PREFIX) {
        found.extend(Tag::parse(&name).map(|(t, _)| t));
    }
    if let Ok(dir) = std::fs::read_dir(STATE_ROOT) {
        for e in dir.flatten() {
            if let Some(name) = e.file_name().to_str() {
                found.extend(
                    Tag::parse(name)
                        .filter(|(_, r)| r.is_empty())
                        .map(|(t, _)| t),
                );
            }
        }
    }
    for root in cgroup::cgroup2_mounts() {
        if let Ok(dir) = std::fs::read_dir(&root) {
            for e in dir.flatten() {
                if let Some(name) = e.file_name().to_str() {
                    found.extend(
                        Tag::parse(name)
                            .filter(|(_, r)| r.is_empty())
                            .map(|(t, _)| t),
                    );
                }
            }
        }
    }
    found
}

/// Remove everything of every galaxy whose owner is dead.
pub fn stale() -> Report {
    let mut report = Report::default();
    for tag in tags() {
        if tag.owner_alive() {
            report.alive.push(tag);
        } else {
            remove(&tag, &mut report);
        }
    }
    report
}

/// The cgroups of `tag`, in every cgroup2 hierarchy mounted.
fn cgroups_of(tag: &Tag) -> Vec<PathBuf> {
    cgroup::cgroup2_mounts()
        .into_iter()
        .map(|root| root.join(tag.to_string()))
        .filter(|p| p.is_dir())
        .collect()
}

/// Pids whose network namespace is one of `files` (by the namespace's inode).
fn pids_in_netns(files: &[PathBuf]) -> Vec<i32> {
    let inodes: BTreeSet<(u64, u64)> = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| (m.dev(), m.ino()))
        .collect();
    if inodes.is_empty() {
        return Vec::new();
    }
    let Ok(proc) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    proc.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::metadata(format!("/proc/{pid}/ns/net"))
                .is_ok_and(|m| inodes.contains(&(m.dev(), m.ino())))
        })
        .collect()
}

/// Kill every process of `tag` (in its cgroups and its namespaces), then wait for them to go.
pub fn kill_processes(tag: &Tag, report: &mut Report) {
    let namespaces: Vec<PathBuf> = netns::list(&format!("{tag}-"))
        .iter()
        .map(|n| netns::path(n))
        .collect();
    let me = std::process::id() as i32;
    for _ in 0..50 {
        let mut pids: BTreeSet<i32> = cgroups_of(tag)
            .iter()
            .flat_map(|c| cgroup::pids(c))
            .collect();
        pids.extend(pids_in_netns(&namespaces));
        pids.remove(&me);
        if pids.is_empty() {
            return;
        }
        for pid in pids {
            if nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            )
            .is_ok()
            {
                let line = format!("process {pid}");
                if !report.removed.contains(&line) {
                    report.removed.push(line);
                }
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    report
        .errors
        .push(format!("processes of {tag} would not die"));
}

/// Remove everything of `tag`, whoever owns it (the caller checked).
pub fn remove(tag: &Tag, report: &mut Report) {
    kill_processes(tag, report);
    for name in netns::list(&format!("{tag}-")) {
        match netns::delete(&name) {
            Ok(()) => report.removed.push(format!("netns {name}")),
            Err(e) => report.errors.push(format!("netns {name}: {e}")),
        }
    }
    for c in cgroups_of(tag) {
        match cgroup::remove_dir(&c) {
            Ok(()) => report.removed.push(format!("cgroup {}", c.display())),
            Err(e) => report.errors.push(format!("cgroup {}: {e}", c.display())),
        }
    }
    // Mounts of its own under its state directory (a cgroup2 view), innermost first.
    let state = tag.state_dir();
    let mut mounts: Vec<PathBuf> = cgroup::mounts()
        .into_iter()
        .map(|m| m.target)
        .filter(|t| t.starts_with(&state))
        .collect();
    mounts.sort_by_key(|m| std::cmp::Reverse(m.as_os_str().len()));
    for m in mounts {
        match umount2(&m, MntFlags::MNT_DETACH) {
            Ok(()) => report.removed.push(format!("mount {}", m.display())),
            Err(e) => report.errors.push(format!("mount {}: {e}", m.display())),
        }
    }
    if state.exists() {
        match std::fs::remove_dir_all(&state) {
            Ok(()) => report.removed.push(format!("dir {}", state.display())),
            Err(e) => report.errors.push(format!("dir {}: {e}", state.display())),
        }
    }
}

/// True when `path` is galaxia's (for callers that act on a path they were given).
pub fn is_ours(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| Tag::parse(n).is_some())
}
