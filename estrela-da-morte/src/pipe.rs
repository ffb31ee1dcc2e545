//! In-process connections to a running station, for programs that host stations in their own
//! process (galaxia runs every replica next to its enforcement proxy). A connection is an in-memory
//! byte pipe carrying the same HTTP/1.1 as the demo port: the station parses, answers, keeps alive,
//! times out and cuts it exactly as a TCP connection, but no bytes cross the kernel.
//!
//! [`pipe`] makes a connector and a listener; hand the listener to [`crate::run_with_pipe`] and keep
//! the connector. Once the station has stopped (shut down or exploded), [`PipeConnector::connect`]
//! fails with `ConnectionRefused`, as a connect to its closed port would.

use std::io;
use std::net::SocketAddr;

use tokio::io::DuplexStream;
use tokio::sync::mpsc;

/// How many bytes one direction of a pipe holds before the writer waits (a socket buffer's role).
const PIPE_BUFFER: usize = 64 * 1024;
/// Connections waiting to be accepted (a listen backlog's role).
const BACKLOG: usize = 128;

/// The client's end of a pipe: the stream the station reads from and writes to.
pub type PipeStream = DuplexStream;

/// Opens connections to one station.
#[derive(Debug, Clone)]
pub struct PipeConnector {
    tx: mpsc::Sender<(DuplexStream, SocketAddr)>,
}

/// The station's side: connections waiting to be served.
#[derive(Debug)]
pub struct PipeListener {
    rx: mpsc::Receiver<(DuplexStream, SocketAddr)>,
}

/// A connected pair: connections opened on the connector arrive on the listener.
pub fn pipe() -> (PipeConnector, PipeListener) {
    let (tx, rx) = mpsc::channel(BACKLOG);
    (PipeConnector { tx }, PipeListener { rx })
}

impl PipeConnector {
    /// A new connection; `peer` is the address the station logs as the client's.
    pub async fn connect(&self, peer: SocketAddr) -> io::Result<PipeStream> {
        let (client, server) = tokio::io::duplex(PIPE_BUFFER);
        self.tx
            .send((server, peer))
            .await
            .map_err(|_| io::Error::from(io::ErrorKind::ConnectionRefused))?;
        Ok(client)
    }

    /// Whether the station behind it has stopped taking connections.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

impl PipeListener {
    /// The next connection, or `None` once every connector is gone.
    pub async fn accept(&mut self) -> Option<(DuplexStream, SocketAddr)> {
        self.rx.recv().await
    }

    /// A connection already waiting, without waiting for one: the station takes them in before
    /// it stops listening, as it does with its port's backlog.
    pub(crate) fn try_accept(&mut self) -> Option<(DuplexStream, SocketAddr)> {
        self.rx.try_recv().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn bytes_cross_and_a_dropped_listener_refuses() {
        let (connector, mut listener) = pipe();
        let peer: SocketAddr = ([127, 0, 0, 1], 4242).into();
        let mut client = connector.connect(peer).await.expect("connect");
        let (mut server, seen) = listener.accept().await.expect("accepted");
        assert_eq!(seen, peer);
        client.write_all(b"ping").await.expect("write");
        let mut buf = [0u8; 4];
        server.read_exact(&mut buf).await.expect("read");
        assert_eq!(&buf, b"ping");
        drop(listener);
        assert!(connector.is_closed());
        let err = connector.connect(peer).await.expect_err("refused");
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    }
}
