//! `cargo xtask`: project chores, one subcommand each (the cargo-xtask convention: a
//! plain binary in the workspace, run through the alias in `.cargo/config.toml`).
//!
//! * `cargo xtask ci`    — what CI runs: fmt check, clippy -D warnings, the API docs, every
//!   test, the gate, the fast oracle and the fuzz smoke.
//! * `cargo xtask bench` — wall time, CPU and peak RSS of the catalogue against the
//!   embedded server and Node ws with deflate, next to wstest; then the wire layer's
//!   criterion benchmarks (`bench.rs`).
//! * `cargo xtask fuzz`  — run the cargo-fuzz targets, report exec/s, keep crashes (`fuzz.rs`).
//! * `cargo xtask fuzz-peers` — network-fuzz the real peers with `wsspec fuzz --spawn`
//!   (`fuzz_peers.rs`).
//! * `cargo xtask gate`  — the catalogue against the embedded server and the real peers,
//!   gated by known-failing lists and compared with the committed baselines (`gate.rs`).
//! * `cargo xtask man`   — the man pages (clap_mangen, through `wsspec generate-man`).
//! * `cargo xtask oracle` — the real Autobahn|Testsuite (`wstest`) and wsspec against the
//!   same targets, verdicts compared case for case (`oracle.rs`); `--clients` the same
//!   for real clients, wstest's fuzzing server against `wsspec serve` (`oracle_clients.rs`).

mod bench;
mod fuzz;
mod fuzz_peers;
mod gate;
mod oracle;
mod oracle_clients;

use anyhow::{bail, Result};
use std::path::{Path, PathBuf};
use xshell::{cmd, Shell};

const HELP: &str = "usage: cargo xtask <task>

tasks:
  ci                 fmt --check, clippy -D warnings, API docs (-D warnings), all
                     tests, gate, fast oracle, fuzz smoke
                     (what .ci/run runs)
  bench [--runs N] [--only catalogue|wire] [--targets embedded,ws-deflate]
        [--cases P,Q|small-deflate] [--no-wstest]
                     the 517 Autobahn cases (or --cases) against the embedded
                     server and Node ws with perMessageDeflate, --jobs 1 and the
                     default, then wstest on the same target: wall, CPU, peak RSS,
                     the peer's CPU; table in reports/bench/TARGETS.md; then
                     criterion benchmarks of the wire layer (harness/benches/wire.rs)
  gate [--baseline DIR] [--update]
                     run the catalogue against the embedded server and the Python
                     websockets / Node ws peers (with CI set, a peer that cannot be
                     installed fails; elsewhere it is skipped loudly), each with --known-failing DIR/NAME.known-failing.txt,
                     then `wsspec diff DIR/NAME.json` against the run's index.json
                     (DIR defaults to reports/baseline; reports in reports/gate/NAME);
                     --update rewrites the baselines instead of comparing
  oracle [--fast] [--clients [--wstest-only]] [--targets A,B] [--cases P,Q]
         [--wstest-timeout SECS] [--keep] [--rejudge DIR]
                     install the real Autobahn|Testsuite (scripts/autobahn/setup.sh),
                     run `wstest -m fuzzingclient` and `wsspec run --config` on one
                     spec against the embedded server and the websockets / ws peers
                     with and without permessage-deflate, and compare behavior,
                     behaviorClose and remoteCloseCode on the cases both produced;
                     differences must be listed in reports/oracle/known-differences.txt
                     and every fault server (wsspec-testkit server --fault NAME); --fast:
                     embedded server, sections 1-7 and 10, as CI runs it;
                     --rejudge DIR: compare a kept run again (after editing the list)
                     --clients: the client half: the websockets / ws client drivers
                     (scripts/peers/*_client.*, +-deflate) and tokio-tungstenite's
                     (wsspec-testkit) against `wstest -m fuzzingserver` and against
                     `wsspec serve --listen`, compared the same way; NAME-exec
                     targets run each client per case with `wsspec serve --exec`;
                     --fast: websockets-client and ws-client, sections 1-7 and 10;
                     --wstest-only: only the wstest side (verdict counts and the
                     cases not OK per client, reports kept)
  fuzz [--seconds N] [--smoke] [--asan] [--planted-bug] [--no-trace-compares]
       [TARGET...]
                     run the cargo-fuzz targets (default 10 s each; --smoke:
                     every target briefly, as CI does) with the libFuzzer options
                     of fuzz/options/TARGET.options, report exec/s, copy new
                     crashes to fuzz/regressions/ and fail
  man [DIR]          write the man pages (wsspec.1, wsspec-run.1, …) into DIR
                     (default target/man); view with `man -l target/man/wsspec.1`
  fuzz-peers [--seconds N] [--seed S] [--out DIR] [PEER...]
                     network-fuzz each installed peer (tungstenite, websockets,
                     ws, libwebsockets[-frag]; default 60 s each, seed 3) with
                     `wsspec fuzz --spawn`; shrunk findings, reports and
                     reproducers in DIR/PEER (default reports/fuzz-peers)
  help               this text";

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One readable line per cause, whatever RUST_BACKTRACE says.
            eprintln!("xtask: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sh = Shell::new()?;
    sh.change_dir(project_root());
    // `cargo xtask oracle --help` and the like: every task's options are in HELP.
    if args.iter().skip(1).any(|a| a == "--help" || a == "-h") {
        println!("{HELP}");
        return Ok(());
    }
    match args.first().map(String::as_str) {
        Some("ci") => ci(&sh),
        Some("bench") => bench::run(&sh, &args[1..]),
        Some("gate") => gate::run(&sh, &args[1..]),
        Some("fuzz") => fuzz::run(&sh, &args[1..]),
        Some("man") => man(&sh, &args[1..]),
        Some("fuzz-peers") => fuzz_peers::run(&sh, &args[1..]),
        Some("oracle") => oracle::run(&sh, &args[1..]),
        None | Some("help" | "-h" | "--help") => {
            println!("{HELP}");
            Ok(())
        }
        Some(other) => bail!("unknown task `{other}`\n\n{HELP}"),
    }
}

/// The workspace root, wherever the task is started from.
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn step(name: &str) {
    println!("\n== xtask ci: {name}");
}

fn ci(sh: &Shell) -> Result<()> {
    step("cargo fmt --check");
    cmd!(sh, "cargo fmt --all -- --check").run()?;
    step("cargo clippy -D warnings");
    cmd!(sh, "cargo clippy --workspace --all-targets -- -D warnings").run()?;
    step("cargo doc -p wsspec (the API docs: no warning, no broken link)");
    // Without the `internals` feature: the docs users get on docs.rs.
    cmd!(sh, "cargo doc --quiet --no-deps -p wsspec")
        .env("RUSTDOCFLAGS", "-D warnings")
        .run()?;
    step("cargo test (unit, catalogue oracle, faults, hostile targets, real peers)");
    cmd!(sh, "cargo test --workspace").run()?;
    step("scripts/ci-recipe.sh (the documented shell CI recipe, against the embedded server)");
    // With the binary `cargo test` just built: the recipe's `cargo install` step would
    // add a release build of several minutes to every CI run (it was checked by hand
    // from a fresh clone; README "Install").
    cmd!(sh, "cargo build --quiet -p wsspec").run()?;
    let wsspec = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| project_root().join("target"))
        .join("debug/wsspec");
    cmd!(sh, "bash scripts/ci-recipe.sh")
        .env("WSSPEC", &wsspec)
        .env("OUT", project_root().join("target/ci-recipe/report"))
        .run()?;
    step("cargo xtask gate (known failures, baselines)");
    gate::run(sh, &[])?;
    step("cargo xtask oracle --fast (real wstest vs wsspec, embedded server, sections 1-7, 10)");
    oracle::run(sh, &["--fast".to_string()])?;
    step("cargo xtask fuzz --smoke (every fuzz target for a few seconds)");
    fuzz::run(sh, &["--smoke".to_string()])?;
    println!("\nxtask ci: all checks passed");
    Ok(())
}

/// `cargo xtask man [DIR]`: the binary renders its own clap definition with clap_mangen
/// (keeping this crate free of the harness's dependencies).
fn man(sh: &Shell, args: &[String]) -> Result<()> {
    let dir = match args {
        [] => project_root().join("target/man"),
        [d] => PathBuf::from(d),
        _ => bail!("usage: cargo xtask man [DIR]"),
    };
    cmd!(sh, "cargo run -q -p wsspec -- generate-man {dir}").run()?;
    Ok(())
}
