//! Loading errors: each names the file, the document and the field, and loading collects them
//! all instead of stopping at the first.

use std::fmt;
use std::sync::Arc;

/// Where an object came from: a file (or `<stdin>`, or the name given to [`super::load_str`]) and
/// the document's 1-based index inside it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    pub source: Arc<str>,
    pub document: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, document {}", self.source, self.document)
    }
}

/// One problem in the manifests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The file (or source name) the problem is in.
    pub source: Arc<str>,
    /// The 1-based document index; `None` for problems of the whole file (unreadable, empty).
    pub document: Option<usize>,
    /// `Kind namespace/name` when the object got that far.
    pub object: Option<String>,
    /// The field path in YAML terms (`spec.ingress[0].toPorts[0].ports[0].port`), when known.
    pub field: Option<String>,
    pub message: String,
}

impl LoadError {
    pub(crate) fn file(source: &Arc<str>, message: impl Into<String>) -> Self {
        LoadError {
            source: source.clone(),
            document: None,
            object: None,
            field: None,
            message: message.into(),
        }
    }

    pub(crate) fn at(origin: &Origin, message: impl Into<String>) -> Self {
        LoadError {
            source: origin.source.clone(),
            document: Some(origin.document),
            object: None,
            field: None,
            message: message.into(),
        }
    }

    pub(crate) fn with_object(mut self, object: Option<&str>) -> Self {
        self.object = object.map(str::to_string);
        self
    }

    pub(crate) fn with_field(mut self, field: impl Into<String>) -> Self {
        let field = field.into();
        self.field = (!field.is_empty() && field != ".").then_some(field);
        self
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.source)?;
        if let Some(doc) = self.document {
            write!(f, ", document {doc}")?;
        }
        if let Some(object) = &self.object {
            write!(f, " ({object})")?;
        }
        f.write_str(": ")?;
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for LoadError {}

/// Every problem found while loading; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadErrors(pub Vec<LoadError>);

impl LoadErrors {
    pub fn iter(&self) -> std::slice::Iter<'_, LoadError> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [one] => write!(f, "{one}"),
            many => {
                write!(f, "{} problems in the manifests:", many.len())?;
                for e in many {
                    write!(f, "\n  - {e}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for LoadErrors {}
