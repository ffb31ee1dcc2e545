//! The admin port: `/healthz` (alive), `/readyz` (fails once shutdown or an explosion begins) and
//! `/metrics` (Prometheus text). Kept off the demo port so the demo API stays upstream's.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;

use crate::demo::Station;

/// Answers one admin request; the body is ignored.
pub async fn answer<B>(
    station: Arc<Station>,
    request: Request<B>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut response = respond(&station, &request);
    station.seal(&mut response);
    Ok(response)
}

fn respond<B>(station: &Station, request: &Request<B>) -> Response<Full<Bytes>> {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    match request.uri().path() {
        "/healthz" => plain(StatusCode::OK, "ok\n"),
        "/readyz" if station.is_ready() => plain(StatusCode::OK, "ready\n"),
        "/readyz" => plain(StatusCode::SERVICE_UNAVAILABLE, "not ready\n"),
        "/metrics" => match station.render_metrics() {
            Ok(text) => {
                let mut response = Response::new(Full::new(Bytes::from(text)));
                response.headers_mut().insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; version=0.0.4"),
                );
                response
            }
            Err(error) => {
                tracing::error!(%error, "cannot render metrics");
                plain(StatusCode::INTERNAL_SERVER_ERROR, "cannot render metrics\n")
            }
        },
        _ => plain(StatusCode::NOT_FOUND, "not found\n"),
    }
}

fn plain(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}
