//! Embeds every `cases/**/*.json` file into the binary, so the catalogue needs no files
//! at run time. Users can still load more with `--cases-dir`.
//!
//! `harness/cases` links to the workspace's `cases/`; a packaged crate holds a copy.
use std::{env, fs, path::Path};

fn collect(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(&p, root, out);
        } else if p.extension().is_some_and(|e| e == "json") {
            let rel = p
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.push((
                rel,
                p.canonicalize().unwrap().to_string_lossy().into_owned(),
            ));
        }
    }
}

fn main() {
    // `harness/cases` is a symlink to the workspace's `cases/`, so that `cargo package`
    // (which follows it) ships the case files inside the crate. Where the symlink did not
    // survive the checkout (Windows without symlink support: a small text file), read
    // the workspace directory directly.
    // Read at run time: the build script binary may be reused from another checkout.
    let manifest_dir = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let manifest = Path::new(&manifest_dir);
    let root = if manifest.join("cases").is_dir() {
        manifest.join("cases")
    } else {
        manifest.join("../cases")
    };
    assert!(
        root.is_dir(),
        "no case directory at {}: the crate needs its cases/ to build",
        root.display()
    );
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    let mut src = String::from("/// (path under cases/, contents) of every embedded case file.\n");
    src.push_str("pub static EMBEDDED: &[(&str, &str)] = &[\n");
    for (rel, abs) in &files {
        println!("cargo:rerun-if-changed={abs}");
        src.push_str(&format!("    ({rel:?}, include_str!({abs:?})),\n"));
    }
    src.push_str("];\n");
    let out = Path::new(&env::var("OUT_DIR").unwrap()).join("embedded_cases.rs");
    fs::write(out, src).unwrap();
}
