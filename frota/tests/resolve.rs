//! Name resolution as in a `FROM scratch` pod: a resolv.conf with Kubernetes' search domains and
//! `ndots:5`, and a hosts file, both written by the test; the nameserver is a tiny DNS responder
//! on a loopback port that knows only the Death Star's service name.
#![allow(clippy::unwrap_used)]

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use frota::resolve::{Resolver, ResolverSettings};
use frota::{Client, ClientConfig, Identity, Outcome, RequestKind};
use hickory_resolver::proto::op::{Message, MessageType, ResponseCode};
use hickory_resolver::proto::rr::{RData, Record, RecordType, rdata::A};
use hickory_resolver::proto::serialize::binary::BinEncodable;
use testkit::servers;

const SERVICE: &str = "estrela-da-morte.default.svc.cluster.local.";

/// Answers A queries for [`SERVICE`] with 127.0.0.1, NXDOMAIN for anything else; records names.
async fn dns_responder() -> (u16, Arc<Mutex<Vec<String>>>) {
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = sock.local_addr().unwrap().port();
    let asked: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = asked.clone();
    tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        loop {
            let Ok((n, peer)) = sock.recv_from(&mut buf).await else {
                continue;
            };
            let Ok(query) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            let mut answer = Message::new();
            answer
                .set_id(query.id())
                .set_message_type(MessageType::Response)
                .set_op_code(query.op_code())
                .set_recursion_desired(query.recursion_desired())
                .set_recursion_available(true)
                .set_authoritative(true);
            let mut found = false;
            for q in query.queries() {
                let name = q.name().to_string();
                log.lock()
                    .unwrap()
                    .push(format!("{name} {}", q.query_type()));
                answer.add_query(q.clone());
                if name.eq_ignore_ascii_case(SERVICE) {
                    found = true;
                    if q.query_type() == RecordType::A {
                        answer.add_answer(Record::from_rdata(
                            q.name().clone(),
                            30,
                            RData::A(A(Ipv4Addr::LOCALHOST)),
                        ));
                    }
                }
            }
            if !found {
                answer.set_response_code(ResponseCode::NXDomain);
            }
            if let Ok(bytes) = answer.to_bytes() {
                let _ = sock.send_to(&bytes, peer).await;
            }
        }
    });
    (port, asked)
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const RESOLV_CONF: &str = "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 127.0.0.1\noptions ndots:5\n";

#[tokio::test]
async fn short_service_name_through_search_domains() {
    let mut ds = servers::death_star().await;
    let (dns_port, asked) = dns_responder().await;
    let dir = tempfile::tempdir().unwrap();
    let settings = ResolverSettings {
        resolv_conf: write(&dir, "resolv.conf", RESOLV_CONF),
        hosts: write(&dir, "hosts", "127.0.0.1 localhost\n"),
        dns_port: Some(dns_port),
    };
    let mut c = ClientConfig::new(Identity::asa_x());
    c.target = format!("http://estrela-da-morte:{}", ds.addr.port());
    c.timeout = Duration::from_secs(5);
    c.resolver = settings;
    let r = Client::new(c).unwrap().send(RequestKind::Land).await;
    assert_eq!(r.outcome, Outcome::Landed, "{r:?}");
    let asked = asked.lock().unwrap().clone();
    assert!(
        asked.iter().any(|q| q.starts_with(SERVICE)),
        "the search domain was not applied: {asked:?}"
    );
    ds.stop().await;
}

#[tokio::test]
async fn hosts_file_ip_literals_and_localhost() {
    let dir = tempfile::tempdir().unwrap();
    let dead = servers::closed_port().await;
    let resolver = Resolver::new(ResolverSettings {
        resolv_conf: write(&dir, "resolv.conf", RESOLV_CONF),
        hosts: write(
            &dir,
            "hosts",
            "# kubelet-managed\n127.0.0.7 estrela-da-morte.default.svc.cluster.local other\n",
        ),
        // Any DNS query would go to a closed loopback port and fail.
        dns_port: Some(dead.port()),
    });
    let addrs = resolver.resolve("estrela-da-morte", 80).await.unwrap();
    assert_eq!(addrs, [SocketAddr::from(([127, 0, 0, 7], 80))]);
    let addrs = resolver.resolve("other", 81).await.unwrap();
    assert_eq!(addrs, [SocketAddr::from(([127, 0, 0, 7], 81))]);
    let addrs = resolver.resolve("127.0.0.9", 82).await.unwrap();
    assert_eq!(addrs, [SocketAddr::from(([127, 0, 0, 9], 82))]);
    let addrs = resolver.resolve("localhost", 83).await.unwrap();
    assert_eq!(addrs[0], SocketAddr::from(([127, 0, 0, 1], 83)));
    assert!(
        resolver.resolve("[::1]", 84).await.unwrap()[0]
            .ip()
            .is_loopback()
    );
}

#[tokio::test]
async fn unknown_names_fail_without_leaving_loopback() {
    let (dns_port, _) = dns_responder().await;
    let dir = tempfile::tempdir().unwrap();
    let resolver = Resolver::new(ResolverSettings {
        resolv_conf: write(&dir, "resolv.conf", RESOLV_CONF),
        hosts: write(&dir, "hosts", ""),
        dns_port: Some(dns_port),
    });
    let err = resolver.resolve("x-wing-base", 80).await.unwrap_err();
    assert!(err.to_string().contains("x-wing-base"), "{err}");
}
