//! Size bounds for the report files: what one case may contribute to `report.json`,
//! `index.html` and the Autobahn files, so that a full run stays small enough to open
//! and to attach in CI (issue 9: report.json ≤ 10 MB, index.html ≤ 8 MB).
//!
//! The run itself keeps more (the engine's trace cap, every received event); only the
//! files are bounded, and only the cases that exceed a bound are touched — in practice
//! the floods and header bombs of the `security/…` section and section 9's long
//! traces. What is cut is said where it was cut, and the evidence of a failure
//! survives: traces keep their head and their tail (a failure shows at the end), event
//! lists their first and last events, long texts their beginning.

use super::model::{CaseResult, Dir, RunReport, TraceRow, TraceWhat};
use std::borrow::Cow;

/// Trace rows kept per case in the files (half from the head, half from the tail).
pub const TRACE_ROWS: usize = 300;
/// Received events kept per case in the files (half from the start, half from the end).
pub const EVENTS: usize = 200;
/// Longest free text kept per field (descriptions, HTTP heads), in bytes.
pub const TEXT: usize = 4 << 10;

/// The report as the files show it: `report` itself when every case is within the
/// bounds, else a copy with the oversized cases cut down.
pub fn bounded(report: &RunReport) -> Cow<'_, RunReport> {
    let over = report.agents.iter().flat_map(|a| &a.results).any(exceeds);
    if !over {
        return Cow::Borrowed(report);
    }
    let mut r = report.clone();
    for c in r.agents.iter_mut().flat_map(|a| a.results.iter_mut()) {
        if exceeds(c) {
            bound_case(c);
        }
    }
    Cow::Owned(r)
}

fn exceeds(c: &CaseResult) -> bool {
    c.trace.len() > TRACE_ROWS
        || c.received.len() > EVENTS
        || [
            &c.actual,
            &c.expected,
            &c.result,
            &c.result_close,
            &c.http_request,
            &c.http_response,
        ]
        .iter()
        .any(|t| t.len() > TEXT)
}

fn bound_case(c: &mut CaseResult) {
    if c.trace.len() > TRACE_ROWS {
        let head = TRACE_ROWS / 2;
        // One row of the tail half makes room for the note.
        let tail = TRACE_ROWS - head - 1;
        let cut = c.trace.len() - head - tail;
        let t_us = c.trace.get(head).map_or(0, |r| r.t_us);
        let mut rows: Vec<TraceRow> = c.trace.drain(..head).collect();
        rows.push(TraceRow {
            t_us,
            dir: Dir::Note,
            what: TraceWhat::Note {
                text: format!(
                    "… {cut} trace rows left out of the report files (the run recorded {})",
                    c.trace.len() + head
                ),
            },
        });
        let skip = c.trace.len() - tail;
        rows.extend(c.trace.drain(skip..));
        c.trace = rows;
        c.trace_dropped = c.trace_dropped.saturating_add(cut);
    }
    for t in [
        &mut c.expected,
        &mut c.result,
        &mut c.result_close,
        &mut c.http_request,
        &mut c.http_response,
    ] {
        cut_text(t);
    }
    let events = c.received.len();
    cut_text(&mut c.actual);
    if events > EVENTS {
        let head = EVENTS / 2;
        let skip = events - (EVENTS - head);
        c.received.drain(head..skip);
        c.actual.push_str(&format!(
            " [the report files keep the first {head} and the last {} of {events} received events]",
            EVENTS - head
        ));
    }
}

/// Cut `t` to at most [`TEXT`] bytes (at a character boundary), saying how much went.
fn cut_text(t: &mut String) {
    if t.len() <= TEXT {
        return;
    }
    let mut end = TEXT;
    while !t.is_char_boundary(end) {
        end -= 1;
    }
    let left = t.len() - end;
    t.truncate(end);
    t.push_str(&format!(
        " … [{left} more bytes left out of the report files]"
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{Event, Payload};
    use crate::report::model::Verdict;

    fn note(i: usize) -> TraceRow {
        TraceRow {
            t_us: i as u64,
            dir: Dir::Note,
            what: TraceWhat::Note {
                text: format!("row {i}"),
            },
        }
    }

    #[test]
    fn long_cases_keep_head_and_tail() {
        let mut c = CaseResult::sample("security/x", Verdict::Ok, Verdict::Ok);
        c.trace = (0..1000).map(note).collect();
        c.received = (0..5000)
            .map(|i| Event::Pong(Payload::Text(i.to_string())))
            .collect();
        c.actual = "é".repeat(10_000);
        c.http_request = "x".repeat(TEXT);
        bound_case(&mut c);
        assert_eq!(c.trace.len(), TRACE_ROWS);
        assert_eq!(c.trace[0], note(0));
        assert_eq!(c.trace[TRACE_ROWS - 1], note(999));
        assert!(matches!(&c.trace[TRACE_ROWS / 2].what,
            TraceWhat::Note { text } if text.starts_with("… 701 trace rows left out")));
        assert_eq!(c.received.len(), EVENTS);
        assert_eq!(c.received[0], Event::Pong(Payload::Text("0".into())));
        assert_eq!(
            c.received[EVENTS - 1],
            Event::Pong(Payload::Text("4999".into()))
        );
        assert!(c.actual.len() < TEXT + 200, "{}", c.actual.len());
        assert!(c.actual.ends_with("of 5000 received events]"));
        // At the bound: untouched.
        assert_eq!(c.http_request.len(), TEXT);
    }
}
