//! The control API of a running galaxy: JSON over HTTP on 127.0.0.1, what `get`, `apply`, `create`,
//! `delete`, `describe`, `exec` and `observe` talk to. The route table:
//!
//! | route | what |
//! |---|---|
//! | `GET /v1/pods`, `GET /v1/services` | [`views::PodView`], [`views::ServiceView`] lists |
//! | `GET /v1/cnp` | the policies in force |
//! | `POST /v1/cnp/apply` | create or apply policies ([`views::ApplyRequest`]) |
//! | `POST /v1/cnp/delete` | delete policies by name or by file ([`views::DeleteRequest`]) |
//! | `GET /v1/flows?after=&pod=&verdict=&last=&wait_ms=` | flows, long-polling when `wait_ms` |

pub mod client;
pub mod discovery;
pub mod views;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::flows::FlowFilter;
use crate::galaxy::Shared;
use crate::galaxy::config::FOLLOW_POLL;
use crate::galaxy::policies::{PolicyError, PolicyStore};
use views::{
    ApplyRequest, ApplyResponse, DeleteRequest, ErrorBody, FlowsResponse, PoliciesResponse,
};

/// The router, for `serve` and for tests.
pub fn app(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/pods", get(pods))
        .route("/v1/services", get(services))
        .route("/v1/cnp", get(policies))
        .route("/v1/cnp/apply", post(apply))
        .route("/v1/cnp/delete", post(delete))
        .route("/v1/flows", get(flows))
        .with_state(shared)
}

/// Serve the control API on `listener` until `shutdown` flips.
pub async fn serve(
    shared: Arc<Shared>,
    listener: tokio::net::TcpListener,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    axum::serve(listener, app(shared))
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|s| *s).await;
        })
        .await
}

/// A policy error as the API answers it.
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

async fn pods(State(s): State<Arc<Shared>>) -> Json<Vec<views::PodView>> {
    Json(views::pods(&s))
}

async fn services(State(s): State<Arc<Shared>>) -> Json<Vec<views::ServiceView>> {
    Json(views::services(&s))
}

async fn policies(State(s): State<Arc<Shared>>) -> Json<PoliciesResponse> {
    Json(PoliciesResponse {
        policies: s.policies.list(),
    })
}

async fn apply(
    State(s): State<Arc<Shared>>,
    Json(req): Json<ApplyRequest>,
) -> Result<Json<ApplyResponse>, ApiError> {
    let results = s.policies.apply(&req.text, &req.origin, req.mode)?;
    Ok(Json(ApplyResponse { results }))
}

async fn delete(
    State(s): State<Arc<Shared>>,
    Json(req): Json<DeleteRequest>,
) -> Result<Json<ApplyResponse>, ApiError> {
    let mut names = req.names;
    if let Some((origin, text)) = &req.text {
        names.extend(PolicyStore::names_in(text, origin)?);
    }
    let results = s.policies.delete(&names);
    Ok(Json(ApplyResponse { results }))
}

// Spelled out rather than `#[serde(flatten)]`: flattened query fields lose their types.
#[derive(Debug, serde::Deserialize)]
struct FlowsQuery {
    after: Option<u64>,
    pod: Option<String>,
    verdict: Option<crate::flows::Verdict>,
    last: Option<usize>,
    wait_ms: Option<u64>,
}

async fn flows(State(s): State<Arc<Shared>>, Query(q): Query<FlowsQuery>) -> Json<FlowsResponse> {
    let filter = FlowFilter {
        after: q.after,
        pod: q.pod,
        verdict: q.verdict,
        last: q.last,
    };
    let flows = match q.wait_ms {
        Some(ms) => {
            let wait = Duration::from_millis(ms).min(FOLLOW_POLL);
            s.flows.wait_query(&filter, wait).await
        }
        None => s.flows.query(&filter),
    };
    Json(FlowsResponse {
        last_seq: s.flows.last_seq(),
        flows,
    })
}

/// A started galaxy with its control API.
#[derive(Debug)]
pub struct Running {
    pub galaxy: crate::galaxy::Galaxy,
    /// The control API address.
    pub addr: std::net::SocketAddr,
    stop: tokio::sync::watch::Sender<bool>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// A receiver of the galaxy's stop signal, for things started next to it (port-forwards).
    pub fn shutdown_signal(&self) -> tokio::sync::watch::Receiver<bool> {
        self.stop.subscribe()
    }

    /// Stop every pod, proxy and the control API.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.server.await;
        // Replicas drain for a moment; give them that moment so that ports are released.
        let _ = self
            .galaxy
            .wait_phase(crate::galaxy::Phase::Terminating, Duration::from_secs(3))
            .await;
    }
}

/// Start a galaxy and its control API on a free loopback port (inside a tokio runtime).
pub async fn launch(
    blueprint: crate::galaxy::Blueprint,
    options: crate::galaxy::Options,
) -> Result<Running, crate::galaxy::StartError> {
    let (stop, rx) = tokio::sync::watch::channel(false);
    let galaxy = crate::galaxy::Galaxy::start(blueprint, options, rx.clone()).await?;
    let listener =
        crate::galaxy::bind_loopback()
            .await
            .map_err(|source| crate::galaxy::StartError::Bind {
                what: "the control API".into(),
                source,
            })?;
    let addr = listener
        .local_addr()
        .map_err(|source| crate::galaxy::StartError::Bind {
            what: "the control API".into(),
            source,
        })?;
    let server = tokio::spawn(serve(galaxy.shared.clone(), listener, rx));
    Ok(Running {
        galaxy,
        addr,
        stop,
        server,
    })
}
