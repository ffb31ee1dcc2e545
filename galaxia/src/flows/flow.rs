//! One flow record: what the galaxy's enforcement point did with a connection or an HTTP request,
//! with the typed reason that decided it.
//!
//! The line format imitates `hubble observe`, so that the book's screenshots and the local twin read
//! the same: `Nov 26 05:11:20.123: default/asa-x:41234 <> default/estrela-da-morte-...:80 Policy
//! denied DROPPED (TCP Flags: SYN)`.

use std::sync::Arc;

use politica::{ConnectionReason, HttpReason};

use crate::manifest::split_namespaced;
use serde::{Deserialize, Serialize};

/// Hubble's two verdicts that the emulator produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    Forwarded,
    Dropped,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Forwarded => "FORWARDED",
            Verdict::Dropped => "DROPPED",
        }
    }
}

/// One end of a flow: a pod and a port (the client's ephemeral port, or the container port).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowEndpoint {
    /// Shared with the pod (a flow is written for every request; its names are not copied).
    pub namespace: Arc<str>,
    pub pod: Arc<str>,
    pub port: u16,
}

/// What was seen: a connection attempt dropped at L3/L4, or one HTTP request or response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum FlowKind {
    /// A connection refused by policy: Cilium drops the SYN.
    PolicyDenied,
    /// An HTTP request seen by the L7 path; `url` is absolute (`http://host/path?query`).
    HttpRequest { method: String, url: String },
    /// The answer to a forwarded request.
    HttpResponse {
        method: String,
        url: String,
        code: u16,
        latency_ms: u64,
    },
}

/// One flow record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flow {
    /// Position in the log since the galaxy started; `observe --follow` resumes after it.
    pub seq: u64,
    /// Milliseconds since the Unix epoch.
    pub time_ms: u64,
    pub source: FlowEndpoint,
    pub destination: FlowEndpoint,
    pub verdict: Verdict,
    #[serde(flatten)]
    pub kind: FlowKind,
    /// The policy and rule that decided, or why nothing did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Decided>,
}

/// What decided a flow: the connection's verdict (an L3/L4 drop, or a request no L7 rule looked
/// at), or the request's (an L7 allow or denial).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decided {
    Connection(ConnectionReason),
    Http(HttpReason),
}

impl std::fmt::Display for Decided {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Decided::Connection(r) => r.fmt(f),
            Decided::Http(r) => r.fmt(f),
        }
    }
}

impl Flow {
    /// True when `pod` is either end (`observe --pod`): by name, or `namespace/name`.
    pub fn involves(&self, pod: &str) -> bool {
        let (ns, name) = split_namespaced(pod);
        [&self.source, &self.destination]
            .iter()
            .any(|e| &*e.pod == name && ns.is_none_or(|ns| ns == &*e.namespace))
    }

    /// The Hubble-like one-line rendering.
    pub fn line(&self) -> String {
        let arrow = match (self.verdict, &self.kind) {
            (Verdict::Dropped, FlowKind::PolicyDenied) => "<>",
            (_, FlowKind::HttpResponse { .. }) => "<-",
            _ => "->",
        };
        // A response is printed from the client's side, with the arrow pointing back to it, as
        // Hubble prints replies.
        let (left, right) = (&self.source, &self.destination);
        let what = match &self.kind {
            FlowKind::PolicyDenied => {
                format!("Policy denied {} (TCP Flags: SYN)", self.verdict.as_str())
            }
            FlowKind::HttpRequest { method, url } => {
                format!(
                    "http-request {} (HTTP/1.1 {method} {url})",
                    self.verdict.as_str()
                )
            }
            FlowKind::HttpResponse {
                method,
                url,
                code,
                latency_ms,
            } => format!(
                "http-response {} (HTTP/1.1 {code} {latency_ms}ms ({method} {url}))",
                self.verdict.as_str()
            ),
        };
        format!(
            "{}: {}/{}:{} {arrow} {}/{}:{} {what}",
            hubble_time(self.time_ms),
            left.namespace,
            left.pod,
            left.port,
            right.namespace,
            right.pod,
            right.port
        )
    }
}

/// Hubble's timestamp, `Nov 26 05:11:20.123` (UTC).
pub fn hubble_time(time_ms: u64) -> String {
    let t = crate::clock::from_epoch_ms(time_ms);
    // `2026-11-26T05:11:20.123Z`: reshaped rather than pulling in a calendar crate.
    let iso = humantime::format_rfc3339_millis(t).to_string();
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = iso
        .get(5..7)
        .and_then(|m| m.parse::<usize>().ok())
        .and_then(|m| MONTHS.get(m.wrapping_sub(1)))
        .copied()
        .unwrap_or("???");
    let day = iso.get(8..10).unwrap_or("??");
    let clock = iso.get(11..23).unwrap_or("??:??:??.???");
    format!("{month} {day} {clock}")
}
