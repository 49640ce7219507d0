//! Fault-injected servers for wsspec's own sections (`handshake/…`, `deflate/…`,
//! `security/…`): a strict RFC 6455 / RFC 7692 echo server whose opening handshake,
//! permessage-deflate negotiation and resource handling can each be broken in one
//! chosen way, to prove that the cases of those sections notice the fault, and that a
//! conformant configuration of the very same server passes them.
//!
//! [`start`] with [`HsFault::None`] is the conformant configuration. Its rules:
//!
//! * **Request head**: at most [`MAX_HEAD`] bytes and 128 header lines (else 431), all
//!   of it within [`HANDSHAKE_TIMEOUT`] (else the connection is dropped, which also
//!   ends a client trickling its request byte by byte).
//! * **Refusals** (400 unless said otherwise): a method other than `GET` (405), a
//!   version other than HTTP/1.1 (505), a request target that is neither a path nor an
//!   absolute `http`/`https` URI, not exactly one syntactically valid `Host`, a body
//!   (`Content-Length` other than 0, or `Transfer-Encoding`), `Upgrade` without the
//!   token `websocket`, `Connection` without the token `upgrade` (tokens compared
//!   case-insensitively, in comma lists spread over any number of lines), not exactly
//!   one `Sec-WebSocket-Key` whose strict base64 decodes to 16 bytes, not exactly one
//!   `Sec-WebSocket-Version`; a version other than `13` gets 426 with
//!   `Sec-WebSocket-Version: 13`; a `Sec-WebSocket-Protocol` that is not a list of
//!   unique tokens, and a `Sec-WebSocket-Extensions` that does not parse.
//! * **Selection**: the first subprotocol the client offers; permessage-deflate for the
//!   first valid offer (RFC 7692 §7, see `wsspec::wire::extensions::negotiate`); every
//!   other extension is declined by leaving it out.
//! * **Frames**: client frames masked, lengths in their shortest form, RSV1 only on
//!   the first frame of a data message and only with permessage-deflate, RSV2/RSV3
//!   never, no reserved opcodes, control frames final and ≤ 125 bytes, continuations
//!   only inside a message, else close 1002 (also for a 64-bit length with its top
//!   bit set); a frame or message over
//!   [`MAX_MESSAGE`] (before or after inflating) 1009; more than [`MAX_FRAMES`]
//!   frames in one message 1008; invalid DEFLATE data or UTF-8 1007.
//! * Every complete data message is echoed, uncompressed (RFC 7692 lets a sender leave
//!   any message uncompressed, so the server never has to honour a window size when
//!   compressing); pings get pongs; a close is answered and TCP closed.
//!
//! Each other [`HsFault`] breaks exactly one rule. Two of them simulate a server
//! falling over (a huge allocation, an unbounded inflate): instead of really
//! exhausting memory, the server "dies" gracefully — it stops accepting and drops every
//! connection — which is what wsspec's liveness probe sees of a crashed process.
//!
//! Servers listen on 127.0.0.1 only, never panic on input (indexing, unwrap and panics
//! are denied below), and bound every wait and every loop.

#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::time::{timeout, timeout_at, Instant};
use wsspec::case::Length;
use wsspec::wire::extensions::{self, PmdParams};
use wsspec::wire::frame::{encode_frame, FrameDecoder};
use wsspec::wire::handshake::{self, Request};
use wsspec::wire::{close_code, deflate};

/// Largest request head read; a longer one is refused with 431.
pub const MAX_HEAD: usize = 16 << 10;
/// The whole request head must arrive within this time.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(2);
/// Largest frame and message (after inflating); above it the server closes with 1009.
pub const MAX_MESSAGE: u64 = 16 << 20;
/// Most frames one message may have; above it the server closes with 1008.
pub const MAX_FRAMES: usize = 4096;
/// [`HsFault::AllocDeclaredLength`]: a declared length above this "exhausts memory".
pub const FAULT_ALLOC_LIMIT: u64 = 1 << 30;
/// [`HsFault::InflateUnbounded`]: inflated output above this "exhausts memory".
pub const FAULT_INFLATE_LIMIT: usize = 64 << 20;
/// A connection on which nothing arrives for this long is dropped.
const IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// One write must complete within this time.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// After a refusal or the closing handshake: read and discard at most this long.
const LINGER: Duration = Duration::from_secs(1);

/// The one rule a [`start`]ed server breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HsFault {
    /// Conformant.
    None,
    /// Takes any non-empty base64 key, whatever it decodes to (12 bytes, 20 bytes…).
    AcceptShortKey,
    /// Takes `Sec-WebSocket-Version: 8` as well as 13.
    AcceptVersion8,
    /// Whenever the client offers subprotocols, selects one it did not offer.
    UnofferedProtocol,
    /// Takes a permessage-deflate offer whose `server_max_window_bits` is out of range
    /// or malformed (`16`, `7`, `08`…) and repeats that value in its answer.
    AcceptBadWindowBits,
    /// Reserves memory for a frame's declared length as soon as the header arrives; a
    /// length over [`FAULT_ALLOC_LIMIT`] kills the server.
    AllocDeclaredLength,
    /// Inflates compressed messages without its message limit; output over
    /// [`FAULT_INFLATE_LIMIT`] kills the server.
    InflateUnbounded,
    /// Parses `Sec-WebSocket-Protocol` in quadratic time (every element compared,
    /// case-insensitively and with fresh allocations, with every earlier one).
    QuadraticProtocol,
}

impl HsFault {
    /// Every fault, [`HsFault::None`] first.
    pub const ALL: [HsFault; 8] = [
        HsFault::None,
        HsFault::AcceptShortKey,
        HsFault::AcceptVersion8,
        HsFault::UnofferedProtocol,
        HsFault::AcceptBadWindowBits,
        HsFault::AllocDeclaredLength,
        HsFault::InflateUnbounded,
        HsFault::QuadraticProtocol,
    ];
}

/// A running server; dropping it stops the accept loop and every connection.
pub type HsServer = crate::faulty::FaultyServer;

/// Start a server with `fault` on 127.0.0.1 (ephemeral port).
pub async fn start(fault: HsFault) -> std::io::Result<HsServer> {
    crate::faulty::spawn_server(move |stream, death| serve(fault, stream, death)).await
}

// ----- opening handshake ---------------------------------------------------------

/// What to answer a request with.
struct Refusal {
    status: u16,
    reason: &'static str,
    headers: Vec<(String, String)>,
}

fn refuse(status: u16, reason: &'static str) -> Refusal {
    Refusal {
        status,
        reason,
        headers: Vec::new(),
    }
}

/// An accepted request: the key and the headers to add to the 101.
struct Accepted {
    key: String,
    headers: Vec<(String, String)>,
    pmd: Option<PmdParams>,
}

/// Read the request head (bounded in size and time). `Err(Some(r))`: answer with `r`;
/// `Err(None)`: just drop the connection.
async fn read_head(stream: &mut TcpStream) -> Result<(Request, Vec<u8>), Option<Refusal>> {
    let deadline = Instant::now() + HANDSHAKE_TIMEOUT;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    // Each round adds at least one byte; the head is limited to MAX_HEAD bytes.
    loop {
        match handshake::parse_request(&buf, MAX_HEAD) {
            Ok(Some(req)) => {
                let rest = buf.get(req.head_len..).unwrap_or_default().to_vec();
                return Ok((req, rest));
            }
            Ok(None) => {}
            Err(handshake::HandshakeError::TooLarge(_)) => {
                return Err(Some(refuse(431, "Request Header Fields Too Large")))
            }
            Err(e) if e.to_string().contains("too many headers") => {
                return Err(Some(refuse(431, "Request Header Fields Too Large")))
            }
            Err(_) => return Err(Some(refuse(400, "Bad Request"))),
        }
        match timeout_at(deadline, stream.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            _ => return Err(None),
        }
    }
}

/// Does any of `values` hold `token` in its comma-separated list (case-insensitive)?
fn has_token(values: &[&str], token: &str) -> bool {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// RFC 3986 host (`reg-name`, IPv4 or `[IP-literal]`) with an optional `:port`.
fn valid_host(v: &str) -> bool {
    let (host, port) = if let Some(rest) = v.strip_prefix('[') {
        let Some((lit, after)) = rest.split_once(']') else {
            return false;
        };
        if lit.is_empty()
            || !lit
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return false;
        }
        match after {
            "" => ("x", None),
            p => match p.strip_prefix(':') {
                Some(p) => ("x", Some(p)),
                None => return false,
            },
        }
    } else {
        match v.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (v, None),
        }
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=%".contains(&b));
    let port_ok = port.is_none_or(|p| p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    host_ok && port_ok
}

/// The subprotocols of the request, or why the list is malformed.
fn protocol_list(values: &[&str], fault: HsFault) -> Result<Vec<String>, ()> {
    let joined = values.join(",");
    let elements: Vec<&str> = joined
        .split(',')
        .map(|e| e.trim_matches([' ', '\t']))
        .filter(|e| !e.is_empty())
        .collect();
    if elements.is_empty() || !elements.iter().all(|e| extensions::is_token(e)) {
        return Err(());
    }
    let duplicates = if fault == HsFault::QuadraticProtocol {
        // The fault: every element is compared with every earlier one, each comparison
        // lower-casing both into fresh strings, and all duplicates are counted before
        // the verdict (so a list of one repeated value costs the full n²/2 as well).
        elements
            .iter()
            .enumerate()
            .map(|(i, e)| {
                elements
                    .get(..i)
                    .unwrap_or_default()
                    .iter()
                    .filter(|p| {
                        std::hint::black_box(p.to_ascii_lowercase()) == e.to_ascii_lowercase()
                    })
                    .count()
            })
            .sum::<usize>()
    } else {
        let mut seen = std::collections::HashSet::new();
        elements
            .iter()
            .filter(|e| !seen.insert(e.to_ascii_lowercase()))
            .count()
    };
    if duplicates > 0 {
        return Err(());
    }
    Ok(elements.into_iter().map(str::to_string).collect())
}

/// The fault [`HsFault::AcceptBadWindowBits`]: the answer to a first permessage-deflate
/// offer whose `server_max_window_bits` is not a valid window size.
fn bad_window_answer(offers: &[extensions::Extension]) -> Option<String> {
    let e = offers
        .iter()
        .find(|e| e.name.eq_ignore_ascii_case(extensions::PERMESSAGE_DEFLATE))?;
    let (_, v) = e
        .params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("server_max_window_bits"))?;
    let v = v.clone().unwrap_or_default();
    let valid = !v.starts_with('0')
        && v.bytes().all(|b| b.is_ascii_digit())
        && v.parse::<u8>().is_ok_and(|n| (8..=15).contains(&n));
    (!valid && !v.is_empty() && extensions::is_token(&v))
        .then(|| format!("permessage-deflate; server_max_window_bits={v}"))
}

fn validate(req: &Request, fault: HsFault) -> Result<Accepted, Refusal> {
    if req.method != "GET" {
        let mut r = refuse(405, "Method Not Allowed");
        r.headers.push(("Allow".into(), "GET".into()));
        return Err(r);
    }
    if req.version != 1 {
        return Err(refuse(505, "HTTP Version Not Supported"));
    }
    let target = req.path.to_ascii_lowercase();
    if !(req.path.starts_with('/')
        || target.starts_with("http://")
        || target.starts_with("https://"))
    {
        return Err(refuse(400, "Bad Request"));
    }
    match req.headers_named("Host").as_slice() {
        [h] if valid_host(h.trim()) => {}
        _ => return Err(refuse(400, "Bad Request")),
    }
    let has_body = req
        .headers_named("Content-Length")
        .iter()
        .any(|v| v.trim() != "0")
        || !req.headers_named("Transfer-Encoding").is_empty();
    if has_body
        || !has_token(&req.headers_named("Upgrade"), "websocket")
        || !has_token(&req.headers_named("Connection"), "upgrade")
    {
        return Err(refuse(400, "Bad Request"));
    }
    let key = match req.headers_named("Sec-WebSocket-Key").as_slice() {
        [k] => k.trim().to_string(),
        _ => return Err(refuse(400, "Bad Request")),
    };
    let key_ok = match BASE64.decode(&key) {
        Ok(bytes) => bytes.len() == 16 || (fault == HsFault::AcceptShortKey && !bytes.is_empty()),
        Err(_) => false,
    };
    if !key_ok {
        return Err(refuse(400, "Bad Request"));
    }
    match req.headers_named("Sec-WebSocket-Version").as_slice() {
        [v] if v.trim() == "13" => {}
        [v] if v.trim() == "8" && fault == HsFault::AcceptVersion8 => {}
        [_] => {
            let mut r = refuse(426, "Upgrade Required");
            r.headers
                .push(("Sec-WebSocket-Version".into(), "13".into()));
            return Err(r);
        }
        _ => return Err(refuse(400, "Bad Request")),
    }
    let mut headers = Vec::new();
    let protocols = req.headers_named("Sec-WebSocket-Protocol");
    if !protocols.is_empty() {
        let list = protocol_list(&protocols, fault).map_err(|()| refuse(400, "Bad Request"))?;
        let chosen = if fault == HsFault::UnofferedProtocol {
            Some("x-wsspec-unoffered".to_string())
        } else {
            list.into_iter().next()
        };
        if let Some(p) = chosen {
            headers.push(("Sec-WebSocket-Protocol".into(), p));
        }
    }
    let offers = extensions::parse_all(req.headers_named("Sec-WebSocket-Extensions"))
        .map_err(|_| refuse(400, "Bad Request"))?;
    let mut pmd = None;
    let bad = (fault == HsFault::AcceptBadWindowBits)
        .then(|| bad_window_answer(&offers))
        .flatten();
    if let Some(answer) = bad {
        // The server believes it negotiated a default configuration.
        pmd = Some(PmdParams::default());
        headers.push(("Sec-WebSocket-Extensions".into(), answer));
    } else if let Some(p) = extensions::negotiate(&offers) {
        pmd = Some(p);
        headers.push((
            "Sec-WebSocket-Extensions".into(),
            p.to_extension().to_string(),
        ));
    }
    Ok(Accepted { key, headers, pmd })
}

/// Send a refusal, then close TCP without resetting it (the request may not have been
/// read completely).
async fn send_refusal(stream: &mut TcpStream, r: &Refusal) {
    let mut s = format!(
        "HTTP/1.1 {} {}\r\nContent-Length: 0\r\nConnection: close\r\n",
        r.status, r.reason
    );
    for (n, v) in &r.headers {
        s.push_str(&format!("{n}: {v}\r\n"));
    }
    s.push_str("\r\n");
    if write_all(stream, s.as_bytes()).await {
        close_tcp(stream).await;
    }
}

/// `write_all` bounded by [`WRITE_TIMEOUT`]; false if it failed or timed out.
async fn write_all(stream: &mut TcpStream, bytes: &[u8]) -> bool {
    matches!(
        timeout(WRITE_TIMEOUT, stream.write_all(bytes)).await,
        Ok(Ok(()))
    )
}

/// Send FIN, then read and discard until the peer's EOF (bounded by [`LINGER`]).
async fn close_tcp(stream: &mut TcpStream) {
    let _ = timeout(LINGER, stream.shutdown()).await;
    let deadline = Instant::now() + LINGER;
    let mut buf = [0u8; 4096];
    while let Ok(Ok(n)) = timeout_at(deadline, stream.read(&mut buf)).await {
        if n == 0 {
            break;
        }
    }
}

// ----- the WebSocket connection --------------------------------------------------

/// How a connection ends.
enum End {
    /// Send a close frame with this code, then close TCP.
    Fail(u16),
    /// The closing handshake is done (our close went out): close TCP.
    Closed,
    /// Drop TCP at once.
    Drop,
    /// The server "runs out of memory": it dies.
    Die,
}

struct Conn {
    fault: HsFault,
    stream: TcpStream,
    decoder: FrameDecoder,
    pmd: Option<PmdParams>,
    inflater: flate2::Decompress,
    /// Opcode, compressed flag, payload and frame count of the message being received.
    msg: Option<(u8, bool, Vec<u8>, usize)>,
}

async fn serve(fault: HsFault, mut stream: TcpStream, death: Arc<Notify>) {
    let (req, leftover) = match read_head(&mut stream).await {
        Ok(x) => x,
        Err(Some(r)) => return send_refusal(&mut stream, &r).await,
        Err(None) => return,
    };
    let acc = match validate(&req, fault) {
        Ok(a) => a,
        Err(r) => return send_refusal(&mut stream, &r).await,
    };
    let mut headers = acc.headers;
    headers.push(("Server".into(), format!("wsspec-faulty-hs ({fault:?})")));
    if !write_all(&mut stream, &handshake::build_response(&acc.key, &headers)).await {
        return;
    }
    let mut c = Conn {
        fault,
        stream,
        // The fault inspects headers itself, so its decoder must not refuse first.
        decoder: FrameDecoder::new(if fault == HsFault::AllocDeclaredLength {
            u64::MAX
        } else {
            MAX_MESSAGE
        }),
        pmd: acc.pmd,
        inflater: flate2::Decompress::new(false),
        msg: None,
    };
    let end = c.run(leftover).await;
    match end {
        End::Fail(code) => {
            let close = encode_frame(true, 0, 8, None, Length::Minimal, &code.to_be_bytes());
            if write_all(&mut c.stream, &close).await {
                close_tcp(&mut c.stream).await;
            }
        }
        End::Closed => close_tcp(&mut c.stream).await,
        End::Drop => {}
        End::Die => death.notify_one(),
    }
}

impl Conn {
    async fn run(&mut self, leftover: Vec<u8>) -> End {
        let mut buf = vec![0u8; 64 << 10];
        let mut data = leftover;
        // Ends on EOF, error, idle timeout or when the protocol says so.
        loop {
            if !data.is_empty() {
                self.decoder.push(&data);
                if let Some(end) = self.frames().await {
                    return end;
                }
            }
            data = match timeout(IDLE_TIMEOUT, self.stream.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => buf.get(..n).unwrap_or_default().to_vec(),
                _ => return End::Drop,
            };
        }
    }

    /// Handle every complete frame buffered; `Some` when the connection ends.
    async fn frames(&mut self) -> Option<End> {
        // Bounded by the bytes buffered: every frame consumes at least two.
        loop {
            if let Some((_, _, _, _, len)) = self.decoder.pending_header() {
                if self.fault == HsFault::AllocDeclaredLength && len > FAULT_ALLOC_LIMIT {
                    return Some(End::Die);
                }
            }
            let frame = match self.decoder.next_frame() {
                Ok(Some(f)) => f,
                Ok(None) => return None,
                Err(_) => {
                    let top_bit = self
                        .decoder
                        .pending_header()
                        .is_some_and(|(_, _, _, _, len)| len >> 63 == 1);
                    return Some(End::Fail(if top_bit { 1002 } else { 1009 }));
                }
            };
            if let Some(end) = self.on_frame(frame).await {
                return Some(end);
            }
        }
    }

    async fn send(&mut self, opcode: u8, payload: &[u8]) -> Option<End> {
        let bytes = encode_frame(true, 0, opcode, None, Length::Minimal, payload);
        (!write_all(&mut self.stream, &bytes).await).then_some(End::Drop)
    }

    async fn on_frame(&mut self, f: wsspec::wire::frame::Frame) -> Option<End> {
        if f.mask.is_none() || f.rsv & 3 != 0 || !f.minimal_length {
            return Some(End::Fail(1002));
        }
        let starts_message = matches!(f.opcode, 1 | 2) && self.msg.is_none();
        if f.rsv == 4 && !(starts_message && self.pmd.is_some()) {
            return Some(End::Fail(1002));
        }
        match f.opcode {
            8..=10 if !f.fin || f.payload.len() > 125 => Some(End::Fail(1002)),
            8 => self.on_close(&f.payload).await,
            9 => self.send(10, &f.payload).await,
            10 => None,
            0 if self.msg.is_none() => Some(End::Fail(1002)),
            1 | 2 if self.msg.is_some() => Some(End::Fail(1002)),
            0..=2 => self.on_data(f).await,
            _ => Some(End::Fail(1002)),
        }
    }

    async fn on_close(&mut self, payload: &[u8]) -> Option<End> {
        let code = match payload {
            [] => None,
            [_] => return Some(End::Fail(1002)),
            [a, b, ..] => Some(u16::from_be_bytes([*a, *b])),
        };
        if code.is_some_and(|c| !close_code::is_valid_on_wire(c)) {
            return Some(End::Fail(1002));
        }
        if std::str::from_utf8(payload.get(2..).unwrap_or_default()).is_err() {
            return Some(End::Fail(1007));
        }
        let reply = code.map(u16::to_be_bytes);
        match self
            .send(8, reply.as_ref().map_or(&[][..], |r| &r[..]))
            .await
        {
            None => Some(End::Closed),
            other => other,
        }
    }

    async fn on_data(&mut self, f: wsspec::wire::frame::Frame) -> Option<End> {
        let (opcode, compressed, mut buf, frames) =
            self.msg
                .take()
                .unwrap_or((f.opcode, f.rsv == 4, Vec::new(), 0));
        if frames + 1 > MAX_FRAMES {
            return Some(End::Fail(1008));
        }
        if buf.len() as u64 + f.payload.len() as u64 > MAX_MESSAGE {
            return Some(End::Fail(1009));
        }
        buf.extend_from_slice(&f.payload);
        if !f.fin {
            self.msg = Some((opcode, compressed, buf, frames + 1));
            return None;
        }
        let plain = if compressed {
            if self.pmd.is_some_and(|p| p.client_no_context_takeover) {
                self.inflater = flate2::Decompress::new(false);
            }
            let limit = if self.fault == HsFault::InflateUnbounded {
                FAULT_INFLATE_LIMIT
            } else {
                MAX_MESSAGE as usize
            };
            match deflate::inflate_with(&mut self.inflater, &buf, limit) {
                Ok(p) => p,
                Err(deflate::InflateError::TooLarge { .. })
                    if self.fault == HsFault::InflateUnbounded =>
                {
                    return Some(End::Die)
                }
                Err(deflate::InflateError::TooLarge { .. }) => return Some(End::Fail(1009)),
                Err(_) => return Some(End::Fail(1007)),
            }
        } else {
            buf
        };
        if opcode == 1 && std::str::from_utf8(&plain).is_err() {
            return Some(End::Fail(1007));
        }
        self.send(opcode, &plain).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        for ok in [
            "127.0.0.1:9001",
            "example.com",
            "[::1]:80",
            "[::1]",
            "a-b.c_d",
        ] {
            assert!(valid_host(ok), "{ok}");
        }
        for bad in ["", "a b", "[::1", "h:-1", "h:999999", "::1", "a/b", "[]:1"] {
            assert!(!valid_host(bad), "{bad}");
        }
    }

    #[test]
    fn protocol_lists() {
        let ok = |v: &[&str]| protocol_list(v, HsFault::None);
        assert_eq!(ok(&["a, b"]), Ok(vec!["a".into(), "b".into()]));
        assert_eq!(ok(&["a, , b"]), Ok(vec!["a".into(), "b".into()]));
        assert_eq!(ok(&["a", "b"]), Ok(vec!["a".into(), "b".into()]));
        for bad in ["", " , ", "a b", "a;b", "\"a\"", "a, A"] {
            assert!(ok(&[bad]).is_err(), "{bad:?}");
        }
        // The quadratic variant decides the same way.
        for v in ["a, b", "a, a", "a b", "x, y, z, X"] {
            assert_eq!(
                protocol_list(&[v], HsFault::QuadraticProtocol),
                ok(&[v]),
                "{v}"
            );
        }
    }

    #[test]
    fn bad_window_bits_are_spotted() {
        let ext = |s: &str| extensions::parse(s).unwrap_or_default();
        for bad in ["16", "7", "08", "abc", "+9"] {
            let offer = format!("permessage-deflate; server_max_window_bits={bad}");
            assert_eq!(
                bad_window_answer(&ext(&offer)),
                Some(format!("permessage-deflate; server_max_window_bits={bad}"))
            );
        }
        assert_eq!(
            bad_window_answer(&ext("permessage-deflate; server_max_window_bits=10")),
            None
        );
        assert_eq!(bad_window_answer(&ext("permessage-deflate")), None);
    }
}
