//! The Hubble UI picture of the galaxy: the page `galaxia up` serves on 127.0.0.1:12000 (what
//! `cilium hubble ui` opens on a cluster), fed in-process by the galaxy's own flows.
//!
//! What it serves, all read-only: the page and its assets, built from `galaxia/ui` and embedded
//! in the binary ([`assets`]); the galaxy's endpoints, workloads, policies and truth table
//! ([`view`]); the flows, pushed live over server-sent events by one follower per browser that
//! reads the ring from its own position ([`stream`]), filtered on the server as Hubble Relay
//! filters for Hubble UI ([`filter`]); and the same selection as Hubble's JSON ([`export`]).
//! Every request passes [`guard`] first: loopback `Host` only (DNS rebinding), no foreign
//! `Origin`, nothing but GET and HEAD.

pub mod assets;
pub mod export;
pub mod filter;
pub mod guard;
pub mod stream;
pub mod view;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use tokio::sync::watch;

use crate::manifest::Manifests;
use crate::state::Cluster;

/// Hubble UI's port (`cilium hubble ui` forwards localhost:12000).
pub const DEFAULT_PORT: u16 = 12000;

/// The routes: the one list the server mounts and the page calls.
pub mod routes {
    pub const INDEX: &str = "/";
    pub const ASSET: &str = "/assets/{file}";
    /// `GET`: namespaces, endpoints, workloads ([`super::view::StateView`]).
    pub const STATE: &str = "/api/v1/state";
    /// `GET`: the policies in force with their YAML, and the truth table.
    pub const POLICIES: &str = "/api/v1/policies";
    /// `GET`: server-sent events: `hello`, `flows`, `lost`, `policies`.
    pub const STREAM: &str = "/api/v1/flows/stream";
    /// `GET`: the selected flows as Hubble JSON, one `GetFlowsResponse` a line.
    pub const EXPORT: &str = "/api/v1/flows/export";
}

/// What every handler reads: the galaxy, the manifests it was started from (its workloads, for
/// the truth table), the port the page is served on (for the Host check) and the stop signal
/// (event streams never end by themselves).
#[derive(Debug, Clone)]
pub struct UiState {
    pub cluster: Arc<Cluster>,
    pub manifests: Arc<Manifests>,
    pub port: u16,
    pub shutdown: watch::Receiver<bool>,
    pub(crate) policies: Arc<view::PolicyCache>,
}

impl UiState {
    pub fn new(
        cluster: Arc<Cluster>,
        manifests: Arc<Manifests>,
        port: u16,
        shutdown: watch::Receiver<bool>,
    ) -> UiState {
        UiState {
            cluster,
            manifests,
            port,
            shutdown,
            policies: Arc::new(view::PolicyCache::default()),
        }
    }
}

/// The router, for [`serve`] and for tests (`app(state).oneshot(request)`).
pub fn app(state: UiState) -> Router {
    Router::new()
        .route(routes::INDEX, get(assets::index))
        .route(routes::ASSET, get(assets::asset))
        .route(routes::STATE, get(view::state))
        .route(routes::POLICIES, get(view::policies))
        .route(routes::STREAM, get(stream::flows))
        .route(routes::EXPORT, get(export::flows))
        .layer(axum::middleware::from_fn_with_state(
            state.port,
            guard::check,
        ))
        .with_state(state)
}

/// Serve the UI on `listener` until `state.shutdown` flips.
pub async fn serve(state: UiState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let mut shutdown = state.shutdown.clone();
    axum::serve(listener, app(state))
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|s| *s).await;
        })
        .await
}
