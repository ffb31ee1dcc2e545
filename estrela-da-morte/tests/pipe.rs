//! `run_with_pipe`: in-process connections get the demo port's answers byte for byte, share its
//! fate when the station explodes, and are refused once it is gone.

mod util;

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Duration;

use estrela_da_morte::Exit;
use estrela_da_morte::pipe::{PipeConnector, pipe};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use util::{IO_LIMIT, exchange, mask_date, test_config};

const PEER: ([u8; 4], u16) = ([127, 0, 0, 1], 0);

/// A station on ephemeral ports that also takes pipe connections.
async fn start(
    config: estrela_da_morte::Config,
) -> (
    SocketAddr,
    PipeConnector,
    tokio::task::JoinHandle<Result<Exit, estrela_da_morte::Error>>,
) {
    let demo = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind demo");
    let admin = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind admin");
    let addr = demo.local_addr().expect("demo address");
    let (connector, listener) = pipe();
    let task = tokio::spawn(estrela_da_morte::run_with_pipe(
        demo,
        listener,
        admin,
        config,
        std::future::pending(),
    ));
    (addr, connector, task)
}

/// Writes `request` on a new pipe connection and reads until the station closes it.
async fn piped(connector: &PipeConnector, request: &[u8]) -> String {
    let mut stream = connector.connect(PEER.into()).await.expect("connect");
    stream.write_all(request).await.expect("write");
    let mut out = Vec::new();
    tokio::time::timeout(IO_LIMIT, stream.read_to_end(&mut out))
        .await
        .expect("station did not close the pipe")
        .expect("read");
    String::from_utf8(out).expect("utf-8")
}

#[tokio::test]
async fn pipe_answers_byte_for_byte_as_the_demo_port() {
    let (addr, connector, task) = start(test_config()).await;
    let requests: [&[u8]; 4] = [
        b"POST /v1/request-landing HTTP/1.1\r\nHost: d\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        b"GET /v1 HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n",
        b"DELETE /v1/request-landing HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n",
        b"GET /nowhere HTTP/1.0\r\n\r\n",
    ];
    for request in requests {
        let by_tcp = mask_date(&exchange(addr, request).await);
        let by_pipe = mask_date(&piped(&connector, request).await);
        assert!(by_tcp.starts_with("HTTP/1."), "{by_tcp:?}");
        assert_eq!(
            by_pipe,
            by_tcp,
            "request {:?}",
            String::from_utf8_lossy(request)
        );
    }
    task.abort();
}

#[tokio::test]
async fn pipe_keeps_alive_then_an_explosion_cuts_it_and_refuses_new_ones() {
    let mut config = test_config();
    config.no_explosions = false;
    config.explode_after = Duration::from_millis(100);
    let (_, connector, task) = start(config).await;

    let mut stream = connector.connect(PEER.into()).await.expect("connect");
    let landing = b"POST /v1/request-landing HTTP/1.1\r\nHost: d\r\nAccept: */*\r\n\r\n";
    for _ in 0..3 {
        stream.write_all(landing).await.expect("write");
        let mut buf = vec![0u8; 4096];
        let n = tokio::time::timeout(IO_LIMIT, stream.read(&mut buf))
            .await
            .expect("answer in time")
            .expect("read");
        let text = String::from_utf8_lossy(&buf[..n]);
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text:?}");
        assert!(text.ends_with("\r\n\r\nShip landed\n"), "{text:?}");
    }

    let panic = piped(
        &connector,
        b"PUT /v1/exhaust-port HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(panic.starts_with("HTTP/1.1 503 "), "{panic:?}");

    let exit = tokio::time::timeout(IO_LIMIT, task)
        .await
        .expect("station exploded in time")
        .expect("join")
        .expect("run");
    assert_eq!(exit, Exit::Exploded);
    // The kept-alive connection was cut: the client reads the end of the stream.
    let mut rest = Vec::new();
    let n = tokio::time::timeout(IO_LIMIT, stream.read_to_end(&mut rest))
        .await
        .expect("cut in time")
        .expect("read");
    assert_eq!(n, 0);
    assert!(connector.is_closed());
    let refused = connector
        .connect(PEER.into())
        .await
        .expect_err("a dead station refuses");
    assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
}

#[tokio::test]
async fn a_request_followed_by_the_clients_fin_is_answered() {
    // `printf ... | nc -N`: the request, then the client shuts down its sending side. A pipe
    // delivers both at once, where TCP may let the station read the request first.
    let (addr, connector, task) = start(test_config()).await;
    let request = b"POST /v1/request-landing HTTP/1.1\r\nHost: d\r\nAccept: */*\r\n\r\n";
    let mut stream = connector.connect(PEER.into()).await.expect("connect");
    stream.write_all(request).await.expect("write");
    stream.shutdown().await.expect("shutdown");
    let mut answer = Vec::new();
    tokio::time::timeout(IO_LIMIT, stream.read_to_end(&mut answer))
        .await
        .expect("station did not close the pipe")
        .expect("read");
    let answer = mask_date(&String::from_utf8(answer).expect("utf-8"));
    // The same answer as the port's to the request kept alive.
    let mut keep_alive = tokio::net::TcpStream::connect(addr).await.expect("connect");
    keep_alive.write_all(request).await.expect("write");
    let mut by_tcp = vec![0u8; 4096];
    let n = tokio::time::timeout(IO_LIMIT, keep_alive.read(&mut by_tcp))
        .await
        .expect("answer in time")
        .expect("read");
    assert_eq!(answer, mask_date(&String::from_utf8_lossy(&by_tcp[..n])));
    assert!(answer.ends_with("\r\n\r\nShip landed\n"), "{answer:?}");
    task.abort();
}
