//! Log set-up for the binary (and anyone embedding the station who wants the same lines): tracing
//! to stderr, JSON when stderr is not a terminal or when asked.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat};

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    /// `--log-level` is not a valid filter.
    #[error("invalid --log-level {level:?}")]
    Filter {
        /// The rejected filter.
        level: String,
        /// The parser's complaint.
        source: tracing_subscriber::filter::ParseError,
    },
    /// Another global subscriber was installed first.
    #[error("a global log subscriber is already installed")]
    AlreadySet,
}

/// Installs the global subscriber described by `config`.
pub fn init(config: &Config) -> Result<(), LoggingError> {
    let filter = EnvFilter::try_new(&config.log_level).map_err(|source| LoggingError::Filter {
        level: config.log_level.clone(),
        source,
    })?;
    let json = match config.log_format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init()
    } else {
        builder.try_init()
    };
    installed.map_err(|_| LoggingError::AlreadySet)
}
