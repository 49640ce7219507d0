//! `wsspec fuzz --spawn` and `--restart` end to end, against the planted crash run as a
//! process of its own (`wsspec-testkit server --fault crash-on-pattern`, which aborts
//! when the bug fires):
//!
//! * the crash is found, confirmed on fresh processes (rate), shrunk to the minimal
//!   steps (three text fragments, the ping, the closing close), written with SIGABRT
//!   and the server's last output, and its Python reproducer kills a fresh server
//!   without wsspec (and leaves a conformant one alive), as does `wsspec run --spawn`;
//! * no process is left behind, after a normal run and after Ctrl-C;
//! * a server wsspec does not own comes back through `--restart` (a command that
//!   leaves it running in the background).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn wsspec() -> &'static str {
    env!("CARGO_BIN_EXE_wsspec")
}

/// The test fixtures' binary. A dev-dependency builds only the library of
/// wsspec-testkit, so its binary is built here once, into this test's target directory.
fn testkit() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        // <target>/<profile>/deps/spawn-HASH
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
        let target = profile_dir.parent().unwrap();
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args([
            "build",
            "--quiet",
            "-p",
            "wsspec-testkit",
            "--bin",
            "wsspec-testkit",
        ])
        .env("CARGO_TARGET_DIR", target);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("running cargo build -p wsspec-testkit");
        assert!(status.success(), "cargo build -p wsspec-testkit: {status}");
        profile_dir.join("wsspec-testkit")
    })
}

/// A server command line carrying `marker` in its environment (found in /proc).
fn server_cmd(fault: &str, marker: &str) -> String {
    format!(
        "env WSSPEC_TEST_MARK={marker} {} server --fault {fault} --port {{port}}",
        testkit().display()
    )
}

/// Pids of live (not zombie) processes whose environment holds `marker`.
fn marked(marker: &str) -> Vec<u32> {
    let needle = format!("WSSPEC_TEST_MARK={marker}");
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(env) = std::fs::read(e.path().join("environ")) else {
            continue;
        };
        let zombie = std::fs::read_to_string(e.path().join("stat"))
            .map(|s| s.contains(") Z "))
            .unwrap_or(true);
        if !zombie && env.split(|b| *b == 0).any(|v| v == needle.as_bytes()) {
            out.push(pid);
        }
    }
    out
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn finding_files(dir: &Path, ext: &str) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    v.sort();
    v
}

#[test]
fn spawn_finds_shrinks_confirms_and_reproduces_the_planted_crash() {
    let marker = format!("spawn-crash-{}", std::process::id());
    let out = tempfile::tempdir().unwrap();
    let t0 = Instant::now();
    let o = Command::new(wsspec())
        .args([
            "fuzz",
            "--seed",
            "1",
            "--duration",
            "20s",
            "--max-findings",
            "1",
        ])
        .args(["--spawn", &server_cmd("crash-on-pattern", &marker)])
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    let log = text(&o);
    eprintln!("{log}\n(took {:?})", t0.elapsed());
    assert_eq!(o.status.code(), Some(1), "{log}");
    assert!(log.contains("killed by SIGABRT"), "{log}");
    assert!(
        log.contains("planted crash (CrashOnPattern) fired"),
        "{log}"
    );
    // Confirmed on fresh processes: the planted bug is deterministic.
    assert!(log.contains("reproduced on fresh targets: 5/5"), "{log}");
    // Shrunk to three text fragments, the ping and the closing close.
    let steps = log
        .split(" steps in ")
        .next()
        .and_then(|s| s.rsplit(" -> ").next())
        .and_then(|s| s.trim().parse::<usize>().ok())
        .expect("a `N -> M steps` line");
    assert!(steps <= 5, "not shrunk: {steps} steps\n{log}");
    assert!(
        marked(&marker).is_empty(),
        "servers left behind: {:?}",
        marked(&marker)
    );

    // The report and the reproducer.
    let md = finding_files(out.path(), "md");
    let py = finding_files(out.path(), "py");
    assert_eq!((md.len(), py.len()), (1, 1), "{log}");
    let report = std::fs::read_to_string(&md[0]).unwrap();
    for want in [
        "SIGABRT",
        "5/5",
        "## Bytes sent",
        "a ping frame",
        "--spawn '",
    ] {
        assert!(
            report.contains(want),
            "{want} missing from the report:\n{report}"
        );
    }
    let repro = |fault: &str| {
        Command::new("python3")
            .arg(&py[0])
            .args(["--spawn", &server_cmd(fault, &marker)])
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let r = repro("crash-on-pattern");
    assert_eq!(r.status.code(), Some(1), "{}", text(&r));
    assert!(text(&r).contains("killed by SIGABRT"), "{}", text(&r));
    let r = repro("none");
    assert_eq!(r.status.code(), Some(0), "{}", text(&r));

    // wsspec run --spawn replays it: fails a fresh crashing server (and says how it
    // died), passes a conformant one.
    let replay = |fault: &str| {
        Command::new(wsspec())
            .args(["run", "--no-write", "--cases-dir"])
            .arg(out.path())
            .args(["-c", "finding/*", "--spawn", &server_cmd(fault, &marker)])
            .output()
            .unwrap()
    };
    let r = replay("crash-on-pattern");
    assert_eq!(r.status.code(), Some(1), "{}", text(&r));
    assert!(text(&r).contains("was killed by SIGABRT"), "{}", text(&r));
    let r = replay("none");
    assert_eq!(r.status.code(), Some(0), "{}", text(&r));
    assert!(
        marked(&marker).is_empty(),
        "servers left behind: {:?}",
        marked(&marker)
    );
}

#[test]
fn ctrl_c_stops_the_spawned_server() {
    let marker = format!("spawn-sigint-{}", std::process::id());
    let out = tempfile::tempdir().unwrap();
    let mut child = Command::new(wsspec())
        .args(["fuzz", "--duration", "5m", "-q"])
        .args(["--spawn", &server_cmd("none", &marker)])
        .arg("--out")
        .arg(out.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(20);
    while marked(&marker).is_empty() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!marked(&marker).is_empty(), "the server never started");
    std::thread::sleep(Duration::from_millis(300));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < until, "wsspec did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        marked(&marker).is_empty(),
        "left behind after Ctrl-C: {:?}",
        marked(&marker)
    );
}

#[test]
fn restart_brings_back_a_server_wsspec_does_not_own() {
    let marker = format!("spawn-restart-{}", std::process::id());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cmd = server_cmd("crash-on-pattern", &marker).replace("{port}", &port.to_string());
    // The restart command leaves a server running in the background, as a service
    // manager would; wsspec must not kill it.
    let restart = format!("setsid {cmd} >/dev/null 2>&1 < /dev/null &");
    let mut first = Command::new("sh")
        .args(["-c", &format!("exec {cmd}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < until, "the first server did not listen");
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = tempfile::tempdir().unwrap();
    let o = Command::new(wsspec())
        .args([
            "fuzz",
            "--seed",
            "1",
            "--duration",
            "20s",
            "--max-findings",
            "1",
        ])
        .arg(format!("ws://127.0.0.1:{port}/"))
        .args(["--restart", &restart])
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    let log = text(&o);
    let _ = first.kill();
    let _ = first.wait();
    for pid in marked(&marker) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    eprintln!("{log}");
    assert_eq!(o.status.code(), Some(1), "{log}");
    assert!(log.contains("[target died]"), "{log}");
    assert!(log.contains("reproduced on fresh targets: 5/5"), "{log}");
    // Each fresh run crashed a server the restart command had left running in the
    // background: wsspec did not kill what it does not own.
    assert!(!log.contains("not reproduced"), "{log}");
}
