//! The HTML report: one self-contained page (inline CSS and JavaScript, nothing fetched
//! from anywhere; a Content-Security-Policy forbids it) in the spirit of Autobahn's
//! `index.html`:
//!
//! * a header with the tool, start time, duration and one totals row per agent;
//! * `#summary-matrix`: one row per section, one cell per agent with its verdict counts;
//! * a filter bar (all / failures / non-strict / informational, and a search on id and
//!   title);
//! * `#case-matrix`: one row per case grouped by section, one cell per agent
//!   (`data-case="2.5"`) showing the behavior and close verdicts.
//!
//! Clicking a case cell opens `#detail` with everything known about that result:
//! requirement, both verdicts with their reasons, expected/actual, close bookkeeping,
//! the opening handshake and the whole wire trace. Details are built on demand from one
//! JSON blob (`<script type="application/json" id="report-data">`), so a full run of
//! 517 cases × several agents stays one light page. Opening `index.html#case=2.5`
//! (optionally `&agent=N`) expands that case on load.
//!
//! Every string that came from a peer or a case file is escaped: HTML-escaped in the
//! static markup, `<`, `>` and `&` written as `\u003c`… in the JSON blob, and inserted
//! with `textContent` (never as markup) by the script.

use super::model::{
    CaseResult, CloseInfo, Dir, RunReport, TraceRow, TraceWhat, Verdict, TRACE_OCTETS,
};
use super::{human_duration, section_heading, Tally};
use crate::case::{decode_hex, id_sort_key, Level};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

/// What [`id_sort_key`] returns.
type SortKey = (Vec<u64>, String);

/// Characters of payload text shown per trace row.
const TEXT_CHARS: usize = 64;

/// The whole page.
pub fn render(report: &RunReport) -> String {
    let matrix = Matrix::new(report);
    let mut h = String::with_capacity(64 * 1024 + matrix.rows.len() * 512);
    head(&mut h, report);
    h.push_str("<body>\n<div id=\"layout\">\n<main id=\"main\">\n");
    header(&mut h, report);
    summary_matrix(&mut h, report);
    filter_bar(&mut h, &matrix);
    case_matrix(&mut h, report, &matrix);
    h.push_str(
        "</main>\n<aside id=\"detail\" hidden aria-label=\"Case details\"></aside>\n</div>\n",
    );
    h.push_str("<script type=\"application/json\" id=\"report-data\">");
    h.push_str(&data_blob(report));
    h.push_str("</script>\n<script>\n");
    h.push_str(SCRIPT);
    h.push_str("</script>\n</body>\n</html>\n");
    h
}

fn head(h: &mut String, report: &RunReport) {
    let agents: Vec<&str> = report.agents.iter().map(|a| a.agent.as_str()).collect();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; \
         base-uri 'none'; form-action 'none'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"{}\">\n\
         <title>WebSocket conformance – {} – {}</title>\n<style>\n{STYLE}</style>\n</head>\n",
        esc(&report.tool),
        esc(&agents.join(", ")),
        esc(&report.started),
    );
}

fn header(h: &mut String, report: &RunReport) {
    let mode = if report.strict {
        "strict (NON-STRICT fails)"
    } else {
        "default (NON-STRICT passes)"
    };
    let _ = write!(
        h,
        "<header id=\"report-header\">\n<h1>WebSocket conformance report</h1>\n\
         <p class=\"meta\">tool <b id=\"tool\">{}</b> · started <b id=\"started\">{}</b> · \
         duration <b id=\"duration\">{}</b> · mode <b>{mode}</b></p>\n",
        esc(&report.tool),
        esc(&when(&report.started)),
        esc(&human_duration(report.duration_ms)),
    );
    h.push_str(
        "<div class=\"wide\"><table id=\"agent-totals\" class=\"grid\">\n<thead><tr><th>Agent</th><th>URL</th>\
         <th>Result</th><th class=\"num\">Cases</th><th class=\"num\">Passed</th>\
         <th class=\"num\">Failed</th><th class=\"num\">Non-strict</th>\
         <th class=\"num\">Info</th><th class=\"num\">Unimpl</th>\
         <th class=\"num\" title=\"sum of the case durations\">Case time</th></tr></thead>\n<tbody>\n",
    );
    for (n, a) in report.agents.iter().enumerate() {
        let t = Tally::of(&a.results);
        let failed = t.failed(report.strict);
        let (cls, word) = if a.results.is_empty() {
            ("missing", "NO CASES")
        } else if failed > 0 {
            ("failed", "FAIL")
        } else {
            ("ok", "PASS")
        };
        let total_ms = a
            .results
            .iter()
            .fold(0u64, |acc, r| acc.saturating_add(r.duration_ms));
        let _ = writeln!(
            h,
            "<tr data-agent=\"{n}\"><td class=\"agent\">{}</td><td><code>{}</code></td>\
             <td><span class=\"badge v-{cls}\">{word}</span></td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num{}\">{failed}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&a.agent),
            esc(&a.url),
            t.cases,
            t.ok,
            if failed > 0 { " bad" } else { "" },
            t.non_strict,
            t.informational,
            t.unimplemented,
            esc(&human_duration(total_ms)),
        );
    }
    h.push_str("</tbody>\n</table></div>\n</header>\n");
}

fn summary_matrix(h: &mut String, report: &RunReport) {
    // section key → per agent tally
    let mut sections: BTreeMap<&str, Vec<Tally>> = BTreeMap::new();
    for (n, a) in report.agents.iter().enumerate() {
        for r in &a.results {
            let row = sections
                .entry(r.section.as_str())
                .or_insert_with(|| vec![Tally::default(); report.agents.len()]);
            if let Some(t) = row.get_mut(n) {
                t.add(r.overall());
            }
        }
    }
    let mut keys: Vec<&str> = sections.keys().copied().collect();
    keys.sort_by_cached_key(|k| id_sort_key(k));

    h.push_str(
        "<section id=\"summary\">\n<h2>Summary by section</h2>\n\
         <div class=\"wide\"><table id=\"summary-matrix\" class=\"grid\">\n<thead><tr><th>Section</th><th>Title</th>",
    );
    for (n, a) in report.agents.iter().enumerate() {
        let _ = write!(h, "<th data-agent=\"{n}\">{}</th>", esc(&a.agent));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    let mut totals = vec![Tally::default(); report.agents.len()];
    for key in keys {
        let Some(row) = sections.get(key) else {
            continue;
        };
        let title = crate::catalogue::section_title(key).unwrap_or("");
        let _ = write!(
            h,
            "<tr data-section=\"{}\"><td><a href=\"#{}\">{}</a></td><td class=\"title\">{}</td>",
            esc(key),
            section_anchor(key),
            esc(key),
            esc(title),
        );
        for (n, t) in row.iter().enumerate() {
            summary_cell(h, t, n, report.strict);
            if let Some(total) = totals.get_mut(n) {
                total.cases += t.cases;
                total.ok += t.ok;
                total.non_strict += t.non_strict;
                total.informational += t.informational;
                total.unimplemented += t.unimplemented;
                total.failing += t.failing;
            }
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n<tfoot><tr><th colspan=\"2\">All sections</th>");
    for (n, t) in totals.iter().enumerate() {
        summary_cell(h, t, n, report.strict);
    }
    h.push_str("</tr></tfoot>\n</table></div>\n</section>\n");
}

fn summary_cell(h: &mut String, t: &Tally, agent: usize, strict: bool) {
    if t.cases == 0 {
        let _ = write!(h, "<td class=\"sum s-none\" data-agent=\"{agent}\">—</td>");
        return;
    }
    let cls = if t.failed(strict) > 0 {
        "s-fail"
    } else if t.non_strict > 0 {
        "s-ns"
    } else if t.ok > 0 {
        "s-ok"
    } else {
        "s-neutral"
    };
    let _ = write!(
        h,
        "<td class=\"sum {cls}\" data-agent=\"{agent}\"><span class=\"n-ok\">{} OK</span>",
        t.ok
    );
    for (count, class, word) in [
        (t.failing, "failed", "failed"),
        (t.non_strict, "ns", "non-strict"),
        (t.informational, "info", "info"),
        (t.unimplemented, "unimpl", "unimpl"),
    ] {
        if count > 0 {
            let _ = write!(h, "<span class=\"chip v-{class}\">{count} {word}</span>");
        }
    }
    h.push_str("</td>");
}

fn filter_bar(h: &mut String, m: &Matrix) {
    let count = |flag: char| m.rows.iter().filter(|r| r.flags.contains(flag)).count();
    let _ = write!(
        h,
        "<section id=\"cases\">\n<h2>Cases</h2>\n\
         <div id=\"filter-bar\" role=\"toolbar\" aria-label=\"Filter cases\">\
         <span class=\"lbl\">Show</span>\
         <button type=\"button\" data-filter=\"all\" aria-pressed=\"true\">All <span class=\"cnt\">{}</span></button>\
         <button type=\"button\" data-filter=\"f\" aria-pressed=\"false\">Failures <span class=\"cnt\">{}</span></button>\
         <button type=\"button\" data-filter=\"n\" aria-pressed=\"false\">Non-strict <span class=\"cnt\">{}</span></button>\
         <button type=\"button\" data-filter=\"i\" aria-pressed=\"false\">Informational <span class=\"cnt\">{}</span></button>\
         <input type=\"search\" id=\"search\" placeholder=\"Search id or title\" aria-label=\"Search cases by id or title\" autocomplete=\"off\">\
         <span id=\"shown\">{} cases</span></div>\n",
        m.rows.len(),
        count('f'),
        count('n'),
        count('i'),
        m.rows.len(),
    );
    h.push_str("<p id=\"legend\">");
    for v in [
        Verdict::Ok,
        Verdict::NonStrict,
        Verdict::Informational,
        Verdict::Unimplemented,
        Verdict::WrongCode,
        Verdict::Unclean,
        Verdict::FailedByClient,
        Verdict::Failed,
    ] {
        let _ = write!(
            h,
            "<span class=\"badge v-{}\">{}</span> ",
            class(v),
            v.as_str()
        );
    }
    h.push_str(
        "<span class=\"badge v-missing\">— not run</span> \
         <span class=\"hint\">Each cell: behavior | close verdict (and the peer's close \
         code). Click a cell for the details and the wire trace.</span></p>\n\
         <noscript><p class=\"hint\">Filtering and case details need JavaScript.</p></noscript>\n",
    );
}

/// The case rows: every id any agent ran, with the index of each agent's result.
struct Matrix<'a> {
    sections: Vec<(&'a str, Vec<usize>)>,
    rows: Vec<Row<'a>>,
}

struct Row<'a> {
    /// The first result with this id (for id and title).
    first: &'a CaseResult,
    /// Per agent: index into its results.
    cells: Vec<Option<usize>>,
    /// `f` (fails the run), `n` (non-strict), `i` (informational), `u` (unimplemented)
    /// for any agent.
    flags: String,
}

impl<'a> Matrix<'a> {
    fn new(report: &'a RunReport) -> Matrix<'a> {
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut rows: Vec<Row<'a>> = Vec::new();
        for (n, a) in report.agents.iter().enumerate() {
            for (i, r) in a.results.iter().enumerate() {
                let at = *index.entry(r.id.as_str()).or_insert_with(|| {
                    rows.push(Row {
                        first: r,
                        cells: vec![None; report.agents.len()],
                        flags: String::new(),
                    });
                    rows.len() - 1
                });
                let Some(row) = rows.get_mut(at) else {
                    continue;
                };
                if let Some(cell @ None) = row.cells.get_mut(n) {
                    *cell = Some(i);
                    let v = r.overall();
                    for (hit, flag) in [
                        (v.is_failure(report.strict), 'f'),
                        (v == Verdict::NonStrict, 'n'),
                        (v == Verdict::Informational, 'i'),
                        (v == Verdict::Unimplemented, 'u'),
                    ] {
                        if hit && !row.flags.contains(flag) {
                            row.flags.push(flag);
                        }
                    }
                }
            }
        }
        // Rows in section order, then id order; sections in numeric order.
        let mut order: Vec<(SortKey, &'a str, SortKey, usize)> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let section = r.first.section.as_str();
                (id_sort_key(section), section, id_sort_key(&r.first.id), i)
            })
            .collect();
        order.sort();
        let mut sections: Vec<(&'a str, Vec<usize>)> = Vec::new();
        for (_, section, _, i) in order {
            match sections.last_mut() {
                Some((key, at)) if *key == section => at.push(i),
                _ => sections.push((section, vec![i])),
            }
        }
        Matrix { sections, rows }
    }
}

fn case_matrix(h: &mut String, report: &RunReport, m: &Matrix) {
    let columns = 2 + report.agents.len();
    h.push_str("<table id=\"case-matrix\" class=\"grid\">\n<thead><tr><th>Case</th><th>Title</th>");
    for (n, a) in report.agents.iter().enumerate() {
        let _ = write!(
            h,
            "<th class=\"agent-col\" data-agent=\"{n}\">{}</th>",
            esc(&a.agent)
        );
    }
    h.push_str("</tr></thead>\n");
    for (key, rows) in &m.sections {
        let _ = writeln!(
            h,
            "<tbody class=\"section\" id=\"{}\" data-section=\"{}\">\n\
             <tr class=\"sec-head\"><th colspan=\"{columns}\">{}</th></tr>",
            section_anchor(key),
            esc(key),
            esc(&section_heading(key)),
        );
        for &at in rows {
            let Some(row) = m.rows.get(at) else {
                continue;
            };
            let id = esc(&row.first.id);
            let key_text = format!("{} {}", row.first.id, row.first.title).to_lowercase();
            let _ = write!(
                h,
                "<tr class=\"case\" data-id=\"{id}\" data-f=\"{}\" data-key=\"{}\">\
                 <td class=\"id\">{id}</td><td class=\"title\" title=\"{title}\">{title}</td>",
                row.flags,
                esc(&key_text),
                title = esc(&row.first.title),
            );
            for (n, cell) in row.cells.iter().enumerate() {
                let result = cell.and_then(|i| report.agents.get(n)?.results.get(i));
                match (cell, result) {
                    (Some(i), Some(r)) => case_cell(h, r, n, *i),
                    _ => {
                        let _ = write!(
                            h,
                            "<td class=\"cell missing\" data-agent=\"{n}\" title=\"not run\">—</td>"
                        );
                    }
                }
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</tbody>\n");
    }
    h.push_str("</table>\n</section>\n");
}

fn case_cell(h: &mut String, r: &CaseResult, agent: usize, index: usize) {
    let code = r
        .close
        .remote_close_code
        .map(|c| format!(" {c}"))
        .unwrap_or_default();
    let _ = write!(
        h,
        "<td class=\"cell\" data-case=\"{}\" data-agent=\"{agent}\" data-idx=\"{index}\" \
         tabindex=\"0\" title=\"behavior {}, close {}\"><div class=\"vv\"><span class=\"vb v-{}\">{}</span>\
         <span class=\"vc v-{}\">{}{code}</span></div></td>",
        esc(&r.id),
        r.behavior.as_str(),
        r.behavior_close.as_str(),
        class(r.behavior),
        short(r.behavior),
        class(r.behavior_close),
        short(r.behavior_close),
    );
}

/// The JSON the script builds detail panels from, safe inside `<script>`.
fn data_blob(report: &RunReport) -> String {
    #[derive(Serialize)]
    struct Blob<'a> {
        strict: bool,
        agents: Vec<Agent<'a>>,
    }
    #[derive(Serialize)]
    struct Agent<'a> {
        name: &'a str,
        url: &'a str,
        results: Vec<Case<'a>>,
    }
    #[derive(Serialize)]
    struct Case<'a> {
        id: &'a str,
        title: &'a str,
        rfc: &'a str,
        requirement: &'a str,
        level: Level,
        behavior: Verdict,
        behavior_close: Verdict,
        overall: Verdict,
        fails: bool,
        result: &'a str,
        result_close: &'a str,
        expected: &'a str,
        actual: &'a str,
        close: &'a CloseInfo,
        started: &'a str,
        duration_ms: u64,
        /// Throughput (and compression) of a measured case.
        #[serde(skip_serializing_if = "Option::is_none")]
        measured: Option<String>,
        http_request: &'a str,
        http_response: &'a str,
        /// `[ms, dir, frame or event, hex, text]`
        trace: Vec<[String; 5]>,
        trace_dropped: usize,
        tx_frames: &'a BTreeMap<String, u64>,
        rx_frames: &'a BTreeMap<String, u64>,
    }
    let blob = Blob {
        strict: report.strict,
        agents: report
            .agents
            .iter()
            .map(|a| Agent {
                name: &a.agent,
                url: &a.url,
                results: a
                    .results
                    .iter()
                    .map(|r| Case {
                        id: &r.id,
                        title: &r.title,
                        rfc: &r.rfc,
                        requirement: &r.requirement,
                        level: r.level,
                        behavior: r.behavior,
                        behavior_close: r.behavior_close,
                        overall: r.overall(),
                        fails: r.overall().is_failure(report.strict),
                        result: &r.result,
                        result_close: &r.result_close,
                        expected: &r.expected,
                        actual: &r.actual,
                        close: &r.close,
                        started: &r.started,
                        duration_ms: r.duration_ms,
                        measured: r.throughput.as_ref().map(|t| t.describe()),
                        http_request: &r.http_request,
                        http_response: &r.http_response,
                        trace: r.trace.iter().map(trace_cells).collect(),
                        trace_dropped: r.trace_dropped,
                        tx_frames: &r.tx_frame_stats,
                        rx_frames: &r.rx_frame_stats,
                    })
                    .collect(),
            })
            .collect(),
    };
    let json = serde_json::to_string(&blob)
        .unwrap_or_else(|_| String::from("{\"strict\":false,\"agents\":[]}"));
    script_safe_json(&json)
}

/// JSON with `<`, `>` and `&` written as `\u003c`, `\u003e`, `\u0026`: nothing inside
/// can end the `<script>` element or open a comment. (Those characters only occur
/// inside JSON strings, where the escapes mean the same.)
pub fn script_safe_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + json.len() / 64);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            c => out.push(c),
        }
    }
    out
}

/// One trace row as table cells: time in ms, direction, frame fields or event, payload
/// or octets in hex, text excerpt.
fn trace_cells(row: &TraceRow) -> [String; 5] {
    let time = format!("{}.{:03}", row.t_us / 1000, row.t_us % 1000);
    let dir = match row.dir {
        Dir::Tx => "tx",
        Dir::Rx => "rx",
        Dir::Note => "note",
    }
    .to_string();
    match &row.what {
        TraceWhat::Octets { len, hex } => {
            let (shown, bytes) = hex_excerpt(hex, *len as u64);
            [
                time,
                dir,
                format!("{len} octets"),
                shown,
                ascii_text(&bytes, *len as u64),
            ]
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
            let mut fields = format!(
                "{} fin={} rsv={rsv} len={len}",
                opcode_name(*opcode),
                u8::from(*fin)
            );
            if *masked {
                match mask {
                    Some(m) => {
                        let _ = write!(fields, " mask={}", visible(m, 16));
                    }
                    None => fields.push_str(" masked"),
                }
            }
            let (shown, bytes) = hex_excerpt(payload_hex, *len);
            let more = *len > bytes.len() as u64;
            let text = if *opcode == 8 {
                if let (Some(&hi), Some(&lo)) = (bytes.first(), bytes.get(1)) {
                    let _ = write!(fields, " code={}", u16::from(hi) << 8 | u16::from(lo));
                }
                match bytes.get(2..).map(std::str::from_utf8) {
                    Some(Ok(reason)) if !reason.is_empty() => quoted(reason, more),
                    _ => String::new(),
                }
            } else {
                match payload_text {
                    Some(t) if !t.is_empty() => quoted(t, more),
                    _ => String::new(),
                }
            };
            [time, dir, fields, shown, text]
        }
        TraceWhat::Note { text } => [time, dir, visible(text, 2000), String::new(), String::new()],
    }
}

fn opcode_name(op: u8) -> String {
    let name = match op {
        0 => "continuation",
        1 => "text",
        2 => "binary",
        8 => "close",
        9 => "ping",
        10 => "pong",
        _ => "reserved",
    };
    format!("op={op} {name}")
}

/// The kept hex digits (at most [`TRACE_OCTETS`] bytes, "…" when `len` says more
/// existed) and the bytes they stand for.
fn hex_excerpt(hex: &str, len: u64) -> (String, Vec<u8>) {
    let mut digits: String = hex
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(TRACE_OCTETS * 2)
        .collect();
    if digits.len() % 2 == 1 {
        digits.pop();
    }
    let bytes = decode_hex(&digits).unwrap_or_default();
    let mut shown = digits.to_ascii_lowercase();
    if len > bytes.len() as u64 {
        shown.push('…');
    }
    (shown, bytes)
}

/// Raw octets as text when they mostly are (an HTTP handshake, say): printable ASCII
/// kept, CR/LF/TAB escaped, anything else as `·`.
fn ascii_text(bytes: &[u8], len: u64) -> String {
    let printable = bytes
        .iter()
        .filter(|b| b.is_ascii_graphic() || matches!(b, b' ' | b'\r' | b'\n' | b'\t'))
        .count();
    if bytes.is_empty() || printable * 4 < bytes.len() * 3 {
        return String::new();
    }
    let mut s = String::with_capacity(bytes.len() + 8);
    for &b in bytes {
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b if b.is_ascii_graphic() || b == b' ' => s.push(char::from(b)),
            _ => s.push('·'),
        }
    }
    if len > bytes.len() as u64 {
        s.push('…');
    }
    s
}

fn quoted(text: &str, more: bool) -> String {
    let cut: String = text.chars().take(TEXT_CHARS).collect();
    let more = more || cut.len() < text.len();
    format!(
        "\"{}\"{}",
        visible(&cut, TEXT_CHARS * 10),
        if more { "…" } else { "" }
    )
}

/// `s` with control characters written as escapes (`\n`, `\u{1b}`), cut to `max`
/// characters.
fn visible(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max));
    for (n, c) in s.chars().enumerate() {
        if n >= max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// HTML-escaped text for markup and attribute values, control characters made visible.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out
}

/// Fragment id of a section's block in the case matrix (`sec-6.4`); characters other
/// than letters, digits, `.`, `-` and `_` become `_`.
fn section_anchor(key: &str) -> String {
    let safe: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("sec-{safe}")
}

/// `2025-01-01T00:00:00.000Z` → `2025-01-01 00:00:00.000 UTC`; anything else as is.
pub(crate) fn when(started: &str) -> String {
    match started.strip_suffix('Z') {
        Some(t) if t.len() >= 19 && t.is_char_boundary(10) && t[10..].starts_with('T') => {
            format!("{} {} UTC", &t[..10], &t[11..])
        }
        _ => started.to_string(),
    }
}

/// CSS class suffix of a verdict (`v-ok`, `v-failed` …).
fn class(v: Verdict) -> &'static str {
    match v {
        Verdict::Ok => "ok",
        Verdict::NonStrict => "ns",
        Verdict::Informational => "info",
        Verdict::Unimplemented => "unimpl",
        Verdict::WrongCode => "wrong",
        Verdict::Unclean => "unclean",
        Verdict::FailedByClient => "fbc",
        Verdict::Failed => "failed",
    }
}

/// Verdict as shown in a matrix cell.
fn short(v: Verdict) -> &'static str {
    match v {
        Verdict::Informational => "INFO",
        Verdict::Unimplemented => "UNIMPL",
        v => v.as_str(),
    }
}

const STYLE: &str = r##":root{--line:#d4d8e0;--muted:#5a6478;--ok:#1b6e2a;--ok-bg:#d3efd6;--ns:#7a5d00;--ns-bg:#fff0b3;--info:#2b5580;--info-bg:#dae7f5;--unimpl:#555;--unimpl-bg:#e4e4e4;--wrong:#9a4300;--wrong-bg:#ffdcbc;--fail:#a8231b;--fail-bg:#f9cfcb}
*{box-sizing:border-box}
[hidden]{display:none!important}
body{margin:0;font:13px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1b2130;background:#f4f5f8}
#layout{display:flex;align-items:flex-start;min-height:100vh}
#main{flex:1 1 auto;min-width:0;padding:14px 20px 40px}
#detail{flex:0 0 45%;max-width:800px;position:sticky;top:0;z-index:5;height:100vh;overflow:auto;background:#fff;border-left:1px solid var(--line);box-shadow:-4px 0 14px rgba(0,0,0,.07);padding:12px 18px 40px}
@media (max-width:900px){#layout{display:block}#detail{position:static;height:auto;max-width:none;border-left:0;border-top:2px solid var(--line)}}
h1{font-size:20px;margin:0 0 4px}
h2{font-size:16px;margin:20px 0 8px}
h3{font-size:12px;margin:16px 0 5px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}
h4{font-size:12px;margin:8px 0 3px;color:var(--muted)}
.meta{margin:0 0 10px;color:var(--muted)}
.meta b{color:#1b2130;font-weight:600}
.hint{color:var(--muted)}
a{color:#2343a8}
code,pre,.mono,table.trace{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono","Liberation Mono",monospace;font-size:12px}
table.grid{border-collapse:collapse;background:#fff;border:1px solid var(--line)}
table.grid th,table.grid td{border:1px solid var(--line);padding:3px 7px;text-align:left;vertical-align:top}
table.grid thead th{background:#e9ecf2}
#case-matrix thead th{position:sticky;top:0;z-index:1}
.wide{max-width:100%;overflow-x:auto}
body.detail-open #case-matrix td.title{max-width:12em}
table.grid tfoot th,table.grid tfoot td{border-top:2px solid #b9bfcc}
.num{text-align:right;font-variant-numeric:tabular-nums}
td.bad{color:var(--fail);font-weight:700}
.badge{display:inline-block;padding:0 6px;border-radius:3px;font-weight:600;font-size:11px;white-space:nowrap;line-height:18px}
.chip{display:inline-block;margin-left:5px;padding:0 6px;border-radius:9px;font-size:11px;font-weight:600;white-space:nowrap}
.v-ok{background:var(--ok-bg);color:var(--ok)}
.v-ns{background:var(--ns-bg);color:var(--ns)}
.v-info{background:var(--info-bg);color:var(--info)}
.v-unimpl{background:var(--unimpl-bg);color:var(--unimpl)}
.v-wrong,.v-unclean{background:var(--wrong-bg);color:var(--wrong)}
.v-fbc,.v-failed{background:var(--fail-bg);color:var(--fail)}
.v-missing{background:#fff;color:#8a8f99;border:1px dashed #c4c8d0}
#summary-matrix td.sum{font-variant-numeric:tabular-nums;min-width:8em}
#summary-matrix td.sum .chip{margin:1px 0 1px 5px}
#summary-matrix td.title{min-width:14em}
td.s-ok{background:#eaf7ec}
td.s-ns{background:#fff8d6}
td.s-fail{background:#fde9e7}
td.s-neutral{background:#eef3f9}
td.s-none{color:#9aa0aa;text-align:center}
.n-ok{font-weight:600;color:var(--ok)}
td.s-fail .n-ok,td.s-neutral .n-ok{color:#1b2130}
#filter-bar{display:flex;flex-wrap:wrap;gap:6px;align-items:center;margin:0 0 6px}
#filter-bar button{font:inherit;padding:3px 10px;border:1px solid #b9bfcc;border-radius:14px;background:#fff;cursor:pointer}
#filter-bar button[aria-pressed=true]{background:#2343a8;border-color:#2343a8;color:#fff}
#filter-bar .cnt{opacity:.75;font-size:11px}
#search{font:inherit;padding:3px 8px;border:1px solid #b9bfcc;border-radius:4px;min-width:16em;margin-left:8px}
#shown{color:var(--muted);margin-left:6px}
.lbl{color:var(--muted)}
#legend{margin:0 0 10px}
#case-matrix tr.sec-head th{background:#e1e6f0;font-size:13px;padding:5px 8px;position:static}
#case-matrix td.id{white-space:nowrap;font-variant-numeric:tabular-nums}
#case-matrix td.title{max-width:26em;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;color:#333a48}
#case-matrix th.agent-col{min-width:11em;max-width:16em}
#case-matrix td.cell{padding:0;white-space:nowrap;cursor:pointer;font-size:11px;font-weight:600}
#case-matrix td.cell .vv{display:grid;grid-template-columns:1fr 1fr}
#case-matrix td.cell span{padding:2px 6px;line-height:17px}
#case-matrix td.cell.missing{cursor:default;text-align:center;color:#9aa0aa;font-weight:400;padding:2px 6px}
#case-matrix td.cell[data-case]:hover{outline:2px solid #6d86d6;outline-offset:-2px}
#case-matrix td.cell:focus{outline:2px solid #2343a8;outline-offset:-2px}
#case-matrix td.cell.sel{outline:3px solid #2343a8;outline-offset:-3px}
.d-head{display:flex;align-items:center;gap:8px;border-bottom:1px solid var(--line);padding-bottom:6px}
.d-agent{font-weight:600;color:var(--muted);flex:1}
.d-close{font:inherit;font-size:18px;line-height:1;border:0;background:none;cursor:pointer;color:var(--muted);padding:2px 6px}
.d-close:hover{color:#000}
#detail h2{margin:10px 0 0;font-size:18px}
.d-title{margin:2px 0 8px;font-size:14px}
.d-agents{display:flex;flex-wrap:wrap;gap:4px;margin:0 0 8px}
.d-agents button{font:inherit;font-size:11px;border:1px solid transparent;border-radius:3px;padding:1px 6px;cursor:pointer}
.d-agents button.cur{border-color:#2343a8}
table.kv{border-collapse:collapse;width:100%}
table.kv th{text-align:left;vertical-align:top;color:var(--muted);font-weight:600;padding:2px 10px 2px 0;white-space:nowrap;width:1%}
table.kv td{padding:2px 0;vertical-align:top;white-space:pre-wrap;word-break:break-word}
table.kv td.v{width:1%;white-space:nowrap;padding-right:10px}
pre.block{white-space:pre-wrap;word-break:break-word;background:#f6f7fa;border:1px solid var(--line);border-radius:3px;padding:6px 8px;margin:0;max-height:22em;overflow:auto}
table.trace{border-collapse:collapse;width:100%;font-size:11px;table-layout:fixed}
table.trace col.c-t{width:5.2em}
table.trace col.c-d{width:3.2em}
table.trace col.c-f{width:27%}
table.trace col.c-h{width:36%}
table.trace th{position:sticky;top:-12px;background:#e9ecf2;text-align:left;padding:2px 5px;border-bottom:1px solid var(--line)}
table.trace td{padding:1px 5px;vertical-align:top;border-bottom:1px solid #eceef2}
table.trace td.t{text-align:right;white-space:nowrap;color:var(--muted)}
table.trace td.hex{overflow-wrap:anywhere;color:#4a5263}
table.trace td.txt,table.trace td.f{overflow-wrap:anywhere}
table.trace tr.t-tx td.d{color:#2343a8;font-weight:700}
table.trace tr.t-rx td.d{color:#1b6e2a;font-weight:700}
table.trace tr.t-note td{background:#fffbe8;color:#6a5400;font-style:italic}
"##;

const SCRIPT: &str = r##"(function () {
  "use strict";
  var data = null;
  function load() {
    if (data === null) {
      try {
        data = JSON.parse(document.getElementById("report-data").textContent);
      } catch (e) {
        data = { strict: false, agents: [] };
      }
    }
    return data;
  }
  var CLS = { "OK": "ok", "NON-STRICT": "ns", "INFORMATIONAL": "info", "UNIMPLEMENTED": "unimpl",
    "WRONG CODE": "wrong", "UNCLEAN": "unclean", "FAILED BY CLIENT": "fbc", "FAILED": "failed" };
  var CLOSE_KEYS = [
    ["closed_by_me", "Closed by the tester"], ["failed_by_me", "Failed by the tester"],
    ["dropped_by_me", "TCP dropped by the tester"], ["was_clean", "Clean close"],
    ["was_not_clean_reason", "Not clean because"],
    ["was_server_connection_drop_timeout", "Server TCP drop timed out"],
    ["was_open_handshake_timeout", "Opening handshake timed out"],
    ["was_close_handshake_timeout", "Closing handshake timed out"],
    ["local_close_code", "Tester's close code"], ["local_close_reason", "Tester's close reason"],
    ["remote_close_code", "Peer's close code"], ["remote_close_reason", "Peer's close reason"]];
  var OPS = { "0": "continuation", "1": "text", "2": "binary", "8": "close", "9": "ping", "10": "pong" };
  function vis(s) {
    return String(s === null || s === undefined ? "" : s)
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, function (c) {
        return "\\u{" + c.charCodeAt(0).toString(16) + "}";
      });
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }
  function add(parent, child) { parent.appendChild(child); return child; }
  function badge(v) { return el("span", "badge v-" + (CLS[v] || "missing"), v); }
  function pre(text) {
    return el("pre", "block", vis(String(text === null || text === undefined ? "" : text).replace(/\r\n/g, "\n")));
  }
  function heading(parent, text) { add(parent, el("h3", null, text)); }
  function kv(rows, cls) {
    var t = el("table", "kv" + (cls ? " " + cls : ""));
    rows.forEach(function (row) {
      var tr = add(t, el("tr"));
      add(tr, el("th", null, row[0]));
      add(tr, el("td", null, vis(row[1])));
    });
    return t;
  }
  function yesNo(v) {
    if (v === true) { return "yes"; }
    if (v === false) { return "no"; }
    if (v === null || v === undefined || v === "") { return "—"; }
    return String(v);
  }
  function frames(stats) {
    var keys = Object.keys(stats || {});
    if (!keys.length) { return "none"; }
    keys.sort(function (a, b) { return Number(a) - Number(b); });
    return keys.map(function (k) { return (OPS[k] || "op " + k) + " × " + stats[k]; }).join(", ");
  }
  function findCell(ai, id) {
    var cells = document.querySelectorAll("#case-matrix td.cell[data-case]");
    for (var i = 0; i < cells.length; i++) {
      if (cells[i].getAttribute("data-case") === id && cells[i].getAttribute("data-agent") === String(ai)) {
        return cells[i];
      }
    }
    return null;
  }
  var selected = null;
  function setHash(h) {
    try {
      history.replaceState(null, "", h ? "#" + h : location.pathname + location.search);
    } catch (e) { /* some browsers refuse on file: URLs; the hash is a convenience */ }
  }
  function hide() {
    var p = document.getElementById("detail");
    p.hidden = true;
    document.body.classList.remove("detail-open");
    p.textContent = "";
    p.removeAttribute("data-open");
    p.removeAttribute("data-agent");
    if (selected) { selected.classList.remove("sel"); }
    selected = null;
    setHash("");
  }
  function show(ai, ri) {
    var d = load();
    var a = d.agents[ai];
    var r = a && a.results[ri];
    if (!r) { return false; }
    var p = document.getElementById("detail");
    p.textContent = "";
    p.hidden = false;
    document.body.classList.add("detail-open");
    p.setAttribute("data-open", r.id);
    p.setAttribute("data-agent", String(ai));
    var head = add(p, el("div", "d-head"));
    add(head, el("span", "d-agent", vis(a.name) + (a.url ? "  ·  " + vis(a.url) : "")));
    var x = add(head, el("button", "d-close", "\u00d7"));
    x.type = "button";
    x.title = "Close (Esc)";
    x.setAttribute("aria-label", "Close details");
    x.addEventListener("click", hide);
    var h2 = add(p, el("h2", null, "Case " + vis(r.id) + " "));
    add(h2, badge(r.overall));
    add(p, el("p", "d-title", vis(r.title)));
    var others = [];
    d.agents.forEach(function (b, bi) {
      for (var k = 0; k < b.results.length; k++) {
        if (b.results[k].id === r.id) { others.push([bi, k, b.results[k]]); break; }
      }
    });
    if (others.length > 1) {
      var sw = add(p, el("div", "d-agents"));
      others.forEach(function (o) {
        var btn = add(sw, el("button", "v-" + (CLS[o[2].overall] || "missing") + (o[0] === ai ? " cur" : ""),
          vis(d.agents[o[0]].name) + ": " + o[2].overall));
        btn.type = "button";
        btn.addEventListener("click", function () { open(o[0], o[1], true); });
      });
    }
    var facts = [["RFC", r.rfc], ["Level", r.level], ["Requirement", r.requirement],
      ["Started", r.started], ["Duration", r.duration_ms + " ms"]];
    if (r.measured) facts.push(["Measured", r.measured]);
    add(p, kv(facts, "d-facts"));
    heading(p, "Verdicts");
    var vt = add(p, el("table", "kv verdicts"));
    [["Behavior", r.behavior, r.result], ["Close", r.behavior_close, r.result_close]].forEach(function (v) {
      var tr = add(vt, el("tr"));
      add(tr, el("th", null, v[0]));
      add(add(tr, el("td", "v")), badge(v[1]));
      add(tr, el("td", null, vis(v[2])));
    });
    heading(p, "Expected");
    add(p, pre(r.expected)).className += " expected";
    heading(p, "Actual");
    add(p, pre(r.actual)).className += " actual";
    heading(p, "Closing");
    add(p, kv(CLOSE_KEYS.map(function (k) { return [k[1], yesNo(r.close ? r.close[k[0]] : null)]; }), "close"));
    heading(p, "Opening handshake");
    add(p, el("h4", null, "Request"));
    add(p, pre(r.http_request || "(none)"));
    add(p, el("h4", null, "Response"));
    add(p, pre(r.http_response || "(none)"));
    heading(p, "Frames");
    add(p, kv([["Sent", frames(r.tx_frames)], ["Received", frames(r.rx_frames)]]));
    heading(p, "Wire trace (" + r.trace.length + " rows" + (r.trace_dropped ? ", " + r.trace_dropped + " more dropped at the cap" : "") + ")");
    var t = add(p, el("table", "trace"));
    t.id = "trace";
    var cg = add(t, el("colgroup"));
    ["c-t", "c-d", "c-f", "c-h", "c-x"].forEach(function (c) { add(cg, el("col", c)); });
    var hr = add(add(t, el("thead")), el("tr"));
    ["ms", "dir", "frame / event", "octets (hex)", "text"].forEach(function (c) { add(hr, el("th", null, c)); });
    var tb = add(t, el("tbody"));
    r.trace.forEach(function (row) {
      var tr = add(tb, el("tr", "t-" + row[1]));
      add(tr, el("td", "t", row[0]));
      add(tr, el("td", "d", row[1]));
      add(tr, el("td", "f", row[2]));
      add(tr, el("td", "hex", String(row[3]).replace(/(.{16})(?=.)/g, "$1 ")));
      add(tr, el("td", "txt", row[4]));
    });
    return true;
  }
  function open(ai, ri, updateHash) {
    if (!show(ai, ri)) { return; }
    var d = load();
    var r = d.agents[ai].results[ri];
    if (selected) { selected.classList.remove("sel"); }
    selected = findCell(ai, r.id);
    if (selected) { selected.classList.add("sel"); }
    document.getElementById("detail").scrollTop = 0;
    if (updateHash) {
      setHash("case=" + encodeURIComponent(r.id) + (d.agents.length > 1 ? "&agent=" + ai : ""));
    }
  }
  function fromHash() {
    var m = /^#case=([^&]*)(?:&agent=(\d+))?/.exec(location.hash);
    if (!m) { return; }
    var id;
    try { id = decodeURIComponent(m[1]); } catch (e) { return; }
    var want = m[2] === undefined ? -1 : Number(m[2]);
    var pick = null, failing = null, wanted = null;
    load().agents.forEach(function (a, ai) {
      for (var k = 0; k < a.results.length; k++) {
        var r = a.results[k];
        if (r.id === id) {
          if (pick === null) { pick = [ai, k]; }
          if (failing === null && r.fails) { failing = [ai, k]; }
          if (ai === want) { wanted = [ai, k]; }
          break;
        }
      }
    });
    var at = wanted || failing || pick;
    if (!at) { return; }
    open(at[0], at[1], false);
    // The panel is pinned to the top of the window; the page itself is left where it
    // is (at the top on load: header and summary stay in view).
  }
  var mode = "all";
  var search = document.getElementById("search");
  var buttons = document.querySelectorAll("#filter-bar button[data-filter]");
  function applyFilter() {
    var q = search.value.trim().toLowerCase();
    var shown = 0, total = 0;
    var bodies = document.querySelectorAll("#case-matrix tbody.section");
    for (var i = 0; i < bodies.length; i++) {
      var rows = bodies[i].querySelectorAll("tr.case");
      var here = 0;
      for (var j = 0; j < rows.length; j++) {
        var row = rows[j];
        var ok = (mode === "all" || (row.getAttribute("data-f") || "").indexOf(mode) >= 0) &&
          (!q || (row.getAttribute("data-key") || "").indexOf(q) >= 0);
        row.hidden = !ok;
        if (ok) { here++; }
      }
      bodies[i].hidden = here === 0;
      shown += here;
      total += rows.length;
    }
    document.getElementById("shown").textContent =
      shown === total ? total + " cases" : shown + " of " + total + " cases";
    for (var b = 0; b < buttons.length; b++) {
      buttons[b].setAttribute("aria-pressed", buttons[b].getAttribute("data-filter") === mode ? "true" : "false");
    }
  }
  for (var b = 0; b < buttons.length; b++) {
    buttons[b].addEventListener("click", function (ev) {
      mode = ev.currentTarget.getAttribute("data-filter") || "all";
      applyFilter();
    });
  }
  search.addEventListener("input", applyFilter);
  var matrix = document.getElementById("case-matrix");
  function cellOf(ev) {
    var t = ev.target;
    return t && t.closest ? t.closest("td.cell[data-case]") : null;
  }
  matrix.addEventListener("click", function (ev) {
    var c = cellOf(ev);
    if (c) { open(Number(c.getAttribute("data-agent")), Number(c.getAttribute("data-idx")), true); }
  });
  matrix.addEventListener("keydown", function (ev) {
    var c = cellOf(ev);
    if (c && (ev.key === "Enter" || ev.key === " ")) {
      ev.preventDefault();
      open(Number(c.getAttribute("data-agent")), Number(c.getAttribute("data-idx")), true);
    }
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape" && !document.getElementById("detail").hidden) { hide(); }
  });
  window.addEventListener("hashchange", fromHash);
  fromHash();
})();
"##;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::{AgentReport, SCHEMA_VERSION};

    fn report(agents: Vec<(&str, Vec<CaseResult>)>) -> RunReport {
        RunReport {
            schema: SCHEMA_VERSION,
            tool: "wsspec 0.1.0".into(),
            started: "2025-01-01T00:00:00.000Z".into(),
            duration_ms: 10,
            strict: false,
            agents: agents
                .into_iter()
                .map(|(name, results)| AgentReport {
                    role: Default::default(),
                    agent: name.into(),
                    url: "ws://127.0.0.1:9001".into(),
                    results,
                })
                .collect(),
        }
    }

    #[test]
    fn escaping() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>\n"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;\\n"
        );
        assert_eq!(
            script_safe_json(r#"{"a":"</script><!--&"}"#),
            r#"{"a":"\u003c/script\u003e\u003c!--\u0026"}"#
        );
        assert_eq!(section_anchor("6.4"), "sec-6.4");
        assert_eq!(section_anchor("a b\"<"), "sec-a_b__");
        assert_eq!(
            when("2025-01-01T00:00:00.000Z"),
            "2025-01-01 00:00:00.000 UTC"
        );
        assert_eq!(when("garbage"), "garbage");
        assert_eq!(when("ééééééééééééééééééééZ"), "ééééééééééééééééééééZ");
    }

    #[test]
    fn trace_cells_decode_frames() {
        let close = TraceRow {
            t_us: 1_203,
            dir: Dir::Rx,
            what: TraceWhat::Frame {
                opcode: 8,
                fin: true,
                rsv: 0,
                masked: false,
                mask: None,
                len: 4,
                payload_hex: "03e8".to_string() + "6f6b",
                payload_text: None,
            },
        };
        assert_eq!(
            trace_cells(&close),
            [
                "1.203",
                "rx",
                "op=8 close fin=1 rsv=0 len=4 code=1000",
                "03e86f6b",
                "\"ok\""
            ]
        );
        let octets = TraceRow {
            t_us: 5,
            dir: Dir::Tx,
            what: TraceWhat::Octets {
                len: 100,
                hex: "474554200d0a".into(),
            },
        };
        assert_eq!(
            trace_cells(&octets),
            ["0.005", "tx", "100 octets", "474554200d0a…", "GET \\r\\n…"]
        );
        let binary = TraceRow {
            t_us: 5,
            dir: Dir::Tx,
            what: TraceWhat::Octets {
                len: 2,
                hex: "fe00".into(),
            },
        };
        assert_eq!(trace_cells(&binary)[4], "");
    }

    #[test]
    fn matrix_has_cells_for_every_agent() {
        let a = vec![
            CaseResult::sample("2.5", Verdict::Failed, Verdict::Ok),
            CaseResult::sample("1.1.1", Verdict::Ok, Verdict::Ok),
        ];
        let b = vec![CaseResult::sample("2.5", Verdict::Ok, Verdict::Ok)];
        let html = render(&report(vec![("a", a), ("b", b)]));
        assert!(html.contains("data-case=\"2.5\" data-agent=\"0\" data-idx=\"0\""));
        assert!(html.contains("data-case=\"2.5\" data-agent=\"1\" data-idx=\"0\""));
        assert!(html.contains("data-case=\"1.1.1\" data-agent=\"0\" data-idx=\"1\""));
        assert!(html.contains("<td class=\"cell missing\" data-agent=\"1\""));
        assert!(html.contains("data-id=\"2.5\" data-f=\"f\""));
        let sec1 = html.find("id=\"sec-1.1\"").unwrap_or(usize::MAX);
        let sec2 = html.find("id=\"sec-2\"").unwrap_or(0);
        assert!(sec1 < sec2);
    }

    #[test]
    fn odd_data_does_not_panic() {
        let mut r = CaseResult::sample("", Verdict::Failed, Verdict::Unclean);
        r.section = "<\"'&>".into();
        r.title = "\u{0}\u{1b}[31m".into();
        r.trace = vec![
            TraceRow {
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
                    payload_text: Some("é".repeat(1000)),
                },
            },
            TraceRow {
                t_us: 0,
                dir: Dir::Tx,
                what: TraceWhat::Frame {
                    opcode: 8,
                    fin: false,
                    rsv: 0,
                    masked: true,
                    mask: Some("é".into()),
                    len: 1,
                    payload_hex: "0".into(),
                    payload_text: None,
                },
            },
            TraceRow {
                t_us: 0,
                dir: Dir::Note,
                what: TraceWhat::Octets {
                    len: usize::MAX,
                    hex: "é".repeat(500),
                },
            },
        ];
        r.trace_dropped = usize::MAX;
        r.duration_ms = u64::MAX;
        let mut rep = report(vec![("x", vec![r.clone(), r]), ("", vec![])]);
        rep.started = String::new();
        rep.duration_ms = u64::MAX;
        let html = render(&rep);
        assert!(html.contains("id=\"summary-matrix\""));
        assert!(!html.contains("<\"'&>"));
        let empty = render(&report(vec![]));
        assert!(empty.contains("id=\"case-matrix\""));
    }
}
