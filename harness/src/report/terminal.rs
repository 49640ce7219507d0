//! The report for people: a per-section table of verdict counts, a block for each
//! failed case (requirement, both verdicts with their reasons, expected/actual and the
//! end of the wire trace), and one summary line per agent that scripts can grep:
//!
//! ```text
//! 247 cases, 240 passed, 2 failed, 2 non-strict, 3 informational, 0 unimplemented
//! ```
//!
//! Everything the peer controls (payload text, close reasons) is printed with control
//! characters escaped, so a hostile peer cannot drive the terminal.

use super::model::{CaseResult, Dir, RunReport, TraceRow, TraceWhat, Verdict};
use crate::case::id_sort_key;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use tabled::builder::Builder;
use tabled::settings::object::Columns;
use tabled::settings::{Alignment, Style};

/// Trace rows shown under a failed case (the last ones: where the case went wrong).
const WIRE_ROWS: usize = 8;
/// Payload bytes shown per trace line.
const LINE_BYTES: usize = 32;
/// Payload characters shown per trace line when the payload is text.
const LINE_CHARS: usize = 40;

const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const RED: &str = "\x1b[31m";
const RESET: &str = "\x1b[0m";

/// Full terminal report: for every agent a table with one row per section, then a
/// block for each failed case, then the agent's summary line. With `report.strict`,
/// NON-STRICT cases are listed (and counted) as failures too. `color` wraps verdict
/// words in ANSI colours.
pub fn render(report: &RunReport, color: bool) -> String {
    let mut out = String::new();
    for (n, agent) in report.agents.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "{}  {}", clean(&agent.agent), clean(&agent.url));
        out.push_str(&section_table(&agent.results));
        out.push('\n');

        let mut failed: Vec<&CaseResult> = agent
            .results
            .iter()
            .filter(|r| r.overall().is_failure(report.strict))
            .collect();
        failed.sort_by_key(|r| id_sort_key(&r.id));
        for r in failed {
            out.push('\n');
            out.push_str(&failure_block(r, color));
        }
        out.push('\n');
        out.push_str(&summary_line(&agent.results, report.strict));
        out.push('\n');
    }
    out
}

/// The final summary line alone for one agent. "passed" counts OK cases; "failed"
/// counts the cases that fail the run (with `strict`, NON-STRICT ones included, which
/// are still also counted under "non-strict"). A case is judged by the worse of its two
/// verdicts ([`CaseResult::overall`]).
pub fn summary_line(results: &[CaseResult], strict: bool) -> String {
    let mut c = Counts::default();
    for r in results {
        c.add(r.overall());
    }
    let failed = results
        .iter()
        .filter(|r| r.overall().is_failure(strict))
        .count();
    format!(
        "{} cases, {} passed, {} failed, {} non-strict, {} informational, {} unimplemented",
        results.len(),
        c.ok,
        failed,
        c.non_strict,
        c.info,
        c.unimpl
    )
}

/// One trace row as a single line: time since connect, direction, what happened.
///
/// ```text
/// +1.203ms tx frame op=9 fin=1 rsv=0 len=126 fefefefe…
/// +1.250ms rx octets 4: 8802…
/// +1001.000ms note: kill timer fired
/// ```
pub fn trace_line(row: &TraceRow) -> String {
    let time = format!("+{}.{:03}ms", row.t_us / 1000, row.t_us % 1000);
    let dir = match row.dir {
        Dir::Tx => "tx",
        Dir::Rx => "rx",
        Dir::Note => "note",
    };
    match &row.what {
        TraceWhat::Octets { len, hex } => {
            let shown = hex_excerpt(hex, *len as u64);
            format!("{time} {dir} octets {len}: {shown}")
        }
        TraceWhat::Frame {
            opcode,
            fin,
            rsv,
            masked,
            mask,
            len,
            payload_hex,
            payload_text,
        } => {
            let mut line = format!(
                "{time} {dir} frame op={opcode} fin={} rsv={rsv} len={len}",
                u8::from(*fin)
            );
            if *masked {
                match mask {
                    Some(m) => {
                        let _ = write!(line, " mask={}", clean(m));
                    }
                    None => line.push_str(" masked"),
                }
            }
            if *len > 0 {
                line.push(' ');
                match payload_text {
                    Some(t) => line.push_str(&text_excerpt(t, *len, payload_hex)),
                    None => line.push_str(&hex_excerpt(payload_hex, *len)),
                }
            }
            line
        }
        TraceWhat::Note { text } => match row.dir {
            Dir::Note => format!("{time} note: {}", clean(text)),
            _ => format!("{time} {dir} note: {}", clean(text)),
        },
    }
}

/// Per-section verdict counts.
#[derive(Default)]
struct Counts {
    cases: usize,
    ok: usize,
    non_strict: usize,
    info: usize,
    unimpl: usize,
    failed: usize,
}

impl Counts {
    fn add(&mut self, v: Verdict) {
        self.cases += 1;
        match v {
            Verdict::Ok => self.ok += 1,
            Verdict::NonStrict => self.non_strict += 1,
            Verdict::Informational => self.info += 1,
            Verdict::Unimplemented => self.unimpl += 1,
            Verdict::WrongCode | Verdict::Unclean | Verdict::FailedByClient | Verdict::Failed => {
                self.failed += 1
            }
        }
    }
}

fn section_table(results: &[CaseResult]) -> String {
    let mut sections: BTreeMap<&str, Counts> = BTreeMap::new();
    for r in results {
        sections.entry(&r.section).or_default().add(r.overall());
    }
    let mut keys: Vec<&str> = sections.keys().copied().collect();
    keys.sort_by_key(|k| id_sort_key(k));

    let mut b = Builder::default();
    b.push_record([
        "section",
        "title",
        "cases",
        "OK",
        "NON-STRICT",
        "INFO",
        "UNIMPL",
        "FAILED",
    ]);
    for key in keys {
        let Some(c) = sections.get(key) else { continue };
        let title = crate::catalogue::section_title(key)
            .map(|t| t.to_string())
            .unwrap_or_else(|| key.to_string());
        b.push_record([
            clean(key),
            clean(&title),
            c.cases.to_string(),
            c.ok.to_string(),
            c.non_strict.to_string(),
            c.info.to_string(),
            c.unimpl.to_string(),
            c.failed.to_string(),
        ]);
    }
    let mut table = b.build();
    table.with(Style::sharp());
    table.modify(Columns::new(2..), Alignment::right());
    table.to_string()
}

fn failure_block(r: &CaseResult, color: bool) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} {}  {}",
        paint(r.overall(), color),
        clean(&r.id),
        clean(&r.title)
    );
    if !r.requirement.is_empty() {
        let _ = writeln!(s, "  requirement: {}", clean(&r.requirement));
    }
    if !r.rfc.is_empty() {
        let _ = writeln!(s, "  {}", clean(&r.rfc));
    }
    let _ = writeln!(
        s,
        "  behavior: {} — {}",
        paint(r.behavior, color),
        clean(&r.result)
    );
    let _ = writeln!(
        s,
        "  close: {} — {}",
        paint(r.behavior_close, color),
        clean(&r.result_close)
    );
    let _ = writeln!(s, "  expected: {}", clean(&r.expected));
    let _ = writeln!(s, "  actual:   {}", clean(&r.actual));
    if !r.trace.is_empty() {
        s.push_str("  wire:\n");
        let skip = r.trace.len().saturating_sub(WIRE_ROWS);
        let earlier = skip.saturating_add(r.trace_dropped);
        if earlier > 0 {
            let _ = writeln!(s, "    … {earlier} earlier rows (see the JSON report)");
        }
        for row in &r.trace[skip..] {
            let _ = writeln!(s, "    {}", trace_line(row));
        }
    }
    s
}

fn paint(v: Verdict, color: bool) -> String {
    let code = match v {
        Verdict::Ok => Some(GREEN),
        Verdict::NonStrict => Some(YELLOW),
        Verdict::Informational | Verdict::Unimplemented => None,
        Verdict::WrongCode | Verdict::Unclean | Verdict::FailedByClient | Verdict::Failed => {
            Some(RED)
        }
    };
    match code {
        Some(c) if color => format!("{c}{}{RESET}", v.as_str()),
        _ => v.as_str().to_string(),
    }
}

/// `s` with control characters (ESC, newlines, …) escaped.
fn clean(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The first [`LINE_BYTES`] bytes of a hex string, with "…" when more data existed.
fn hex_excerpt(hex: &str, len: u64) -> String {
    let hex: String = hex
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(LINE_BYTES * 2)
        .collect();
    let shown = (hex.len() / 2) as u64;
    if len > shown {
        format!("{hex}…")
    } else {
        hex
    }
}

/// Quoted payload text, cut to [`LINE_CHARS`] characters, with "…" when more data existed.
fn text_excerpt(text: &str, len: u64, payload_hex: &str) -> String {
    let cut: String = text.chars().take(LINE_CHARS).collect();
    let cut_bytes = cut.len() as u64;
    // The kept text may itself be an excerpt of a longer payload.
    let kept_bytes = (payload_hex.len() / 2) as u64;
    let more = len > cut_bytes || cut.len() < text.len() || kept_bytes > cut_bytes;
    format!("\"{}\"{}", clean(&cut), if more { "…" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::{AgentReport, SCHEMA_VERSION};

    fn sample(id: &str, behavior: Verdict, close: Verdict) -> CaseResult {
        CaseResult::sample(id, behavior, close)
    }

    #[test]
    fn summary_counts_by_worse_verdict() {
        let results = vec![
            sample("1.1.1", Verdict::Ok, Verdict::Ok),
            sample("1.1.2", Verdict::Ok, Verdict::Ok),
            sample("2.5", Verdict::Ok, Verdict::Failed),
            sample("3.1", Verdict::Failed, Verdict::Ok),
            sample("3.2", Verdict::NonStrict, Verdict::Ok),
            sample("7.1.6", Verdict::Informational, Verdict::Informational),
            sample("12.1.1", Verdict::Unimplemented, Verdict::Ok),
            sample("7.3.2", Verdict::Ok, Verdict::WrongCode),
        ];
        assert_eq!(
            summary_line(&results, false),
            "8 cases, 2 passed, 3 failed, 1 non-strict, 1 informational, 1 unimplemented"
        );
        assert_eq!(
            summary_line(&results, true),
            "8 cases, 2 passed, 4 failed, 1 non-strict, 1 informational, 1 unimplemented"
        );
        assert_eq!(
            summary_line(&[], false),
            "0 cases, 0 passed, 0 failed, 0 non-strict, 0 informational, 0 unimplemented"
        );
    }

    fn report(results: Vec<CaseResult>, strict: bool) -> RunReport {
        RunReport {
            schema: SCHEMA_VERSION,
            tool: "wsspec 0.1.0".into(),
            started: "2025-01-01T00:00:00.000Z".into(),
            duration_ms: 10,
            strict,
            agents: vec![AgentReport {
                role: Default::default(),
                agent: "gws/server@v1.8.0".into(),
                url: "ws://127.0.0.1:9001".into(),
                results,
            }],
        }
    }

    fn failing_ping() -> CaseResult {
        let mut r = sample("2.5", Verdict::Failed, Verdict::Ok);
        r.title = "Send a ping with a 126-byte payload".into();
        r.requirement = "The peer fails the connection (close 1002).".into();
        r.rfc = "RFC 6455 §5.5".into();
        r.result = "Actual events differ from any expected.".into();
        r.result_close = "Connection was properly closed".into();
        r.expected = "close 1002 from the peer".into();
        r.actual = "a pong with 126 bytes".into();
        r.trace = (0..10)
            .map(|i| TraceRow {
                t_us: 1000 * i,
                dir: Dir::Note,
                what: TraceWhat::Note {
                    text: format!("step {i}"),
                },
            })
            .collect();
        r
    }

    #[test]
    fn render_has_table_failure_block_and_summary() {
        let results = vec![
            sample("1.1.1", Verdict::Ok, Verdict::Ok),
            sample("1.1.2", Verdict::Ok, Verdict::Ok),
            failing_ping(),
            sample("2.10", Verdict::Ok, Verdict::Ok),
            sample("6.4.1", Verdict::NonStrict, Verdict::Ok),
        ];
        let text = render(&report(results.clone(), false), false);
        assert!(
            text.starts_with("gws/server@v1.8.0  ws://127.0.0.1:9001\n"),
            "{text}"
        );
        // Sections in numeric order, titles from the catalogue or the key.
        let s11 = text.find("│ 1.1 ").expect(&text);
        let s2 = text.find("│ 2 ").expect(&text);
        let s64 = text.find("│ 6.4 ").expect(&text);
        assert!(s11 < s2 && s2 < s64, "{text}");
        assert!(text.contains("NON-STRICT"), "{text}");
        let row2 = text.lines().find(|l| l.starts_with("│ 2 ")).expect(&text);
        let cells: Vec<&str> = row2.split('│').map(str::trim).collect();
        assert_eq!(cells[3..9], ["2", "1", "0", "0", "0", "1"], "{row2}");

        assert!(
            text.contains("\nFAILED 2.5  Send a ping with a 126-byte payload\n"),
            "{text}"
        );
        assert!(text.contains("\n  requirement: The peer fails the connection (close 1002).\n"));
        assert!(text.contains("\n  RFC 6455 §5.5\n"));
        assert!(text.contains("\n  behavior: FAILED — Actual events differ from any expected.\n"));
        assert!(text.contains("\n  close: OK — Connection was properly closed\n"));
        assert!(text.contains("\n  expected: close 1002 from the peer\n"));
        assert!(text.contains("\n  actual:   a pong with 126 bytes\n"));
        assert!(text.contains("\n  wire:\n    … 2 earlier rows (see the JSON report)\n"));
        assert!(text.contains("\n    +9.000ms note: step 9\n"));
        assert!(!text.contains("step 1\n"));
        assert!(
            !text.contains("FAILED 6.4.1"),
            "not strict: NON-STRICT passes"
        );
        assert!(!text.contains('\x1b'));
        assert!(text.ends_with(
            "\n5 cases, 3 passed, 1 failed, 1 non-strict, 0 informational, 0 unimplemented\n"
        ));

        let strict = render(&report(results, true), true);
        assert!(
            strict.contains("\x1b[33mNON-STRICT\x1b[0m 6.4.1"),
            "{strict}"
        );
        assert!(strict.contains("\x1b[31mFAILED\x1b[0m 2.5"));
        assert!(strict.contains("close: \x1b[32mOK\x1b[0m"));
        assert!(strict.ends_with(
            "\n5 cases, 3 passed, 2 failed, 1 non-strict, 0 informational, 0 unimplemented\n"
        ));
    }

    #[test]
    fn trace_lines() {
        let frame = TraceRow {
            t_us: 1203,
            dir: Dir::Tx,
            what: TraceWhat::Frame {
                opcode: 9,
                fin: true,
                rsv: 0,
                masked: true,
                mask: Some("0a0b0c0d".into()),
                len: 126,
                payload_hex: "fe".repeat(64),
                payload_text: None,
            },
        };
        assert_eq!(
            trace_line(&frame),
            format!(
                "+1.203ms tx frame op=9 fin=1 rsv=0 len=126 mask=0a0b0c0d {}…",
                "fe".repeat(32)
            )
        );
        let octets = TraceRow {
            t_us: 1_500_000,
            dir: Dir::Rx,
            what: TraceWhat::Octets {
                len: 4,
                hex: "880203e8".into(),
            },
        };
        assert_eq!(trace_line(&octets), "+1500.000ms rx octets 4: 880203e8");
        let text = TraceRow {
            t_us: 7,
            dir: Dir::Rx,
            what: TraceWhat::Frame {
                opcode: 1,
                fin: false,
                rsv: 4,
                masked: false,
                mask: None,
                len: 6,
                payload_hex: "48690a1b5b6d".into(),
                payload_text: Some("Hi\n\x1b[m".into()),
            },
        };
        assert_eq!(
            trace_line(&text),
            "+0.007ms rx frame op=1 fin=0 rsv=4 len=6 \"Hi\\n\\u{1b}[m\""
        );
        let note = TraceRow {
            t_us: 0,
            dir: Dir::Note,
            what: TraceWhat::Note {
                text: "kill timer fired".into(),
            },
        };
        assert_eq!(trace_line(&note), "+0.000ms note: kill timer fired");
    }

    #[test]
    fn odd_data_does_not_panic() {
        let mut r = failing_ping();
        r.trace = vec![TraceRow {
            t_us: u64::MAX,
            dir: Dir::Rx,
            what: TraceWhat::Frame {
                opcode: 255,
                fin: true,
                rsv: 255,
                masked: true,
                mask: None,
                len: u64::MAX,
                payload_hex: "zzz".into(),
                payload_text: Some("é".repeat(100)),
            },
        }];
        r.section = String::new();
        r.trace_dropped = usize::MAX;
        let text = render(&report(vec![r], false), true);
        assert!(text.contains("FAILED"));
    }
}
