//! Every port of the galaxy is a loopback port: bound here, with what it is for named in the
//! error.

use std::net::SocketAddr;

use tokio::net::TcpListener;

use super::error::StartError;

/// A free port on 127.0.0.1 (never 0.0.0.0: the galaxy is loopback only).
pub async fn bind_loopback() -> std::io::Result<TcpListener> {
    TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await
}

/// A free loopback port for `what`, and its address.
pub async fn bind(what: impl Fn() -> String) -> Result<(TcpListener, SocketAddr), StartError> {
    let err = |source| StartError::Bind {
        what: what(),
        source,
    };
    let listener = bind_loopback().await.map_err(err)?;
    let addr = listener.local_addr().map_err(err)?;
    Ok((listener, addr))
}

/// Loopback port `port` (0: a free one) for `what`, and its address.
pub async fn bind_port(
    port: u16,
    what: impl Fn() -> String,
) -> Result<(TcpListener, SocketAddr), StartError> {
    let err = |source| StartError::Bind {
        what: what(),
        source,
    };
    let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, port))
        .await
        .map_err(err)?;
    let addr = listener.local_addr().map_err(err)?;
    Ok((listener, addr))
}
