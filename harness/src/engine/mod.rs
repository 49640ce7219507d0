//! Plays one case on one connection and judges it, in either role: as client
//! ([`run_case`]: dial, opening request, [`play`], [`judge`]) or as server
//! ([`serve_case`]: a client's request read by [`accept`], the 101, the same
//! [`play`] and [`judge`]). Produces a complete [`CaseResult`] whatever the peer does.

pub mod accept;
pub mod conn;
pub mod deflate_check;
pub mod judge;
pub mod opening;
pub mod play;
pub mod session;
pub mod trace;

use crate::case::{Case, Event};
use crate::report;
use crate::report::model::{CaseResult, CloseInfo, Dir, Verdict};
use crate::rules::Role;
use conn::{Settings, Target};
use opening::Answer;
use session::Session;
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

/// Run one case as the client, against a server: always returns a result, never
/// panics on peer behaviour.
pub async fn run_case(
    target: &Target,
    settings: &Settings,
    case: &Case,
    index: usize,
) -> CaseResult {
    let started = utc_now();
    let mut out = Outcome::new(settings, case);
    let mut judgement = if let Some(t) = &case.timing {
        let (behavior, result) = opening::measure_growth(t, target, settings, case.level).await;
        out.rec.note(result.clone());
        out.opened = true;
        judge::Judgement {
            behavior,
            result,
            behavior_close: Verdict::Ok,
            result_close: "no WebSocket connection is kept open by a timing case".into(),
        }
    } else {
        match conn::connect(target, settings).await {
            Err(e) => {
                out.rec.note(e.clone());
                judge::never_opened(&e)
            }
            Ok(io) => match &case.handshake {
                None => standard(io, target, settings, case, &mut out).await,
                Some(h) => custom(io, h, target, settings, case, &mut out).await,
            },
        }
    };

    soften(&mut judgement, case, settings);
    // A target that does not survive fails the case whatever its level.
    if case.probe_after {
        match opening::liveness(target, settings).await {
            Ok(()) => out
                .rec
                .note("liveness probe: a fresh connection got its echo"),
            Err(e) => {
                out.rec.note(format!("liveness probe failed: {e}"));
                judgement.behavior = Verdict::Failed;
                judgement.result = format!(
                    "the target did not survive this case: a fresh connection failed ({e})"
                );
            }
        }
    }
    out.into_result(case, index, started, judgement)
}

/// Play one case as the server, on a client's connection whose opening request has
/// been read (the request named the case). Checks the request, answers it (with
/// the permessage-deflate settings the case accepts), plays, judges.
pub async fn serve_case(
    mut inc: accept::Incoming,
    settings: &Settings,
    case: &Case,
    index: usize,
) -> CaseResult {
    let started = utc_now();
    let mut out = Outcome::new(settings, case);
    out.rec.octets(Dir::Rx, &inc.head);
    out.http_request = String::from_utf8_lossy(&inc.head).into_owned();
    let mut judgement = match accept::check_request(&inc.request) {
        Err(why) => {
            let why = format!("the client's opening request breaks RFC 6455 §4.1: {why}");
            let resp = accept::reject(&mut inc.io, 400, "Bad Request", &why).await;
            out.rec.octets(Dir::Tx, &resp);
            out.http_response = String::from_utf8_lossy(&resp).into_owned();
            out.rec.note(why.clone());
            judge::never_opened(&why)
        }
        Ok(key) => {
            let rules = case.deflate.as_ref().map_or(&[][..], |d| &d.accept[..]);
            let deflate = accept::accept_deflate(&inc.request, rules);
            match accept::answer(inc, &key, deflate, case.answer.as_ref()).await {
                Err((why, resp)) => {
                    out.rec.octets(Dir::Tx, &resp);
                    out.rec.note(why.clone());
                    judge::never_opened(&why)
                }
                Ok((session, resp)) => {
                    out.rec.octets(Dir::Tx, &resp);
                    out.http_response = String::from_utf8_lossy(&resp).into_owned();
                    play_negotiated(session, case, settings, &mut out).await
                }
            }
        }
    };
    soften(&mut judgement, case, settings);
    out.into_result(case, index, started, judgement)
}

/// The result of a case that never got a connection (a client that did not connect,
/// a server role run that was stopped): FAILED, with `why` in the trace.
pub fn unplayed(case: &Case, settings: &Settings, index: usize, why: &str) -> CaseResult {
    let started = utc_now();
    let mut out = Outcome::new(settings, case);
    out.rec.note(why);
    out.into_result(case, index, started, judge::never_opened(why))
}

/// Autobahn's cases keep Autobahn's verdicts; in our own sections (slug ids) a
/// requirement below MUST that is not met is NON-STRICT, never FAILED.
fn soften(judgement: &mut judge::Judgement, case: &Case, settings: &Settings) {
    // Autobahn's cases keep Autobahn's verdicts; in our own sections (slug ids) a
    // requirement below MUST that is not met is NON-STRICT, never FAILED.
    // (An Origin case judged against the user's own allow-list is their policy: kept.)
    let user_policy = settings.origin_allow.is_some()
        && case
            .handshake
            .as_ref()
            .is_some_and(|h| h.expect.origin_policy);
    if case.id.contains('/') && case.level != crate::case::Level::Must && !user_policy {
        let soften = |v: Verdict| {
            if v.is_failure(false) {
                Verdict::NonStrict
            } else {
                v
            }
        };
        judgement.behavior = soften(judgement.behavior);
        judgement.behavior_close = soften(judgement.behavior_close);
    }
    if case.expect.informational {
        judgement.behavior = Verdict::Informational;
        judgement.behavior_close = Verdict::Informational;
    }
}

impl Outcome {
    fn new(settings: &Settings, case: &Case) -> Outcome {
        let t0 = tokio::time::Instant::now();
        let mut rec = Recorder::new(t0.into_std(), settings.trace_cap);
        rec.set_mode(case.trace);
        Outcome {
            rec,
            http_request: String::new(),
            http_response: String::new(),
            received: Vec::new(),
            close: CloseInfo::default(),
            duration_ms: 0,
            opened: false,
            throughput: None,
        }
    }

    fn into_result(
        mut self,
        case: &Case,
        index: usize,
        started: String,
        judgement: judge::Judgement,
    ) -> CaseResult {
        let (trace, trace_dropped) = self.rec.take_rows();
        let Outcome {
            rec,
            http_request,
            http_response,
            received,
            close,
            duration_ms,
            opened,
            throughput,
        } = self;
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
            expected: describe_expected(case),
            actual: if case.timing.is_some() || (case.handshake.is_some() && !opened) {
                judgement.result.clone()
            } else {
                describe_actual(&received, &close, !opened)
            },
            result: judgement.result,
            result_close: judgement.result_close,
            expect: case.expect.clone(),
            received,
            close,
            started,
            duration_ms,
            http_request,
            http_response,
            trace,
            trace_dropped,
            rx_octet_stats: rec.rx_octets,
            tx_octet_stats: rec.tx_octets,
            rx_frame_stats: rec.rx_frames,
            tx_frame_stats: rec.tx_frames,
            throughput,
        }
    }
}

/// What a case run collects besides the judgement.
struct Outcome {
    rec: Recorder,
    http_request: String,
    http_response: String,
    received: Vec<Event>,
    close: CloseInfo,
    duration_ms: u64,
    opened: bool,
    throughput: Option<report::model::Throughput>,
}

/// The standard opening handshake, then the steps.
async fn standard(
    mut io: Box<dyn conn::Io>,
    target: &Target,
    settings: &Settings,
    case: &Case,
    out: &mut Outcome,
) -> judge::Judgement {
    // A case that needs permessage-deflate offers it (as an extra request header).
    let offer = case.deflate.as_ref().map(|d| d.offer.join(", "));
    let with_offer;
    let target = match &offer {
        Some(o) => {
            let mut t = target.clone();
            t.extra_headers
                .push(("Sec-WebSocket-Extensions".into(), o.clone()));
            with_offer = t;
            &with_offer
        }
        None => target,
    };
    match conn::open(&mut io, target, settings).await {
        Err(f) => {
            out.rec.octets(Dir::Tx, &f.request);
            if !f.received.is_empty() {
                out.rec.octets(Dir::Rx, &f.received);
            }
            out.rec.note(f.reason.clone());
            out.http_request = String::from_utf8_lossy(&f.request).into_owned();
            out.http_response = String::from_utf8_lossy(&f.received).into_owned();
            out.close.was_open_handshake_timeout = f.timed_out;
            out.close.was_not_clean_reason = Some(f.reason.clone());
            judge::never_opened(&f.reason)
        }
        Ok(opened) => {
            out.rec.octets(Dir::Tx, &opened.request);
            out.rec.octets(Dir::Rx, opened.response_text.as_bytes());
            out.http_request = String::from_utf8_lossy(&opened.request).into_owned();
            out.http_response = opened.response_text.clone();
            let mut session = Session {
                io,
                leftover: opened.leftover,
                deflate: None,
                role: Role::Client,
                preamble: Vec::new(),
            };
            let Some(offer) = offer else {
                return play_steps(session, case, settings, out).await;
            };
            let answer = opened.response.headers_named("Sec-WebSocket-Extensions");
            match deflate_check::check(&offer, &answer, false) {
                Ok(p) => {
                    session.deflate = p;
                    play_negotiated(session, case, settings, out).await
                }
                Err(e) => {
                    let mut j = play_steps(session, &just_close(case), settings, out).await;
                    j.behavior = Verdict::Failed;
                    j.result = format!("invalid permessage-deflate answer: {e}");
                    j
                }
            }
        }
    }
}

/// Play a case that may need permessage-deflate: when it does and the handshake did
/// not negotiate it, the case is UNIMPLEMENTED and the tester closes at once
/// (Autobahn 12.x/13.x).
async fn play_negotiated(
    session: Session,
    case: &Case,
    settings: &Settings,
    out: &mut Outcome,
) -> judge::Judgement {
    if let Some(p) = &session.deflate {
        out.rec
            .note(format!("permessage-deflate negotiated: {p:?}"));
    } else if case.deflate.is_some() {
        let mut j = play_steps(session, &just_close(case), settings, out).await;
        j.behavior = Verdict::Unimplemented;
        j.result = "permessage-deflate was not negotiated".into();
        return j;
    }
    play_steps(session, case, settings, out).await
}

async fn play_steps(
    session: Session,
    case: &Case,
    settings: &Settings,
    out: &mut Outcome,
) -> judge::Judgement {
    let role = session.role;
    let (max_frames_in, max_bytes_in) = play::budget(case);
    let lim = play::PlayLimits {
        max_frames_in,
        max_bytes_in,
        close_handshake_timeout: settings.close_handshake_timeout,
        server_drop_timeout: settings.server_drop_timeout,
        max_message: settings.max_message,
        hard_limit: hard_limit(case, settings),
    };
    let played = play::play(session, case, lim, &mut out.rec).await;
    out.opened = true;
    out.duration_ms = (played.closed_at - played.opened_at).as_millis() as u64;
    out.received = played.events;
    out.close = played.close;
    out.throughput = played.throughput;
    let mut j = judge::judge(
        &case.expect,
        &out.received,
        &out.close,
        &out.rec.tx_frames,
        role,
    );
    // Round trips decide `behavior` themselves (Autobahn 9.x, 12.x, 13.x).
    if let Some((v, why)) = played.verdict {
        j.behavior = v;
        j.result = why;
    }
    j
}

/// A case-specific opening handshake, judged on its own; if a connection results,
/// the steps run (or the tester closes at once when there are none).
async fn custom(
    mut io: Box<dyn conn::Io>,
    h: &crate::case::Handshake,
    target: &Target,
    settings: &Settings,
    case: &Case,
    out: &mut Outcome,
) -> judge::Judgement {
    let key = crate::wire::handshake::generate_key();
    let request = opening::build_request(h, target, &key, &settings.user_agent);
    out.http_request = String::from_utf8_lossy(&request).into_owned();
    out.rec.octets(Dir::Tx, &request);
    let delay = Duration::from_millis(h.delay_ms.unwrap_or(0));
    let pieces = h.chop.map_or(1, |n| request.len().div_ceil(n.max(1))) as u32;
    let limit = settings.open_handshake_timeout + delay.saturating_mul(pieces);
    let answer = opening::exchange(&mut io, &request, h.chop, delay, settings, limit).await;
    let (mut hv, mut hres, accepted) =
        opening::judge_answer(&h.expect, &answer, &key, &request, case.level);
    if h.expect.origin_policy {
        match opening::judge_origin(&request, accepted, settings.origin_allow.as_deref()) {
            Some((v, why)) => (hv, hres) = (v, why),
            None => {
                hv = Verdict::Informational;
                hres = format!(
                    "{} (informational: give --origin-allow to judge Origin handling)",
                    opening::describe_answer(&answer)
                );
            }
        }
    }
    out.rec
        .note(format!("handshake: {}", opening::describe_answer(&answer)));
    let Answer::Response {
        head,
        leftover,
        resp,
    } = answer
    else {
        return judge::Judgement {
            behavior: hv,
            result: hres,
            behavior_close: Verdict::Ok,
            result_close: "no WebSocket connection was opened".into(),
        };
    };
    out.rec.octets(Dir::Rx, &head);
    out.http_response = String::from_utf8_lossy(&head).into_owned();
    if !accepted {
        return judge::Judgement {
            behavior: hv,
            result: hres,
            behavior_close: Verdict::Ok,
            result_close: "no WebSocket connection was opened".into(),
        };
    }
    let close_only;
    let playing = if case.steps.is_empty() || hv == Verdict::Unimplemented {
        close_only = just_close(case);
        &close_only
    } else {
        case
    };
    let offered = opening::request_header(&request, "Sec-WebSocket-Extensions");
    let deflate = deflate_check::check(
        &offered,
        &resp.headers_named("Sec-WebSocket-Extensions"),
        false,
    )
    .ok()
    .flatten();
    if let Some(p) = &deflate {
        out.rec
            .note(format!("permessage-deflate negotiated: {p:?}"));
    }
    let session = Session {
        io,
        leftover,
        deflate,
        role: Role::Client,
        preamble: Vec::new(),
    };
    let mut j = play_steps(session, playing, settings, out).await;
    if hv == Verdict::Unimplemented
        || (report::model::worst(hv, j.behavior) == hv && hv != Verdict::Ok)
    {
        j.behavior = hv;
        j.result = hres;
    }
    j
}

/// The same case with one step: a normal close by the tester.
fn just_close(case: &Case) -> Case {
    let mut c = case.clone();
    c.steps = vec![crate::case::Step::Close(crate::case::CloseStep {
        code: Some(1000),
        reason: None,
    })];
    c.expect.ok.clear();
    c.expect.non_strict = None;
    c.expect.close = crate::case::builder::tester_closes_clean();
    c
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
                let kind = if *binary { "binary" } else { "text" };
                format!("{kind} message ({})", describe_payload(payload))
            }
            Event::Pong(p) => format!("pong ({})", describe_payload(p)),
            Event::Timeout(t) => format!("still open at delay {t}"),
        })
        .collect();
    parts.join(", ")
}

/// `N bytes: "head…"`; a message kept as a digest shows its length and stored head.
fn describe_payload(p: &crate::case::Payload) -> String {
    match p {
        crate::case::Payload::Digest { len, head, .. } => {
            let head = crate::case::decode_hex(head).unwrap_or_default();
            let shown = excerpt(&head);
            let more = if !shown.is_empty() && !shown.ends_with('…') {
                "…"
            } else {
                ""
            };
            format!("{len} bytes{shown}{more}")
        }
        other => {
            let b = other.bytes();
            format!("{} bytes{}", b.len(), excerpt(&b))
        }
    }
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
pub fn describe_expected(case: &Case) -> String {
    if let Some(t) = &case.timing {
        return format!(
            "response time grows at most {:.1}× when the {} value doubles",
            t.max_ratio, t.header
        );
    }
    let mut prefix = String::new();
    if let Some(h) = &case.handshake {
        prefix = match h.expect.outcome {
            crate::case::HandshakeOutcome::Accept => {
                "the server accepts the handshake (101); ".into()
            }
            crate::case::HandshakeOutcome::Reject => {
                "the server refuses the handshake (no 101)".into()
            }
            crate::case::HandshakeOutcome::Either => "the server accepts or refuses; ".into(),
        };
        if h.expect.outcome == crate::case::HandshakeOutcome::Reject {
            return prefix;
        }
    }
    let e = &case.expect;
    let mut s = prefix;
    s.push_str(&format!("events: {}", describe_events(&e.ok)));
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
    } else if c.remote_close_code.is_some() || c.was_clean {
        "the peer closed first"
    } else {
        "the peer ended the connection"
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::Payload;

    #[test]
    fn a_digest_message_is_described_by_its_length_and_head() {
        let long = vec![b'a'; 1000];
        let kept = Payload::received(1000, [7; 20], None, &long[..32], &long[968..]);
        let text = describe_events(&[Event::Message {
            payload: kept,
            binary: false,
        }]);
        assert!(
            text.starts_with("text message (1000 bytes: \"aaaa"),
            "{text}"
        );
    }
}
