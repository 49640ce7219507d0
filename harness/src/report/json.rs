//! The native JSON report: the serde form of [`RunReport`], pretty-printed. Its `schema`
//! field is [`SCHEMA_VERSION`]; [`read`] refuses reports written by a newer wsspec with
//! a message saying so, rather than a confusing missing-field error.

use super::model::{RunReport, SCHEMA_VERSION};
use crate::error::Error;
use std::path::Path;

/// The report as pretty-printed JSON (no trailing newline).
pub fn to_string(report: &RunReport) -> String {
    match serde_json::to_string_pretty(report) {
        Ok(s) => s,
        // Unreachable with the model's types (string and integer map keys only); kept
        // as valid JSON so that a reader sees what happened.
        Err(e) => serde_json::json!({ "error": e.to_string() }).to_string(),
    }
}

/// Write the report to `path` (with a trailing newline), creating parent directories.
/// The file is written next to its final name and renamed into place, so a reader never
/// sees half a report.
pub fn write(report: &RunReport, path: &Path) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent)?;
        }
    }
    let mut text = to_string(report);
    text.push('\n');
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

/// Read a report written by [`write`]. Unreadable files are [`Error::Io`]; bad JSON,
/// a report of another shape or of a newer schema are [`Error::Usage`] naming
/// `file:line:column` where possible.
pub fn read(path: &Path) -> Result<RunReport, Error> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io(format!("{shown}: {e}")))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| at(&shown, &e, "is not valid JSON"))?;
    match value.get("schema").map(|s| s.as_u64()) {
        None => {
            return Err(Error::Usage(format!(
                "{shown}: not a wsspec JSON report (it has no `schema` field)"
            )))
        }
        Some(None) => {
            return Err(Error::Usage(format!(
                "{shown}: `schema` is not a version number"
            )))
        }
        Some(Some(v)) if v > u64::from(SCHEMA_VERSION) => {
            return Err(Error::Usage(format!(
                "{shown}: report schema {v} was written by a newer wsspec; \
                 this one reads schema {SCHEMA_VERSION} and older"
            )))
        }
        Some(Some(_)) => {}
    }
    // Parse again from the text (not the value) so that errors carry a position.
    serde_json::from_str(&text).map_err(|e| at(&shown, &e, "is not a wsspec report"))
}

/// `file:line:column: message` for a serde_json error.
fn at(file: &impl std::fmt::Display, e: &serde_json::Error, what: &str) -> Error {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let msg = full.strip_suffix(&suffix).unwrap_or(&full);
    Error::Usage(format!("{file}:{}:{}: {what}: {msg}", e.line(), e.column()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{Event, Payload};
    use crate::report::model::{AgentReport, CaseResult, Dir, TraceRow, TraceWhat, Verdict};

    fn report() -> RunReport {
        let mut r = CaseResult::sample("2.5", Verdict::Failed, Verdict::WrongCode);
        r.received = vec![
            Event::Pong(Payload::Hex {
                hex: "fe".repeat(126),
            }),
            Event::Timeout("A".into()),
        ];
        r.expect.tx_frames = Some([(9u8, 1u64), (8, 1)].into_iter().collect());
        r.close.remote_close_code = Some(1002);
        r.close.was_not_clean_reason = Some("peer dropped the TCP connection".into());
        r.rx_frame_stats.insert("8".into(), 1);
        r.trace = vec![
            TraceRow {
                t_us: 12,
                dir: Dir::Tx,
                what: TraceWhat::Octets {
                    len: 2,
                    hex: "8900".into(),
                },
            },
            TraceRow {
                t_us: 30,
                dir: Dir::Rx,
                what: TraceWhat::Frame {
                    opcode: 1,
                    fin: true,
                    rsv: 0,
                    masked: false,
                    mask: None,
                    len: 5,
                    payload_hex: "68c3a96c6c".into(),
                    payload_text: Some("héll".into()),
                },
            },
            TraceRow {
                t_us: 1_000_000,
                dir: Dir::Note,
                what: TraceWhat::Note {
                    text: "kill timer fired".into(),
                },
            },
        ];
        RunReport {
            schema: SCHEMA_VERSION,
            tool: "wsspec 0.1.0".into(),
            started: "2025-01-01T00:00:00.000Z".into(),
            duration_ms: 1234,
            strict: true,
            agents: vec![AgentReport {
                role: Default::default(),
                agent: "tungstenite".into(),
                url: "ws://127.0.0.1:9001".into(),
                results: vec![r, CaseResult::sample("1.1.1", Verdict::Ok, Verdict::Ok)],
            }],
        }
    }

    #[test]
    fn write_then_read_round_trips() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a/b/report.json");
        let original = report();
        write(&original, &path).expect("write");
        let text = std::fs::read_to_string(&path).expect("read back");
        assert!(text.starts_with("{\n  \"schema\": 1,"), "{text}");
        assert!(text.ends_with("}\n"));
        assert_eq!(read(&path).expect("parse"), original);
    }

    #[test]
    fn malformed_json_names_line_and_column() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bad.json");
        std::fs::write(&path, "{\n  \"schema\": 1,\n  \"tool\": oops\n}\n").expect("write");
        let msg = read(&path).expect_err("must fail").to_string();
        let want = format!("{}:3:11: is not valid JSON: expected value", path.display());
        assert_eq!(msg, want);
    }

    #[test]
    fn wrong_shape_names_position() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("shape.json");
        std::fs::write(&path, "{\"schema\": 1, \"tool\": 5}").expect("write");
        let msg = read(&path).expect_err("must fail").to_string();
        assert!(
            msg.starts_with(&format!("{}:1:", path.display()))
                && msg.contains("not a wsspec report"),
            "{msg}"
        );
    }

    #[test]
    fn newer_schema_and_foreign_files_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("new.json");
        let mut v = serde_json::to_value(report()).expect("value");
        v["schema"] = serde_json::json!(SCHEMA_VERSION + 1);
        std::fs::write(&path, v.to_string()).expect("write");
        let msg = read(&path).expect_err("newer").to_string();
        assert!(msg.contains("written by a newer wsspec"), "{msg}");

        std::fs::write(&path, "[1, 2]").expect("write");
        let msg = read(&path).expect_err("foreign").to_string();
        assert!(msg.contains("no `schema` field"), "{msg}");

        let missing = dir.path().join("missing.json");
        assert!(matches!(read(&missing), Err(Error::Io(_))));
    }
}
