//! Plays one case over one open connection, as Autobahn's fuzzing client does: runs
//! the steps and timers, parses the peer's frames with a strict RFC 6455 receive path,
//! answers pings, records the observed events and keeps the close bookkeeping.
//!
//! Writes go through a separate writer task, so a peer that stops reading can never
//! block the reader (and with it the timers). Every wait is bounded: the case timers,
//! the close-handshake and server-drop timeouts, and a hard limit per case.

use super::conn::Io;
use super::session::Session;
use super::trace::Recorder;
use crate::case::{
    Case, EchoCheck, Event, Fingerprint, Length, Mask, MessageStep, Payload, RoundTripStep, Step,
    EXCERPT, KEEP_WHOLE,
};
use crate::report::model::{CloseInfo, Dir, Throughput, Verdict};
use crate::rules::receive::{self, RxState};
use crate::rules::Role;
use crate::wire::close_code;
use crate::wire::deflate::{Deflater, InflateError, Inflater};
use crate::wire::frame::{apply_mask, encode_frame, encode_header, FrameDecoder};
use crate::wire::utf8::{Utf8Status, Utf8Validator};
use sha1::Digest;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant};

/// Connection state as Autobahn's protocol engine tracks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Open,
    /// A close frame was sent (first or as reply).
    Closing,
    Closed,
}

/// Limits and timeouts the player needs.
#[derive(Debug, Clone)]
pub struct PlayLimits {
    pub close_handshake_timeout: Duration,
    pub server_drop_timeout: Duration,
    pub max_message: u64,
    /// Hard limit for the whole case, whatever the peer does.
    pub hard_limit: Duration,
    /// Frames the peer may send in this case (see [`budget`]).
    pub max_frames_in: u64,
    /// Payload bytes (inflated ones included) the peer may send in this case.
    pub max_bytes_in: u64,
}

/// What a peer may send in one case: frames and payload bytes. Each frame may cost an
/// event or a queued pong, so a flood fails the connection (1008) instead of growing
/// memory. The base allowance is scaled by what the case itself sends, since a
/// conformant peer echoes it (possibly frame by frame, as 9.3.1's 65,537 frames).
/// The one place these bounds are decided.
pub fn budget(case: &Case) -> (u64, u64) {
    const BASE_FRAMES: u64 = 100_000;
    const BASE_BYTES: u64 = 256 << 20;
    let (mut frames, mut bytes) = (0u64, 0u64);
    let mut message = |m: &MessageStep, times: u64| {
        let len = match &m.payload {
            Payload::Dataset { len, .. } => (*len as u64).saturating_mul(4),
            Payload::Repeat { len, .. } | Payload::RepeatHex { len, .. } => *len as u64,
            p => p.bytes().len() as u64,
        };
        let per = m.fragment_size.map_or(1, |f| len / f.max(1) as u64 + 1);
        frames = frames.saturating_add(per.saturating_mul(times));
        bytes = bytes.saturating_add(len.saturating_mul(times));
    };
    for s in &case.steps {
        match s {
            Step::Message(m) => message(m, 1),
            Step::RoundTrips(r) => message(&r.message, r.count as u64),
            _ => {}
        }
    }
    (
        BASE_FRAMES.saturating_add(frames.saturating_mul(2)),
        BASE_BYTES.saturating_add(bytes.saturating_mul(2)),
    )
}

/// What playing produced.
pub struct Played {
    pub events: Vec<Event>,
    /// A verdict the steps decided themselves (round trips), with its reason.
    pub verdict: Option<(Verdict, String)>,
    /// Round-trip figures, when the case had round trips.
    pub throughput: Option<Throughput>,
    pub close: CloseInfo,
    /// When the opening handshake completed / when TCP closed.
    pub opened_at: Instant,
    pub closed_at: Instant,
}

/// Pause between the pieces of a chopped or `sync` write. Autobahn re-enters its
/// reactor between pieces; how fast the next piece follows decides whether a peer
/// answers a valid frame before it sees the bad one after it (3.4, 4.1.5, 4.2.5).
const PIECE_GAP: Duration = Duration::from_micros(50);

/// A write cut into more pieces than this (section 9's chopped megabyte: 16,384
/// pieces) goes out piece after piece with one task yield in between and no pause:
/// each piece is still a write of its own, but the pauses would cost close to a second
/// per case and the timing-sensitive cases all write a few dozen pieces.
const PAUSED_PIECES: usize = 256;

/// Bytes queued for the writer beyond which a `repeat` step waits for it to catch up
/// (the 80 MiB of `security/over-limit-fragments` would otherwise sit in memory while a
/// peer that stopped reading lets them drain). A single frame or message is queued
/// whole whatever its size.
const QUEUE_HIGH: usize = 4 << 20;

/// Bytes queued for the writer: added when queued, taken off when written; the writer
/// wakes a waiting `repeat` after each write.
#[derive(Default)]
struct Backlog {
    bytes: std::sync::atomic::AtomicUsize,
    drained: tokio::sync::Notify,
}

impl Backlog {
    fn add(&self, n: usize) {
        self.bytes
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }
    fn done(&self, n: usize) {
        self.bytes
            .fetch_sub(n, std::sync::atomic::Ordering::Relaxed);
        self.drained.notify_one();
    }
    fn get(&self) -> usize {
        self.bytes.load(std::sync::atomic::Ordering::Relaxed)
    }
}

enum WriteCmd {
    /// Bytes to write; with `chop`, in pieces each written separately.
    Data {
        bytes: Vec<u8>,
        chop: Option<usize>,
        sync: bool,
    },
}

/// Writer task: performs writes in order; reports the first error and then stops.
async fn writer(
    mut w: WriteHalf<Box<dyn Io>>,
    mut rx: mpsc::UnboundedReceiver<WriteCmd>,
    err: mpsc::UnboundedSender<String>,
    backlog: Arc<Backlog>,
) {
    while let Some(WriteCmd::Data { bytes, chop, sync }) = rx.recv().await {
        let pieces: Vec<&[u8]> = match chop {
            Some(n) if n > 0 => bytes.chunks(n).collect(),
            _ => vec![&bytes[..]],
        };
        let paused = pieces.len() <= PAUSED_PIECES;
        for piece in pieces {
            if let Err(e) = w.write_all(piece).await {
                let _ = err.send(format!("write failed: {e}"));
                return;
            }
            if chop.is_some() || sync {
                let _ = w.flush().await;
                if paused {
                    // Each piece leaves as its own segment, a short while after the
                    // previous one, like Autobahn's queued writes (one reactor turn each).
                    let until = std::time::Instant::now() + PIECE_GAP;
                    while std::time::Instant::now() < until {
                        tokio::task::yield_now().await;
                    }
                } else {
                    tokio::task::yield_now().await;
                }
            }
        }
        let _ = w.flush().await;
        backlog.done(bytes.len());
    }
    let _ = w.shutdown().await;
}

/// A data message being received: checked and digested as its frames arrive, never
/// kept whole once longer than [`KEEP_WHOLE`].
struct Incoming {
    opcode: u8,
    compressed: bool,
    /// Bytes on the wire so far (compressed ones for a compressed message).
    wire_len: u64,
    /// Message bytes so far (inflated).
    len: u64,
    sha1: sha1::Sha1,
    /// The whole message while it is short.
    whole: Option<Vec<u8>>,
    head: Vec<u8>,
    tail: Vec<u8>,
    /// Offset of the first invalid UTF-8 octet (text messages).
    bad_utf8: Option<usize>,
}

impl Incoming {
    fn new(opcode: u8, compressed: bool) -> Incoming {
        Incoming {
            opcode,
            compressed,
            wire_len: 0,
            len: 0,
            sha1: sha1::Sha1::new(),
            whole: Some(Vec::new()),
            head: Vec::new(),
            tail: Vec::new(),
            bad_utf8: None,
        }
    }

    /// Message bytes arrived (after inflating, if compressed).
    fn push(&mut self, data: &[u8], utf8: &mut Utf8Validator) {
        if self.opcode == 1 && self.bad_utf8.is_none() {
            if let Utf8Status::Invalid { at } = utf8.feed(data) {
                self.bad_utf8 = Some(at);
            }
        }
        self.len += data.len() as u64;
        self.sha1.update(data);
        if let Some(w) = &mut self.whole {
            if w.len() + data.len() <= KEEP_WHOLE {
                w.extend_from_slice(data);
            } else {
                self.whole = None;
            }
        }
        if self.head.len() < EXCERPT {
            let n = (EXCERPT - self.head.len()).min(data.len());
            self.head.extend_from_slice(&data[..n]);
        }
        let keep = data.len().min(EXCERPT);
        self.tail.extend_from_slice(&data[data.len() - keep..]);
        if self.tail.len() > 2 * EXCERPT {
            self.tail.drain(..self.tail.len() - EXCERPT);
        }
    }

    fn finish(self) -> (Fingerprint, Payload) {
        let sha1: [u8; 20] = self.sha1.finalize().into();
        let tail = &self.tail[self.tail.len().saturating_sub(EXCERPT)..];
        let payload = Payload::received(self.len, sha1, self.whole.as_deref(), &self.head, tail);
        (
            Fingerprint {
                len: self.len,
                sha1,
            },
            payload,
        )
    }
}

/// Sequential round trips in progress.
struct RoundTrips<'a> {
    spec: &'a RoundTripStep,
    /// Messages sent so far (the last one is in flight).
    sent: u32,
    /// What the echo of the message in flight must be: binary, fingerprint.
    expect: (bool, Fingerprint),
    deadline: Instant,
    started: Instant,
    bytes_out: u64,
    bytes_in: u64,
}
struct Player<'a> {
    case: &'a Case,
    lim: PlayLimits,
    rec: &'a mut Recorder,
    state: State,
    book: CloseInfo,
    events: Vec<Event>,
    decoder: FrameDecoder,
    /// The message being received.
    msg: Option<Incoming>,
    /// wsspec's role on this connection.
    role: Role,
    /// permessage-deflate was negotiated.
    deflate: bool,
    /// Inflate context for the peer's messages (kept across messages unless the
    /// peer's direction was negotiated `*_no_context_takeover`), when deflate was
    /// negotiated.
    inflater: Option<Inflater>,
    /// Compression context for wsspec's messages.
    deflater: Option<Deflater>,
    /// Round trips under way.
    rt: Option<RoundTrips<'a>>,
    verdict: Option<(Verdict, String)>,
    throughput: Option<Throughput>,
    utf8: Utf8Validator,
    /// After a framing error nothing more from the peer can be trusted.
    rx_poisoned: bool,
    tx: mpsc::UnboundedSender<WriteCmd>,
    backlog: Arc<Backlog>,
    /// A `repeat` step waits for the writer (see [`QUEUE_HIGH`]) after this many rounds.
    repeat_done: Option<u32>,
    write_broken: bool,
    // Steps and timers.
    step: usize,
    resume_at: Option<Instant>,
    pending_tag: Option<Option<String>>,
    /// The masking key and offset of a frame whose payload is being streamed.
    stream: Option<(Option<[u8; 4]>, usize)>,
    kill_at: Option<Instant>,
    close_at: Option<Instant>,
    close_hs_at: Option<Instant>,
    drop_at: Option<Instant>,
    /// Whether `drop_at` waits after a closing handshake the tester started.
    drop_after_my_close: bool,
    hard_at: Instant,
    drop_now: bool,
    /// wsspec (as server) closes TCP after a completed closing handshake: queued
    /// writes go out first.
    graceful_drop: bool,
    read_paused_until: Option<Instant>,
    /// Frames and payload bytes received (see [`MAX_FRAMES_IN`], [`MAX_BYTES_IN`]).
    frames_in: u64,
    bytes_in: u64,
    /// Plain writes not yet handed to the writer task.
    pending: Vec<u8>,
    /// Masking keys of the peer's first frames (wsspec as server), for
    /// [`crate::case::Expect::fresh_masks`].
    mask_keys: Vec<[u8; 4]>,
    mask_issue: Option<String>,
}

/// Run `case` on an opened connection, in the session's role.
pub async fn play(session: Session, case: &Case, lim: PlayLimits, rec: &mut Recorder) -> Played {
    let Session {
        io,
        leftover,
        deflate,
        role,
        preamble,
    } = session;
    let (mut reader, w): (ReadHalf<Box<dyn Io>>, _) = tokio::io::split(io);
    let (tx, rx) = mpsc::unbounded_channel();
    let (err_tx, mut err_rx) = mpsc::unbounded_channel();
    let backlog = Arc::new(Backlog::default());
    let writer_task = tokio::spawn(writer(w, rx, err_tx, Arc::clone(&backlog)));
    let opened_at = Instant::now();
    rec.opened();
    let inflater = deflate.map(|p| {
        let (bits, reset) = role.inflate_params(&p);
        Inflater::new(bits, reset)
    });
    let deflater = deflate.map(|p| {
        let (bits, reset) = role.deflate_params(&p);
        Deflater::new(bits, reset)
    });
    let mut p = Player {
        case,
        role,
        deflate: deflate.is_some(),
        hard_at: opened_at + lim.hard_limit,
        decoder: FrameDecoder::new(lim.max_message),
        lim,
        rec,
        state: State::Open,
        book: CloseInfo::default(),
        events: Vec::new(),
        msg: None,
        inflater,
        deflater,
        rt: None,
        verdict: None,
        throughput: None,
        utf8: Utf8Validator::new(),
        rx_poisoned: false,
        tx,
        backlog: Arc::clone(&backlog),
        repeat_done: None,
        write_broken: false,
        step: 0,
        resume_at: None,
        pending_tag: None,
        stream: None,
        kill_at: None,
        close_at: None,
        close_hs_at: None,
        drop_at: None,
        drop_after_my_close: false,
        drop_now: false,
        graceful_drop: false,
        read_paused_until: None,
        frames_in: 0,
        bytes_in: 0,
        pending: preamble,
        mask_keys: Vec::new(),
        mask_issue: None,
    };
    if !leftover.is_empty() {
        p.on_data(&leftover);
    }
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        p.advance_steps();
        p.flush();
        if p.drop_now {
            p.drop_tcp();
        }
        if p.state == State::Closed {
            break;
        }
        let deadline = p.next_deadline();
        let reading = match p.read_paused_until {
            Some(t) if Instant::now() < t => false,
            _ => {
                p.read_paused_until = None;
                true
            }
        };
        tokio::select! {
            r = reader.read(&mut buf), if reading => match r {
                Ok(0) => p.lost("peer closed the TCP connection"),
                Ok(n) => p.on_data(&buf[..n]),
                Err(e) => p.lost(&format!("TCP error: {e}")),
            },
            _ = sleep_until(deadline) => p.on_timers(),
            _ = backlog.drained.notified(), if p.repeat_done.is_some() => {}
            Some(e) = err_rx.recv() => {
                // Keep reading: the peer may have answered before it went away.
                p.rec.note(e);
                p.write_broken = true;
            }
        }
    }
    if p.graceful_drop {
        // The closing handshake is done and wsspec is the server: let the writer send
        // what is queued (the close reply) and close TCP in order.
        let tx = std::mem::replace(&mut p.tx, mpsc::unbounded_channel().0);
        drop(tx);
        let aborter = writer_task.abort_handle();
        if tokio::time::timeout(p.lim.close_handshake_timeout, writer_task)
            .await
            .is_err()
        {
            aborter.abort();
        }
    } else {
        writer_task.abort();
    }
    if let Some(rt) = p.rt.take() {
        p.verdict = Some((
            Verdict::Failed,
            format!(
                "the connection ended after {} of {} echoes",
                rt.sent.saturating_sub(1),
                rt.spec.count
            ),
        ));
    }
    if let Some(m) = p.mask_issue.take() {
        p.verdict = Some((Verdict::Failed, m));
    }
    Played {
        events: p.events,
        verdict: p.verdict,
        throughput: p.throughput,
        close: p.book,
        opened_at,
        closed_at: Instant::now(),
    }
}

impl<'a> Player<'a> {
    // ----- sending ---------------------------------------------------------------

    fn write(&mut self, bytes: Vec<u8>, chop: Option<usize>, sync: bool) {
        if self.state == State::Closed || self.write_broken {
            return;
        }
        match chop {
            Some(n) if n > 0 => {
                for piece in bytes.chunks(n) {
                    self.rec.octets(Dir::Tx, piece);
                }
            }
            _ => self.rec.octets(Dir::Tx, &bytes),
        }
        if chop.is_none() && !sync {
            // Buffered like a transport within one reactor turn: frames sent back to
            // back leave in one write (see `flush`).
            self.pending.extend_from_slice(&bytes);
            return;
        }
        self.flush();
        self.backlog.add(bytes.len());
        let _ = self.tx.send(WriteCmd::Data { bytes, chop, sync });
    }

    /// Hand the buffered plain writes to the writer task.
    fn flush(&mut self) {
        if !self.pending.is_empty() {
            let bytes = std::mem::take(&mut self.pending);
            self.backlog.add(bytes.len());
            let _ = self.tx.send(WriteCmd::Data {
                bytes,
                chop: None,
                sync: false,
            });
        }
    }

    /// Send a frame as given; masked with a fresh key unless told otherwise.
    #[allow(clippy::too_many_arguments)]
    fn send_frame(
        &mut self,
        fin: bool,
        rsv: u8,
        opcode: u8,
        mask: &Mask,
        length: Length,
        payload: &[u8],
        chop: Option<usize>,
        sync: bool,
    ) {
        if self.state == State::Closed {
            return;
        }
        let key = frame_key(mask, || self.role.mask_key());
        let declared = match length {
            Length::Claim(n) => n,
            _ => payload.len() as u64,
        };
        self.rec
            .frame(Dir::Tx, opcode & 15, fin, rsv & 7, key, declared, payload);
        let bytes = encode_frame(fin, rsv, opcode, key, length, payload);
        self.write(bytes, chop, sync);
    }

    fn send_simple(&mut self, opcode: u8, payload: &[u8]) {
        self.send_frame(
            true,
            0,
            opcode,
            &Mask::Auto,
            Length::Minimal,
            payload,
            None,
            false,
        );
    }

    /// Autobahn's `sendCloseFrame`: only from OPEN; the tester becomes CLOSING.
    fn send_close(&mut self, code: Option<u16>, reason: &[u8], is_reply: bool) {
        if self.state != State::Open {
            return;
        }
        self.send_simple(8, &close_payload(code, reason));
        self.state = State::Closing;
        self.book.closed_by_me = !is_reply;
        self.book.local_close_code = code;
        self.book.local_close_reason = if reason.is_empty() {
            None
        } else {
            Some(match std::str::from_utf8(reason) {
                Ok(s) => s.to_string(),
                Err(_) => crate::case::encode_hex(reason),
            })
        };
        if !is_reply {
            self.close_hs_at = Some(Instant::now() + self.lim.close_handshake_timeout);
        }
    }

    /// Autobahn's `failConnection` (with failByDrop = false): start closing with `code`,
    /// or drop TCP when a close is already under way.
    fn fail(&mut self, code: u16, why: &str) {
        if self.state == State::Closed {
            return;
        }
        self.rec
            .note(format!("tester fails the connection ({code}): {why}"));
        self.book.failed_by_me = true;
        if self.state == State::Closing {
            self.drop_now = true;
        } else {
            let reason = match code {
                1001 => "Going Away".to_string(),
                _ => why.chars().take(123).collect(),
            };
            self.send_close(Some(code), reason.as_bytes(), false);
        }
    }

    fn drop_tcp(&mut self) {
        if self.state != State::Closed {
            self.rec.note("tester drops the TCP connection");
            self.book.dropped_by_me = true;
            self.state = State::Closed;
        }
    }

    /// The server's TCP close after a completed closing handshake (RFC 6455 §7.1.1):
    /// still a clean close.
    fn drop_cleanly(&mut self) {
        if self.state != State::Closed {
            self.flush();
            self.rec
                .note("closing handshake complete: tester (server) closes TCP");
            self.book.dropped_by_me = true;
            self.graceful_drop = true;
            self.state = State::Closed;
        }
    }

    fn lost(&mut self, why: &str) {
        if self.state == State::Closed {
            return;
        }
        self.rec.note(why);
        if !self.book.was_clean && self.book.was_not_clean_reason.is_none() {
            self.book.was_not_clean_reason = Some(
                "peer dropped the TCP connection without previous WebSocket closing handshake"
                    .into(),
            );
        }
        self.state = State::Closed;
    }

    // ----- steps and timers ------------------------------------------------------

    fn advance_steps(&mut self) {
        if self.rt.is_some() {
            return;
        }
        // A writer that failed drains nothing more: the repeat goes on at once and
        // stops on `write_broken` instead of waiting for a timer.
        if self.repeat_done.is_some() && !self.write_broken && self.backlog.get() > QUEUE_HIGH / 2 {
            return;
        }
        let now = Instant::now();
        if let Some(t) = self.resume_at {
            if now < t {
                return;
            }
            self.resume_at = None;
            if let Some(tag) = self.pending_tag.take() {
                match tag {
                    // A tagged wait goes on only while fully open (Autobahn 6.4.x).
                    Some(tag) => {
                        if self.state != State::Open {
                            self.rec
                                .note(format!("delayed step {tag} skipped: connection not open"));
                            self.step = self.case.steps.len();
                            return;
                        }
                        self.rec.note(format!("delayed step {tag} runs"));
                        self.events.push(Event::Timeout(tag));
                    }
                    None => {
                        if self.state == State::Closed {
                            self.step = self.case.steps.len();
                            return;
                        }
                    }
                }
            }
        }
        while self.step < self.case.steps.len() && self.state != State::Closed {
            let step = &self.case.steps[self.step];
            self.step += 1;
            match step {
                Step::Wait(w) => {
                    self.rec.note(format!(
                        "delay {:.3}s{}",
                        w.seconds,
                        w.tag
                            .as_deref()
                            .map(|t| format!(" (tag {t})"))
                            .unwrap_or_default()
                    ));
                    self.resume_at = Some(Instant::now() + Duration::from_secs_f64(w.seconds));
                    self.pending_tag = Some(w.tag.clone());
                    return;
                }
                Step::KillAfter(s) => {
                    self.rec.note(format!("fail connection after {s}s"));
                    self.kill_at = Some(Instant::now() + Duration::from_secs_f64(*s));
                }
                Step::CloseAfter(s) => {
                    self.rec.note(format!("close connection after {s}s"));
                    self.close_at = Some(Instant::now() + Duration::from_secs_f64(*s));
                }
                Step::PauseReading(s) => {
                    self.rec.note(format!("stop reading for {s}s"));
                    self.read_paused_until = Some(Instant::now() + Duration::from_secs_f64(*s));
                }
                Step::RoundTrips(r) => {
                    if self.state == State::Open {
                        self.start_round_trips(r);
                        return;
                    }
                }
                Step::Repeat { times, steps } => {
                    let resumed = self.repeat_done.is_some();
                    let mut done = self.repeat_done.take().unwrap_or(0);
                    if resumed && self.state != State::Open {
                        // Everything went out at once before; a close met while waiting
                        // must not be followed by more data frames.
                        self.rec.note(format!(
                            "repeat stopped after {done} of {times} rounds: the connection \
                             is closing"
                        ));
                        continue;
                    }
                    while done < *times {
                        if self.state == State::Closed || self.write_broken {
                            break;
                        }
                        for s in steps {
                            self.exec_send(s);
                        }
                        done += 1;
                        if done < *times && self.pending.len() + self.backlog.get() > QUEUE_HIGH {
                            // Go on once the writer has caught up; meanwhile read and
                            // keep the timers.
                            self.flush();
                            self.repeat_done = Some(done);
                            self.step -= 1;
                            return;
                        }
                    }
                }
                other => self.exec_send(other),
            }
        }
    }

    /// Steps that write: frames, messages, streamed frames, close.
    fn exec_send(&mut self, step: &Step) {
        match step {
            Step::Send(f) => {
                let payload = f.payload.bytes();
                self.send_frame(
                    f.fin,
                    f.rsv,
                    f.opcode.value(),
                    &f.mask,
                    f.length,
                    &payload,
                    f.chop,
                    f.sync,
                );
            }
            Step::Message(m) => {
                let payload = m.payload.bytes();
                self.send_message(m, &payload);
            }
            Step::FrameHeader(h) => {
                let key = self.role.mask_key();
                self.stream = Some((key, 0));
                let op = h.opcode.value();
                self.rec
                    .frame(Dir::Tx, op & 15, h.fin, h.rsv & 7, key, h.len, &[]);
                self.rec.note(format!(
                    "frame header only: payload of {} bytes follows in parts",
                    h.len
                ));
                let bytes = encode_header(h.fin, h.rsv, op, key, Length::Minimal, h.len);
                self.write(bytes, None, true);
            }
            Step::FramePayload(p) => {
                let mut bytes = p.bytes();
                let (key, off) = self.stream.unwrap_or((None, 0));
                if let Some(key) = key {
                    apply_mask(&mut bytes, key, off);
                }
                self.stream = Some((key, off + bytes.len()));
                self.write(bytes, None, true);
            }
            Step::Close(c) => {
                let reason = c.reason.as_ref().map(Payload::bytes).unwrap_or_default();
                self.send_close(c.code, &reason, false);
            }
            _ => {}
        }
    }

    /// Autobahn's `sendMessage`: the payload (compressed first when asked and
    /// negotiated) cut into frames of the fragment size.
    fn send_message(&mut self, m: &MessageStep, payload: &[u8]) {
        if self.state != State::Open {
            return;
        }
        let opcode = if m.binary { 2 } else { 1 };
        self.rec.message(Dir::Tx, payload.len() as u64);
        let compressed;
        let (body, rsv) = match (&mut self.deflater, m.compress) {
            (Some(d), true) => {
                compressed = d.message(payload);
                (&compressed[..], 4)
            }
            _ => (payload, 0),
        };
        for (i, (piece, fin)) in fragments(body, m.fragment_size).into_iter().enumerate() {
            let (op, rsv) = if i == 0 { (opcode, rsv) } else { (0, 0) };
            self.send_frame(
                fin,
                rsv,
                op,
                &Mask::Auto,
                Length::Minimal,
                piece,
                m.chop,
                m.sync,
            );
        }
    }

    fn start_round_trips(&mut self, spec: &'a RoundTripStep) {
        let now = Instant::now();
        self.rec.note(format!(
            "{} round trips, one message in flight, each echo checked ({:?}); case timer {}s",
            spec.count, spec.check, spec.within
        ));
        self.rt = Some(RoundTrips {
            spec,
            sent: 0,
            expect: (spec.message.binary, Fingerprint::of(&[])),
            deadline: now + Duration::from_secs_f64(spec.within),
            started: now,
            bytes_out: 0,
            bytes_in: 0,
        });
        self.send_next_round();
    }

    fn send_next_round(&mut self) {
        let Some(rt) = &mut self.rt else { return };
        let spec = rt.spec;
        let payload = spec.message.payload.message(u64::from(rt.sent));
        rt.expect = (
            spec.message.binary,
            match spec.check {
                EchoCheck::Digest => Fingerprint::of(&payload),
                EchoCheck::Length => Fingerprint {
                    len: payload.len() as u64,
                    sha1: [0; 20],
                },
            },
        );
        rt.sent += 1;
        rt.bytes_out += payload.len() as u64;
        self.send_message(&spec.message, &payload);
    }

    /// An echo arrived during round trips: check it, then send the next message or end.
    fn on_echo(&mut self, binary: bool, got: Fingerprint) {
        let Some(rt) = &mut self.rt else { return };
        rt.bytes_in += got.len;
        let (want_binary, want) = rt.expect;
        let kind = |b: bool| if b { "binary" } else { "text" };
        let wrong = if binary != want_binary || got.len != want.len {
            Some(format!(
                "Echo'ed message type or length differs from what I sent: message {} of {} \
                 came back as {} of {} bytes, {} of {} bytes was sent",
                rt.sent,
                rt.spec.count,
                kind(binary),
                got.len,
                kind(want_binary),
                want.len
            ))
        } else if rt.spec.check == EchoCheck::Digest && got.sha1 != want.sha1 {
            Some(format!(
                "Echo'ed message content differs from what I sent: message {} of {} has the \
                 right length ({} bytes) but another SHA-1",
                rt.sent, rt.spec.count, got.len
            ))
        } else {
            None
        };
        if let Some(why) = wrong {
            self.rt = None;
            self.rec.note(why.clone());
            self.verdict = Some((Verdict::Failed, why));
            self.send_close(Some(1000), &[], false);
            return;
        }
        if rt.sent < rt.spec.count {
            self.send_next_round();
            return;
        }
        let Some(rt) = self.rt.take() else { return };
        let secs = rt.started.elapsed().as_secs_f64().max(1e-6);
        let t = Throughput {
            messages: u64::from(rt.spec.count),
            bytes_sent: rt.bytes_out,
            bytes_received: rt.bytes_in,
            seconds: secs,
            mb_per_s: (rt.bytes_out + rt.bytes_in) as f64 / secs / 1e6,
            round_trips_per_s: f64::from(rt.spec.count) / secs,
            traffic: self.rec.traffic.clone(),
        };
        let why = format!(
            "all {} echoes correct in {:.3} s ({:.1} MB/s both ways, {:.0} round trips/s)",
            rt.spec.count, secs, t.mb_per_s, t.round_trips_per_s
        );
        self.rec.note(why.clone());
        self.verdict = Some((Verdict::Ok, why));
        self.throughput = Some(t);
        self.send_close(Some(1000), &[], false);
    }

    fn next_deadline(&self) -> Instant {
        [
            self.rt.as_ref().map(|r| r.deadline),
            self.resume_at,
            self.kill_at,
            self.close_at,
            self.close_hs_at,
            self.drop_at,
            // Reading resumes when a pause ends, not at the next unrelated timer.
            self.read_paused_until,
        ]
        .into_iter()
        .flatten()
        .fold(self.hard_at, Instant::min)
    }

    fn on_timers(&mut self) {
        let now = Instant::now();
        let due = |t: &mut Option<Instant>| match *t {
            Some(x) if x <= now => {
                *t = None;
                true
            }
            _ => false,
        };
        if due(&mut self.drop_at) && self.state != State::Closed {
            self.book.was_server_connection_drop_timeout = true;
            if self.drop_after_my_close {
                self.book.was_clean = false;
                self.book.was_not_clean_reason =
                    Some("server did not drop TCP connection (in time)".into());
            }
            self.rec
                .note("timeout: server did not drop the TCP connection");
            self.drop_tcp();
        }
        if due(&mut self.close_hs_at) && self.state != State::Closed {
            self.book.was_clean = false;
            self.book.was_close_handshake_timeout = true;
            self.book.was_not_clean_reason =
                Some("peer did not respond (in time) in closing handshake".into());
            self.rec
                .note("timeout: peer did not answer the close frame");
            self.drop_tcp();
        }
        if due(&mut self.kill_at) && self.state != State::Closed {
            self.rec.note("kill timer fired");
            self.fail(1001, "Going Away");
        }
        if due(&mut self.close_at) && self.state == State::Open {
            self.rec.note("close timer fired");
            self.send_close(None, &[], false);
        }
        if self.rt.as_ref().is_some_and(|r| r.deadline <= now) {
            if let Some(rt) = self.rt.take() {
                let why = format!(
                    "Case did not finish within {} seconds ({} of {} echoes received).",
                    rt.spec.within,
                    rt.sent.saturating_sub(1),
                    rt.spec.count
                );
                self.rec.note(why.clone());
                self.verdict = Some((Verdict::Failed, why));
                self.send_close(None, &[], false);
            }
        }
        if now >= self.hard_at && self.state != State::Closed {
            self.rec.note("case time limit reached");
            self.book.was_clean = false;
            self.book.was_not_clean_reason = Some("case time limit reached".into());
            self.drop_tcp();
        }
    }

    // ----- receiving -------------------------------------------------------------

    fn on_data(&mut self, data: &[u8]) {
        self.rec.octets(Dir::Rx, data);
        if self.rx_poisoned || self.state == State::Closed {
            return;
        }
        self.decoder.push(data);
        loop {
            // A failure during the closing handshake drops TCP: nothing more is read.
            if self.state == State::Closed || self.drop_now {
                return;
            }
            match self.decoder.next_frame() {
                Ok(None) => return,
                Ok(Some(frame)) => {
                    self.rec.frame(
                        Dir::Rx,
                        frame.opcode,
                        frame.fin,
                        frame.rsv,
                        frame.mask,
                        frame.declared_len,
                        &frame.payload,
                    );
                    self.on_frame(frame);
                }
                Err(e) => {
                    self.rx_poisoned = true;
                    self.fail(1009, &e.to_string());
                    return;
                }
            }
        }
    }

    /// The strict receive path: the checks Autobahn's tester applies to every frame.
    fn violation(&self, f: &crate::wire::frame::Frame) -> Option<String> {
        receive::violation(
            f,
            RxState {
                role: self.role,
                deflate: self.deflate,
                in_message: self.msg.is_some(),
            },
        )
    }

    fn on_frame(&mut self, f: crate::wire::frame::Frame) {
        self.frames_in += 1;
        self.bytes_in = self.bytes_in.saturating_add(f.payload.len() as u64);
        if self.frames_in > self.lim.max_frames_in || self.bytes_in > self.lim.max_bytes_in {
            // Once: later frames are dropped unread while the close goes out.
            if !self.rx_poisoned {
                self.rx_poisoned = true;
                self.fail(
                    1008,
                    "the peer sent more frames or bytes than wsspec keeps for one case",
                );
            }
            return;
        }
        if let (Some(key), true) = (f.mask, self.case.expect.fresh_masks) {
            self.check_mask_key(key);
        }
        if let Some(v) = self.violation(&f) {
            self.fail(1002, &v);
            // Autobahn (failByDrop off) fails the connection and then goes on with the
            // frame: a pong still becomes an event, a close is still handled (messages
            // are not delivered once the tester failed, see `on_data_frame`). Unless the
            // failure dropped TCP (a violation during the closing handshake).
            if self.drop_now {
                return;
            }
        }
        match f.opcode {
            // Reserved data opcodes go down the data path, as in Autobahn.
            0..=7 => self.on_data_frame(f),
            8 => self.on_close(&f.payload),
            9 if self.state == State::Open => self.send_simple(10, &f.payload),
            10 => {
                self.events
                    .push(Event::Pong(Payload::from_bytes(&f.payload)));
                self.finish_when_done();
            }
            _ => {}
        }
    }

    /// RFC 6455 §5.3: a fresh, unpredictable key per frame. Among the first 64 frames
    /// a random source repeats a key or picks zero with odds below one in a million.
    fn check_mask_key(&mut self, key: [u8; 4]) {
        use crate::rules::receive::{stale_mask_key, MASK_KEYS_CHECKED};
        if self.mask_issue.is_some() || self.mask_keys.len() >= MASK_KEYS_CHECKED {
            return;
        }
        self.mask_issue = stale_mask_key(&self.mask_keys, key);
        if let Some(m) = &self.mask_issue {
            self.rec.note(m.clone());
        }
        self.mask_keys.push(key);
    }

    fn on_data_frame(&mut self, f: crate::wire::frame::Frame) {
        if self.msg.is_none() {
            self.utf8.reset();
            // RSV1 means compressed only when deflate was negotiated (a frame that
            // breaks the rules is still processed, as Autobahn does).
            let compressed = f.rsv == 4 && self.inflater.is_some();
            if compressed {
                if let Some(i) = &mut self.inflater {
                    i.start_message();
                }
            }
            self.msg = Some(Incoming::new(f.opcode, compressed));
        }
        let limit = usize::try_from(self.lim.max_message).unwrap_or(usize::MAX);
        let Some(m) = self.msg.as_mut() else { return };
        m.wire_len += f.payload.len() as u64;
        if m.wire_len > self.lim.max_message {
            self.fail(1009, "message larger than the configured limit");
            return;
        }
        let was_bad = m.bad_utf8.is_some();
        let utf8 = &mut self.utf8;
        let inflated = match (m.compressed, &mut self.inflater) {
            (true, Some(inf)) => {
                let before = m.len;
                let mut r = inf.feed(&f.payload, limit, &mut |c| m.push(c, utf8));
                if r.is_ok() && f.fin {
                    r = inf.end_message(limit, &mut |c| m.push(c, utf8));
                }
                if let Err(e) = r {
                    let code = if matches!(e, InflateError::TooLarge { .. }) {
                        1009
                    } else {
                        1007
                    };
                    self.fail(code, &format!("compressed message: {e}"));
                    return;
                }
                m.len - before
            }
            _ => {
                m.push(&f.payload, utf8);
                0
            }
        };
        let bad = m.bad_utf8;
        self.bytes_in = self.bytes_in.saturating_add(inflated);
        if let Some(at) = bad {
            self.fail(
                1007,
                &format!("invalid UTF-8 in text message at octet {at}"),
            );
            // Autobahn goes on with the message: its end, or its next frame, fails the
            // validation again, and a second failure while closing drops TCP.
            if f.fin || was_bad {
                self.msg = None;
                self.fail(1007, "text message ended inside a UTF-8 code point");
            }
            return;
        }
        if !f.fin {
            return;
        }
        let Some(m) = self.msg.take() else { return };
        if m.opcode == 1 && self.utf8.status() != (Utf8Status::Valid { complete: true }) {
            self.fail(1007, "text message ended inside a UTF-8 code point");
            return;
        }
        if m.compressed {
            self.rec.note(format!(
                "inflated message: {} → {} bytes",
                m.wire_len, m.len
            ));
        }
        let binary = m.opcode == 2;
        self.rec.message(Dir::Rx, m.len);
        let (fp, payload) = m.finish();
        // Autobahn delivers no message once the tester failed the connection.
        if self.book.failed_by_me {
            self.rec
                .note("message not recorded: the tester already failed the connection");
            return;
        }
        if self.rt.is_some() {
            self.on_echo(binary, fp);
            return;
        }
        self.events.push(Event::Message { payload, binary });
        self.finish_when_done();
    }

    fn on_close(&mut self, payload: &[u8]) {
        let code = (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
        let reason = payload.get(2..).filter(|r| !r.is_empty());
        // Autobahn keeps the code it received, even one it rejects, and goes on.
        self.book.remote_close_code = code;
        if let Some(c) = code.filter(|&c| !close_code::autobahn_accepts(c)) {
            self.fail(1002, &format!("invalid close code {c}"));
        }
        if let Some(r) = reason {
            match std::str::from_utf8(r) {
                Ok(s) => self.book.remote_close_reason = Some(s.to_string()),
                Err(_) => self.fail(1007, "invalid UTF-8 in close reason"),
            }
        }
        if self.drop_now {
            // Failing it during our closing handshake dropped TCP: in Autobahn the
            // connection is closed by now, and a close received then is not clean.
            self.book.was_clean = false;
            self.book.was_not_clean_reason = Some(
                "the tester failed the connection during the closing handshake and dropped TCP"
                    .into(),
            );
            return;
        }
        match self.state {
            State::Closing => {
                self.close_hs_at = None;
                self.book.was_clean = true;
                if self.role.drops_tcp_after_close() {
                    self.drop_cleanly();
                } else if !self.drop_now {
                    self.drop_after_my_close = true;
                    self.drop_at = Some(Instant::now() + self.lim.server_drop_timeout);
                }
            }
            State::Open => {
                self.book.was_clean = true;
                self.send_close(Some(1000), &[], true);
                if self.role.drops_tcp_after_close() {
                    self.drop_cleanly();
                    return;
                }
                // Autobahn waits for the server to drop TCP without a timer of its
                // own here; we bound the wait the same way as after our own close.
                self.drop_after_my_close = false;
                self.drop_at = Some(Instant::now() + self.lim.server_drop_timeout);
            }
            State::Closed => {}
        }
    }

    /// Autobahn's `finishWhenDone`: when the case has one expected outcome, it is
    /// reached, and the tester is to close, close now with the first expected code.
    fn finish_when_done(&mut self) {
        let exp = &self.case.expect;
        if exp.non_strict.is_some() || !exp.close.closed_by_me || self.state != State::Open {
            return;
        }
        if same_events(&self.events, &exp.ok) {
            let code = exp.close.codes.first().copied().unwrap_or(1000);
            self.send_close(Some(code), &[], false);
        }
    }
}

/// Ordered event lists equal, payloads compared as bytes.
pub fn same_events(a: &[Event], b: &[Event]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same(y))
}

/// The masking key of a frame a step sends with `mask`: [`Mask::Auto`] takes `auto`
/// (the role's choice), [`Mask::Key`] its hex key (none if it is not 4 bytes).
pub fn frame_key(mask: &Mask, auto: impl FnOnce() -> Option<[u8; 4]>) -> Option<[u8; 4]> {
    match mask {
        Mask::Auto => auto(),
        Mask::None => None,
        Mask::Key(k) => crate::case::decode_hex(k)
            .ok()
            .and_then(|b| b.try_into().ok()),
    }
}

/// A close frame's payload: the code (big-endian), if any, then the reason.
pub fn close_payload(code: Option<u16>, reason: &[u8]) -> Vec<u8> {
    let mut payload = Vec::with_capacity(2 + reason.len());
    if let Some(c) = code {
        payload.extend_from_slice(&c.to_be_bytes());
    }
    payload.extend_from_slice(reason);
    payload
}

/// Autobahn's message fragmentation: pieces of `size`; FIN only on a piece whose nominal
/// end lies beyond the payload, so an exact multiple gets an extra empty final frame.
pub fn fragments(payload: &[u8], size: Option<usize>) -> Vec<(&[u8], bool)> {
    match size {
        Some(n) if n > 0 && payload.len() > n => {
            let mut out = Vec::new();
            let mut i = 0;
            loop {
                let end = (i + n).min(payload.len());
                let fin = i + n > payload.len();
                out.push((&payload[i..end], fin));
                if fin {
                    break;
                }
                i += n;
            }
            out
        }
        _ => vec![(payload, true)],
    }
}

#[cfg(test)]
mod tests {
    use super::fragments;

    #[test]
    fn fragmentation_quirk() {
        let p = [0u8; 29];
        let f = fragments(&p, Some(1));
        assert_eq!(f.len(), 30);
        assert!(f[..29].iter().all(|(b, fin)| b.len() == 1 && !fin));
        assert_eq!(f[29], (&[][..], true));
        let p = vec![0u8; 65536];
        let f = fragments(&p, Some(1300));
        assert_eq!(f.len(), 51);
        assert_eq!(f[50].0.len(), 536);
        assert!(f[50].1);
        assert_eq!(fragments(&p, None).len(), 1);
        assert_eq!(fragments(&[1, 2], Some(4)), vec![(&[1u8, 2][..], true)]);
    }
}
