//! Stage 3, policy: ask the policy engine about the connection (L3/L4) and, where HTTP rules
//! apply, about the request (L7). A drop holds the connection silently; a denial is Envoy's 403.

use std::time::SystemTime;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::{Response, StatusCode};
use politica::{ConnectionVerdict, Engine, HttpReason, HttpRequest, L7Verdict, Protocol};

use super::body::ProxyBody;
use super::datapath::retransmissions;
use crate::config::DROP_HOLD;
use crate::flows::Decided;
use crate::state::Pod;

/// What the proxy does with one request.
#[derive(Debug, Clone)]
pub enum Decision {
    /// L3/L4 drop: nothing goes back, as Cilium drops the packet.
    Drop(ConnectionVerdict),
    /// L7 denial: Envoy's `403 Access denied`.
    Deny {
        connection: ConnectionVerdict,
        reason: HttpReason,
    },
    /// On to the backend; `l7` is the HTTP rule's verdict when HTTP rules were checked (the
    /// request went "through Envoy").
    Forward {
        connection: ConnectionVerdict,
        l7: Option<HttpReason>,
    },
}

impl Decision {
    /// The connection's verdict behind this decision.
    pub fn connection(&self) -> &ConnectionVerdict {
        match self {
            Decision::Drop(c) => c,
            Decision::Deny { connection, .. } | Decision::Forward { connection, .. } => connection,
        }
    }

    /// What decided, as a flow names it.
    pub fn reason(&self) -> Decided {
        match self {
            Decision::Drop(c)
            | Decision::Forward {
                connection: c,
                l7: None,
            } => Decided::Connection(c.reason.clone()),
            Decision::Deny { reason, .. }
            | Decision::Forward {
                l7: Some(reason), ..
            } => Decided::Http(reason.clone()),
        }
    }
}

/// Ask `engine` about a request from `src` to container `port` of `dst`. The L3/L4 verdict is
/// per connection in Cilium, but looked up for every packet; the proxy asks per request, so that
/// a policy change is felt from the very next request, on kept-alive connections too.
pub fn decide(
    engine: &Engine,
    src: &Pod,
    dst: &Pod,
    port: u16,
    request: &HttpRequest<'_>,
) -> Decision {
    let conn = engine.connection(src.endpoint, dst.endpoint, port, Protocol::Tcp);
    let filtered = conn.l7.is_some();
    match conn.http(request) {
        None => Decision::Drop(conn),
        Some(_) if !filtered => Decision::Forward {
            connection: conn,
            l7: None,
        },
        Some(v) => match v.verdict {
            L7Verdict::Forwarded => Decision::Forward {
                connection: conn,
                l7: Some(v.reason),
            },
            L7Verdict::Denied => Decision::Deny {
                connection: conn,
                reason: v.reason,
            },
        },
    }
}

/// How a held request ended.
#[derive(Debug)]
pub enum Hold<T> {
    /// A retransmission got through: the policy changed meanwhile.
    Through(T),
    /// The client gave up (this future is dropped then), the hold ran out, or the galaxy stops.
    GaveUp,
}

/// Hold a dropped request as the network holds a dropped packet: nothing goes back, and at each
/// of Linux's retransmission times `again` is asked about the packet sent again; it returns
/// `Some` once the packet gets through. Bounded by [`DROP_HOLD`] and the galaxy's life.
pub async fn hold<T>(
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    syn: bool,
    mut again: impl FnMut() -> Option<T>,
) -> Hold<T> {
    let start = tokio::time::Instant::now();
    let retries = async {
        for at in retransmissions(syn) {
            tokio::time::sleep_until(start + at).await;
            if let Some(t) = again() {
                return Some(t);
            }
        }
        std::future::pending::<()>().await;
        None
    };
    tokio::select! {
        through = retries => through.map_or(Hold::GaveUp, Hold::Through),
        _ = tokio::time::sleep(DROP_HOLD) => Hold::GaveUp,
        _ = shutdown.wait_for(|s| *s) => Hold::GaveUp,
    }
}

/// Cilium's L7 denial, exactly as its Envoy writes it: the only place that does.
pub fn access_denied() -> Response<ProxyBody> {
    let body = frota::outcome::ACCESS_DENIED_BODY;
    let mut resp = Response::new(
        http_body_util::Full::new(Bytes::from_static(body))
            .map_err(|never| match never {})
            .boxed(),
    );
    *resp.status_mut() = StatusCode::FORBIDDEN;
    let h = resp.headers_mut();
    // Envoy's header order; hyper writes them as inserted.
    h.insert(
        http::header::CONTENT_LENGTH,
        http::HeaderValue::from(body.len()),
    );
    h.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain"),
    );
    if let Ok(date) = http::HeaderValue::from_str(&httpdate::fmt_http_date(SystemTime::now())) {
        h.insert(http::header::DATE, date);
    }
    h.insert(
        http::header::SERVER,
        http::HeaderValue::from_static("envoy"),
    );
    resp
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test may unwrap: a panic is its failure report
mod tests {
    use std::time::SystemTime;

    use http_body_util::BodyExt;
    use politica::{ConnectionReason, HttpReason};

    use super::*;
    use crate::manifest::{ApplyMode, book, load_str};
    use crate::state::Cluster;

    fn cluster(policy: Option<&str>) -> Cluster {
        let m = load_str(book::STARWARS, "starwars.yml").unwrap();
        let addr: std::net::SocketAddr = "127.0.0.1:9".parse().unwrap();
        let pods = m.pods().iter().map(|p| (p.clone(), addr)).collect();
        let c = Cluster::new(
            &m.cluster(),
            pods,
            m.services().to_vec(),
            Some(crate::flows::ring::DEFAULT_CAPACITY),
            SystemTime::now(),
        )
        .unwrap();
        if let Some(text) = policy {
            c.policies.apply(text, "test", ApplyMode::Apply).unwrap();
        }
        c
    }

    fn ask(c: &Cluster, from: &str, method: &str, path: &str) -> Decision {
        let in_force = c.policies.current();
        let headers = http::HeaderMap::new();
        let req = HttpRequest {
            method,
            path,
            host: "estrela-da-morte.default.svc.cluster.local",
            headers: &headers,
        };
        let src = c.find_pod(from).unwrap();
        let dst = c.pods.iter().find(|p| p.model.is_death_star()).unwrap();
        decide(&in_force.engine, src, dst, 80, &req)
    }

    #[test]
    fn no_policy_forwards_without_l7() {
        let c = cluster(None);
        let d = ask(&c, "asa-x", "PUT", "/v1/exhaust-port");
        assert!(matches!(d, Decision::Forward { l7: None, .. }), "{d:?}");
        assert_eq!(
            d.reason(),
            Decided::Connection(ConnectionReason::NotSelected)
        );
        assert!(!d.connection().is_enforced());
    }

    #[test]
    fn l4_drops_the_x_wing_and_forwards_the_empire_without_l7() {
        let c = cluster(Some(book::POLITICA_L4));
        let d = ask(&c, "asa-x", "POST", "/v1/request-landing");
        assert!(
            matches!(&d, Decision::Drop(c) if matches!(c.reason, ConnectionReason::DefaultDeny { .. })),
            "{d:?}"
        );
        let d = ask(&c, "caca-tie", "PUT", "/v1/exhaust-port");
        assert!(matches!(d, Decision::Forward { l7: None, .. }), "{d:?}");
        assert!(matches!(
            d.reason(),
            Decided::Connection(ConnectionReason::AllowedBy(_))
        ));
        assert_eq!(d.connection().match_type, politica::MatchType::L3L4);
    }

    #[test]
    fn l7_denies_the_exhaust_port_and_forwards_landing_through_the_rule() {
        let c = cluster(Some(book::POLITICA_L7));
        match ask(&c, "caca-tie", "PUT", "/v1/exhaust-port") {
            Decision::Deny {
                reason: HttpReason::DefaultDeny { rules_of },
                ..
            } => {
                assert_eq!(
                    rules_of.to_string(),
                    "default/regra1 spec.ingress[0].toPorts[0]"
                );
            }
            other => panic!("{other:?}"),
        }
        match ask(&c, "caca-tie", "POST", "/v1/request-landing") {
            Decision::Forward {
                l7: Some(HttpReason::AllowedBy(r)),
                ..
            } => assert_eq!(r.path(), "spec.ingress[0].toPorts[0].rules.http[0]"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            ask(&c, "asa-x", "POST", "/v1/request-landing"),
            Decision::Drop(_)
        ));
    }

    #[tokio::test]
    async fn the_denial_is_envoys_exact_answer() {
        let resp = access_denied();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        let names: Vec<&str> = resp.headers().keys().map(|k| k.as_str()).collect();
        assert_eq!(names, ["content-length", "content-type", "date", "server"]);
        assert_eq!(resp.headers()["content-length"], "15");
        assert_eq!(resp.headers()["content-type"], "text/plain");
        assert_eq!(resp.headers()["server"], "envoy");
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"Access denied\r\n");
    }
}
