//! The published crate must build on its own: `cargo package --list` has to hold every
//! case file the build script embeds (the workspace's `cases/`, reached through the
//! `harness/cases` link), the build script and the sources, and nothing from `target/`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every file under `dir`, as `prefix/relative/path`.
fn walk(dir: &Path, prefix: &str, out: &mut BTreeSet<String>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        let name = format!("{prefix}/{}", e.file_name().to_string_lossy());
        if p.is_dir() {
            walk(&p, &name, out);
        } else {
            out.insert(name);
        }
    }
}

#[test]
fn package_holds_the_embedded_case_files() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "package",
            "-p",
            "wsspec",
            "--list",
            "--allow-dirty",
            "--offline",
        ])
        .current_dir(root())
        .output()
        .expect("run cargo package --list");
    assert!(
        out.status.success(),
        "cargo package --list failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();

    let mut cases = BTreeSet::new();
    walk(&root().join("cases"), "cases", &mut cases);
    let json: Vec<&String> = cases.iter().filter(|c| c.ends_with(".json")).collect();
    assert!(json.len() >= 10, "too few case files found: {json:?}");
    let missing: Vec<&&String> = json.iter().filter(|c| !listed.contains(**c)).collect();
    assert!(
        missing.is_empty(),
        "case files the build embeds but the package lacks: {missing:?}"
    );
    for needed in [
        "build.rs",
        "Cargo.toml",
        "README.md",
        "src/lib.rs",
        "src/main.rs",
        "src/api.rs",
        "src/catalogue/utf8_vectors.txt",
    ] {
        assert!(
            listed.contains(needed),
            "package lacks {needed}: {listed:?}"
        );
    }
    let stray: Vec<&String> = listed
        .iter()
        .filter(|f| f.starts_with("target/") || f.starts_with("tests/"))
        .collect();
    assert!(stray.is_empty(), "files that do not belong: {stray:?}");
}

fn wsspec(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .args(args)
        .output()
        .expect("run wsspec")
}

#[test]
fn completion_scripts_for_bash_zsh_fish() {
    for (shell, marker) in [
        ("bash", "complete -F _wsspec"),
        ("zsh", "#compdef wsspec"),
        ("fish", "complete -c wsspec"),
    ] {
        let out = wsspec(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {out:?}");
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(script.contains(marker), "{shell}: no `{marker}`");
        // (fish spells options `-l known-failing`.)
        for word in ["run", "known-failing", "ca-cert", "cases-dir"] {
            assert!(script.contains(word), "{shell}: `{word}` is not completed");
        }
        if shell == "bash" {
            // The script must at least parse.
            let dir = tempfile::tempdir().unwrap();
            let f = dir.path().join("wsspec.bash");
            std::fs::write(&f, &script).unwrap();
            let check = Command::new("bash").arg("-n").arg(&f).output().unwrap();
            assert!(check.status.success(), "bash -n: {check:?}");
        }
    }
    let bad = wsspec(&["completions", "tcsh"]);
    assert_eq!(bad.status.code(), Some(2), "{bad:?}");
}

#[test]
fn man_pages_for_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let out = wsspec(&["generate-man", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    for page in ["wsspec", "wsspec-run", "wsspec-cases", "wsspec-completions"] {
        let text = std::fs::read_to_string(dir.path().join(format!("{page}.1")))
            .unwrap_or_else(|e| panic!("{page}.1: {e}"));
        assert!(
            text.starts_with(".ie") || text.contains(".TH"),
            "{page}: {text:.200}"
        );
        assert!(text.contains(page), "{page}.1 does not name itself");
    }
    let run = std::fs::read_to_string(dir.path().join("wsspec-run.1")).unwrap();
    assert!(run.contains("known\\-failing"), "{run:.400}");
    // The hidden generator has no page of its own.
    assert!(!dir.path().join("wsspec-generate-man.1").exists());
}
