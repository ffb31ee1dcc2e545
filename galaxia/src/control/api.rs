//! The control API server: JSON over HTTP on 127.0.0.1, what the verbs talk to. Routes are
//! [`super::routes`]; bodies are [`super::views`].

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use super::routes;
use super::views::{self, ApplyRequest, ApplyResponse, DeleteRequest, ErrorBody, PoliciesResponse};
use crate::state::{Cluster, PolicyError, PolicyStore};

/// The router, for `serve` and for tests (`app(cluster).oneshot(request)`).
pub fn app(cluster: Arc<Cluster>) -> Router {
    Router::new()
        .route(routes::PODS, get(pods))
        .route(routes::SERVICES, get(services))
        .route(routes::POLICIES, get(policies))
        .route(routes::APPLY, post(apply))
        .route(routes::DELETE, post(delete))
        .route(routes::METRICS, get(metrics))
        .with_state(cluster)
}

/// Serve the control API on `listener` until `shutdown` flips.
pub async fn serve(
    cluster: Arc<Cluster>,
    listener: tokio::net::TcpListener,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    axum::serve(listener, app(cluster))
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|s| *s).await;
        })
        .await
}

/// A refused request, as the API answers it.
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(ErrorBody { error: self.1 })).into_response()
    }
}

impl From<PolicyError> for ApiError {
    fn from(e: PolicyError) -> Self {
        ApiError(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
    }
}

async fn pods(State(c): State<Arc<Cluster>>) -> Json<Vec<views::PodView>> {
    Json(views::pods(&c))
}

async fn services(State(c): State<Arc<Cluster>>) -> Json<Vec<views::ServiceView>> {
    Json(views::services(&c))
}

async fn policies(State(c): State<Arc<Cluster>>) -> Json<PoliciesResponse> {
    Json(PoliciesResponse {
        policies: c.policies.list(),
    })
}

async fn apply(
    State(c): State<Arc<Cluster>>,
    Json(req): Json<ApplyRequest>,
) -> Result<Json<ApplyResponse>, ApiError> {
    let results = c
        .policies
        .apply(&req.source.text, &req.source.origin, req.mode)?;
    Ok(Json(ApplyResponse { results }))
}

async fn delete(
    State(c): State<Arc<Cluster>>,
    Json(req): Json<DeleteRequest>,
) -> Result<Json<ApplyResponse>, ApiError> {
    let mut keys = req.keys;
    if let Some(source) = &req.source {
        keys.extend(PolicyStore::keys_in(&source.text, &source.origin)?);
    }
    let results = c.policies.delete(&keys);
    Ok(Json(ApplyResponse { results }))
}

/// Prometheus text of Hubble's metrics (what Cilium's `hubble-metrics` port serves).
async fn metrics(State(c): State<Arc<Cluster>>) -> Response {
    match frota::metrics::render(c.flows.metrics().registry()) {
        Ok(body) => (
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            body,
        )
            .into_response(),
        Err(e) => ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}
