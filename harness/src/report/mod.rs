//! Reporters. Each reads the [`model::RunReport`] and writes one format; none of them
//! knows how the results were produced.

pub mod autobahn;
pub mod bound;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod model;
pub mod terminal;

use crate::case::id_sort_key;
use model::{CaseResult, RunReport, Verdict};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Write every report format into `dir`: `report.json` (native), `autobahn/`
/// (Autobahn's JSON), `index.html` (one self-contained page), `junit.xml` and
/// `summary.md` (for CI step summaries), each case within the size bounds of
/// [`bound`]. Returns the main files written.
pub fn write_all(report: &RunReport, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let report = &*bound::bounded(report);
    let native = dir.join("report.json");
    json::write(report, &native)?;
    let ab = dir.join("autobahn");
    autobahn::write_dir(report, &ab)?;
    let html_file = dir.join("index.html");
    write_text(&html_file, &html::render(report))?;
    let junit_file = dir.join("junit.xml");
    write_text(&junit_file, &junit::render(report))?;
    let summary_file = dir.join("summary.md");
    write_text(&summary_file, &markdown::render(report))?;
    Ok(vec![
        native,
        ab.join("index.json"),
        html_file,
        junit_file,
        summary_file,
    ])
}

/// Write `text` next to `path` and rename it into place, so a reader never sees half a
/// file.
fn write_text(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent)?;
        }
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

/// Heading of a section key: `"6.4 UTF-8 Handling – Fail-fast on invalid UTF-8"`, or the
/// key alone when the catalogue has no title for it.
pub(crate) fn section_heading(key: &str) -> String {
    match crate::catalogue::section_title(key) {
        Some(title) => format!("{key} {title}"),
        None => key.to_string(),
    }
}

/// Results grouped by their `section`, sections and cases in numeric id order.
pub(crate) fn by_section<'a>(
    results: impl IntoIterator<Item = &'a CaseResult>,
) -> Vec<(&'a str, Vec<&'a CaseResult>)> {
    let mut map: BTreeMap<&str, Vec<&CaseResult>> = BTreeMap::new();
    for r in results {
        map.entry(r.section.as_str()).or_default().push(r);
    }
    let mut sections: Vec<(&str, Vec<&CaseResult>)> = map.into_iter().collect();
    sections.sort_by_cached_key(|(k, _)| id_sort_key(k));
    for (_, cases) in &mut sections {
        cases.sort_by_cached_key(|r| id_sort_key(&r.id));
    }
    sections
}

/// Counts of results by their overall verdict ([`CaseResult::overall`]); the five
/// groups are disjoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    pub cases: usize,
    pub ok: usize,
    pub non_strict: usize,
    pub informational: usize,
    pub unimplemented: usize,
    /// WRONG CODE, UNCLEAN, FAILED BY CLIENT and FAILED.
    pub failing: usize,
}

impl Tally {
    pub fn of<'a>(results: impl IntoIterator<Item = &'a CaseResult>) -> Tally {
        let mut t = Tally::default();
        for r in results {
            t.add(r.overall());
        }
        t
    }

    pub fn add(&mut self, v: Verdict) {
        self.cases += 1;
        match v {
            Verdict::Ok => self.ok += 1,
            Verdict::NonStrict => self.non_strict += 1,
            Verdict::Informational => self.informational += 1,
            Verdict::Unimplemented => self.unimplemented += 1,
            Verdict::WrongCode | Verdict::Unclean | Verdict::FailedByClient | Verdict::Failed => {
                self.failing += 1
            }
        }
    }

    /// Cases that fail the run (with `strict`, NON-STRICT ones too).
    pub fn failed(&self, strict: bool) -> usize {
        if strict {
            self.failing + self.non_strict
        } else {
            self.failing
        }
    }
}

/// A duration for people: `"850 ms"`, `"2.04 s"`, `"5 min 42 s"`, `"1 h 02 min"`.
pub(crate) fn human_duration(ms: u64) -> String {
    let secs = ms / 1000;
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{}.{:02} s", secs, (ms % 1000) / 10)
    } else if secs < 3600 {
        format!("{} min {:02} s", secs / 60, secs % 60)
    } else {
        format!("{} h {:02} min", secs / 3600, (secs % 3600) / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(human_duration(0), "0 ms");
        assert_eq!(human_duration(999), "999 ms");
        assert_eq!(human_duration(2035), "2.03 s");
        assert_eq!(human_duration(342_800), "5 min 42 s");
        assert_eq!(human_duration(3_725_000), "1 h 02 min");
        assert!(!human_duration(u64::MAX).is_empty());
    }

    #[test]
    fn grouping_is_numeric() {
        let rs = [
            CaseResult::sample("2.10", Verdict::Ok, Verdict::Ok),
            CaseResult::sample("10.1.1", Verdict::Ok, Verdict::Ok),
            CaseResult::sample("2.9", Verdict::Failed, Verdict::Ok),
            CaseResult::sample("1.1.1", Verdict::NonStrict, Verdict::Ok),
        ];
        let g = by_section(&rs);
        let keys: Vec<&str> = g.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["1.1", "2", "10.1"]);
        let ids: Vec<&str> = g[1].1.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["2.9", "2.10"]);
        let t = Tally::of(&rs);
        assert_eq!((t.cases, t.ok, t.failing, t.non_strict), (4, 2, 1, 1));
        assert_eq!((t.failed(false), t.failed(true)), (1, 2));
        assert_eq!(section_heading("2"), "2 Pings/Pongs");
        assert_eq!(section_heading("zz"), "zz");
    }
}
