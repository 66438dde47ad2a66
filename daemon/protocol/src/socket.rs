//! The daemon's local socket: a Unix socket file in the private runtime dir (mode 0600 inside a
//! 0700 directory — not a Linux abstract name, which any local user could connect to), or a
//! per-user named pipe on Windows. Both ends carry [`crate::frame`]s.

use std::io;

use futures_util::{SinkExt, StreamExt};
use interprocess::local_socket::Name;
use interprocess::local_socket::tokio::Stream;
use interprocess::local_socket::traits::tokio::Stream as _;
use tokio_util::codec::Framed;

use crate::frame::{FrameCodec, FrameError};
use crate::message::{
    ClientInfo, DecodeError, ErrorReply, HelloReply, HelloRequest, Reply, Request,
};
use crate::paths::Paths;

/// A framed connection to the daemon.
pub type Connection = Framed<Stream, FrameCodec>;

/// The socket's name for these paths.
pub fn socket_name(paths: &Paths) -> io::Result<Name<'static>> {
    #[cfg(unix)]
    {
        use interprocess::local_socket::{GenericFilePath, ToFsName};
        socket_path(paths).to_fs_name::<GenericFilePath>()
    }
    #[cfg(windows)]
    {
        use interprocess::local_socket::{GenericNamespaced, ToNsName};
        pipe_name(paths).to_ns_name::<GenericNamespaced>()
    }
}

/// Where the socket is, for people (`haul doctor`, error messages).
pub fn socket_display(paths: &Paths) -> String {
    #[cfg(unix)]
    {
        socket_path(paths).display().to_string()
    }
    #[cfg(windows)]
    {
        format!(r"\\.\pipe\{}", pipe_name(paths))
    }
}

#[cfg(unix)]
fn socket_path(paths: &Paths) -> std::path::PathBuf {
    paths.runtime_dir.join("haul.sock")
}

/// One pipe per user and per set of paths: named after a hash of the data dir, which already
/// lies in the user's profile (or under `HAUL_HOME`).
#[cfg(windows)]
fn pipe_name(paths: &Paths) -> String {
    // FNV-1a: stable across builds and platforms, unlike std's RandomState.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in paths.data_dir.to_string_lossy().bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("haul-{hash:016x}")
}

/// Connects to the daemon. `ConnectionRefused`/`NotFound` mean no daemon is running.
pub async fn connect(paths: &Paths) -> io::Result<Connection> {
    let stream = Stream::connect(socket_name(paths)?).await?;
    Ok(Framed::new(stream, FrameCodec::local_socket()))
}

/// Why talking to the daemon failed.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error("the daemon sent something unexpected: {0}")]
    Decode(#[from] DecodeError),
    #[error("no haul daemon is running ({0})")]
    NotRunning(std::io::Error),
    #[error("the haul daemon did not answer in time")]
    Timeout,
    #[error("the haul daemon closed the connection")]
    Closed,
    #[error("the haul daemon refused: {} (code {})", .0.message, .0.code.0)]
    Refused(ErrorReply),
    #[error("the haul daemon answered {0:?} to hello")]
    Unexpected(Box<Reply>),
}

/// Connects and says `hello` as `client`; returns the connection and the daemon's hello.
pub async fn connect_and_greet(
    paths: &Paths,
    client: ClientInfo,
    timeout: std::time::Duration,
) -> Result<(Connection, HelloReply), ExchangeError> {
    let greet = async {
        let mut conn = connect(paths).await.map_err(ExchangeError::NotRunning)?;
        let hello = HelloRequest {
            protocol: Some(crate::PROTOCOL_VERSION),
            version: Some(crate::VERSION.to_string()),
            client: Some(client),
        };
        send(&mut conn, &Request::Hello(hello)).await?;
        match recv(&mut conn).await? {
            Some(Reply::Hello(reply)) => Ok((conn, reply)),
            Some(Reply::Error(e)) => Err(ExchangeError::Refused(e)),
            Some(other) => Err(ExchangeError::Unexpected(Box::new(other))),
            None => Err(ExchangeError::Closed),
        }
    };
    tokio::time::timeout(timeout, greet)
        .await
        .map_err(|_| ExchangeError::Timeout)?
}

/// Sends one request.
pub async fn send(conn: &mut Connection, request: &Request) -> Result<(), ExchangeError> {
    let body = serde_json::to_vec(request).map_err(|e| DecodeError::Corrupt(e.to_string()))?;
    conn.send(&body[..]).await?;
    Ok(())
}

/// Receives one reply; `None` when the daemon closed the connection.
pub async fn recv(conn: &mut Connection) -> Result<Option<Reply>, ExchangeError> {
    match conn.next().await {
        None => Ok(None),
        Some(frame) => Ok(Some(Reply::decode(&frame?)?)),
    }
}
