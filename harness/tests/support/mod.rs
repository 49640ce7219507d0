//! Shared by the integration tests that use the real third-party peers: install them
//! with `scripts/peers/setup.sh` and start one as a child process. A peer that cannot be
//! installed or started fails the test when `CI` is set, and is skipped loudly elsewhere.
//! Also how a finished child process is shown in an assertion message ([`output_text`]).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A dependency that cannot be had: with `CI` set the test fails with the reason (CI
/// must never hide a skipped check); elsewhere a loud SKIPPED banner goes to stderr
/// (`cargo test` still prints `ok` for the test, so the banner is what tells).
pub fn skip_or_fail(what: &str, why: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{what}: {why}\n(CI is set: a dependency that cannot be installed or started is a failure, not a skip)");
    }
    eprintln!(
        "\n!!!!!!!! SKIPPED (NOT a pass): {what}: {why}\n!!!!!!!! (with CI set this fails)\n"
    );
}

/// Install the peers; `false` means "cannot be installed here, skip" (setup.sh exit 3),
/// which fails the test when `CI` is set (see [`skip_or_fail`]).
pub fn setup_peers() -> bool {
    let out = Command::new("bash")
        .arg(root().join("scripts/peers/setup.sh"))
        .output()
        .expect("run scripts/peers/setup.sh");
    match out.status.code() {
        Some(0) => true,
        Some(3) => {
            skip_or_fail(
                "real-peer tests",
                String::from_utf8_lossy(&out.stderr).trim(),
            );
            false
        }
        _ => panic!(
            "scripts/peers/setup.sh failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// A peer process, killed when dropped.
pub struct Peer(Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The venv's Python for the `websockets` peer.
pub fn venv_python() -> String {
    root()
        .join("scripts/peers/.venv/bin/python")
        .to_string_lossy()
        .into_owned()
}

/// Start `program scripts/peers/<script> 0 <extra…>` and wait (bounded) for its
/// `LISTENING <port>` line.
pub fn start_peer(program: &str, script: &str, extra: &[&str]) -> (Peer, u16) {
    let mut child = Command::new(program)
        .arg(root().join("scripts/peers").join(script))
        .arg("0")
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("start {program} {script}: {e}"));
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let peer = Peer(child);
    let line = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("peer did not print LISTENING in 20 s");
    let port = line
        .trim()
        .strip_prefix("LISTENING ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line from {script}: {line:?}"));
    (peer, port)
}

/// A finished process as an assertion message: exit status, stdout, stderr.
pub fn output_text(o: &std::process::Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
