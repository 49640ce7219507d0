//! Deliberately broken WebSocket servers, to prove that the harness notices real
//! violations and passes everything else.
//!
//! [`start`] runs a small hand-written RFC 6455 echo server (server role) on top of
//! `wsspec::wire`. With [`Fault::None`] it is conformant and must pass every case the
//! way the reference server does; every other [`Fault`] changes exactly one of its rules.
//! [`start_hostile`] runs targets that do not speak WebSocket properly at all (silent,
//! garbage, endless headers, absurd frame lengths), to prove the harness stays bounded
//! in time and memory against them.
//!
//! The conformant rules, in the order they are applied to each frame:
//!
//! * client frames must be masked, RSV bits 0, opcodes not reserved (else fail 1002);
//! * control frames must be final and carry at most 125 bytes (1002);
//! * a continuation needs an open message and a new data frame must not start inside
//!   one (1002); a message may hold at most [`MAX_MESSAGE`] bytes (1009);
//! * text is validated incrementally and fail-fast (1007) — also inside a frame whose
//!   payload has only partly arrived, so Autobahn's 6.4.3/6.4.4 pass strictly;
//! * a ping gets a pong with the same payload; complete messages are echoed unfragmented
//!   with their own opcode;
//! * a close with a 1-byte payload or a code that may not travel on the wire fails the
//!   connection (1002), one with an invalid UTF-8 reason too (1007); a valid close is
//!   answered with the same code (or an empty close) and TCP is closed;
//! * failing means: send a close frame with the code, then close TCP.
//!
//! With permessage-deflate switched on ([`start_with`], and always for the `Deflate…`
//! faults) the server also accepts the first valid permessage-deflate offer (RFC 7692
//! §7; windows of 9–15 bits, as zlib can honour them), inflates compressed client
//! messages with the negotiated client window and context takeover, and compresses
//! every echo with the negotiated server window, resetting its compressor per message
//! exactly when `server_no_context_takeover` was agreed: RSV1 on the first frame only.
//! Each `Deflate…` fault breaks one of those RFC 7692 rules in what it sends.
//!
//! Servers listen on 127.0.0.1 only, never panic on any input (indexing, unwrap and
//! panics are denied below), bound every wait with a timeout and every loop by time,
//! bytes or the number of buffered frames.

#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::{sleep, timeout, timeout_at, Instant};
use wsspec::case::Length;
use wsspec::wire::close_code;
use wsspec::wire::deflate::{Deflater, InflateError, Inflater};
use wsspec::wire::extensions::{self, PmdParams, ServerPolicy};
use wsspec::wire::frame::{apply_mask, encode_frame, Frame, FrameDecoder};
use wsspec::wire::handshake;
use wsspec::wire::utf8::{Utf8Status, Utf8Validator};

/// Largest message (and frame) the servers accept; above it they fail with 1009.
pub const MAX_MESSAGE: u64 = 64 << 20;
/// Largest HTTP request head read before giving up.
const MAX_HEAD: usize = 8 << 10;
/// The whole opening request must arrive within this time.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// A connection on which nothing arrives for this long is dropped.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// One write must complete within this time (a peer that stops reading is dropped).
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// After the closing handshake: how long to read (and discard) until the peer's EOF.
const LINGER: Duration = Duration::from_secs(2);
/// [`Fault::KeepTcpAfterClose`]: how long TCP is kept open at most after the close.
const KEEP_TCP_LIMIT: Duration = Duration::from_secs(30);
/// Connections served at once; more are dropped right after accept.
const MAX_CONNECTIONS: usize = 256;
/// Hostile targets write at most this many bytes per connection…
const HOSTILE_MAX_BYTES: usize = 64 << 20;
/// …and keep a connection for at most this long.
const HOSTILE_MAX_TIME: Duration = Duration::from_secs(120);

/// The one rule a [`start`]ed server breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Conformant: must pass every case like the reference server.
    None,
    /// Processes unmasked client frames instead of failing (1002).
    AcceptUnmasked,
    /// Ignores RSV bits instead of failing.
    IgnoreRsv,
    /// Silently skips frames with reserved opcodes 3–7 and 11–15.
    AcceptReservedOpcodes,
    /// Handles control frames with FIN=0 as if they were final.
    AcceptFragmentedControl,
    /// Answers pings and handles close frames with payloads over 125 bytes.
    AcceptLongControl,
    /// Echoes text messages without checking UTF-8 (close reasons are still checked).
    NoUtf8Validation,
    /// Validates UTF-8 only once the whole message is there (not per frame, not fail-fast).
    Utf8AtMessageEnd,
    /// Answers a close by echoing its code even when the code may not travel on the wire
    /// (0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999, 5000…) instead of failing (1002).
    EchoAnyCloseCode,
    /// Ignores close frames entirely and keeps the connection open.
    NeverAnswerClose,
    /// Answers a valid close with close code 1005, which must never be sent on the wire
    /// (RFC 6455 §7.4.1), instead of echoing the code.
    InvalidCloseReply,
    /// Never answers pings.
    NoPong,
    /// Drops the payload of the first continuation frame of each fragmented message.
    LoseFragment,
    /// Accepts a continuation frame with no message started (it starts a text message)
    /// and a new data frame inside a fragmented message (it continues the message).
    AcceptBadContinuation,
    /// Completes the closing handshake (or sends its failing close) but never closes
    /// TCP: it waits until the client drops the connection.
    KeepTcpAfterClose,
    /// Conformant, but when a ping arrives between the 3rd and 4th fragment of a
    /// fragmented text message (exactly three fragments received, the message not
    /// finished) it drops every connection and stops accepting new ones for the rest of
    /// its life. A planted bug for the network fuzzer: the trigger is structural (legal
    /// traffic, no magic bytes), so a structure-aware generator can reach it, and no
    /// catalogue case does it (Autobahn 5.19/5.20 ping after the 2nd and 4th fragment).
    CrashOnPattern,
    /// permessage-deflate: compresses with a 15-bit window whatever
    /// `server_max_window_bits` was agreed (RFC 7692 §7.1.2.1).
    DeflateWindowTooLarge,
    /// permessage-deflate: keeps its compression context from message to message
    /// although `server_no_context_takeover` was agreed (RFC 7692 §7.1.1.1).
    DeflateKeepsContext,
    /// permessage-deflate: sends each compressed echo as two frames with RSV1 on the
    /// continuation frame too (RFC 7692 §6.1: RSV1 only on the first frame).
    DeflateRsv1OnContinuation,
    /// permessage-deflate: the compressed echo is not valid DEFLATE (its first block
    /// has the reserved block type 11).
    DeflateCorrupt,
    /// permessage-deflate: sets RSV1 on echoes it leaves uncompressed (RFC 7692 §6:
    /// RSV1 marks a compressed message).
    DeflateRsv1Uncompressed,
    /// Declines every permessage-deflate offer, then compresses every echo anyway
    /// (RSV1 set without a negotiated extension, RFC 6455 §5.2).
    DeflateWhenDeclined,
}

impl Fault {
    /// Every fault, [`Fault::None`] first.
    pub const ALL: [Fault; 22] = [
        Fault::None,
        Fault::AcceptUnmasked,
        Fault::IgnoreRsv,
        Fault::AcceptReservedOpcodes,
        Fault::AcceptFragmentedControl,
        Fault::AcceptLongControl,
        Fault::NoUtf8Validation,
        Fault::Utf8AtMessageEnd,
        Fault::EchoAnyCloseCode,
        Fault::NeverAnswerClose,
        Fault::InvalidCloseReply,
        Fault::NoPong,
        Fault::LoseFragment,
        Fault::AcceptBadContinuation,
        Fault::KeepTcpAfterClose,
        Fault::CrashOnPattern,
        Fault::DeflateWindowTooLarge,
        Fault::DeflateKeepsContext,
        Fault::DeflateRsv1OnContinuation,
        Fault::DeflateCorrupt,
        Fault::DeflateRsv1Uncompressed,
        Fault::DeflateWhenDeclined,
    ];

    /// The faults about permessage-deflate (their servers always support it).
    pub fn is_deflate(self) -> bool {
        matches!(
            self,
            Fault::DeflateWindowTooLarge
                | Fault::DeflateKeepsContext
                | Fault::DeflateRsv1OnContinuation
                | Fault::DeflateCorrupt
                | Fault::DeflateRsv1Uncompressed
                | Fault::DeflateWhenDeclined
        )
    }
}

/// Hostile targets that do not speak WebSocket properly at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hostile {
    /// Accepts TCP, reads, never answers.
    Silent,
    /// A valid 101, then pseudo-random garbage (at most 64 MiB, or until the client goes
    /// away). The first byte has all RSV bits set, so it is never a valid frame stream.
    GarbageAfterHandshake,
    /// A valid 101, then closes TCP after reading the first 10 bytes of frames.
    DropMidCase,
    /// `HTTP/1.1 101 Switching Protocols`, then one header line that never ends,
    /// trickled in 1 KiB chunks until the client goes away.
    EndlessHeader,
    /// A valid 101, then a frame header declaring 2^62 payload bytes, then a trickle of
    /// payload bytes.
    HugeFrame,
    /// A valid 101, then empty pings as fast as the client reads them (at most 64 MiB),
    /// never reading the pongs.
    PingFlood,
}

/// A running faulty or hostile server (also the handshake-fault servers of
/// [`crate::faulty_hs`]); dropping it stops the accept loop and every connection.
pub struct FaultyServer {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl FaultyServer {
    /// `ws://127.0.0.1:PORT/`
    pub fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }

    /// Whether the server still accepts connections (it stops when it "dies").
    pub fn is_alive(&self) -> bool {
        !self.task.is_finished()
    }
}

impl Drop for FaultyServer {
    fn drop(&mut self) {
        // The accept task owns the JoinSet of connections: aborting it aborts them all.
        self.task.abort();
    }
}

/// Start an echo server with `fault` on 127.0.0.1 (ephemeral port); permessage-deflate
/// is supported only by the `Deflate…` faults.
pub async fn start(fault: Fault) -> std::io::Result<FaultyServer> {
    start_with(fault, fault.is_deflate()).await
}

/// [`start`], choosing whether the server supports permessage-deflate (the `Deflate…`
/// faults always do).
pub async fn start_with(fault: Fault, deflate: bool) -> std::io::Result<FaultyServer> {
    listen(Kind::Fault(fault, deflate || fault.is_deflate())).await
}

/// Start a hostile target on 127.0.0.1 (ephemeral port).
pub async fn start_hostile(h: Hostile) -> std::io::Result<FaultyServer> {
    listen(Kind::Hostile(h)).await
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    /// The fault, and whether permessage-deflate is supported.
    Fault(Fault, bool),
    Hostile(Hostile),
}

/// Start an echo server with `fault` on 127.0.0.1:`port` (0: an ephemeral port), e.g.
/// for `wsspec-testkit server --fault`, so other tools can use it.
pub async fn start_on(fault: Fault, port: u16) -> std::io::Result<FaultyServer> {
    start_on_with(fault, fault.is_deflate(), port).await
}

/// [`start_on`], choosing whether permessage-deflate is supported (as [`start_with`]).
pub async fn start_on_with(
    fault: Fault,
    deflate: bool,
    port: u16,
) -> std::io::Result<FaultyServer> {
    listen_on(Kind::Fault(fault, deflate || fault.is_deflate()), port).await
}

async fn listen(kind: Kind) -> std::io::Result<FaultyServer> {
    listen_on(kind, 0).await
}

async fn listen_on(kind: Kind, port: u16) -> std::io::Result<FaultyServer> {
    spawn_server_on(port, move |stream, death| async move {
        match kind {
            Kind::Fault(f, deflate) => serve(f, deflate, stream, death).await,
            Kind::Hostile(h) => hostile(h, stream).await,
        }
    })
    .await
}

/// Listen on 127.0.0.1 (ephemeral port) and serve each connection with
/// `serve(stream, death)`, at most [`MAX_CONNECTIONS`] at a time. Notifying `death`
/// kills the server: the listener is dropped (new connects are refused) and every
/// connection is aborted.
pub(crate) async fn spawn_server<F, Fut>(serve: F) -> std::io::Result<FaultyServer>
where
    F: Fn(TcpStream, Arc<Notify>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    spawn_server_on(0, serve).await
}

/// [`spawn_server`] on a given port (0: ephemeral).
async fn spawn_server_on<F, Fut>(port: u16, serve: F) -> std::io::Result<FaultyServer>
where
    F: Fn(TcpStream, Arc<Notify>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let death = Arc::new(Notify::new());
        let mut conns = JoinSet::new();
        loop {
            // Reap finished connections (bounded by the set's size).
            while conns.try_join_next().is_some() {}
            tokio::select! {
                // Returning drops the listener and the JoinSet.
                _ = death.notified() => return,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        if conns.len() < MAX_CONNECTIONS {
                            let _ = stream.set_nodelay(true);
                            conns.spawn(serve(stream, death.clone()));
                        }
                    }
                    Err(_) => sleep(Duration::from_millis(10)).await,
                },
            }
        }
    });
    Ok(FaultyServer { addr, task })
}

// ----- opening handshake ---------------------------------------------------------

/// Read the opening request (bounded in size and time). Returns the key, the offered
/// extensions (none when the header does not parse) and the bytes that followed the
/// head, or `None` after answering 400 / when the peer went away.
async fn read_request(
    stream: &mut TcpStream,
) -> Option<(String, Vec<extensions::Extension>, Vec<u8>)> {
    let work = async {
        let mut buf = Vec::with_capacity(1024);
        let mut chunk = [0u8; 4096];
        // Each round adds at least one byte and the head is limited to MAX_HEAD bytes.
        loop {
            match handshake::parse_request(&buf, MAX_HEAD) {
                Ok(Some(req)) => return Some((req, buf)),
                Ok(None) => {}
                Err(_) => return None,
            }
            let n = stream.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            buf.extend_from_slice(chunk.get(..n)?);
        }
    };
    let (req, buf) = timeout(HANDSHAKE_TIMEOUT, work).await.ok().flatten()?;
    let key = req.header("Sec-WebSocket-Key").map(str::trim).unwrap_or("");
    let upgrade = req
        .header("Upgrade")
        .is_some_and(|u| u.to_ascii_lowercase().contains("websocket"));
    if req.method != "GET" || key.is_empty() || !upgrade {
        let _ = write_all(
            stream,
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )
        .await;
        return None;
    }
    let leftover = buf.get(req.head_len..).unwrap_or_default().to_vec();
    let offers =
        extensions::parse_all(req.headers_named("Sec-WebSocket-Extensions")).unwrap_or_default();
    Some((key.to_string(), offers, leftover))
}

/// `write_all` bounded by [`WRITE_TIMEOUT`]; false if it failed or timed out.
async fn write_all(stream: &mut TcpStream, bytes: &[u8]) -> bool {
    matches!(
        timeout(WRITE_TIMEOUT, stream.write_all(bytes)).await,
        Ok(Ok(()))
    )
}

/// Read and discard until EOF, an error, or `limit` has passed.
async fn drain(stream: &mut TcpStream, limit: Duration) {
    let deadline = Instant::now() + limit;
    let mut buf = [0u8; 4096];
    while let Ok(Ok(n)) = timeout_at(deadline, stream.read(&mut buf)).await {
        if n == 0 {
            break;
        }
    }
}

// ----- the echo server -----------------------------------------------------------

/// What to do after handling some input.
enum Next {
    /// Keep reading.
    Go,
    /// Fail the connection with this close code.
    Fail(u16),
    /// The closing handshake is complete (our close was sent): close TCP.
    Closed,
    /// Drop TCP at once, without a close frame.
    Drop,
}

/// How a frame fits the message stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Starts a data message with this opcode.
    Start(u8),
    /// Continues the open message.
    Continue,
    /// Ping, pong or close.
    Control,
    /// Ignored ([`Fault::AcceptReservedOpcodes`]).
    Skip,
}

/// The data message being received.
struct Msg {
    opcode: u8,
    /// RSV1 on its first frame with permessage-deflate negotiated: `buf` holds
    /// compressed bytes.
    compressed: bool,
    buf: Vec<u8>,
    /// Frames received so far.
    frames: usize,
}

/// The frame whose payload is still arriving (for fail-fast UTF-8 inside a frame).
#[derive(Debug, Default)]
struct Partial {
    /// Header length (with extended length and mask key), once known.
    hdr_len: Option<usize>,
    key: Option<[u8; 4]>,
    /// Bytes of the frame (from its first header byte) no longer kept in `mirror`.
    skipped: usize,
    /// Payload bytes already fed to the UTF-8 validator.
    fed: usize,
}

struct Conn {
    fault: Fault,
    stream: TcpStream,
    decoder: FrameDecoder,
    msg: Option<Msg>,
    utf8: Utf8Validator,
    /// The decoder's unread bytes, minus the first `partial.skipped` ones: lets us see
    /// the payload of a frame that has only partly arrived.
    mirror: Vec<u8>,
    partial: Partial,
    crash: Arc<Notify>,
    /// permessage-deflate as negotiated (`None`: declined or not offered).
    pmd: Option<PmdParams>,
    /// Client-to-server context, when negotiated.
    inflater: Option<Inflater>,
    /// Server-to-client context: when negotiated, or always with
    /// [`Fault::DeflateWhenDeclined`].
    deflater: Option<Deflater>,
}

/// Serve one connection of an echo server with `fault` (`deflate`: permessage-deflate
/// supported).
async fn serve(fault: Fault, deflate: bool, mut stream: TcpStream, crash: Arc<Notify>) {
    let Some((key, offers, leftover)) = read_request(&mut stream).await else {
        return;
    };
    let server = format!("wsspec-faulty ({fault:?})");
    let mut headers = vec![("Server".to_string(), server)];
    // zlib cannot compress with a 256-byte window: offers asking for 8 are declined.
    let policy = ServerPolicy {
        min_server_window_bits: 9,
        request_client_no_context_takeover: false,
    };
    let pmd = if deflate && fault != Fault::DeflateWhenDeclined {
        extensions::negotiate_with(&offers, &policy)
    } else {
        None
    };
    if let Some(p) = pmd {
        headers.push((
            "Sec-WebSocket-Extensions".to_string(),
            p.to_extension().to_string(),
        ));
    }
    let deflater = match (pmd, fault) {
        (_, Fault::DeflateWhenDeclined) => Some(Deflater::new(None, false)),
        (Some(p), Fault::DeflateWindowTooLarge) => {
            Some(Deflater::new(Some(15), p.server_no_context_takeover))
        }
        (Some(p), Fault::DeflateKeepsContext) => {
            Some(Deflater::new(p.server_max_window_bits, false))
        }
        (Some(p), _) => Some(Deflater::new(
            p.server_max_window_bits,
            p.server_no_context_takeover,
        )),
        (None, _) => None,
    };
    let inflater =
        pmd.map(|p| Inflater::new(p.client_max_window_bits, p.client_no_context_takeover));
    let response = handshake::build_response(&key, &headers);
    if !write_all(&mut stream, &response).await {
        return;
    }
    let mut c = Conn {
        fault,
        stream,
        decoder: FrameDecoder::new(MAX_MESSAGE),
        msg: None,
        utf8: Utf8Validator::new(),
        mirror: Vec::new(),
        partial: Partial::default(),
        crash,
        pmd,
        inflater,
        deflater,
    };
    let mut next = if leftover.is_empty() {
        Next::Go
    } else {
        c.on_bytes(&leftover).await
    };
    let mut buf = vec![0u8; 64 * 1024];
    // Ends on EOF, error, idle timeout or when the protocol says so.
    while let Next::Go = next {
        next = match timeout(IDLE_TIMEOUT, c.stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => match buf.get(..n) {
                Some(data) => c.on_bytes(data).await,
                None => Next::Drop,
            },
            _ => Next::Drop,
        };
    }
    match next {
        Next::Fail(code) => {
            let close = encode_frame(true, 0, 8, None, Length::Minimal, &code.to_be_bytes());
            if write_all(&mut c.stream, &close).await {
                c.finish().await;
            }
        }
        Next::Closed => c.finish().await,
        Next::Go | Next::Drop => {}
    }
}

impl Conn {
    /// After our close frame went out: close TCP (send FIN, then read until the peer's
    /// EOF so no reset is sent), or with [`Fault::KeepTcpAfterClose`] keep it open
    /// until the client drops it.
    async fn finish(&mut self) {
        if self.fault == Fault::KeepTcpAfterClose {
            drain(&mut self.stream, KEEP_TCP_LIMIT).await;
            return;
        }
        let _ = timeout(Duration::from_secs(1), self.stream.shutdown()).await;
        drain(&mut self.stream, LINGER).await;
    }

    async fn send(&mut self, opcode: u8, payload: &[u8]) -> Next {
        let bytes = encode_frame(true, 0, opcode, None, Length::Minimal, payload);
        if write_all(&mut self.stream, &bytes).await {
            Next::Go
        } else {
            Next::Drop
        }
    }

    /// Judge a frame header (complete frame or still arriving) against the rules this
    /// server keeps. `Err(code)`: fail the connection.
    fn check_header(
        &self,
        fin: bool,
        rsv: u8,
        opcode: u8,
        masked: bool,
        len: u64,
    ) -> Result<Role, u16> {
        use wsspec::rules::receive::{broken, Header, Rule, RxState};
        let f = self.fault;
        // wsspec's receive rules, as a server; each fault waives the one it breaks.
        let header = Header {
            fin,
            rsv,
            opcode,
            masked,
            len,
            minimal_length: true,
        };
        let state = RxState {
            role: wsspec::rules::Role::Server,
            deflate: self.pmd.is_some(),
            in_message: self.msg.is_some(),
        };
        for (rule, _) in broken(&header, state) {
            let waived = match rule {
                Rule::Masking => f == Fault::AcceptUnmasked,
                Rule::Rsv => f == Fault::IgnoreRsv,
                Rule::ReservedOpcode => f == Fault::AcceptReservedOpcodes,
                Rule::FragmentedControl => f == Fault::AcceptFragmentedControl,
                Rule::LongControl => f == Fault::AcceptLongControl,
                Rule::ContinuationOutsideMessage | Rule::DataInsideMessage => {
                    f == Fault::AcceptBadContinuation
                }
                // The close handler answers a 1-byte close with 1002 itself.
                Rule::CloseLengthOne | Rule::LengthEncoding => true,
            };
            if !waived {
                return Err(1002);
            }
        }
        let role = match opcode {
            // Only with AcceptReservedOpcodes: skipped unread.
            3..=7 | 11..=15 => return Ok(Role::Skip),
            8..=10 => return Ok(Role::Control),
            0 => match self.msg {
                Some(_) => Role::Continue,
                // Only with AcceptBadContinuation.
                None => Role::Start(1),
            },
            _ => match self.msg {
                None => Role::Start(opcode),
                // Only with AcceptBadContinuation.
                Some(_) => Role::Continue,
            },
        };
        let so_far = match (role, &self.msg) {
            (Role::Continue, Some(m)) => m.buf.len() as u64,
            _ => 0,
        };
        if so_far.saturating_add(len) > MAX_MESSAGE {
            return Err(1009);
        }
        Ok(role)
    }

    /// Whether UTF-8 is checked frame by frame (and inside frames) as data arrives.
    fn validates_as_it_goes(&self) -> bool {
        !matches!(
            self.fault,
            Fault::NoUtf8Validation | Fault::Utf8AtMessageEnd
        )
    }

    /// Whether a frame in `role` is the first continuation [`Fault::LoseFragment`] drops.
    fn is_lost(&self, role: Role) -> bool {
        self.fault == Fault::LoseFragment
            && role == Role::Continue
            && self.msg.as_ref().is_some_and(|m| m.frames == 1)
    }

    /// Whether a frame in `role` with these RSV bits belongs to a compressed message.
    fn is_compressed(&self, role: Role, rsv: u8) -> bool {
        match role {
            Role::Start(_) => rsv == 4 && self.pmd.is_some(),
            Role::Continue => self.msg.as_ref().is_some_and(|m| m.compressed),
            Role::Control | Role::Skip => false,
        }
    }

    /// Whether the payload of a frame in `role` is text to validate as it arrives
    /// (compressed text is validated once inflated).
    fn is_checked_text(&self, role: Role, rsv: u8) -> bool {
        let text = match role {
            Role::Start(op) => op == 1,
            Role::Continue => self.msg.as_ref().is_some_and(|m| m.opcode == 1),
            Role::Control | Role::Skip => false,
        };
        text && self.validates_as_it_goes() && !self.is_lost(role) && !self.is_compressed(role, rsv)
    }

    /// Bytes from the peer: handle every complete frame, then look at a partial one.
    async fn on_bytes(&mut self, data: &[u8]) -> Next {
        self.decoder.push(data);
        self.mirror.extend_from_slice(data);
        // Bounded by the frames buffered in the decoder.
        loop {
            match self.decoder.next_frame() {
                Err(_) => return Next::Fail(1009),
                Ok(None) => break,
                Ok(Some(frame)) => {
                    let fed = std::mem::take(&mut self.partial).fed;
                    match self.on_frame(frame, fed).await {
                        Next::Go => {}
                        other => return other,
                    }
                }
            }
        }
        self.on_partial()
    }

    /// The frame still arriving: judge its header as soon as it is there and validate
    /// the text received so far (fail-fast inside a frame).
    fn on_partial(&mut self) -> Next {
        // Keep only the unread bytes (minus the skipped ones) in the mirror.
        let keep = self.decoder.buffered().saturating_sub(self.partial.skipped);
        let excess = self.mirror.len().saturating_sub(keep);
        if excess > 0 {
            self.mirror.drain(..excess);
        }
        let Some((fin, rsv, opcode, masked, len)) = self.decoder.pending_header() else {
            return Next::Go;
        };
        let role = match self.check_header(fin, rsv, opcode, masked, len) {
            Ok(r) => r,
            Err(code) => return Next::Fail(code),
        };
        let hdr_len = match self.partial.hdr_len {
            Some(h) => h,
            None => {
                // Nothing was skipped yet: the mirror starts with the frame's header.
                let Some(&b1) = self.mirror.get(1) else {
                    return Next::Go;
                };
                let ext = match b1 & 0x7f {
                    126 => 2,
                    127 => 8,
                    _ => 0,
                };
                let h = 2 + ext + if masked { 4 } else { 0 };
                self.partial.key = if masked {
                    self.mirror
                        .get(h - 4..h)
                        .and_then(|k| <[u8; 4]>::try_from(k).ok())
                } else {
                    None
                };
                self.partial.hdr_len = Some(h);
                h
            }
        };
        if self.is_checked_text(role, rsv) {
            let start = hdr_len.saturating_sub(self.partial.skipped);
            let mut bytes = self.mirror.get(start..).unwrap_or_default().to_vec();
            if !bytes.is_empty() {
                if let Some(key) = self.partial.key {
                    apply_mask(&mut bytes, key, self.partial.fed);
                }
                if matches!(role, Role::Start(_)) && self.partial.fed == 0 {
                    self.utf8.reset();
                }
                self.partial.fed = self.partial.fed.saturating_add(bytes.len());
                if let Utf8Status::Invalid { .. } = self.utf8.feed(&bytes) {
                    return Next::Fail(1007);
                }
            }
        }
        // The header is known: the mirror need not keep this frame's bytes any more.
        self.partial.skipped = self.partial.skipped.saturating_add(self.mirror.len());
        self.mirror.clear();
        Next::Go
    }

    /// A complete frame; `fed` of its payload bytes were already validated as UTF-8.
    async fn on_frame(&mut self, f: Frame, fed: usize) -> Next {
        let role = match self.check_header(
            f.fin,
            f.rsv,
            f.opcode,
            f.mask.is_some(),
            f.payload.len() as u64,
        ) {
            Ok(r) => r,
            Err(code) => return Next::Fail(code),
        };
        match role {
            Role::Skip => Next::Go,
            Role::Control => self.on_control(f).await,
            Role::Start(_) | Role::Continue => self.on_data(role, f, fed).await,
        }
    }

    async fn on_control(&mut self, f: Frame) -> Next {
        let after_third_text_fragment = self
            .msg
            .as_ref()
            .is_some_and(|m| m.opcode == 1 && m.frames == 3);
        if self.fault == Fault::CrashOnPattern && f.opcode == 9 && after_third_text_fragment {
            self.crash.notify_one();
            return Next::Drop;
        }
        match f.opcode {
            8 => self.on_close(&f.payload).await,
            9 if self.fault != Fault::NoPong => self.send(10, &f.payload).await,
            _ => Next::Go,
        }
    }

    async fn on_close(&mut self, payload: &[u8]) -> Next {
        if self.fault == Fault::NeverAnswerClose {
            return Next::Go;
        }
        let code = match payload {
            [] => None,
            [_] => return Next::Fail(1002),
            [a, b, ..] => Some(u16::from_be_bytes([*a, *b])),
        };
        if let Some(c) = code {
            if !close_code::is_valid_on_wire(c) && self.fault != Fault::EchoAnyCloseCode {
                return Next::Fail(1002);
            }
        }
        if std::str::from_utf8(payload.get(2..).unwrap_or_default()).is_err() {
            return Next::Fail(1007);
        }
        let reply = match self.fault {
            Fault::InvalidCloseReply => Some(1005u16.to_be_bytes()),
            _ => code.map(u16::to_be_bytes),
        };
        match self
            .send(8, reply.as_ref().map_or(&[][..], |r| &r[..]))
            .await
        {
            Next::Go => Next::Closed,
            other => other,
        }
    }

    async fn on_data(&mut self, role: Role, f: Frame, fed: usize) -> Next {
        let lost = self.is_lost(role);
        let checked = self.is_checked_text(role, f.rsv);
        let compressed = self.is_compressed(role, f.rsv);
        let mut msg = match (role, self.msg.take()) {
            (Role::Start(opcode), _) => Msg {
                opcode,
                compressed,
                buf: Vec::new(),
                frames: 0,
            },
            (_, Some(m)) => m,
            // check_header only says Continue when a message is open.
            (_, None) => return Next::Fail(1002),
        };
        msg.frames = msg.frames.saturating_add(1);
        let payload: &[u8] = if lost { &[] } else { &f.payload };
        if checked {
            if matches!(role, Role::Start(_)) && fed == 0 {
                self.utf8.reset();
            }
            if let Utf8Status::Invalid { .. } =
                self.utf8.feed(payload.get(fed..).unwrap_or_default())
            {
                return Next::Fail(1007);
            }
        }
        msg.buf.extend_from_slice(payload);
        if !f.fin {
            self.msg = Some(msg);
            return Next::Go;
        }
        if msg.compressed {
            match self.inflate(&msg.buf) {
                Ok(plain) => msg.buf = plain,
                Err(code) => return Next::Fail(code),
            }
        }
        if msg.opcode == 1 {
            let valid = match self.fault {
                Fault::NoUtf8Validation => true,
                Fault::Utf8AtMessageEnd => std::str::from_utf8(&msg.buf).is_ok(),
                _ if msg.compressed => std::str::from_utf8(&msg.buf).is_ok(),
                _ => self.utf8.status() == (Utf8Status::Valid { complete: true }),
            };
            if !valid {
                return Next::Fail(1007);
            }
        }
        self.echo(msg.opcode, &msg.buf).await
    }

    /// Inflate one whole compressed client message (at most [`MAX_MESSAGE`] bytes);
    /// `Err(code)`: fail the connection.
    fn inflate(&mut self, data: &[u8]) -> Result<Vec<u8>, u16> {
        let Some(inf) = self.inflater.as_mut() else {
            return Err(1002);
        };
        let limit = usize::try_from(MAX_MESSAGE).unwrap_or(usize::MAX);
        let mut out = Vec::new();
        inf.start_message();
        let mut sink = |c: &[u8]| out.extend_from_slice(c);
        inf.feed(data, limit, &mut sink)
            .and_then(|()| inf.end_message(limit, &mut sink))
            .map_err(|e| match e {
                InflateError::TooLarge { .. } => 1009u16,
                _ => 1007,
            })?;
        Ok(out)
    }

    /// Echo a complete message: compressed when a compressor is in use (with the
    /// `Deflate…` fault applied), else as one plain frame.
    async fn echo(&mut self, opcode: u8, payload: &[u8]) -> Next {
        let fault = self.fault;
        let Some(d) = self.deflater.as_mut() else {
            return self.send(opcode, payload).await;
        };
        let mut body = match fault {
            Fault::DeflateRsv1Uncompressed => payload.to_vec(),
            _ => d.message(payload),
        };
        if fault == Fault::DeflateCorrupt {
            // BTYPE = 11 (reserved) in the first block header.
            if let Some(b) = body.first_mut() {
                *b |= 0b110;
            }
        }
        let bytes = if fault == Fault::DeflateRsv1OnContinuation {
            let (a, b) = body.split_at(body.len().div_ceil(2));
            let mut v = encode_frame(false, 4, opcode, None, Length::Minimal, a);
            v.extend_from_slice(&encode_frame(true, 4, 0, None, Length::Minimal, b));
            v
        } else {
            encode_frame(true, 4, opcode, None, Length::Minimal, &body)
        };
        if write_all(&mut self.stream, &bytes).await {
            Next::Go
        } else {
            Next::Drop
        }
    }
}

// ----- hostile targets -----------------------------------------------------------

async fn hostile(h: Hostile, mut stream: TcpStream) {
    if h == Hostile::Silent {
        drain(&mut stream, HOSTILE_MAX_TIME).await;
        return;
    }
    let Some((key, _, leftover)) = read_request(&mut stream).await else {
        return;
    };
    match h {
        Hostile::Silent => {}
        Hostile::EndlessHeader => {
            if write_all(
                &mut stream,
                b"HTTP/1.1 101 Switching Protocols\r\nX-Endless: ",
            )
            .await
            {
                repeat(&mut stream, &[b'a'; 1024], Duration::from_millis(10)).await;
            }
        }
        Hostile::GarbageAfterHandshake => {
            if write_all(&mut stream, &handshake::build_response(&key, &[])).await {
                garbage(&mut stream, &key).await;
            }
        }
        Hostile::DropMidCase => {
            if !write_all(&mut stream, &handshake::build_response(&key, &[])).await {
                return;
            }
            let mut got = leftover.len();
            let deadline = Instant::now() + Duration::from_secs(10);
            let mut buf = [0u8; 10];
            // At most 10 rounds: each reads at least one byte.
            while got < 10 {
                let want = buf.get_mut(..10 - got).unwrap_or_default();
                match timeout_at(deadline, stream.read(want)).await {
                    Ok(Ok(n)) if n > 0 => got += n,
                    _ => break,
                }
            }
            // Dropping the stream closes TCP mid-case.
        }
        Hostile::HugeFrame => {
            if !write_all(&mut stream, &handshake::build_response(&key, &[])).await {
                return;
            }
            let mut header = vec![0x82, 127];
            header.extend_from_slice(&(1u64 << 62).to_be_bytes());
            if write_all(&mut stream, &header).await {
                repeat(&mut stream, &[0xab; 1024], Duration::from_millis(10)).await;
            }
        }
        Hostile::PingFlood => {
            if write_all(&mut stream, &handshake::build_response(&key, &[])).await {
                repeat(&mut stream, &[0x89, 0x00].repeat(8192), Duration::ZERO).await;
            }
        }
    }
}

/// Write `chunk` again and again, `pause` apart, until the client goes away, a write
/// stalls for 30 s, or the byte/time bounds are reached.
async fn repeat(stream: &mut TcpStream, chunk: &[u8], pause: Duration) {
    let deadline = Instant::now() + HOSTILE_MAX_TIME;
    let mut sent = 0usize;
    while sent < HOSTILE_MAX_BYTES && Instant::now() < deadline {
        // A client that reads slowly (a loaded machine, a debug build) is not one that
        // stopped reading: only a long stall ends the flood early.
        match timeout(Duration::from_secs(30), stream.write_all(chunk)).await {
            Ok(Ok(())) => sent += chunk.len(),
            _ => return,
        }
        if !pause.is_zero() {
            sleep(pause).await;
        }
    }
}

/// Pseudo-random bytes (xorshift64*, seeded from the client's key) in 16 KiB writes,
/// the very first byte being `0xff` (FIN, all RSV bits, opcode 15).
async fn garbage(stream: &mut TcpStream, key: &str) {
    let mut state = key.bytes().fold(0x9e37_79b9_7f4a_7c15u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    }) | 1;
    let deadline = Instant::now() + HOSTILE_MAX_TIME;
    let mut chunk = vec![0u8; 16 << 10];
    let mut sent = 0usize;
    while sent < HOSTILE_MAX_BYTES && Instant::now() < deadline {
        for b in chunk.iter_mut() {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            *b = (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8;
        }
        if sent == 0 {
            if let Some(first) = chunk.first_mut() {
                *first = 0xff;
            }
        }
        match timeout(Duration::from_secs(5), stream.write_all(&chunk)).await {
            Ok(Ok(())) => sent += chunk.len(),
            _ => return,
        }
    }
}
