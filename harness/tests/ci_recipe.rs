//! `scripts/ci-recipe.sh`, the documented shell CI recipe, run the way a CI job runs
//! it (with the binary this test suite built instead of `cargo install`): it must start
//! the server, write the reports and the step summary, and exit with the gate's code.

#[allow(dead_code)] // only output_text is used here
mod support;

use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn recipe(env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new("bash");
    cmd.arg(root().join("scripts/ci-recipe.sh"))
        .env("WSSPEC", env!("CARGO_BIN_EXE_wsspec"))
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("CI_SUMMARY")
        .env_remove("URL")
        .env_remove("SERVER_CMD");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run scripts/ci-recipe.sh")
}

#[test]
fn recipe_runs_reports_summarises_and_gates() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let summary = dir.path().join("step-summary.md");
    let kf = dir.path().join("known-failing.txt");
    std::fs::write(&kf, "# nothing fails in sections 1 and 2\n").unwrap();
    let env = [
        ("OUT", out.to_str().unwrap()),
        ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
        ("KNOWN_FAILING", kf.to_str().unwrap()),
        ("WSSPEC_ARGS", "-c 1.*,2.*"),
    ];
    let o = recipe(&env);
    assert_eq!(o.status.code(), Some(0), "{}", support::output_text(&o));
    for f in ["index.html", "report.json", "junit.xml", "summary.md"] {
        assert!(
            out.join(f).is_file(),
            "{f} missing: {}",
            support::output_text(&o)
        );
    }
    let s = std::fs::read_to_string(&summary).unwrap();
    assert_eq!(s, std::fs::read_to_string(out.join("summary.md")).unwrap());
    assert!(
        support::output_text(&o).contains("testing ws://127.0.0.1:"),
        "{}",
        support::output_text(&o)
    );

    // A stale known-failing entry fails the job, and says which line to delete.
    std::fs::write(&kf, "2.1\n").unwrap();
    let o = recipe(&env);
    assert_eq!(o.status.code(), Some(1), "{}", support::output_text(&o));
    assert!(
        support::output_text(&o).contains("2.1 passes now; delete this line"),
        "{}",
        support::output_text(&o)
    );
    // The summary is appended on every run, failing or not.
    let s = std::fs::read_to_string(&summary).unwrap();
    assert!(
        s.len()
            > std::fs::read_to_string(out.join("summary.md"))
                .unwrap()
                .len()
    );
}

#[test]
fn recipe_fails_with_2_when_the_server_does_not_come_up() {
    let dir = tempfile::tempdir().unwrap();
    let o = recipe(&[
        ("OUT", dir.path().join("r").to_str().unwrap()),
        ("SERVER_CMD", "false"),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", support::output_text(&o));
    assert!(
        support::output_text(&o).contains("the server exited"),
        "{}",
        support::output_text(&o)
    );
    // An explicit URL nobody listens on: wsspec's own exit 2.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", l.local_addr().unwrap());
    drop(l);
    let o = recipe(&[
        ("OUT", dir.path().join("r").to_str().unwrap()),
        ("URL", &url),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", support::output_text(&o));
}

/// SERVER_CMD with a fixed port and URL: the recipe waits until the port accepts.
#[test]
fn recipe_waits_for_a_server_on_a_known_port() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let dir = tempfile::tempdir().unwrap();
    let server = format!("{} echo --port {port}", env!("CARGO_BIN_EXE_wsspec"));
    let url = format!("ws://127.0.0.1:{port}/");
    let o = recipe(&[
        ("OUT", dir.path().join("r").to_str().unwrap()),
        ("SERVER_CMD", &server),
        ("URL", &url),
        ("WSSPEC_ARGS", "-c 1.1.*"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", support::output_text(&o));
    assert!(
        support::output_text(&o).contains(&format!("testing {url}")),
        "{}",
        support::output_text(&o)
    );
}

/// Every `wsspec` command of docs/ci.md's GitHub Actions job parses with the real
/// argument parser (folded `run: >-` blocks joined), so the docs cannot drift.
#[test]
fn documented_github_job_uses_real_flags() {
    use clap::Parser;
    let doc = std::fs::read_to_string(root().join("docs/ci.md")).unwrap();
    let yaml = doc
        .split("```yaml")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("docs/ci.md has a yaml block");
    let lines: Vec<&str> = yaml.lines().collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    let mut commands = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        let t = l.trim_start().trim_start_matches("- ");
        if let Some(rest) = t.strip_prefix("run:") {
            let rest = rest.trim();
            if rest == ">-" || rest == "|" {
                let mut cmd = String::new();
                let base = indent(l);
                i += 1;
                while i < lines.len() && indent(lines[i]) > base && !lines[i].trim().is_empty() {
                    cmd.push_str(lines[i].trim());
                    cmd.push(if rest == "|" { '\n' } else { ' ' });
                    i += 1;
                }
                commands.extend(cmd.lines().map(str::to_string));
                continue;
            }
            commands.push(rest.to_string());
        }
        i += 1;
    }
    let wsspec: Vec<&String> = commands
        .iter()
        .filter(|c| c.starts_with("wsspec "))
        .collect();
    assert!(
        !wsspec.is_empty(),
        "no wsspec command found in {commands:?}"
    );
    for c in wsspec {
        let args: Vec<&str> = c.split_whitespace().collect();
        if let Err(e) = wsspec::cli::Cli::try_parse_from(&args) {
            panic!("docs/ci.md: `{c}` does not parse:\n{e}");
        }
    }
}
