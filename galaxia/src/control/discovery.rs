//! How the verbs find a running galaxy without flags: `galaxia up` writes its control API address
//! to a small JSON file in a per-user directory; the other verbs read it.
//!
//! The file lives at `$GALAXIA_CONTROL_FILE` (or `--control-file`), else
//! `$XDG_RUNTIME_DIR/galaxia/control.json`, else `/tmp/galaxia-$UID/control.json`. Tests point the
//! variable at their own temp dir so that parallel galaxies never meet.

use std::net::SocketAddr;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The flag every verb that talks to a running galaxy takes.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ControlArgs {
    /// The running galaxy's discovery file (written by `galaxia up`).
    #[arg(long, env = "GALAXIA_CONTROL_FILE", value_name = "PATH")]
    pub control_file: Option<PathBuf>,
}

impl ControlArgs {
    pub fn path(&self) -> PathBuf {
        self.control_file.clone().unwrap_or_else(default_path)
    }
}

/// What the discovery file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discovery {
    /// The control API, always on 127.0.0.1.
    pub addr: SocketAddr,
    /// The `galaxia up` process (to tell a stale file from a live one).
    pub pid: u32,
    /// Hubble's Observer API (gRPC, plaintext), on 127.0.0.1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hubble: Option<SocketAddr>,
    /// The web UI (`galaxia hubble ui` opens it), on 127.0.0.1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui: Option<SocketAddr>,
    /// The per-run secret every control API request carries (`Authorization: Bearer ...`): only
    /// someone who can read this file (its owner) can change the galaxy.
    #[serde(default)]
    pub token: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error("no galaxy is running (no {path}): start one with `galaxia up`")]
    NotRunning { path: PathBuf },
    #[error("reading {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a galaxia discovery file")]
    Decode {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("writing {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "a galaxy is already running (pid {pid}, discovery file {path}): stop it first, or start a second one with its own discovery file (--control-file PATH, or GALAXIA_CONTROL_FILE) and point the other verbs at it the same way"
    )]
    AlreadyRunning { pid: u32, path: PathBuf },
    #[error(
        "{dir} can be written by other users (mode {mode:o}, owner uid {owner}): the discovery file holds the galaxy's secret, so galaxia keeps it only in a directory that is yours alone (chmod 700 {dir}, or choose another place with --control-file)"
    )]
    UnsafeDirectory { dir: PathBuf, mode: u32, owner: u32 },
}

/// The default location (see the module docs).
pub fn default_path() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("galaxia").join("control.json");
    }
    // The uid without libc: the owner of our own /proc entry.
    let uid = std::fs::metadata("/proc/self").map_or(0, |m| m.uid());
    PathBuf::from(format!("/tmp/galaxia-{uid}")).join("control.json")
}

pub fn read(path: &Path) -> Result<Discovery, DiscoveryError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(DiscoveryError::NotRunning {
                path: path.to_path_buf(),
            });
        }
        Err(source) => {
            return Err(DiscoveryError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    serde_json::from_str(&text).map_err(|source| DiscoveryError::Decode {
        path: path.to_path_buf(),
        source,
    })
}

/// Make sure this process may announce a galaxy at `path`: the directory exists, is the user's
/// and nobody else can write in it (created with mode 0700 when missing), and no living galaxy
/// holds the file (a stale one, whose process is gone, is removed).
pub fn claim(path: &Path) -> Result<(), DiscoveryError> {
    let err = |source| DiscoveryError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(err)?;
        let meta = std::fs::metadata(dir).map_err(err)?;
        let me = std::fs::metadata("/proc/self").map_or(0, |m| m.uid());
        let mode = meta.mode() & 0o7777;
        if meta.uid() != me || mode & 0o022 != 0 {
            return Err(DiscoveryError::UnsafeDirectory {
                dir: dir.to_path_buf(),
                mode,
                owner: meta.uid(),
            });
        }
    }
    match read(path) {
        Ok(d) if d.pid != std::process::id() && alive(d.pid) => {
            Err(DiscoveryError::AlreadyRunning {
                pid: d.pid,
                path: path.to_path_buf(),
            })
        }
        Ok(_) | Err(DiscoveryError::Decode { .. }) => {
            let _ = std::fs::remove_file(path);
            Ok(())
        }
        Err(DiscoveryError::NotRunning { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// True when `pid` is a running galaxia (a recycled PID running something else is not).
fn alive(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmd| {
        cmd.split(|b| *b == 0)
            .next()
            .is_some_and(|argv0| String::from_utf8_lossy(argv0).contains("galaxia"))
    })
}

/// Write the file (mode 0600, in a directory [`claim`] checked), atomically through a rename.
pub fn write(path: &Path, d: &Discovery) -> Result<(), DiscoveryError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let err = |source| DiscoveryError::Write {
        path: path.to_path_buf(),
        source,
    };
    claim(path)?;
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let text = serde_json::to_string(d).map_err(|e| err(std::io::Error::other(e)))?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(err)?;
    f.write_all(text.as_bytes()).map_err(err)?;
    f.sync_all().map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

/// A fresh per-run secret: 32 random bytes in hex.
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Remove the file if it still names this process (a newer galaxy may have replaced it).
pub fn remove_if_ours(path: &Path) {
    if read(path).is_ok_and(|d| d.pid == std::process::id()) {
        let _ = std::fs::remove_file(path);
    }
}
