//! Stage 2, identify: where the request goes. The source pod is known from the listener; here the
//! request's host is resolved as cluster DNS would (Service names in their short and long forms,
//! port 80 implied) and a ready backend is picked.

use hyper::{Request, Response, StatusCode};

use std::sync::Arc;

use super::body::{ProxyBody, local_answer};
use crate::flows::flow::ServiceRef;
use crate::state::dns::Destination;
use crate::state::{Backend, Cluster, NoBackend};

/// The request's destination as the client named it.
#[derive(Debug, Clone)]
pub struct Target {
    /// The host, lower-cased, without the port.
    pub host: String,
    pub port: Option<u16>,
    /// `host[:port]` as sent, for the flow's URL and the Host header.
    pub authority: String,
    /// The path with its query (Envoy's `:path`).
    pub path: String,
}

impl Target {
    /// The absolute URL Hubble prints.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.authority, self.path)
    }
}

/// Read the destination from an absolute-form request (what a client sends to a proxy), or from the
/// Host header of an origin-form one; `fixed_host` (a port-forward) overrides both.
pub fn target<B>(
    req: &Request<B>,
    fixed_host: Option<&str>,
) -> Result<Target, Box<Response<ProxyBody>>> {
    let uri = req.uri();
    if req.method() == http::Method::CONNECT || uri.scheme_str().is_some_and(|s| s != "http") {
        return Err(Box::new(local_answer(
            StatusCode::NOT_IMPLEMENTED,
            "galaxia: only plain http:// requests go through a pod's proxy\n".into(),
        )));
    }
    let authority = match (fixed_host, uri.authority()) {
        (Some(h), _) => h.to_string(),
        (None, Some(a)) => a.as_str().to_string(),
        (None, None) => match req
            .headers()
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
        {
            Some(h) => h.to_string(),
            None => {
                return Err(Box::new(local_answer(
                    StatusCode::BAD_REQUEST,
                    "galaxia: the request names no host\n".into(),
                )));
            }
        },
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => match p.parse::<u16>() {
            Ok(p) => (h.to_string(), Some(p)),
            Err(_) => (authority.clone(), None),
        },
        _ => (authority.clone(), None),
    };
    let path = uri
        .path_and_query()
        .map_or_else(|| "/".to_string(), |pq| pq.as_str().to_string());
    Ok(Target {
        host: host.to_ascii_lowercase(),
        port,
        authority,
        path,
    })
}

/// A ready backend, and the Service the request went through to reach it, if any.
pub type Chosen = (Backend, Option<Arc<ServiceRef>>);

/// Resolve the target and pick a ready backend; otherwise the answer the client gets instead.
pub fn backend(
    shared: &Cluster,
    target: &Target,
    from_ns: &str,
) -> Result<Chosen, Box<Response<ProxyBody>>> {
    let Some(dest) = shared.resolve(&target.host, target.port, from_ns) else {
        // What curl reports as "Could not resolve host" in a cluster.
        return Err(Box::new(local_answer(
            StatusCode::BAD_GATEWAY,
            format!(
                "galaxia: no Service or pod named {:?} in namespace {from_ns}\n",
                target.host
            ),
        )));
    };
    let service = match dest {
        Destination::Service { service, .. } => {
            Some(Arc::clone(&shared.services[service].flow_ref))
        }
        Destination::Pod { .. } => None,
    };
    let picked = shared.pick(dest).map(|b| (b, service));
    picked.map_err(|e| {
        Box::new(match e {
            NoBackend::NoSuchPort => local_answer(
                StatusCode::BAD_GATEWAY,
                format!(
                    "galaxia: {} has no port {}\n",
                    target.host,
                    target.port.unwrap_or(80)
                ),
            ),
            // Envoy's words when a Service has no ready endpoint.
            NoBackend::NotReady => local_answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "no healthy upstream".into(),
            ),
        })
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test may unwrap: a panic is its failure report
mod tests {
    use std::time::SystemTime;

    use http_body_util::BodyExt;

    use super::*;
    use crate::state::{Phase, PodId};

    async fn body(resp: Response<ProxyBody>) -> (StatusCode, Vec<(String, String)>, Vec<u8>) {
        let (parts, body) = resp.into_parts();
        let headers = parts
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
            .collect();
        let bytes = body.collect().await.unwrap().to_bytes().to_vec();
        (parts.status, headers, bytes)
    }

    fn refused(r: Result<Target, Box<Response<ProxyBody>>>) -> Response<ProxyBody> {
        match r {
            Ok(t) => panic!("not refused: {t:?}"),
            Err(resp) => *resp,
        }
    }

    /// The book's manifests as a galaxy's state, with no process behind it.
    fn cluster() -> Cluster {
        let m = crate::manifest::load_str(crate::manifest::book::STARWARS, "starwars.yml").unwrap();
        let addr: std::net::SocketAddr = "127.0.0.1:9".parse().unwrap();
        let pods = m.pods().iter().map(|p| (p.clone(), addr)).collect();
        Cluster::new(
            &m.cluster(),
            pods,
            m.services().to_vec(),
            Some(crate::flows::ring::DEFAULT_CAPACITY),
            SystemTime::now(),
        )
        .unwrap()
    }

    #[test]
    fn reads_the_target_from_absolute_form_host_or_a_fixed_host() {
        let req = Request::get("http://estrela-da-morte.default.svc.cluster.local/v1?x=1")
            .body(())
            .unwrap();
        let t = target(&req, None).unwrap();
        assert_eq!(t.host, "estrela-da-morte.default.svc.cluster.local");
        assert_eq!(t.port, None);
        assert_eq!(t.path, "/v1?x=1");
        assert_eq!(
            t.url(),
            "http://estrela-da-morte.default.svc.cluster.local/v1?x=1"
        );
        let req = Request::post("/v1/request-landing")
            .header("host", "Estrela-Da-Morte:8080")
            .body(())
            .unwrap();
        let t = target(&req, None).unwrap();
        assert_eq!((t.host.as_str(), t.port), ("estrela-da-morte", Some(8080)));
        assert_eq!(t.authority, "Estrela-Da-Morte:8080");
        let t = target(&req, Some("estrela-da-morte")).unwrap();
        assert_eq!((t.host.as_str(), t.port), ("estrela-da-morte", None));
    }

    #[tokio::test]
    async fn refuses_what_is_not_plain_http_with_its_exact_answer() {
        let text_plain = vec![("content-type".to_string(), "text/plain".to_string())];
        let req = Request::connect("estrela-da-morte:443").body(()).unwrap();
        assert_eq!(
            body(refused(target(&req, None))).await,
            (
                StatusCode::NOT_IMPLEMENTED,
                text_plain.clone(),
                b"galaxia: only plain http:// requests go through a pod's proxy\n".to_vec()
            )
        );
        let req = Request::get("https://estrela-da-morte/v1")
            .body(())
            .unwrap();
        assert_eq!(
            body(refused(target(&req, None))).await.0,
            StatusCode::NOT_IMPLEMENTED
        );
        let req = Request::get("/v1").body(()).unwrap();
        assert_eq!(
            body(refused(target(&req, None))).await,
            (
                StatusCode::BAD_REQUEST,
                text_plain,
                b"galaxia: the request names no host\n".to_vec()
            )
        );
    }

    #[tokio::test]
    async fn resolves_names_and_answers_like_envoy_without_a_ready_backend() {
        let c = cluster();
        let to = |url: &str| target(&Request::get(url).body(()).unwrap(), None).unwrap();
        // Unknown names and ports: the proxy's own 502s.
        let r = backend(&c, &to("http://death-star/v1"), "default").unwrap_err();
        assert_eq!(
            body(*r).await.2,
            b"galaxia: no Service or pod named \"death-star\" in namespace default\n"
        );
        let r = backend(&c, &to("http://estrela-da-morte:8080/v1"), "default").unwrap_err();
        let (status, _, bytes) = body(*r).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY);
        assert_eq!(bytes, b"galaxia: estrela-da-morte has no port 8080\n");
        // Known, but no replica is ready yet: Envoy's words.
        let r = backend(&c, &to("http://estrela-da-morte/v1"), "default").unwrap_err();
        let (status, _, bytes) = body(*r).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(bytes, b"no healthy upstream");
        // A ready replica is picked, on the container port the Service port targets.
        let replica = c.pods.iter().find(|p| p.model.is_death_star()).unwrap();
        let listen: std::net::SocketAddr = "127.0.0.1:4242".parse().unwrap();
        replica.update(|s| {
            s.ready = true;
            s.phase = Phase::Running;
            s.listen.insert(80, listen);
        });
        for url in [
            "http://estrela-da-morte/v1",
            "http://estrela-da-morte.default/v1",
            "http://estrela-da-morte.default.svc.cluster.local/v1",
        ] {
            let (b, svc) = backend(&c, &to(url), "default").unwrap();
            assert_eq!((b.pod, b.port, b.addr), (replica.id, 80, listen), "{url}");
            assert_eq!(
                svc.map(|s| s.name.to_string()).as_deref(),
                Some("estrela-da-morte")
            );
        }
        // Another namespace's short name does not resolve.
        assert!(backend(&c, &to("http://estrela-da-morte/v1"), "outra").is_err());
        // Pod names resolve too, on the port asked for.
        let (b, svc) =
            backend(&c, &to(&format!("http://{}/v1", replica.name())), "default").unwrap();
        assert_eq!(b.pod, replica.id);
        assert!(svc.is_none(), "a pod name goes through no Service");
        assert_ne!(b.pod, PodId(usize::MAX));
    }
}
