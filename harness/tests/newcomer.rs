//! A newcomer's crate (issue 11): a fresh crate outside this workspace takes wsspec as
//! a path dev-dependency with its default features (the `internals` feature off, the
//! way crates.io users get it), pastes the crate docs' example into a test, and runs
//! `cargo test`. The example must pass against its tokio-tungstenite echo server, and
//! the same test with a broken server (text messages not echoed) must fail with the
//! readable known-failing diff.
//!
//! The fresh crate builds offline against this workspace's `Cargo.lock` (the same
//! dependency versions, all in the local registry cache) into `target/newcomer`, so a
//! second run reuses the build.

#[allow(dead_code)] // only output_text is used here
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// The crate docs' example: the first ```` ``` ```` block of `lib.rs`'s `//!` docs, with
/// rustdoc's hidden-line marker (`# `) removed, as the body of one test function.
fn docs_example() -> String {
    let lib = std::fs::read_to_string(root().join("harness/src/lib.rs")).expect("read lib.rs");
    let docs: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect();
    let start = docs
        .iter()
        .position(|l| *l == "```")
        .expect("an example block in the crate docs");
    let len = docs[start + 1..]
        .iter()
        .position(|l| *l == "```")
        .expect("the example block ends");
    let body: Vec<String> = docs[start + 1..start + 1 + len]
        .iter()
        .map(|l| match l.strip_prefix("# ") {
            Some(hidden) => hidden.to_string(),
            None if *l == "#" => String::new(),
            None => l.to_string(),
        })
        .collect();
    format!(
        "//! The crate docs' example, pasted.\n\n#[test]\nfn websocket_conformance() {{\n{}\n}}\n",
        body.join("\n")
    )
}

/// Write the fresh crate into `dir` with `test` as its test, and `cargo test` it.
fn cargo_test(dir: &Path, test: &str) -> Output {
    let harness = root().join("harness");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::create_dir_all(dir.join("tests")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            r#"[package]
name = "newcomer"
version = "0.1.0"
edition = "2021"
publish = false

[dev-dependencies]
wsspec = {{ path = "{}" }}
tokio = {{ version = "1", features = ["macros", "rt-multi-thread", "net"] }}
tokio-tungstenite = "0.30"
futures-util = "0.3"

[workspace]
"#,
            harness.display()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("src/lib.rs"),
        "//! A crate with a WebSocket server.\n",
    )
    .unwrap();
    std::fs::write(dir.join("tests/conformance.rs"), test).unwrap();
    std::fs::copy(root().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    Command::new(cargo)
        .args(["test", "--offline", "--quiet", "--test", "conformance"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", root().join("target/newcomer"))
        .env_remove("WSSPEC_BLESS")
        .env_remove("RUSTFLAGS")
        .output()
        .expect("run cargo test in the fresh crate")
}

#[test]
fn the_docs_example_passes_in_a_fresh_crate_and_fails_readably_on_a_broken_server() {
    let example = docs_example();
    assert!(
        example.contains("wsspec::Suite::new()") && example.contains("assert_known_failing"),
        "the example changed shape:\n{example}"
    );
    let dir = tempfile::tempdir().unwrap();
    let ok = cargo_test(dir.path(), &example);
    assert!(ok.status.success(), "{}", support::output_text(&ok));

    // The same test against a server that stops echoing text: a readable diff.
    let echo = "if (msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err() {";
    assert!(
        example.contains(echo),
        "the example's echo changed:\n{example}"
    );
    let broken = example.replace(echo, "if msg.is_binary() && ws.send(msg).await.is_err() {");
    let dir = tempfile::tempdir().unwrap();
    let failed = cargo_test(dir.path(), &broken);
    let out = support::output_text(&failed);
    assert_eq!(failed.status.code(), Some(101), "{out}");
    for want in [
        // The lines the crate docs show for this very breakage.
        "does not match the known-failing file tests/wsspec-known-failing.txt",
        "WSSPEC_BLESS=1 to write it:",
        "+1.1.1  # FAILED / WRONG CODE",
        "  1.1.1 failed (FAILED / WRONG CODE): Send a text message of 0 bytes in one frame",
        "      expected: events: text message (0 bytes)",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
}
