//! Tidy checks: rules about the repository's files that no compiler enforces.
//!
//! * Case ids are unique over the built-in catalogue and every `cases/**/*.json` file;
//!   an id is either Autobahn's number (digits and dots, and a case Autobahn has) or
//!   ours, `section/slug` in lowercase kebab-case.
//! * Every case names its rule (`rfc` starting with `RFC `) and restates it as a
//!   sentence (`requirement`: several words, a capital letter or digit first, a full
//!   stop last).
//! * Case files are formatted the way the existing ones are: valid JSON, indented by
//!   two spaces per open bracket (short items may stay on one line), no tabs, no
//!   carriage returns, no trailing whitespace, exactly one newline at the end; and
//!   parse → serialise → parse gives the same cases. Whitespace slips (trailing blanks,
//!   CRLF, the final newline) are fixed in place and the test fails saying so, so the
//!   next run passes.
//! * Rust sources (`harness/src`, `harness/tests`, `harness/build.rs`, `xtask/src`)
//!   start with a `//!` doc comment, use no `should_panic` attribute and no `dbg` macro.
//! * The library's internals are crate-private: every `pub mod` in `lib.rs` is behind
//!   the `internals` feature (the project's tests and fuzz targets turn it on).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use wsspec::case::json::parse_cases;
use wsspec::case::Case;
use wsspec::catalogue;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// Files below `dir` (recursively) whose name ends with `ext`, sorted.
fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(ext) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn rel(p: &Path) -> String {
    let r = root();
    p.strip_prefix(&r).unwrap_or(p).display().to_string()
}

/// Every case file under `cases/` with its parsed cases.
fn case_files() -> Vec<(PathBuf, String, Vec<Case>)> {
    files(&root().join("cases"), ".json")
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read case file");
            let cases = parse_cases(&rel(&p), &text).expect("case file parses");
            (p, text, cases)
        })
        .collect()
}

fn is_autobahn_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[test]
fn case_ids_are_unique_and_well_formed() {
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in catalogue::code_cases() {
        seen.entry(c.id)
            .or_default()
            .push("harness/src/catalogue".into());
    }
    for (p, _, cases) in case_files() {
        for c in cases {
            seen.entry(c.id).or_default().push(rel(&p));
        }
    }
    let mut problems = Vec::new();
    for (id, whence) in &seen {
        if whence.len() > 1 {
            problems.push(format!(
                "`{id}` is defined {} times: {}",
                whence.len(),
                whence.join(", ")
            ));
        }
        if is_autobahn_id(id) {
            if catalogue::autobahn_index(id).is_none() {
                problems.push(format!(
                    "`{id}` ({}) looks like an Autobahn number but Autobahn has no such case; \
                     give a case of our own a `section/slug` id",
                    whence.join(", ")
                ));
            }
        } else {
            let ok = id
                .split_once('/')
                .is_some_and(|(section, slug)| is_kebab(section) && is_kebab(slug));
            if !ok {
                problems.push(format!(
                    "`{id}` ({}) is neither an Autobahn number nor `section/slug` in \
                     lowercase kebab-case",
                    whence.join(", ")
                ));
            }
        }
    }
    // The catalogue as the binary loads it agrees (it also refuses duplicates).
    let builtin = catalogue::builtin().expect("built-in catalogue loads");
    assert_eq!(
        builtin.len(),
        seen.len(),
        "built-in catalogue and files disagree"
    );
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn every_case_names_its_rule_and_states_it() {
    let mut problems = Vec::new();
    for c in catalogue::builtin().expect("built-in catalogue loads") {
        if !c.rfc.starts_with("RFC ") || c.rfc.trim().len() <= 4 {
            problems.push(format!(
                "{}: rfc {:?} must name the rule, e.g. \"RFC 6455 §5.5\"",
                c.id, c.rfc
            ));
        }
        let r = c.requirement.trim();
        let starts_well = r
            .chars()
            .next()
            .is_some_and(|ch| ch.is_uppercase() || ch.is_ascii_digit());
        let ends_well = r.ends_with('.') || r.ends_with(".)");
        if !starts_well || !ends_well || r.split_whitespace().count() < 4 {
            problems.push(format!(
                "{}: requirement {r:?} must be a sentence (capital letter or digit first, \
                 full stop last, several words)",
                c.id
            ));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// Lines whose indentation is not two spaces per bracket open at the line's start
/// (a line starting with a closing bracket is one level out). Strings are skipped.
fn indentation_problems(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth: i64 = 0;
    let mut in_string = false;
    let mut escaped = false;
    for (n, line) in text.lines().enumerate() {
        if !in_string {
            let body = line.trim_start_matches(' ');
            let indent = (line.len() - body.len()) as i64;
            let level = if body.starts_with(']') || body.starts_with('}') {
                depth - 1
            } else {
                depth
            };
            if !body.is_empty() && indent != 2 * level {
                out.push(format!(
                    "line {}: indented by {indent} spaces, expected {}",
                    n + 1,
                    2 * level
                ));
            }
        }
        for ch in line.chars() {
            if in_string {
                if escaped {
                    escaped = false;
                } else if ch == '\\' {
                    escaped = true;
                } else if ch == '"' {
                    in_string = false;
                }
            } else {
                match ch {
                    '"' => in_string = true,
                    '[' | '{' => depth += 1,
                    ']' | '}' => depth -= 1,
                    _ => {}
                }
            }
        }
    }
    out
}

/// The text with whitespace slips fixed: CRLF → LF, no trailing blanks, one final newline.
fn whitespace_fixed(text: &str) -> String {
    let mut out: String = text
        .replace("\r\n", "\n")
        .lines()
        .map(|l| l.trim_end_matches([' ', '\t', '\r']))
        .collect::<Vec<_>>()
        .join("\n");
    let trimmed = out.trim_end_matches('\n').len();
    out.truncate(trimmed);
    out.push('\n');
    out
}

#[test]
fn case_files_are_canonically_formatted() {
    let mut problems = Vec::new();
    let mut rewritten = Vec::new();
    let case_files = files(&root().join("cases"), ".json");
    assert!(!case_files.is_empty(), "no case files found under cases/");
    for p in case_files {
        let name = rel(&p);
        let text = std::fs::read_to_string(&p).expect("read case file");
        if let Err(e) = serde_json::from_str::<serde_json::Value>(&text) {
            problems.push(format!("{name}: not valid JSON: {e}"));
            continue;
        }
        let fixed = whitespace_fixed(&text);
        if fixed != text {
            match std::fs::write(&p, &fixed) {
                Ok(()) => rewritten.push(name.clone()),
                Err(e) => problems.push(format!(
                    "{name}: trailing whitespace, CRLF or final newline is off (could not fix: {e})"
                )),
            }
        }
        if fixed.contains('\t') {
            problems.push(format!("{name}: contains a tab; indent with spaces"));
        }
        for p in indentation_problems(&fixed) {
            problems.push(format!("{name}: {p}"));
        }
        match parse_cases(&name, &fixed) {
            Err(e) => problems.push(format!("{e}")),
            Ok(cases) => {
                let again = serde_json::to_string_pretty(&cases)
                    .map_err(|e| e.to_string())
                    .and_then(|s| parse_cases(&name, &s).map_err(|e| e.to_string()));
                match again {
                    Ok(back) if back == cases => {}
                    Ok(_) => problems.push(format!(
                        "{name}: parse → serialise → parse changes the cases"
                    )),
                    Err(e) => problems.push(format!(
                        "{name}: the serialised cases do not parse again: {e}"
                    )),
                }
            }
        }
    }
    if !rewritten.is_empty() {
        problems.push(format!(
            "rewritten to fix trailing whitespace, line endings or the final newline \
             (review and commit them): {}",
            rewritten.join(", ")
        ));
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

fn rust_sources() -> Vec<PathBuf> {
    let r = root();
    let mut all = files(&r.join("harness/src"), ".rs");
    all.extend(files(&r.join("harness/tests"), ".rs"));
    all.extend(files(&r.join("xtask/src"), ".rs"));
    all.push(r.join("harness/build.rs"));
    all
}

#[test]
fn rust_sources_start_with_a_module_doc() {
    let missing: Vec<String> = rust_sources()
        .into_iter()
        .filter(|p| {
            std::fs::read_to_string(p)
                .map(|t| !t.starts_with("//!"))
                .unwrap_or(true)
        })
        .map(|p| rel(&p))
        .collect();
    assert!(
        missing.is_empty(),
        "these files must start with a `//!` comment saying what they are for:\n{}",
        missing.join("\n")
    );
}

#[test]
fn no_should_panic_and_no_dbg() {
    // Built at run time so that this file does not match itself.
    let needles = [["#[should", "_panic"].concat(), ["dbg", "!("].concat()];
    let mut found = Vec::new();
    let sources = rust_sources();
    assert!(!sources.is_empty(), "no Rust sources found");
    for p in sources {
        let text = std::fs::read_to_string(&p).expect("read Rust source");
        for (n, line) in text.lines().enumerate() {
            for needle in &needles {
                if line.contains(needle.as_str()) {
                    found.push(format!("{}:{}: {}", rel(&p), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "tests assert on results (no should_panic) and code prints through its reporters \
         (no dbg!):\n{}",
        found.join("\n")
    );
}

/// The modules of `lib.rs` that are public only with the `internals` feature
/// (`#[cfg(feature = "internals")]` right above a `pub mod`), and those public without it.
fn public_modules(lib_rs: &str) -> (Vec<String>, Vec<String>) {
    let (mut gated, mut open) = (Vec::new(), Vec::new());
    let mut previous = "";
    for line in lib_rs.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix("pub mod ") {
            let name = name.trim_end_matches(';').to_string();
            if previous == "#[cfg(feature = \"internals\")]" {
                gated.push(name);
            } else {
                open.push(name);
            }
        }
        // Attributes between the cfg and the `pub mod` (doc(hidden)) keep the cfg in view.
        if !line.starts_with("#[doc") {
            previous = line;
        }
    }
    (gated, open)
}

#[test]
fn internals_are_private_without_the_internals_feature() {
    // Issue 11: the API is the crate root; the wire codec, engine, rules, runner and
    // reporters are `mod` (crate-private) unless the tests' `internals` feature is on.
    let lib = std::fs::read_to_string(root().join("harness/src/lib.rs")).expect("read lib.rs");
    let (gated, open) = public_modules(&lib);
    assert!(
        open.is_empty(),
        "lib.rs makes these modules public without the `internals` feature: {open:?}"
    );
    for m in ["wire", "engine", "rules", "runner", "report", "cli"] {
        assert!(
            gated.iter().any(|g| g == m),
            "no gated `pub mod {m}` in lib.rs"
        );
    }
}

#[test]
fn the_checks_catch_what_they_should() {
    assert!(is_autobahn_id("6.4.3") && !is_autobahn_id("6.4.") && !is_autobahn_id("a.1"));
    let lib = "#[cfg(feature = \"internals\")]\n#[doc(hidden)]\npub mod wire;\n#[cfg(not(feature = \"internals\"))]\nmod wire;\npub mod cli;\n";
    assert_eq!(
        public_modules(lib),
        (vec!["wire".to_string()], vec!["cli".to_string()])
    );
    assert!(is_kebab("unmasked-text") && !is_kebab("Unmasked") && !is_kebab("a--b"));
    assert_eq!(whitespace_fixed("[\r\n  1 \n]\n\n"), "[\n  1\n]\n");
    assert_eq!(whitespace_fixed("[]"), "[]\n");
    let bad = indentation_problems("[\n   {\"a\": [1,\n    2]}\n]\n");
    assert_eq!(bad.len(), 2, "{bad:?}");
    assert!(indentation_problems("[\n  {\"a\": \"[\"},\n  {\n    \"b\": 1\n  }\n]\n").is_empty());
}
