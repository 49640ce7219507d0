//! Running one prepared sequence on a fresh connection (termination and
//! well-formedness oracles) and the liveness probe.

use super::check::PeerCheck;
use super::encode::Prepared;
use super::model::ModelEnd;
use super::{Kind, Options};
use crate::engine::conn::{self, Io, Settings, Target};
use crate::engine::opening::{self, Answer};
use crate::rules::Role;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{sleep_until, Instant};

/// Hard cap on one sequence's connection, whatever happens.
pub(super) const SEQUENCE_CAP: Duration = Duration::from_secs(15);
/// Most bytes of the target's answer kept for a finding's report.
const RECEIVED_CAP: usize = 64 << 10;

/// What one run of a sequence showed.
#[derive(Debug, Clone, Default)]
pub(super) struct Observed {
    pub(super) frames: u64,
    pub(super) bytes: u64,
    /// The standard handshake did not complete (target unavailable).
    pub(super) no_connection: Option<String>,
    pub(super) finding: Option<(Kind, String)>,
    /// The target's bytes after the handshake (the first [`RECEIVED_CAP`]).
    pub(super) received: Vec<u8>,
    /// Its answer to an altered handshake (head only).
    pub(super) answer_head: Option<Vec<u8>>,
    /// The text [`exchange`] was asked to wait for came back.
    pub(super) echoed: bool,
}

pub(super) fn settings_for(opts: &Options) -> Settings {
    Settings {
        connect_timeout: opts.timeout,
        open_handshake_timeout: opts.timeout,
        ..Settings::default()
    }
}

/// Run a prepared sequence on a fresh connection and check the termination and
/// well-formedness oracles.
pub(super) async fn execute(
    target: &Target,
    settings: &Settings,
    p: &Prepared,
    timeout: Duration,
) -> Observed {
    let mut obs = Observed::default();
    let hard = Instant::now() + SEQUENCE_CAP;
    let mut io = match conn::connect(target, settings).await {
        Ok(io) => io,
        Err(e) => {
            obs.no_connection = Some(e);
            return obs;
        }
    };
    let (leftover, pmd) = match &p.handshake {
        None => match conn::open(&mut io, target, settings).await {
            Ok(o) => (o.leftover, None),
            Err(f) => {
                obs.no_connection = Some(f.reason);
                return obs;
            }
        },
        Some(h) => {
            let key = crate::wire::handshake::generate_key();
            let request = opening::build_request(h, target, &key, &settings.user_agent);
            let answer =
                opening::exchange(&mut io, &request, h.chop, Duration::ZERO, settings, timeout)
                    .await;
            match answer {
                Answer::Response {
                    resp,
                    leftover,
                    head,
                } => {
                    obs.answer_head = Some(head[..resp.head_len.min(head.len())].to_vec());
                    let ok = resp.status == 101
                        && crate::wire::handshake::check_response(&resp, &key).is_ok();
                    if !ok {
                        // Refused (or a broken 101): the server must still end the
                        // connection once we end ours.
                        obs.finding = finish_after_fin(io, timeout).await;
                        return obs;
                    }
                    let offered = opening::request_header(&request, "Sec-WebSocket-Extensions");
                    match crate::engine::deflate_check::check(
                        &offered,
                        &resp.headers_named("Sec-WebSocket-Extensions"),
                        false,
                    ) {
                        Ok(pmd) => (leftover, pmd),
                        Err(e) => {
                            obs.finding = Some((
                                Kind::Malformed,
                                format!("invalid permessage-deflate answer: {e}"),
                            ));
                            return obs;
                        }
                    }
                }
                Answer::Closed { .. } => return obs,
                Answer::TimedOut { .. } => {
                    // A request written in full deserves an answer; either way the
                    // connection must end after our FIN.
                    obs.finding = finish_after_fin(io, timeout).await;
                    return obs;
                }
                Answer::Bad { why, .. } => {
                    obs.finding = Some((
                        Kind::Malformed,
                        format!("handshake answer does not parse: {why}"),
                    ));
                    return obs;
                }
            }
        }
    };
    exchange(
        io,
        &leftover,
        pmd,
        Role::Client,
        p,
        timeout,
        hard,
        None,
        &mut obs,
    )
    .await;
    obs
}

/// The part of a run after the opening handshake, for either role: write the
/// sequence while checking what the peer sends, then the closing oracles (our close
/// answered when the model says it must be, the connection ended after our FIN).
#[allow(clippy::too_many_arguments)]
pub(super) async fn exchange(
    io: Box<dyn Io>,
    leftover: &[u8],
    pmd: Option<crate::wire::extensions::PmdParams>,
    role: Role,
    p: &Prepared,
    timeout: Duration,
    hard: Instant,
    expect_text: Option<Vec<u8>>,
    obs: &mut Observed,
) {
    let mut check = PeerCheck::new(role, pmd);
    check.expect_text = expect_text;
    check.push(leftover);
    keep_received(&mut obs.received, leftover);
    let must_answer_close = matches!(p.model.end, ModelEnd::Closed { .. });
    let (mut rd, wr) = tokio::io::split(io);
    let sent_frames = AtomicU64::new(0);
    let sent_bytes = AtomicU64::new(0);
    // Events the peer has sent so far, for pauses that end early once all came.
    let seen = AtomicUsize::new(check.events);
    let want = p.model.events.len();
    let pieces = &p.pieces;
    let (sf, sb, seen_ref) = (&sent_frames, &sent_bytes, &seen);
    let write_all = async move {
        let mut wr = wr;
        for piece in pieces {
            if let Some(secs) = piece.pause {
                let until = Instant::now() + Duration::from_secs_f64(secs.clamp(0.0, 5.0));
                while seen_ref.load(Ordering::Relaxed) < want && Instant::now() < until {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            }
            if wr.write_all(&piece.bytes).await.is_err() {
                return wr;
            }
            sf.fetch_add(u64::from(piece.frames), Ordering::Relaxed);
            sb.fetch_add(piece.bytes.len() as u64, Ordering::Relaxed);
            if piece.flush {
                let _ = wr.flush().await;
                tokio::task::yield_now().await;
            }
        }
        let _ = wr.flush().await;
        wr
    };
    tokio::pin!(write_all);
    #[derive(PartialEq)]
    enum Phase {
        Writing,
        AwaitClose,
        AwaitEof,
    }
    let mut phase = Phase::Writing;
    let mut writer: Option<tokio::io::WriteHalf<Box<dyn Io>>> = None;
    let mut deadline = hard;
    let mut buf = vec![0u8; 64 << 10];
    // Ends on EOF, a read error, the hard cap or a phase timeout.
    loop {
        tokio::select! {
            w = &mut write_all, if phase == Phase::Writing => {
                writer = Some(w);
                phase = Phase::AwaitClose;
                deadline = (Instant::now() + timeout).min(hard);
                // Only a valid close of ours must be answered; otherwise (the server
                // should have failed the connection, or may differ) our FIN goes at
                // once and the server must close after it.
                if check.close.is_some() || !must_answer_close {
                    phase = Phase::AwaitEof;
                    shutdown_by(&mut writer, deadline).await;
                }
            }
            r = rd.read(&mut buf) => match r {
                Ok(n) if n > 0 => {
                    check.push(&buf[..n]);
                    seen.store(check.events, Ordering::Relaxed);
                    keep_received(&mut obs.received, &buf[..n]);
                    if phase == Phase::AwaitClose && check.close.is_some() {
                        phase = Phase::AwaitEof;
                        deadline = (Instant::now() + timeout).min(hard);
                        shutdown_by(&mut writer, deadline).await;
                    }
                }
                _ => break,
            },
            _ = sleep_until(deadline) => match phase {
                Phase::Writing => {
                    obs.finding = Some((Kind::Hang, format!("writing the sequence did not finish within {SEQUENCE_CAP:?} (the target stopped reading)")));
                    break;
                }
                Phase::AwaitClose => {
                    if must_answer_close && obs.finding.is_none() {
                        obs.finding = Some((Kind::Hang, format!("no close frame or TCP close within {timeout:?} after our close frame")));
                    }
                    phase = Phase::AwaitEof;
                    deadline = (Instant::now() + timeout).min(hard);
                    shutdown_by(&mut writer, deadline).await;
                }
                Phase::AwaitEof => {
                    // As server wsspec closes TCP itself (RFC 6455 §7.1.1): a client
                    // that waits for that after our FIN is not hanging.
                    if obs.finding.is_none() && !role.drops_tcp_after_close() {
                        obs.finding = Some((Kind::Hang, format!("the connection stayed open {timeout:?} after our close and TCP FIN")));
                    }
                    break;
                }
            },
        }
    }
    obs.frames = sent_frames.load(Ordering::Relaxed);
    obs.bytes = sent_bytes.load(Ordering::Relaxed);
    if let Some(problem) = check.problem {
        // A hang is the later symptom; malformed output is what went wrong first.
        obs.finding = Some((Kind::Malformed, problem));
    }
    obs.echoed = check.echoed;
}

fn keep_received(kept: &mut Vec<u8>, more: &[u8]) {
    let room = RECEIVED_CAP.saturating_sub(kept.len());
    kept.extend_from_slice(&more[..more.len().min(room)]);
}

/// Our TCP FIN, given up at `until`: with TLS, shutdown waits for buffered data and
/// close_notify to reach a socket the peer may have stopped reading.
async fn shutdown_by(writer: &mut Option<tokio::io::WriteHalf<Box<dyn Io>>>, until: Instant) {
    if let Some(w) = writer.as_mut() {
        let _ = tokio::time::timeout_at(until, w.shutdown()).await;
    }
}

/// After a refused or unanswered handshake: FIN, then the server must close.
async fn finish_after_fin(mut io: Box<dyn Io>, timeout: Duration) -> Option<(Kind, String)> {
    let deadline = Instant::now() + timeout;
    // Bounded too: with TLS, shutdown flushes to a peer that may not read.
    let _ = tokio::time::timeout_at(deadline, io.shutdown()).await;
    let mut buf = vec![0u8; 16 << 10];
    loop {
        match tokio::time::timeout_at(deadline, io.read(&mut buf)).await {
            Err(_) => {
                return Some((
                    Kind::Hang,
                    format!("after a refused or unanswered handshake the connection stayed open {timeout:?} after our TCP FIN"),
                ))
            }
            Ok(Ok(n)) if n > 0 => {}
            Ok(_) => return None,
        }
    }
}

/// The liveness probe (the engine's, shared with the case runner): a fresh
/// connection, the handshake, one echo, a close.
pub(super) async fn probe(
    target: &Target,
    settings: &Settings,
    n: u64,
    timeout: Duration,
) -> Result<(), (Kind, String)> {
    let msg = format!("wsspec netfuzz probe {n}");
    crate::engine::opening::liveness_with(target, settings, msg.as_bytes(), timeout * 2)
        .await
        .map_err(|e| (Kind::Dead, format!("liveness probe failed: {e}")))
}

/// Run a sequence and then the probe; the finding, if any (the probe's comes first:
/// a dead target is the most serious).
pub(super) async fn check_once(
    target: &Target,
    settings: &Settings,
    p: &Prepared,
    n: u64,
    timeout: Duration,
) -> (Observed, Option<(Kind, String)>) {
    let obs = execute(target, settings, p, timeout).await;
    if obs.no_connection.is_some() {
        let f = probe(target, settings, n, timeout).await.err();
        return (obs, f);
    }
    let probe_result = probe(target, settings, n, timeout).await;
    let finding = match probe_result {
        Err((Kind::Dead, d)) => Some((Kind::Dead, d)),
        Err(other) => obs.finding.clone().or(Some(other)),
        Ok(()) => obs.finding.clone(),
    };
    (obs, finding)
}
