//! The `--json` file: opened before the run, so that a path that cannot be written fails at once
//! and not after a long run whose figures would then be lost, and written once at the end.

use std::fs::{File, OpenOptions};
use std::io::{Seek as _, Write as _};
use std::path::{Path, PathBuf};

use crate::report::Report;

#[derive(Debug, thiserror::Error)]
#[error("cannot write --json {}: {source}", path.display())]
pub struct JsonFileError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// An open `--json` file.
#[derive(Debug)]
pub struct JsonFile {
    path: PathBuf,
    file: File,
    /// The file did not exist before: a run that fails removes it again.
    created: bool,
}

impl JsonFile {
    /// Open (or create) the file for writing without truncating it: a run that cannot be made
    /// leaves an existing report as it was.
    pub fn open(path: &Path) -> Result<JsonFile, JsonFileError> {
        let err = |source| JsonFileError {
            path: path.to_path_buf(),
            source,
        };
        let created = !path.exists();
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(err)?;
        Ok(JsonFile {
            path: path.to_path_buf(),
            file,
            created,
        })
    }

    /// Replace the file's content with the report.
    pub fn write(mut self, report: &Report) -> Result<(), JsonFileError> {
        let json = serde_json::to_vec_pretty(report).map_err(std::io::Error::other);
        let written = json.and_then(|json| {
            self.file.set_len(0)?;
            self.file.rewind()?;
            self.file.write_all(&json)?;
            self.file.flush()
        });
        written.map_err(|source| JsonFileError {
            path: self.path,
            source,
        })
    }

    /// The run could not be made: remove the file if this run created it.
    pub fn discard(self) {
        if self.created {
            drop(self.file);
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
