//! What can be wrong with a policy: one [`Problem`] a field, collected into [`CompileErrors`].

use std::fmt;

/// One problem in a policy, with the field it is in (`spec.ingress[0].toPorts[0].ports[0].port`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    pub message: String,
}

impl Problem {
    pub(crate) fn new(field: &str, message: impl Into<String>) -> Problem {
        Problem {
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// A field the emulator accepts syntactically but cannot enforce: refused by name, never
    /// silently ignored.
    pub(crate) fn not_emulated(field: &str) -> Problem {
        let name = field.rsplit('.').next().unwrap_or(field);
        let name = name.split('[').next().unwrap_or(name);
        Problem::new(
            field,
            format!("{name} is not emulated by galaxia: a real Cilium is needed for this policy"),
        )
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Every problem of one policy; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileErrors(pub Vec<Problem>);

impl fmt::Display for CompileErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CompileErrors {}
