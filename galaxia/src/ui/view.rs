//! What the page reads: the galaxy's endpoints and the cards of the service map (one a workload,
//! named as Hubble UI names them), each flow in the page's shape, and the policies in force with
//! their YAML and the truth table of `galaxia policy table`.
//!
//! Pods live as long as the galaxy, so the endpoints are sent once ([`StateView`]) and a flow
//! names its ends by endpoint ID: at thousands of flows a second that is most of the bytes.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use politica::{CiliumNetworkPolicy, CompiledPolicy, PolicySet};
use serde::Serialize;

use super::UiState;
use crate::flows::flow::{Decided, Direction, EndpointInfo, Event, Flow, Verdict};
use crate::hubble::{convert, printer};
use crate::manifest::reach::{TableRow, truth_table};
use crate::state::{Cluster, Role};

/// The labels Hubble UI names a card by, in its order of preference.
const APP_LABELS: &[&str] = &[
    "k8s:app",
    "k8s:app.kubernetes.io/name",
    "k8s:k8s-app",
    "k8s:class",
];

/// The card a pod belongs to: `namespace/app`, and the app name.
pub fn card_of(e: &EndpointInfo) -> (String, String) {
    let app = card_name(e).0;
    (format!("{}/{app}", e.namespace), app)
}

/// The app name of a pod's card, and the page's text filter that selects the card's pods.
fn card_name(e: &EndpointInfo) -> (String, String) {
    let by_label = APP_LABELS.iter().find_map(|key| {
        e.labels
            .iter()
            .find_map(|l| Some((*key, l.strip_prefix(key)?.strip_prefix('=')?)))
    });
    match (by_label, &e.workload) {
        (Some((key, value)), _) => (value.to_string(), format!("label={key}={value}")),
        (None, Some(w)) => (w.to_string(), format!("pod={}/{w}", e.namespace)),
        (None, None) => (e.pod.to_string(), format!("pod={}/{}", e.namespace, e.pod)),
    }
}

/// One endpoint (a pod) as flows name it.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointView {
    pub id: u16,
    pub identity: u32,
    pub namespace: String,
    pub pod: String,
    pub workload: Option<String>,
    /// The card this pod is drawn in (`namespace/app`).
    pub card: String,
    pub labels: Vec<String>,
    pub ip: String,
    pub node: String,
}

/// One card of the service map: the pods of one app in one namespace.
#[derive(Debug, Clone, Serialize)]
pub struct CardView {
    pub id: String,
    pub namespace: String,
    pub app: String,
    pub role: Role,
    pub pods: Vec<String>,
    pub identities: Vec<u32>,
    /// Labels every pod of the card has.
    pub labels: Vec<String>,
    /// The text filter that shows this card's flows (`label=k8s:class=caca-tie`).
    pub filter: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct StateView {
    pub cluster: String,
    pub namespaces: Vec<String>,
    pub endpoints: Vec<EndpointView>,
    pub cards: Vec<CardView>,
    /// The flow ring's capacity and what it recorded so far.
    pub ring_capacity: usize,
    pub ring_seen: u64,
    /// False under `galaxia up --no-hubble`: no flow will ever come.
    pub hubble: bool,
    /// The policy repository's revision (the stream's `policies` event says when it moves).
    pub revision: u64,
}

pub fn state_view(c: &Cluster) -> StateView {
    let endpoints: Vec<EndpointView> = c
        .pods
        .iter()
        .map(|p| {
            let e = &p.info;
            EndpointView {
                id: e.id,
                identity: e.identity.0,
                namespace: e.namespace.to_string(),
                pod: e.pod.to_string(),
                workload: e.workload.as_deref().map(str::to_string),
                card: card_of(e).0,
                labels: e.labels.clone(),
                ip: e.ip.to_string(),
                node: e.node.to_string(),
            }
        })
        .collect();
    let mut cards: Vec<CardView> = Vec::new();
    for p in &c.pods {
        let (id, app) = card_of(&p.info);
        match cards.iter_mut().find(|k| k.id == id) {
            Some(k) => {
                k.pods.push(p.name().to_string());
                if !k.identities.contains(&p.info.identity.0) {
                    k.identities.push(p.info.identity.0);
                }
                k.labels.retain(|l| p.info.labels.contains(l));
            }
            None => cards.push(CardView {
                id,
                namespace: p.namespace().to_string(),
                app,
                role: p.role(),
                pods: vec![p.name().to_string()],
                identities: vec![p.info.identity.0],
                labels: p.info.labels.clone(),
                filter: card_name(&p.info).1,
            }),
        }
    }
    let namespaces: BTreeSet<String> = c.pods.iter().map(|p| p.namespace().to_string()).collect();
    StateView {
        cluster: c.topology.cluster.clone(),
        namespaces: namespaces.into_iter().collect(),
        endpoints,
        cards,
        ring_capacity: c.flows.capacity(),
        ring_seen: c.flows.seen(),
        hubble: c.flows.enabled(),
        revision: c.policies.current().revision,
    }
}

pub async fn state(State(s): State<UiState>) -> Json<StateView> {
    Json(state_view(&s.cluster))
}

/// An HTTP record, as the table's L7 column and the card's endpoints show it.
#[derive(Debug, Clone, Serialize)]
pub struct L7View {
    /// `request` or `response`.
    pub kind: &'static str,
    pub method: String,
    pub url: String,
    /// The URL's path (and query), for the card's `POST /v1/request-landing`.
    pub path: String,
    pub protocol: String,
    pub code: u16,
    pub latency_ms: f64,
}

/// Which policy and rule decided, galaxia's own (Hubble can only name the allowing policy).
#[derive(Debug, Clone, Serialize)]
pub struct ReasonView {
    /// `connection` (L3/L4) or `http` (L7).
    pub layer: &'static str,
    /// `default/regra1`.
    pub policy: Option<String>,
    /// `spec.ingress[0].toPorts[0].rules.http[0]`.
    pub rule: Option<String>,
    /// The same sentence as `policy trace` and `observe`: `denied by ...`, `no policy selects`.
    pub text: String,
}

impl ReasonView {
    pub fn of(d: &Decided) -> ReasonView {
        let (layer, policy, rule) = match d {
            Decided::Connection(r) => ("connection", r.policy(), r.rule()),
            Decided::Http(r) => ("http", r.policy(), r.rule()),
        };
        ReasonView {
            layer,
            policy: policy.map(ToString::to_string),
            rule: rule.map(|r| r.path()),
            text: d.to_string(),
        }
    }
}

/// One flow as the page gets it: the flows table's columns, the detail panel's fields and the
/// deciding rule.
#[derive(Debug, Clone, Serialize)]
pub struct FlowView {
    pub seq: u64,
    /// Milliseconds since the Unix epoch.
    pub ms: u64,
    /// RFC 3339 with nanoseconds.
    pub time: String,
    pub uuid: String,
    /// `FORWARDED`, `DROPPED`, `REDIRECTED`.
    pub verdict: &'static str,
    /// Cilium's text: `Policy denied` (drops only).
    pub drop_reason: Option<String>,
    /// `Trace`, `Drop`, `PolicyVerdict`, `L7`.
    pub event_type: &'static str,
    /// Hubble's TYPE column: `to-endpoint`, `policy-verdict:L3-L4 INGRESS`, `http-request`.
    pub event: String,
    pub flags: Option<String>,
    /// `ingress` or `egress`.
    pub direction: &'static str,
    /// `None` when Hubble does not know (drops).
    pub reply: Option<bool>,
    /// Endpoint IDs ([`EndpointView::id`]) and ports.
    pub src: u16,
    pub src_port: u16,
    pub dst: u16,
    pub dst_port: u16,
    pub service: Option<String>,
    pub l7: Option<L7View>,
    pub summary: String,
    pub node: String,
    /// The policy that allowed the connection, as Hubble's `ingress_allowed_by` names it.
    pub allowed_by: Option<String>,
    pub reason: Option<ReasonView>,
}

impl FlowView {
    pub fn of(f: &Flow) -> FlowView {
        let pb = convert::flow(f);
        let flags = match &f.event {
            Event::Trace { flags, .. }
            | Event::Drop { flags, .. }
            | Event::PolicyVerdict { flags, .. } => Some(flags.names()),
            Event::L7(_) => None,
        };
        FlowView {
            seq: f.seq,
            ms: crate::clock::epoch_ms(f.time),
            time: humantime::format_rfc3339_nanos(f.time).to_string(),
            uuid: pb.uuid.clone(),
            verdict: match f.verdict {
                Verdict::Forwarded => "FORWARDED",
                Verdict::Dropped => "DROPPED",
                Verdict::Redirected => "REDIRECTED",
            },
            drop_reason: match &f.event {
                Event::Drop { reason, .. } => Some(printer::drop_reason_text(*reason as u8)),
                _ => None,
            },
            event_type: match &f.event {
                Event::Trace { .. } => "Trace",
                Event::Drop { .. } => "Drop",
                Event::PolicyVerdict { .. } => "PolicyVerdict",
                Event::L7(_) => "L7",
            },
            event: printer::flow_type(&pb),
            flags,
            direction: match f.direction {
                Direction::Ingress => "ingress",
                Direction::Egress => "egress",
            },
            reply: f.is_reply,
            src: f.source.endpoint.id,
            src_port: f.source.port,
            dst: f.destination.endpoint.id,
            dst_port: f.destination.port,
            service: f
                .destination_service
                .as_ref()
                .map(|s| format!("{}/{}", s.namespace, s.name)),
            l7: f.http().map(|h| L7View {
                kind: if h.response { "response" } else { "request" },
                method: h.method.to_string(),
                url: h.url.to_string(),
                path: url_path(&h.url).to_string(),
                protocol: h.protocol.to_string(),
                code: h.code,
                latency_ms: h.latency_ns as f64 / 1e6,
            }),
            summary: f.summary(),
            node: f.node.to_string(),
            allowed_by: f.allowed_by.as_ref().map(|p| p.id.to_string()),
            reason: f.reason.as_ref().map(ReasonView::of),
        }
    }
}

/// `/v1/x?y` of `http://host/v1/x?y`.
fn url_path(url: &str) -> &str {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .unwrap_or(url);
    rest.find('/').map_or("/", |i| &rest[i..])
}

/// One policy in force.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyView {
    pub namespace: String,
    pub name: String,
    /// The file it was last applied from.
    pub origin: String,
    pub created_ms: u64,
    /// The object as `galaxia get cnp NAME -o yaml` prints it.
    pub yaml: String,
}

#[derive(Debug, Serialize)]
pub struct PoliciesView {
    pub revision: u64,
    pub policies: Vec<PolicyView>,
    /// `galaxia policy table` over the galaxy's workloads and the policies in force.
    pub table: Vec<TableRow>,
}

/// The last policies view, rebuilt only when the revision moves (every browser asks on each
/// change).
#[derive(Debug, Default)]
pub struct PolicyCache(Mutex<Option<Arc<PoliciesView>>>);

pub fn policies_view(s: &UiState) -> Arc<PoliciesView> {
    // The revision is read before the list: a change in between makes the next call rebuild.
    let revision = s.cluster.policies.current().revision;
    let mut cache = s.policies.0.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(v) = cache.as_ref().filter(|v| v.revision == revision) {
        return v.clone();
    }
    let stored = s.cluster.policies.list();
    let mut compiled = Vec::new();
    let mut policies = Vec::new();
    for p in stored {
        let yaml = serde_norway::to_string(&p.object).unwrap_or_else(|e| format!("# {e}\n"));
        // The store accepted these objects, so they decode and compile again.
        match serde_json::from_value::<CiliumNetworkPolicy>(p.object.clone())
            .map_err(|e| e.to_string())
            .and_then(|cnp| CompiledPolicy::compile(&cnp).map_err(|e| e.to_string()))
        {
            Ok(c) => compiled.push(Arc::new(c)),
            Err(e) => {
                tracing::warn!(policy = %p.name, error = %e, "ui: policy not in the truth table")
            }
        }
        policies.push(PolicyView {
            namespace: p.namespace,
            name: p.name,
            origin: p.origin,
            created_ms: p.created_ms,
            yaml,
        });
    }
    let view = Arc::new(PoliciesView {
        revision,
        policies,
        table: truth_table(&s.manifests, &PolicySet::new(compiled)),
    });
    *cache = Some(view.clone());
    view
}

pub async fn policies(State(s): State<UiState>) -> Json<Arc<PoliciesView>> {
    Json(policies_view(&s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_come_out_of_urls() {
        assert_eq!(
            url_path("http://estrela-da-morte.default.svc.cluster.local/v1/request-landing"),
            "/v1/request-landing"
        );
        assert_eq!(url_path("http://h/v1?x=1"), "/v1?x=1");
        assert_eq!(url_path("http://h"), "/");
    }
}
