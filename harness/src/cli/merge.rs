//! `wsspec merge IN… --out DIR`: combine the native reports of partial runs (usually
//! the parts of `wsspec run --partition k/n`) into one report, written in every format
//! like `wsspec run` does.
//!
//! Agents are matched by name; each merged agent has the union of its results, sorted
//! by case id. A case id that appears twice for one agent is an error naming the ids and
//! files. Differing tool versions or `--strict` settings are warnings (the merged report
//! is strict when any part was); an agent keeps the URL of its first part (parts run
//! against the embedded server each get their own port). The merged `started` is the earliest
//! start and `duration_ms` spans from it to the latest end, so parts run in parallel
//! count once.

use crate::case::id_sort_key;
use crate::error::Error;
use crate::report::json;
use crate::report::model::{AgentReport, RunReport, SCHEMA_VERSION};
use crate::report::terminal;
use clap::Args;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Native reports to combine (report.json files, or the directories holding them).
    #[arg(required = true, value_name = "REPORT")]
    pub inputs: Vec<PathBuf>,
    /// Directory for the merged reports (report.json and the other formats).
    #[arg(long, value_name = "DIR", default_value = "reports/merged")]
    pub out: PathBuf,
    /// Print only where the reports went, not the merged summary table.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// Merge `(name, report)` pairs (the name is used in messages). Returns the merged
/// report and warnings.
pub fn merge(parts: Vec<(String, RunReport)>) -> Result<(RunReport, Vec<String>), Error> {
    let mut warnings = Vec::new();
    let Some((first_name, first)) = parts.first() else {
        return Err(Error::Usage("merge: no reports given".into()));
    };
    let tool = first.tool.clone();
    let first_name = first_name.clone();
    let mut strict = false;
    let mut strict_differs = false;
    let mut started: Option<(i64, String)> = None;
    let mut end_ms: Option<i64> = None;
    let mut fallback_duration = 0u64;
    let mut agents: Vec<AgentReport> = Vec::new();
    // (agent, id) → file it came from, to name duplicates.
    let mut seen: Vec<(String, String, String)> = Vec::new();
    let mut duplicates: Vec<String> = Vec::new();

    for (i, (name, r)) in parts.into_iter().enumerate() {
        if r.tool != tool {
            warnings.push(format!(
                "{name} was written by {} but {first_name} by {tool}; verdicts may not be comparable",
                r.tool
            ));
        }
        if i > 0 && r.strict != strict {
            strict_differs = true;
        }
        strict |= r.strict;
        fallback_duration = fallback_duration.max(r.duration_ms);
        match parse_ms(&r.started) {
            Some(t) => {
                if started.as_ref().is_none_or(|(s, _)| t < *s) {
                    started = Some((t, r.started.clone()));
                }
                let end = t + i64::try_from(r.duration_ms).unwrap_or(i64::MAX / 2);
                end_ms = Some(end_ms.map_or(end, |e| e.max(end)));
            }
            None => {
                if started.is_none() {
                    started = Some((i64::MAX, r.started.clone()));
                }
            }
        }
        for a in r.agents {
            for res in &a.results {
                if let Some((_, _, from)) = seen
                    .iter()
                    .find(|(ag, id, _)| *ag == a.agent && *id == res.id)
                {
                    duplicates.push(format!("{} of {} (in {from} and {name})", res.id, a.agent));
                } else {
                    seen.push((a.agent.clone(), res.id.clone(), name.clone()));
                }
            }
            match agents.iter_mut().find(|m| m.agent == a.agent) {
                Some(m) => {
                    m.results.extend(a.results);
                }
                None => agents.push(a),
            }
        }
    }
    if !duplicates.is_empty() {
        let shown: Vec<String> = duplicates.iter().take(10).cloned().collect();
        let more = if duplicates.len() > 10 {
            format!(" and {} more", duplicates.len() - 10)
        } else {
            String::new()
        };
        return Err(Error::Usage(format!(
            "merge: {} case{} reported twice: {}{more} (merge the parts of one partitioned run, each once)",
            duplicates.len(),
            if duplicates.len() == 1 { "" } else { "s" },
            shown.join(", ")
        )));
    }
    if strict_differs {
        warnings.push(
            "some parts ran with --strict and some without; the merged report is strict".into(),
        );
    }
    for a in &mut agents {
        a.results.sort_by_key(|r| id_sort_key(&r.id));
    }
    let (start_ms, started) = started.unwrap_or((i64::MAX, String::new()));
    let duration_ms = match end_ms {
        Some(e) if start_ms != i64::MAX && e >= start_ms => {
            u64::try_from(e - start_ms).unwrap_or(0)
        }
        _ => fallback_duration,
    };
    Ok((
        RunReport {
            schema: SCHEMA_VERSION,
            tool,
            started,
            duration_ms,
            strict,
            agents,
        },
        warnings,
    ))
}

/// Milliseconds since 1970 of `YYYY-MM-DDTHH:MM:SS.mmmZ` (the reports' timestamps).
fn parse_ms(s: &str) -> Option<i64> {
    let num = |range: std::ops::Range<usize>| -> Option<i64> { s.get(range)?.parse().ok() };
    if s.len() != 24 || !s.ends_with('Z') {
        return None;
    }
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss, ms) = (num(11..13)?, num(14..16)?, num(17..19)?, num(20..23)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Days from 1970-01-01 for a proleptic Gregorian date (the civil-from-days inverse).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((((days * 24 + hh) * 60 + mm) * 60 + ss) * 1000 + ms)
}

pub(crate) fn run(a: &MergeArgs) -> Result<ExitCode, Error> {
    let mut parts = Vec::new();
    for p in &a.inputs {
        let file = if p.is_dir() {
            p.join("report.json")
        } else {
            p.clone()
        };
        let report = json::read(&file)?;
        parts.push((file.display().to_string(), report));
    }
    let n = parts.len();
    let (report, warnings) = merge(parts)?;
    for w in &warnings {
        eprintln!("wsspec: warning: {w}");
    }
    if !a.quiet {
        let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        print!("{}", terminal::render(&report, color));
    }
    let files = crate::report::write_all(&report, &a.out)
        .map_err(|e| Error::Io(format!("writing reports to {}: {e}", a.out.display())))?;
    let cases: usize = report.agents.iter().map(|g| g.results.len()).sum();
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    println!(
        "merged {n} reports ({} agent{}, {cases} results): {}",
        report.agents.len(),
        if report.agents.len() == 1 { "" } else { "s" },
        names.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::{CaseResult, Verdict};

    fn part(tool: &str, started: &str, duration_ms: u64, agent: &str, ids: &[&str]) -> RunReport {
        RunReport {
            schema: SCHEMA_VERSION,
            tool: tool.into(),
            started: started.into(),
            duration_ms,
            strict: false,
            agents: vec![AgentReport {
                role: Default::default(),
                agent: agent.into(),
                url: "ws://127.0.0.1:1/".into(),
                results: ids
                    .iter()
                    .map(|id| CaseResult::sample(id, Verdict::Ok, Verdict::Ok))
                    .collect(),
            }],
        }
    }

    #[test]
    fn parts_become_one_sorted_agent() {
        let (r, warnings) = merge(vec![
            (
                "p1".into(),
                part(
                    "wsspec 0.1.0",
                    "2025-01-01T00:00:01.000Z",
                    500,
                    "a",
                    &["1.1.1", "2.10"],
                ),
            ),
            (
                "p2".into(),
                part(
                    "wsspec 0.1.0",
                    "2025-01-01T00:00:00.000Z",
                    800,
                    "a",
                    &["2.9", "1.1.2"],
                ),
            ),
            (
                "p3".into(),
                part(
                    "wsspec 0.1.0",
                    "2025-01-01T00:00:00.500Z",
                    100,
                    "b",
                    &["1.1.1"],
                ),
            ),
        ])
        .expect("merge");
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(r.agents.len(), 2);
        let ids: Vec<&str> = r.agents[0].results.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["1.1.1", "1.1.2", "2.9", "2.10"]);
        assert_eq!(r.started, "2025-01-01T00:00:00.000Z");
        assert_eq!(r.duration_ms, 1500, "from the first start to the last end");
    }

    #[test]
    fn duplicates_are_errors_naming_them() {
        let msg = merge(vec![
            (
                "p1.json".into(),
                part("t", "2025-01-01T00:00:00.000Z", 1, "a", &["1.1.1", "2.1"]),
            ),
            (
                "p2.json".into(),
                part("t", "2025-01-01T00:00:00.000Z", 1, "a", &["2.1"]),
            ),
        ])
        .expect_err("duplicate")
        .to_string();
        assert!(msg.contains("2.1 of a (in p1.json and p2.json)"), "{msg}");
        assert!(!msg.contains("1.1.1"), "{msg}");
    }

    #[test]
    fn differing_tools_warn() {
        let (_, warnings) = merge(vec![
            ("p1".into(), part("wsspec 0.1.0", "x", 5, "a", &["1.1.1"])),
            ("p2".into(), part("wsspec 0.2.0", "y", 7, "a", &["1.1.2"])),
        ])
        .expect("merge");
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("wsspec 0.2.0"), "{warnings:?}");
    }

    #[test]
    fn timestamps_parse() {
        assert_eq!(parse_ms("1970-01-01T00:00:00.000Z"), Some(0));
        assert_eq!(parse_ms("2000-03-01T00:00:01.250Z"), Some(951_868_801_250));
        assert_eq!(parse_ms("garbage"), None);
    }
}
