//! The demo API: the route table, the station's shared state, the one error type that writes
//! `{"code":...,"message":...}`, and the hyper service that answers each request.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{ACCEPT, ALLOW, CONNECTION, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Body, Incoming};
use tokio::sync::{Notify, Semaphore};

use crate::config::Config;
use crate::metrics::{Metrics, PortLabel, RouteLabel};
use crate::wire;

const TEXT_PLAIN: HeaderValue = HeaderValue::from_static("text/plain");
const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");
const CLOSE: HeaderValue = HeaderValue::from_static("close");

/// The three routes upstream serves; everything else GET /v1 lists is decoration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `GET /v1`: the station's description.
    Info,
    /// `POST /v1/request-landing`.
    Landing,
    /// `PUT /v1/exhaust-port`: the weakness.
    ExhaustPort,
}

impl Route {
    /// Finds the route of a cleaned path; matching is case-sensitive, as upstream's router.
    pub fn find(path: &str) -> Option<Route> {
        match path {
            "/v1" => Some(Route::Info),
            "/v1/request-landing" => Some(Route::Landing),
            "/v1/exhaust-port" => Some(Route::ExhaustPort),
            _ => None,
        }
    }

    /// The only method the route answers.
    pub fn method(self) -> Method {
        match self {
            Route::Info => Method::GET,
            Route::Landing => Method::POST,
            Route::ExhaustPort => Method::PUT,
        }
    }

    fn label(self) -> RouteLabel {
        match self {
            Route::Info => RouteLabel::Info,
            Route::Landing => RouteLabel::Landing,
            Route::ExhaustPort => RouteLabel::ExhaustPort,
        }
    }
}

/// Every error the demo API answers with; `into_response` is the only writer of the JSON body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// No route has this (cleaned) path.
    #[error("path {path} was not found")]
    NotFound {
        /// The request's path as sent, without the query.
        path: String,
    },
    /// The path exists with another method.
    #[error("method {method} is not allowed, but [{allowed}] are")]
    MethodNotAllowed {
        /// The request's method as sent.
        method: String,
        /// The route's method.
        allowed: Method,
    },
    /// A body with a Content-Type other than application/json.
    #[error("unsupported media type \"{media_type}\", only [application/json] are allowed")]
    UnsupportedMediaType {
        /// The request's media type, lower case, without parameters.
        media_type: String,
    },
    /// The body is larger than the configured limit.
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The body could not be read (bad chunked encoding, connection cut).
    #[error("request body could not be read")]
    BadBody,
    /// The body did not arrive whole within the body read timeout.
    #[error("request body was not received within {}", humantime::format_duration(*.after))]
    BodyTimeout {
        /// The timeout.
        after: Duration,
    },
}

impl ApiError {
    /// The HTTP status of the error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::BadBody => StatusCode::BAD_REQUEST,
            ApiError::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
        }
    }

    /// The JSON error answer; `text` chooses the Content-Type negotiated from Accept.
    pub fn into_response(self, text: bool) -> Response<Full<Bytes>> {
        let status = self.status();
        let body = wire::error_document(status.as_u16(), &self.to_string());
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        if let ApiError::MethodNotAllowed { allowed, .. } = &self
            && let Ok(value) = HeaderValue::from_str(allowed.as_str())
        {
            headers.insert(ALLOW, value);
        }
        headers.insert(
            CONTENT_TYPE,
            if text { TEXT_PLAIN } else { APPLICATION_JSON },
        );
        // The rest of a late body may still come: the connection cannot carry another request.
        if let ApiError::BodyTimeout { .. } = self {
            headers.insert(CONNECTION, CLOSE);
        }
        response
    }
}

/// What one Death Star shares between its connections.
pub struct Station {
    pub(crate) metrics: Metrics,
    info: Bytes,
    explosions: bool,
    explode_after: Duration,
    max_body_bytes: u64,
    body_read_timeout: Option<Duration>,
    access_log: bool,
    ready: AtomicBool,
    draining: AtomicBool,
    exploding: AtomicBool,
    /// Wakes the server loop when the exhaust port is hit; it owns the consequence.
    pub(crate) explosion: Notify,
    /// One permit a demo connection (port and pipe), taken on accept.
    pub(crate) demo_slots: Arc<Semaphore>,
    /// One permit an admin connection.
    pub(crate) admin_slots: Arc<Semaphore>,
    demo_limit: usize,
    admin_limit: usize,
}

impl Station {
    /// A station described by `config`, `hostname` already resolved.
    pub fn new(config: &Config, hostname: &str, metrics: Metrics, access_log: bool) -> Self {
        let demo_limit = config.max_connections.max(1);
        let admin_limit = config.max_admin_connections.max(1);
        Station {
            metrics,
            info: Bytes::from(wire::info_document(hostname)),
            explosions: config.explosions(),
            explode_after: config.explode_after,
            max_body_bytes: config.max_body_bytes,
            body_read_timeout: Some(config.body_read_timeout).filter(|t| !t.is_zero()),
            access_log,
            ready: AtomicBool::new(true),
            draining: AtomicBool::new(false),
            exploding: AtomicBool::new(false),
            explosion: Notify::new(),
            demo_slots: Arc::new(Semaphore::new(demo_limit)),
            admin_slots: Arc::new(Semaphore::new(admin_limit)),
            demo_limit,
            admin_limit,
        }
    }

    /// Whether a graceful shutdown has begun: every answer from now on closes its connection.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    /// Begins a graceful shutdown: answers carry `Connection: close` from now on, so that
    /// keep-alive clients leave after their next answer instead of being cut at the end.
    pub fn set_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// Marks `response` as the connection's last when a shutdown is under way (as Envoy does
    /// while draining); hyper then closes the connection once the answer is written.
    pub(crate) fn seal<B>(&self, response: &mut Response<B>) {
        if self.is_draining() {
            response.headers_mut().insert(CONNECTION, CLOSE);
        }
    }

    /// The Prometheus text of the station's metrics, connection gauges brought up to date.
    pub(crate) fn render_metrics(&self) -> Result<Vec<u8>, prometheus::Error> {
        self.update_connection_gauges();
        self.metrics.render()
    }

    fn update_connection_gauges(&self) {
        for (port, slots, limit) in [
            (PortLabel::Demo, &self.demo_slots, self.demo_limit),
            (PortLabel::Admin, &self.admin_slots, self.admin_limit),
        ] {
            let open = limit.saturating_sub(slots.available_permits());
            self.metrics.set_connections(port, open, limit);
        }
    }

    /// Counts and logs a request that the HTTP parser refused, and answered with `status`,
    /// before it had a method or a path.
    pub(crate) fn finish_unparsed(&self, peer: SocketAddr, status: StatusCode, reason: &str) {
        let status = status.as_u16();
        self.metrics.observe_unparsed(status);
        if self.access_log {
            tracing::info!(
                target: "access",
                %peer,
                method = "-",
                path = "-",
                status,
                reason,
                "request"
            );
        }
    }

    /// Whether /readyz passes.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    /// Fails readiness: shutdown or explosion has begun.
    pub fn set_unready(&self) {
        self.ready.store(false, Ordering::Relaxed);
    }

    /// Answers a request whose body (if any) has been read: `body` is `None` without a body,
    /// else whether it fitted the limit (`Ok`) or why not.
    fn answer(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: Option<Result<(), ApiError>>,
    ) -> (RouteLabel, Response<Full<Bytes>>) {
        let path = wire::clean_path(uri.path());
        let route = Route::find(&path);
        let label = route.map_or(RouteLabel::Unmatched, Route::label);
        let result = match (route, body) {
            // Whatever the route, a connection with half a body on it cannot be answered normally.
            (_, Some(Err(timeout @ ApiError::BodyTimeout { .. }))) => Err(timeout),
            (None, _) => Err(ApiError::NotFound {
                path: uri.path().to_owned(),
            }),
            (Some(route), body) => self.checked(route, method, headers, body),
        };
        let response = match result {
            Ok(route) => self.handle(route),
            Err(error) => error.into_response(wire::accepts_text(headers.get_all(ACCEPT).iter())),
        };
        (label, response)
    }

    fn checked(
        &self,
        route: Route,
        method: &Method,
        headers: &HeaderMap,
        body: Option<Result<(), ApiError>>,
    ) -> Result<Route, ApiError> {
        let allowed = route.method();
        // go-openapi upper-cases the method before routing.
        if *method != allowed && !method.as_str().eq_ignore_ascii_case(allowed.as_str()) {
            return Err(ApiError::MethodNotAllowed {
                method: method.as_str().to_owned(),
                allowed,
            });
        }
        if let Some(read) = body {
            read?;
            let media_type = wire::media_type(headers.get(CONTENT_TYPE));
            if media_type != "application/json" {
                return Err(ApiError::UnsupportedMediaType { media_type });
            }
        }
        Ok(route)
    }

    fn handle(&self, route: Route) -> Response<Full<Bytes>> {
        match route {
            Route::Info => text(StatusCode::OK, self.info.clone()),
            Route::Landing => {
                self.metrics.landings.inc();
                text(StatusCode::OK, Bytes::from_static(wire::LANDED))
            }
            Route::ExhaustPort => {
                self.metrics.explosions.inc();
                if self.explosions && !self.exploding.swap(true, Ordering::Relaxed) {
                    self.set_unready();
                    tracing::warn!(
                        explode_after = ?self.explode_after,
                        "exhaust port hit: the Death Star explodes"
                    );
                    // notify_one keeps a permit, so the server loop sees it even if it is busy.
                    self.explosion.notify_one();
                }
                text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    Bytes::from_static(wire::EXHAUST_PORT_PANIC),
                )
            }
        }
    }

    /// Reads (and drops) a request body within the size limit and the body read timeout.
    async fn read_body(&self, body: Incoming) -> Result<(), ApiError> {
        let limit = self.max_body_bytes;
        let collect = Limited::new(body, usize::try_from(limit).unwrap_or(usize::MAX)).collect();
        let collected = match self.body_read_timeout {
            // tokio's timer wheel: no allocation, and only requests with a body pay for it.
            Some(after) => match tokio::time::timeout(after, collect).await {
                Ok(collected) => collected,
                Err(_) => return Err(ApiError::BodyTimeout { after }),
            },
            None => collect.await,
        };
        match collected {
            Ok(_) => Ok(()),
            Err(e) if e.is::<LengthLimitError>() => Err(ApiError::PayloadTooLarge { limit }),
            Err(_) => Err(ApiError::BadBody),
        }
    }

    fn finish(
        &self,
        peer: SocketAddr,
        start: Instant,
        method: &Method,
        uri: &Uri,
        label: RouteLabel,
        response: &Response<Full<Bytes>>,
    ) {
        let elapsed = start.elapsed();
        let status = response.status().as_u16();
        self.metrics
            .observe(label, method, status, elapsed.as_secs_f64());
        if self.access_log {
            tracing::info!(
                target: "access",
                %peer,
                %method,
                path = uri.path(),
                status,
                micros = elapsed.as_micros() as u64,
                "request"
            );
        }
    }
}

fn text(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, TEXT_PLAIN);
    response
}

/// What a connection's watchdog needs to tell a working connection from an idle or stuck one:
/// request heads completed so far, and requests still waiting for their body.
#[derive(Debug, Default)]
pub struct Activity {
    heads: AtomicU64,
    busy: AtomicU32,
}

impl Activity {
    /// Request heads received on the connection so far.
    pub fn heads(&self) -> u64 {
        self.heads.load(Ordering::Relaxed)
    }

    /// Whether a request is being read or answered right now.
    pub fn busy(&self) -> bool {
        self.busy.load(Ordering::Relaxed) > 0
    }

    /// Counts a request head, for services other than [`DemoService`] (the admin port's).
    pub(crate) fn saw_head(&self) {
        self.heads.fetch_add(1, Ordering::Relaxed);
    }
}

/// Marks a request with a body as in progress until its answer is ready.
struct Busy(Arc<Activity>);

impl Busy {
    fn new(activity: &Arc<Activity>) -> Self {
        activity.busy.fetch_add(1, Ordering::Relaxed);
        Busy(Arc::clone(activity))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The demo API as a hyper service, one per connection.
#[derive(Clone)]
pub struct DemoService {
    station: Arc<Station>,
    peer: SocketAddr,
    activity: Arc<Activity>,
}

impl DemoService {
    /// A service answering for `station` on a connection from `peer`, reporting to `activity`.
    pub fn new(station: Arc<Station>, peer: SocketAddr, activity: Arc<Activity>) -> Self {
        DemoService {
            station,
            peer,
            activity,
        }
    }
}

type BoxedAnswer = Pin<Box<dyn Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send>>;

/// Answers without a body are computed on the spot, with no allocation for the future.
pub enum DemoFuture {
    /// Answered already.
    Ready(Option<Response<Full<Bytes>>>),
    /// Waiting for the request body.
    Body(BoxedAnswer),
}

impl Future for DemoFuture {
    type Output = Result<Response<Full<Bytes>>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            DemoFuture::Ready(response) => match response.take() {
                Some(response) => Poll::Ready(Ok(response)),
                // Polled after completion: hyper never does that; stay pending rather than panic.
                None => Poll::Pending,
            },
            DemoFuture::Body(future) => future.as_mut().poll(cx),
        }
    }
}

impl hyper::service::Service<Request<Incoming>> for DemoService {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = DemoFuture;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let start = Instant::now();
        self.activity.heads.fetch_add(1, Ordering::Relaxed);
        if request.body().is_end_stream() {
            let (method, uri, headers) = (request.method(), request.uri(), request.headers());
            let (label, mut response) = self.station.answer(method, uri, headers, None);
            self.station.seal(&mut response);
            self.station
                .finish(self.peer, start, method, uri, label, &response);
            return DemoFuture::Ready(Some(response));
        }
        let station = Arc::clone(&self.station);
        let peer = self.peer;
        let busy = Busy::new(&self.activity);
        DemoFuture::Body(Box::pin(async move {
            let _busy = busy;
            let (parts, body) = request.into_parts();
            let read = station.read_body(body).await;
            let (label, mut response) =
                station.answer(&parts.method, &parts.uri, &parts.headers, Some(read));
            station.seal(&mut response);
            station.finish(peer, start, &parts.method, &parts.uri, label, &response);
            Ok(response)
        }))
    }
}
