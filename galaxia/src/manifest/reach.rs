//! What the policies decide for the manifests' pods, as values that `galaxia policy trace`,
//! `galaxia policy table` and the web UI all print: one decision (verdict, policy, rule, why) and
//! the truth table of every pod group towards every Death Star for the demo's three requests.

use frota::RequestKind;
use politica::{CONNECTION_DROPPED, ConnectionVerdict, Endpoint, HttpRequest, PolicySet, Protocol};
use serde::Serialize;

use super::{Manifests, PodModel};

/// One decision: the verdict, the policy and rule that made it, and why in words.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub verdict: &'static str,
    pub policy: Option<String>,
    pub rule: Option<String>,
    pub reason: String,
}

pub fn connection_decision(
    conn: &ConnectionVerdict,
    src: &Endpoint,
    dst: &Endpoint,
    port: u16,
    protocol: Protocol,
) -> Decision {
    Decision {
        verdict: conn.verdict.as_str(),
        policy: conn.policy().map(|p| p.to_string()),
        rule: conn.reason.rule().map(|r| r.path()),
        reason: conn.explain(src, dst, port, protocol),
    }
}

/// What a request on `conn` gets; on a dropped connection, the drop (no request reaches L7).
pub fn http_decision(conn: &ConnectionVerdict, req: &HttpRequest<'_>) -> Decision {
    match conn.http(req) {
        Some(v) => Decision {
            verdict: v.verdict.as_str(),
            policy: v.policy().map(|p| p.to_string()),
            rule: v.reason.rule().map(|r| r.path()),
            reason: v.explain(req),
        },
        None => Decision {
            verdict: conn.verdict.as_str(),
            policy: None,
            rule: None,
            reason: CONNECTION_DROPPED.to_string(),
        },
    }
}

/// One line of the truth table.
#[derive(Debug, Serialize)]
pub struct TableRow {
    pub from: String,
    pub to: String,
    pub port: u16,
    pub land: Decision,
    pub exhaust: Decision,
    pub info: Decision,
}

/// Pods grouped by Deployment (replicas share labels and ports, hence verdicts).
pub fn groups(m: &Manifests) -> Vec<(String, &PodModel)> {
    let mut seen: Vec<(String, &PodModel)> = Vec::new();
    for p in m.pods() {
        let name = match &p.owner {
            Some(owner) => owner.clone(),
            None => p.name.clone(),
        };
        let name = if p.namespace == "default" {
            name
        } else {
            format!("{}/{name}", p.namespace)
        };
        if !seen.iter().any(|(n, _)| *n == name) {
            seen.push((name, p));
        }
    }
    seen
}

/// The table's rows: every pod group to every Death Star group, for the three requests.
pub fn truth_table(m: &Manifests, policies: &PolicySet) -> Vec<TableRow> {
    let groups = groups(m);
    let mut rows = Vec::new();
    for (dst_name, dst_pod) in groups.iter().filter(|(_, p)| p.is_death_star()) {
        let Some(port) = dst_pod.http_port() else {
            continue;
        };
        let dst = dst_pod.endpoint();
        let host = m
            .services()
            .iter()
            .find(|s| s.selects(dst_pod))
            .map(|s| s.name.clone())
            .unwrap_or_else(|| dst_pod.name.clone());
        for (src_name, src_pod) in groups.iter().filter(|(n, _)| n != dst_name) {
            let src = src_pod.endpoint();
            let conn = policies.connection(&src, &dst, port, Protocol::Tcp);
            let headers = http::HeaderMap::new();
            let decide = |kind: RequestKind| {
                let method = kind.method();
                let req = HttpRequest {
                    method: method.as_str(),
                    path: kind.path(),
                    host: &host,
                    headers: &headers,
                };
                if conn.is_allowed() {
                    Decision {
                        rule: None,
                        ..http_decision(&conn, &req)
                    }
                } else {
                    connection_decision(&conn, &src, &dst, port, Protocol::Tcp)
                }
            };
            rows.push(TableRow {
                from: src_name.clone(),
                to: dst_name.clone(),
                port,
                land: decide(RequestKind::Land),
                exhaust: decide(RequestKind::Exhaust),
                info: decide(RequestKind::Info),
            });
        }
    }
    rows
}
