//! The real Autobahn|Testsuite in fuzzingserver mode (`wstest -m fuzzingserver`), as a
//! child process for tests: installed by `scripts/autobahn/setup.sh` (wstest 25.10.1
//! under `.tools/autobahn/`), started on a free port of 127.0.0.1 with a spec selecting
//! some cases, and read back through its `index.json`.
//!
//! wstest binds every interface and has no option against it, so it is started through
//! a few lines of Python that make its `listenWS` bind 127.0.0.1 only; its web port is
//! off (`-u 0`).

use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Starts wstest with its listener on 127.0.0.1 (the first import must be its reactor
/// choice, as in wstest itself).
const LAUNCHER: &str = "\
import sys
import autobahntestsuite.choosereactor
import autobahntestsuite.fuzzing as fuzzing
listen = fuzzing.listenWS
fuzzing.listenWS = lambda f, ctx=None, backlog=50, interface='': listen(f, ctx, backlog, '127.0.0.1')
from autobahntestsuite.wstest import run
sys.exit(run())
";

/// How long wstest may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The project root (the workspace directory).
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Install wstest if needed: `Ok(None)` when it is ready, `Ok(Some(reason))` when it
/// cannot be installed here (setup.sh exit 3), `Err` when the script itself failed.
pub fn install(root: &Path) -> Result<Option<String>> {
    let out = Command::new("bash")
        .arg(root.join("scripts/autobahn/setup.sh"))
        .current_dir(root)
        .stdin(Stdio::null())
        .output()
        .context("running scripts/autobahn/setup.sh")?;
    match out.status.code() {
        Some(0) => Ok(None),
        Some(3) => Ok(Some(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        )),
        _ => bail!(
            "scripts/autobahn/setup.sh failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ),
    }
}

/// A running `wstest -m fuzzingserver`, killed when dropped.
pub struct FuzzingServer {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Where it writes its reports (`index.json` and one file per case).
    pub outdir: PathBuf,
}

impl FuzzingServer {
    /// Start wstest in `dir` (spec, log and reports go there) on the cases matching
    /// `cases` minus `exclude` (Autobahn's patterns).
    pub fn start(root: &Path, dir: &Path, cases: &[&str], exclude: &[&str]) -> Result<Self> {
        let python = root.join(".tools/autobahn/venv/bin/python");
        if !python.is_file() {
            bail!(
                "{} is missing (run scripts/autobahn/setup.sh)",
                python.display()
            );
        }
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
            .local_addr()?
            .port();
        let outdir = dir.join("reports");
        let spec = serde_json::json!({
            "url": format!("ws://127.0.0.1:{port}"),
            "outdir": outdir,
            "options": {"failByDrop": false},
            "cases": cases,
            "exclude-cases": exclude,
            "exclude-agent-cases": {},
        });
        let spec_path = dir.join("fuzzingserver.json");
        std::fs::write(&spec_path, serde_json::to_string_pretty(&spec)?)
            .with_context(|| format!("writing {}", spec_path.display()))?;
        let log = std::fs::File::create(dir.join("wstest.log"))?;
        let child = Command::new(&python)
            .current_dir(dir)
            .args(["-u", "-c", LAUNCHER, "-m", "fuzzingserver", "-u", "0", "-s"])
            .arg(&spec_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", python.display()))?;
        let mut server = FuzzingServer {
            child,
            port,
            outdir,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = server.child.try_wait()? {
                bail!(
                    "wstest ended with {status} before listening: {}",
                    server.log_tail()
                );
            }
            if TcpStream::connect_timeout(
                &(Ipv4Addr::LOCALHOST, port).into(),
                Duration::from_millis(200),
            )
            .is_ok()
            {
                return Ok(server);
            }
            if Instant::now() > deadline {
                bail!(
                    "wstest did not listen on 127.0.0.1:{port} within {} s: {}",
                    START_TIMEOUT.as_secs(),
                    server.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `ws://127.0.0.1:PORT`: the base URL for client drivers.
    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// The end of wstest's log.
    pub fn log_tail(&self) -> String {
        let path = self.outdir.with_file_name("wstest.log");
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// The verdicts of `agent` in `index.json` (written by `/updateReports`): case id →
    /// (behavior, behaviorClose, remoteCloseCode).
    pub fn verdicts(&self, agent: &str) -> Result<BTreeMap<String, Verdict>> {
        read_verdicts(&self.outdir.join("index.json"), agent)
            .with_context(|| format!("wstest's log ends with:\n{}", self.log_tail()))
    }
}

impl Drop for FuzzingServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One case's verdict as Autobahn's `index.json` has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub behavior: String,
    pub behavior_close: String,
    pub remote_close_code: Option<u64>,
}

impl Verdict {
    /// Neither `behavior` nor `behaviorClose` is a failure (OK, NON-STRICT, INFORMATIONAL,
    /// UNIMPLEMENTED).
    pub fn passed(&self) -> bool {
        let bad = |v: &str| matches!(v, "FAILED" | "WRONG CODE" | "UNCLEAN" | "FAILED BY CLIENT");
        !bad(&self.behavior) && !bad(&self.behavior_close)
    }
}

/// The verdicts of `agent` in an Autobahn `index.json`.
pub fn read_verdicts(path: &Path, agent: &str) -> Result<BTreeMap<String, Verdict>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let index: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let Some(cases) = index.get(agent).and_then(|a| a.as_object()) else {
        bail!("{}: no agent {agent:?}", path.display());
    };
    let mut out = BTreeMap::new();
    for (id, v) in cases {
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
        out.insert(
            id.clone(),
            Verdict {
                behavior: s("behavior"),
                behavior_close: s("behaviorClose"),
                remote_close_code: v.get("remoteCloseCode").and_then(|c| c.as_u64()),
            },
        );
    }
    Ok(out)
}
