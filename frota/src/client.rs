//! The ships' one-request client: a [`RequestKind`] to the Death Star (directly or through an HTTP
//! proxy), ending as exactly one [`Outcome`] with the status, the exact body and the latency.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::identity::Identity;
use crate::kind::RequestKind;
use crate::outcome::{Failure, Outcome};
use crate::resolve::{Resolver, ResolverSettings};
use crate::transport::{self, HttpTarget, Outgoing, TransportError, UrlError};

/// How to reach the Death Star.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Base URL; the kinds' paths are appended (default [`transport::DEFAULT_TARGET`]).
    pub target: String,
    /// An HTTP proxy URL (`http://127.0.0.1:3128` or `127.0.0.1:3128`); requests then go to it
    /// in absolute-form, as curl does with `http_proxy`.
    pub proxy: Option<String>,
    /// No complete answer within this time is `dropped`; a name still not resolved by then is
    /// `error` (failure `dns`).
    pub timeout: Duration,
    pub identity: Identity,
    pub resolver: ResolverSettings,
}

impl ClientConfig {
    /// The defaults: the in-cluster Death Star, no proxy, 2 s timeout, `/etc` resolution.
    pub fn new(identity: Identity) -> Self {
        ClientConfig {
            target: transport::DEFAULT_TARGET.to_string(),
            proxy: None,
            timeout: Duration::from_secs(2),
            identity,
            resolver: ResolverSettings::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("bad target URL: {0}")]
    Target(#[source] UrlError),
    #[error("bad proxy URL: {0}")]
    Proxy(#[source] UrlError),
}

/// What one request got.
#[derive(Debug, Clone)]
pub struct Reply {
    pub kind: RequestKind,
    pub outcome: Outcome,
    /// The HTTP status, when an answer came back.
    pub status: Option<u16>,
    /// The body exactly as received (empty without an answer).
    pub body: Bytes,
    pub latency: Duration,
    /// What went wrong when no answer came back.
    pub error: Option<String>,
    /// The kind of that failure (`dns`, `malformed`, ...), when no answer came back.
    pub failure: Option<Failure>,
}

/// Cheap to clone: clones share the resolver and its cache.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    base: HttpTarget,
    proxy: Option<HttpTarget>,
    timeout: Duration,
    identity: Identity,
    user_agent: String,
    resolver: Resolver,
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Client, ClientError> {
        let base = HttpTarget::parse(&config.target).map_err(ClientError::Target)?;
        let proxy = match config.proxy.as_deref().filter(|p| !p.trim().is_empty()) {
            Some(p) => Some(crate::proxy::parse_proxy(p).map_err(ClientError::Proxy)?),
            None => None,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                base,
                proxy,
                timeout: config.timeout,
                user_agent: config.identity.user_agent(),
                identity: config.identity,
                resolver: Resolver::new(config.resolver),
            }),
        })
    }

    pub fn identity(&self) -> &Identity {
        &self.inner.identity
    }

    /// The URL `kind` goes to.
    pub fn url(&self, kind: RequestKind) -> String {
        self.inner.base.with_path(kind.path()).absolute()
    }

    pub fn proxy(&self) -> Option<String> {
        self.inner.proxy.as_ref().map(HttpTarget::absolute)
    }

    /// Send one request; never fails: every way it can end is an [`Outcome`].
    pub async fn send(&self, kind: RequestKind) -> Reply {
        let inner = &self.inner;
        let out = Outgoing {
            method: kind.method(),
            target: inner.base.with_path(kind.path()),
            proxy: inner.proxy.clone(),
            headers: vec![
                ("Host".into(), inner.base.authority.clone()),
                ("User-Agent".into(), inner.user_agent.clone()),
                ("Accept".into(), "*/*".into()),
            ],
            body: Bytes::new(),
        };
        let start = Instant::now();
        let deadline = tokio::time::Instant::now() + inner.timeout;
        // One deadline for the whole request, but the phase it ends in decides the outcome:
        // an unanswered DNS query is a resolution failure, only an unanswered flow is `dropped`.
        let result = async {
            let peer = out.peer();
            let addrs = transport::resolve(&inner.resolver, peer, Some(deadline)).await?;
            let exchange = async {
                let (stream, _) = transport::connect_to(addrs, peer, None).await?;
                let body = transport::RequestBody::from(Bytes::new());
                transport::exchange_with(stream, &out, body, transport::HeadLimits::OUTCOME).await
            };
            tokio::time::timeout_at(deadline, exchange)
                .await
                .unwrap_or(Err(TransportError::Timeout(inner.timeout)))
        }
        .await;
        let latency = start.elapsed();
        match result {
            Ok(answer) => Reply {
                kind,
                outcome: Outcome::from_response(answer.status.as_u16(), &answer.body),
                status: Some(answer.status.as_u16()),
                body: answer.body,
                latency,
                error: None,
                failure: None,
            },
            Err(e) => Reply {
                kind,
                outcome: Outcome::from_failure(e.failure()),
                status: None,
                body: Bytes::new(),
                latency,
                error: Some(e.to_string()),
                failure: Some(e.failure()),
            },
        }
    }
}
