//! The flows the page shows, as Hubble's JSON: one `GetFlowsResponse` a line, byte for byte what
//! `hubble observe -o json` prints for them, so that `hubble observe --input-file` (and any tool
//! that reads Hubble's export) takes the file.

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::UiState;
use super::stream::StreamQuery;
use crate::hubble::{convert, json};

pub async fn flows(State(s): State<UiState>, Query(q): Query<StreamQuery>) -> Response {
    let filter = match q.filter() {
        Ok(f) => f,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response(),
    };
    let since = q.since.unwrap_or(0);
    let mut body = String::new();
    for f in s
        .cluster
        .flows
        .snapshot()
        .iter()
        .filter(|f| f.seq >= since && filter.matches(f))
    {
        body.push_str(&json::get_flows_response(&convert::response(f)));
        body.push('\n');
    }
    (
        [
            (header::CONTENT_TYPE, "application/x-ndjson"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"galaxia-flows.json\"",
            ),
        ],
        body,
    )
        .into_response()
}
