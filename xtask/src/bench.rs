//! `cargo xtask bench [--runs N] [--only catalogue|wire]`: how long the catalogue
//! takes and how much memory it needs, then the wire layer's criterion benchmarks.
//!
//! * catalogue: runs the release binary against the embedded server, several times
//!   per setting, and reports the median and best wall time and the peak RSS (wait4's
//!   rusage of the wsspec process);
//! * wire: `cargo bench -p wsspec --bench wire` (decoder, encoder, UTF-8, inflate, and
//!   the `frame_decoder` fuzz entry point without libFuzzer; `harness/benches/wire.rs`).

use anyhow::{bail, Context, Result};
use std::process::Command;
use std::time::Instant;
use xshell::{cmd, Shell};

pub fn run(sh: &Shell, args: &[String]) -> Result<()> {
    let mut runs = 5usize;
    let mut only: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--runs" => runs = it.next().context("--runs needs a number")?.parse()?,
            "--only" => {
                let what = it.next().context("--only needs `catalogue` or `wire`")?;
                if what != "catalogue" && what != "wire" {
                    bail!("--only takes `catalogue` or `wire`, not `{what}`");
                }
                only = Some(what.clone());
            }
            other => bail!("unknown bench option `{other}`"),
        }
    }
    if only.as_deref() != Some("wire") {
        catalogue(sh, runs)?;
    }
    if only.as_deref() != Some("catalogue") {
        println!("wire layer (criterion; reports in target/criterion/)");
        cmd!(sh, "cargo bench -p wsspec --bench wire").run()?;
    }
    Ok(())
}

fn catalogue(sh: &Shell, runs: usize) -> Result<()> {
    cmd!(sh, "cargo build --release --quiet -p wsspec").run()?;
    let bin = crate::project_root().join("target/release/wsspec");
    println!("catalogue (sections 1-7, 10) against the embedded tokio-tungstenite server, {runs} runs each");
    println!(
        "{:<16} {:>10} {:>10} {:>14}",
        "setting", "median s", "best s", "peak RSS MiB"
    );
    for (name, jobs) in [("--jobs 1", Some("1")), ("default jobs", None)] {
        let mut walls = Vec::new();
        let mut peak_kib = 0i64;
        for _ in 0..runs {
            let mut c = Command::new(&bin);
            // Autobahn's sections 1-7 and 10 (our own sections have their own pacing:
            // destructive cases run one at a time).
            c.args([
                "run",
                "--quiet",
                "--no-write",
                "--cases",
                "1.*,2.*,3.*,4.*,5.*,6.*,7.*,10.*",
            ]);
            if let Some(j) = jobs {
                c.args(["--jobs", j]);
            }
            c.stdout(std::process::Stdio::null());
            let t = Instant::now();
            let child = c.spawn().context("running wsspec")?;
            let (status, rss_kib) = wait_with_rss(child.id() as libc::pid_t)?;
            walls.push(t.elapsed().as_secs_f64());
            if status != 0 {
                bail!("wsspec exited with status {status} (run it by hand to see why)");
            }
            peak_kib = peak_kib.max(rss_kib);
        }
        walls.sort_by(f64::total_cmp);
        println!(
            "{:<16} {:>10.3} {:>10.3} {:>14.1}",
            name,
            walls[walls.len() / 2],
            walls[0],
            peak_kib as f64 / 1024.0
        );
    }
    Ok(())
}

/// Wait for one child; its exit code and peak resident set in KiB (wait4's rusage
/// covers that process alone, not cargo or anything else we ran).
fn wait_with_rss(pid: libc::pid_t) -> Result<(i32, i64)> {
    let mut status = 0;
    // SAFETY: wait4 only writes into the status and rusage we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    if r != pid {
        bail!("wait4 failed: {}", std::io::Error::last_os_error());
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Ok((code, ru.ru_maxrss))
}
