//! `wsspec fuzz --role client` from the command line: usage errors exit 2, a client
//! command that never connects is a harness error before fuzzing. (Runs against
//! correct and broken clients: testkit/tests/netfuzz_client.rs.)

use std::process::Command;

#[test]
fn cli_usage_errors_exit_2() {
    for args in [
        &["fuzz", "--role", "client"][..],
        &["fuzz", "--role", "client", "--exec", "client-without-url"],
        &["fuzz", "--exec", "c {url}"],
        &[
            "fuzz",
            "--role",
            "client",
            "--exec",
            "c {url}",
            "ws://127.0.0.1:1/",
        ],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_wsspec"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .args([
            "fuzz",
            "--role",
            "client",
            "--exec",
            "true {url}",
            "--timeout",
            "1s",
            "-q",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("did not connect"), "{stderr}");
}
