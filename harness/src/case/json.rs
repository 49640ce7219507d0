//! Loading cases from JSON: the files embedded at build time and any directory a user
//! names with `--cases-dir`. A file holds one case object or an array of them.
//! Errors point at `file:line:column`.

use super::Case;
use crate::error::Error;
use std::path::Path;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_cases.rs"));
}

/// Parse one case file's text. `name` is used in error messages.
pub fn parse_cases(name: &str, text: &str) -> Result<Vec<Case>, Error> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| case_file_error(name, &e))?;
    let cases: Vec<Case> = if value.is_array() {
        serde_json::from_str(text)
    } else {
        serde_json::from_str::<Case>(text).map(|c| vec![c])
    }
    .map_err(|e| case_file_error(name, &e))?;
    for c in &cases {
        c.validate().map_err(|msg| Error::CaseFile {
            location: format!("{name}:{}", locate_id(text, &c.id)),
            message: msg,
        })?;
    }
    Ok(cases)
}

fn case_file_error(name: &str, e: &serde_json::Error) -> Error {
    Error::CaseFile {
        location: format!("{name}:{}:{}", e.line(), e.column()),
        message: strip_position(e),
    }
}

/// serde_json appends " at line L column C"; we print the position up front instead.
fn strip_position(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// `line:column` of the case's id in the file (for semantic errors after parsing).
fn locate_id(text: &str, id: &str) -> String {
    let needle = format!("{:?}", id);
    let Some(pos) = text.find(&needle) else {
        return "1:1".into();
    };
    let before = &text[..pos];
    let line = before.matches('\n').count() + 1;
    let col = pos - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
    format!("{line}:{col}")
}

/// Every case embedded in the binary, in file order.
pub fn embedded_cases() -> Result<Vec<Case>, Error> {
    let mut all = Vec::new();
    for (name, text) in embedded::EMBEDDED {
        all.extend(parse_cases(&format!("cases/{name}"), text)?);
    }
    Ok(all)
}

/// Every `*.json` below `dir` (recursively, sorted by path), except below the
/// directories `skip` (the run's own report directory).
pub fn load_dir(dir: &Path, skip: &[std::path::PathBuf]) -> Result<Vec<Case>, Error> {
    // Compared as canonical paths; a directory that does not exist yet skips nothing.
    let skip: Vec<std::path::PathBuf> = skip.iter().filter_map(|d| d.canonicalize().ok()).collect();
    let mut files = Vec::new();
    walk(dir, &skip, &mut files)
        .map_err(|e| Error::Io(format!("reading cases from {}: {e}", dir.display())))?;
    files.sort();
    let mut all = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f)
            .map_err(|e| Error::Io(format!("reading {}: {e}", f.display())))?;
        all.extend(parse_cases(&f.display().to_string(), &text)?);
    }
    Ok(all)
}

fn walk(
    dir: &Path,
    skip: &[std::path::PathBuf],
    out: &mut Vec<std::path::PathBuf>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let p = entry?.path();
        if p.is_dir() {
            if p.canonicalize().is_ok_and(|c| skip.contains(&c)) {
                continue;
            }
            walk(&p, skip, out)?;
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_error_names_line_and_column() {
        let err = parse_cases("x.json", "[\n  {\"id\": \"a\",,}\n]").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("x.json:2:"), "{msg}");
    }

    #[test]
    fn unknown_field_is_an_error() {
        let text = r#"{"id":"a","title":"t","rfc":"r","requirement":"q","steps":[],"expect":{"ok":[],"close":{"closed_by_me":true,"codes":[1000],"require_clean":true}},"bogus":1}"#;
        let msg = parse_cases("y.json", text).unwrap_err().to_string();
        assert!(msg.contains("y.json:1:") && msg.contains("bogus"), "{msg}");
    }

    #[test]
    fn semantic_error_points_at_case() {
        let text = "[\n{\"id\":\"bad.1\",\"title\":\"t\",\"rfc\":\"r\",\"requirement\":\"q\",\"steps\":[{\"send\":{\"opcode\":\"text\",\"payload\":{\"hex\":\"zz\"}}}],\"expect\":{\"ok\":[],\"close\":{\"closed_by_me\":true,\"codes\":[1000],\"require_clean\":true}}}\n]";
        let msg = parse_cases("z.json", text).unwrap_err().to_string();
        assert!(msg.starts_with("z.json:2:"), "{msg}");
        assert!(msg.contains("not hex"), "{msg}");
    }
}
