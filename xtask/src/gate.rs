//! `cargo xtask gate [--baseline DIR] [--update]`: the CI gate. Runs the whole catalogue
//! against the embedded server and, when `scripts/peers/setup.sh` can install them, the
//! Python `websockets` and Node `ws` echo servers; each run is gated by its
//! known-failing list and then compared with its baseline:
//!
//! | target     | known failures (and optional flaky list)     | baseline                 |
//! |------------|----------------------------------------------|--------------------------|
//! | embedded   | `DIR/embedded.known-failing.txt`             | `DIR/embedded.json`      |
//! | websockets | `DIR/websockets.known-failing.txt`           | `DIR/websockets.json`    |
//! | ws         | `DIR/ws.known-failing.txt`                   | `DIR/ws.json`            |
//! | websockets-deflate, ws-deflate | the same files with those names | |
//!
//! The `-deflate` targets run the same peers with permessage-deflate on (websockets:
//! `compression="deflate"`, its default offer answer with no context takeover and
//! 12-bit windows unless asked otherwise; ws: `perMessageDeflate: true`, which takes
//! the client's parameters as offered) on the compression cases: `deflate/*` and
//! Autobahn's 12.x/13.x rows 1–7 and 11–12 (messages up to 16 KiB; the 32–128 KiB rows
//! take minutes per peer and run in `cargo xtask oracle`, not in every CI run).
//!
//! (`DIR` is `reports/baseline`; a `NAME.known-flaky.txt` beside a list is used too.)
//! Reports go to `reports/gate/NAME/`. A baseline is the Autobahn-style `index.json`
//! of a run (verdicts only, small enough to commit); `wsspec diff` reads it directly and
//! fails on any regression (a case that passed and now fails or is missing).
//! `--update` rewrites the baselines from this run instead of comparing.
//!
//! A peer that cannot be installed or started fails the task when `CI` is set (with the
//! reason); elsewhere it is skipped with a loud `SKIPPED` line on stderr and in the
//! summary. A failing gate or a regression always fails the task.

use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use xshell::{cmd, Shell};

/// How long a peer may take to print `LISTENING <port>`.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// One server to gate.
struct Peer {
    /// Base name of its files, and its agent name for peers.
    name: &'static str,
    /// Program and arguments that start it (port 0), or `None` for the embedded server.
    command: Option<(&'static str, &'static [&'static str])>,
    /// The peer whose installation it needs.
    needs: &'static str,
    /// Case selection (`-c`), or the whole catalogue.
    cases: Option<fn() -> String>,
}

/// The compression cases gated with deflate on: `deflate/*`, and 12.x/13.x rows with
/// messages of at most 16 KiB (rows 1–7, 11, 12), by exact id.
fn deflate_cases() -> String {
    let mut ids = vec!["deflate/*".to_string()];
    for (section, subsections) in [(12, 5), (13, 7)] {
        for sub in 1..=subsections {
            for row in [1, 2, 3, 4, 5, 6, 7, 11, 12] {
                ids.push(format!("{section}.{sub}.{row}"));
            }
        }
    }
    ids.join(",")
}

const PEERS: [Peer; 5] = [
    Peer {
        name: "embedded",
        command: None,
        needs: "embedded",
        cases: None,
    },
    Peer {
        name: "websockets",
        command: Some((
            "scripts/peers/.venv/bin/python",
            &["scripts/peers/websockets_echo.py", "0"],
        )),
        needs: "websockets",
        cases: None,
    },
    Peer {
        name: "ws",
        command: Some(("node", &["scripts/peers/ws_echo.js", "0"])),
        needs: "ws",
        cases: None,
    },
    Peer {
        name: "websockets-deflate",
        command: Some((
            "scripts/peers/.venv/bin/python",
            &["scripts/peers/websockets_echo.py", "0", "--deflate"],
        )),
        needs: "websockets",
        cases: Some(deflate_cases),
    },
    Peer {
        name: "ws-deflate",
        command: Some(("node", &["scripts/peers/ws_echo.js", "0", "--deflate"])),
        needs: "ws",
        cases: Some(deflate_cases),
    },
];

/// What happened to one target.
enum Outcome {
    Passed,
    Updated,
    Skipped(String),
    Failed(String),
}

pub fn run(sh: &Shell, args: &[String]) -> Result<()> {
    let root = crate::project_root();
    let mut baseline = root.join("reports/baseline");
    let mut update = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--baseline" => {
                baseline = root.join(it.next().context("--baseline needs a directory")?);
            }
            "--update" => update = true,
            other => bail!("unknown gate option `{other}` (use --baseline DIR, --update)"),
        }
    }
    cmd!(sh, "cargo build --quiet -p wsspec").run()?;
    let bin = wsspec_bin(&root);
    let setup_problem = install_peers(&root)?;

    let mut results = Vec::new();
    for peer in &PEERS {
        println!("\n== xtask gate: {}", peer.name);
        let outcome = gate_one(
            &root,
            &bin,
            &baseline,
            peer,
            update,
            setup_problem.as_deref(),
        )
        .unwrap_or_else(|e| Outcome::Failed(format!("{e:#}")));
        results.push((peer.name, outcome));
    }

    println!("\nxtask gate:");
    let mut failed = false;
    let ci = std::env::var_os("CI").is_some();
    for (name, o) in &results {
        match o {
            Outcome::Passed => println!("  {name:<11} passed"),
            Outcome::Updated => println!("  {name:<11} baseline updated"),
            Outcome::Skipped(why) if ci => {
                failed = true;
                println!("  {name:<11} FAILED (CI is set, so a peer that cannot run fails): {why}");
            }
            Outcome::Skipped(why) => {
                println!("  {name:<11} SKIPPED (not gated!): {why}");
                eprintln!("\n!!!!!!!! SKIPPED (not a pass): gate target {name}: {why}\n");
            }
            Outcome::Failed(why) => {
                failed = true;
                println!("  {name:<11} FAILED: {why}");
            }
        }
    }
    if failed {
        bail!("the gate failed (see above)");
    }
    Ok(())
}

fn gate_one(
    root: &Path,
    bin: &Path,
    baseline: &Path,
    peer: &Peer,
    update: bool,
    setup_problem: Option<&str>,
) -> Result<Outcome> {
    // Start the peer (or use the embedded server).
    let mut server: Option<Running> = None;
    let mut url_args: Vec<String> = Vec::new();
    if let Some((program, args)) = peer.command {
        if let Some(why) = unavailable(root, peer.needs, setup_problem) {
            return Ok(Outcome::Skipped(why));
        }
        let r = match Running::start(root, program, args) {
            Ok(r) => r,
            Err(e) => return Ok(Outcome::Skipped(format!("could not start it: {e:#}"))),
        };
        url_args.push(format!("ws://127.0.0.1:{}/", r.port));
        url_args.extend(["--agent".to_string(), peer.name.to_string()]);
        server = Some(r);
    }

    let out_dir = root.join("reports/gate").join(peer.name);
    let mut cmd = Command::new(bin);
    cmd.current_dir(root)
        .arg("run")
        .args(&url_args)
        .args(["--quiet", "--out"])
        .arg(short(root, &out_dir))
        .env("NO_COLOR", "1");
    if let Some(c) = peer.cases {
        cmd.args(["-c", &c()]);
    }
    let known = baseline.join(format!("{}.known-failing.txt", peer.name));
    if known.is_file() {
        cmd.arg("--known-failing").arg(short(root, &known));
    } else if peer.command.is_none() {
        bail!("{} is missing (it may hold only comments)", known.display());
    }
    let flaky = baseline.join(format!("{}.known-flaky.txt", peer.name));
    if flaky.is_file() {
        cmd.arg("--known-flaky").arg(short(root, &flaky));
    }
    let status = cmd.status().context("running wsspec")?;
    drop(server);
    match status.code() {
        Some(0) => {}
        Some(1) => {
            return Ok(Outcome::Failed(
                "wsspec run failed the gate (unexpected failures or stale known-failing entries)"
                    .into(),
            ))
        }
        _ => return Ok(Outcome::Failed(format!("wsspec run ended with {status}"))),
    }

    let index = out_dir.join("autobahn/index.json");
    let base = baseline.join(format!("{}.json", peer.name));
    if update {
        std::fs::copy(&index, &base)
            .with_context(|| format!("copying {} to {}", index.display(), base.display()))?;
        println!("xtask gate: wrote {}", base.display());
        return Ok(Outcome::Updated);
    }
    if !base.is_file() {
        return Ok(Outcome::Failed(format!(
            "no baseline {} (create it with `cargo xtask gate --update`)",
            base.display()
        )));
    }
    let status = Command::new(bin)
        .current_dir(root)
        .arg("diff")
        .arg(short(root, &base))
        .arg(short(root, &index))
        .env("NO_COLOR", "1")
        .status()
        .context("running wsspec diff")?;
    Ok(match status.code() {
        Some(0) => Outcome::Passed,
        Some(1) => Outcome::Failed(format!(
            "regressions against {} (if intended: cargo xtask gate --update)",
            base.display()
        )),
        _ => Outcome::Failed(format!("wsspec diff ended with {status}")),
    })
}

/// `p` relative to the project root when it is inside it (the commands run there), so
/// that messages name `reports/baseline/x.txt:7` rather than an absolute path.
fn short<'a>(root: &Path, p: &'a Path) -> &'a Path {
    p.strip_prefix(root).unwrap_or(p)
}

/// The debug `wsspec` binary that `cargo build -p wsspec` made.
pub(crate) fn wsspec_bin(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("debug/wsspec")
}

/// The test fixtures' binary (`cargo build -p wsspec-testkit`): fault-injected servers
/// and clients.
pub(crate) fn testkit_bin(root: &Path) -> PathBuf {
    wsspec_bin(root).with_file_name("wsspec-testkit")
}

/// Run `scripts/peers/setup.sh`; `Some(reason)` when it could not install everything.
pub(crate) fn install_peers(root: &Path) -> Result<Option<String>> {
    let setup = root.join("scripts/peers/setup.sh");
    if !setup.is_file() {
        return Ok(Some("scripts/peers/setup.sh does not exist".into()));
    }
    println!("xtask: installing peers (scripts/peers/setup.sh)");
    let out = Command::new("bash")
        .arg(&setup)
        .current_dir(root)
        .stdin(Stdio::null())
        .output()
        .context("running scripts/peers/setup.sh")?;
    print!("{}", String::from_utf8_lossy(&out.stdout));
    if out.status.success() {
        return Ok(None);
    }
    let err = String::from_utf8_lossy(&out.stderr);
    let last = err
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    Ok(Some(format!("setup.sh exited with {}: {last}", out.status)))
}

/// Why a peer cannot run here, if it cannot.
pub(crate) fn unavailable(root: &Path, name: &str, setup_problem: Option<&str>) -> Option<String> {
    let ready = match name {
        "websockets" => Command::new(root.join("scripts/peers/.venv/bin/python"))
            .args(["-c", "import websockets"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success()),
        "ws" => {
            root.join("scripts/peers/node_modules/ws/package.json")
                .is_file()
                && Command::new("node")
                    .arg("--version")
                    .stdout(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
        }
        _ => true,
    };
    if ready {
        None
    } else {
        Some(
            setup_problem
                .unwrap_or("not installed (run scripts/peers/setup.sh)")
                .to_string(),
        )
    }
}

/// A peer process we started; stopped (SIGTERM, then SIGKILL) when dropped.
pub(crate) struct Running {
    child: Child,
    pub(crate) port: u16,
}

/// The port in a peer's `LISTENING <port>` line, or in `wsspec echo`'s
/// `… listening on ws://127.0.0.1:<port>/` line.
fn listening_port(line: &str) -> Option<Option<u16>> {
    if let Some(port) = line.strip_prefix("LISTENING ") {
        return Some(port.trim().parse::<u16>().ok());
    }
    let rest = line.split_once("listening on ws://127.0.0.1:")?.1;
    Some(rest.trim_end_matches(['/', '\n', '\r']).parse::<u16>().ok())
}

impl Running {
    /// The process id of the peer.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Start `program args…` in `root` (a relative program is looked up there first)
    /// and wait, bounded, for the line naming its port.
    pub(crate) fn start(root: &Path, program: &str, args: &[&str]) -> Result<Running> {
        let program_path = root.join(program);
        let program = if program_path.is_file() {
            program_path.into_os_string()
        } else {
            program.into()
        };
        let mut child = Command::new(&program)
            .args(args)
            .current_dir(root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("spawning {}", program.to_string_lossy()))?;
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            let _ = child.wait();
            bail!("no stdout");
        };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
                if let Some(port) = listening_port(&line) {
                    let _ = tx.send(port);
                }
            }
        });
        match rx.recv_timeout(START_TIMEOUT) {
            Ok(Some(port)) => Ok(Running { child, port }),
            other => {
                let _ = child.kill();
                let _ = child.wait();
                match other {
                    Ok(_) => bail!("it printed a LISTENING line without a port"),
                    Err(_) => bail!(
                        "it did not print `LISTENING <port>` within {}s",
                        START_TIMEOUT.as_secs()
                    ),
                }
            }
        }
    }
}

impl Running {
    /// Send SIGINT (what `wsspec serve` takes as "write the reports and exit") and wait
    /// up to `grace` for the process to end; dropping it afterwards cleans up the rest.
    pub(crate) fn interrupt(&mut self, grace: Duration) -> Option<std::process::ExitStatus> {
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: kill(2) on the pid of a child we spawned and have not reaped yet.
            unsafe {
                libc::kill(pid, libc::SIGINT);
            }
        }
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: kill(2) on the pid of a child we spawned and have not reaped yet.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
