//! What a verb can fail with, and the exit code each failure gives.

/// Verbs with their own error type add a variant (`#[from]`), or wrap it with [`Error::verb`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The manifests could not be loaded; the message lists every problem.
    #[error(transparent)]
    Manifest(#[from] crate::manifest::LoadErrors),
    /// The policies could not be compiled.
    #[error(transparent)]
    Policy(#[from] politica::CompileErrors),
    /// The command line names something that does not exist or makes no sense together.
    #[error("{0}")]
    Usage(String),
    /// Any other verb failure, with what the verb was doing for context.
    #[error("{verb}")]
    Verb {
        verb: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// The verb already told the user on stderr (kubectl-style lines, or a child's own output):
    /// exit with this code and print nothing more.
    #[error("exit status {0}")]
    Reported(u8),
    /// Writing the output failed.
    #[error("writing the output")]
    Output(#[from] std::io::Error),
}

impl Error {
    /// `source` happened while the verb was doing `what`.
    pub fn verb(
        what: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Error {
        Error::Verb {
            verb: what,
            source: Box::new(source),
        }
    }

    /// The process exit code: 2 for bad input (manifests, policies, arguments), 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Manifest(_) | Error::Policy(_) | Error::Usage(_) => 2,
            Error::Verb { .. } | Error::Output(_) => 1,
            Error::Reported(code) => *code,
        }
    }

    /// The error and its causes on one line, so that the context is never lost.
    pub fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            let cause_text = cause.to_string();
            // thiserror's `transparent` and `{0}` displays would otherwise repeat the same text.
            if !text.ends_with(&cause_text) {
                text.push_str(": ");
                text.push_str(&cause_text);
            }
            source = cause.source();
        }
        text
    }

    /// True when stdout was closed by the reader (`| head`): not worth an error message.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Output(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

impl From<crate::control::ControlError> for Error {
    fn from(e: crate::control::ControlError) -> Self {
        Error::verb("galaxy", e)
    }
}
