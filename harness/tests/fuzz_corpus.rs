//! Replays the committed fuzz corpora in a normal `cargo test`: every file under
//! `fuzz/corpus/<target>/` (the minimised seeds) and `fuzz/regressions/<target>/`
//! (crashes found by `cargo xtask fuzz`, kept once fixed) goes through the same
//! `wsspec::fuzz` entry point the libFuzzer target calls. A panic is a finding.
//!
//! Also checks the layout: every entry point has a target file, a corpus with seeds,
//! and every corpus or regression directory and options file belongs to a known target.

use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// Files directly under `dir`, sorted (none if the directory is missing).
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

fn subdirs(dir: &Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    rd.flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn layout_matches_the_entry_points() {
    let root = fuzz_dir();
    for (name, _) in wsspec::fuzz::TARGETS {
        let target = root.join("fuzz_targets").join(format!("{name}.rs"));
        let text = std::fs::read_to_string(&target)
            .unwrap_or_else(|e| panic!("{}: {e}", target.display()));
        assert!(
            text.contains("wsspec::fuzz::"),
            "{} does not call into wsspec::fuzz",
            target.display()
        );
        let seeds = files(&root.join("corpus").join(name));
        assert!(!seeds.is_empty(), "no seed corpus for target {name}");
    }
    // libFuzzer options (OSS-Fuzz's `<target>.options`) belong to a target.
    for f in files(&root.join("options")) {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let target = name.strip_suffix(".options");
        assert!(
            target.is_some_and(|t| wsspec::fuzz::entry_point(t).is_some()),
            "fuzz/options/{name} belongs to no target"
        );
    }
    for kind in ["corpus", "regressions"] {
        for d in subdirs(&root.join(kind)) {
            assert!(
                wsspec::fuzz::entry_point(&d).is_some(),
                "fuzz/{kind}/{d} belongs to no target"
            );
        }
    }
}

#[test]
fn corpora_and_regressions_replay_cleanly() {
    let root = fuzz_dir();
    let mut replayed = 0usize;
    let mut failures = Vec::new();
    for (name, entry) in wsspec::fuzz::TARGETS {
        for kind in ["corpus", "regressions"] {
            for f in files(&root.join(kind).join(name)) {
                let data = std::fs::read(&f).unwrap();
                let entry = *entry;
                let r = std::panic::catch_unwind(move || entry(&data));
                replayed += 1;
                if let Err(e) = r {
                    let msg = e
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    failures.push(format!("{}: {msg}", f.display()));
                }
            }
        }
    }
    assert!(replayed >= wsspec::fuzz::TARGETS.len());
    assert!(
        failures.is_empty(),
        "{} of {replayed} inputs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
