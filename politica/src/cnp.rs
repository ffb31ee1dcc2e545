//! Our serde model of `CiliumNetworkPolicy` (`cilium.io/v2`), following Cilium 1.15.10's CRD.
//!
//! Every field the CRD defines is accepted by the decoder, and unknown fields are rejected, so a
//! typo is an error rather than a silently ignored rule. Fields galaxia does not emulate are kept
//! as raw values: the policy compiler refuses them by name (a real Cilium is needed for those).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Deserializer, Serialize};

/// A value galaxia accepts syntactically but does not emulate.
pub type NotEmulated = serde_json::Value;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CiliumNetworkPolicy {
    pub api_version: String,
    pub kind: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<Rule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specs: Option<Vec<Rule>>,
    /// Written by Cilium, not by users; accepted and ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<serde_json::Value>,
}

impl CiliumNetworkPolicy {
    /// `metadata.namespace`, else `default`.
    pub fn namespace(&self) -> &str {
        self.metadata
            .namespace
            .as_deref()
            .filter(|ns| !ns.is_empty())
            .unwrap_or("default")
    }

    pub fn name(&self) -> &str {
        self.metadata.name.as_deref().unwrap_or("")
    }
}

/// One policy rule (`spec`, or one item of `specs`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_selector: Option<LabelSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<LabelSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<Vec<IngressRule>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress_deny: Option<Vec<IngressDenyRule>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub egress: Option<NotEmulated>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub egress_deny: Option<NotEmulated>,
    /// Rule labels are metadata (shown by `cilium policy get`); they do not change verdicts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<RuleLabel>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleLabel {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A Kubernetes label selector whose keys may carry a Cilium source prefix (`k8s:`, `any:`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelSelector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_expressions: Option<Vec<LabelSelectorRequirement>>,
}

/// The operator stays a string so that an unknown one is reported with the other problems of the
/// document instead of stopping the decoder.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelSelectorRequirement {
    pub key: String,
    pub operator: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IngressRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_endpoints: Option<Vec<LabelSelector>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_entities: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_ports: Option<Vec<PortRule>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_requires: Option<NotEmulated>,
    #[serde(default, rename = "fromCIDR", skip_serializing_if = "Option::is_none")]
    pub from_cidr: Option<NotEmulated>,
    #[serde(
        default,
        rename = "fromCIDRSet",
        skip_serializing_if = "Option::is_none"
    )]
    pub from_cidr_set: Option<NotEmulated>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icmps: Option<NotEmulated>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication: Option<NotEmulated>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IngressDenyRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_endpoints: Option<Vec<LabelSelector>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_entities: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_ports: Option<Vec<PortDenyRule>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_requires: Option<NotEmulated>,
    #[serde(default, rename = "fromCIDR", skip_serializing_if = "Option::is_none")]
    pub from_cidr: Option<NotEmulated>,
    #[serde(
        default,
        rename = "fromCIDRSet",
        skip_serializing_if = "Option::is_none"
    )]
    pub from_cidr_set: Option<NotEmulated>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icmps: Option<NotEmulated>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PortRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<PortProtocol>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<L7Rules>,
    #[serde(
        default,
        rename = "terminatingTLS",
        skip_serializing_if = "Option::is_none"
    )]
    pub terminating_tls: Option<NotEmulated>,
    #[serde(
        default,
        rename = "originatingTLS",
        skip_serializing_if = "Option::is_none"
    )]
    pub originating_tls: Option<NotEmulated>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_names: Option<NotEmulated>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listener: Option<NotEmulated>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PortDenyRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<PortProtocol>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PortProtocol {
    /// A number (`"80"`, `"0"` for every port) or a container port name (`"http"`). The CRD
    /// types it as a string, so a YAML number is refused as the API server would refuse it.
    #[serde(deserialize_with = "port_string")]
    pub port: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct L7Rules {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<Vec<HttpRule>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kafka: Option<NotEmulated>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<NotEmulated>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l7proto: Option<NotEmulated>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l7: Option<NotEmulated>,
}

/// One HTTP rule: every field set must match (AND); `method`, `path` and `host` are RE2 regexes
/// matched against the whole value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// `"Name: value"` (exact value) or `"Name"` (present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_matches: Option<NotEmulated>,
}

fn port_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct V;
    impl serde::de::Visitor<'_> for V {
        type Value = String;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a port as a string, e.g. \"80\" or \"http\"")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<String, E> {
            Err(E::custom(format!(
                "the port must be a string: write \"{v}\" (quoted); the CRD types it as a string and kubectl would refuse a number"
            )))
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<String, E> {
            self.visit_u64(v.unsigned_abs())
        }
    }
    d.deserialize_any(V)
}
