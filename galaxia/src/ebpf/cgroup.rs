//! The galaxy's cgroup (v2): every process of every pod is moved into it, and the socket load
//! balancer (`galaxia_sock_lb`, a `cgroup/connect4` program) is attached to it, as Cilium attaches
//! its socket LB to the root cgroup of a node. The cgroup2 hierarchy is used where the system
//! mounted it; where it did not, galaxia mounts its own view under the galaxy's state directory and
//! unmounts it when done.

use std::io;
use std::path::{Path, PathBuf};

use nix::mount::{MntFlags, MsFlags, mount, umount2};

use super::names::Tag;

#[derive(Debug)]
pub struct Cgroup {
    /// `<cgroup2 root>/<tag>`.
    pub path: PathBuf,
    /// The cgroup2 mount galaxia made, if it had to.
    mounted: Option<PathBuf>,
}

/// The mount points of cgroup2 hierarchies, from `/proc/self/mountinfo`.
pub fn cgroup2_mounts() -> Vec<PathBuf> {
    mounts()
        .into_iter()
        .filter(|m| m.fstype == "cgroup2")
        .map(|m| m.target)
        .collect()
}

/// One line of `/proc/self/mountinfo`, the parts galaxia needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub target: PathBuf,
    pub fstype: String,
}

pub fn mounts() -> Vec<Mount> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    parse_mountinfo(&text)
}

/// `36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw` -> (/mnt/parent, ext3).
/// Octal escapes in the path (`\040` for a space) are decoded.
fn parse_mountinfo(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|l| {
            let (head, tail) = l.split_once(" - ")?;
            let target = head.split(' ').nth(4)?;
            let fstype = tail.split(' ').next()?;
            Some(Mount {
                target: PathBuf::from(unescape(target)),
                fstype: fstype.to_string(),
            })
        })
        .collect()
}

fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Cgroup {
    /// Create the galaxy's cgroup (its state directory must exist).
    pub fn create(tag: &Tag) -> io::Result<Cgroup> {
        let (root, mounted) = match cgroup2_mounts().into_iter().next() {
            Some(root) => (root, None),
            None => {
                let at = tag.state_dir().join("cgroup2");
                std::fs::create_dir_all(&at)?;
                mount(
                    Some("none"),
                    &at,
                    Some("cgroup2"),
                    MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
                    None::<&str>,
                )?;
                (at.clone(), Some(at))
            }
        };
        let path = root.join(tag.to_string());
        if let Err(e) = std::fs::create_dir(&path) {
            if let Some(m) = &mounted {
                let _ = umount2(m, MntFlags::MNT_DETACH);
            }
            return Err(e);
        }
        Ok(Cgroup { path, mounted })
    }

    /// The processes in it.
    pub fn pids(&self) -> Vec<i32> {
        pids(&self.path)
    }

    /// Remove it (it must be empty of processes), and galaxia's own cgroup2 mount if any.
    pub fn remove(&self) -> io::Result<()> {
        let removed = remove_dir(&self.path);
        if let Some(m) = &self.mounted {
            let _ = umount2(m, MntFlags::MNT_DETACH);
            let _ = std::fs::remove_dir(m);
        }
        removed
    }
}

/// The pids listed in `<cgroup>/cgroup.procs`.
pub fn pids(cgroup: &Path) -> Vec<i32> {
    std::fs::read_to_string(cgroup.join("cgroup.procs"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// rmdir, retried for a moment: the kernel empties a cgroup shortly after its last process is
/// reaped, not at once.
pub fn remove_dir(path: &Path) -> io::Result<()> {
    let mut last = None;
    for _ in 0..50 {
        match std::fs::remove_dir(path) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => last = Some(e),
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Err(last.unwrap_or_else(|| io::Error::other("cgroup busy")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_lines_give_target_and_type() {
        let text = "35 24 0:30 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw\n\
                    40 24 0:31 / /run/netns/galaxia-1-0-node-0 rw shared:5 - nsfs nsfs rw\n\
                    41 24 0:32 / /mnt/with\\040space rw - tmpfs tmpfs rw\n";
        let m = parse_mountinfo(text);
        assert_eq!(m[0].target, PathBuf::from("/sys/fs/cgroup/unified"));
        assert_eq!(m[0].fstype, "cgroup2");
        assert_eq!(m[1].fstype, "nsfs");
        assert_eq!(m[2].target, PathBuf::from("/mnt/with space"));
    }
}
