//! Reporters. Each reads the [`model::RunReport`] and writes one format; none of them
//! knows how the results were produced.

pub mod autobahn;
pub mod json;
pub mod model;
pub mod terminal;

use model::RunReport;
use std::path::{Path, PathBuf};

/// Write every report format into `dir`; returns the main files written.
pub fn write_all(report: &RunReport, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let native = dir.join("report.json");
    json::write(report, &native)?;
    let ab = dir.join("autobahn");
    autobahn::write_dir(report, &ab)?;
    Ok(vec![native, ab.join("index.json")])
}
