//! Log set-up for the binary (and anyone embedding the station who wants the same lines): tracing
//! to stderr, JSON when stderr is not a terminal or when asked.

use std::io::IsTerminal;

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

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
///
/// The filter is a `Targets` list ("info", "warn,estrela_da_morte=debug"): enough for a server,
/// and it keeps the regex engine of `EnvFilter` out of the binary (smaller, less resident memory).
pub fn init(config: &Config) -> Result<(), LoggingError> {
    let filter: Targets = config
        .log_level
        .parse()
        .map_err(|source| LoggingError::Filter {
            level: config.log_level.clone(),
            source,
        })?;
    let json = match config.log_format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let registry = tracing_subscriber::registry().with(filter);
    let installed = if json {
        let layer = tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_writer(std::io::stderr);
        registry.with(layer).try_init()
    } else {
        let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
        registry.with(layer).try_init()
    };
    installed.map_err(|_| LoggingError::AlreadySet)
}
