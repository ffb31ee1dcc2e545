//! The verbs' side of the control API: one typed method per route, over frota's one-shot HTTP
//! exchange (the same client the ships and the built-in curl use).

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use frota::transport::{self, HttpTarget, Outgoing, TransportError};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::api::{DeploymentRequest, LogQuery, PodRequest, ScaleRequest};
use super::discovery::{self, ControlArgs, DiscoveryError};
use super::routes;
use super::views::{
    ApplyRequest, ApplyResponse, DeleteRequest, ErrorBody, PodView, PoliciesResponse, ServiceView,
};
use crate::config::CONTROL_REQUEST;
use crate::state::DeploymentView;
use crate::state::logs::LogChunk;

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error(transparent)]
    Discovery(#[from] DiscoveryError),
    #[error("cannot reach the galaxy at {addr} (is `galaxia up` still running?)")]
    Connect {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the galaxy at {0} did not answer in time")]
    Timeout(SocketAddr),
    #[error("talking to the galaxy at {addr}")]
    Exchange {
        addr: SocketAddr,
        #[source]
        source: TransportError,
    },
    #[error("the galaxy's answer is not what this galaxia expects")]
    Decode(#[source] serde_json::Error),
    #[error("encoding the request")]
    Encode(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The galaxy refused the request; the message is for people.
    #[error("{0}")]
    Refused(String),
}

/// A running galaxy's control API.
#[derive(Debug, Clone)]
pub struct Control {
    addr: SocketAddr,
    token: String,
}

impl Control {
    /// Find the galaxy named by `args` (or the default discovery file).
    pub fn connect(args: &ControlArgs) -> Result<Control, ControlError> {
        let d = discovery::read(&args.path())?;
        Ok(Control::at(d.addr, d.token))
    }

    /// The control API at `addr`, with the galaxy's token.
    pub fn at(addr: SocketAddr, token: String) -> Control {
        Control { addr, token }
    }

    pub async fn pods(&self) -> Result<Vec<PodView>, ControlError> {
        self.get(routes::PODS, "").await
    }

    pub async fn services(&self) -> Result<Vec<ServiceView>, ControlError> {
        self.get(routes::SERVICES, "").await
    }

    pub async fn policies(&self) -> Result<PoliciesResponse, ControlError> {
        self.get(routes::POLICIES, "").await
    }

    pub async fn apply(&self, req: &ApplyRequest) -> Result<ApplyResponse, ControlError> {
        self.post(routes::APPLY, req).await
    }

    pub async fn delete(&self, req: &DeleteRequest) -> Result<ApplyResponse, ControlError> {
        self.post(routes::DELETE, req).await
    }

    /// `create --save-config` records the last-applied configuration as `apply` does.
    pub async fn create_saving_config(
        &self,
        req: &ApplyRequest,
    ) -> Result<ApplyResponse, ControlError> {
        let bytes = serde_json::to_vec(req).map_err(|e| ControlError::Encode(Box::new(e)))?;
        self.call(
            http::Method::POST,
            routes::APPLY,
            "save_config=true",
            Bytes::from(bytes),
        )
        .await
    }

    pub async fn logs(&self, q: &LogQuery) -> Result<LogChunk, ControlError> {
        let query =
            serde_urlencoded::to_string(q).map_err(|e| ControlError::Encode(Box::new(e)))?;
        self.get(routes::LOGS, &query).await
    }

    pub async fn delete_pod(&self, pod: &str) -> Result<PodRequest, ControlError> {
        self.post(routes::DELETE_POD, &PodRequest { pod: pod.into() })
            .await
    }

    pub async fn deployments(&self) -> Result<Vec<DeploymentView>, ControlError> {
        self.get(routes::DEPLOYMENTS, "").await
    }

    pub async fn scale(&self, req: &ScaleRequest) -> Result<DeploymentRequest, ControlError> {
        self.post(routes::SCALE, req).await
    }

    pub async fn restart(
        &self,
        req: &DeploymentRequest,
    ) -> Result<DeploymentRequest, ControlError> {
        self.post(routes::RESTART, req).await
    }

    async fn get<T: DeserializeOwned>(&self, route: &str, query: &str) -> Result<T, ControlError> {
        self.call(http::Method::GET, route, query, Bytes::new())
            .await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        route: &str,
        body: &B,
    ) -> Result<T, ControlError> {
        let bytes = serde_json::to_vec(body).map_err(|e| ControlError::Encode(Box::new(e)))?;
        self.call(http::Method::POST, route, "", Bytes::from(bytes))
            .await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: http::Method,
        route: &str,
        query: &str,
        body: Bytes,
    ) -> Result<T, ControlError> {
        let path_and_query = if query.is_empty() {
            route.to_string()
        } else {
            format!("{route}?{query}")
        };
        let addr = self.addr;
        let target = HttpTarget {
            host: addr.ip().to_string(),
            port: addr.port(),
            authority: addr.to_string(),
            path_and_query,
        };
        let out = Outgoing {
            method,
            target,
            proxy: None,
            headers: vec![
                ("Host".into(), addr.to_string()),
                ("Authorization".into(), format!("Bearer {}", self.token)),
                ("Content-Type".into(), "application/json".into()),
            ],
            body,
        };
        let limit: Duration = CONTROL_REQUEST;
        let exchange = async {
            let stream = tokio::net::TcpStream::connect(addr)
                .await
                .map_err(|source| ControlError::Connect { addr, source })?;
            transport::exchange(stream, &out)
                .await
                .map_err(|source| ControlError::Exchange { addr, source })
        };
        let answer = tokio::time::timeout(limit, exchange)
            .await
            .map_err(|_| ControlError::Timeout(addr))??;
        if !answer.status.is_success() {
            let msg = serde_json::from_slice::<ErrorBody>(&answer.body)
                .map(|e| e.error)
                .unwrap_or_else(|_| String::from_utf8_lossy(&answer.body).into_owned());
            return Err(ControlError::Refused(msg));
        }
        serde_json::from_slice(&answer.body).map_err(ControlError::Decode)
    }
}
