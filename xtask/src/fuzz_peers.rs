//! `cargo xtask fuzz-peers [--seconds N] [--seed S] [--out DIR] [PEER...]`: a network
//! fuzzing campaign over the real servers the project installs. Each peer is started
//! by `wsspec fuzz --spawn` (which restarts it after crashes and confirms, shrinks and
//! deduplicates them), findings go to `DIR/PEER/` (case JSON, Markdown report, Python
//! reproducer) and a summary to `DIR/summary.md`. Peers: the embedded tokio-tungstenite
//! server (`wsspec echo`), Python `websockets` and Node `ws` (both with
//! permessage-deflate), and the libwebsockets echo server (`scripts/peers/lws/`), once
//! reassembling messages and once echoing piece by piece (`--per-fragment`).
//!
//! Findings are the point of the campaign, not a failure; the task fails when wsspec
//! itself fails (exit 2) or, in CI (`CI` set), when a peer cannot be installed.

use anyhow::{bail, Context, Result};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use xshell::{cmd, Shell};

/// One fuzzed server: name and `--spawn` command line (relative to the root).
struct Peer {
    name: &'static str,
    spawn: &'static str,
    /// Which installer provides it.
    needs: Needs,
}

#[derive(PartialEq)]
enum Needs {
    Nothing,
    Setup,
    Lws,
}

const PEERS: [Peer; 5] = [
    Peer {
        name: "tungstenite",
        spawn: "{wsspec} echo --port {port}",
        needs: Needs::Nothing,
    },
    Peer {
        name: "websockets",
        spawn: "scripts/peers/.venv/bin/python scripts/peers/websockets_echo.py {port} --deflate",
        needs: Needs::Setup,
    },
    Peer {
        name: "ws",
        spawn: "node scripts/peers/ws_echo.js {port} --deflate",
        needs: Needs::Setup,
    },
    Peer {
        name: "libwebsockets",
        spawn: "target/peers/lws-echo --port {port}",
        needs: Needs::Lws,
    },
    // Echoing each piece as it arrives, as the library's minimal echo example does.
    Peer {
        name: "libwebsockets-frag",
        spawn: "target/peers/lws-echo --port {port} --per-fragment",
        needs: Needs::Lws,
    },
];

/// Run an installer script: Ok(version line), Err(reason) for "cannot be had here".
fn install(root: &Path, script: &str) -> Result<Result<String, String>> {
    let out = Command::new("bash")
        .arg(root.join(script))
        .current_dir(root)
        .output()
        .with_context(|| format!("running {script}"))?;
    let text = |b: &[u8]| String::from_utf8_lossy(b).trim().to_string();
    match out.status.code() {
        Some(0) => Ok(Ok(text(&out.stdout))),
        Some(3) => Ok(Err(text(&out.stderr))),
        _ => bail!("{script} failed ({}): {}", out.status, text(&out.stderr)),
    }
}

pub fn run(sh: &Shell, args: &[String]) -> Result<()> {
    let root = crate::project_root();
    let mut seconds = 60u64;
    let mut seed = 3u64;
    let mut out = root.join("reports/fuzz-peers");
    let mut only: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" => {
                seconds = it
                    .next()
                    .context("--seconds needs a number")?
                    .parse()
                    .context("--seconds needs a number")?;
            }
            "--seed" => {
                seed = it
                    .next()
                    .context("--seed needs a number")?
                    .parse()
                    .context("--seed needs a number")?;
            }
            "--out" => out = root.join(it.next().context("--out needs a directory")?),
            p if PEERS.iter().any(|x| x.name == p) => only.push(p.to_string()),
            other => bail!(
                "unknown fuzz-peers option or peer `{other}` (use --seconds N, --seed S, --out DIR, {})",
                PEERS.map(|p| p.name).join(", ")
            ),
        }
    }
    let ci = std::env::var_os("CI").is_some();
    cmd!(sh, "cargo build --quiet --release -p wsspec").run()?;
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(|d| root.join(d))
        .unwrap_or_else(|| root.join("target"));
    let wsspec = target_dir.join("release/wsspec");
    let mut versions = Vec::new();
    let mut setup: Option<Result<String, String>> = None;
    let mut lws: Option<Result<String, String>> = None;
    let mut summary = format!(
        "# wsspec fuzz-peers: seed {seed}, {seconds} s per peer\n\n| peer | exit | findings |\n|---|---|---|\n"
    );
    let mut details = String::new();
    let mut failed = Vec::new();
    for p in PEERS
        .iter()
        .filter(|p| only.is_empty() || only.iter().any(|o| o == p.name))
    {
        let ready = match p.needs {
            Needs::Nothing => Ok(()),
            Needs::Setup => setup
                .get_or_insert_with(|| {
                    install(&root, "scripts/peers/setup.sh").unwrap_or_else(|e| Err(e.to_string()))
                })
                .clone()
                .map(|v| {
                    if !versions.contains(&v) {
                        versions.push(v)
                    }
                }),
            Needs::Lws => lws
                .get_or_insert_with(|| {
                    install(&root, "scripts/peers/lws/build.sh")
                        .unwrap_or_else(|e| Err(e.to_string()))
                })
                .clone()
                .map(|v| versions.push(v)),
        };
        if let Err(why) = ready {
            if ci {
                failed.push(format!("{}: cannot be installed: {why}", p.name));
            } else {
                eprintln!("\n!! SKIPPED {}: cannot be installed here: {why}\n", p.name);
            }
            let _ = writeln!(summary, "| {} | skipped | {why} |", p.name);
            continue;
        }
        let dir = out.join(p.name);
        let spawn = p.spawn.replace("{wsspec}", &wsspec.display().to_string());
        let _ = std::fs::remove_dir_all(&dir);
        println!("\n== fuzz-peers: {} for {seconds} s (seed {seed})", p.name);
        let res = Command::new(&wsspec)
            .current_dir(&root)
            .args(["fuzz", "--spawn", &spawn, "--seed", &seed.to_string()])
            .args(["--duration", &format!("{seconds}s"), "--max-findings", "20"])
            .arg("--out")
            .arg(&dir)
            .output()
            .context("running wsspec fuzz")?;
        let stdout = String::from_utf8_lossy(&res.stdout).to_string();
        let stderr = String::from_utf8_lossy(&res.stderr).to_string();
        print!("{stdout}");
        let code = res.status.code();
        let findings: Vec<&str> = stdout
            .lines()
            .filter(|l| l.starts_with("  ["))
            .map(str::trim)
            .collect();
        let _ = writeln!(
            summary,
            "| {} | {} | {} |",
            p.name,
            code.map_or("signal".into(), |c| c.to_string()),
            if findings.is_empty() {
                "none".to_string()
            } else {
                findings.join("<br>").replace('|', "\\|")
            }
        );
        let _ = writeln!(
            details,
            "\n## {}\n\n`{}`\n\n```\n{stdout}```",
            p.name, spawn
        );
        if !matches!(code, Some(0 | 1)) {
            eprint!("{stderr}");
            failed.push(format!("{}: wsspec fuzz exited with {:?}", p.name, code));
        }
    }
    std::fs::create_dir_all(&out)?;
    let mut text = summary;
    if !versions.is_empty() {
        let _ = writeln!(
            text,
            "\nInstalled: {}",
            versions.join("; ").replace('\n', "; ")
        );
    }
    text.push_str(&details);
    let path = out.join("summary.md");
    std::fs::write(&path, text)?;
    println!("\nsummary: {}", path.display());
    if !failed.is_empty() {
        bail!("fuzz-peers: {}", failed.join("; "));
    }
    Ok(())
}
