//! The ship's admin listener: `/healthz`, `/readyz` and Prometheus text on `/metrics`.

use std::convert::Infallible;
use std::future::Future;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use prometheus::Registry;
use tokio::net::TcpListener;

/// Serve until `shutdown` resolves; connections still open then are dropped.
pub async fn serve(
    listener: TcpListener,
    registry: Registry,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    let mut conns = tokio::task::JoinSet::new();
    loop {
        let (stream, _) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // A full accept queue or a vanished peer is not a reason to stop serving.
                Err(e) => {
                    tracing::debug!(error = %e, "admin accept failed");
                    continue;
                }
            },
        };
        let registry = registry.clone();
        conns.spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let registry = registry.clone();
                async move { Ok::<_, Infallible>(route(&req, &registry)) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
        while conns.try_join_next().is_some() {}
    }
    conns.abort_all();
    Ok(())
}

fn route(req: &Request<Incoming>, registry: &Registry) -> Response<Full<Bytes>> {
    match req.uri().path() {
        "/healthz" | "/readyz" => text(StatusCode::OK, "text/plain", b"ok\n".to_vec()),
        "/metrics" => match crate::metrics::render(registry) {
            Ok(buf) => text(StatusCode::OK, prometheus::TEXT_FORMAT, buf),
            Err(e) => text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain",
                format!("{e}\n").into_bytes(),
            ),
        },
        _ => text(StatusCode::NOT_FOUND, "text/plain", b"not found\n".to_vec()),
    }
}

fn text(status: StatusCode, content_type: &str, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    if let Ok(v) = http::HeaderValue::from_str(content_type) {
        resp.headers_mut().insert(http::header::CONTENT_TYPE, v);
    }
    resp
}
