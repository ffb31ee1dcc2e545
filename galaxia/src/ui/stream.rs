//! The live flows: one follower per browser, reading the ring from its own position, filtering
//! on the server, and pushing batches as server-sent events.
//!
//! Nothing here grows with the traffic: a follower holds one batch at a time and a queue of a few
//! events; when the browser reads slower than the galaxy writes, the socket and then the queue
//! fill, the follower waits, the ring overwrites what it has not read, and the browser is told how
//! many flows it lost (as Hubble tells a slow `GetFlows` client), never sent an ever longer
//! backlog. Flows are batched (a burst is gathered for [`GATHER`]) so that a browser gets a few
//! events a second whatever the rate.
//!
//! Events: `hello` (where the stream starts), `flows` (`{"next": POS, "flows": [...]}`), `lost`
//! (`{"lost": N}`), `policies` (`{"revision": N}`: the page fetches them again) and `invalid`
//! (the filter does not parse; the stream ends and the page says why).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::UiState;
use super::filter::UiFilter;
use super::view::FlowView;

/// How many flows a new browser gets from the past (the ring may hold fewer).
pub const HISTORY: u64 = 2000;
/// The most flows in one event.
pub const MAX_BATCH: usize = 1000;
/// How long a follower lets a burst gather before sending it.
pub const GATHER: Duration = Duration::from_millis(100);
/// Events waiting for one browser's socket.
const QUEUE: usize = 4;
/// How often an idle follower looks at the policy revision.
const POLICY_CHECK: Duration = Duration::from_millis(500);

/// What a browser asks to follow.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StreamQuery {
    pub namespace: Option<String>,
    pub verdict: Option<String>,
    pub filter: Option<String>,
    /// Resume from this ring position (after a pause).
    pub since: Option<u64>,
}

impl StreamQuery {
    pub fn filter(&self) -> Result<UiFilter, super::filter::FilterError> {
        UiFilter::new(
            self.namespace.as_deref(),
            self.verdict.as_deref(),
            self.filter.as_deref(),
        )
    }
}

#[derive(Serialize)]
struct Hello {
    next: u64,
    oldest: u64,
    capacity: usize,
    revision: u64,
}

#[derive(Serialize)]
struct Batch<'a> {
    next: u64,
    flows: &'a [FlowView],
}

type Tx = mpsc::Sender<Result<Event, Infallible>>;

pub async fn flows(
    State(s): State<UiState>,
    Query(q): Query<StreamQuery>,
) -> impl axum::response::IntoResponse {
    let (tx, rx) = mpsc::channel(QUEUE);
    tokio::spawn(follow(s, q, tx));
    Sse::new(ReceiverStream::new(rx)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

fn event<T: Serialize>(name: &str, body: &T) -> Event {
    let data = serde_json::to_string(body).unwrap_or_else(|_| "null".into());
    Event::default().event(name).data(data)
}

/// Send, or learn that the browser has gone.
async fn send(tx: &Tx, e: Event) -> bool {
    tx.send(Ok(e)).await.is_ok()
}

async fn follow(s: UiState, q: StreamQuery, tx: Tx) {
    let filter = match q.filter() {
        Ok(f) => f,
        Err(e) => {
            let _ = send(&tx, event("invalid", &e.to_string())).await;
            return;
        }
    };
    let ring = &s.cluster.flows;
    let mut shutdown = s.shutdown.clone();
    let mut pos = q
        .since
        .unwrap_or_else(|| ring.written().saturating_sub(HISTORY))
        .max(ring.oldest());
    let mut revision = s.cluster.policies.current().revision;
    let hello = Hello {
        next: pos,
        oldest: ring.oldest(),
        capacity: ring.capacity(),
        revision,
    };
    if !send(&tx, event("hello", &hello)).await {
        return;
    }
    loop {
        let stopping = *shutdown.borrow();
        if stopping {
            return;
        }
        let now = s.cluster.policies.current().revision;
        if now != revision {
            revision = now;
            if !send(
                &tx,
                event("policies", &serde_json::json!({ "revision": now })),
            )
            .await
            {
                return;
            }
        }
        let batch = ring.read(pos, MAX_BATCH);
        if batch.lost > 0
            && !send(
                &tx,
                event("lost", &serde_json::json!({ "lost": batch.lost })),
            )
            .await
        {
            return;
        }
        let full = batch.flows.len() == MAX_BATCH;
        pos = batch.next;
        let views: Vec<FlowView> = batch
            .flows
            .iter()
            .filter(|f| filter.matches(f))
            .map(|f| FlowView::of(f))
            .collect();
        if !views.is_empty() {
            let body = Batch {
                next: pos,
                flows: &views,
            };
            if !send(&tx, event("flows", &body)).await {
                return;
            }
        }
        if full {
            // More is waiting: read on without gathering.
            continue;
        }
        tokio::select! {
            () = ring.wait_for(pos) => tokio::time::sleep(GATHER).await,
            () = tokio::time::sleep(POLICY_CHECK) => {}
            () = tx.closed() => return,
            () = async { let _ = shutdown.wait_for(|s| *s).await; } => return,
        }
    }
}
