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
