//! `cargo xtask fuzz`: build and run the cargo-fuzz targets in `fuzz/`, report
//! executions per second per target, and turn every new crash into a regression input.
//!
//! ```text
//! cargo xtask fuzz [--seconds N] [--smoke] [--asan] [--planted-bug]
//!                  [--no-trace-compares] [TARGET...]
//! ```
//!
//! * installs cargo-fuzz (`cargo install cargo-fuzz --locked`) when `cargo fuzz` is
//!   missing;
//! * builds with the nightly toolchain when `rustup run nightly rustc --version` works,
//!   otherwise with the default (stable) toolchain and `RUSTC_BOOTSTRAP=1`
//!   (`WSSPEC_FUZZ_TOOLCHAIN=stable` forces the latter, to test it);
//! * runs each target for N seconds (default 10; `--smoke`: every target for 10 s,
//!   what CI runs) on one core, with the committed seeds of `fuzz/corpus/<target>/` as
//!   a read-only corpus and a scratch corpus under `fuzz/target/corpus/<target>/`;
//! * passes the options of `fuzz/options/<target>.options` (OSS-Fuzz's format:
//!   `[libfuzzer]` then `key = value` lines) to the target as `-key=value`;
//! * parses libFuzzer's final statistics (executions, exec/s, new units, peak RSS);
//! * copies every crash libFuzzer leaves in `fuzz/artifacts/<target>/` during the run
//!   into `fuzz/regressions/<target>/` (replayed by `cargo test`, see
//!   `harness/tests/fuzz_corpus.rs`) and fails.
//!
//! Without `--asan` the targets are built with `-s none`: wsspec is safe Rust, and the
//! coverage instrumentation alone makes the runs several times faster. `--asan`
//! builds with AddressSanitizer (what OSS-Fuzz does). `--planted-bug` enables
//! `wsspec/planted-bug` (a deliberate decoder bug the targets must find), starts each
//! target from its committed seeds alone (a fresh scratch corpus) and keeps its crashes
//! out of `fuzz/regressions/`. `--no-trace-compares` builds without
//! comparison tracing (cargo-fuzz's throughput option: about twice the executions per
//! second, but comparisons no longer guide the mutations) into its own target
//! directory, so the normal build stays cached.

use anyhow::{bail, Context, Result};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;
use xshell::{cmd, Shell};

/// Seconds per target for `--smoke`.
const SMOKE_SECONDS: u64 = 10;

struct Options {
    seconds: u64,
    targets: Vec<String>,
    asan: bool,
    planted_bug: bool,
    no_trace_compares: bool,
}

/// One target's run, as libFuzzer reported it.
#[derive(Default)]
struct Stats {
    execs: u64,
    execs_per_sec: u64,
    new_units: u64,
    peak_rss_mb: u64,
    crashes: Vec<PathBuf>,
    /// Seconds until the first crash, when there was one.
    crash_after: Option<f64>,
}

fn parse_args(args: &[String]) -> Result<Options> {
    let mut o = Options {
        seconds: 10,
        targets: Vec::new(),
        asan: false,
        planted_bug: false,
        no_trace_compares: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" => {
                o.seconds = it
                    .next()
                    .context("--seconds needs a number")?
                    .parse()
                    .context("--seconds needs a whole number of seconds")?;
                if o.seconds == 0 {
                    bail!("--seconds must be at least 1");
                }
            }
            "--smoke" => o.seconds = SMOKE_SECONDS,
            "--asan" => o.asan = true,
            "--planted-bug" => o.planted_bug = true,
            "--no-trace-compares" => o.no_trace_compares = true,
            s if s.starts_with('-') => bail!("unknown fuzz option `{s}`"),
            t => o.targets.push(t.to_string()),
        }
    }
    Ok(o)
}

/// Which toolchain builds the targets: `+nightly`, or stable with RUSTC_BOOTSTRAP=1.
fn use_nightly() -> bool {
    if std::env::var("WSSPEC_FUZZ_TOOLCHAIN").as_deref() == Ok("stable") {
        return false;
    }
    Command::new("rustup")
        .args(["run", "nightly", "rustc", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn ensure_cargo_fuzz(sh: &Shell) -> Result<()> {
    let have = Command::new("cargo")
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !have {
        println!("xtask fuzz: cargo-fuzz not found, installing it");
        cmd!(sh, "cargo install cargo-fuzz --locked").run()?;
    }
    Ok(())
}

/// `cargo [+nightly] fuzz <args>` with the right environment.
fn cargo_fuzz(nightly: bool, args: &[&str]) -> Command {
    let mut c = Command::new("cargo");
    if nightly {
        c.arg("+nightly");
    } else {
        c.env("RUSTC_BOOTSTRAP", "1");
    }
    c.arg("fuzz").args(args).current_dir(crate::project_root());
    c
}

/// Target names: `fuzz/fuzz_targets/*.rs`.
fn all_targets(root: &Path) -> Result<Vec<String>> {
    let mut v: Vec<String> = std::fs::read_dir(root.join("fuzz/fuzz_targets"))?
        .flatten()
        .filter_map(|e| {
            let p = e.path();
            if p.extension()? != "rs" {
                return None;
            }
            Some(p.file_stem()?.to_string_lossy().into_owned())
        })
        .collect();
    v.sort();
    Ok(v)
}

fn files_in(dir: &Path) -> BTreeSet<PathBuf> {
    std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

/// The number after `key` in libFuzzer's output (`stat::x: 12` or `exec/s: 12`).
fn stat(text: &str, key: &str) -> Option<u64> {
    text.lines().rev().find_map(|l| {
        let i = l.find(key)?;
        let rest = l[i + key.len()..].trim_start();
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        digits.parse().ok()
    })
}

/// Target directory of the `--no-trace-compares` build (beside the normal one).
const THROUGHPUT_DIR: &str = "fuzz/target/no-trace-compares";

/// Where `cargo fuzz build -O` puts the target binaries (under `target_dir`).
fn bin_dir(target_dir: &Path) -> Result<PathBuf> {
    let out = Command::new("rustc").arg("-vV").output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let host = text
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .context("rustc -vV names no host")?;
    Ok(target_dir.join(host).join("release"))
}

/// The libFuzzer flags of `fuzz/options/<target>.options` (OSS-Fuzz's format: a
/// `[libfuzzer]` section of `key = value` lines; `#` starts a comment).
fn target_flags(root: &Path, target: &str) -> Result<Vec<String>> {
    let path = root.join("fuzz/options").join(format!("{target}.options"));
    match std::fs::read_to_string(&path) {
        Ok(text) => parse_options(&text).with_context(|| format!("{}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn parse_options(text: &str) -> Result<Vec<String>> {
    let mut flags = Vec::new();
    let mut section = String::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_string();
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            bail!("line {}: expected `key = value`, found `{line}`", n + 1);
        };
        if section == "libfuzzer" {
            flags.push(format!("-{}={}", key.trim(), value.trim()));
        }
    }
    Ok(flags)
}

/// Run one built target binary directly (what `cargo fuzz run` does after building;
/// calling it directly avoids a rebuild check per target).
///
/// `fresh`: start from the committed seeds alone (an emptied scratch corpus under
/// `fuzz/target/fresh-corpus/`), so that the time to a finding is measured from them.
fn run_target(root: &Path, bins: &Path, target: &str, seconds: u64, fresh: bool) -> Result<Stats> {
    let seeds = root.join("fuzz/corpus").join(target);
    let scratch = if fresh {
        let dir = root.join("fuzz/target/fresh-corpus").join(target);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        dir
    } else {
        root.join("fuzz/target/corpus").join(target)
    };
    std::fs::create_dir_all(&scratch)?;
    let artifacts = root.join("fuzz/artifacts").join(target);
    std::fs::create_dir_all(&artifacts)?;
    let before = files_in(&artifacts);
    let t0 = Instant::now();
    let out = Command::new(bins.join(target))
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .arg(format!("-max_total_time={seconds}"))
        .args(target_flags(root, target)?)
        .args([
            "-print_final_stats=1",
            "-rss_limit_mb=2048",
            "-timeout=10",
            "-close_fd_mask=1",
        ])
        .arg(&scratch)
        .arg(&seeds)
        .current_dir(root)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running fuzz target {target}"))?;
    let elapsed = t0.elapsed().as_secs_f64();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let log = root.join("fuzz/target").join(format!("{target}.log"));
    std::fs::write(&log, &text)?;
    let crashes: Vec<PathBuf> = files_in(&artifacts).difference(&before).cloned().collect();
    if !out.status.success() && crashes.is_empty() {
        bail!(
            "fuzz target {target} failed without leaving a crash input (see {})",
            log.display()
        );
    }
    Ok(Stats {
        execs: stat(&text, "stat::number_of_executed_units:").unwrap_or(0),
        execs_per_sec: stat(&text, "stat::average_exec_per_sec:")
            .or_else(|| stat(&text, "exec/s:"))
            .unwrap_or(0),
        new_units: stat(&text, "stat::new_units_added:").unwrap_or(0),
        peak_rss_mb: stat(&text, "stat::peak_rss_mb:")
            .or_else(|| stat(&text, "rss: "))
            .unwrap_or(0),
        crash_after: (!crashes.is_empty()).then_some(elapsed),
        crashes,
    })
}

pub fn run(sh: &Shell, args: &[String]) -> Result<()> {
    let o = parse_args(args)?;
    let root = crate::project_root();
    let known = all_targets(&root)?;
    let targets = if o.targets.is_empty() {
        known.clone()
    } else {
        for t in &o.targets {
            if !known.contains(t) {
                bail!("unknown fuzz target `{t}` (known: {})", known.join(", "));
            }
        }
        o.targets.clone()
    };
    ensure_cargo_fuzz(sh)?;
    let nightly = use_nightly();
    let mut build_flags = vec!["-O"];
    if !o.asan {
        build_flags.extend(["-s", "none"]);
    }
    if o.planted_bug {
        build_flags.extend(["--features", "wsspec/planted-bug"]);
    }
    let target_dir = if o.no_trace_compares {
        root.join(THROUGHPUT_DIR)
    } else {
        root.join("fuzz/target")
    };
    let target_dir_arg = target_dir.display().to_string();
    if o.no_trace_compares {
        build_flags.extend(["--no-trace-compares", "--target-dir", &target_dir_arg]);
    }
    println!(
        "xtask fuzz: building {} targets with {} ({})",
        targets.len(),
        if nightly {
            "nightly"
        } else {
            "stable + RUSTC_BOOTSTRAP=1"
        },
        match (o.asan, o.no_trace_compares) {
            (true, false) => "AddressSanitizer",
            (true, true) => "AddressSanitizer, no comparison tracing",
            (false, false) => "no sanitizer",
            (false, true) => "no sanitizer, no comparison tracing",
        }
    );
    let t_build = Instant::now();
    // All targets at once, or only the ones asked for.
    let builds: Vec<Option<&str>> = if o.targets.is_empty() {
        vec![None]
    } else {
        targets.iter().map(|t| Some(t.as_str())).collect()
    };
    for only in builds {
        let mut build_args = vec!["build"];
        build_args.extend_from_slice(&build_flags);
        build_args.extend(only);
        let status = cargo_fuzz(nightly, &build_args).status()?;
        if !status.success() {
            bail!("cargo fuzz build failed");
        }
    }
    println!(
        "xtask fuzz: built in {:.0} s; running each target for {} s",
        t_build.elapsed().as_secs_f64(),
        o.seconds
    );

    println!(
        "{:<22} {:>12} {:>10} {:>6} {:>7} {:>8}",
        "target", "execs", "exec/s", "new", "rss MB", "crashes"
    );
    let t_run = Instant::now();
    let bins = bin_dir(&target_dir)?;
    let mut failed = Vec::new();
    let mut found_planted = 0;
    for t in &targets {
        let s = run_target(&root, &bins, t, o.seconds, o.planted_bug)?;
        println!(
            "{:<22} {:>12} {:>10} {:>6} {:>7} {:>8}",
            t,
            s.execs,
            s.execs_per_sec,
            s.new_units,
            s.peak_rss_mb,
            s.crashes.len()
        );
        for c in &s.crashes {
            let name = c.file_name().map(|n| n.to_owned()).unwrap_or_default();
            if o.planted_bug {
                found_planted += 1;
                println!(
                    "  planted bug found after {:.1} s: {}",
                    s.crash_after.unwrap_or(0.0),
                    c.display()
                );
                continue;
            }
            let dir = root.join("fuzz/regressions").join(t);
            std::fs::create_dir_all(&dir)?;
            let dest = dir.join(&name);
            std::fs::copy(c, &dest)?;
            println!(
                "  CRASH {} -> {} (reproduce: cargo fuzz run {t} {})",
                c.display(),
                dest.display(),
                dest.display()
            );
            failed.push(t.clone());
        }
    }
    println!(
        "xtask fuzz: {} targets in {:.0} s",
        targets.len(),
        t_run.elapsed().as_secs_f64()
    );
    if o.planted_bug && found_planted == 0 {
        bail!("--planted-bug: no target found the planted decoder bug");
    }
    if !failed.is_empty() {
        bail!(
            "new crashes in {} (inputs copied to fuzz/regressions/; fix, then keep them)",
            failed.join(", ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_libfuzzer_stats() {
        let text = "#1000\tDONE   cov: 10 ft: 20 corp: 3/4b lim: 4 exec/s: 55 rss: 31Mb\n\
                    stat::number_of_executed_units: 123456\n\
                    stat::average_exec_per_sec:     617\n\
                    stat::new_units_added:          7\n\
                    stat::peak_rss_mb:              42\n";
        assert_eq!(stat(text, "stat::number_of_executed_units:"), Some(123456));
        assert_eq!(stat(text, "stat::average_exec_per_sec:"), Some(617));
        assert_eq!(stat(text, "exec/s:"), Some(55));
        assert_eq!(stat(text, "stat::peak_rss_mb:"), Some(42));
        assert_eq!(stat(text, "nothing:"), None);
    }

    #[test]
    fn options() {
        let o = parse_args(&["--seconds".into(), "3".into(), "utf8".into()]).unwrap();
        assert_eq!(
            (o.seconds, o.targets.as_slice()),
            (3, &["utf8".to_string()][..])
        );
        assert_eq!(
            parse_args(&["--smoke".into()]).unwrap().seconds,
            SMOKE_SECONDS
        );
        assert!(parse_args(&["--seconds".into(), "0".into()]).is_err());
        assert!(parse_args(&["--bogus".into()]).is_err());
        assert!(
            parse_args(&["--no-trace-compares".into()])
                .unwrap()
                .no_trace_compares
        );
    }

    #[test]
    fn reads_oss_fuzz_options_files() {
        let text = "# comment\n[libfuzzer]\nmax_len = 512 # bytes\n\n[asan]\nfoo = 1\n";
        assert_eq!(parse_options(text).unwrap(), vec!["-max_len=512"]);
        assert!(parse_options("[libfuzzer]\nmax_len\n").is_err());
        // The committed files parse.
        let root = crate::project_root();
        let flags = target_flags(&root, "frame_decoder").unwrap();
        assert!(flags.contains(&"-max_len=512".to_string()), "{flags:?}");
        assert!(target_flags(&root, "no_such_target").unwrap().is_empty());
    }
}
