//! Cluster DNS, as kube-dns answers inside a cluster, served by hickory-server at the kube-dns
//! ClusterIP from the control plane's namespace: `<service>.<namespace>.svc.cluster.local` is the
//! Service's ClusterIP, and (galaxia's convenience, as in the userspace datapath) a pod's name
//! under its namespace is its pod IP, as is Kubernetes' `<a-b-c-d>.<namespace>.pod.cluster.local`.
//! The pods' resolv.conf (search list, `ndots:5`) turns `estrela-da-morte` and
//! `estrela-da-morte.default` into those names. Everything else is NXDOMAIN from an empty root
//! zone: nothing is forwarded anywhere.

use std::net::{Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::rr::rdata::{A, SOA};
use hickory_proto::rr::{LowerName, Name, RData, Record};
use hickory_server::ServerFuture;
use hickory_server::authority::{AuthorityObject, Catalog, ZoneType};
use hickory_server::store::in_memory::InMemoryAuthority;

use crate::state::Cluster;

/// kube-dns's (CoreDNS's) answers carry a short TTL: pods come and go.
const TTL: u32 = 5;
/// How long a TCP client may stay idle.
const TCP_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    #[error("the name {0:?} is not a DNS name")]
    Name(String),
    #[error("binding {0}")]
    Bind(SocketAddr, #[source] std::io::Error),
}

fn name(s: &str) -> Result<Name, DnsError> {
    Name::from_str(s).map_err(|_| DnsError::Name(s.to_string()))
}

fn soa(origin: &Name) -> Result<Record, DnsError> {
    let soa = SOA::new(
        name("ns.dns.cluster.local.")?,
        name("hostmaster.cluster.local.")?,
        1,
        7200,
        1800,
        86400,
        TTL,
    );
    Ok(Record::from_rdata(origin.clone(), TTL, RData::SOA(soa)))
}

/// Every name of the cluster and its address.
pub fn records(cluster: &Cluster, kube_dns: Ipv4Addr) -> Vec<(String, Ipv4Addr)> {
    let mut out = vec![(
        "kube-dns.kube-system.svc.cluster.local.".to_string(),
        kube_dns,
    )];
    for s in &cluster.services {
        out.push((
            format!("{}.{}.svc.cluster.local.", s.model.name, s.model.namespace),
            s.cluster_ip,
        ));
    }
    for p in &cluster.pods {
        let ip = p.info.ip;
        out.push((
            format!("{}.{}.svc.cluster.local.", p.name(), p.namespace()),
            ip,
        ));
        let dashed = ip.to_string().replace('.', "-");
        out.push((format!("{dashed}.{}.pod.cluster.local.", p.namespace()), ip));
    }
    out
}

/// The catalog: the `cluster.local.` zone with `records`, and an empty root zone that answers
/// NXDOMAIN for everything else.
pub fn catalog(records: &[(String, Ipv4Addr)]) -> Result<Catalog, DnsError> {
    let zone = name("cluster.local.")?;
    let mut cluster = InMemoryAuthority::empty(zone.clone(), ZoneType::Primary, false);
    cluster.upsert_mut(soa(&zone)?, 1);
    for (n, ip) in records {
        cluster.upsert_mut(Record::from_rdata(name(n)?, TTL, RData::A(A(*ip))), 1);
    }
    let root = Name::root();
    let mut nothing = InMemoryAuthority::empty(root.clone(), ZoneType::Primary, false);
    nothing.upsert_mut(soa(&root)?, 1);
    let mut catalog = Catalog::new();
    let cluster: Arc<dyn AuthorityObject> = Arc::new(cluster);
    let nothing: Arc<dyn AuthorityObject> = Arc::new(nothing);
    catalog.upsert(LowerName::new(&zone), vec![cluster]);
    catalog.upsert(LowerName::new(&root), vec![nothing]);
    Ok(catalog)
}

/// Serve `catalog` on UDP and TCP `addr` (call it on a runtime inside the namespace that holds the
/// address) until `shutdown` flips.
pub async fn serve(
    catalog: Catalog,
    addr: SocketAddr,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<(), DnsError> {
    let udp = tokio::net::UdpSocket::bind(addr)
        .await
        .map_err(|e| DnsError::Bind(addr, e))?;
    let tcp = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| DnsError::Bind(addr, e))?;
    serve_on(catalog, udp, tcp, shutdown).await
}

/// [`serve`] on sockets already bound.
pub async fn serve_on(
    catalog: Catalog,
    udp: tokio::net::UdpSocket,
    tcp: tokio::net::TcpListener,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<(), DnsError> {
    let mut server = ServerFuture::new(catalog);
    server.register_socket(udp);
    server.register_listener(tcp, TCP_TIMEOUT);
    let _ = shutdown.wait_for(|s| *s).await;
    let _ = server.shutdown_gracefully().await;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test may unwrap: a panic is its failure report
mod tests {
    use super::*;
    use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
    use hickory_proto::rr::RecordType;

    /// One query over UDP to `server`, the answer's code and A records.
    async fn ask(server: SocketAddr, q: &str, t: RecordType) -> (ResponseCode, Vec<Ipv4Addr>) {
        let mut m = Message::new();
        m.set_id(7)
            .set_message_type(MessageType::Query)
            .set_op_code(OpCode::Query)
            .set_recursion_desired(true)
            .add_query(Query::query(Name::from_str(q).unwrap(), t));
        let s = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut buf = vec![0u8; 4096];
        // Resent after a second without an answer, as a resolver does over UDP (a loaded machine
        // may not run the server's task in time).
        let mut n = None;
        for _ in 0..10 {
            s.send_to(&m.to_vec().unwrap(), server).await.unwrap();
            if let Ok(got) = tokio::time::timeout(Duration::from_secs(1), s.recv(&mut buf)).await {
                n = Some(got.unwrap());
                break;
            }
        }
        let n = n.expect("an answer within 10 tries");
        let answer = Message::from_vec(&buf[..n]).unwrap();
        let ips = answer
            .answers()
            .iter()
            .filter_map(|r| match r.data() {
                RData::A(a) => Some(a.0),
                _ => None,
            })
            .collect();
        (answer.response_code(), ips)
    }

    #[tokio::test]
    async fn answers_cluster_names_and_nxdomain_for_the_rest() {
        let recs = vec![
            (
                "estrela-da-morte.default.svc.cluster.local.".to_string(),
                Ipv4Addr::new(10, 96, 1, 2),
            ),
            (
                "asa-x.default.svc.cluster.local.".to_string(),
                Ipv4Addr::new(10, 244, 3, 9),
            ),
        ];
        let catalog = catalog(&recs).unwrap();
        // Bound here and kept: a port noted and released could be taken by a parallel test
        // before the server binds it again.
        let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = udp.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let server = tokio::spawn(serve_on(catalog, udp, tcp, stopped));
        let svc = "estrela-da-morte.default.svc.cluster.local.";
        assert_eq!(
            ask(addr, svc, RecordType::A).await,
            (ResponseCode::NoError, vec![Ipv4Addr::new(10, 96, 1, 2)])
        );
        assert_eq!(
            ask(addr, svc, RecordType::AAAA).await,
            (ResponseCode::NoError, vec![]),
            "a name without IPv6 has no AAAA, and still exists"
        );
        for missing in [
            "estrela-da-morte.default.svc.cluster.local.default.svc.cluster.local.",
            "estrela-da-morte.",
            "example.com.",
        ] {
            assert_eq!(
                ask(addr, missing, RecordType::A).await,
                (ResponseCode::NXDomain, vec![]),
                "{missing}"
            );
        }
        let _ = stop.send(true);
        server.await.unwrap().unwrap();
    }
}
