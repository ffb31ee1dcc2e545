//! Compiled label selectors with Cilium's source prefixes (`any:`, `k8s:`, `reserved:`).

use std::collections::BTreeMap;

use crate::cnp::LabelSelector;
use crate::labels;
use crate::problem::Problem;

/// Where a label comes from; pods only have `k8s` labels, and a key without a source matches any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Any,
    K8s,
    /// `reserved:` and the other Cilium sources: never carried by a pod.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    DoesNotExist,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Requirement {
    source: Source,
    key: String,
    op: Op,
}

/// A label selector ready to match: requirements ANDed, none selects everything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selector {
    reqs: Vec<Requirement>,
}

const SOURCES: [&str; 9] = [
    "any",
    "k8s",
    "reserved",
    "container",
    "unspec",
    "cidr",
    "fqdn",
    "kvstore",
    "cilium-generated",
];

impl Selector {
    /// Compile a selector, pushing every problem with its field path.
    pub(crate) fn compile(
        sel: &LabelSelector,
        field: &str,
        problems: &mut Vec<Problem>,
    ) -> Selector {
        let mut reqs = Vec::new();
        for (k, v) in sel.match_labels.iter().flatten() {
            let f = format!("{field}.matchLabels.{k}");
            if let Some((source, key)) = parse_key(k, &f, problems) {
                if let Err(msg) = labels::check_value(v) {
                    problems.push(Problem::new(&f, msg));
                }
                reqs.push(Requirement {
                    source,
                    key,
                    op: Op::In(vec![v.clone()]),
                });
            }
        }
        for (i, e) in sel.match_expressions.iter().flatten().enumerate() {
            let f = format!("{field}.matchExpressions[{i}]");
            let Some((source, key)) = parse_key(&e.key, &format!("{f}.key"), problems) else {
                continue;
            };
            let values = e.values.clone().unwrap_or_default();
            for v in &values {
                if let Err(msg) = labels::check_value(v) {
                    problems.push(Problem::new(&format!("{f}.values"), msg));
                }
            }
            let op = match e.operator.as_str() {
                "In" | "NotIn" if values.is_empty() => {
                    problems.push(Problem::new(
                        &format!("{f}.values"),
                        format!("operator {} needs at least one value", e.operator),
                    ));
                    continue;
                }
                "In" => Op::In(values),
                "NotIn" => Op::NotIn(values),
                "Exists" | "DoesNotExist" if !values.is_empty() => {
                    problems.push(Problem::new(
                        &format!("{f}.values"),
                        format!("operator {} takes no values", e.operator),
                    ));
                    continue;
                }
                "Exists" => Op::Exists,
                "DoesNotExist" => Op::DoesNotExist,
                other => {
                    problems.push(Problem::new(
                        &format!("{f}.operator"),
                        format!(
                            "unknown operator {other:?}: want In, NotIn, Exists or DoesNotExist"
                        ),
                    ));
                    continue;
                }
            };
            reqs.push(Requirement { source, key, op });
        }
        Selector { reqs }
    }

    /// True when every requirement holds for these (k8s-source) labels.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.reqs.iter().all(|r| {
            let value = match r.source {
                Source::Any | Source::K8s => labels.get(&r.key),
                Source::Other => None,
            };
            match &r.op {
                Op::In(vs) => value.is_some_and(|v| vs.contains(v)),
                Op::NotIn(vs) => value.is_none_or(|v| !vs.contains(v)),
                Op::Exists => value.is_some(),
                Op::DoesNotExist => value.is_none(),
            }
        })
    }

    /// True when a requirement names `key` with the `any` or `k8s` source.
    pub(crate) fn names_key(&self, key: &str) -> bool {
        self.reqs
            .iter()
            .any(|r| r.source != Source::Other && r.key == key)
    }

    pub(crate) fn names_key_prefix(&self, prefix: &str) -> bool {
        self.reqs
            .iter()
            .any(|r| r.source != Source::Other && r.key.starts_with(prefix))
    }

    pub(crate) fn names_other_source(&self) -> bool {
        self.reqs.iter().any(|r| r.source == Source::Other)
    }

    /// Drop a `k8s:`-sourced match on `key` (Cilium overwrites it).
    pub(crate) fn remove_k8s_key(&mut self, key: &str) {
        self.reqs
            .retain(|r| !(r.source == Source::K8s && r.key == key));
    }

    /// Add `k8s:key=value`, as Cilium scopes selectors to a namespace.
    pub(crate) fn add_k8s_match(&mut self, key: &str, value: &str) {
        self.reqs.push(Requirement {
            source: Source::K8s,
            key: key.to_string(),
            op: Op::In(vec![value.to_string()]),
        });
    }
}

fn parse_key(raw: &str, field: &str, problems: &mut Vec<Problem>) -> Option<(Source, String)> {
    let (source, key) = match raw.split_once(':') {
        Some((src, key)) => {
            let source = match src {
                "any" => Source::Any,
                "k8s" => Source::K8s,
                s if SOURCES.contains(&s) => Source::Other,
                s => {
                    problems.push(Problem::new(
                        field,
                        format!(
                            "unknown label source {s:?} in key {raw:?}: want one of {}",
                            SOURCES.join(", ")
                        ),
                    ));
                    return None;
                }
            };
            (source, key)
        }
        None => (Source::Any, raw),
    };
    if let Err(msg) = labels::check_key(key) {
        problems.push(Problem::new(field, msg));
        return None;
    }
    Some((source, key.to_string()))
}
