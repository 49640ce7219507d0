//! The JUnit XML report (`junit.xml`) for CI systems, written with `quick-junit`.
//!
//! * one `<testsuite>` per section per agent, named `agent / 6.4 UTF-8 Handling – …`,
//!   with the agent and its URL as properties;
//! * one `<testcase>` per case: name `id title`, classname the section key, time the
//!   case's duration;
//! * a `<failure>` when the case fails the run (FAILED, WRONG CODE, UNCLEAN, FAILED BY
//!   CLIENT; NON-STRICT too when the report is strict): message = both verdicts, body =
//!   requirement, verdict reasons, expected, actual and the end of the wire trace;
//! * NON-STRICT (not strict) and INFORMATIONAL cases pass with a `<system-out>` note;
//!   UNIMPLEMENTED cases are `<skipped>`.
//!
//! Text is cleaned for XML: `quick-junit` drops control characters and ANSI escapes, and
//! the noncharacters U+FFFE/U+FFFF, which XML forbids too, are dropped here.

use super::model::{CaseResult, RunReport, Verdict};
use super::terminal::trace_line;
use super::{by_section, section_heading};
use quick_junit::{
    NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite, XmlString,
};
use std::fmt::Write as _;
use std::time::Duration;

/// Trace rows quoted in a failure body (the last ones: where the case went wrong).
const WIRE_ROWS: usize = 8;

/// The report as JUnit XML (with a trailing newline).
pub fn render(report: &RunReport) -> String {
    let tool = if report.tool.is_empty() {
        "wsspec"
    } else {
        report.tool.as_str()
    };
    let mut out = Report::new(text(tool));
    out.set_time(Duration::from_millis(report.duration_ms));
    let timestamp = rfc3339(&report.started);
    for agent in &report.agents {
        for (key, cases) in by_section(&agent.results) {
            let mut suite =
                TestSuite::new(text(&format!("{} / {}", agent.agent, section_heading(key))));
            if let Some(ts) = timestamp {
                suite
                    .extra
                    .insert(XmlString::new("timestamp"), XmlString::new(ts));
            }
            let total = cases
                .iter()
                .fold(0u64, |acc, r| acc.saturating_add(r.duration_ms));
            suite.set_time(Duration::from_millis(total));
            suite.add_property(Property::new("agent", text(&agent.agent)));
            suite.add_property(Property::new("url", text(&agent.url)));
            suite.add_test_cases(cases.into_iter().map(|r| test_case(r, report.strict)));
            out.add_test_suite(suite);
        }
    }
    match out.to_string() {
        Ok(xml) => xml,
        // quick-junit writes into a String; kept as a well-formed, empty report anyway.
        Err(e) => format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <testsuites name=\"wsspec\" tests=\"0\" failures=\"0\" errors=\"1\">\
             <!-- {} --></testsuites>\n",
            text(&e.to_string()).replace("--", "- -")
        ),
    }
}

fn test_case(r: &CaseResult, strict: bool) -> TestCase {
    let overall = r.overall();
    let verdicts = format!(
        "behavior {}, close {}",
        r.behavior.as_str(),
        r.behavior_close.as_str()
    );
    let (status, note) = if overall.is_failure(strict) {
        let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
        st.set_message(verdicts);
        st.set_type(overall.as_str());
        st.set_description(text(&failure_body(r)));
        (st, None)
    } else if overall == Verdict::Unimplemented {
        let mut st = TestCaseStatus::skipped();
        st.set_message(format!("UNIMPLEMENTED: {verdicts}"));
        st.set_description(text(&reasons(r)));
        (st, None)
    } else if matches!(overall, Verdict::NonStrict | Verdict::Informational) {
        let mut note = format!("{}: {verdicts}\n", overall.as_str());
        note.push_str(&reasons(r));
        let _ = write!(
            note,
            "expected: {}\nactual: {}\n",
            clip(&r.expected),
            clip(&r.actual)
        );
        (TestCaseStatus::success(), Some(note))
    } else {
        let measured = r
            .throughput
            .as_ref()
            .map(|t| format!("measured: {}\n", t.describe()));
        (TestCaseStatus::success(), measured)
    };
    let mut tc = TestCase::new(text(&format!("{} {}", r.id, r.title)), status);
    tc.set_classname(text(&r.section));
    tc.set_time(Duration::from_millis(r.duration_ms));
    if let Some(note) = note {
        tc.set_system_out(text(&note));
    }
    tc
}

fn reasons(r: &CaseResult) -> String {
    format!(
        "behavior: {} — {}\nclose: {} — {}\n",
        r.behavior.as_str(),
        clip(&r.result),
        r.behavior_close.as_str(),
        clip(&r.result_close)
    )
}

fn failure_body(r: &CaseResult) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "requirement: {}", clip(&r.requirement));
    if !r.rfc.is_empty() {
        let _ = writeln!(s, "rfc: {}", clip(&r.rfc));
    }
    s.push_str(&reasons(r));
    let _ = writeln!(s, "expected: {}", clip(&r.expected));
    let _ = writeln!(s, "actual: {}", clip(&r.actual));
    if !r.trace.is_empty() {
        let skip = r.trace.len().saturating_sub(WIRE_ROWS);
        let earlier = skip.saturating_add(r.trace_dropped);
        s.push_str("wire:\n");
        if earlier > 0 {
            let _ = writeln!(
                s,
                "  … {earlier} earlier rows (see index.html or report.json)"
            );
        }
        for row in r.trace.iter().skip(skip) {
            let _ = writeln!(s, "  {}", trace_line(row));
        }
    }
    s
}

/// At most 2000 characters of a text.
fn clip(s: &str) -> String {
    const MAX: usize = 2000;
    match s.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_string(),
    }
}

/// Text safe for XML 1.0 (control characters go in [`XmlString::new`]).
fn text(s: &str) -> XmlString {
    if s.contains(['\u{fffe}', '\u{ffff}']) {
        XmlString::new(s.replace(['\u{fffe}', '\u{ffff}'], ""))
    } else {
        XmlString::new(s)
    }
}

/// `started` when it is the model's `YYYY-MM-DDTHH:MM:SS[.fff]Z` (a valid RFC 3339
/// timestamp for the `timestamp` attribute); None otherwise.
fn rfc3339(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let shape = b.len() >= 20
        && digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && b.get(10) == Some(&b'T')
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
        && b.get(16) == Some(&b':')
        && digits(17..19)
        && b.last() == Some(&b'Z');
    let frac = match b.get(19) {
        Some(b'Z') => b.len() == 20,
        Some(b'.') => b.len() > 21 && digits(20..b.len() - 1),
        _ => false,
    };
    (shape && frac).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::{AgentReport, SCHEMA_VERSION};

    fn report(results: Vec<CaseResult>, strict: bool) -> RunReport {
        RunReport {
            schema: SCHEMA_VERSION,
            tool: "wsspec 0.1.0".into(),
            started: "2025-01-01T00:00:00.000Z".into(),
            duration_ms: 1500,
            strict,
            agents: vec![AgentReport {
                role: Default::default(),
                agent: "gws".into(),
                url: "ws://127.0.0.1:9001".into(),
                results,
            }],
        }
    }

    #[test]
    fn counts_follow_verdicts() {
        let results = vec![
            CaseResult::sample("2.1", Verdict::Ok, Verdict::Ok),
            CaseResult::sample("2.5", Verdict::Failed, Verdict::Ok),
            CaseResult::sample("6.4.1", Verdict::NonStrict, Verdict::Ok),
            CaseResult::sample("12.1.1", Verdict::Unimplemented, Verdict::Unimplemented),
        ];
        let lax = Report::deserialize_from_str(&render(&report(results.clone(), false)));
        let lax = lax.expect("parses");
        assert_eq!(lax.test_suites.len(), 3);
        assert_eq!((lax.tests, lax.failures, lax.skipped), (4, 1, 1));
        let strict = Report::deserialize_from_str(&render(&report(results, true))).expect("parses");
        assert_eq!((strict.tests, strict.failures, strict.skipped), (4, 2, 1));
        let names: Vec<&str> = strict.test_suites.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "gws / 2 Pings/Pongs",
                "gws / 6.4 UTF-8 Handling – Fail-fast on invalid UTF-8",
                "gws / 12.1 WebSocket Compression (different payloads) – Large JSON data file (utf8, 194056 bytes)"
            ]
        );
    }

    #[test]
    fn timestamps() {
        assert!(rfc3339("2025-01-01T00:00:00.000Z").is_some());
        assert!(rfc3339("2025-01-01T00:00:00Z").is_some());
        assert!(rfc3339("2025-01-01T00:00:00.Z").is_none());
        assert!(rfc3339("2025-01-01 00:00:00Z").is_none());
        assert!(rfc3339("").is_none());
        assert!(rfc3339("éééééééééééééééééééééé").is_none());
    }

    #[test]
    fn hostile_text_stays_well_formed() {
        let mut r = CaseResult::sample("2.5", Verdict::Failed, Verdict::Ok);
        r.actual = "]]></failure><x a=\"\u{0}\u{1b}[31m\u{fffe}\u{ffff}&".repeat(3000);
        r.title = "<\"'>".into();
        let xml = render(&report(vec![r], false));
        let back = Report::deserialize_from_str(&xml).expect("well-formed");
        assert_eq!(back.failures, 1);
        assert!(!xml.contains('\u{fffe}'));
    }
}
