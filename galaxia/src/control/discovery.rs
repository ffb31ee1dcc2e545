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

/// Write the file (its directory private to the user), atomically through a rename.
pub fn write(path: &Path, d: &Discovery) -> Result<(), DiscoveryError> {
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
    }
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let text = serde_json::to_string(d).map_err(|e| err(std::io::Error::other(e)))?;
    std::fs::write(&tmp, text).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

/// Remove the file if it still names this process (a newer galaxy may have replaced it).
pub fn remove_if_ours(path: &Path) {
    if read(path).is_ok_and(|d| d.pid == std::process::id()) {
        let _ = std::fs::remove_file(path);
    }
}
