//! Cases about the opening handshake itself: build a custom (or raw) request, read
//! whatever comes back within bounds, and judge the response against the RFC 6455 §4
//! and RFC 7692 rules the case names. Also the liveness probe and growth timing.

use super::conn::{self, Io, Settings, Target};
use crate::case::{Handshake, HandshakeExpect, HandshakeOutcome, Level, Timing};
use crate::report::model::Verdict;
use crate::wire::handshake::{self, Response};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{timeout, Instant};

/// The request headers wsspec sends by default, in order.
pub fn default_headers(target: &Target, key: &str, user_agent: &str) -> Vec<(String, String)> {
    let mut h: Vec<(String, String)> = vec![
        ("User-Agent".into(), user_agent.into()),
        ("Host".into(), target.host_header.clone()),
        ("Upgrade".into(), "websocket".into()),
        ("Connection".into(), "Upgrade".into()),
        ("Pragma".into(), "no-cache".into()),
        ("Cache-Control".into(), "no-cache".into()),
        ("Sec-WebSocket-Key".into(), key.into()),
    ];
    h.extend(target.extra_headers.iter().cloned());
    h.push(("Sec-WebSocket-Version".into(), "13".into()));
    h
}

/// The request bytes for a case's handshake.
pub fn build_request(h: &Handshake, target: &Target, key: &str, user_agent: &str) -> Vec<u8> {
    if let Some(raw) = &h.raw {
        let text = raw.bytes();
        // Substitute placeholders on the bytes (they may be invalid UTF-8 elsewhere).
        let mut out = text;
        for (ph, val) in [
            ("{host}", target.host_header.as_str()),
            ("{path}", target.resource.as_str()),
            ("{key}", key),
        ] {
            out = replace_bytes(&out, ph.as_bytes(), val.as_bytes());
        }
        return out;
    }
    let mut headers = default_headers(target, key, user_agent);
    headers.retain(|(n, _)| !h.remove.iter().any(|r| r.eq_ignore_ascii_case(n)));
    for [name, value] in &h.set {
        match headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(slot) => *slot = (name.clone(), value.clone()),
            None => headers.push((name.clone(), value.clone())),
        }
    }
    for [name, value] in &h.add {
        headers.push((name.clone(), value.clone()));
    }
    let mut s = format!(
        "{} {} {}\r\n",
        h.method.as_deref().unwrap_or("GET"),
        h.path.as_deref().unwrap_or(&target.resource),
        h.http_version.as_deref().unwrap_or("HTTP/1.1")
    );
    for (n, v) in headers {
        s.push_str(&format!("{n}: {v}\r\n"));
    }
    s.push_str("\r\n");
    s.into_bytes()
}

fn replace_bytes(hay: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        if hay[i..].starts_with(needle) {
            out.extend_from_slice(with);
            i += needle.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

/// What the server did with the request.
#[derive(Debug)]
pub enum Answer {
    /// A complete response head; `leftover` are the bytes after it.
    Response {
        resp: Response,
        head: Vec<u8>,
        leftover: Vec<u8>,
    },
    /// The server closed the connection (after sending `partial`, possibly nothing).
    Closed {
        partial: Vec<u8>,
        while_sending: bool,
    },
    /// Nothing complete within the time allowed.
    TimedOut { partial: Vec<u8> },
    /// The response head was malformed or too large.
    Bad { partial: Vec<u8>, why: String },
}

/// Send `request` (in pieces with delays if asked) and read the answer, bounded by
/// `limit` overall and `settings.max_head` in size.
pub async fn exchange(
    io: &mut Box<dyn Io>,
    request: &[u8],
    chop: Option<usize>,
    delay: Duration,
    settings: &Settings,
    limit: Duration,
) -> Answer {
    let deadline = Instant::now() + limit;
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 4096];
    // Write, watching for an early answer or close between pieces.
    let pieces: Vec<&[u8]> = match chop {
        Some(n) if n > 0 => request.chunks(n).collect(),
        _ => vec![request],
    };
    for (i, piece) in pieces.iter().enumerate() {
        let write = timeout(
            deadline.saturating_duration_since(Instant::now()),
            io.write_all(piece),
        )
        .await;
        match write {
            Err(_) => return Answer::TimedOut { partial: buf },
            Ok(Err(_)) => {
                return Answer::Closed {
                    partial: buf,
                    while_sending: true,
                }
            }
            Ok(Ok(())) => {}
        }
        let _ = io.flush().await;
        if i + 1 < pieces.len() && !delay.is_zero() {
            // Read while waiting, so an early close or answer is seen.
            let until = Instant::now() + delay;
            while Instant::now() < until {
                match timeout(
                    until.saturating_duration_since(Instant::now()),
                    io.read(&mut chunk),
                )
                .await
                {
                    Err(_) => break,
                    Ok(Ok(0)) | Ok(Err(_)) => {
                        return Answer::Closed {
                            partial: buf,
                            while_sending: true,
                        }
                    }
                    Ok(Ok(n)) => {
                        buf.extend_from_slice(&chunk[..n]);
                        if buf.len() > settings.max_head {
                            break;
                        }
                    }
                }
            }
            if Instant::now() >= deadline {
                return Answer::TimedOut { partial: buf };
            }
        }
    }
    loop {
        match handshake::parse_response(&buf, settings.max_head) {
            Ok(Some(resp)) => {
                let n = resp.head_len.min(buf.len());
                let leftover = buf[n..].to_vec();
                buf.truncate(n);
                return Answer::Response {
                    resp,
                    head: buf,
                    leftover,
                };
            }
            Ok(None) => {}
            Err(e) => {
                return Answer::Bad {
                    partial: buf,
                    why: e.to_string(),
                }
            }
        }
        match timeout(
            deadline.saturating_duration_since(Instant::now()),
            io.read(&mut chunk),
        )
        .await
        {
            Err(_) => return Answer::TimedOut { partial: buf },
            Ok(Ok(0)) | Ok(Err(_)) => {
                return Answer::Closed {
                    partial: buf,
                    while_sending: false,
                }
            }
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Verdict for a violated check of a case at `level`.
pub fn miss(level: Level) -> Verdict {
    match level {
        Level::Must => Verdict::Failed,
        Level::Should | Level::May => Verdict::NonStrict,
    }
}

/// Judge the answer. Returns (verdict, explanation, whether a WebSocket connection is now open).
pub fn judge_answer(
    exp: &HandshakeExpect,
    answer: &Answer,
    key: &str,
    request: &[u8],
    level: Level,
) -> (Verdict, String, bool) {
    let (resp, accepted) = match answer {
        Answer::Response { resp, .. } => {
            let ok101 = resp.status == 101 && handshake::check_response(resp, key).is_ok();
            (Some(resp), ok101)
        }
        _ => (None, false),
    };
    let what = describe_answer(answer);
    match exp.outcome {
        HandshakeOutcome::Accept if !accepted => {
            let why = match resp {
                Some(r) if r.status == 101 => {
                    handshake::check_response(r, key).err().unwrap_or_default()
                }
                _ => what.clone(),
            };
            return (
                miss(level),
                format!("the server must accept this handshake, but: {why}"),
                false,
            );
        }
        HandshakeOutcome::Reject if resp.is_some_and(|r| r.status == 101) => {
            return (
                miss(level),
                "the server must refuse this handshake, but answered 101".into(),
                accepted,
            );
        }
        _ => {}
    }
    if let Some(r) = resp {
        if r.status == 101 && exp.needs_deflate {
            let offered = request_header(request, "Sec-WebSocket-Extensions");
            if let Ok(None) = super::deflate_check::check(
                &offered,
                &r.headers_named("Sec-WebSocket-Extensions"),
                false,
            ) {
                return (
                    Verdict::Unimplemented,
                    "permessage-deflate was not negotiated".into(),
                    accepted,
                );
            }
        }
        if r.status == 101 {
            if let Err(e) = check_101(exp, r, request) {
                return (miss(level), e, accepted);
            }
        } else if exp.lists_versions {
            let versions = r.headers_named("Sec-WebSocket-Version").join(",");
            if !versions.split(',').any(|v| v.trim() == "13") {
                return (
                    miss(level),
                    format!(
                        "a refusal for an unsupported version must list the supported versions in Sec-WebSocket-Version; got {}",
                        if versions.is_empty() { "no such header".to_string() } else { format!("{versions:?}") }
                    ),
                    false,
                );
            }
        }
    }
    (Verdict::Ok, format!("as required: {what}"), accepted)
}

/// Checks on a 101 response.
fn check_101(exp: &HandshakeExpect, r: &Response, request: &[u8]) -> Result<(), String> {
    let protocols = r.headers_named("Sec-WebSocket-Protocol");
    if exp.no_protocol && !protocols.is_empty() {
        return Err(format!(
            "the server selected subprotocol {:?} although none may be selected",
            protocols.join(",")
        ));
    }
    if let Some(allowed) = &exp.protocol_one_of {
        if protocols.len() > 1 {
            return Err(format!(
                "Sec-WebSocket-Protocol appears {} times; at most once is allowed",
                protocols.len()
            ));
        }
        if let Some(p) = protocols.first() {
            if !allowed.iter().any(|a| a == p.trim()) {
                return Err(format!("the server selected subprotocol {p:?}, which the client did not offer (offered: {allowed:?})"));
            }
        }
    }
    let exts = r.headers_named("Sec-WebSocket-Extensions");
    if exp.no_extensions && exts.iter().any(|e| !e.trim().is_empty()) {
        return Err(format!(
            "the server accepted extension(s) {:?} that it must decline",
            exts.join(", ")
        ));
    }
    if exp.valid_deflate || exp.needs_deflate {
        let offered = request_header(request, "Sec-WebSocket-Extensions");
        super::deflate_check::check(&offered, &exts, exp.needs_deflate)?;
    }
    Ok(())
}

/// All values of a header in raw request bytes (joined with ", ").
pub fn request_header(request: &[u8], name: &str) -> String {
    let text = String::from_utf8_lossy(request);
    text.split("\r\n")
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The answer in words.
pub fn describe_answer(a: &Answer) -> String {
    match a {
        Answer::Response { resp, .. } => format!("HTTP {} {}", resp.status, resp.reason),
        Answer::Closed {
            partial,
            while_sending,
        } => format!(
            "the server closed the connection{}{}",
            if *while_sending {
                " while the request was being sent"
            } else {
                ""
            },
            if partial.is_empty() {
                String::new()
            } else {
                format!(" after {} bytes", partial.len())
            }
        ),
        Answer::TimedOut { partial } => {
            format!(
                "no complete response in time ({} bytes received)",
                partial.len()
            )
        }
        Answer::Bad { why, .. } => format!("an unusable response: {why}"),
    }
}

/// Liveness: a fresh connection, a standard handshake, one echoed text message.
pub async fn liveness(target: &Target, settings: &Settings) -> Result<(), String> {
    let work = async {
        let mut io = conn::connect(target, settings).await?;
        let opened = conn::open(&mut io, target, settings)
            .await
            .map_err(|f| f.reason)?;
        let msg = b"wsspec liveness probe";
        let frame = crate::wire::frame::encode_frame(
            true,
            1,
            1,
            Some(rand::random()),
            crate::case::Length::Minimal,
            msg,
        );
        io.write_all(&frame).await.map_err(|e| e.to_string())?;
        let mut dec = crate::wire::frame::FrameDecoder::new(1 << 20);
        dec.push(&opened.leftover);
        let mut buf = vec![0u8; 4096];
        loop {
            while let Some(f) = dec.next_frame().map_err(|e| e.to_string())? {
                if f.opcode == 1 && f.payload == msg {
                    let close = crate::wire::frame::encode_frame(
                        true,
                        0,
                        8,
                        Some(rand::random()),
                        crate::case::Length::Minimal,
                        &1000u16.to_be_bytes(),
                    );
                    let _ = io.write_all(&close).await;
                    return Ok(());
                }
            }
            let n = io.read(&mut buf).await.map_err(|e| e.to_string())?;
            if n == 0 {
                return Err("connection closed before the echo".to_string());
            }
            dec.push(&buf[..n]);
        }
    };
    match timeout(
        settings.open_handshake_timeout + Duration::from_secs(2),
        work,
    )
    .await
    {
        Err(_) => Err("no echo in time".into()),
        Ok(r) => r,
    }
}

/// Growth measurement for a [`Timing`] case: (verdict, explanation).
pub async fn measure_growth(
    t: &Timing,
    target: &Target,
    settings: &Settings,
    level: Level,
) -> (Verdict, String) {
    let limit = Duration::from_secs(10);
    let mut times = Vec::new();
    for &n in &t.sizes {
        let value = t.unit.repeat(n);
        let mut best: Option<f64> = None;
        for _ in 0..3 {
            let Ok(mut io) = conn::connect(target, settings).await else {
                return (Verdict::Failed, format!("cannot connect for size {n}"));
            };
            let key = handshake::generate_key();
            let h = Handshake {
                set: vec![[t.header.clone(), value.clone()]],
                expect: HandshakeExpect {
                    outcome: HandshakeOutcome::Either,
                    ..Default::default()
                },
                ..Default::default()
            };
            let req = build_request(&h, target, &key, &settings.user_agent);
            let t0 = Instant::now();
            let answer = exchange(&mut io, &req, None, Duration::ZERO, settings, limit).await;
            let ms = t0.elapsed().as_secs_f64() * 1000.0;
            if let Answer::TimedOut { .. } = answer {
                return (
                    miss(level),
                    format!(
                        "no answer within {}s for a {} of {} bytes (times so far: {:?} ms)",
                        limit.as_secs(),
                        t.header,
                        value.len(),
                        times
                    ),
                );
            }
            best = Some(best.map_or(ms, |b: f64| b.min(ms)));
        }
        times.push((n, best.unwrap_or(0.0)));
    }
    let summary: Vec<String> = times
        .iter()
        .map(|(n, ms)| format!("{n}×: {ms:.1} ms"))
        .collect();
    let (last, prev) = (times[times.len() - 1].1, times[times.len() - 2].1);
    let ratio = if prev > 0.0 { last / prev } else { 1.0 };
    if last > t.floor_ms && ratio > t.max_ratio {
        (
            miss(level),
            format!(
                "response time grows {ratio:.1}× when the {} value doubles (limit {:.1}×): {}",
                t.header,
                t.max_ratio,
                summary.join(", ")
            ),
        )
    } else {
        (
            Verdict::Ok,
            format!("no super-linear growth: {}", summary.join(", ")),
        )
    }
}
