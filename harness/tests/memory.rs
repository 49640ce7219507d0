//! Memory: the harness carries Autobahn's biggest messages (9.1.6 and 9.2.6, 16 MiB
//! each) and a 12.x case (1000 compressed round trips) without keeping them: received
//! messages are digested as they arrive. The harness runs as its own process against
//! the Node `ws` peer with permessage-deflate, and its peak RSS (the kernel's
//! `ru_maxrss` of that child) must stay under [`BOUND_MIB`].

#[allow(dead_code)] // venv_python is for the tests that start websockets
mod support;

use std::process::Command;

/// Peak RSS allowed for the harness process. The 16 MiB message is sent once (encoded
/// frame) and received once (the decoder's frame buffer), plus the runtime: about
/// 3 × 16 MiB is the floor; keeping a message or copies of it would pass the bound.
const BOUND_MIB: i64 = 96;

/// Run `cmd` to its end: its exit code (`None` if killed by a signal) and its own peak
/// RSS in KiB. `wait4` on this one child: the tests of this file run side by side in
/// one process, so `RUSAGE_CHILDREN` would mix their children's peaks.
#[allow(clippy::zombie_processes)] // reaped by wait4, which clippy does not know
fn run_measured(cmd: &mut Command) -> (Option<i32>, i64) {
    let child = cmd.spawn().expect("start wsspec");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: wait4 writes only the status and the struct we hand it; the child is
    // ours and not waited for elsewhere (std's Child does not wait on drop).
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::wait4(pid, &mut status, 0, &mut ru), pid);
        ru
    };
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    (code, ru.ru_maxrss)
}

#[test]
fn big_and_many_messages_stay_within_the_memory_bound() {
    if !support::setup_peers() {
        return;
    }
    let (_ws, port) = support::start_peer("node", "ws_echo.js", &["--deflate"]);
    let out = tempfile::tempdir().unwrap();
    let (code, peak_kib) = run_measured(
        Command::new(env!("CARGO_BIN_EXE_wsspec"))
            .args(["run", &format!("ws://127.0.0.1:{port}/")])
            .args([
                "-c",
                "9.1.6,9.2.6,12.2.10",
                "--jobs",
                "4",
                "--quiet",
                "--out",
            ])
            .arg(out.path()),
    );
    assert_eq!(code, Some(0), "all three cases must pass");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap()).unwrap();
    let results = report["agents"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    for r in results {
        assert_eq!(r["behavior"], "OK", "{}: {}", r["id"], r["result"]);
        assert!(r["throughput"]["messages"].as_u64().unwrap() >= 1);
    }
    // The report keeps no message whole: far smaller than one 16 MiB message.
    let size = std::fs::metadata(out.path().join("report.json"))
        .unwrap()
        .len();
    assert!(size < 1 << 20, "report.json is {size} bytes");
    let peak_mib = peak_kib / 1024;
    eprintln!("wsspec peak RSS: {peak_mib} MiB (bound {BOUND_MIB} MiB)");
    assert!(
        peak_mib < BOUND_MIB,
        "peak RSS {peak_mib} MiB is over the bound of {BOUND_MIB} MiB"
    );
}

/// Peak RSS allowed while the security floods run (80 MiB of fragments, 100,000
/// frames, 20,000 pings into a peer that stops reading, a 256 MiB deflate bomb). The
/// floods are written as the peer takes them, at most a few MiB queued
/// (`play::QUEUE_HIGH`); queuing the 80 MiB at once measured 102 MiB.
const FLOOD_BOUND_MIB: i64 = 64;

#[test]
fn floods_are_written_as_the_peer_reads_them() {
    // The embedded server runs in this process: only wsspec's own RSS is measured.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(wsspec::server::start(0)).expect("server");
    let out = tempfile::tempdir().unwrap();
    let (code, peak_kib) = run_measured(
        Command::new(env!("CARGO_BIN_EXE_wsspec"))
            .args(["run", &server.url()])
            .args([
                "-c",
                "security/over-limit-fragments,security/continuation-flood-finished,\
             security/ping-flood-unread,security/deflate-bomb-fragments",
                "--quiet",
                "--out",
            ])
            .arg(out.path()),
    );
    assert!(
        matches!(code, Some(0 | 1)),
        "wsspec could not run the floods: exit {code:?}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap()).unwrap();
    let results = report["agents"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    // The 80 MiB went out (or the server stopped it): 64 MiB is tungstenite's limit.
    let fragments = results
        .iter()
        .find(|r| r["id"] == "security/over-limit-fragments")
        .unwrap();
    let sent: u64 = fragments["tx_octet_stats"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(len, n)| len.parse::<u64>().unwrap() * n.as_u64().unwrap())
        .sum();
    assert!(
        sent > 32 << 20,
        "only {sent} bytes of fragments were written"
    );
    let peak_mib = peak_kib / 1024;
    eprintln!("wsspec peak RSS during the floods: {peak_mib} MiB (bound {FLOOD_BOUND_MIB} MiB)");
    assert!(
        peak_mib < FLOOD_BOUND_MIB,
        "peak RSS {peak_mib} MiB is over the bound of {FLOOD_BOUND_MIB} MiB"
    );
}
