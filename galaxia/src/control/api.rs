//! The control API server: JSON over HTTP on 127.0.0.1, what the verbs talk to. Routes are
//! [`super::routes`]; bodies are [`super::views`].

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use super::routes;
use super::views::{self, ApplyRequest, ApplyResponse, DeleteRequest, ErrorBody, PoliciesResponse};
use crate::manifest::NotRun;
use crate::state::logs::LogChunk;
use crate::state::{Cluster, DeploymentView, PolicyError, PolicyStore, WorkloadError, Workloads};
use serde::{Deserialize, Serialize};

pub use super::guard::Access;

/// The largest manifest a request may carry: the Kubernetes API server's request limit (3 MiB).
pub const MAX_BODY: usize = 3 << 20;

/// The router, for `serve` and for tests (`app(cluster, access).oneshot(request)`).
pub fn app(cluster: Arc<Cluster>, access: Access) -> Router {
    Router::new()
        .route(routes::PODS, get(pods))
        .route(routes::SERVICES, get(services))
        .route(routes::POLICIES, get(policies))
        .route(routes::APPLY, post(apply))
        .route(routes::DELETE, post(delete))
        .route(routes::METRICS, get(metrics))
        .route(routes::LOGS, get(logs))
        .route(routes::DELETE_POD, post(delete_pod))
        .route(routes::DEPLOYMENTS, get(deployments))
        .route(routes::SCALE, post(scale))
        .route(routes::RESTART, post(restart))
        .layer(axum::middleware::from_fn_with_state(
            access,
            super::guard::check,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY + 64 * 1024))
        .with_state(cluster)
}

/// Connections the control API serves at once (the verbs make one at a time; more is an abuse).
const MAX_CONNECTIONS: usize = 64;
/// A request head must arrive this quickly, and a connection (a verb's exchange) lasts no longer
/// than this: the control API has no long polls.
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
const CONNECTION_LIFETIME: Duration = Duration::from_secs(60);

/// Serve the control API on `listener` until `shutdown` flips, with bounds on connections, head
/// reading and connection lifetime, so that idle or slow clients cannot take it down.
pub async fn serve(
    cluster: Arc<Cluster>,
    listener: tokio::net::TcpListener,
    access: Access,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    let router = app(cluster, access);
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = async { let _ = shutdown.wait_for(|s| *s).await; } => return Ok(()),
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "control API accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // Over the cap: closed at once (the verbs retry nothing; a flood gets nothing).
        let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        let mut stop = shutdown.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEAD_TIMEOUT)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            tokio::select! {
                _ = tokio::time::timeout(CONNECTION_LIFETIME, conn) => {}
                _ = stop.wait_for(|s| *s) => {}
            }
        });
    }
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

/// Parsing a manifest is CPU work of its own: it runs on the blocking pool, never on the workers
/// that carry the galaxy's traffic.
async fn off_the_workers<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, PolicyError> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(ApiError::from),
        Err(e) => Err(ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
    }
}

/// `?save_config=true`: `create --save-config`.
#[derive(Debug, Default, Deserialize)]
struct ApplyQuery {
    #[serde(default)]
    save_config: bool,
}

async fn apply(
    State(c): State<Arc<Cluster>>,
    Query(q): Query<ApplyQuery>,
    Json(req): Json<ApplyRequest>,
) -> Result<Json<ApplyResponse>, ApiError> {
    let resp = off_the_workers(move || {
        let m = PolicyStore::parse(&req.source.text, &req.source.origin)?;
        let not_run = m.ignored().iter().map(NotRun::from).collect();
        let (results, warnings) =
            c.policies
                .apply_tracked(m, &req.source.origin, req.mode, q.save_config);
        Ok(ApplyResponse {
            results,
            not_run,
            warnings,
        })
    })
    .await?;
    Ok(Json(resp))
}

async fn delete(
    State(c): State<Arc<Cluster>>,
    Json(req): Json<DeleteRequest>,
) -> Result<Json<ApplyResponse>, ApiError> {
    let resp = off_the_workers(move || {
        let mut keys = req.keys;
        let mut not_run = Vec::new();
        if let Some(source) = &req.source {
            let m = PolicyStore::parse(&source.text, &source.origin)?;
            not_run.extend(m.ignored().iter().map(NotRun::from));
            keys.extend(m.objects().iter().map(|o| o.key.clone()));
        }
        let results = c.policies.delete(&keys);
        Ok(ApplyResponse {
            results,
            not_run,
            warnings: Vec::new(),
        })
    })
    .await?;
    Ok(Json(resp))
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

/// `logs POD`'s question.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LogQuery {
    pub pod: String,
    #[serde(default)]
    pub previous: bool,
    /// Lines already read of this run (`-f` asks again from there).
    #[serde(default)]
    pub since: u64,
    #[serde(default)]
    pub tail: Option<usize>,
}

/// A pod, by `name` or `namespace/name`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PodRequest {
    pub pod: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeploymentRequest {
    pub namespace: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScaleRequest {
    pub namespace: String,
    pub name: String,
    pub replicas: u32,
}

impl From<WorkloadError> for ApiError {
    fn from(e: WorkloadError) -> Self {
        match e {
            WorkloadError::NotFound(m) => ApiError(StatusCode::NOT_FOUND, m),
            WorkloadError::Unsupported(m) => ApiError(StatusCode::UNPROCESSABLE_ENTITY, m),
        }
    }
}

fn workloads(c: &Cluster) -> Result<&dyn Workloads, ApiError> {
    c.workloads.get().map(|w| w.as_ref()).ok_or_else(|| {
        ApiError(
            StatusCode::SERVICE_UNAVAILABLE,
            "galaxia: this galaxy runs no controllers".into(),
        )
    })
}

async fn logs(
    State(c): State<Arc<Cluster>>,
    Query(q): Query<LogQuery>,
) -> Result<Json<LogChunk>, ApiError> {
    let (_, name) = crate::manifest::split_namespaced(&q.pod);
    let Some(pod) = c.find_pod(&q.pod) else {
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("Error from server (NotFound): pods \"{name}\" not found"),
        ));
    };
    let container = pod
        .model
        .containers
        .first()
        .map(|k| k.name.clone())
        .unwrap_or_default();
    pod.log
        .read(q.previous, q.since, q.tail)
        .map(Json)
        .ok_or_else(|| {
            ApiError(
                StatusCode::BAD_REQUEST,
                format!(
                    "Error from server (BadRequest): previous terminated container \"{container}\" in pod \"{}\" not found",
                    pod.name()
                ),
            )
        })
}

async fn delete_pod(
    State(c): State<Arc<Cluster>>,
    Json(req): Json<PodRequest>,
) -> Result<Json<PodRequest>, ApiError> {
    let pod = workloads(&c)?.delete_pod(&req.pod)?;
    Ok(Json(PodRequest { pod }))
}

async fn deployments(State(c): State<Arc<Cluster>>) -> Result<Json<Vec<DeploymentView>>, ApiError> {
    Ok(Json(workloads(&c)?.deployments()))
}

async fn scale(
    State(c): State<Arc<Cluster>>,
    Json(req): Json<ScaleRequest>,
) -> Result<Json<DeploymentRequest>, ApiError> {
    workloads(&c)?.scale(&req.namespace, &req.name, req.replicas)?;
    Ok(Json(DeploymentRequest {
        namespace: req.namespace,
        name: req.name,
    }))
}

async fn restart(
    State(c): State<Arc<Cluster>>,
    Json(req): Json<DeploymentRequest>,
) -> Result<Json<DeploymentRequest>, ApiError> {
    workloads(&c)?.restart(&req.namespace, &req.name)?;
    Ok(Json(req))
}
