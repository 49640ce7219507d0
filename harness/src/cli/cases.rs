//! `wsspec cases` and the case selection shared by every subcommand.

use crate::case::{self, Case};
use crate::catalogue;
use crate::error::Error;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args, Clone, Default)]
pub struct Selection {
    /// Cases to run: ids or patterns, comma-separated or repeated. A `*` pattern
    /// matches ids that start with it (Autobahn's rule): `6.4.*`, `1.*`, `2.1*`
    /// (2.1, 2.10, 2.11). A plain id must exist. Default: everything.
    #[arg(long, short = 'c', value_delimiter = ',', value_name = "PATTERN")]
    pub cases: Vec<String>,
    /// Cases to leave out (same syntax as --cases).
    #[arg(long, short = 'x', value_delimiter = ',', value_name = "PATTERN")]
    pub exclude: Vec<String>,
    /// Load extra case files (*.json, recursively) from this directory. Without
    /// --cases, only the cases found there are selected (handy to replay findings).
    #[arg(long, value_name = "DIR")]
    pub cases_dir: Vec<PathBuf>,
    /// Directories the --cases-dir walk leaves out: the run's own report directory,
    /// whose JSON files are reports, not cases (`--cases-dir .` with the default
    /// `--out reports/latest`).
    #[arg(skip)]
    pub skip_dirs: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CasesArgs {
    #[command(flatten)]
    pub select: Selection,
    /// Print the selected cases as JSON (the case file format) instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// The selection for wsspec in `role`: cases that cannot be played in that role are
/// left out with a note on stderr (unless `quiet`); none left is a usage error.
pub fn load_selection_for(
    sel: &Selection,
    role: crate::rules::Role,
    quiet: bool,
) -> Result<Vec<Case>, Error> {
    let all = load_selection(sel)?;
    let total = all.len();
    let cases: Vec<Case> = all.into_iter().filter(|c| c.plays_as(role)).collect();
    let (what, other) = match role {
        crate::rules::Role::Client => ("a server", "clients (`wsspec serve`)"),
        crate::rules::Role::Server => (
            "a client",
            "servers (`wsspec run`: opening-handshake, timing and destructive cases)",
        ),
    };
    if cases.is_empty() {
        return Err(Error::Usage(format!(
            "none of the {total} selected cases tests {what}: they test {other} only; \
             run `wsspec cases` to see the ids"
        )));
    }
    // Only an explicit selection is worth a note: by default every case of the role runs.
    if cases.len() < total && !quiet && !sel.cases.is_empty() {
        eprintln!(
            "wsspec: {} of the {total} selected cases test {other} only and are left out",
            total - cases.len()
        );
    }
    Ok(cases)
}

/// Built-in catalogue plus any `--cases-dir` files, then the selection.
pub fn load_selection(sel: &Selection) -> Result<Vec<Case>, Error> {
    let mut all = catalogue::builtin()?;
    let mut from_dirs = Vec::new();
    for dir in &sel.cases_dir {
        from_dirs.extend(case::json::load_dir(dir, &sel.skip_dirs)?);
    }
    for c in &from_dirs {
        if all.iter().any(|b| b.id == c.id) {
            return Err(Error::Usage(format!(
                "case id `{}` from --cases-dir is also a built-in case; give it another id",
                c.id
            )));
        }
    }
    let include = if sel.cases.is_empty() && !from_dirs.is_empty() {
        from_dirs.iter().map(|c| c.id.clone()).collect()
    } else {
        sel.cases.clone()
    };
    all.extend(from_dirs);
    let chosen = case::select::select(&all, &include, &sel.exclude)?;
    if chosen.is_empty() {
        return Err(Error::Usage(format!(
            "no case matches the selection (cases: {}; exclude: {}). Run `wsspec cases` to see the ids.",
            if sel.cases.is_empty() { "all".to_string() } else { sel.cases.join(",") },
            if sel.exclude.is_empty() { "none".to_string() } else { sel.exclude.join(",") },
        )));
    }
    Ok(chosen.into_iter().cloned().collect())
}

pub(crate) fn list_cases(a: &CasesArgs) -> Result<ExitCode, Error> {
    let cases = load_selection(&a.select)?;
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&cases).unwrap_or_default()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let width = cases.iter().map(|c| c.id.len()).max().unwrap_or(0);
    // Long RFC references ("RFC 9112 §3.2; RFC 6455 §4.2.1") overflow rather than widen every row.
    let rfc_width = cases
        .iter()
        .map(|c| c.rfc.chars().count())
        .max()
        .unwrap_or(0)
        .min(16);
    let mut section = String::new();
    for c in &cases {
        let s = c.section();
        if s != section {
            let title = catalogue::section_title(&s).unwrap_or("");
            println!("\n{s}  {title}");
            section = s;
        }
        println!(
            "  {:<width$} {:<6} {:<rfc_width$} {}",
            c.id,
            format!("{:?}", c.level).to_uppercase(),
            c.rfc,
            c.title
        );
    }
    println!("\n{} cases", cases.len());
    Ok(ExitCode::SUCCESS)
}
