//! The verbs' side of the control API: find the galaxy through the discovery file and exchange JSON.

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::discovery::{self, ControlArgs, DiscoveryError};
use super::views::ErrorBody;
use crate::galaxy::config::CONTROL_REQUEST;

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error(transparent)]
    Discovery(#[from] DiscoveryError),
    #[error("cannot reach the galaxy at {addr} (is `galaxia up` still running?)")]
    Connect {
        addr: SocketAddr,
        #[source]
        source: hyper_util::client::legacy::Error,
    },
    #[error("the galaxy at {0} did not answer in time")]
    Timeout(SocketAddr),
    #[error("reading the galaxy's answer")]
    Body(#[source] hyper::Error),
    #[error("the galaxy's answer is not what this galaxia expects")]
    Decode(#[source] serde_json::Error),
    /// The galaxy refused the request; the message is for people.
    #[error("{0}")]
    Refused(String),
}

/// A connection to a running galaxy's control API.
#[derive(Debug, Clone)]
pub struct Control {
    addr: SocketAddr,
    http: HyperClient<HttpConnector, Full<Bytes>>,
}

impl Control {
    /// Find the galaxy named by `args` (or the default discovery file).
    pub fn connect(args: &ControlArgs) -> Result<Control, ControlError> {
        let d = discovery::read(&args.path())?;
        Ok(Control::at(d.addr))
    }

    pub fn at(addr: SocketAddr) -> Control {
        Control {
            addr,
            http: HyperClient::builder(TokioExecutor::new()).build_http(),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub async fn get<T: DeserializeOwned>(&self, path_and_query: &str) -> Result<T, ControlError> {
        self.call(http::Method::GET, path_and_query, Bytes::new())
            .await
    }

    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ControlError> {
        let bytes = serde_json::to_vec(body).map_err(ControlError::Decode)?;
        self.call(http::Method::POST, path, Bytes::from(bytes))
            .await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: http::Method,
        path: &str,
        body: Bytes,
    ) -> Result<T, ControlError> {
        let uri = format!("http://{}{path}", self.addr);
        let req = http::Request::builder()
            .method(method)
            .uri(uri)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(body))
            .map_err(|e| ControlError::Refused(format!("building the request: {e}")))?;
        // Long polls ask the server to wait up to its own bound; leave room for that.
        let limit = CONTROL_REQUEST + crate::galaxy::config::FOLLOW_POLL;
        let resp = tokio::time::timeout(limit, self.http.request(req))
            .await
            .map_err(|_| ControlError::Timeout(self.addr))?
            .map_err(|source| ControlError::Connect {
                addr: self.addr,
                source,
            })?;
        let status = resp.status();
        let bytes = tokio::time::timeout(limit, resp.into_body().collect())
            .await
            .map_err(|_| ControlError::Timeout(self.addr))?
            .map_err(ControlError::Body)?
            .to_bytes();
        if !status.is_success() {
            let msg = serde_json::from_slice::<ErrorBody>(&bytes)
                .map(|e| e.error)
                .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).into_owned());
            return Err(ControlError::Refused(msg));
        }
        serde_json::from_slice(&bytes).map_err(ControlError::Decode)
    }
}

/// Percent-encode a query value (pod names and verdicts are plain, but be safe).
pub fn encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
