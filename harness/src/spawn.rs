//! Starting, watching and stopping the program under test as a child process.
//!
//! Used by `wsspec fuzz --spawn` (a server per run and after every crash) and meant for
//! any other place where wsspec owns the peer (e.g. a client per case). A command is a
//! shell command line: `{port}` is replaced by a port wsspec picked and the line runs
//! under `sh -c` in a process group of its own, so that the whole tree (the shell, the
//! server and whatever it forked) is stopped together. Its stdout and stderr are read
//! into a bounded ring of the last lines ([`Tail`]); its end is reported as an exit
//! code or a signal ([`Exit`]). Dropping a [`Child`] kills the group and reaps the
//! shell, and every live group is listed in a registry that [`kill_all`] empties, which
//! the command line calls on Ctrl-C and SIGTERM: no process is left behind.

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use std::collections::{BTreeSet, VecDeque};
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Lines kept of the child's output.
pub const TAIL_LINES: usize = 40;
/// Longest line kept (longer lines are cut, with a mark).
pub const TAIL_LINE_BYTES: usize = 512;
/// How long a group gets between SIGTERM and SIGKILL.
const TERM_GRACE: Duration = Duration::from_millis(500);

/// Process groups started here and not yet stopped.
static LIVE: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

/// Kill every process group this process started and has not stopped yet (SIGKILL,
/// at once). For signal handlers and exit paths; children are reaped by their owners
/// or, when the process exits, by init.
pub fn kill_all() -> usize {
    let groups: Vec<i32> = match LIVE.lock() {
        Ok(mut g) => std::mem::take(&mut *g).into_iter().collect(),
        Err(_) => return 0,
    };
    for &g in &groups {
        let _ = killpg(Pid::from_raw(g), Signal::SIGKILL);
    }
    groups.len()
}

/// On Ctrl-C or SIGTERM: kill every group started here (see [`kill_all`]), say so and
/// exit with status 130. Call once, inside a Tokio runtime, before starting children.
pub fn kill_all_on_interrupt() {
    tokio::spawn(async {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term => {}
        }
        let n = kill_all();
        eprintln!("wsspec: interrupted; stopped {n} process group(s) it had started");
        std::process::exit(130);
    });
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    /// Killed by a signal (`core` when it dumped core).
    Signal {
        signal: i32,
        core: bool,
    },
}

impl Exit {
    fn from_status(s: ExitStatus) -> Exit {
        match (s.code(), s.signal()) {
            (Some(c), _) => Exit::Code(c),
            (None, Some(sig)) => Exit::Signal {
                signal: sig,
                core: s.core_dumped(),
            },
            (None, None) => Exit::Code(-1),
        }
    }

    /// `SIGSEGV`, `SIGABRT`, … for a signal.
    #[cfg(feature = "internals")] // for the tests, testkit and fuzz targets
    pub fn signal_name(&self) -> Option<String> {
        match *self {
            Exit::Signal { signal, .. } => Some(signal_name(signal)),
            Exit::Code(_) => None,
        }
    }

    /// A shell reports a child killed by signal N as exit code 128 + N; when the
    /// command line was not exec'd by `sh`, that is all we see. Treat it as the signal.
    pub fn normalised(self) -> Exit {
        match self {
            Exit::Code(c) if (129..=128 + 64).contains(&c) => Exit::Signal {
                signal: c - 128,
                core: false,
            },
            e => e,
        }
    }
}

/// `SIGSEGV` for 11; `signal N` for one nix does not know.
pub fn signal_name(sig: i32) -> String {
    Signal::try_from(sig)
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|_| format!("signal {sig}"))
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Exit::Code(c) => write!(f, "exited with status {c}"),
            Exit::Signal { signal, core } => write!(
                f,
                "killed by {} (signal {signal}){}",
                signal_name(signal),
                if core { ", core dumped" } else { "" }
            ),
        }
    }
}

/// The last lines a child wrote (stdout and stderr interleaved as they arrived).
#[derive(Debug, Default)]
pub struct Tail {
    lines: VecDeque<String>,
    /// Lines dropped from the front.
    pub dropped: u64,
}

impl Tail {
    fn push(&mut self, mut line: String) {
        if line.len() > TAIL_LINE_BYTES {
            let mut cut = TAIL_LINE_BYTES;
            while !line.is_char_boundary(cut) {
                cut -= 1;
            }
            line.truncate(cut);
            line.push_str(" […]");
        }
        if self.lines.len() == TAIL_LINES {
            self.lines.pop_front();
            self.dropped += 1;
        }
        self.lines.push_back(line);
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.iter().cloned().collect()
    }
}

/// Read `r` line by line into `tail` until EOF (bounded per line: a line without a
/// newline is cut at 64 KiB and the rest read as further lines).
fn drain(r: impl Read + Send + 'static, tail: Arc<Mutex<Tail>>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut r = BufReader::new(r);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let mut limited = (&mut r).take(64 << 10);
            match limited.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => return,
                Ok(_) => {
                    while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                        buf.pop();
                    }
                    let line = String::from_utf8_lossy(&buf).into_owned();
                    if let Ok(mut t) = tail.lock() {
                        t.push(line);
                    }
                }
            }
        }
    })
}

/// A simple command line is `exec`'d by the shell, so that the server's own exit
/// status and signal reach us (not the shell's "Aborted" and 128 + N); a compound one
/// (`cd dir && ./server`) runs as given.
fn shell_line(command: &str) -> String {
    let compound = command
        .chars()
        .any(|c| matches!(c, ';' | '&' | '|' | '\n' | '(' | ')' | '`'));
    let trimmed = command.trim_start();
    if compound || trimmed.starts_with("exec ") {
        command.to_string()
    } else {
        format!("exec {trimmed}")
    }
}

/// Replace `{port}` in a command template.
pub fn substitute(template: &str, port: u16) -> String {
    template.replace("{port}", &port.to_string())
}

/// A free TCP port on 127.0.0.1 (bound and released: another process may take it in
/// between, which [`Child::wait_listening`] then reports).
pub fn free_port() -> std::io::Result<u16> {
    let l = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    Ok(l.local_addr()?.port())
}

/// A running command line (its shell and everything in its process group).
pub struct Child {
    /// The command line as run (after substitution).
    pub command: String,
    pub port: Option<u16>,
    proc: std::process::Child,
    pgid: i32,
    tail: Arc<Mutex<Tail>>,
    /// The threads reading its stdout and stderr (they end at EOF).
    readers: Vec<std::thread::JoinHandle<()>>,
    exit: Option<Exit>,
    /// Not ours to stop any more (see [`Child::detach`]).
    detached: bool,
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("command", &self.command)
            .field("pgid", &self.pgid)
            .field("exit", &self.exit)
            .finish()
    }
}

impl Child {
    /// Run `command` (already substituted) with `sh -c` in a new process group; stdin
    /// is /dev/null, stdout and stderr go to the tail.
    pub fn start(command: &str, port: Option<u16>) -> Result<Child, String> {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(shell_line(command))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        // Register under the lock, so that kill_all cannot miss a child started
        // while it runs.
        let mut live = LIVE.lock().map_err(|_| "process registry poisoned")?;
        let mut proc = cmd
            .spawn()
            .map_err(|e| format!("cannot run `sh -c {command}`: {e}"))?;
        let pgid = proc.id() as i32;
        live.insert(pgid);
        drop(live);
        let tail = Arc::new(Mutex::new(Tail::default()));
        let mut readers = Vec::new();
        if let Some(out) = proc.stdout.take() {
            readers.push(drain(out, tail.clone()));
        }
        if let Some(err) = proc.stderr.take() {
            readers.push(drain(err, tail.clone()));
        }
        Ok(Child {
            command: command.to_string(),
            port,
            proc,
            pgid,
            tail,
            readers,
            exit: None,
            detached: false,
        })
    }

    /// Substitute a free port into `template` and start it.
    pub fn start_on_free_port(template: &str) -> Result<Child, String> {
        let port = free_port().map_err(|e| format!("no free port on 127.0.0.1: {e}"))?;
        Child::start(&substitute(template, port), Some(port))
    }

    /// How it ended, if it has (reaps the shell; later calls return the same).
    pub fn exit(&mut self) -> Option<Exit> {
        if self.exit.is_none() {
            if let Ok(Some(s)) = self.proc.try_wait() {
                self.exit = Some(Exit::from_status(s).normalised());
            }
        }
        self.exit
    }

    /// Wait up to `timeout` for the output readers to reach EOF (after an exit, so
    /// that [`Child::tail`] holds the last lines; a forked child may keep the pipes).
    pub async fn wait_output(&self, timeout: Duration) {
        let until = Instant::now() + timeout;
        while Instant::now() < until && !self.readers.iter().all(|r| r.is_finished()) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Wait up to `timeout` for it to end.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<Exit> {
        let until = Instant::now() + timeout;
        loop {
            if let Some(e) = self.exit() {
                return Some(e);
            }
            if Instant::now() >= until {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The last lines of its output.
    pub fn tail(&self) -> Vec<String> {
        self.tail.lock().map(|t| t.lines()).unwrap_or_default()
    }

    /// Wait until 127.0.0.1:`port` accepts a TCP connection. Fails when the child ends
    /// first or `timeout` passes (the error says which, with its last output).
    pub async fn wait_listening(&mut self, port: u16, timeout: Duration) -> Result<(), String> {
        let until = Instant::now() + timeout;
        loop {
            if let Some(e) = self.exit() {
                // Let the readers catch the last lines.
                tokio::time::sleep(Duration::from_millis(50)).await;
                return Err(format!(
                    "`{}` {e} before listening on port {port}{}",
                    self.command,
                    tail_text(&self.tail())
                ));
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!(
                    "`{}` did not listen on 127.0.0.1:{port} within {timeout:?}{}",
                    self.command,
                    tail_text(&self.tail())
                ));
            }
            let attempt = tokio::time::timeout(
                left.min(Duration::from_millis(500)),
                tokio::net::TcpStream::connect(("127.0.0.1", port)),
            )
            .await;
            if let Ok(Ok(_)) = attempt {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stop the whole group (SIGTERM, then SIGKILL after a grace period) and reap the
    /// shell. Returns how it ended (a signal of ours if it was still running).
    pub fn stop(&mut self) -> Option<Exit> {
        if self.exit().is_none() {
            let pg = Pid::from_raw(self.pgid);
            let _ = killpg(pg, Signal::SIGTERM);
            let until = Instant::now() + TERM_GRACE;
            while self.exit().is_none() && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        // The shell may be gone while its children live on: kill the group anyway.
        let _ = killpg(Pid::from_raw(self.pgid), Signal::SIGKILL);
        if self.exit.is_none() {
            if let Ok(s) = self.proc.wait() {
                self.exit = Some(Exit::from_status(s).normalised());
            }
        }
        if let Ok(mut live) = LIVE.lock() {
            live.remove(&self.pgid);
        }
        self.exit
    }

    /// Leave whatever the command left running alone (a restart command that starts
    /// a daemon): forget the group; dropping no longer kills it.
    pub fn detach(&mut self) {
        self.detached = true;
        if let Ok(mut live) = LIVE.lock() {
            live.remove(&self.pgid);
        }
    }

    /// The process group id (= the shell's pid).
    #[cfg(feature = "internals")] // for the tests, testkit and fuzz targets
    pub fn pgid(&self) -> i32 {
        self.pgid
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.detached {
            // Reap the shell if it ended; never signal the group.
            let _ = self.exit();
        } else {
            self.stop();
        }
    }
}

/// "\n  last output:\n    line…" or "" when there was none.
pub fn tail_text(lines: &[String]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    let take = lines.len().saturating_sub(5);
    let mut s = String::from("; last output:");
    for l in &lines[take..] {
        s.push_str("\n    ");
        s.push_str(l);
    }
    s
}

/// Run a command line to its end (e.g. a `--restart` command), at most `timeout`;
/// on timeout its group is killed, after a normal end what it started in the
/// background is left running. Returns how it ended and its last output.
pub async fn run_to_end(command: &str, timeout: Duration) -> Result<(Exit, Vec<String>), String> {
    let mut c = Child::start(command, None)?;
    match c.wait_exit(timeout).await {
        Some(e) => {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let tail = c.tail();
            c.detach();
            Ok((e, tail))
        }
        None => {
            c.stop();
            Err(format!(
                "`{command}` did not finish within {timeout:?}{}",
                tail_text(&c.tail())
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn exit_signal_tail_and_group_kill() {
        let mut c = Child::start("echo hello; echo oops >&2; kill -SEGV $$", None).unwrap();
        let e = c.wait_exit(Duration::from_secs(5)).await.unwrap();
        assert_eq!(e.signal_name().as_deref(), Some("SIGSEGV"), "{e}");
        tokio::time::sleep(Duration::from_millis(100)).await;
        let t = c.tail();
        assert!(
            t.contains(&"hello".to_string()) && t.contains(&"oops".to_string()),
            "{t:?}"
        );

        // A background grandchild dies with the group.
        let c = Child::start("sleep 30 & echo $!; wait", None).unwrap();
        let until = Instant::now() + Duration::from_secs(5);
        while c.tail().is_empty() && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let pid: i32 = c.tail()[0].trim().parse().unwrap();
        assert!(nix::sys::signal::kill(Pid::from_raw(pid), None).is_ok());
        let pg = c.pgid();
        drop(c);
        std::thread::sleep(Duration::from_millis(50));
        // Gone (reaped by init or a zombie of init's, never alive and running).
        let alive = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| !s.contains(") Z"))
            .unwrap_or(false);
        assert!(!alive, "the grandchild {pid} outlived its group {pg}");
        assert!(!LIVE.lock().unwrap().contains(&pg));
    }

    #[tokio::test]
    async fn listening_and_early_exit() {
        let mut c = Child::start("echo cannot bind >&2; exit 3", Some(1)).unwrap();
        let e = c
            .wait_listening(1, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(
            e.contains("exited with status 3") && e.contains("cannot bind"),
            "{e}"
        );
        let mut c = Child::start("sleep 5", Some(1)).unwrap();
        let e = c
            .wait_listening(1, Duration::from_millis(300))
            .await
            .unwrap_err();
        assert!(e.contains("did not listen"), "{e}");
        assert_eq!(
            c.stop().and_then(|e| e.signal_name()).as_deref(),
            Some("SIGTERM")
        );
        let l = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = l.local_addr().unwrap().port();
        let mut c = Child::start("sleep 5", Some(port)).unwrap();
        c.wait_listening(port, Duration::from_secs(2))
            .await
            .unwrap();
    }

    #[test]
    fn tail_is_bounded() {
        let mut t = Tail::default();
        for i in 0..100 {
            t.push(format!("{i}"));
        }
        t.push("x".repeat(10_000));
        assert_eq!(t.lines().len(), TAIL_LINES);
        assert_eq!(t.dropped, 61);
        assert!(t.lines().last().unwrap().len() < TAIL_LINE_BYTES + 10);
        assert_eq!(
            Exit::Code(139).normalised().signal_name().as_deref(),
            Some("SIGSEGV")
        );
    }
}
