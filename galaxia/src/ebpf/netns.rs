//! Named network namespaces, as `ip netns` names them (a file under `/run/netns` with the
//! namespace bind-mounted on it), and ways to act inside one: a closure on a thread of its own, a
//! sysctl, or a whole tokio runtime whose threads were all born inside it, so that every socket its
//! tasks create lives there.
//!
//! The namespaces are made here rather than with `ip netns add`, which also turns `/run/netns`
//! itself into a shared mount of the host's and never undoes it: galaxia's only mounts in the host's
//! mount namespace are its namespaces' own files, and they go when the galaxy goes.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, setns, unshare};

/// Where `ip netns` looks for names.
pub const NETNS_DIR: &str = "/run/netns";

pub fn path(name: &str) -> PathBuf {
    Path::new(NETNS_DIR).join(name)
}

/// Create the namespace `name`: a fresh network namespace (only `lo`, down) pinned by a bind mount
/// on `/run/netns/<name>`.
pub fn create(name: &str) -> io::Result<()> {
    std::fs::create_dir_all(NETNS_DIR)?;
    let file = path(name);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&file)?;
    let pinned = std::thread::scope(|s| {
        s.spawn(|| -> io::Result<()> {
            // This thread alone moves to the new namespace, and ends right after.
            unshare(CloneFlags::CLONE_NEWNET)?;
            mount(
                Some("/proc/thread-self/ns/net"),
                &file,
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            )?;
            Ok(())
        })
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("the namespace thread panicked")))
    });
    if pinned.is_err() {
        let _ = std::fs::remove_file(&file);
    }
    pinned
}

/// Remove the name of namespace `name`. The namespace itself (with its interfaces, routes and the
/// BPF programs attached there) goes once no process is left in it.
pub fn delete(name: &str) -> io::Result<()> {
    let file = path(name);
    match umount2(&file, MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => {}
        Err(e) => return Err(e.into()),
    }
    match std::fs::remove_file(&file) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// The names under `/run/netns` that start with `prefix`.
pub fn list(prefix: &str) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(NETNS_DIR) else {
        return Vec::new();
    };
    let mut names: Vec<String> = dir
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(prefix))
        .collect();
    names.sort();
    names
}

/// Run `f` on a thread of its own inside namespace `name`.
pub fn run_in<T: Send>(name: &str, f: impl FnOnce() -> T + Send) -> io::Result<T> {
    let ns = File::open(path(name))?;
    std::thread::scope(|s| {
        s.spawn(move || -> io::Result<T> {
            setns(&ns, CloneFlags::CLONE_NEWNET)?;
            Ok(f())
        })
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("the namespace thread panicked")))
    })
}

/// Write the network sysctls `(key, value)` (`net/ipv4/ip_forward`, relative to
/// `/proc/sys`) inside namespace `name`: the kernel reads them for the writing thread's namespace.
pub fn sysctls(name: &str, settings: &[(String, &str)]) -> io::Result<()> {
    run_in(name, || -> io::Result<()> {
        for (key, value) in settings {
            let p = Path::new("/proc/sys").join(key);
            std::fs::write(&p, value)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", p.display())))?;
        }
        Ok(())
    })?
}

/// A tokio runtime whose threads all live in namespace `name`: its worker threads are born on a
/// thread that has joined the namespace, and so are the blocking threads its tasks ask for.
/// Sockets made by its tasks belong to the namespace, whoever spawned the task.
/// `quiet` keeps the runtime's threads to warnings and errors, for a library that logs every
/// request at info (hickory-server).
pub fn runtime(name: &str, workers: usize, quiet: bool) -> io::Result<tokio::runtime::Runtime> {
    // `node-1` of `galaxia-12-0-node-1`, for `top -H` and panics.
    let short = super::names::Tag::parse(name).map_or(name, |(_, rest)| rest);
    let thread_name = format!("galaxia-{short}");
    run_in(name, move || {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(workers.max(1))
            .thread_name(thread_name)
            .enable_all();
        if quiet {
            b.on_thread_start(|| {
                let warnings = tracing_subscriber::fmt()
                    .with_max_level(tracing::Level::WARN)
                    .with_writer(std::io::stderr)
                    .finish();
                // The thread keeps this default for its whole life.
                std::mem::forget(tracing::subscriber::set_default(warnings));
            });
        }
        b.build()
    })?
}
