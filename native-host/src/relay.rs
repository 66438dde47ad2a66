//! Frames between the browser (stdio) and the daemon (local socket).
//!
//! - From the browser: at most [`MAX_FROM_BROWSER`] bytes a frame, checked before allocating;
//!   each must be a JSON object with a string `type` (anything else is answered with an `error`
//!   frame and the host exits). A `hello` gets `client` set to this host and its caller, so an
//!   extension cannot pass itself off as the CLI. Other frames go to the daemon byte for byte.
//! - To the browser: at most [`MAX_TO_BROWSER`] bytes a frame. A larger reply from the daemon is
//!   replaced by an `error` frame ([`ErrorCode::REPLY_TOO_LARGE`]), never sent.
//! - EOF on stdin is the browser closing the port: the host exits at once and the daemon (and
//!   its jobs) go on.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use haul_protocol::frame::{
    FrameCodec, FrameError, MAX_FROM_BROWSER, MAX_TO_BROWSER, encode_header,
};
use haul_protocol::message::{ClientInfo, ClientKind, ErrorCode, HelloRequest, Reply, Request};
use haul_protocol::socket::Connection;
use haul_protocol::{PROTOCOL_VERSION, VERSION};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_util::codec::FramedRead;

use crate::args::Caller;
use crate::log::Logger;

/// How long the daemon has to answer the host's own `hello`.
const HELLO_TIMEOUT: Duration = Duration::from_secs(5);

/// The browser's side of stdio: frames only, each flushed.
pub struct ToBrowser<W> {
    out: W,
}

impl<W: AsyncWrite + Unpin> ToBrowser<W> {
    pub fn new(out: W) -> Self {
        ToBrowser { out }
    }

    /// Writes a frame of at most [`MAX_TO_BROWSER`] bytes (callers make sure of it).
    async fn write(&mut self, body: &[u8]) -> std::io::Result<()> {
        let header = encode_header(body.len(), MAX_TO_BROWSER).map_err(std::io::Error::other)?;
        self.out.write_all(&header).await?;
        self.out.write_all(body).await?;
        self.out.flush().await
    }

    /// Sends a reply, replaced by an error frame if it would be too large.
    pub async fn reply(&mut self, reply: &Reply) -> std::io::Result<()> {
        self.write(&reply.encode_within(MAX_TO_BROWSER)).await
    }

    /// Sends an `error` frame.
    pub async fn error(
        &mut self,
        id: Option<Value>,
        code: ErrorCode,
        message: impl Into<String>,
    ) -> std::io::Result<()> {
        self.reply(&Reply::error(id, code, message)).await
    }

    /// Passes on a frame from the daemon, or an error in its place when it is too large.
    async fn forward(&mut self, body: &[u8]) -> std::io::Result<()> {
        if body.len() <= MAX_TO_BROWSER {
            return self.write(body).await;
        }
        // Always an error in its place: decoding and re-encoding could drop fields this host
        // does not know and pass on something the daemon never sent.
        let id = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.get("id").cloned());
        let replacement = Reply::error(
            id,
            ErrorCode::REPLY_TOO_LARGE,
            format!(
                "the reply ({} bytes) is larger than the browser accepts ({MAX_TO_BROWSER} bytes); open the status page for the full details",
                body.len()
            ),
        )
        .encode_within(MAX_TO_BROWSER);
        self.write(&replacement).await
    }
}

/// Frames from the browser.
pub type FromBrowser<R> = FramedRead<R, FrameCodec>;

/// Reads browser frames with the browser's limit.
pub fn from_browser<R: AsyncRead>(input: R) -> FromBrowser<R> {
    FramedRead::new(input, FrameCodec::new(MAX_FROM_BROWSER, MAX_TO_BROWSER))
}

/// A checked frame from the browser, ready for the daemon.
pub struct BrowserFrame {
    /// The bytes to send on (the browser's own bytes, except for a `hello`).
    pub body: Bytes,
    pub id: Option<Value>,
}

/// The error frame for a frame that could not be read.
pub fn frame_error_reply(e: &FrameError) -> Reply {
    match e {
        FrameError::TooLarge { len, limit } => Reply::error(
            None,
            ErrorCode::TOO_LARGE,
            format!("a message of {len} bytes is over the {limit}-byte limit"),
        ),
        FrameError::Truncated { expected, got } => Reply::error(
            None,
            ErrorCode::BAD_MESSAGE,
            format!("the message stream ended inside a message ({got} of {expected} bytes)"),
        ),
        FrameError::InvalidUtf8 { valid_up_to } => Reply::error(
            None,
            ErrorCode::BAD_MESSAGE,
            format!("the message is not valid UTF-8 (byte {valid_up_to} is the first bad one)"),
        ),
        FrameError::Io(e) => Reply::error(
            None,
            ErrorCode::INTERNAL,
            format!("reading from the browser failed: {e}"),
        ),
    }
}

/// The `client` this host reports for its caller.
pub fn client_info(caller: &Caller) -> ClientInfo {
    ClientInfo {
        kind: ClientKind::NativeHost,
        caller: Some(caller.identity().to_string()),
    }
}

/// The two fields the host needs from a message. Every other field is skipped while the frame
/// is checked to be JSON, never copied: a grab carries the whole page, and the host passes its
/// bytes on untouched (the daemon parses them once).
#[derive(Deserialize)]
struct Head {
    #[serde(rename = "type")]
    kind: Option<Value>,
    id: Option<Value>,
}

/// Checks a frame from the browser; a `hello` gets this host's `client`.
// The error is the reply to send, built once per bad frame: its size does not matter.
#[allow(clippy::result_large_err)]
pub fn accept(raw: BytesMut, caller: &Caller) -> Result<BrowserFrame, Reply> {
    let bad = |why: String| Reply::error(None, ErrorCode::BAD_MESSAGE, why);
    let invalid = |e: serde_json::Error| bad(format!("invalid JSON from the extension: {e}"));
    // A struct also deserializes from a JSON array (by position): only objects are messages.
    if raw.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        serde_json::from_slice::<IgnoredAny>(&raw).map_err(invalid)?;
        return Err(bad("a message must be a JSON object".into()));
    }
    let head: Head = serde_json::from_slice(&raw).map_err(invalid)?;
    let is_hello = match &head.kind {
        Some(Value::String(t)) => t == "hello",
        Some(_) => return Err(bad("\"type\" must be a string".into())),
        None => return Err(bad("a message needs a \"type\"".into())),
    };
    if !is_hello {
        return Ok(BrowserFrame {
            body: raw.freeze(),
            id: head.id,
        });
    }
    let mut map: serde_json::Map<String, Value> = serde_json::from_slice(&raw).map_err(invalid)?;
    let client = serde_json::to_value(client_info(caller))
        .map_err(|e| Reply::error(None, ErrorCode::INTERNAL, e.to_string()))?;
    map.insert("client".into(), client);
    let body = serde_json::to_vec(&Value::Object(map))
        .map_err(|e| Reply::error(None, ErrorCode::INTERNAL, e.to_string()))?;
    Ok(BrowserFrame {
        body: Bytes::from(body),
        id: head.id,
    })
}

/// Reads the next browser frame: `Ok(None)` at EOF, `Err` with the error frame to send.
#[allow(clippy::result_large_err)]
pub async fn next_frame<R: AsyncRead + Unpin>(
    input: &mut FromBrowser<R>,
    caller: &Caller,
) -> Result<Option<BrowserFrame>, Reply> {
    match input.next().await {
        None => Ok(None),
        Some(Ok(raw)) => accept(raw, caller).map(Some),
        Some(Err(e)) => Err(frame_error_reply(&e)),
    }
}

#[allow(clippy::result_large_err)]
/// The host's own `hello`: says who it is and which protocol it speaks; the answer is checked
/// here and not passed on.
async fn handshake(conn: &mut Connection, caller: &Caller) -> Result<(), Reply> {
    let unavailable = |why: String| {
        Reply::error(
            None,
            ErrorCode::DAEMON_UNAVAILABLE,
            format!("{why}; restart it with `haul daemon` and check with `haul doctor`"),
        )
    };
    let hello = Request::Hello(HelloRequest {
        protocol: Some(PROTOCOL_VERSION),
        version: Some(VERSION.to_string()),
        client: Some(client_info(caller)),
    });
    haul_protocol::socket::send(conn, &hello)
        .await
        .map_err(|e| unavailable(format!("the haul daemon could not be told hello: {e}")))?;
    let answer = tokio::time::timeout(HELLO_TIMEOUT, haul_protocol::socket::recv(conn))
        .await
        .map_err(|_| unavailable("the haul daemon did not answer hello in time".into()))?;
    match answer {
        Ok(Some(Reply::Hello(h))) if h.protocol == PROTOCOL_VERSION => Ok(()),
        Ok(Some(Reply::Hello(h))) => Err(Reply::error(
            None,
            ErrorCode::VERSION_MISMATCH,
            format!(
                "the running haul daemon (version {}, protocol {}) does not match this native host (version {VERSION}, protocol {PROTOCOL_VERSION}); stop it and start the installed one with `haul daemon`",
                h.version, h.protocol
            ),
        )),
        Ok(Some(Reply::Error(e))) => Err(Reply::Error(e)),
        Ok(Some(other)) => Err(unavailable(format!(
            "the haul daemon answered hello with {:?}",
            other.encode()
        ))),
        Ok(None) => Err(unavailable("the haul daemon closed the connection".into())),
        Err(e) => Err(unavailable(format!(
            "the haul daemon sent something unexpected: {e}"
        ))),
    }
}

/// Relays until either side ends; returns the exit code.
pub async fn relay<R, W>(
    mut conn: Connection,
    input: &mut FromBrowser<R>,
    out: &mut ToBrowser<W>,
    first: BrowserFrame,
    caller: &Caller,
    log: &Logger,
) -> i32
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    if let Err(reply) = handshake(&mut conn, caller).await {
        log.log(format!(
            "hello failed: {}",
            String::from_utf8_lossy(&reply.encode())
        ));
        let _ = out.reply(&reply).await;
        return 1;
    }
    let lost = |id: Option<Value>, e: &dyn std::fmt::Display| {
        Reply::error(
            id,
            ErrorCode::DAEMON_UNAVAILABLE,
            format!(
                "lost the connection to the haul daemon ({e}); start it with `haul daemon` and check with `haul doctor`"
            ),
        )
    };
    if let Err(e) = conn.send(&first.body[..]).await {
        let _ = out.reply(&lost(first.id, &e)).await;
        return 1;
    }
    loop {
        tokio::select! {
            frame = next_frame(input, caller) => match frame {
                Ok(None) => {
                    log.log("the browser closed the port; exiting");
                    return 0;
                }
                Ok(Some(frame)) => {
                    if let Err(e) = conn.send(&frame.body[..]).await {
                        log.log(format!("sending to the daemon failed: {e}"));
                        let _ = out.reply(&lost(frame.id, &e)).await;
                        return 1;
                    }
                }
                Err(reply) => {
                    log.log(format!("bad frame from the browser: {}", String::from_utf8_lossy(&reply.encode())));
                    let _ = out.reply(&reply).await;
                    return 1;
                }
            },
            reply = conn.next() => match reply {
                Some(Ok(body)) => {
                    if let Err(e) = out.forward(&body).await {
                        log.log(format!("writing to the browser failed: {e}"));
                        return 1;
                    }
                }
                Some(Err(e)) => {
                    log.log(format!("bad frame from the daemon: {e}"));
                    let _ = out.reply(&lost(None, &e)).await;
                    return 1;
                }
                None => {
                    log.log("the daemon closed the connection");
                    let _ = out
                        .reply(&lost(None, &"the daemon closed the connection"))
                        .await;
                    return 1;
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use haul_protocol::install::chrome_origin;

    fn bytes(raw: &[u8]) -> BytesMut {
        BytesMut::from(raw)
    }

    fn caller() -> Caller {
        Caller::Chrome {
            origin: chrome_origin(haul_protocol::DEV_EXTENSION_ID),
            id: haul_protocol::DEV_EXTENSION_ID.into(),
        }
    }

    #[test]
    fn hello_gets_the_callers_identity_and_cannot_claim_to_be_the_cli() {
        let f = accept(
            bytes(br#"{"type":"hello","client":{"kind":"cli"}}"#),
            &caller(),
        )
        .unwrap();
        let v: Value = serde_json::from_slice(&f.body).unwrap();
        assert_eq!(v["client"]["kind"], "native-host");
        assert_eq!(
            v["client"]["caller"],
            chrome_origin(haul_protocol::DEV_EXTENSION_ID)
        );
    }

    #[test]
    fn other_frames_pass_unchanged_with_their_id() {
        let raw = br#"{"type":"grab","id":"r1","media":[]}"#;
        let f = accept(bytes(raw), &caller()).unwrap();
        assert_eq!(&f.body[..], raw);
        assert_eq!(f.id, Some(Value::from("r1")));
        // Unknown types are the daemon's to answer.
        assert!(accept(bytes(br#"{"type":"teleport"}"#), &caller()).is_ok());
    }

    #[test]
    fn malformed_frames_are_bad_messages() {
        for raw in [
            &b"not json"[..],
            b"[1]",
            br#"["grab", {"type":"grab"}]"#,
            b"{}",
            br#"{"type":3}"#,
            br#"{"type":"grab"} trailing"#,
            // Two types: the host and the daemon must never read different ones.
            br#"{"type":"grab","type":"hello"}"#,
        ] {
            let Err(Reply::Error(e)) = accept(bytes(raw), &caller()) else {
                panic!("accepted {raw:?}")
            };
            assert_eq!(e.code, ErrorCode::BAD_MESSAGE);
        }
    }

    #[tokio::test]
    async fn oversized_daemon_reply_becomes_an_error_frame() {
        let mut out = ToBrowser::new(Vec::new());
        let big = format!(
            r#"{{"type":"accepted","id":"x","job":1,"pad":"{}"}}"#,
            "a".repeat(MAX_TO_BROWSER)
        );
        out.forward(big.as_bytes()).await.unwrap();
        let len = u32::from_ne_bytes(out.out[..4].try_into().unwrap()) as usize;
        assert_eq!(len, out.out.len() - 4);
        assert!(len <= MAX_TO_BROWSER);
        let Reply::Error(e) = Reply::decode(&out.out[4..]).unwrap() else {
            panic!()
        };
        assert_eq!(e.code, ErrorCode::REPLY_TOO_LARGE);
        assert_eq!(e.id, Some(Value::from("x")));

        // A type from a newer daemon is replaced the same way, keeping the id.
        let mut out = ToBrowser::new(Vec::new());
        let big = format!(
            r#"{{"type":"future","id":7,"pad":"{}"}}"#,
            "a".repeat(MAX_TO_BROWSER)
        );
        out.forward(big.as_bytes()).await.unwrap();
        let Reply::Error(e) = Reply::decode(&out.out[4..]).unwrap() else {
            panic!()
        };
        assert_eq!(e.code, ErrorCode::REPLY_TOO_LARGE);
        assert_eq!(e.id, Some(Value::from(7)));
    }
}
