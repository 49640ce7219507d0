//! Autobahn|Testsuite-compatible output: `index.json` and one `<agent>_case_<id>.json`
//! per case, with Autobahn's file names, keys and formatting (Python 2
//! `json.dumps(sort_keys=True, indent=3)`), so that scripts written for Autobahn reports
//! read ours unchanged.
//!
//! Where our model has no Autobahn equivalent:
//! * `reportCompressionRatio` is `true` for 12.x and 13.x and `trafficStats` is filled
//!   for those that passed (counted up to the last echo), as in Autobahn; `reportTime`
//!   is `true` for 9.x, 12.x and 13.x as in Autobahn.
//! * `isServer` is `true` when wsspec played the server (tested a client).
//! * the wire log of 9.x, 12.x and 13.x leaves the body of the case out, as Autobahn
//!   does (`["WLM", false]` … `["WLM", true]` around it: handshake and close only).
//! * wire-log notes (timers, violations, in words) are written as `["NOTE", text]`,
//!   a row type Autobahn does not have. Tools that dispatch on the row tag should skip
//!   unknown tags; Autobahn's own timer rows (`KL`, `KLE`, `TI`, …) are not produced.
//! * Case ids that are slugs (`handshake/no-key`) get every character outside
//!   `A-Za-z0-9_-` replaced by `_` in file names, so a file name is never a path.

use super::model::{AgentReport, CaseResult, Dir, TraceRow, TraceWhat, Traffic};
use crate::case::{decode_hex, encode_hex, id_sort_key, Event};
use crate::rules::Role;
use serde_json::{json, Map, Value};
use std::fmt::Write as _;
use std::path::Path;

/// Bytes of data kept in an abbreviated wire-log or event payload.
const LOG_BYTES: usize = 64;
/// Data longer than this gets `" ..."` appended (64 minus the ellipsis).
const LOG_ELLIPSIS_OVER: u64 = 60;

/// Autobahn's report file base name for (agent, case id): the agent lower-cased, every
/// character outside `a-z0-9` replaced by a space, trimmed, spaces turned into `_`; then
/// `_case_` and the id with `.` → `_`.
///
/// `("gws/server@v1.8.0", "2.5")` → `gws_server_v1_8_0_case_2_5`.
pub fn file_base(agent: &str, id: &str) -> String {
    let spaced: String = agent
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                ' '
            }
        })
        .collect();
    let id: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{}_case_{id}", spaced.trim_matches(' ').replace(' ', "_"))
}

/// `index.json`: `{agent: {id: {behavior, behaviorClose, duration, remoteCloseCode,
/// reportfile}}}` for every case of every agent.
pub fn index_json(report: &super::model::RunReport) -> Value {
    let mut agents = Map::new();
    for a in &report.agents {
        let entry = agents
            .entry(a.agent.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(cases) = entry {
            for r in &a.results {
                cases.insert(
                    r.id.clone(),
                    json!({
                        "behavior": r.behavior.as_str(),
                        "behaviorClose": r.behavior_close.as_str(),
                        "duration": r.duration_ms,
                        "remoteCloseCode": r.close.remote_close_code,
                        "reportfile": format!("{}.json", file_base(&a.agent, &r.id)),
                    }),
                );
            }
        }
    }
    Value::Object(agents)
}

/// Autobahn's `trafficStats` object (its key names; ratios `null` when undefined).
fn traffic_stats(t: &Traffic) -> Value {
    let (o, i) = (&t.outgoing, &t.incoming);
    json!({
        "incomingCompressionRatio": i.compression_ratio(),
        "incomingOctetsAppLevel": i.app_octets,
        "incomingOctetsWebSocketLevel": i.websocket_octets,
        "incomingOctetsWireLevel": i.wire_octets,
        "incomingWebSocketFrames": i.frames,
        "incomingWebSocketMessages": i.messages,
        "incomingWebSocketOverhead": i.overhead(),
        "outgoingCompressionRatio": o.compression_ratio(),
        "outgoingOctetsAppLevel": o.app_octets,
        "outgoingOctetsWebSocketLevel": o.websocket_octets,
        "outgoingOctetsWireLevel": o.wire_octets,
        "outgoingWebSocketFrames": o.frames,
        "outgoingWebSocketMessages": o.messages,
        "outgoingWebSocketOverhead": o.overhead(),
        "preopenIncomingOctetsWireLevel": i.preopen_wire_octets,
        "preopenOutgoingOctetsWireLevel": o.preopen_wire_octets,
    })
}

/// The per-case JSON object, with every key Autobahn writes.
pub fn case_json(agent: &str, role: Role, r: &CaseResult) -> Value {
    let family = autobahn_section(&r.id);
    let expected = if matches!(family, Some(9 | 12 | 13)) {
        // Autobahn's 9.x, 12.x and 13.x judge by measurement, not by events.
        Value::Object(Map::new())
    } else {
        let mut m = Map::new();
        m.insert("OK".into(), events(&r.expect.ok));
        if let Some(ns) = &r.expect.non_strict {
            m.insert("NON-STRICT".into(), events(ns));
        }
        Value::Object(m)
    };
    let ec = &r.expect.close;
    let mut expected_close = Map::new();
    expected_close.insert("closeCode".into(), json!(ec.codes));
    expected_close.insert("closedByMe".into(), json!(ec.closed_by_me));
    expected_close.insert("requireClean".into(), json!(ec.require_clean));
    if ec.wrong_closer_fatal {
        expected_close.insert("closedByWrongEndpointIsFatal".into(), json!(true));
    }
    let c = &r.close;
    // Autobahn reports compression for its deflate sections, and traffic once all the
    // echoes came back (the snapshot the round trips took then).
    let compression = matches!(family, Some(12 | 13));
    let traffic = match &r.throughput {
        Some(t) if compression => traffic_stats(&t.traffic),
        _ => Value::Null,
    };
    let or_unknown = |s: &str| {
        if s.is_empty() {
            "?".to_string()
        } else {
            s.to_string()
        }
    };
    json!({
        "agent": agent,
        "behavior": r.behavior.as_str(),
        "behaviorClose": r.behavior_close.as_str(),
        "case": r.index,
        "closedByMe": c.closed_by_me,
        "createStats": true,
        "createWirelog": true,
        "description": r.title,
        "droppedByMe": c.dropped_by_me,
        "duration": r.duration_ms,
        "expectation": r.expected,
        "expected": expected,
        "expectedClose": Value::Object(expected_close),
        "failedByMe": c.failed_by_me,
        "httpRequest": or_unknown(&r.http_request),
        "httpResponse": or_unknown(&r.http_response),
        "id": r.id,
        "isServer": role == Role::Server,
        "localCloseCode": c.local_close_code,
        "localCloseReason": c.local_close_reason,
        "received": events(&r.received),
        "remoteCloseCode": c.remote_close_code,
        "remoteCloseReason": c.remote_close_reason,
        "reportCompressionRatio": compression,
        "reportTime": matches!(family, Some(9 | 12 | 13)),
        "result": r.result,
        "resultClose": r.result_close,
        "rxFrameStats": r.rx_frame_stats,
        "rxOctetStats": r.rx_octet_stats,
        "started": r.started,
        "trafficStats": traffic,
        "txFrameStats": r.tx_frame_stats,
        "txOctetStats": r.tx_octet_stats,
        "wasClean": c.was_clean,
        "wasCloseHandshakeTimeout": c.was_close_handshake_timeout,
        "wasNotCleanReason": c.was_not_clean_reason,
        "wasOpenHandshakeTimeout": c.was_open_handshake_timeout,
        "wasServerConnectionDropTimeout": c.was_server_connection_drop_timeout,
        "wirelog": wirelog(&r.trace, matches!(family, Some(9 | 12 | 13))),
    })
}

/// The wire log. For 9.x, 12.x and 13.x, as Autobahn does, the body of the case is left
/// out: the rows up to the first data frame, `["WLM", false]` (wire log off), then,
/// when the trace has the closing handshake, `["WLM", true]` and the rows from the
/// first close frame on.
fn wirelog(trace: &[TraceRow], body_off: bool) -> Vec<Value> {
    if !body_off {
        return trace.iter().map(wirelog_row).collect();
    }
    let is_frame = |r: &TraceRow, close: bool| matches!(&r.what, TraceWhat::Frame { opcode, .. } if (*opcode == 8) == close && (close || *opcode < 8));
    let Some(body) = trace.iter().position(|r| is_frame(r, false)) else {
        return trace.iter().map(wirelog_row).collect();
    };
    let mut out: Vec<Value> = trace[..body].iter().map(wirelog_row).collect();
    out.push(json!(["WLM", false]));
    if let Some(close) = trace[body..].iter().position(|r| is_frame(r, true)) {
        out.push(json!(["WLM", true]));
        out.extend(trace[body + close..].iter().map(wirelog_row));
    }
    out
}

/// Serialize like Python 2's `json.dumps(v, sort_keys=True, indent=3)` as Autobahn
/// writes its reports: keys sorted, 3-space indent, `,` at line ends and `": "` after
/// keys, non-ASCII as `\uXXXX` (surrogate pairs above U+FFFF), floats as Python's
/// `repr`. No trailing newline.
pub fn python_json(v: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, v, 0);
    out
}

/// Write `<dir>/<file_base>.json` for every case of every agent, then `<dir>/index.json`
/// (last, so that the index never names a file not yet written). Creates `dir`.
pub fn write_dir(report: &super::model::RunReport, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for AgentReport {
        agent,
        results,
        role,
        ..
    } in &report.agents
    {
        for r in results {
            let path = dir.join(format!("{}.json", file_base(agent, &r.id)));
            std::fs::write(path, python_json(&case_json(agent, *role, r)))?;
        }
    }
    std::fs::write(dir.join("index.json"), python_json(&index_json(report)))
}

/// The top-level section number of an Autobahn id (`9` for `9.1.2`); `None` for slugs.
fn autobahn_section(id: &str) -> Option<u64> {
    let (nums, slug) = id_sort_key(id);
    if slug.is_empty() {
        nums.first().copied()
    } else {
        None
    }
}

/// Events as Autobahn arrays: `["message", text, isBinary]`, `["pong", text]`,
/// `["timeout", tag]`.
fn events(list: &[Event]) -> Value {
    Value::Array(
        list.iter()
            .map(|e| match e {
                Event::Message { payload, binary } => {
                    let b = payload.bytes();
                    json!(["message", log_text(&b, b.len() as u64), binary])
                }
                Event::Pong(payload) => {
                    let b = payload.bytes();
                    json!(["pong", log_text(&b, b.len() as u64)])
                }
                Event::Timeout(tag) => json!(["timeout", tag]),
            })
            .collect(),
    )
}

/// One trace row as an Autobahn wire-log row.
fn wirelog_row(row: &TraceRow) -> Value {
    let rx = row.dir == Dir::Rx;
    match &row.what {
        TraceWhat::Octets { len, hex } => {
            let kept: String = hex
                .chars()
                .filter(char::is_ascii_hexdigit)
                .take(LOG_BYTES * 2)
                .collect();
            let data = json!([len, ellipsis(kept, *len as u64)]);
            if rx {
                json!(["RO", data])
            } else {
                json!(["TO", data, false])
            }
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
            let text = match decode_hex(payload_hex) {
                Ok(b) => log_text(&b, *len),
                Err(_) => ellipsis(payload_text.clone().unwrap_or_default(), *len),
            };
            let mask = if *masked { mask.clone() } else { None };
            if rx {
                json!(["RF", [len, text], opcode, fin, rsv, masked, mask])
            } else {
                json!(["TF", [len, text], opcode, fin, rsv, mask, null, null, false])
            }
        }
        TraceWhat::Note { text } => json!(["NOTE", text]),
    }
}

/// Autobahn's abbreviation of payload data: the first 64 bytes as UTF-8 text, or
/// `"0x"` + hex when they are not valid UTF-8 (a multi-byte character cut at byte 64
/// counts as invalid); `" ..."` appended when the whole data is longer than 60 bytes.
fn log_text(bytes: &[u8], len: u64) -> String {
    let kept = &bytes[..bytes.len().min(LOG_BYTES)];
    let text = match std::str::from_utf8(kept) {
        Ok(s) => s.to_string(),
        Err(_) => format!("0x{}", encode_hex(kept)),
    };
    ellipsis(text, len)
}

fn ellipsis(mut s: String, len: u64) -> String {
    if len > LOG_ELLIPSIS_OVER {
        s.push_str(" ...");
    }
    s
}

const INDENT: &str = "   ";

fn write_value(out: &mut String, v: &Value, level: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                let _ = write!(out, "{i}");
            } else if let Some(u) = n.as_u64() {
                let _ = write!(out, "{u}");
            } else if let Some(f) = n.as_f64() {
                out.push_str(&python_float(f));
            } else {
                out.push_str(&n.to_string());
            }
        }
        Value::String(s) => write_str(out, s),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                push_indent(out, level + 1);
                write_value(out, item, level + 1);
            }
            out.push('\n');
            push_indent(out, level);
            out.push(']');
        }
        Value::Object(map) if map.is_empty() => out.push_str("{}"),
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, item)) in entries.into_iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                push_indent(out, level + 1);
                write_str(out, k);
                out.push_str(": ");
                write_value(out, item, level + 1);
            }
            out.push('\n');
            push_indent(out, level);
            out.push('}');
        }
    }
}

fn push_indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str(INDENT);
    }
}

/// A JSON string as Python's `ensure_ascii` writes it: only printable ASCII is kept.
fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// Python's `repr(float)`: the shortest round-trip digits, positional when the decimal
/// exponent is in -4..16, else `d.ddde+XX`.
fn python_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "-1.2345e-7".
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if f.is_sign_negative() { "-" } else { "" };
    let decpt = exp + 1; // position of the decimal point after the first digit
    let n = digits.len() as i32;
    let body = if decpt <= -4 || decpt > 16 {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{first}{frac}e{esign}{:02}", exp.unsigned_abs())
    } else if decpt <= 0 {
        format!("0.{}{digits}", "0".repeat(decpt.unsigned_abs() as usize))
    } else if decpt >= n {
        format!("{digits}{}.0", "0".repeat((decpt - n) as usize))
    } else {
        let (int, frac) = digits.split_at(decpt as usize);
        format!("{int}.{frac}")
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::Payload;
    use crate::report::model::{RunReport, Verdict, SCHEMA_VERSION};

    #[test]
    fn file_base_matches_autobahn() {
        assert_eq!(
            file_base("gws/server@v1.8.0", "2.5"),
            "gws_server_v1_8_0_case_2_5"
        );
        assert_eq!(
            file_base("UnknownServer", "1.1.1"),
            "unknownserver_case_1_1_1"
        );
        assert_eq!(
            file_base("aiohttp-2.1.0 + uvloop-0.8.0", "1.1.1"),
            "aiohttp_2_1_0___uvloop_0_8_0_case_1_1_1"
        );
        // Trimmed at both ends only; inner runs stay one `_` per character.
        assert_eq!(file_base("  -Ws--x!  ", "12.1.10"), "ws__x_case_12_1_10");
        assert_eq!(file_base("ünï", "1.1.1"), "n_case_1_1_1");
        assert_eq!(file_base("ws", "handshake/../x"), "ws_case_handshake____x");
    }

    #[test]
    fn python_json_formatting() {
        let v = json!({
            "zeta": [1, -2, 3.5, 1e16, 1e-5, 0.0001, 123456789.125, -0.0, 1e22],
            "alpha": {"b": null, "a": true, "c": false},
            "empty": {"list": [], "map": {}},
            "text": "h\u{e9}llo \u{1F600} \"q\" \\ /\n\t\u{1}\u{7f}",
            "Big": 18446744073709551615u64,
        });
        let want = r#"{
   "Big": 18446744073709551615,
   "alpha": {
      "a": true,
      "b": null,
      "c": false
   },
   "empty": {
      "list": [],
      "map": {}
   },
   "text": "h\u00e9llo \ud83d\ude00 \"q\" \\ /\n\t\u0001\u007f",
   "zeta": [
      1,
      -2,
      3.5,
      1e+16,
      1e-05,
      0.0001,
      123456789.125,
      -0.0,
      1e+22
   ]
}"#;
        assert_eq!(python_json(&v), want);
        assert_eq!(python_json(&json!([])), "[]");
        assert_eq!(python_json(&json!({})), "{}");
        assert_eq!(python_json(&json!("x")), "\"x\"");
    }

    #[test]
    fn python_float_repr() {
        let cases = [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (1e15, "1000000000000000.0"),
            (1.5e16, "1.5e+16"),
            (1.234e-7, "1.234e-07"),
            (2.5e-4, "0.00025"),
            (1e100, "1e+100"),
            (-12.75, "-12.75"),
            (0.0, "0.0"),
        ];
        for (f, want) in cases {
            assert_eq!(python_float(f), want, "{f}");
        }
    }

    fn report() -> RunReport {
        let mut failing = CaseResult::sample("2.5", Verdict::Failed, Verdict::Ok);
        failing.close.remote_close_code = Some(1002);
        failing.duration_ms = 7;
        RunReport {
            schema: SCHEMA_VERSION,
            tool: "wsspec".into(),
            started: "2025-01-01T00:00:00.000Z".into(),
            duration_ms: 9,
            strict: false,
            agents: vec![
                AgentReport {
                    role: Default::default(),
                    agent: "gws/server@v1.8.0".into(),
                    url: "ws://127.0.0.1:9001".into(),
                    results: vec![
                        CaseResult::sample("1.1.1", Verdict::Ok, Verdict::Ok),
                        failing,
                    ],
                },
                AgentReport {
                    role: Default::default(),
                    agent: "Other".into(),
                    url: "ws://127.0.0.1:9002".into(),
                    results: vec![CaseResult::sample("9.1.1", Verdict::Ok, Verdict::Ok)],
                },
            ],
        }
    }

    #[test]
    fn index_shape() {
        let idx = index_json(&report());
        assert_eq!(
            idx["gws/server@v1.8.0"]["2.5"],
            json!({
                "behavior": "FAILED",
                "behaviorClose": "OK",
                "duration": 7,
                "remoteCloseCode": 1002,
                "reportfile": "gws_server_v1_8_0_case_2_5.json",
            })
        );
        assert_eq!(
            idx["gws/server@v1.8.0"]["1.1.1"]["remoteCloseCode"],
            Value::Null
        );
        assert_eq!(idx["Other"]["9.1.1"]["reportfile"], "other_case_9_1_1.json");
        assert_eq!(idx.as_object().map(Map::len), Some(2));
    }

    const KEYS: [&str; 43] = [
        "agent",
        "behavior",
        "behaviorClose",
        "case",
        "closedByMe",
        "createStats",
        "createWirelog",
        "description",
        "droppedByMe",
        "duration",
        "expectation",
        "expected",
        "expectedClose",
        "failedByMe",
        "httpRequest",
        "httpResponse",
        "id",
        "isServer",
        "localCloseCode",
        "localCloseReason",
        "received",
        "remoteCloseCode",
        "remoteCloseReason",
        "reportCompressionRatio",
        "reportTime",
        "result",
        "resultClose",
        "rxFrameStats",
        "rxOctetStats",
        "started",
        "trafficStats",
        "txFrameStats",
        "txOctetStats",
        "wasClean",
        "wasCloseHandshakeTimeout",
        "wasNotCleanReason",
        "wasOpenHandshakeTimeout",
        "wasServerConnectionDropTimeout",
        "wirelog",
        // nested
        "expectedClose.closeCode",
        "expectedClose.closedByMe",
        "expectedClose.requireClean",
        "expected.OK",
    ];

    #[test]
    fn case_json_has_every_autobahn_key() {
        let mut r = CaseResult::sample("6.4.1", Verdict::NonStrict, Verdict::Ok);
        r.index = 75;
        r.expect.close.wrong_closer_fatal = true;
        r.expect.non_strict = Some(vec![Event::Timeout("A".into())]);
        r.rx_frame_stats.insert("8".into(), 1);
        let v = case_json("gws", Role::Client, &r);
        let obj = v.as_object().expect("object");
        for key in KEYS {
            let found = match key.split_once('.') {
                Some((outer, inner)) => v[outer].get(inner).is_some(),
                None => obj.contains_key(key),
            };
            assert!(found, "missing {key}");
        }
        assert_eq!(obj.len(), 39, "no keys beyond Autobahn's");
        assert_eq!(v["case"], 75);
        assert_eq!(v["description"], "Case 6.4.1");
        assert_eq!(v["httpRequest"], "?");
        assert_eq!(v["trafficStats"], Value::Null);
        assert_eq!(v["isServer"], false);
        assert_eq!(v["reportTime"], false);
        assert_eq!(v["rxFrameStats"], json!({"8": 1}));
        assert_eq!(v["expected"]["NON-STRICT"], json!([["timeout", "A"]]));
        assert_eq!(v["expectedClose"]["closedByWrongEndpointIsFatal"], true);
        assert_eq!(v["localCloseCode"], Value::Null);

        let perf = case_json(
            "gws",
            Role::Server,
            &CaseResult::sample("9.1.1", Verdict::Ok, Verdict::Ok),
        );
        assert_eq!(perf["expected"], json!({}));
        assert_eq!(perf["reportTime"], true);
        assert_eq!(perf["isServer"], true);
        assert!(perf["expectedClose"]
            .get("closedByWrongEndpointIsFatal")
            .is_none());
    }

    #[test]
    fn events_are_abbreviated_like_the_wire_log() {
        let long = "a".repeat(70);
        let list = vec![
            Event::Message {
                payload: Payload::Text("Hello".into()),
                binary: false,
            },
            Event::Message {
                payload: Payload::Text(long.clone()),
                binary: true,
            },
            Event::Pong(Payload::Hex { hex: "fffe".into() }),
            // 63 ASCII bytes then a 2-byte character cut at byte 64: not UTF-8 any more.
            Event::Pong(Payload::Text(format!("{}é", "b".repeat(63)))),
            Event::Pong(Payload::Text("c".repeat(61))),
            Event::Timeout("A".into()),
        ];
        let v = events(&list);
        assert_eq!(v[0], json!(["message", "Hello", false]));
        assert_eq!(
            v[1],
            json!(["message", format!("{} ...", &long[..64]), true])
        );
        assert_eq!(v[2], json!(["pong", "0xfffe"]));
        assert_eq!(
            v[3],
            json!(["pong", format!("0x{}c3 ...", "62".repeat(63))])
        );
        assert_eq!(v[4], json!(["pong", format!("{} ...", "c".repeat(61))]));
        assert_eq!(v[5], json!(["timeout", "A"]));
    }

    #[test]
    fn wirelog_of_timed_sections_leaves_the_body_out() {
        let row = |dir, what| TraceRow { t_us: 0, dir, what };
        let frame = |opcode: u8| TraceWhat::Frame {
            opcode,
            fin: true,
            rsv: 0,
            masked: false,
            mask: None,
            len: 0,
            payload_hex: String::new(),
            payload_text: None,
        };
        let octets = || TraceWhat::Octets {
            len: 2,
            hex: "0000".into(),
        };
        let trace = vec![
            row(Dir::Tx, octets()),
            row(Dir::Rx, octets()),
            row(Dir::Tx, frame(1)),
            row(Dir::Rx, frame(1)),
            row(Dir::Tx, frame(9)),
            row(Dir::Tx, frame(8)),
            row(Dir::Rx, frame(8)),
        ];
        let tags = |v: Vec<Value>| -> Vec<String> {
            v.iter()
                .map(|r| r[0].as_str().unwrap_or("").to_string())
                .collect()
        };
        assert_eq!(
            tags(wirelog(&trace, true)),
            ["TO", "RO", "WLM", "WLM", "TF", "RF"]
        );
        assert_eq!(wirelog(&trace, true)[2], json!(["WLM", false]));
        assert_eq!(wirelog(&trace, false).len(), trace.len());
        // No closing handshake in the trace: the log stays off.
        assert_eq!(tags(wirelog(&trace[..4], true)), ["TO", "RO", "WLM"]);
    }

    #[test]
    fn wirelog_rows() {
        let row = |dir, what| TraceRow { t_us: 0, dir, what };
        let frame = |masked: bool, len: u64, hex: &str| TraceWhat::Frame {
            opcode: 9,
            fin: true,
            rsv: 0,
            masked,
            mask: masked.then(|| "01020304".to_string()),
            len,
            payload_hex: hex.into(),
            payload_text: None,
        };
        let octets = TraceWhat::Octets {
            len: 100,
            hex: "ab".repeat(64),
        };
        assert_eq!(
            wirelog_row(&row(Dir::Rx, octets.clone())),
            json!(["RO", [100, format!("{} ...", "ab".repeat(64))]])
        );
        assert_eq!(
            wirelog_row(&row(
                Dir::Tx,
                TraceWhat::Octets {
                    len: 2,
                    hex: "8900".into()
                }
            )),
            json!(["TO", [2, "8900"], false])
        );
        assert_eq!(
            wirelog_row(&row(Dir::Tx, frame(true, 126, &"fe".repeat(64)))),
            json!([
                "TF",
                [126, format!("0x{} ...", "fe".repeat(64))],
                9,
                true,
                0,
                "01020304",
                null,
                null,
                false
            ])
        );
        assert_eq!(
            wirelog_row(&row(Dir::Rx, frame(false, 2, "6869"))),
            json!(["RF", [2, "hi"], 9, true, 0, false, null])
        );
        assert_eq!(
            wirelog_row(&row(
                Dir::Note,
                TraceWhat::Note {
                    text: "kill timer fired".into()
                }
            )),
            json!(["NOTE", "kill timer fired"])
        );
        // Corrupt hex in a trace never panics.
        let bad = frame(false, 3, "zz1");
        assert_eq!(wirelog_row(&row(Dir::Rx, bad))[1], json!([3, ""]));
    }

    #[test]
    fn write_dir_writes_index_and_cases() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("reports/servers");
        let rep = report();
        write_dir(&rep, &out).expect("write");
        let index = std::fs::read_to_string(out.join("index.json")).expect("index");
        assert_eq!(index, python_json(&index_json(&rep)));
        assert!(index.starts_with(
            "{\n   \"Other\": {\n      \"9.1.1\": {\n         \"behavior\": \"OK\",\n"
        ));
        for name in [
            "gws_server_v1_8_0_case_1_1_1.json",
            "gws_server_v1_8_0_case_2_5.json",
            "other_case_9_1_1.json",
        ] {
            let text = std::fs::read_to_string(out.join(name)).expect(name);
            let v: Value = serde_json::from_str(&text).expect("valid JSON");
            assert!(v["agent"].is_string());
        }
    }
}
