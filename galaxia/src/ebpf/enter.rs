//! Starting a process inside a pod, as a container runtime does: in the pod's network
//! namespace, in a private mount namespace where `/etc/resolv.conf` and `/etc/hosts` are the pod's
//! (Kubernetes writes both) and `/sys` shows the pod's interfaces, under the pod's hostname, and in
//! the galaxy's cgroup (where the Service load balancer's connect hook applies). Both `galaxia up`
//! (the pods' own processes) and `galaxia exec` start processes this way, so a tool run with
//! `galaxia exec` sees what the pod's process sees.
//!
//! This is the one module with `unsafe`: entering namespaces has to happen between `fork` and
//! `exec` (a thread of a running program cannot leave its mount namespace for one child), and
//! `CommandExt::pre_exec` is how std offers that moment.

use std::ffi::{CString, OsStr};
use std::fs::File;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, setns, unshare};
use serde::{Deserialize, Serialize};

/// Where a pod lives: what a process needs to be "inside" it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sandbox {
    /// The pod's network namespace (`/run/netns/galaxia-...-pod-<name>`).
    pub netns: PathBuf,
    /// The pod's resolv.conf and hosts, bind-mounted over `/etc/...` in its mount namespace.
    pub resolv_conf: PathBuf,
    pub hosts: PathBuf,
    /// The galaxy's cgroup (v2), where connect() to a ClusterIP is load-balanced.
    pub cgroup: PathBuf,
    pub hostname: String,
}

/// Whether the process dies with the one that starts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tie {
    /// A pod's own process: SIGKILL when `galaxia up` dies, even by `kill -9`. The kernel sends it
    /// when the *thread* that forked exits; galaxia starts pods from its runtime's worker threads,
    /// which live as long as the galaxy.
    DiesWithParent,
    /// A command of `galaxia exec`: it lives on its own, as one of `kubectl exec` does.
    Free,
}

/// What the child does between fork and exec, prepared before the fork so that the child only
/// makes system calls (no allocation, no lock: the parent has other threads).
struct Entry {
    netns: File,
    cgroup_procs: File,
    resolv_conf: CString,
    hosts: CString,
    hostname: CString,
    tie: Tie,
}

fn cstring(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a path with a NUL byte"))
}

/// A command that runs `program args...` inside the pod of `sandbox`.
pub fn command(
    sandbox: &Sandbox,
    program: impl AsRef<OsStr>,
    args: &[impl AsRef<OsStr>],
    tie: Tie,
) -> io::Result<Command> {
    let entry = Entry {
        netns: File::open(&sandbox.netns)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", sandbox.netns.display())))?,
        cgroup_procs: std::fs::OpenOptions::new()
            .write(true)
            .open(sandbox.cgroup.join("cgroup.procs"))?,
        resolv_conf: cstring(&sandbox.resolv_conf)?,
        hosts: cstring(&sandbox.hosts)?,
        hostname: CString::new(sandbox.hostname.as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a hostname with NUL"))?,
        tie,
    };
    let mut cmd = Command::new(program);
    cmd.args(args);
    // SAFETY: `pre_exec` runs in the child after fork, where only async-signal-safe work is sound.
    // `Entry::enter` only makes system calls through nix on values prepared above (open files,
    // C strings): it allocates nothing and takes no lock, and errors are turned into
    // `io::Error::from_raw_os_error`, which does not allocate either.
    #[allow(unsafe_code)]
    unsafe {
        cmd.pre_exec(move || entry.enter());
    }
    Ok(cmd)
}

impl Entry {
    fn enter(&self) -> io::Result<()> {
        setns(&self.netns, CloneFlags::CLONE_NEWNET)?;
        unshare(CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWUTS)?;
        // Nothing mounted from here on may reach the host's mount namespace.
        mount(
            None::<&std::ffi::CStr>,
            c"/",
            None::<&std::ffi::CStr>,
            MsFlags::MS_REC | MsFlags::MS_SLAVE,
            None::<&std::ffi::CStr>,
        )?;
        // /sys/class/net as the pod sees it (what `ip netns exec` does too).
        if umount2(c"/sys", MntFlags::MNT_DETACH).is_ok() {
            mount(
                Some(c"sysfs"),
                c"/sys",
                Some(c"sysfs"),
                MsFlags::empty(),
                None::<&std::ffi::CStr>,
            )?;
        }
        for (file, target) in [
            (self.resolv_conf.as_c_str(), c"/etc/resolv.conf"),
            (self.hosts.as_c_str(), c"/etc/hosts"),
        ] {
            mount(
                Some(file),
                target,
                None::<&std::ffi::CStr>,
                MsFlags::MS_BIND,
                None::<&std::ffi::CStr>,
            )?;
        }
        nix::unistd::sethostname(OsStr::from_bytes(self.hostname.as_bytes()))?;
        // "0" is the writing process itself.
        nix::unistd::write(&self.cgroup_procs, b"0")?;
        if self.tie == Tie::DiesWithParent {
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)?;
        }
        Ok(())
    }
}

/// The pod's resolv.conf as the kubelet writes it for `dnsPolicy: ClusterFirst`.
pub fn resolv_conf(nameserver: std::net::Ipv4Addr, namespace: &str) -> String {
    format!(
        "search {namespace}.svc.cluster.local svc.cluster.local cluster.local\nnameserver {nameserver}\noptions ndots:5\n"
    )
}

/// The pod's hosts file as the kubelet writes it.
pub fn hosts(ip: std::net::Ipv4Addr, hostname: &str) -> String {
    format!(
        "# Kubernetes-managed hosts file (galaxia).\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n{ip}\t{hostname}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_is_the_kubelets() {
        assert_eq!(
            resolv_conf(std::net::Ipv4Addr::new(10, 96, 0, 10), "default"),
            "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"
        );
        assert!(
            hosts(std::net::Ipv4Addr::new(10, 244, 1, 9), "asa-x").ends_with("10.244.1.9\tasa-x\n")
        );
    }
}
