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
    // Values given by the case may use the same placeholders as a raw request.
    let fill = |v: &str| {
        v.replace("{host}", &target.host_header)
            .replace("{path}", &target.resource)
            .replace("{key}", key)
    };
    for [name, value] in &h.set {
        let value = fill(value);
        match headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(slot) => *slot = (name.clone(), value),
            None => headers.push((name.clone(), value)),
        }
    }
    for [name, value] in &h.add {
        headers.push((name.clone(), fill(value)));
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
    Bad { why: String },
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
        // Bounded like the write: with TLS, flush waits for a peer that may not read.
        let _ = timeout(
            deadline.saturating_duration_since(Instant::now()),
            io.flush(),
        )
        .await;
        if i + 1 < pieces.len() && !delay.is_zero() {
            // Read while waiting, so an early close or answer is seen.
            let until = Instant::now() + delay;
            // Stop reading once the answer is over the head limit (parsing then fails).
            while Instant::now() < until && buf.len() <= settings.max_head {
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
                    Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
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
            Err(e) => return Answer::Bad { why: e.to_string() },
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
    // The accept value is computed from the key the request really carried: a case may
    // replace the generated key (the RFC's sample key, surrounding blanks).
    let sent: Vec<String> = request_header_values(request, "Sec-WebSocket-Key");
    let key = match sent.as_slice() {
        [one] => one.as_str(),
        _ => key,
    };
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
        // Neither an answer nor a close: the server is still sitting on a request it
        // should have refused (RFC 6455 §4.2.1 asks for an error response).
        HandshakeOutcome::Reject if matches!(answer, Answer::TimedOut { .. }) => {
            return (
                miss(level),
                format!("the server must refuse this handshake, but gave {what}"),
                false,
            );
        }
        _ => {}
    }
    if exp.lists_versions && resp.is_none() && !matches!(exp.outcome, HandshakeOutcome::Accept) {
        return (
            miss(level),
            format!(
                "a refusal for an unsupported version must be an HTTP response listing the supported versions in Sec-WebSocket-Version; got {what}"
            ),
            false,
        );
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

/// Checks on a 101 response: the case's own, and those that hold for every handshake:
/// a server never selects a subprotocol or accepts an extension the client did not
/// offer (RFC 6455 §4.2.2, §9.1), and sends `Sec-WebSocket-Protocol` and
/// `Sec-WebSocket-Extensions` at most once each (§11.3.4, §11.3.2).
fn check_101(exp: &HandshakeExpect, r: &Response, request: &[u8]) -> Result<(), String> {
    let protocols = r.headers_named("Sec-WebSocket-Protocol");
    for name in ["Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions"] {
        let n = r.headers_named(name).len();
        if n > 1 {
            return Err(format!(
                "{name} appears {n} times in the response; at most once is allowed"
            ));
        }
    }
    let offered_protocols: Vec<String> = request_header_values(request, "Sec-WebSocket-Protocol")
        .iter()
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    if let Some(p) = protocols
        .iter()
        .find(|p| !offered_protocols.iter().any(|o| o == p.trim()))
    {
        return Err(if offered_protocols.is_empty() {
            format!("the server selected subprotocol {p:?}, but the client offered none")
        } else {
            format!(
                "the server selected subprotocol {p:?}, which the client did not offer (offered: {offered_protocols:?})"
            )
        });
    }
    let offered_extensions: Vec<String> =
        request_header_values(request, "Sec-WebSocket-Extensions")
            .iter()
            .flat_map(|v| v.split(','))
            .filter_map(|e| e.split(';').next())
            .map(|n| n.trim().to_ascii_lowercase())
            .filter(|n| !n.is_empty())
            .collect();
    for answer in r.headers_named("Sec-WebSocket-Extensions") {
        for name in answer
            .split(',')
            .filter_map(|e| e.split(';').next())
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            if !offered_extensions.contains(&name.to_ascii_lowercase()) {
                return Err(format!(
                    "the server accepted extension {name:?}, which the client did not offer"
                ));
            }
        }
    }
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
    request_header_values(request, name).join(", ")
}

/// Each value of a header in raw request bytes, one per header line, trimmed. Only the
/// head counts (a body after the empty line is not headers).
pub fn request_header_values(request: &[u8], name: &str) -> Vec<String> {
    let text = String::from_utf8_lossy(request);
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    head.split("\r\n")
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim().to_string())
        .collect()
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

/// Liveness after a destructive case: [`liveness_with`] with wsspec's probe message.
pub async fn liveness(target: &Target, settings: &Settings) -> Result<(), String> {
    liveness_with(
        target,
        settings,
        b"wsspec liveness probe",
        settings.open_handshake_timeout + Duration::from_secs(2),
    )
    .await
}

/// The liveness probe, the one the case runner and the network fuzzer both use: a
/// fresh connection, the standard handshake, one masked text message that must come
/// back (every frame before it checked by the receive rules), then a polite close,
/// waiting briefly for the server's close so that it closes TCP first. `limit` bounds
/// everything up to the echo.
pub async fn liveness_with(
    target: &Target,
    settings: &Settings,
    msg: &[u8],
    limit: Duration,
) -> Result<(), String> {
    use crate::rules::receive::{violation, RxState};
    use crate::wire::frame::{encode_frame, FrameDecoder};
    let work = async {
        let mut io = conn::connect(target, settings).await?;
        let opened = conn::open(&mut io, target, settings)
            .await
            .map_err(|f| f.reason)?;
        let frame = encode_frame(
            true,
            0,
            1,
            Some(rand::random()),
            crate::case::Length::Minimal,
            msg,
        );
        io.write_all(&frame).await.map_err(|e| e.to_string())?;
        let mut dec = FrameDecoder::new(1 << 20);
        dec.push(&opened.leftover);
        let mut buf = vec![0u8; 4096];
        let rx = RxState {
            role: crate::rules::Role::Client,
            deflate: false,
            in_message: false,
        };
        loop {
            while let Some(f) = dec.next_frame().map_err(|e| e.to_string())? {
                if let Some(v) = violation(&f, rx) {
                    return Err(format!("an invalid frame before the echo: {v}"));
                }
                if f.opcode == 1 && f.payload == msg {
                    return Ok((io, dec, buf));
                }
            }
            let n = io.read(&mut buf).await.map_err(|e| e.to_string())?;
            if n == 0 {
                return Err("connection closed before the echo".to_string());
            }
            dec.push(&buf[..n]);
        }
    };
    let (mut io, mut dec, mut buf) = match timeout(limit, work).await {
        Err(_) => return Err(format!("no echo within {:.1} s", limit.as_secs_f64())),
        Ok(r) => r?,
    };
    let close = encode_frame(
        true,
        0,
        8,
        Some(rand::random()),
        crate::case::Length::Minimal,
        &1000u16.to_be_bytes(),
    );
    let _ = timeout(Duration::from_millis(500), async {
        io.write_all(&close).await?;
        loop {
            while let Ok(Some(f)) = dec.next_frame() {
                if f.opcode == 8 {
                    return Ok(());
                }
            }
            let n = io.read(&mut buf).await?;
            if n == 0 {
                return Ok(());
            }
            dec.push(&buf[..n]);
        }
    })
    .await
    .map(|r: std::io::Result<()>| r);
    Ok(())
}

/// Rounds of measurements per size; each size keeps its fastest round.
const TIMING_ROUNDS: usize = 3;

/// Growth measurement for a [`Timing`] case: (verdict, explanation).
///
/// The sizes are measured in interleaved rounds (every size once, then again), so that
/// a burst of load on a busy machine slows one sample of several sizes rather than all
/// samples of one size; each size keeps its fastest time, since noise only ever adds.
/// The case fails when any doubling multiplies the time by more than `max_ratio` while
/// the larger time is above `floor_ms`.
pub async fn measure_growth(
    t: &Timing,
    target: &Target,
    settings: &Settings,
    level: Level,
) -> (Verdict, String) {
    let limit = Duration::from_secs(10);
    let values: Vec<String> = t.sizes.iter().map(|&n| t.unit.repeat(n)).collect();
    let mut best: Vec<Option<f64>> = vec![None; t.sizes.len()];
    for _ in 0..TIMING_ROUNDS {
        for (i, value) in values.iter().enumerate() {
            let n = t.sizes[i];
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
                        "no answer within {}s for a {} of {} bytes",
                        limit.as_secs(),
                        t.header,
                        value.len(),
                    ),
                );
            }
            best[i] = Some(best[i].map_or(ms, |b: f64| b.min(ms)));
        }
    }
    let times: Vec<(usize, f64)> = t
        .sizes
        .iter()
        .zip(&best)
        .map(|(&n, b)| (n, b.unwrap_or(0.0)))
        .collect();
    let summary: Vec<String> = times
        .iter()
        .map(|(n, ms)| format!("{n}×: {ms:.1} ms"))
        .collect();
    // The steepest doubling whose larger time is above the noise floor.
    let steepest = times
        .windows(2)
        .filter(|w| w[1].1 > t.floor_ms)
        .map(|w| if w[0].1 > 0.0 { w[1].1 / w[0].1 } else { 1.0 })
        .fold(0.0, f64::max);
    if steepest > t.max_ratio {
        (
            miss(level),
            format!(
                "response time grows {steepest:.1}× when the {} value doubles (limit {:.1}×): {}",
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

/// The verdict of an Origin case under the user's allow-list: `None` when the case
/// stays informational (no list, or no Origin sent).
pub fn judge_origin(
    request: &[u8],
    accepted: bool,
    allow: Option<&[String]>,
) -> Option<(Verdict, String)> {
    let allow = allow?;
    let origin = request_header(request, "Origin");
    if origin.is_empty() {
        return None;
    }
    let listed = allow.iter().any(|a| a.eq_ignore_ascii_case(origin.trim()));
    let what = if accepted { "accepted" } else { "refused" };
    Some(match (listed, accepted) {
        (true, true) | (false, false) => (Verdict::Ok, format!("Origin {origin:?} {what}, as the allow-list says")),
        (true, false) => (Verdict::Failed, format!("Origin {origin:?} is on the allow-list but the server refused it")),
        (false, true) => (
            Verdict::Failed,
            format!("Origin {origin:?} is not on the allow-list but the server accepted it (cross-site WebSocket hijacking)"),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target::parse("ws://127.0.0.1:9001/chat").unwrap()
    }

    fn answer(head: &str) -> Answer {
        let resp = handshake::parse_response(head.as_bytes(), 1 << 16)
            .unwrap()
            .unwrap();
        Answer::Response {
            resp,
            head: head.as_bytes().to_vec(),
            leftover: Vec::new(),
        }
    }

    fn accept_101(key: &str, extra: &str) -> Answer {
        answer(&format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\n{extra}\r\n",
            handshake::accept_key(key)
        ))
    }

    fn expect(outcome: HandshakeOutcome) -> HandshakeExpect {
        HandshakeExpect {
            outcome,
            ..HandshakeExpect::default()
        }
    }

    #[test]
    fn placeholders_fill_set_and_add_values() {
        let h = Handshake {
            set: vec![["Origin".into(), "http://{host}.evil".into()]],
            add: vec![["X-Path".into(), "{path}".into()]],
            expect: expect(HandshakeOutcome::Either),
            ..Handshake::default()
        };
        let req = String::from_utf8(build_request(&h, &target(), "k", "ua")).unwrap();
        assert!(
            req.contains("Origin: http://127.0.0.1:9001.evil\r\n"),
            "{req}"
        );
        assert!(req.contains("X-Path: /chat\r\n"), "{req}");
    }

    #[test]
    fn accept_is_checked_against_the_key_really_sent() {
        let sample = "dGhlIHNhbXBsZSBub25jZQ==";
        let h = Handshake {
            set: vec![["Sec-WebSocket-Key".into(), sample.into()]],
            expect: expect(HandshakeOutcome::Accept),
            ..Handshake::default()
        };
        let generated = handshake::generate_key();
        let req = build_request(&h, &target(), &generated, "ua");
        let (v, why, open) = judge_answer(
            &h.expect,
            &accept_101(sample, ""),
            &generated,
            &req,
            Level::Must,
        );
        assert_eq!((v, open), (Verdict::Ok, true), "{why}");
    }

    #[test]
    fn refusals_without_an_answer() {
        let req = b"GET / HTTP/1.1\r\n\r\n";
        let mut exp = expect(HandshakeOutcome::Reject);
        let hung = Answer::TimedOut {
            partial: Vec::new(),
        };
        let closed = Answer::Closed {
            partial: Vec::new(),
            while_sending: false,
        };
        // A hang is no refusal; a close is.
        assert_eq!(
            judge_answer(&exp, &hung, "k", req, Level::Should).0,
            Verdict::NonStrict
        );
        assert_eq!(
            judge_answer(&exp, &closed, "k", req, Level::Must).0,
            Verdict::Ok
        );
        // A version refusal must be an HTTP answer that lists the versions.
        exp.lists_versions = true;
        assert_eq!(
            judge_answer(&exp, &closed, "k", req, Level::Must).0,
            Verdict::Failed
        );
        let listed = answer("HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n\r\n");
        assert_eq!(
            judge_answer(&exp, &listed, "k", req, Level::Must).0,
            Verdict::Ok
        );
        let bare = answer("HTTP/1.1 400 Bad Request\r\n\r\n");
        assert_eq!(
            judge_answer(&exp, &bare, "k", req, Level::Must).0,
            Verdict::Failed
        );
    }

    #[test]
    fn nothing_unoffered_in_any_101() {
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        let exp = expect(HandshakeOutcome::Either);
        let plain = format!("GET / HTTP/1.1\r\nSec-WebSocket-Key: {key}\r\n\r\n");
        for extra in [
            "Sec-WebSocket-Protocol: chat\r\n",
            "Sec-WebSocket-Protocol: \r\n",
            "Sec-WebSocket-Extensions: permessage-deflate\r\n",
        ] {
            let (v, why, _) = judge_answer(
                &exp,
                &accept_101(key, extra),
                key,
                plain.as_bytes(),
                Level::Must,
            );
            assert_eq!(v, Verdict::Failed, "{extra}: {why}");
        }
        let offered = format!(
            "GET / HTTP/1.1\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Protocol: a, chat\r\n\
             Sec-WebSocket-Extensions: x-foo; a=1, permessage-deflate\r\n\r\n"
        );
        let (v, why, _) = judge_answer(
            &exp,
            &accept_101(
                key,
                "Sec-WebSocket-Extensions: x-foo\r\nSec-WebSocket-Extensions: permessage-deflate\r\n",
            ),
            key,
            offered.as_bytes(),
            Level::Must,
        );
        assert_eq!(v, Verdict::Failed, "{why}");
        for extra in [
            "Sec-WebSocket-Protocol: chat\r\n",
            "Sec-WebSocket-Extensions: x-foo\r\n",
            "Sec-WebSocket-Extensions: permessage-deflate\r\n",
        ] {
            let (v, why, _) = judge_answer(
                &exp,
                &accept_101(key, extra),
                key,
                offered.as_bytes(),
                Level::Must,
            );
            assert_eq!(v, Verdict::Ok, "{extra}: {why}");
        }
    }
}
