//! CI gating: which results of a run fail the build.
//!
//! A plain run fails on any failing case. Real projects carry a baseline of failures
//! they know about, and a few cases whose outcome depends on timing; the gate takes both
//! into account (the style of Connect's conformance runner):
//!
//! * a failing case matched by a **known-failing** entry does not fail the run;
//! * a known-failing entry that nothing failing matches any more is **stale** and fails
//!   the run, with a message naming the file and line to delete
//!   (`reports/baseline/x.txt:7: 6.4.3 passes now; delete this line`), so the baseline
//!   shrinks as bugs get fixed;
//! * a case matched by a **known-flaky** entry runs and is reported, but never gates,
//!   whether it passes or fails (flaky wins over known-failing);
//! * an entry that matches no case of the run is a warning, not an error.
//!
//! Entries come from the command line ([`load`]): each argument is either an existing
//! file holding one entry per line (`#` starts a comment, blank lines are ignored) or an
//! entry itself. An entry is a case pattern with the rules of
//! [`crate::case::select::matches`] (`6.4.3`, `6.4.*`, `2.1*`), optionally prefixed with
//! `AGENT:` to apply to one agent only; the agent part is matched against the whole agent
//! name, `*` matching any run (`Tungstenite*:6.4.3`). Case ids never contain `:`, so the
//! entry is split at its last colon.
//!
//! An entry is stale when every case it matches (outside the flaky ones) passes: a
//! pattern such as `6.4.*` stays as long as one of its cases still fails, and an entry
//! without `AGENT:` in a run of several agents stays while one agent still fails it.
//!
//! [`evaluate`] is a pure function of the report and the entries; `wsspec run` prints
//! its messages after the report and exits with its code.

use crate::case::select::{matches, matches_whole};
use crate::error::Error;
use crate::report::model::{CaseResult, RunReport, Verdict};
use std::fmt::Write as _;
use std::path::Path;

/// Where an entry was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Line `line` (1-based) of a list file.
    File { path: String, line: usize },
    /// Given directly on the command line with this flag (`--known-failing`).
    Arg { flag: String },
}

/// One known-failing or known-flaky entry: a case pattern, maybe for one agent only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Agent name pattern (anchored at both ends), or `None` for every agent.
    pub agent: Option<String>,
    /// Case pattern ([`matches`] rules).
    pub pattern: String,
    pub origin: Origin,
}

impl Entry {
    /// Parse `PATTERN` or `AGENT:PATTERN`.
    pub fn parse(text: &str, origin: Origin) -> Entry {
        let text = text.trim();
        let (agent, pattern) = match text.rsplit_once(':') {
            Some((a, p)) if !a.trim().is_empty() && !p.trim().is_empty() => {
                (Some(a.trim().to_string()), p.trim().to_string())
            }
            _ => (None, text.to_string()),
        };
        Entry {
            agent,
            pattern,
            origin,
        }
    }

    /// Does this entry cover case `id` of `agent`?
    pub fn matches(&self, agent: &str, id: &str) -> bool {
        self.agent
            .as_deref()
            .is_none_or(|a| matches_whole(a, agent))
            && matches(&self.pattern, id)
    }

    /// The entry as written (`AGENT:PATTERN` or `PATTERN`).
    pub fn text(&self) -> String {
        match &self.agent {
            Some(a) => format!("{a}:{}", self.pattern),
            None => self.pattern.clone(),
        }
    }

    /// `file:line` or `--flag ENTRY`, the place a user edits.
    pub fn location(&self) -> String {
        match &self.origin {
            Origin::File { path, line } => format!("{path}:{line}"),
            Origin::Arg { flag } => format!("{flag} {}", self.text()),
        }
    }

    /// What the user should do with a stale entry.
    fn removal_hint(&self) -> String {
        match &self.origin {
            Origin::File { .. } => "delete this line".to_string(),
            Origin::Arg { flag } => format!("remove it from {flag}"),
        }
    }

    /// Written on the command line, looking like a file name rather than a case id
    /// (case ids have either dots or a slash, never both).
    fn looks_like_missing_file(&self) -> bool {
        matches!(self.origin, Origin::Arg { .. })
            && (self.pattern.ends_with(".txt")
                || (self.pattern.contains('.')
                    && (self.pattern.contains('/') || self.pattern.contains('\\'))))
    }
}

/// Entries from command-line arguments of `flag` (already split at commas): an argument
/// naming an existing file is read as a list, one entry per line; anything else is an
/// entry. Empty arguments are skipped. An unreadable file is an [`Error::Io`].
pub fn load(args: &[String], flag: &str) -> Result<Vec<Entry>, Error> {
    let mut out = Vec::new();
    for arg in args {
        let arg = arg.trim();
        if arg.is_empty() {
            continue;
        }
        let path = Path::new(arg);
        if path.is_file() {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::Io(format!("{flag} {arg}: {e}")))?;
            out.extend(parse_list(arg, &text));
        } else {
            out.push(Entry::parse(
                arg,
                Origin::Arg {
                    flag: flag.to_string(),
                },
            ));
        }
    }
    Ok(out)
}

/// The entries of a list file's text; `path` is used in [`Origin::File`].
pub fn parse_list(path: &str, text: &str) -> Vec<Entry> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let content = line.split('#').next().unwrap_or("").trim();
            (!content.is_empty()).then(|| {
                Entry::parse(
                    content,
                    Origin::File {
                        path: path.to_string(),
                        line: i + 1,
                    },
                )
            })
        })
        .collect()
}

/// One case of one agent, with its verdicts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRef {
    pub agent: String,
    pub id: String,
    pub behavior: Verdict,
    pub behavior_close: Verdict,
}

impl CaseRef {
    fn new(agent: &str, r: &CaseResult) -> CaseRef {
        CaseRef {
            agent: agent.to_string(),
            id: r.id.clone(),
            behavior: r.behavior,
            behavior_close: r.behavior_close,
        }
    }
}

/// A known-failing entry none of whose cases fails any more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    pub entry: Entry,
    /// The (passing) cases it matches.
    pub cases: Vec<CaseRef>,
}

/// Severity of a gate message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Note,
}

/// One line for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub level: Level,
    pub text: String,
}

impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tag = match self.level {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "note",
        };
        write!(f, "{tag}: {}", self.text)
    }
}

/// What the gate decided, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateOutcome {
    /// 0 when the run passes the gate, 1 when it fails it.
    pub exit_code: u8,
    /// Errors, then warnings, then notes, then a one-line summary (a note).
    pub messages: Vec<Message>,
    /// Failing cases no entry excuses: each fails the run.
    pub unexpected_failures: Vec<CaseRef>,
    /// Failing cases excused by a known-failing entry.
    pub expected_failures: Vec<CaseRef>,
    /// Known-failing entries whose cases all pass: each fails the run.
    pub stale: Vec<Stale>,
    /// Cases matched by a known-flaky entry that failed this time (not gated).
    pub flaky_failed: Vec<CaseRef>,
    /// Cases matched by a known-flaky entry that passed this time.
    pub flaky_passed: Vec<CaseRef>,
    /// Entries (known-failing or flaky) that match no case of the run: warnings.
    pub unused: Vec<Entry>,
    /// Cases that passed and are not flaky.
    pub passed: usize,
}

impl GateOutcome {
    /// Did the run pass the gate?
    pub fn passed(&self) -> bool {
        self.exit_code == 0
    }
}

/// Judge a run against the known-failing and known-flaky entries. A case fails when
/// either verdict is a failure ([`CaseResult::fails`] with the report's `strict`
/// flag, so `--strict` runs count NON-STRICT as failures).
pub fn evaluate(report: &RunReport, known_failing: &[Entry], flaky: &[Entry]) -> GateOutcome {
    let strict = report.strict;
    let several_agents = report.agents.len() > 1;
    let show = |c: &CaseRef| {
        if several_agents {
            format!("{} [{}]", c.id, c.agent)
        } else {
            c.id.clone()
        }
    };
    let fails = |r: &CaseResult| r.fails(strict);

    let mut out = GateOutcome {
        exit_code: 0,
        messages: Vec::new(),
        unexpected_failures: Vec::new(),
        expected_failures: Vec::new(),
        stale: Vec::new(),
        flaky_failed: Vec::new(),
        flaky_passed: Vec::new(),
        unused: Vec::new(),
        passed: 0,
    };
    // Per known-failing entry: (matched any case at all, failing cases, passing cases),
    // flaky cases left out of the last two.
    let mut per_entry: Vec<(bool, Vec<CaseRef>, Vec<CaseRef>)> =
        vec![(false, Vec::new(), Vec::new()); known_failing.len()];
    let mut flaky_used = vec![false; flaky.len()];

    for agent in &report.agents {
        for r in &agent.results {
            let case = CaseRef::new(&agent.agent, r);
            let failed = fails(r);
            let mut is_flaky = false;
            for (i, e) in flaky.iter().enumerate() {
                if e.matches(&agent.agent, &r.id) {
                    flaky_used[i] = true;
                    is_flaky = true;
                }
            }
            let mut known = false;
            for (i, e) in known_failing.iter().enumerate() {
                if e.matches(&agent.agent, &r.id) {
                    let slot = &mut per_entry[i];
                    slot.0 = true;
                    if !is_flaky {
                        known = true;
                        if failed {
                            slot.1.push(case.clone());
                        } else {
                            slot.2.push(case.clone());
                        }
                    }
                }
            }
            match (is_flaky, failed, known) {
                (true, true, _) => out.flaky_failed.push(case),
                (true, false, _) => out.flaky_passed.push(case),
                (false, true, true) => out.expected_failures.push(case),
                (false, true, false) => out.unexpected_failures.push(case),
                (false, false, _) => out.passed += 1,
            }
        }
    }

    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut notes = Vec::new();
    for c in &out.unexpected_failures {
        errors.push(format!(
            "{} failed ({} / {}) and is not a known failure",
            show(c),
            c.behavior,
            c.behavior_close
        ));
    }
    for (e, (matched, failing, passing)) in known_failing.iter().zip(&per_entry) {
        if !matched {
            out.unused.push(e.clone());
            continue;
        }
        if failing.is_empty() && !passing.is_empty() {
            let what = if passing.len() == 1 && !e.pattern.contains('*') {
                format!("{} passes now", show(&passing[0]))
            } else {
                format!(
                    "every case matching {} passes now ({})",
                    e.text(),
                    list(passing.iter().map(show))
                )
            };
            errors.push(format!("{}: {what}; {}", e.location(), e.removal_hint()));
            out.stale.push(Stale {
                entry: e.clone(),
                cases: passing.clone(),
            });
        } else if !failing.is_empty() && !passing.is_empty() {
            notes.push(format!(
                "{}: {} also covers cases that pass ({}); they are not gated while it is there",
                e.location(),
                e.text(),
                list(passing.iter().map(show))
            ));
        }
    }
    for (e, used) in flaky.iter().zip(&flaky_used) {
        if !used {
            out.unused.push(e.clone());
        }
    }
    for e in &out.unused {
        let hint = if e.looks_like_missing_file() {
            " (there is no such file either)"
        } else {
            ""
        };
        warnings.push(format!(
            "{}: {} matches no case of this run{hint}",
            e.location(),
            e.text()
        ));
    }
    if !out.flaky_failed.is_empty() {
        notes.push(format!(
            "known-flaky cases that failed (not gated): {}",
            list(out.flaky_failed.iter().map(show))
        ));
    }

    let fail = !out.unexpected_failures.is_empty() || !out.stale.is_empty();
    out.exit_code = u8::from(fail);
    let mut summary = format!(
        "gate {}: {} passed, {} unexpected {}, {} known {}, {} stale known-failing {}",
        if fail { "FAILED" } else { "passed" },
        out.passed,
        out.unexpected_failures.len(),
        plural(out.unexpected_failures.len(), "failure", "failures"),
        out.expected_failures.len(),
        plural(out.expected_failures.len(), "failure", "failures"),
        out.stale.len(),
        plural(out.stale.len(), "entry", "entries"),
    );
    if !flaky.is_empty() {
        let _ = write!(
            summary,
            ", {} flaky ({} failed)",
            out.flaky_failed.len() + out.flaky_passed.len(),
            out.flaky_failed.len()
        );
    }
    out.messages = errors
        .into_iter()
        .map(|text| Message {
            level: Level::Error,
            text,
        })
        .chain(warnings.into_iter().map(|text| Message {
            level: Level::Warning,
            text,
        }))
        .chain(notes.into_iter().map(|text| Message {
            level: Level::Note,
            text,
        }))
        .chain(std::iter::once(Message {
            level: Level::Note,
            text: summary,
        }))
        .collect();
    out
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// At most eight items, comma-separated, then "and N more".
fn list(items: impl Iterator<Item = String>) -> String {
    let all: Vec<String> = items.collect();
    let shown = all.iter().take(8).cloned().collect::<Vec<_>>().join(", ");
    if all.len() > 8 {
        format!("{shown} and {} more", all.len() - 8)
    } else {
        shown
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::{AgentReport, SCHEMA_VERSION};
    use Verdict::{Failed as F, NonStrict as NS, Ok as OK, WrongCode as WC};

    type Rows<'a> = &'a [(&'a str, Verdict, Verdict)];

    fn report(strict: bool, agents: &[(&str, Rows)]) -> RunReport {
        RunReport {
            schema: SCHEMA_VERSION,
            tool: "wsspec test".into(),
            started: "2025-01-01T00:00:00.000Z".into(),
            duration_ms: 1,
            strict,
            agents: agents
                .iter()
                .map(|(name, rows)| AgentReport {
                    role: Default::default(),
                    agent: name.to_string(),
                    url: "ws://127.0.0.1:1/".into(),
                    results: rows
                        .iter()
                        .map(|(id, b, c)| CaseResult::sample(id, *b, *c))
                        .collect(),
                })
                .collect(),
        }
    }

    fn file(text: &str) -> Vec<Entry> {
        parse_list("reports/baseline/x.txt", text)
    }

    fn arg(text: &str) -> Entry {
        Entry::parse(
            text,
            Origin::Arg {
                flag: "--known-failing".into(),
            },
        )
    }

    #[test]
    fn list_files_skip_comments_and_blank_lines() {
        let e = file("# header\n\n6.4.3\n  7.1.* # trailing comment\nTungstenite*:2.1\n");
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].pattern, "6.4.3");
        assert_eq!(
            e[0].origin,
            Origin::File {
                path: "reports/baseline/x.txt".into(),
                line: 3
            }
        );
        assert_eq!(e[1].pattern, "7.1.*");
        assert_eq!(e[1].location(), "reports/baseline/x.txt:4");
        assert_eq!(e[2].agent.as_deref(), Some("Tungstenite*"));
        assert_eq!(e[2].pattern, "2.1");
        assert!(e[2].matches("Tungstenite 0.30", "2.1"));
        assert!(!e[2].matches("ws", "2.1"));
        assert!(!e[2].matches("Tungstenite", "2.10"));
    }

    #[test]
    fn no_entries_gates_like_a_plain_run() {
        let ok = report(false, &[("a", &[("1.1.1", OK, OK), ("6.4.3", NS, OK)])]);
        let g = evaluate(&ok, &[], &[]);
        assert_eq!(g.exit_code, 0);
        assert_eq!(g.passed, 2);
        assert_eq!(g.messages.len(), 1, "{:?}", g.messages);

        let strict = report(true, &[("a", &[("1.1.1", OK, OK), ("6.4.3", NS, OK)])]);
        let g = evaluate(&strict, &[], &[]);
        assert_eq!(g.exit_code, 1, "NON-STRICT fails a --strict run");
        assert_eq!(g.unexpected_failures.len(), 1);
        assert!(g.messages[0].to_string().starts_with("error: 6.4.3 failed"));
    }

    #[test]
    fn known_failure_that_fails_passes_the_gate() {
        let r = report(false, &[("a", &[("1.1.1", OK, OK), ("6.4.3", F, OK)])]);
        let g = evaluate(&r, &file("6.4.3\n"), &[]);
        assert_eq!(g.exit_code, 0, "{:?}", g.messages);
        assert_eq!(g.expected_failures.len(), 1);
        assert!(g.unexpected_failures.is_empty() && g.stale.is_empty());
    }

    #[test]
    fn stale_entry_names_file_and_line() {
        let r = report(false, &[("a", &[("6.4.3", OK, OK), ("7.1.1", WC, OK)])]);
        let e = file("# known\n7.1.1\n\n\n\n\n6.4.3\n");
        let g = evaluate(&r, &e, &[]);
        assert_eq!(g.exit_code, 1);
        assert_eq!(g.stale.len(), 1);
        assert_eq!(
            g.messages[0].to_string(),
            "error: reports/baseline/x.txt:7: 6.4.3 passes now; delete this line"
        );
    }

    #[test]
    fn stale_command_line_entry_says_which_flag() {
        let r = report(false, &[("a", &[("2.1", OK, OK)])]);
        let g = evaluate(&r, &[arg("2.1")], &[]);
        assert_eq!(g.exit_code, 1);
        assert_eq!(
            g.messages[0].text,
            "--known-failing 2.1: 2.1 passes now; remove it from --known-failing"
        );
    }

    #[test]
    fn pattern_entries_stay_while_one_case_fails() {
        let r = report(false, &[("a", &[("6.4.1", OK, OK), ("6.4.3", F, OK)])]);
        let g = evaluate(&r, &file("6.4.*\n"), &[]);
        assert_eq!(g.exit_code, 0);
        assert!(g
            .messages
            .iter()
            .any(|m| m.level == Level::Note && m.text.contains("6.4.1")));

        let fixed = report(false, &[("a", &[("6.4.1", OK, OK), ("6.4.3", OK, OK)])]);
        let g = evaluate(&fixed, &file("6.4.*\n"), &[]);
        assert_eq!(g.exit_code, 1);
        assert_eq!(
            g.messages[0].text,
            "reports/baseline/x.txt:1: every case matching 6.4.* passes now (6.4.1, 6.4.3); delete this line"
        );
    }

    #[test]
    fn flaky_never_gates_and_wins_over_known_failing() {
        let r = report(false, &[("a", &[("2.1", F, OK), ("2.2", OK, OK)])]);
        let flaky = file("2.*\n");
        let g = evaluate(&r, &[], &flaky);
        assert_eq!(g.exit_code, 0);
        assert_eq!(g.flaky_failed.len(), 1);
        assert_eq!(g.flaky_passed.len(), 1);
        assert_eq!(g.passed, 0);

        // 2.2 passes, but it is flaky: the known-failing entry is neither stale nor unused.
        let g = evaluate(&r, &file("2.2\n"), &flaky);
        assert_eq!(g.exit_code, 0, "{:?}", g.messages);
        assert!(g.stale.is_empty() && g.unused.is_empty());
    }

    #[test]
    fn unused_entries_are_warnings() {
        let r = report(false, &[("a", &[("1.1.1", OK, OK)])]);
        let g = evaluate(
            &r,
            &[arg("9.9.9"), arg("reports/baseline/missing.txt")],
            &file("7.*\n"),
        );
        assert_eq!(g.exit_code, 0);
        assert_eq!(g.unused.len(), 3);
        let warnings: Vec<String> = g
            .messages
            .iter()
            .filter(|m| m.level == Level::Warning)
            .map(|m| m.text.clone())
            .collect();
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(warnings[1].contains("no such file"), "{warnings:?}");
        assert!(!warnings[0].contains("no such file"), "{warnings:?}");
        assert!(warnings[2].starts_with("reports/baseline/x.txt:1: 7.*"));
    }

    #[test]
    fn agent_scoped_entries_and_several_agents() {
        let r = report(
            false,
            &[
                ("alpha", &[("6.4.3", F, OK)]),
                ("beta", &[("6.4.3", OK, OK)]),
            ],
        );
        // Unscoped: still needed for alpha, so not stale; beta's pass is noted.
        let g = evaluate(&r, &file("6.4.3\n"), &[]);
        assert_eq!(g.exit_code, 0, "{:?}", g.messages);
        assert!(g
            .messages
            .iter()
            .any(|m| m.level == Level::Note && m.text.contains("6.4.3 [beta]")));
        // Scoped to beta: stale, and alpha's failure is unexpected.
        let g = evaluate(&r, &file("beta:6.4.3\n"), &[]);
        assert_eq!(g.exit_code, 1);
        assert_eq!(g.unexpected_failures.len(), 1);
        assert_eq!(g.unexpected_failures[0].agent, "alpha");
        assert_eq!(g.stale.len(), 1);
        assert!(g.messages.iter().any(
            |m| m.text == "reports/baseline/x.txt:1: 6.4.3 [beta] passes now; delete this line"
        ));
    }

    #[test]
    fn summary_counts() {
        let r = report(
            false,
            &[(
                "a",
                &[
                    ("1.1.1", OK, OK),
                    ("2.1", F, OK),
                    ("2.2", F, OK),
                    ("3.1", F, F),
                ],
            )],
        );
        let g = evaluate(&r, &file("2.1\n"), &file("3.1\n"));
        assert_eq!(g.exit_code, 1);
        let last = g
            .messages
            .last()
            .map(|m| m.text.clone())
            .unwrap_or_default();
        assert_eq!(
            last,
            "gate FAILED: 1 passed, 1 unexpected failure, 1 known failure, 0 stale known-failing entries, 1 flaky (1 failed)"
        );
    }
}
