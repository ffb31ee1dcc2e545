//! Hubble's Observer API of a real galaxy, through a gRPC client (tonic): every RPC, the health
//! check `hubble status` makes, GetFlows' selectors (number, first, follow, since, until) and
//! filters (fields AND inside a filter, filters OR, blacklist), ServerStatus counts, lost events
//! for a reader that does not read, and a ring that stays bounded under 100k flows.

#![allow(clippy::unwrap_used)] // a test may unwrap: a panic is its failure report

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use galaxia::flows::Flow;
use galaxia::galaxy::{Options, Ports, Running, launch};
use galaxia::hubble::convert;
use galaxia::hubble::proto::flow::{EventTypeFilter, FlowFilter, Verdict};
use galaxia::hubble::proto::observer::get_flows_response::ResponseTypes;
use galaxia::hubble::proto::observer::observer_client::ObserverClient;
use galaxia::hubble::proto::observer::{
    GetFlowsRequest, GetFlowsResponse, GetNamespacesRequest, GetNodesRequest, ServerStatusRequest,
};
use galaxia::hubble::server::HEALTH_SERVICE;
use galaxia::manifest::{ApplyMode, book, load_str};
use tonic::transport::Channel;

async fn galaxy(capacity: usize) -> Running {
    let m = load_str(book::STARWARS, "starwars.yml").unwrap();
    let options = Options {
        patrol: false,
        patrol_timeout: Duration::from_millis(1500),
        hubble_buffer: Some(capacity),
        ..Options::default()
    };
    let r = launch(&m, options, Ports { hubble: 0, ui: 0 })
        .await
        .unwrap();
    assert!(
        r.galaxy
            .wait_ready(Duration::from_secs(60))
            .await
            .is_empty()
    );
    r
}

async fn client(r: &Running) -> ObserverClient<Channel> {
    ObserverClient::connect(format!("http://{}", r.hubble))
        .await
        .unwrap()
}

/// One landing from `ship` through its pod's proxy (a fresh connection, as the ships make).
async fn land(r: &Running, ship: &str) -> frota::Outcome {
    let pod = r.galaxy.cluster.find_pod(ship).unwrap();
    let mut config = frota::ClientConfig::new(pod.identity());
    config.proxy = Some(format!("http://{}", pod.egress));
    config.timeout = Duration::from_millis(1500);
    let c = frota::Client::new(config).unwrap();
    c.send(frota::RequestKind::Land).await.outcome
}

async fn flows(c: &mut ObserverClient<Channel>, req: GetFlowsRequest) -> Vec<GetFlowsResponse> {
    let mut stream = c.get_flows(req).await.unwrap().into_inner();
    let mut out = Vec::new();
    while let Some(r) = stream.message().await.unwrap() {
        out.push(r);
    }
    out
}

fn flow(r: &GetFlowsResponse) -> &galaxia::hubble::proto::flow::Flow {
    match &r.response_types {
        Some(ResponseTypes::Flow(f)) => f,
        other => panic!("not a flow: {other:?}"),
    }
}

fn pod(p: &str) -> FlowFilter {
    FlowFilter {
        source_pod: vec![p.into()],
        ..FlowFilter::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_of_the_observer_api() {
    let r = galaxy(4095).await;
    let cluster = Arc::clone(&r.galaxy.cluster);
    assert_eq!(land(&r, "caca-tie").await, frota::Outcome::Landed);
    cluster
        .policies
        .apply(book::POLITICA_L4, "l4", ApplyMode::Create)
        .unwrap();
    assert_eq!(land(&r, "asa-x").await, frota::Outcome::Dropped);
    assert_eq!(land(&r, "caca-tie").await, frota::Outcome::Landed);
    // The client's close is traced when the proxy sees it; let it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut c = client(&r).await;

    // `hubble status` asks the health service first.
    let channel = Channel::from_shared(format!("http://{}", r.hubble))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let status = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: HEALTH_SERVICE.into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        status.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );

    // ServerStatus counts what the ring holds.
    let s = c
        .server_status(ServerStatusRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(s.num_flows, cluster.flows.len() as u64);
    assert_eq!(s.seen_flows, cluster.flows.seen());
    assert_eq!(s.max_flows, 4095);
    assert!(s.num_flows >= 8 + 4 + 8, "{s:?}");
    assert_eq!(s.num_connected_nodes, Some(4));
    assert_eq!(s.num_unavailable_nodes, Some(0));

    let nodes = c
        .get_nodes(GetNodesRequest {})
        .await
        .unwrap()
        .into_inner()
        .nodes;
    let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "jornada-k8s-ebpf-control-plane",
            "jornada-k8s-ebpf-worker",
            "jornada-k8s-ebpf-worker2",
            "jornada-k8s-ebpf-worker3"
        ]
    );
    assert_eq!(
        nodes.iter().map(|n| n.num_flows).sum::<u64>(),
        s.num_flows,
        "each flow is one node's"
    );
    let ns = c
        .get_namespaces(GetNamespacesRequest {})
        .await
        .unwrap()
        .into_inner()
        .namespaces;
    assert_eq!(
        ns.iter().map(|n| n.namespace.as_str()).collect::<Vec<_>>(),
        ["default"]
    );

    // number: the last N, oldest first; first: the first N.
    let all = flows(&mut c, GetFlowsRequest::default()).await;
    assert_eq!(all.len() as u64, s.num_flows, "number 0: the whole ring");
    let last3 = flows(
        &mut c,
        GetFlowsRequest {
            number: 3,
            ..GetFlowsRequest::default()
        },
    )
    .await;
    assert_eq!(last3, all[all.len() - 3..]);
    let first2 = flows(
        &mut c,
        GetFlowsRequest {
            number: 2,
            first: true,
            ..GetFlowsRequest::default()
        },
    )
    .await;
    assert_eq!(first2, all[..2]);
    let e = c
        .get_flows(GetFlowsRequest {
            first: true,
            follow: true,
            ..GetFlowsRequest::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.message(), "first cannot be specified with follow");

    // since / until: the flows between two times.
    let mid = flow(&all[all.len() / 2]).time.unwrap();
    let since = flows(
        &mut c,
        GetFlowsRequest {
            since: Some(mid),
            ..GetFlowsRequest::default()
        },
    )
    .await;
    assert!(since.iter().all(|r| {
        let t = flow(r).time.unwrap();
        (t.seconds, t.nanos) >= (mid.seconds, mid.nanos)
    }));
    assert!(!since.is_empty() && since.len() < all.len());
    let until = flows(
        &mut c,
        GetFlowsRequest {
            until: Some(mid),
            ..GetFlowsRequest::default()
        },
    )
    .await;
    assert_eq!(
        until.len() + since.len(),
        all.len() + {
            // flows stamped exactly `mid` are in both
            all.iter().filter(|r| flow(r).time == Some(mid)).count()
        }
    );

    // Filters: a field; fields AND inside a filter; filters OR; a blacklist.
    let by = |w: Vec<FlowFilter>, b: Vec<FlowFilter>| GetFlowsRequest {
        whitelist: w,
        blacklist: b,
        ..GetFlowsRequest::default()
    };
    let asa = flows(&mut c, by(vec![pod("asa-x")], vec![])).await;
    assert!(!asa.is_empty());
    assert!(
        asa.iter()
            .all(|r| flow(r).source.as_ref().unwrap().pod_name == "asa-x")
    );
    let drops = FlowFilter {
        event_type: vec![EventTypeFilter {
            r#type: convert::EVENT_DROP,
            match_sub_type: false,
            sub_type: 0,
        }],
        ..FlowFilter::default()
    };
    let asa_drops = FlowFilter {
        source_pod: vec!["default/asa-x".into()],
        ..drops.clone()
    };
    let and = flows(&mut c, by(vec![asa_drops], vec![])).await;
    assert_eq!(and.len(), 2, "the SYN and its retransmission after 1 s");
    assert!(and.iter().all(|r| flow(r).summary == "TCP Flags: SYN"
        && flow(r).verdict == Verdict::Dropped as i32
        && flow(r).drop_reason_desc == 133));
    let tie = flows(&mut c, by(vec![pod("caca-tie")], vec![])).await;
    let or = flows(&mut c, by(vec![pod("caca-tie"), drops.clone()], vec![])).await;
    assert_eq!(or.len(), tie.len() + and.len());
    let not_tie = flows(&mut c, by(vec![], vec![pod("caca-tie")])).await;
    assert_eq!(not_tie.len() + tie.len(), all.len());
    let labels = FlowFilter {
        destination_label: vec!["k8s:class=estrela-da-morte".into()],
        verdict: vec![Verdict::Forwarded as i32],
        ..FlowFilter::default()
    };
    let to_ds = flows(&mut c, by(vec![labels], vec![])).await;
    assert!(!to_ds.is_empty());
    assert!(to_ds.iter().all(|r| {
        let f = flow(r);
        f.verdict == Verdict::Forwarded as i32
            && f.destination
                .as_ref()
                .unwrap()
                .pod_name
                .starts_with("estrela-da-morte-")
    }));
    let bad = c
        .get_flows(by(
            vec![FlowFilter {
                source_ip: vec!["not-an-ip".into()],
                ..FlowFilter::default()
            }],
            vec![],
        ))
        .await
        .unwrap_err();
    // Cilium hands the filter's error back as a plain error: gRPC's Unknown.
    assert_eq!(bad.code(), tonic::Code::Unknown, "{bad:?}");

    // follow: new flows arrive on an open stream.
    let mut follow = c
        .get_flows(GetFlowsRequest {
            follow: true,
            whitelist: vec![pod("caca-tie")],
            ..GetFlowsRequest::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(land(&r, "caca-tie").await, frota::Outcome::Landed);
    let next = tokio::time::timeout(Duration::from_secs(10), follow.message())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let f = flow(&next);
    assert_eq!(f.source.as_ref().unwrap().pod_name, "caca-tie");
    assert_eq!(
        f.summary, "TCP Flags: SYN",
        "a new connection opens with its SYN"
    );
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_does_not_read_is_told_what_it_lost_and_memory_stays_bounded() {
    let r = galaxy(4095).await;
    let cluster = Arc::clone(&r.galaxy.cluster);
    assert_eq!(land(&r, "caca-tie").await, frota::Outcome::Landed);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let template: Flow = (*cluster.flows.snapshot()[0]).clone();
    let mut c = client(&r).await;
    let mut follower = c
        .get_flows(GetFlowsRequest {
            follow: true,
            number: 1,
            ..GetFlowsRequest::default()
        })
        .await
        .unwrap()
        .into_inner();
    let rss = || {
        let s = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
        s.split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u64>().ok())
            .unwrap_or(0)
            * 4096
    };
    let before = rss();
    let seen_before = cluster.flows.seen();
    for _ in 0..100_000 {
        let mut f = template.clone();
        f.time = SystemTime::now();
        cluster.flows.push(f);
    }
    assert_eq!(
        cluster.flows.len(),
        4095,
        "the ring holds its capacity, no more"
    );
    assert_eq!(cluster.flows.seen(), seen_before + 100_000);
    let grew = rss().saturating_sub(before);
    assert!(grew < 64 << 20, "RSS grew by {grew} bytes for 100k flows");
    // The follower had the first flows in flight; then it learns how many it missed.
    let mut lost = 0;
    let mut got = 0;
    loop {
        let m = match tokio::time::timeout(Duration::from_secs(5), follower.message()).await {
            Ok(Ok(Some(m))) => m,
            _ => break,
        };
        match m.response_types {
            Some(ResponseTypes::LostEvents(l)) => lost += l.num_events_lost,
            Some(ResponseTypes::Flow(_)) => got += 1,
            None => {}
        }
        if got + lost >= 100_000 {
            break;
        }
    }
    assert!(
        lost > 0,
        "no lost_events after 100k flows past a reader that does not read"
    );
    assert!(
        got + lost >= 100_000,
        "every flow is either sent or counted as lost: got {got}, lost {lost}"
    );
    r.stop().await;
}
