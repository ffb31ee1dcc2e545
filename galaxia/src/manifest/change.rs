//! What a change did to one object, typed: kubectl's verbs (`create`, `apply`, `delete`) end in
//! one of these per object, and only the CLI turns them into kubectl's lines.

use serde::{Deserialize, Serialize};

use super::object::ObjectKey;

/// `create` refuses an existing name; `apply` creates or updates (kubectl's two verbs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApplyMode {
    Create,
    Apply,
}

/// A change that went through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Created,
    Configured,
    Unchanged,
    Deleted,
}

/// A change the server refused, named as kubectl's `Error from server (...)` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    AlreadyExists,
    NotFound,
}

/// One object's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    pub key: ObjectKey,
    pub result: Result<Change, Refusal>,
}

/// A document the verb did not act on because of its kind: one kubectl refuses before the server
/// (`served: false`, a misspelled kind), or one a cluster would take but a running galaxy does not
/// run (`served: true`, a ConfigMap or a NetworkPolicy).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotRun {
    /// The file as named on the command line (`-` for stdin).
    pub origin: String,
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: String,
    pub served: bool,
}

impl From<&super::Ignored> for NotRun {
    fn from(i: &super::Ignored) -> NotRun {
        NotRun {
            origin: i.origin.source.to_string(),
            api_version: i.api_version.clone(),
            kind: i.kind.clone(),
            name: i.name.clone().unwrap_or_default(),
            namespace: i.namespace.clone().unwrap_or_default(),
            served: i.served(),
        }
    }
}
