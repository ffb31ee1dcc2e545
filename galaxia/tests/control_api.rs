//! The control API in memory, through its router (`app(cluster).oneshot(request)`): every route,
//! every typed result of a change, and the kubectl line the CLI renders from each.

#![allow(clippy::unwrap_used)] // a test may unwrap: a panic is its failure report

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Body;
use galaxia::cli::kubectl;
use galaxia::control::api::{Access, app};
use galaxia::control::routes;
use galaxia::control::views::{
    ApplyRequest, ApplyResponse, DeleteRequest, ErrorBody, PodView, PoliciesResponse, ServiceView,
    Source,
};
use galaxia::manifest::{ApplyMode, Change, ObjectKey, ObjectKind, Refusal, book, load_str};
use galaxia::state::Cluster;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// The book's galaxy as state only: nothing runs, nothing is dialled.
fn cluster() -> Arc<Cluster> {
    let m = load_str(book::STARWARS, "starwars.yml").unwrap();
    let addr: std::net::SocketAddr = "127.0.0.1:9".parse().unwrap();
    let pods = m.pods().iter().map(|p| (p.clone(), addr)).collect();
    Arc::new(
        Cluster::new(
            &m.cluster(),
            pods,
            m.services().to_vec(),
            Some(4095),
            SystemTime::now(),
        )
        .unwrap(),
    )
}

const PORT: u16 = 4242;
const TOKEN: &str = "secret-of-this-run";

fn access() -> Access {
    Access {
        token: Arc::from(TOKEN),
        port: PORT,
    }
}

/// What the verbs send on every request.
fn signed(mut req: Request<Body>) -> Request<Body> {
    let h = req.headers_mut();
    h.insert("host", format!("127.0.0.1:{PORT}").parse().unwrap());
    h.insert("authorization", format!("Bearer {TOKEN}").parse().unwrap());
    req
}

async fn call(c: &Arc<Cluster>, req: Request<Body>) -> (StatusCode, Vec<u8>) {
    call_raw(c, signed(req)).await
}

async fn call_raw(c: &Arc<Cluster>, req: Request<Body>) -> (StatusCode, Vec<u8>) {
    let resp = app(c.clone(), access()).oneshot(req).await.unwrap();
    let status = resp.status();
    (
        status,
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
}

async fn get<T: serde::de::DeserializeOwned>(c: &Arc<Cluster>, uri: &str) -> T {
    let (status, body) = call(c, Request::get(uri).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).unwrap()
}

async fn post(
    c: &Arc<Cluster>,
    route: &str,
    body: &impl serde::Serialize,
) -> (StatusCode, Vec<u8>) {
    let req = Request::post(route)
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(body).unwrap()))
        .unwrap();
    call(c, req).await
}

/// Apply `text`, returning each object's typed result and kubectl's line for it.
async fn apply(
    c: &Arc<Cluster>,
    mode: ApplyMode,
    text: &str,
) -> Vec<(Result<Change, Refusal>, Result<String, String>)> {
    let req = ApplyRequest {
        mode,
        source: Source {
            origin: "test.yml".into(),
            text: text.into(),
        },
    };
    let (status, body) = post(c, routes::APPLY, &req).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let resp: ApplyResponse = serde_json::from_slice(&body).unwrap();
    resp.results
        .iter()
        .map(|r| (r.result, kubectl::applied(r, None)))
        .collect()
}

fn regra1() -> ObjectKey {
    ObjectKey {
        kind: ObjectKind::CiliumNetworkPolicy,
        namespace: "default".into(),
        name: "regra1".into(),
    }
}

#[tokio::test]
async fn lists_pods_services_and_no_policy() {
    let c = cluster();
    let pods: Vec<PodView> = get(&c, routes::PODS).await;
    let names: Vec<&str> = pods.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names.len(), 4, "{names:?}");
    assert!(names.contains(&"caca-tie") && names.contains(&"asa-x"));
    assert!(pods.iter().all(|p| !p.ready), "nothing runs");
    // Sorted by name, with the `kubernetes` Service every cluster has.
    let svcs: Vec<ServiceView> = get(&c, routes::SERVICES).await;
    let names: Vec<&str> = svcs.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["estrela-da-morte", "kubernetes"]);
    assert_eq!(svcs[0].ports, ["80/TCP"]);
    assert_eq!(
        (svcs[1].cluster_ip.as_str(), svcs[1].ports.as_slice()),
        ("10.96.0.1", ["443/TCP".to_string()].as_slice())
    );
    let policies: PoliciesResponse = get(&c, routes::POLICIES).await;
    assert!(policies.policies.is_empty());
}

#[tokio::test]
async fn every_typed_result_and_its_kubectl_line() {
    let c = cluster();
    let created = "ciliumnetworkpolicy.cilium.io/regra1 created".to_string();
    assert_eq!(
        apply(&c, ApplyMode::Create, book::POLITICA_L4).await,
        [(Ok(Change::Created), Ok(created))]
    );
    assert_eq!(
        apply(&c, ApplyMode::Create, book::POLITICA_L4).await,
        [(
            Err(Refusal::AlreadyExists),
            Err("Error from server (AlreadyExists): ciliumnetworkpolicies.cilium.io \"regra1\" already exists".into())
        )]
    );
    assert_eq!(
        apply(&c, ApplyMode::Apply, book::POLITICA_L7).await,
        [(
            Ok(Change::Configured),
            Ok("ciliumnetworkpolicy.cilium.io/regra1 configured".into())
        )]
    );
    assert_eq!(
        apply(&c, ApplyMode::Apply, book::POLITICA_L7).await,
        [(
            Ok(Change::Unchanged),
            Ok("ciliumnetworkpolicy.cilium.io/regra1 unchanged".into())
        )]
    );
    let policies: PoliciesResponse = get(&c, routes::POLICIES).await;
    assert_eq!(policies.policies.len(), 1);
    assert_eq!(policies.policies[0].origin, "test.yml");
    assert!(
        policies.policies[0].object["spec"]["ingress"][0]["toPorts"][0]["rules"].is_object(),
        "the L7 version is in force"
    );

    let delete = |req: DeleteRequest| {
        let c = c.clone();
        async move {
            let (status, body) = post(&c, routes::DELETE, &req).await;
            assert_eq!(status, StatusCode::OK);
            let resp: ApplyResponse = serde_json::from_slice(&body).unwrap();
            resp.results
                .iter()
                .map(|r| (r.result, kubectl::applied(r, None)))
                .collect::<Vec<_>>()
        }
    };
    let by_key = DeleteRequest {
        keys: vec![regra1()],
        source: None,
    };
    assert_eq!(
        delete(by_key.clone()).await,
        [(
            Ok(Change::Deleted),
            Ok("ciliumnetworkpolicy.cilium.io \"regra1\" deleted".into())
        )]
    );
    let not_found = (
        Err(Refusal::NotFound),
        Err(
            "Error from server (NotFound): ciliumnetworkpolicies.cilium.io \"regra1\" not found"
                .to_string(),
        ),
    );
    assert_eq!(delete(by_key).await, std::slice::from_ref(&not_found));
    // By file: the keys of the policies in it.
    apply(&c, ApplyMode::Apply, book::POLITICA_L4).await;
    let by_file = DeleteRequest {
        keys: Vec::new(),
        source: Some(Source {
            origin: "politica_l7.yml".into(),
            text: book::POLITICA_L7.into(),
        }),
    };
    assert_eq!(delete(by_file.clone()).await[0].0, Ok(Change::Deleted));
    assert_eq!(delete(by_file).await, [not_found]);
}

#[tokio::test]
async fn refuses_what_a_running_galaxy_does_not_change() {
    let c = cluster();
    for (text, needle) in [
        (
            book::STARWARS,
            "a running galaxy takes only CiliumNetworkPolicy objects",
        ),
        ("kind: [", "not valid YAML"),
    ] {
        let req = ApplyRequest {
            mode: ApplyMode::Apply,
            source: Source {
                origin: "x.yml".into(),
                text: text.into(),
            },
        };
        let (status, body) = post(&c, routes::APPLY, &req).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let e: ErrorBody = serde_json::from_slice(&body).unwrap();
        assert!(
            e.error.contains(needle) && e.error.contains("x.yml"),
            "{}",
            e.error
        );
    }
    let policies: PoliciesResponse = get(&c, routes::POLICIES).await;
    assert!(policies.policies.is_empty(), "nothing was applied");
}

#[tokio::test]
async fn foreign_hosts_origins_and_tokenless_requests_are_refused() {
    let c = cluster();
    let (status, _) = call(
        &c,
        Request::post(routes::APPLY)
            .header("content-type", "application/json")
            .body(Body::from(
                serde_json::to_vec(&ApplyRequest {
                    mode: ApplyMode::Create,
                    source: Source {
                        origin: "l4".into(),
                        text: book::POLITICA_L4.into(),
                    },
                })
                .unwrap(),
            ))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let delete = || {
        Request::post(routes::DELETE)
            .header("content-type", "application/json")
            .body(Body::from(
                serde_json::to_vec(&DeleteRequest {
                    keys: vec![regra1()],
                    source: None,
                })
                .unwrap(),
            ))
            .unwrap()
    };
    // DNS rebinding: a page of evil.example whose name now points at 127.0.0.1.
    let mut rebound = signed(delete());
    rebound
        .headers_mut()
        .insert("host", "evil.example".parse().unwrap());
    // A page of another origin posting to the real address.
    let mut cross = signed(delete());
    cross
        .headers_mut()
        .insert("origin", "http://evil.example".parse().unwrap());
    // No token: anyone on the machine but the galaxy's user.
    let mut tokenless = signed(delete());
    tokenless.headers_mut().remove("authorization");
    let mut wrong = signed(delete());
    wrong
        .headers_mut()
        .insert("authorization", "Bearer guess".parse().unwrap());
    for (what, req) in [
        ("foreign Host", rebound),
        ("foreign Origin", cross),
        ("no token", tokenless),
        ("wrong token", wrong),
    ] {
        let (status, body) = call_raw(&c, req).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{what}");
        let e: ErrorBody = serde_json::from_slice(&body).unwrap();
        assert!(!e.error.is_empty(), "{what}");
    }
    let policies: PoliciesResponse = get(&c, routes::POLICIES).await;
    assert_eq!(policies.policies.len(), 1, "regra1 is still in force");
    // Reads are guarded too: they tell what runs.
    let (status, _) = call_raw(&c, Request::get(routes::PODS).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
