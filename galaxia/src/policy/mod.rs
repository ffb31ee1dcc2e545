//! The Cilium policy engine: a pure function of (policies, flow) -> verdict (in progress).

/// Every problem found while compiling policies.
#[derive(Debug, thiserror::Error)]
#[error("invalid policies")]
pub struct CompileErrors(pub Vec<String>);
