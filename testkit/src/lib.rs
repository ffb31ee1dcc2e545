//! # testkit
//!
//! The shared test harness of the workspace: what the integration tests of `frota`, `caca-tie`,
//! `asa-x` and `loadtest` have in common, in one copy. It is a dev-dependency only
//! (`testkit.workspace = true` under `[dev-dependencies]`), never shipped, and not published.
//!
//! - [`consts`]: the canned answers tests serve (Cilium's Envoy 403, a landing, malformed ones),
//!   built from the bytes `estrela_da_morte::wire` and `frota::outcome` define, not copies.
//! - [`servers`]: a real Death Star on `127.0.0.1:0`, a server answering canned bytes that records
//!   what it got, a listener that never answers (a policy drop), a closed port, a server that
//!   hangs up without answering.
//! - [`http`]: reading one raw HTTP/1.1 request off a socket, and finding bytes in bytes.
//! - [`metrics`]: sums of counters in Prometheus text.
//! - [`skip`]: skipping a test that cannot run here, so that it shows in scripts/test.sh's summary.
//!
//! Loopback only (DESIGN.md, network safety): every server binds `127.0.0.1` on an ephemeral port
//! and tests reach it by the address it returns; nothing here binds `0.0.0.0`, uses a fixed port or
//! talks to another address. Servers run as tasks of the calling test's tokio runtime and end with
//! it.
//!
//! A helper only one crate's tests use stays in that crate's `tests/util/mod.rs`. Setting up the
//! harness (binding a loopback port, say) panics on failure with a message saying what failed:
//! a harness that cannot start is a failed test.

pub mod consts;
pub mod http;
pub mod metrics;
pub mod servers;
pub mod skip;
