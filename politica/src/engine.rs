//! The engine a datapath asks: the policy set in force over the endpoints it knows. A datapath
//! names the two ends of a connection by [`EndpointId`]; an id the engine has no endpoint for is
//! denied with [`ConnectionReason::UnknownEndpoint`], so that a lookup that goes wrong (a pod gone,
//! an id mixed up) can never open a path: the engine fails closed.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::endpoint::{Endpoint, EndpointId, Protocol};
use crate::identity::{Identities, NumericIdentity, identity_labels};
use crate::set::PolicySet;
use crate::verdict::{ConnectionReason, ConnectionVerdict, End};

/// One known endpoint with its security identity.
#[derive(Debug, Clone)]
pub struct Known {
    pub endpoint: Endpoint,
    pub identity: NumericIdentity,
    /// The identity's labels, as Hubble lists them (`k8s:key=value`, sorted).
    pub labels: Vec<String>,
}

/// The endpoints a datapath may name, by id, each with the identity of its labels.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    by_id: BTreeMap<EndpointId, Known>,
    identities: Identities,
}

impl Endpoints {
    pub fn new() -> Endpoints {
        Endpoints::default()
    }

    /// Add (or replace) the endpoint numbered `id`; its identity is allocated from its labels.
    pub fn insert(&mut self, id: EndpointId, endpoint: Endpoint) -> NumericIdentity {
        let labels = identity_labels(&endpoint);
        let identity = self.identities.allocate(&labels);
        self.by_id.insert(
            id,
            Known {
                endpoint,
                identity,
                labels,
            },
        );
        identity
    }

    pub fn get(&self, id: EndpointId) -> Option<&Known> {
        self.by_id.get(&id)
    }
}

/// A policy set over known endpoints. Cheap to share: a policy change builds a new engine
/// around the same endpoints and swaps it in whole.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    policies: PolicySet,
    endpoints: Arc<Endpoints>,
}

impl Engine {
    pub fn new(policies: PolicySet, endpoints: Arc<Endpoints>) -> Engine {
        Engine {
            policies,
            endpoints,
        }
    }

    /// The ports that rules selecting endpoint `dst` name ([`PolicySet::ports`]); empty for an
    /// unknown endpoint.
    pub fn ports(&self, dst: EndpointId) -> std::collections::BTreeSet<(u16, Option<Protocol>)> {
        self.endpoints
            .get(dst)
            .map(|d| self.policies.ports(&d.endpoint))
            .unwrap_or_default()
    }

    /// The endpoints this engine knows.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// Decide a connection from endpoint `src` to endpoint `dst` on the destination's container
    /// `port`; an unknown end is dropped.
    pub fn connection(
        &self,
        src: EndpointId,
        dst: EndpointId,
        port: u16,
        protocol: Protocol,
    ) -> ConnectionVerdict {
        let unknown =
            |end, id| ConnectionVerdict::dropped(ConnectionReason::UnknownEndpoint { end, id });
        let Some(s) = self.endpoints.get(src) else {
            return unknown(End::Source, src);
        };
        let Some(d) = self.endpoints.get(dst) else {
            return unknown(End::Destination, dst);
        };
        self.policies
            .connection(&s.endpoint, &d.endpoint, port, protocol)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test may unwrap: a panic is its failure report
mod tests {
    use super::*;
    use crate::{CiliumNetworkPolicy, CompiledPolicy, L4Verdict};

    fn endpoint(name: &str, labels: &[(&str, &str)]) -> Endpoint {
        let labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Endpoint::new(name, "default", &labels, None, Vec::new())
    }

    /// The book's L4 policy: only org=imperio reaches the Death Star on 80.
    fn l4() -> PolicySet {
        let cnp: CiliumNetworkPolicy = serde_json::from_value(serde_json::json!({
            "apiVersion": "cilium.io/v2",
            "kind": "CiliumNetworkPolicy",
            "metadata": {"name": "regra1"},
            "spec": {
                "endpointSelector": {"matchLabels": {"class": "estrela-da-morte"}},
                "ingress": [{
                    "fromEndpoints": [{"matchLabels": {"org": "imperio"}}],
                    "toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}]}]
                }]
            }
        }))
        .unwrap();
        PolicySet::new([Arc::new(CompiledPolicy::compile(&cnp).unwrap())])
    }

    fn engine(policies: PolicySet) -> Engine {
        let mut eps = Endpoints::new();
        eps.insert(
            EndpointId(1),
            endpoint(
                "estrela-da-morte",
                &[("class", "estrela-da-morte"), ("org", "imperio")],
            ),
        );
        eps.insert(
            EndpointId(2),
            endpoint("caca-tie", &[("class", "caca-tie"), ("org", "imperio")]),
        );
        Engine::new(policies, Arc::new(eps))
    }

    #[test]
    fn known_ends_get_the_policy_verdict() {
        let e = engine(l4());
        let v = e.connection(EndpointId(2), EndpointId(1), 80, Protocol::Tcp);
        assert_eq!(v.verdict, L4Verdict::Allowed, "{:?}", v.reason);
    }

    #[test]
    fn the_ports_rules_name_and_every_other_port_answers_alike() {
        let e = engine(l4());
        let ports = e.ports(EndpointId(1));
        assert_eq!(
            ports.into_iter().collect::<Vec<_>>(),
            [(80, Some(Protocol::Tcp))]
        );
        assert!(
            e.ports(EndpointId(2)).is_empty(),
            "no policy selects the TIE fighter"
        );
        assert!(e.ports(EndpointId(99)).is_empty());
        let at = |port| {
            e.connection(EndpointId(2), EndpointId(1), port, Protocol::Tcp)
                .verdict
        };
        assert_eq!(at(80), L4Verdict::Allowed);
        for unnamed in [1, 79, 81, 9090, 65535] {
            assert_eq!(at(unnamed), L4Verdict::Dropped, "{unnamed}");
        }
    }

    #[test]
    fn an_unknown_pod_is_denied_never_allowed() {
        // With no policy at all every known pair is allowed; an unknown end still is not.
        for policies in [PolicySet::default(), l4()] {
            let e = engine(policies);
            let v = e.connection(EndpointId(99), EndpointId(1), 80, Protocol::Tcp);
            assert_eq!(v.verdict, L4Verdict::Dropped);
            assert_eq!(
                v.reason,
                ConnectionReason::UnknownEndpoint {
                    end: End::Source,
                    id: EndpointId(99)
                }
            );
            assert!(v.l7.is_none());
            let v = e.connection(EndpointId(2), EndpointId(77), 80, Protocol::Tcp);
            assert_eq!(v.verdict, L4Verdict::Dropped);
            assert!(matches!(
                v.reason,
                ConnectionReason::UnknownEndpoint {
                    end: End::Destination,
                    ..
                }
            ));
            let req = crate::HttpRequest {
                method: "POST",
                path: "/v1/request-landing",
                host: "estrela-da-morte",
                headers: &http::HeaderMap::new(),
            };
            assert!(
                v.http(&req).is_none(),
                "no request passes a dropped connection"
            );
        }
    }
}
