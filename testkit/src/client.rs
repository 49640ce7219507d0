//! Deliberately broken WebSocket clients, to prove that a fuzzing server (Autobahn's
//! wstest, or `wsspec serve`) notices real client-side violations and passes
//! everything else.
//!
//! [`play`] runs one connection of a small hand-written RFC 6455 echo client (client
//! role) on top of wsspec's wire codec. With [`ClientFault::None`] it is conformant;
//! every other [`ClientFault`] changes exactly one of its rules. The conformant rules:
//!
//! * the request carries a fresh 16-byte Sec-WebSocket-Key, `Host` with the port, and
//!   offers no extension and no subprotocol;
//! * the response must be a 101 with `Upgrade: websocket`, `Connection: Upgrade`, the
//!   right Sec-WebSocket-Accept (exactly once), and neither an extension nor a
//!   subprotocol (none was offered); otherwise the client drops TCP (RFC 6455 §4.1);
//! * every frame it sends is masked with a fresh random key (§5.3);
//! * server frames must be unmasked, RSV bits 0, opcodes not reserved (else fail 1002);
//! * control frames must be final and carry at most 125 bytes (1002);
//! * a continuation needs an open message and a new data frame must not start inside
//!   one (1002); a message may hold at most [`MAX_MESSAGE`] bytes (1009);
//! * text is validated incrementally and fail-fast (1007);
//! * a ping gets a pong with the same payload; complete messages are echoed
//!   unfragmented with their own opcode;
//! * a close with a 1-byte payload or a code that may not travel on the wire fails the
//!   connection (1002), one with an invalid UTF-8 reason too (1007); a valid close is
//!   answered with the same code (or an empty close), then the client waits for the
//!   server to close TCP (§7.1.1, the server closes first);
//! * failing means: send a close frame with the code, then wait for the server to close
//!   TCP.
//!
//! Every network wait is bounded (connect, handshake, each write, the whole
//! connection), every buffer too (response head, message size).
//!
//! ## What Autobahn's fuzzing server can and cannot catch
//!
//! Measured by `tests/autobahn_clients.rs` against wstest 25.10.1, table in the
//! crate's README: `SendUnmasked`, `NoPong`, `NoUtf8Validation` and
//! `NeverAnswerClose` are caught on the cases about their rule; `SkipAcceptCheck`,
//! `AcceptMaskedFrames`, `ReuseMaskKey`, `ZeroMaskKey` and `AcceptUnofferedExtension`
//! are not (wstest always sends the right Accept, never masks, never looks at mask
//! keys and answers only offered extensions): wsspec's client-side cases (`client/*`)
//! catch those (`tests/wsspec_serve.rs`).

use anyhow::{bail, Context, Result};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use wsspec::case::Length;
use wsspec::wire::close_code;
use wsspec::wire::frame::{encode_frame, Frame, FrameDecoder};
use wsspec::wire::handshake::{self, Response};
use wsspec::wire::utf8::{Utf8Status, Utf8Validator};

/// Autobahn's cases about the rules these clients break: every frame, ping,
/// reserved-bit, opcode and fragmentation rule, the invalid-UTF-8 cases that are one
/// frame, and the close cases (valid, invalid payloads, invalid reason, invalid codes);
/// 80 cases.
pub const RULE_CASES: [&str; 10] = [
    "1.1.*", "2.*", "3.*", "4.*", "5.*", "6.3.*", "7.1.*", "7.3.*", "7.5.1", "7.9.*",
];

/// Largest message (and frame) accepted; above it the client fails with 1009.
pub const MAX_MESSAGE: u64 = 64 << 20;
/// Largest response head read before giving up.
const MAX_HEAD: usize = 16 << 10;
/// Connecting and the opening handshake, each.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// One write must complete within this time.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// After the close (sent or answered): how long to wait for the server's TCP close.
const LINGER: Duration = Duration::from_secs(5);
/// The User-Agent sent.
const USER_AGENT: &str = "wsspec-testkit";

/// The one rule a client breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientFault {
    /// Conformant.
    None,
    /// Takes any Sec-WebSocket-Accept (a wrong or missing one too).
    SkipAcceptCheck,
    /// Takes masked frames from the server instead of failing (1002).
    AcceptMaskedFrames,
    /// Sends its frames unmasked.
    SendUnmasked,
    /// Masks every frame of a connection with the same key.
    ReuseMaskKey,
    /// Masks every frame with the key 00 00 00 00.
    ZeroMaskKey,
    /// Echoes text messages without validating their UTF-8.
    NoUtf8Validation,
    /// Never answers the server's close frame (waits for TCP to end instead).
    NeverAnswerClose,
    /// Never answers a ping.
    NoPong,
    /// Goes on when the server answers with an extension the client did not offer.
    AcceptUnofferedExtension,
}

impl ClientFault {
    /// Every fault, `None` first.
    pub const ALL: [ClientFault; 10] = [
        ClientFault::None,
        ClientFault::SkipAcceptCheck,
        ClientFault::AcceptMaskedFrames,
        ClientFault::SendUnmasked,
        ClientFault::ReuseMaskKey,
        ClientFault::ZeroMaskKey,
        ClientFault::NoUtf8Validation,
        ClientFault::NeverAnswerClose,
        ClientFault::NoPong,
        ClientFault::AcceptUnofferedExtension,
    ];

    /// By name, ignoring case, dashes and underscores (`no-pong`, `NoPong`).
    pub fn parse(name: &str) -> Result<ClientFault> {
        let want: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        ClientFault::ALL
            .into_iter()
            .find(|f| format!("{f:?}").to_ascii_lowercase() == want)
            .with_context(|| {
                let names: Vec<String> =
                    ClientFault::ALL.iter().map(|f| format!("{f:?}")).collect();
                format!("unknown fault `{name}` (one of {})", names.join(", "))
            })
    }
}

/// How a connection that got past the handshake ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// The server closed; the client answered (or, with `NeverAnswerClose`, did not).
    /// The server's close code, if it sent one.
    Closed(Option<u16>),
    /// The client failed the connection with this code (the server broke a rule).
    Failed(u16, String),
    /// TCP ended without a close frame from the server.
    Dropped,
}

/// Play one connection to `url` (`ws://host:port/path?query`, e.g. a `/runCase` URL):
/// hand-shake, echo until the connection ends, all within `limit`. `Err` when the
/// handshake fails or `limit` passes.
pub async fn play(url: &str, fault: ClientFault, limit: Duration) -> Result<End> {
    timeout(limit, play_unbounded(url, fault))
        .await
        .with_context(|| format!("{url}: not finished within {} s", limit.as_secs_f64()))?
}

/// `ws://host[:port]/path?query` → (host:port to dial, Host header, path with query).
fn split_url(url: &str) -> Result<(String, String, String)> {
    let Some(rest) = url.strip_prefix("ws://") else {
        bail!("{url}: only ws:// URLs are supported");
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    let path = if path.starts_with('?') {
        format!("/{path}")
    } else {
        path
    };
    if authority.is_empty() {
        bail!("{url}: no host");
    }
    // A port is present when the text after the last ':' is digits (and not inside an
    // IPv6 literal).
    let has_port = authority.rsplit_once(':').is_some_and(|(h, p)| {
        !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && !h.ends_with('[')
    });
    let dial = if has_port {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    Ok((dial, authority.to_string(), path))
}

async fn play_unbounded(url: &str, fault: ClientFault) -> Result<End> {
    let (dial, host, path) = split_url(url)?;
    let mut stream = timeout(HANDSHAKE_TIMEOUT, TcpStream::connect(&dial))
        .await
        .with_context(|| format!("connecting to {dial}: timed out"))?
        .with_context(|| format!("connecting to {dial}"))?;
    let _ = stream.set_nodelay(true);
    let key = handshake::generate_key();
    let request = handshake::build_request(&path, &host, &key, USER_AGENT, &[]);
    write(&mut stream, &request).await?;

    // The response head.
    let mut buf = Vec::new();
    let response = timeout(HANDSHAKE_TIMEOUT, async {
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(r) = handshake::parse_response(&buf, MAX_HEAD)? {
                return Ok::<Response, anyhow::Error>(r);
            }
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                bail!("the server closed before its response head was complete");
            }
            buf.extend_from_slice(&chunk[..n]);
        }
    })
    .await
    .context("no complete response head in time")??;
    check_response(&response, &key, fault)?;

    let mut conn = Conn {
        stream,
        fault,
        decoder: FrameDecoder::new(MAX_MESSAGE),
        message: None,
        key: random_key(),
    };
    conn.decoder
        .push(buf.get(response.head_len..).unwrap_or_default());
    conn.run().await
}

/// RFC 6455 §4.1's checks of the server's response (none of which wstest can fail).
fn check_response(response: &Response, key: &str, fault: ClientFault) -> Result<()> {
    let checked;
    let response = if fault == ClientFault::SkipAcceptCheck {
        // Check everything else: put the right Accept in place of whatever came.
        let mut r = response.clone();
        r.headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case("Sec-WebSocket-Accept"));
        r.headers
            .push(("Sec-WebSocket-Accept".into(), handshake::accept_key(key)));
        checked = r;
        &checked
    } else {
        response
    };
    if let Err(why) = handshake::check_response(response, key) {
        bail!("handshake refused: {why}");
    }
    let offered_none = |name: &str| {
        response
            .headers_named(name)
            .iter()
            .any(|v| !v.trim().is_empty())
    };
    if offered_none("Sec-WebSocket-Extensions") && fault != ClientFault::AcceptUnofferedExtension {
        bail!("handshake refused: the server chose an extension the client did not offer");
    }
    if offered_none("Sec-WebSocket-Protocol") {
        bail!("handshake refused: the server chose a subprotocol the client did not offer");
    }
    Ok(())
}

fn random_key() -> [u8; 4] {
    // A zero key is legal but would make the masking a no-op: draw again.
    loop {
        let k: [u8; 4] = rand::random();
        if k != [0; 4] {
            return k;
        }
    }
}

async fn write(stream: &mut TcpStream, bytes: &[u8]) -> Result<()> {
    timeout(WRITE_TIMEOUT, stream.write_all(bytes))
        .await
        .context("a write did not complete in time")?
        .context("writing")
}

/// A message being received: its opcode, payload and (text) UTF-8 state.
struct Message {
    opcode: u8,
    payload: Vec<u8>,
    utf8: Utf8Validator,
}

/// One open connection after the handshake.
struct Conn {
    stream: TcpStream,
    fault: ClientFault,
    decoder: FrameDecoder,
    message: Option<Message>,
    /// The key every frame uses under [`ClientFault::ReuseMaskKey`].
    key: [u8; 4],
}

/// What to do after a frame.
enum Next {
    Continue,
    End(End),
}

impl Conn {
    async fn run(&mut self) -> Result<End> {
        let mut chunk = vec![0u8; 64 << 10];
        loop {
            loop {
                let frame = match self.decoder.next_frame() {
                    Ok(Some(f)) => f,
                    Ok(None) => break,
                    Err(e) => return self.fail(1009, &e.to_string()).await,
                };
                if let Next::End(end) = self.on_frame(frame).await? {
                    return Ok(end);
                }
            }
            let n = self.stream.read(&mut chunk).await.context("reading")?;
            if n == 0 {
                return Ok(End::Dropped);
            }
            self.decoder.push(&chunk[..n]);
        }
    }

    /// The mask of the next frame sent.
    fn mask(&self) -> Option<[u8; 4]> {
        match self.fault {
            ClientFault::SendUnmasked => None,
            ClientFault::ReuseMaskKey => Some(self.key),
            ClientFault::ZeroMaskKey => Some([0; 4]),
            _ => Some(random_key()),
        }
    }

    async fn send(&mut self, opcode: u8, payload: &[u8]) -> Result<()> {
        let bytes = encode_frame(true, 0, opcode, self.mask(), Length::Minimal, payload);
        write(&mut self.stream, &bytes).await
    }

    /// Fail the connection: a close frame with `code`, then wait for the server's TCP
    /// close.
    async fn fail(&mut self, code: u16, why: &str) -> Result<End> {
        let _ = self.send(8, &code.to_be_bytes()).await;
        self.linger().await;
        Ok(End::Failed(code, why.to_string()))
    }

    /// Read and discard until the server closes TCP, at most [`LINGER`].
    async fn linger(&mut self) {
        let mut chunk = [0u8; 4096];
        let _ = timeout(LINGER, async {
            while let Ok(n) = self.stream.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
            }
        })
        .await;
    }

    /// The frame-level rules: `Some((code, why))` when `f` breaks one.
    /// wsspec's receive rules as a client (no extension is ever negotiated here);
    /// `AcceptMaskedFrames` waives the masking rule.
    fn violation(&self, f: &Frame) -> Option<(u16, String)> {
        use wsspec::rules::receive::{broken, Header, Rule, RxState};
        let state = RxState {
            role: wsspec::rules::Role::Client,
            deflate: false,
            in_message: self.message.is_some(),
        };
        broken(&Header::of(f), state)
            .into_iter()
            .find(|(rule, _)| {
                !(*rule == Rule::Masking && self.fault == ClientFault::AcceptMaskedFrames)
            })
            .map(|(_, why)| (1002, why))
    }

    async fn on_frame(&mut self, f: Frame) -> Result<Next> {
        if let Some((code, why)) = self.violation(&f) {
            return Ok(Next::End(self.fail(code, &why).await?));
        }
        match f.opcode {
            0..=2 => self.on_data(f).await,
            8 => self.on_close(f).await,
            9 => {
                if self.fault != ClientFault::NoPong {
                    self.send(10, &f.payload).await?;
                }
                Ok(Next::Continue)
            }
            _ => Ok(Next::Continue), // pong
        }
    }

    async fn on_data(&mut self, f: Frame) -> Result<Next> {
        let validate = self.fault != ClientFault::NoUtf8Validation;
        match (f.opcode, self.message.is_some()) {
            (0, false) => {
                return Ok(Next::End(
                    self.fail(1002, "continuation without a message").await?,
                ))
            }
            (1 | 2, true) => {
                return Ok(Next::End(
                    self.fail(1002, "new message inside a fragmented one")
                        .await?,
                ))
            }
            (1 | 2, false) => {
                self.message = Some(Message {
                    opcode: f.opcode,
                    payload: Vec::new(),
                    utf8: Utf8Validator::new(),
                });
            }
            _ => {}
        }
        let Some(m) = self.message.as_mut() else {
            return Ok(Next::Continue);
        };
        if (m.payload.len() as u64).saturating_add(f.payload.len() as u64) > MAX_MESSAGE {
            return Ok(Next::End(self.fail(1009, "message too big").await?));
        }
        m.payload.extend_from_slice(&f.payload);
        if m.opcode == 1 && validate {
            let status = m.utf8.feed(&f.payload);
            let bad = match status {
                Utf8Status::Invalid { .. } => true,
                Utf8Status::Valid { complete } => f.fin && !complete,
            };
            if bad {
                return Ok(Next::End(self.fail(1007, "invalid UTF-8 in text").await?));
            }
        }
        if f.fin {
            if let Some(m) = self.message.take() {
                self.send(m.opcode, &m.payload).await?;
            }
        }
        Ok(Next::Continue)
    }

    async fn on_close(&mut self, f: Frame) -> Result<Next> {
        let code = match f.payload.as_slice() {
            [] => None,
            [_] => return Ok(Next::End(self.fail(1002, "1-byte close payload").await?)),
            [a, b, reason @ ..] => {
                let code = u16::from_be_bytes([*a, *b]);
                if !close_code::is_valid_on_wire(code) {
                    return Ok(Next::End(
                        self.fail(1002, "close code not allowed on the wire")
                            .await?,
                    ));
                }
                if std::str::from_utf8(reason).is_err() {
                    return Ok(Next::End(
                        self.fail(1007, "close reason is not UTF-8").await?,
                    ));
                }
                Some(code)
            }
        };
        if self.fault != ClientFault::NeverAnswerClose {
            let reply = code.map(u16::to_be_bytes);
            let _ = self
                .send(8, reply.as_ref().map(|r| r.as_slice()).unwrap_or_default())
                .await;
        }
        self.linger().await;
        Ok(Next::End(End::Closed(code)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_dial_host_and_path() {
        assert_eq!(
            split_url("ws://127.0.0.1:9001/runCase?case=1&agent=a").unwrap(),
            (
                "127.0.0.1:9001".into(),
                "127.0.0.1:9001".into(),
                "/runCase?case=1&agent=a".into()
            )
        );
        assert_eq!(
            split_url("ws://localhost?x=1").unwrap(),
            ("localhost:80".into(), "localhost".into(), "/?x=1".into())
        );
        assert!(split_url("http://x/").is_err());
        assert!(split_url("ws:///").is_err());
    }

    #[test]
    fn fault_names_parse_loosely() {
        assert_eq!(ClientFault::parse("no-pong").unwrap(), ClientFault::NoPong);
        assert_eq!(
            ClientFault::parse("ZERO_MASK_KEY").unwrap(),
            ClientFault::ZeroMaskKey
        );
        assert!(ClientFault::parse("nope").is_err());
    }
}
