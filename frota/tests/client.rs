//! The one-request client against real servers on loopback: the Death Star's three kinds, and
//! each way a request can fail (Cilium's L7 denial, a drop, a closed port, a hang-up), directly
//! and through an HTTP proxy.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use frota::resolve::ResolverSettings;
use frota::{Client, ClientConfig, Failure, Identity, Outcome, RequestKind};
use testkit::{consts, servers};

fn config(target: String) -> ClientConfig {
    let mut c = ClientConfig::new(Identity::caca_tie().named("caca-tie-test"));
    c.target = target;
    c.timeout = Duration::from_millis(500);
    c
}

#[tokio::test]
async fn the_three_kinds_against_the_death_star() {
    let mut ds = servers::death_star().await;
    let client = Client::new(config(ds.url())).unwrap();

    let r = client.send(RequestKind::Land).await;
    assert_eq!(r.outcome, Outcome::Landed, "{r:?}");
    assert_eq!(&r.body[..], b"Ship landed\n");
    assert_eq!(r.status, Some(200));

    let r = client.send(RequestKind::Exhaust).await;
    assert_eq!(r.outcome, Outcome::Exploded, "{r:?}");
    assert!(
        r.body
            .starts_with(b"Panic: deathstar exploded\n\ngoroutine 1 [running]:\n")
    );

    let r = client.send(RequestKind::Info).await;
    assert_eq!(r.outcome, Outcome::Landed, "{r:?}");
    let text = String::from_utf8(r.body.to_vec()).unwrap();
    assert!(
        text.starts_with(
            "{\n\t\"name\": \"Death Star\",\n\t\"hostname\": \"estrela-da-morte-test\",\n"
        ),
        "{text}"
    );
    assert!(text.ends_with("}\n"));
    ds.stop().await;
}

#[tokio::test]
async fn failures_are_outcomes() {
    let (denier, seen) = servers::canned(consts::ENVOY_403).await;
    let r = Client::new(config(format!("http://{denier}")))
        .unwrap()
        .send(RequestKind::Exhaust)
        .await;
    assert_eq!(r.outcome, Outcome::Denied);
    assert_eq!(&r.body[..], b"Access denied\r\n");
    // The identity travels in the User-Agent.
    let req = String::from_utf8(seen.lock().unwrap()[0].clone()).unwrap();
    assert!(
        req.starts_with("PUT /v1/exhaust-port HTTP/1.1\r\n"),
        "{req}"
    );
    assert!(req.contains("User-Agent: caca-tie/"), "{req}");
    assert!(
        req.contains("name=caca-tie-test; org=imperio; class=caca-tie"),
        "{req}"
    );

    let r = Client::new(config(format!("http://{}", servers::silent().await)))
        .unwrap()
        .send(RequestKind::Land)
        .await;
    assert_eq!(r.outcome, Outcome::Dropped, "{r:?}");
    assert!(r.latency >= Duration::from_millis(500));

    let r = Client::new(config(format!("http://{}", servers::closed_port().await)))
        .unwrap()
        .send(RequestKind::Land)
        .await;
    assert_eq!(r.outcome, Outcome::Refused, "{r:?}");

    let r = Client::new(config(format!("http://{}", servers::hangs_up().await)))
        .unwrap()
        .send(RequestKind::Land)
        .await;
    assert_eq!(r.outcome, Outcome::Reset, "{r:?}");
}

#[tokio::test]
async fn through_a_proxy_in_absolute_form() {
    let (proxy, seen) = servers::canned(consts::LANDED_200).await;
    let mut c = config("http://estrela-da-morte.default.svc.cluster.local".into());
    c.proxy = Some(format!("http://{proxy}"));
    // Nothing may be resolved when a proxy is used: point resolution at files that do not exist.
    c.resolver = ResolverSettings {
        resolv_conf: "/nonexistent/resolv.conf".into(),
        hosts: "/nonexistent/hosts".into(),
        dns_port: None,
    };
    let r = Client::new(c).unwrap().send(RequestKind::Land).await;
    assert_eq!(r.outcome, Outcome::Landed, "{r:?}");
    let req = String::from_utf8(seen.lock().unwrap()[0].clone()).unwrap();
    assert!(
        req.starts_with(
            "POST http://estrela-da-morte.default.svc.cluster.local/v1/request-landing HTTP/1.1\r\nHost: estrela-da-morte.default.svc.cluster.local\r\n"
        ),
        "{req}"
    );
}

/// The ships cut an answer's head at the outcome model's 64 KiB (within one 8 KiB read), not at
/// hyper's 400 KiB, and name malformed answers: `error` with failure `malformed` or
/// `head_too_large`, no longer `reset`.
#[tokio::test]
async fn malformed_and_oversized_answers_are_named_errors() {
    let head = consts::landed_with_big_header;
    let limit = frota::outcome::MAX_HEAD_BYTES;
    let cases: [(&'static [u8], Outcome, Option<Failure>); 5] = [
        (head(limit - 9 * 1024), Outcome::Landed, None),
        (
            head(limit + 9 * 1024),
            Outcome::Error,
            Some(Failure::HeadTooLarge),
        ),
        (consts::BAD_STATUS, Outcome::Error, Some(Failure::Malformed)),
        (
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
            Outcome::Error,
            Some(Failure::Malformed),
        ),
        (consts::BODY_CUT_SHORT, Outcome::Reset, Some(Failure::Reset)),
    ];
    for (answer, outcome, failure) in cases {
        let (addr, _) = servers::canned(answer).await;
        let r = Client::new(config(format!("http://{addr}")))
            .unwrap()
            .send(RequestKind::Land)
            .await;
        assert_eq!((r.outcome, r.failure), (outcome, failure), "{r:?}");
    }
}
