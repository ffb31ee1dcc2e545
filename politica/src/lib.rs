//! `politica`: Cilium's ingress policy semantics (Cilium 1.15, the book's version) as a pure
//! library, with no sockets and no runtime, so that every datapath of galaxia (and its tests) asks
//! the same engine.
//!
//! - [`cnp`]: our serde model of `CiliumNetworkPolicy`, strict about unknown fields;
//! - [`labels`]: Kubernetes label syntax;
//! - [`CompiledPolicy::compile`]: from the model to selectors, ports and regexes, every problem
//!   (and every field not emulated) named with its field path;
//! - [`PolicySet::connection`]: a connection's [`ConnectionVerdict`] (L3/L4), whose
//!   [`ConnectionVerdict::http`] gives each request's [`HttpVerdict`] (L7);
//! - [`Engine`]: the set in force over the [`Endpoints`] a datapath knows, failing closed.
//!
//! Every verdict carries a typed reason ([`ConnectionReason`], [`HttpReason`]) naming the policy
//! and rule ([`RuleRef`]) that decided.

pub mod cnp;
pub mod labels;

mod compile;
mod endpoint;
mod engine;
mod http;
pub mod identity;
mod problem;
mod selector;
mod set;
mod verdict;

pub use cnp::CiliumNetworkPolicy;
pub use compile::{CompiledPolicy, PolicyId};
pub use endpoint::{Endpoint, EndpointId, NamedPort, Protocol};
pub use engine::{Endpoints, Engine, Known};
pub use http::HttpRequest;
pub use identity::{Identities, NumericIdentity, Reserved};
pub use problem::{CompileErrors, Problem};
pub use set::PolicySet;
pub use verdict::{
    CONNECTION_DROPPED, ConnectionReason, ConnectionVerdict, End, HttpReason, HttpVerdict,
    L4Verdict, L7Filter, L7Verdict, MatchType, RuleRef, Section,
};
