//! Under continuous traffic from both ships, applying and deleting policies changes the outcomes
//! from the next request on, without restarting anything; and every request sent is accounted
//! exactly once, by the ships (one outcome each) and by the flow log (one request flow each).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use frota::{Outcome, RequestKind};
use galaxia::flows::flow::{Event, TcpFlags};
use galaxia::galaxy::{Options, ship};
use galaxia::manifest::{ApplyMode, Change, ObjectKey, ObjectKind};
use tokio::time::Instant;

const MUST_HAPPEN: Duration = Duration::from_secs(90);

fn repo_file(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(name)
}

/// One request: the ship, when it started, what it asked, what it got.
type Sent = (String, Instant, RequestKind, Outcome);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Open,
    L4,
    L7,
    Deleted,
}

/// What the book says a request gets in each phase.
fn expected(phase: Phase, ship: &str, kind: RequestKind) -> Outcome {
    match (phase, ship, kind) {
        (Phase::Open | Phase::Deleted, _, _) => Outcome::Landed,
        (Phase::L4 | Phase::L7, "asa-x", _) => Outcome::Dropped,
        (Phase::L4, _, _) => Outcome::Landed,
        (Phase::L7, _, RequestKind::Land) => Outcome::Landed,
        (Phase::L7, _, _) => Outcome::Denied,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_changes_take_effect_from_the_next_request_and_every_request_counts_once() {
    let manifests = galaxia::manifest::load_paths(&[repo_file("k8s/starwars.yml")]).expect("load");
    let options = Options {
        patrol: false,
        patrol_timeout: Duration::from_secs(1),
        // Every flow of the run stays in the ring.
        hubble_buffer: Some(65_535),
        ..Options::default()
    };
    let running = galaxia::galaxy::launch(
        &manifests,
        options.clone(),
        galaxia::galaxy::Ports { hubble: 0, ui: 0 },
    )
    .await
    .expect("start the galaxy");
    let shared = running.galaxy.cluster.clone();
    assert!(
        running.galaxy.wait_ready(MUST_HAPPEN).await.is_empty(),
        "pods never ready"
    );
    // The proxies reach every replica of the Service through its in-process pipe (the bytes of
    // the proxied traffic below never go back through the kernel).
    let dest = shared
        .resolve("estrela-da-morte", None, "default")
        .expect("the Service resolves");
    for _ in 0..2 {
        let backend = shared.pick(dest).expect("a ready replica");
        assert!(
            backend.pipe.as_ref().is_some_and(|p| !p.is_closed()),
            "replica {} has no open pipe",
            shared.pod(backend.pod).name()
        );
    }

    // Each ship sends land and info requests back to back, recording when each started.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let log: Arc<Mutex<Vec<Sent>>> = Arc::default();
    let mut senders = Vec::new();
    for name in ["caca-tie", "asa-x"] {
        let pod = shared.find_pod(name).expect("ship pod");
        let client = frota::Client::new(ship::client_config(pod, &options)).expect("client");
        let log = log.clone();
        let mut stop = stop_rx.clone();
        senders.push(tokio::spawn(async move {
            let mut n = 0u32;
            while !*stop.borrow_and_update() {
                let kind = if n % 3 == 2 {
                    RequestKind::Info
                } else {
                    RequestKind::Land
                };
                n += 1;
                let started = Instant::now();
                let reply = client.send(kind).await;
                log.lock().expect("log lock").push((
                    name.to_string(),
                    started,
                    kind,
                    reply.outcome,
                ));
                // Paced so that every flow of the run stays in the flow log's ring buffer.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }

    let policies = &shared.policies;
    let l4 = std::fs::read_to_string(repo_file("k8s/politica_l4.yml")).expect("l4");
    let l7 = std::fs::read_to_string(repo_file("k8s/politica_l7.yml")).expect("l7");
    let mut changes = vec![(Phase::Open, Instant::now())];
    let hold = Duration::from_millis(3500);
    tokio::time::sleep(hold).await;
    let r = policies
        .apply(&l4, "politica_l4.yml", ApplyMode::Create)
        .expect("create l4");
    assert_eq!(r[0].result, Ok(Change::Created), "{r:?}");
    changes.push((Phase::L4, Instant::now()));
    tokio::time::sleep(hold).await;
    let r = policies
        .apply(&l7, "politica_l7.yml", ApplyMode::Apply)
        .expect("apply l7");
    assert_eq!(r[0].result, Ok(Change::Configured), "{r:?}");
    changes.push((Phase::L7, Instant::now()));
    tokio::time::sleep(hold).await;
    let r = policies.delete(&[ObjectKey {
        kind: ObjectKind::CiliumNetworkPolicy,
        namespace: "default".into(),
        name: "regra1".into(),
    }]);
    assert_eq!(r[0].result, Ok(Change::Deleted), "{r:?}");
    changes.push((Phase::Deleted, Instant::now()));
    tokio::time::sleep(hold).await;
    stop_tx.send(true).expect("stop senders");
    for s in senders {
        s.await.expect("sender");
    }

    let log = log.lock().expect("log lock").clone();
    let phase_at = |t: Instant| {
        changes
            .iter()
            .rev()
            .find(|(_, at)| *at <= t)
            .map_or(Phase::Open, |(p, _)| *p)
    };
    // Requests that started after a change returned must all follow the new policy; a request
    // started just before may be judged by either, and is not checked.
    let mut strict: BTreeMap<(String, Phase), u32> = BTreeMap::new();
    for (ship, started, kind, outcome) in &log {
        let phase = phase_at(*started);
        let boundary = changes.iter().any(|(_, at)| {
            *at > *started && at.duration_since(*started) < Duration::from_millis(1200)
        });
        if boundary {
            continue;
        }
        assert_eq!(
            *outcome,
            expected(phase, ship, *kind),
            "{ship} {kind} started in phase {phase:?} got {outcome}"
        );
        *strict.entry((ship.clone(), phase)).or_default() += 1;
    }
    for ship in ["caca-tie", "asa-x"] {
        for phase in [Phase::Open, Phase::L4, Phase::L7, Phase::Deleted] {
            assert!(
                strict.get(&(ship.to_string(), phase)).copied().unwrap_or(0) > 0,
                "no checked request of {ship} in {phase:?}: {strict:?}"
            );
        }
    }

    // Exactly once: the ships' outcomes add up to what they sent, and the datapath opened one
    // connection for each of them (each request is a fresh connection from its own port: a SYN
    // traced, or dropped, at least once).
    let flows = shared.flows.snapshot();
    for ship in ["caca-tie", "asa-x"] {
        let sent = log.iter().filter(|(s, ..)| s == ship).count();
        let mut by_outcome: BTreeMap<Outcome, usize> = BTreeMap::new();
        for (_, _, _, o) in log.iter().filter(|(s, ..)| s == ship) {
            *by_outcome.entry(*o).or_default() += 1;
        }
        assert_eq!(by_outcome.values().sum::<usize>(), sent);
        assert!(
            by_outcome
                .keys()
                .all(|o| matches!(o, Outcome::Landed | Outcome::Denied | Outcome::Dropped)),
            "{ship}: unexpected outcomes {by_outcome:?}"
        );
        // A connection that opened traced one SYN; a dropped one, a series of drops (its SYN and
        // the retransmissions until the ship gave up, or until a new policy let it through and
        // its SYN was traced). Ports are counted as such series, not as a set: Linux may give a
        // later connection the port of an earlier one.
        let mut by_port: BTreeMap<u16, Vec<(SystemTime, bool)>> = BTreeMap::new();
        for f in flows.iter().filter(|f| &*f.source.endpoint.pod == ship) {
            let syn = matches!(f.event, Event::Trace { flags, .. } if flags == TcpFlags::SYN);
            if syn || f.is_drop() {
                by_port
                    .entry(f.source.port)
                    .or_default()
                    .push((f.time, syn));
            }
        }
        let opened: usize = by_port
            .values_mut()
            .map(|events| {
                events.sort();
                1 + events
                    .windows(2)
                    .filter(|w| {
                        let gap = w[1].0.duration_since(w[0].0).unwrap_or_default();
                        w[0].1 || gap > Duration::from_millis(1500)
                    })
                    .count()
            })
            .sum();
        assert_eq!(opened, sent, "{ship}: connections opened vs requests sent");
    }
    running.stop().await;
}
