//! Plays one case against one target and judges it: connect, opening handshake,
//! [`play`], [`judge`]. Produces a complete [`CaseResult`] whatever the peer does.

pub mod conn;
pub mod judge;
pub mod play;
pub mod trace;

use crate::case::{Case, Event, Expect};
use crate::report::model::{CaseResult, CloseInfo, Dir};
use conn::{Settings, Target};
use std::time::Duration;
use trace::Recorder;

/// UTC timestamp `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn utc_now() -> String {
    let now = time::OffsetDateTime::now_utc();
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    now.format(&fmt).unwrap_or_default()
}

/// Run one case: always returns a result, never panics on peer behaviour.
pub async fn run_case(
    target: &Target,
    settings: &Settings,
    case: &Case,
    index: usize,
) -> CaseResult {
    let started = utc_now();
    let t0 = tokio::time::Instant::now();
    let mut rec = Recorder::new(t0.into_std(), settings.trace_cap);
    let mut http_request = String::new();
    let mut http_response = String::new();
    let mut received = Vec::new();
    let mut close = CloseInfo::default();
    let mut duration_ms = 0;

    let judgement = match conn::connect(target, settings).await {
        Err(e) => {
            rec.note(e.clone());
            judge::never_opened(&e)
        }
        Ok(mut io) => match conn::open(&mut io, target, settings).await {
            Err(f) => {
                rec.octets(Dir::Tx, &f.request);
                if !f.received.is_empty() {
                    rec.octets(Dir::Rx, &f.received);
                }
                rec.note(f.reason.clone());
                http_request = String::from_utf8_lossy(&f.request).into_owned();
                http_response = String::from_utf8_lossy(&f.received).into_owned();
                close.was_open_handshake_timeout = f.timed_out;
                close.was_not_clean_reason = Some(f.reason.clone());
                judge::never_opened(&f.reason)
            }
            Ok(opened) => {
                rec.octets(Dir::Tx, &opened.request);
                rec.octets(Dir::Rx, opened.response_text.as_bytes());
                http_request = String::from_utf8_lossy(&opened.request).into_owned();
                http_response = opened.response_text.clone();
                let lim = play::PlayLimits {
                    close_handshake_timeout: settings.close_handshake_timeout,
                    server_drop_timeout: settings.server_drop_timeout,
                    max_message: settings.max_message,
                    hard_limit: hard_limit(case, settings),
                };
                let played = play::play(io, opened.leftover, case, lim, &mut rec).await;
                duration_ms = (played.closed_at - played.opened_at).as_millis() as u64;
                received = played.events;
                close = played.close;
                judge::judge(&case.expect, &received, &close, &rec.tx_frames)
            }
        },
    };

    CaseResult {
        id: case.id.clone(),
        index,
        section: case.section(),
        title: case.title.clone(),
        rfc: case.rfc.clone(),
        requirement: case.requirement.clone(),
        level: case.level,
        behavior: judgement.behavior,
        behavior_close: judgement.behavior_close,
        result: judgement.result,
        result_close: judgement.result_close,
        expected: describe_expected(&case.expect),
        actual: describe_actual(&received, &close, http_response.is_empty()),
        expect: case.expect.clone(),
        received,
        close,
        started,
        duration_ms,
        http_request,
        http_response,
        trace: rec.rows,
        trace_dropped: rec.dropped,
        rx_octet_stats: rec.rx_octets,
        tx_octet_stats: rec.tx_octets,
        rx_frame_stats: rec.rx_frames,
        tx_frame_stats: rec.tx_frames,
    }
}

/// Upper bound for one case: its own timers and waits plus every protocol timeout.
fn hard_limit(case: &Case, s: &Settings) -> Duration {
    Duration::from_secs_f64(case.planned_seconds())
        + s.close_handshake_timeout
        + s.server_drop_timeout
        + Duration::from_secs(5)
}

/// Events in words: `text message (125 bytes)`, `pong "Hello"`, `delay A passed`.
pub fn describe_events(ev: &[Event]) -> String {
    if ev.is_empty() {
        return "nothing".into();
    }
    let parts: Vec<String> = ev
        .iter()
        .map(|e| match e {
            Event::Message { payload, binary } => {
                let b = payload.bytes();
                let kind = if *binary { "binary" } else { "text" };
                format!("{kind} message ({} bytes{})", b.len(), excerpt(&b))
            }
            Event::Pong(p) => {
                let b = p.bytes();
                format!("pong ({} bytes{})", b.len(), excerpt(&b))
            }
            Event::Timeout(t) => format!("still open at delay {t}"),
        })
        .collect();
    parts.join(", ")
}

fn excerpt(b: &[u8]) -> String {
    if b.is_empty() {
        return String::new();
    }
    let shown = &b[..b.len().min(24)];
    let more = if b.len() > 24 { "…" } else { "" };
    match std::str::from_utf8(shown) {
        Ok(s) if !s.chars().any(char::is_control) => format!(": {s:?}{more}"),
        _ => format!(": 0x{}{more}", crate::case::encode_hex(shown)),
    }
}

/// What a conformant peer does, in words.
pub fn describe_expected(e: &Expect) -> String {
    let mut s = format!("events: {}", describe_events(&e.ok));
    if let Some(ns) = &e.non_strict {
        s.push_str(&format!(" (non-strict: {})", describe_events(ns)));
    }
    let codes: Vec<String> = e.close.codes.iter().map(u16::to_string).collect();
    if e.close.closed_by_me {
        s.push_str(&format!(
            "; then the tester closes and the peer answers with close {} or no code{}",
            codes.join("/"),
            if e.close.require_clean {
                ", and drops TCP (clean closing handshake)"
            } else {
                ""
            }
        ));
    } else {
        s.push_str(&format!(
            "; the peer fails the connection: close {} (or no code) or a TCP drop, before the tester's timer",
            codes.join("/")
        ));
    }
    s
}

/// What this peer did, in words.
pub fn describe_actual(ev: &[Event], c: &CloseInfo, never_opened: bool) -> String {
    if never_opened {
        return "the opening handshake did not complete".into();
    }
    let mut s = format!("events: {}", describe_events(ev));
    let who = if c.closed_by_me {
        "the tester closed first"
    } else {
        "the peer closed first"
    };
    let peer_code = match c.remote_close_code {
        Some(code) => format!("peer's close code {code}"),
        None if c.was_clean || c.remote_close_reason.is_some() => {
            "peer's close without code".into()
        }
        None => "no close frame from the peer".into(),
    };
    s.push_str(&format!("; {who}; {peer_code}"));
    if c.failed_by_me {
        s.push_str("; the tester failed the connection");
    }
    if c.was_clean {
        s.push_str("; clean close");
    } else if let Some(r) = &c.was_not_clean_reason {
        s.push_str(&format!("; not clean: {r}"));
    }
    if c.dropped_by_me {
        s.push_str("; the tester had to drop TCP");
    }
    s
}
