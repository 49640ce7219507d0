//! `wsspec diff OLD NEW`: what changed between two runs, case by case.
//!
//! Either side may be a native `report.json`, an Autobahn `index.json` (ours or
//! Autobahn|Testsuite's own, detected by shape), or a directory holding one of them
//! (`report.json`, then `autobahn/index.json`, then `index.json`). Only
//! (`behavior`, `behaviorClose`, `remoteCloseCode`) are compared; durations, timestamps
//! and traces are ignored.
//!
//! Agents are paired by name; when each side has exactly one agent they are paired
//! whatever their names (a baseline from Autobahn says `Tungstenite`, ours may say
//! `tokio-tungstenite 0.30`). The output is a unified diff of one line per case
//! (`6.4.3  NON-STRICT  OK  -`), coloured on a terminal, then every differing case in
//! exactly one of these groups:
//!
//! * **regression** — passed in OLD, and fails in NEW or is missing from NEW (unless
//!   `--allow-missing`, which files passing cases missing from NEW under *removed*);
//! * **fix** — failed in OLD, passes in NEW;
//! * **changed** — in both, passing or failing on both sides, but some verdict or the
//!   close code differs;
//! * **added** — only in NEW;
//! * **removed** — only in OLD, and not a regression.
//!
//! A case passes when neither verdict is a failure (`--strict`: NON-STRICT fails too).
//! Exit status: 1 when there is a regression, 0 otherwise, 2 when an input cannot be
//! read or has neither shape.

use crate::case::id_sort_key;
use crate::error::Error;
use crate::report::json;
use crate::report::model::Verdict;
use clap::Args;
use serde_json::Value;
use similar::TextDiff;
use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier run: report.json, an Autobahn index.json, or a directory holding one.
    pub old: PathBuf,
    /// The later run (same choices).
    pub new: PathBuf,
    /// Count NON-STRICT verdicts as failures.
    #[arg(long)]
    pub strict: bool,
    /// Cases missing from NEW are not regressions (e.g. against Autobahn's full
    /// 517-case index, or a narrower selection).
    #[arg(long)]
    pub allow_missing: bool,
    /// Unchanged lines shown around each change.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub context: usize,
    /// Compare only the cases present on both sides (per agent): cases that only one
    /// side ran are neither added, removed nor regressions. For comparing two tools
    /// whose catalogues differ (e.g. Autobahn's 517 cases with a narrower run).
    #[arg(long)]
    pub common: bool,
    /// Machine-readable output instead of the diff: one tab-separated line per
    /// compared case, `KIND AGENT ID OLD NEW`, in id order per agent pair (KIND is
    /// same, regression, fix, changed, added or removed; OLD and NEW are
    /// `behavior/behaviorClose/remoteCloseCode` or `missing`).
    #[arg(long)]
    pub porcelain: bool,
}

/// The verdicts of one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    pub behavior: Verdict,
    pub behavior_close: Verdict,
    pub remote_close_code: Option<u16>,
}

impl Row {
    fn passes(&self, strict: bool) -> bool {
        !self.behavior.is_failure(strict) && !self.behavior_close.is_failure(strict)
    }

    /// `behavior/behaviorClose/code` (for --porcelain).
    fn slashed(&self) -> String {
        format!(
            "{}/{}/{}",
            self.behavior,
            self.behavior_close,
            code_text(self.remote_close_code)
        )
    }

    fn words(&self) -> String {
        format!(
            "{} / {} ({})",
            self.behavior,
            self.behavior_close,
            code_text(self.remote_close_code)
        )
    }
}

fn code_text(c: Option<u16>) -> String {
    c.map_or_else(|| "-".to_string(), |c| c.to_string())
}

/// One agent's verdicts, sorted by case id (numerically).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentVerdicts {
    pub agent: String,
    pub cases: Vec<(String, Row)>,
}

/// Read either shape (see the module doc). `path` may be a directory.
pub fn load(path: &Path) -> Result<Vec<AgentVerdicts>, Error> {
    let file = resolve(path)?;
    let shown = file.display();
    let text = std::fs::read_to_string(&file).map_err(|e| Error::Io(format!("{shown}: {e}")))?;
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        Error::Usage(format!(
            "{shown}:{}:{}: is not valid JSON",
            e.line(),
            e.column()
        ))
    })?;
    if value.get("schema").is_some() {
        let report = json::read(&file)?;
        return Ok(report
            .agents
            .into_iter()
            .map(|a| {
                let mut cases: Vec<(String, Row)> = a
                    .results
                    .into_iter()
                    .map(|r| {
                        let row = Row {
                            behavior: r.behavior,
                            behavior_close: r.behavior_close,
                            remote_close_code: r.close.remote_close_code,
                        };
                        (r.id, row)
                    })
                    .collect();
                cases.sort_by_key(|(id, _)| id_sort_key(id));
                AgentVerdicts {
                    agent: a.agent,
                    cases,
                }
            })
            .collect());
    }
    from_index(&shown.to_string(), &value)
}

/// A directory stands for the report inside it.
fn resolve(path: &Path) -> Result<PathBuf, Error> {
    if !path.is_dir() {
        return Ok(path.to_path_buf());
    }
    for rel in ["report.json", "autobahn/index.json", "index.json"] {
        let p = path.join(rel);
        if p.is_file() {
            return Ok(p);
        }
    }
    Err(Error::Io(format!(
        "{}: a directory without report.json, autobahn/index.json or index.json",
        path.display()
    )))
}

/// Autobahn's `index.json`: `{agent: {case id: {behavior, behaviorClose,
/// remoteCloseCode, …}}}`.
fn from_index(shown: &str, value: &Value) -> Result<Vec<AgentVerdicts>, Error> {
    let not_index = |why: String| {
        Error::Usage(format!(
            "{shown}: neither a wsspec report.json nor an Autobahn index.json ({why})"
        ))
    };
    let agents = value
        .as_object()
        .ok_or_else(|| not_index("the top level is not an object".into()))?;
    let mut out = Vec::new();
    for (agent, cases) in agents {
        let cases = cases
            .as_object()
            .ok_or_else(|| not_index(format!("`{agent}` is not an object of cases")))?;
        let mut rows = Vec::new();
        for (id, c) in cases {
            let verdict = |key: &str| -> Result<Verdict, Error> {
                let v = c
                    .get(key)
                    .ok_or_else(|| not_index(format!("case `{id}` of `{agent}` has no `{key}`")))?;
                serde_json::from_value(v.clone()).map_err(|_| {
                    Error::Usage(format!(
                        "{shown}: case `{id}` of `{agent}`: `{key}` is {v}, not a verdict"
                    ))
                })
            };
            let remote_close_code = match c.get("remoteCloseCode") {
                None | Some(Value::Null) => None,
                Some(v) => Some(
                    v.as_u64()
                        .and_then(|n| u16::try_from(n).ok())
                        .ok_or_else(|| {
                            Error::Usage(format!(
                                "{shown}: case `{id}` of `{agent}`: remoteCloseCode {v} is not a close code"
                            ))
                        })?,
                ),
            };
            rows.push((
                id.clone(),
                Row {
                    behavior: verdict("behavior")?,
                    behavior_close: verdict("behaviorClose")?,
                    remote_close_code,
                },
            ));
        }
        rows.sort_by_key(|(id, _)| id_sort_key(id));
        out.push(AgentVerdicts {
            agent: agent.clone(),
            cases: rows,
        });
    }
    Ok(out)
}

/// What happened to one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Regression,
    Fix,
    Changed,
    Added,
    Removed,
}

impl Kind {
    const ALL: [Kind; 5] = [
        Kind::Regression,
        Kind::Fix,
        Kind::Changed,
        Kind::Added,
        Kind::Removed,
    ];

    fn name(self, n: usize) -> &'static str {
        match (self, n == 1) {
            (Kind::Regression, true) => "regression",
            (Kind::Regression, false) => "regressions",
            (Kind::Fix, true) => "fix",
            (Kind::Fix, false) => "fixes",
            (Kind::Changed, _) => "changed",
            (Kind::Added, _) => "added",
            (Kind::Removed, _) => "removed",
        }
    }
}

/// One differing case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub kind: Kind,
    /// Agent label (`old → new` when paired across names).
    pub agent: String,
    pub id: String,
    pub old: Option<Row>,
    pub new: Option<Row>,
}

/// A pair of agents to compare (either side may be absent).
struct Pair<'a> {
    label: String,
    old: Option<&'a AgentVerdicts>,
    new: Option<&'a AgentVerdicts>,
}

fn pair_agents<'a>(old: &'a [AgentVerdicts], new: &'a [AgentVerdicts]) -> Vec<Pair<'a>> {
    if let ([o], [n]) = (old, new) {
        let label = if o.agent == n.agent {
            o.agent.clone()
        } else {
            format!("{} → {}", o.agent, n.agent)
        };
        return vec![Pair {
            label,
            old: Some(o),
            new: Some(n),
        }];
    }
    let mut pairs: Vec<Pair> = old
        .iter()
        .map(|o| Pair {
            label: o.agent.clone(),
            old: Some(o),
            new: new.iter().find(|n| n.agent == o.agent),
        })
        .collect();
    pairs.extend(
        new.iter()
            .filter(|n| !old.iter().any(|o| o.agent == n.agent))
            .map(|n| Pair {
                label: n.agent.clone(),
                old: None,
                new: Some(n),
            }),
    );
    pairs
}

/// Classify every case of a pair (with `common`, only those on both sides); also
/// returns the ids of the cases compared.
fn classify<'p>(pair: &Pair<'p>, a: &DiffArgs) -> (Vec<Change>, Vec<&'p str>) {
    let (strict, allow_missing) = (a.strict, a.allow_missing);
    let get = |side: Option<&AgentVerdicts>, id: &str| {
        side.and_then(|a| a.cases.iter().find(|(i, _)| i == id).map(|(_, r)| *r))
    };
    let mut ids: Vec<&'p String> = pair
        .old
        .iter()
        .chain(pair.new.iter())
        .flat_map(|a| a.cases.iter().map(|(id, _)| id))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    ids.sort_by_key(|id| id_sort_key(id));
    let mut changes = Vec::new();
    let mut compared = Vec::new();
    for id in &ids {
        let (old, new) = (get(pair.old, id), get(pair.new, id));
        if a.common && (old.is_none() || new.is_none()) {
            continue;
        }
        compared.push(id.as_str());
        let kind = match (old, new) {
            (Some(o), Some(n)) if o == n => continue,
            (Some(o), Some(n)) => match (o.passes(strict), n.passes(strict)) {
                (true, false) => Kind::Regression,
                (false, true) => Kind::Fix,
                _ => Kind::Changed,
            },
            (Some(o), None) if o.passes(strict) && !allow_missing => Kind::Regression,
            (Some(_), None) => Kind::Removed,
            (None, Some(_)) => Kind::Added,
            (None, None) => continue,
        };
        changes.push(Change {
            kind,
            agent: pair.label.clone(),
            id: (*id).clone(),
            old,
            new,
        });
    }
    (changes, compared)
}

/// One aligned line per case: `id  behavior  behaviorClose  code`.
fn lines(a: Option<&AgentVerdicts>, w: (usize, usize, usize)) -> String {
    let mut s = String::new();
    for (id, r) in a.iter().flat_map(|a| a.cases.iter()) {
        s.push_str(&format!(
            "{id:<iw$}  {b:<bw$}  {c:<cw$}  {code}\n",
            b = r.behavior.as_str(),
            c = r.behavior_close.as_str(),
            code = code_text(r.remote_close_code),
            iw = w.0,
            bw = w.1,
            cw = w.2,
        ));
    }
    s
}

/// Column widths over both sides, so that equal rows render as equal lines.
fn widths(pair: &Pair) -> (usize, usize, usize) {
    let rows = pair
        .old
        .iter()
        .chain(pair.new.iter())
        .flat_map(|a| a.cases.iter());
    let mut w = (0, 0, 0);
    for (id, r) in rows {
        w.0 = w.0.max(id.chars().count());
        w.1 = w.1.max(r.behavior.as_str().len());
        w.2 = w.2.max(r.behavior_close.as_str().len());
    }
    w
}

/// Paint a unified diff for a terminal.
fn paint(diff: &str) -> String {
    let mut out = String::new();
    for line in diff.lines() {
        let code = if line.starts_with("---") || line.starts_with("+++") {
            "1"
        } else if line.starts_with("@@") {
            "36"
        } else if line.starts_with('-') {
            "31"
        } else if line.starts_with('+') {
            "32"
        } else {
            ""
        };
        if code.is_empty() {
            out.push_str(line);
        } else {
            out.push_str(&format!("\x1b[{code}m{line}\x1b[0m"));
        }
        out.push('\n');
    }
    out
}

/// Everything `wsspec diff` prints, and whether there was a regression.
pub fn render(
    old_name: &str,
    old: &[AgentVerdicts],
    new_name: &str,
    new: &[AgentVerdicts],
    a: &DiffArgs,
    color: bool,
) -> (String, bool) {
    let pairs = pair_agents(old, new);
    let several = pairs.len() > 1;
    let mut out = String::new();
    let mut all = Vec::new();
    let mut compared = 0;
    for p in &pairs {
        if let (Some(o), Some(n)) = (p.old, p.new) {
            if o.agent != n.agent {
                out.push_str(&format!(
                    "note: comparing agent `{}` of {old_name} with agent `{}` of {new_name}\n",
                    o.agent, n.agent
                ));
            }
        }
        let w = widths(p);
        let (old_text, new_text) = (lines(p.old, w), lines(p.new, w));
        let diff = TextDiff::from_lines(&old_text, &new_text);
        let udiff = diff
            .unified_diff()
            .context_radius(a.context)
            .header(
                &format!(
                    "{old_name} ({})",
                    p.old.map_or("no such agent", |x| &x.agent)
                ),
                &format!(
                    "{new_name} ({})",
                    p.new.map_or("no such agent", |x| &x.agent)
                ),
            )
            .to_string();
        out.push_str(&if color { paint(&udiff) } else { udiff });
        let (changes, ids) = classify(p, a);
        compared += ids.len();
        all.extend(changes);
    }
    if all.is_empty() {
        let both = if a.common {
            " (the cases both sides ran)"
        } else {
            ""
        };
        out.push_str(&format!(
            "no differences: {compared} cases of {} agent{} have the same verdicts{both}\n",
            pairs.len(),
            if pairs.len() == 1 { "" } else { "s" }
        ));
        return (out, false);
    }
    out.push('\n');
    for kind in Kind::ALL {
        let of_kind: Vec<&Change> = all.iter().filter(|c| c.kind == kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        let head = format!("{} ({}):", kind.name(of_kind.len()), of_kind.len());
        if color && kind == Kind::Regression {
            out.push_str(&format!("\x1b[1;31m{head}\x1b[0m\n"));
        } else {
            out.push_str(&head);
            out.push('\n');
        }
        // Added and removed cases can be whole sections: the diff above shows them all.
        let limit = match kind {
            Kind::Added | Kind::Removed => 20,
            _ => usize::MAX,
        };
        let total = of_kind.len();
        for c in of_kind.into_iter().take(limit) {
            let who = if several {
                format!("[{}] ", c.agent)
            } else {
                String::new()
            };
            let old = c.old.map_or_else(|| "missing".to_string(), |r| r.words());
            let new = c.new.map_or_else(|| "missing".to_string(), |r| r.words());
            out.push_str(&format!("  {who}{}: {old} → {new}\n", c.id));
        }
        if total > limit {
            out.push_str(&format!("  … and {} more\n", total - limit));
        }
    }
    let count = |k: Kind| all.iter().filter(|c| c.kind == k).count();
    let parts: Vec<String> = Kind::ALL
        .iter()
        .map(|&k| format!("{} {}", count(k), k.name(count(k))))
        .collect();
    let both = if a.common { " in both" } else { "" };
    out.push_str(&format!(
        "diff: {} ({compared} cases{both} compared)\n",
        parts.join(", ")
    ));
    (out, count(Kind::Regression) > 0)
}

/// The --porcelain output (see [`DiffArgs::porcelain`]), and whether there was a
/// regression.
pub fn porcelain(old: &[AgentVerdicts], new: &[AgentVerdicts], a: &DiffArgs) -> (String, bool) {
    let mut out = String::new();
    let mut regressed = false;
    let side = |r: Option<Row>| r.map_or_else(|| "missing".to_string(), |r| r.slashed());
    for p in &pair_agents(old, new) {
        let (changes, ids) = classify(p, a);
        for id in ids {
            let line = match changes.iter().find(|c| c.id == id) {
                Some(c) => {
                    regressed |= c.kind == Kind::Regression;
                    (c.kind.name(1), side(c.old), side(c.new))
                }
                None => {
                    let row = p.old.and_then(|o| o.cases.iter().find(|(i, _)| i == id));
                    let row = side(row.map(|(_, r)| *r));
                    ("same", row.clone(), row)
                }
            };
            out.push_str(&format!(
                "{}\t{}\t{id}\t{}\t{}\n",
                line.0, p.label, line.1, line.2
            ));
        }
    }
    (out, regressed)
}

pub(crate) fn diff(a: &DiffArgs) -> Result<ExitCode, Error> {
    let old = load(&a.old)?;
    let new = load(&a.new)?;
    if a.porcelain {
        let (text, regressed) = porcelain(&old, &new, a);
        print!("{text}");
        return Ok(ExitCode::from(u8::from(regressed)));
    }
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let (text, regressed) = render(
        &a.old.display().to_string(),
        &old,
        &a.new.display().to_string(),
        &new,
        a,
        color,
    );
    print!("{text}");
    Ok(ExitCode::from(u8::from(regressed)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Verdict::{Failed as F, NonStrict as NS, Ok as OK};

    fn agent(name: &str, rows: &[(&str, Verdict, Verdict, Option<u16>)]) -> AgentVerdicts {
        AgentVerdicts {
            agent: name.into(),
            cases: rows
                .iter()
                .map(|(id, b, c, code)| {
                    (
                        id.to_string(),
                        Row {
                            behavior: *b,
                            behavior_close: *c,
                            remote_close_code: *code,
                        },
                    )
                })
                .collect(),
        }
    }

    fn args(strict: bool, allow_missing: bool) -> DiffArgs {
        DiffArgs {
            old: "old.json".into(),
            new: "new.json".into(),
            strict,
            allow_missing,
            context: 3,
            common: false,
            porcelain: false,
        }
    }

    #[test]
    fn classifies_every_kind() {
        let old = [agent(
            "a",
            &[
                ("1.1.1", OK, OK, Some(1000)),
                ("2.1", OK, OK, Some(1000)),
                ("2.2", F, OK, None),
                ("2.3", OK, OK, Some(1000)),
                ("2.4", F, OK, None),
                ("2.10", OK, OK, Some(1000)),
            ],
        )];
        let new = [agent(
            "a",
            &[
                ("1.1.1", OK, OK, Some(1000)),
                ("2.1", F, OK, Some(1000)),
                ("2.2", OK, OK, Some(1000)),
                ("2.3", OK, OK, Some(1001)),
                ("2.10", OK, OK, Some(1000)),
                ("3.1", OK, OK, Some(1000)),
            ],
        )];
        let (text, regressed) = render(
            "old.json",
            &old,
            "new.json",
            &new,
            &args(false, false),
            false,
        );
        assert!(regressed);
        assert!(
            text.contains("--- old.json (a)\n+++ new.json (a)\n"),
            "{text}"
        );
        assert!(text.contains("\n-2.1    OK      OK  1000\n"), "{text}");
        assert!(text.contains("\n+2.1    FAILED  OK  1000\n"), "{text}");
        assert!(text.contains("\n 2.10   OK      OK  1000\n"), "{text}");
        assert!(
            text.contains("regression (1):\n  2.1: OK / OK (1000) → FAILED / OK (1000)\n"),
            "{text}"
        );
        assert!(
            text.contains("fix (1):\n  2.2: FAILED / OK (-) → OK / OK (1000)\n"),
            "{text}"
        );
        assert!(text.contains("changed (1):\n  2.3:"), "{text}");
        assert!(
            text.contains("added (1):\n  3.1: missing → OK / OK (1000)\n"),
            "{text}"
        );
        assert!(
            text.contains("removed (1):\n  2.4: FAILED / OK (-) → missing\n"),
            "{text}"
        );
        assert!(
            text.ends_with(
                "diff: 1 regression, 1 fix, 1 changed, 1 added, 1 removed (7 cases compared)\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn missing_passing_case_is_a_regression_unless_allowed() {
        let old = [agent(
            "a",
            &[("1.1.1", OK, OK, Some(1000)), ("9.1.1", OK, OK, Some(1000))],
        )];
        let new = [agent("a", &[("1.1.1", OK, OK, Some(1000))])];
        let (text, regressed) = render("o", &old, "n", &new, &args(false, false), false);
        assert!(regressed, "{text}");
        assert!(
            text.contains("regression (1):\n  9.1.1: OK / OK (1000) → missing"),
            "{text}"
        );
        let (text, regressed) = render("o", &old, "n", &new, &args(false, true), false);
        assert!(!regressed, "{text}");
        assert!(text.contains("removed (1):"), "{text}");
    }

    #[test]
    fn strict_makes_non_strict_a_failure() {
        let old = [agent("a", &[("6.4.3", OK, OK, Some(1007))])];
        let new = [agent("a", &[("6.4.3", NS, OK, Some(1007))])];
        let (_, regressed) = render("o", &old, "n", &new, &args(false, false), false);
        assert!(!regressed);
        let (text, regressed) = render("o", &old, "n", &new, &args(true, false), false);
        assert!(regressed, "{text}");
    }

    #[test]
    fn single_agents_pair_across_names_and_equal_runs_say_so() {
        let old = [agent("Tungstenite", &[("1.1.1", OK, OK, Some(1000))])];
        let new = [agent("tokio-tungstenite", &[("1.1.1", OK, OK, Some(1000))])];
        let (text, regressed) = render("o", &old, "n", &new, &args(false, false), false);
        assert!(!regressed);
        assert!(text.contains("comparing agent `Tungstenite`"), "{text}");
        assert!(
            text.ends_with("no differences: 1 cases of 1 agent have the same verdicts\n"),
            "{text}"
        );
    }

    #[test]
    fn several_agents_pair_by_name() {
        let old = [
            agent("a", &[("1.1.1", OK, OK, Some(1000))]),
            agent("b", &[("1.1.1", OK, OK, Some(1000))]),
        ];
        let new = [
            agent("b", &[("1.1.1", F, OK, Some(1000))]),
            agent("c", &[("1.1.1", OK, OK, Some(1000))]),
        ];
        let (text, regressed) = render("o", &old, "n", &new, &args(false, false), false);
        assert!(regressed);
        assert!(
            text.contains("regressions (2):\n  [a] 1.1.1: OK / OK (1000) → missing\n  [b] 1.1.1:"),
            "{text}"
        );
        assert!(text.contains("added (1):\n  [c] 1.1.1"), "{text}");
    }

    #[test]
    fn common_compares_only_cases_on_both_sides() {
        let old = [agent(
            "a",
            &[
                ("1.1.1", OK, OK, Some(1000)),
                ("2.5", OK, F, None),
                ("9.1.1", OK, OK, Some(1000)),
            ],
        )];
        let new = [agent(
            "a",
            &[
                ("1.1.1", OK, OK, Some(1000)),
                ("2.5", F, F, None),
                ("framing/x", OK, OK, Some(1000)),
            ],
        )];
        let mut a = args(false, false);
        a.common = true;
        let (text, regressed) = render("o", &old, "n", &new, &a, false);
        assert!(!regressed, "{text}");
        assert!(
            text.ends_with(
                "diff: 0 regressions, 0 fixes, 1 changed, 0 added, 0 removed (2 cases in both compared)\n"
            ),
            "{text}"
        );
        let (text, regressed) = porcelain(&old, &new, &a);
        assert!(!regressed);
        assert_eq!(
            text,
            "same\ta\t1.1.1\tOK/OK/1000\tOK/OK/1000\n\
             changed\ta\t2.5\tOK/FAILED/-\tFAILED/FAILED/-\n"
        );
        a.common = false;
        let (text, regressed) = porcelain(&old, &new, &a);
        assert!(regressed);
        assert_eq!(
            text,
            "same\ta\t1.1.1\tOK/OK/1000\tOK/OK/1000\n\
             changed\ta\t2.5\tOK/FAILED/-\tFAILED/FAILED/-\n\
             regression\ta\t9.1.1\tOK/OK/1000\tmissing\n\
             added\ta\tframing/x\tmissing\tOK/OK/1000\n"
        );
    }

    #[test]
    fn colour_marks_lines() {
        let painted = paint("--- a\n+++ b\n@@ -1 +1 @@\n-x\n+y\n z\n");
        assert_eq!(
            painted,
            "\x1b[1m--- a\x1b[0m\n\x1b[1m+++ b\x1b[0m\n\x1b[36m@@ -1 +1 @@\x1b[0m\n\x1b[31m-x\x1b[0m\n\x1b[32m+y\x1b[0m\n z\n"
        );
    }

    #[test]
    fn index_json_is_read() {
        let v: Value = serde_json::from_str(
            r#"{"Tungstenite": {"2.10": {"behavior": "OK", "behaviorClose": "OK", "duration": 1,
                "remoteCloseCode": 1000, "reportfile": "x.json"},
               "2.9": {"behavior": "FAILED", "behaviorClose": "UNCLEAN", "duration": 1,
                "remoteCloseCode": null, "reportfile": "y.json"}}}"#,
        )
        .expect("json");
        let a = from_index("i.json", &v).expect("index");
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].cases[0].0, "2.9", "numeric order");
        assert_eq!(a[0].cases[0].1.behavior_close, Verdict::Unclean);
        assert_eq!(a[0].cases[1].1.remote_close_code, Some(1000));

        let bad: Value = serde_json::from_str(
            r#"{"a": {"1.1.1": {"behavior": "GREAT", "behaviorClose": "OK"}}}"#,
        )
        .expect("json");
        let msg = from_index("i.json", &bad)
            .expect_err("bad verdict")
            .to_string();
        assert!(msg.contains("\"GREAT\", not a verdict"), "{msg}");
        let msg = from_index("i.json", &serde_json::json!([1]))
            .expect_err("shape")
            .to_string();
        assert!(
            msg.contains("neither a wsspec report.json nor an Autobahn index.json"),
            "{msg}"
        );
    }
}
