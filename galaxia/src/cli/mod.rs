//! The command line's verbs ([`command`]), on one printing layer ([`print`], [`kubectl`]).

pub mod apply;
pub mod bpf;
pub mod command;
pub mod create;
pub mod delete;
pub mod describe;
pub mod error;
pub mod events;
pub mod exec;
pub mod exec_pod;
pub mod get;
pub mod gojson;
pub mod hubble;
pub mod jsonpath;
pub mod kubectl;
pub mod logs;
pub mod observe;
pub mod output;
pub mod policy;
pub mod print;
pub mod rollout;
pub mod scale;
pub mod selector;
pub mod session;
pub mod status;
pub mod up;
pub mod watch;

pub use command::{Command, VerbLine};
pub use error::Error;
pub use print::Io;
