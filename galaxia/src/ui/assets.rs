//! The page and its assets, built from `galaxia/ui/src` by `galaxia/ui/build.sh` into
//! `galaxia/ui/dist` (committed) and embedded here at compile time: the binary serves everything
//! itself and nothing is fetched from anywhere at run time. `tests/ui_bundle.rs` checks that the
//! committed bundle was built from the committed sources.

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The hash of the sources the bundle was built from, written by `build.sh`.
pub const SOURCES_SHA256: &str = include_str!("../../ui/dist/SOURCES.sha256");

const INDEX_HTML: &[u8] = include_bytes!("../../ui/dist/index.html");

/// The files under `/assets/`, with their content types.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../ui/dist/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../ui/dist/app.css"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../../ui/dist/favicon.svg"),
    ),
];

/// Every build has its own tag: a browser revalidates and gets a new bundle after an upgrade.
fn etag() -> HeaderValue {
    let tag = format!(
        "\"{}\"",
        SOURCES_SHA256.trim().get(..16).unwrap_or("galaxia")
    );
    HeaderValue::from_str(&tag).unwrap_or_else(|_| HeaderValue::from_static("\"galaxia\""))
}

fn embedded(content_type: &'static str, body: &'static [u8], req: &HeaderMap) -> Response {
    let tag = etag();
    if req.get(header::IF_NONE_MATCH) == Some(&tag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, tag)]).into_response();
    }
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::ETAG, tag),
        ],
        body,
    )
        .into_response()
}

pub async fn index(headers: HeaderMap) -> Response {
    embedded("text/html; charset=utf-8", INDEX_HTML, &headers)
}

pub async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, ct, body)) => embedded(ct, body, &headers),
        None => (StatusCode::NOT_FOUND, "no such asset\n").into_response(),
    }
}
