//! A galaxy flow in Hubble's wire form (`flow.Flow`, in a `GetFlowsResponse`), with every field
//! Cilium 1.15 fills for the same event.

use std::time::SystemTime;

use super::proto::flow as pb;
use super::proto::observer::{GetFlowsResponse, get_flows_response::ResponseTypes};
use crate::flows::flow::{
    Direction, DropReason, EndpointInfo, Event, Flow, ObservationPoint, Peer, TcpFlags, Verdict,
};

/// Cilium's monitor message types (`event_type.type`).
pub const EVENT_DROP: i32 = 1;
pub const EVENT_TRACE: i32 = 4;
pub const EVENT_POLICY_VERDICT: i32 = 5;
pub const EVENT_L7: i32 = 129;

pub fn timestamp(t: SystemTime) -> prost_types::Timestamp {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    prost_types::Timestamp {
        seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        nanos: i32::try_from(d.subsec_nanos()).unwrap_or(0),
    }
}

/// The flow as Hubble serves it.
pub fn response(f: &Flow) -> GetFlowsResponse {
    let flow = flow(f);
    GetFlowsResponse {
        node_name: flow.node_name.clone(),
        time: flow.time,
        response_types: Some(ResponseTypes::Flow(flow)),
    }
}

/// `n` flows a reader missed, as Hubble reports them.
pub fn lost(n: u64, node: &str) -> GetFlowsResponse {
    GetFlowsResponse {
        node_name: node.to_string(),
        time: Some(timestamp(SystemTime::now())),
        response_types: Some(ResponseTypes::LostEvents(pb::LostEvent {
            source: pb::LostEventSource::HubbleRingBuffer as i32,
            num_events_lost: n,
            cpu: None,
        })),
    }
}

pub fn flow(f: &Flow) -> pb::Flow {
    let l7 = f.http();
    let (event_type, sub_type) = match &f.event {
        Event::Trace { point, .. } => (EVENT_TRACE, *point as i32),
        Event::Drop { reason, .. } => (EVENT_DROP, *reason as i32),
        Event::PolicyVerdict { .. } => (EVENT_POLICY_VERDICT, 0),
        Event::L7(_) => (EVENT_L7, 0),
    };
    let flags = match &f.event {
        Event::Trace { flags, .. }
        | Event::Drop { flags, .. }
        | Event::PolicyVerdict { flags, .. } => Some(*flags),
        Event::L7(_) => None,
    };
    let dropped_by_policy = f.verdict == Verdict::Dropped && l7.is_none();
    let drop_reason = if dropped_by_policy {
        DropReason::PolicyDenied as u32
    } else {
        0
    };
    let is_reply = f.is_reply;
    pb::Flow {
        time: Some(timestamp(f.time)),
        uuid: uuid(f.uuid),
        verdict: match f.verdict {
            Verdict::Forwarded => pb::Verdict::Forwarded,
            Verdict::Dropped => pb::Verdict::Dropped,
            Verdict::Redirected => pb::Verdict::Redirected,
        } as i32,
        drop_reason,
        auth_type: pb::AuthType::Disabled as i32,
        ip: Some(pb::Ip {
            source: f.source.endpoint.ip.to_string(),
            destination: f.destination.endpoint.ip.to_string(),
            ip_version: pb::IpVersion::IPv4 as i32,
            encrypted: false,
        }),
        l4: Some(pb::Layer4 {
            protocol: Some(pb::layer4::Protocol::Tcp(pb::Tcp {
                source_port: u32::from(f.source.port),
                destination_port: u32::from(f.destination.port),
                flags: flags.map(tcp_flags),
            })),
        }),
        source: Some(endpoint(&f.source, l7.is_none())),
        destination: Some(endpoint(&f.destination, l7.is_none())),
        r#type: if l7.is_some() {
            pb::FlowType::L7
        } else {
            pb::FlowType::L3L4
        } as i32,
        node_name: f.node.to_string(),
        source_names: Vec::new(),
        destination_names: Vec::new(),
        l7: l7.map(|h| pb::Layer7 {
            r#type: if h.response {
                pb::L7FlowType::Response
            } else {
                pb::L7FlowType::Request
            } as i32,
            latency_ns: h.latency_ns,
            record: Some(pb::layer7::Record::Http(pb::Http {
                code: u32::from(h.code),
                method: h.method.to_string(),
                url: h.url.to_string(),
                protocol: h.protocol.to_string(),
                headers: h
                    .headers
                    .iter()
                    .map(|(k, v)| pb::HttpHeader {
                        key: k.clone(),
                        value: v.clone(),
                    })
                    .collect(),
            })),
        }),
        reply: is_reply.unwrap_or(false),
        event_type: Some(pb::CiliumEventType {
            r#type: event_type,
            sub_type,
        }),
        source_service: None,
        destination_service: f.destination_service.as_ref().map(|s| pb::Service {
            name: s.name.to_string(),
            namespace: s.namespace.to_string(),
        }),
        traffic_direction: match f.direction {
            Direction::Ingress => pb::TrafficDirection::Ingress,
            Direction::Egress => pb::TrafficDirection::Egress,
        } as i32,
        policy_match_type: match &f.event {
            Event::PolicyVerdict { match_type, .. } => *match_type as u32,
            _ => 0,
        },
        trace_observation_point: match &f.event {
            Event::Trace { point, .. } => match point {
                ObservationPoint::ToEndpoint => pb::TraceObservationPoint::ToEndpoint,
                ObservationPoint::ToProxy => pb::TraceObservationPoint::ToProxy,
            },
            _ => pb::TraceObservationPoint::UnknownPoint,
        } as i32,
        drop_reason_desc: if dropped_by_policy {
            pb::DropReason::PolicyDenied
        } else {
            pb::DropReason::Unknown
        } as i32,
        is_reply,
        proxy_port: 0,
        summary: f.summary(),
        egress_allowed_by: Vec::new(),
        ingress_allowed_by: f
            .allowed_by
            .iter()
            .map(|p| pb::Policy {
                name: p.id.name.clone(),
                namespace: p.id.namespace.clone(),
                labels: vec![
                    "k8s:io.cilium.k8s.policy.derived-from=CiliumNetworkPolicy".to_string(),
                    format!("k8s:io.cilium.k8s.policy.name={}", p.id.name),
                    format!("k8s:io.cilium.k8s.policy.namespace={}", p.id.namespace),
                    format!("k8s:io.cilium.k8s.policy.uid={}", p.uid),
                ],
                revision: p.revision,
            })
            .collect(),
    }
}

/// An end of a flow; L7 records carry no workloads (Cilium's L7 parser leaves them out).
fn endpoint(peer: &Peer, with_workloads: bool) -> pb::Endpoint {
    let e: &EndpointInfo = &peer.endpoint;
    pb::Endpoint {
        id: u32::from(e.id),
        identity: e.identity.0,
        namespace: e.namespace.to_string(),
        labels: e.labels.clone(),
        pod_name: e.pod.to_string(),
        workloads: match (&e.workload, with_workloads) {
            (Some(name), true) => vec![pb::Workload {
                name: name.to_string(),
                kind: "Deployment".to_string(),
            }],
            _ => Vec::new(),
        },
    }
}

fn tcp_flags(f: TcpFlags) -> pb::TcpFlags {
    pb::TcpFlags {
        fin: f.has(TcpFlags::FIN),
        syn: f.has(TcpFlags::SYN),
        rst: f.has(TcpFlags::RST),
        psh: f.has(TcpFlags::PSH),
        ack: f.has(TcpFlags::ACK),
        ..pb::TcpFlags::default()
    }
}

/// A version 4 UUID in its canonical form.
fn uuid(bits: u128) -> String {
    let mut b = bits.to_be_bytes();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
