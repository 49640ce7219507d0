//! A short Markdown summary (`summary.md`) for CI step summaries, e.g. GitHub's
//! `$GITHUB_STEP_SUMMARY`: a title line with ✅ or ❌, one totals line per agent, a
//! table of verdict counts per section and agent, then the first [`MAX_FAILURES`]
//! failures (id, title, verdicts, requirement, expected, actual) and "… and N more".
//!
//! Everything from a peer or a case file is escaped for Markdown and for the HTML that
//! Markdown renderers accept (`<`, `>`, `&` as entities; `*`, `_`, `|`, `[` … with a
//! backslash), put on one line and cut to `MAX_CHARS` characters.

use super::model::{CaseResult, RunReport};
use super::terminal::summary_line;
use super::{human_duration, Tally};
use crate::case::id_sort_key;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Failures listed in full; the rest are counted.
pub const MAX_FAILURES: usize = 50;
/// Characters kept of one peer- or case-supplied text.
const MAX_CHARS: usize = 300;

/// The summary, ending with a newline.
pub fn render(report: &RunReport) -> String {
    let mut s = String::new();
    let total: usize = report.agents.iter().map(|a| a.results.len()).sum();
    let failures: Vec<(&str, &CaseResult)> = {
        let mut v = Vec::new();
        for a in &report.agents {
            let mut f: Vec<&CaseResult> = a
                .results
                .iter()
                .filter(|r| r.overall().is_failure(report.strict))
                .collect();
            f.sort_by_cached_key(|r| id_sort_key(&r.id));
            v.extend(f.into_iter().map(|r| (a.agent.as_str(), r)));
        }
        v
    };
    let agents = match report.agents.len() {
        1 => String::new(),
        n => format!(" ({n} agents)"),
    };
    let _ = writeln!(
        s,
        "## {} WebSocket conformance: {}{agents}\n",
        if total == 0 {
            "⚠️"
        } else if failures.is_empty() {
            "✅"
        } else {
            "❌"
        },
        if total == 0 {
            "no cases ran".to_string()
        } else if failures.is_empty() {
            format!("all {total} cases passed")
        } else {
            format!("{} of {total} cases failed", failures.len())
        }
    );
    let _ = writeln!(
        s,
        "{} · {} · {} · {}\n",
        md(&report.tool),
        md(&super::html::when(&report.started)),
        human_duration(report.duration_ms),
        if report.strict {
            "strict (NON-STRICT fails)"
        } else {
            "NON-STRICT passes"
        }
    );
    for a in &report.agents {
        let _ = writeln!(
            s,
            "- **{}** {}: {}",
            md(&a.agent),
            md(&a.url),
            summary_line(&a.results, report.strict)
        );
    }
    s.push('\n');
    section_table(&mut s, report);
    if !failures.is_empty() {
        s.push_str("\n### Failures\n\n");
        for (agent, r) in failures.iter().take(MAX_FAILURES) {
            let on = if report.agents.len() > 1 {
                format!(" — {}", md(agent))
            } else {
                String::new()
            };
            let _ = writeln!(
                s,
                "- ❌ **{}** {}{on}: `{}` / `{}`",
                md(&r.id),
                md(&r.title),
                r.behavior.as_str(),
                r.behavior_close.as_str()
            );
            for (label, text) in [
                ("requirement", &r.requirement),
                ("expected", &r.expected),
                ("actual", &r.actual),
            ] {
                if !text.is_empty() {
                    let _ = writeln!(s, "  - {label}: {}", md(text));
                }
            }
        }
        if failures.len() > MAX_FAILURES {
            let _ = writeln!(
                s,
                "\n… and {} more (see index.html or junit.xml).",
                failures.len() - MAX_FAILURES
            );
        }
    }
    s
}

fn section_table(s: &mut String, report: &RunReport) {
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
    if sections.is_empty() {
        return;
    }
    let mut keys: Vec<&str> = sections.keys().copied().collect();
    keys.sort_by_cached_key(|k| id_sort_key(k));
    s.push_str("| Section | Title |");
    for a in &report.agents {
        let _ = write!(s, " {} |", md(&a.agent));
    }
    s.push_str("\n|---|---|");
    for _ in &report.agents {
        s.push_str("---|");
    }
    s.push('\n');
    for key in keys {
        let Some(row) = sections.get(key) else {
            continue;
        };
        let title = crate::catalogue::section_title(key).unwrap_or("");
        let _ = write!(s, "| {} | {} |", md(key), md(title));
        for t in row {
            let _ = write!(s, " {} |", cell(t, report.strict));
        }
        s.push('\n');
    }
    s.push_str("\n✅ OK · ❌ failed · ⚠️ non-strict · ℹ️ informational · ⏭️ unimplemented\n");
}

fn cell(t: &Tally, strict: bool) -> String {
    if t.cases == 0 {
        return "—".into();
    }
    let ns = if strict { 0 } else { t.non_strict };
    let parts: Vec<String> = [
        (t.failed(strict), "❌"),
        (ns, "⚠️"),
        (t.ok, "✅"),
        (t.informational, "ℹ️"),
        (t.unimplemented, "⏭️"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, mark)| format!("{mark} {n}"))
    .collect();
    parts.join(" ")
}

/// Peer- or case-supplied text as inert Markdown on one line, cut to `MAX_CHARS`.
pub fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_CHARS) + 16);
    for (n, c) in text.chars().enumerate() {
        if n >= MAX_CHARS {
            out.push('…');
            break;
        }
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {
                // Visible, with the backslash itself escaped.
                for e in c.escape_default() {
                    if e == '\\' {
                        out.push('\\');
                    }
                    out.push(e);
                }
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::{AgentReport, Verdict, SCHEMA_VERSION};

    fn report(results: Vec<CaseResult>) -> RunReport {
        RunReport {
            schema: SCHEMA_VERSION,
            tool: "wsspec 0.1.0".into(),
            started: "2025-01-01T00:00:00.000Z".into(),
            duration_ms: 1500,
            strict: false,
            agents: vec![AgentReport {
                role: Default::default(),
                agent: "gws".into(),
                url: "ws://127.0.0.1:9001".into(),
                results,
            }],
        }
    }

    #[test]
    fn escapes() {
        assert_eq!(
            md("<img src=x> *a* [l](u) | `c`\n\u{1b}"),
            "&lt;img src=x&gt; \\*a\\* \\[l\\](u) \\| \\`c\\` \\\\u{1b}"
        );
        assert_eq!(md(&"é".repeat(400)).chars().count(), MAX_CHARS + 1);
    }

    #[test]
    fn passing_and_failing_titles() {
        let ok = render(&report(vec![CaseResult::sample(
            "2.1",
            Verdict::Ok,
            Verdict::Ok,
        )]));
        assert!(
            ok.starts_with("## ✅ WebSocket conformance: all 1 cases passed\n"),
            "{ok}"
        );
        assert!(!ok.contains("### Failures"));
        let none = render(&report(vec![]));
        assert!(none.starts_with("## ⚠️"), "{none}");
        let bad = report(vec![
            CaseResult::sample("2.1", Verdict::Ok, Verdict::Ok),
            CaseResult::sample("2.5", Verdict::Ok, Verdict::Unclean),
        ]);
        let text = render(&bad);
        assert!(text.starts_with("## ❌ WebSocket conformance: 1 of 2 cases failed\n"));
        assert!(text.contains("| 2 | Pings/Pongs | ❌ 1 ✅ 1 |"), "{text}");
        assert!(
            text.contains("- ❌ **2.5** Case 2.5: `OK` / `UNCLEAN`"),
            "{text}"
        );
    }
}
