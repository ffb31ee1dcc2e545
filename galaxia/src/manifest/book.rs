//! The book's three files, built into the binary so that `galaxia tutorial` and `galaxia up` work
//! from any directory. The repository's `k8s/` copies are the source.

/// `k8s/starwars.yml`: the Death Star Service and Deployment, caca-tie and asa-x.
pub const STARWARS: &str = include_str!("../../../k8s/starwars.yml");
/// `k8s/politica_l4.yml`: regra1, L3/L4 only.
pub const POLITICA_L4: &str = include_str!("../../../k8s/politica_l4.yml");
/// `k8s/politica_l7.yml`: regra1 with the HTTP rule.
pub const POLITICA_L7: &str = include_str!("../../../k8s/politica_l7.yml");
/// `k8s/cluster.yml`: the kind cluster (its name, nodes and subnets).
pub const CLUSTER: &str = include_str!("../../../k8s/cluster.yml");
