//! `cargo xtask oracle --clients`: the client half of the Autobahn oracle.
//!
//! The real third-party *clients* (Autobahn client drivers in `scripts/peers/`) are run
//! twice over Autobahn's client-driver URL protocol (`/getCaseCount`, `/runCase?case=N`,
//! `/updateReports`): first against the real Autobahn fuzzing server (`wstest -m
//! fuzzingserver`, started by `scripts/autobahn/fuzzingserver.py`, which keeps it on
//! 127.0.0.1), then against `wsspec serve --listen 127.0.0.1:0 --out DIR`. Both write
//! Autobahn `index.json` files with one agent per client; `wsspec diff --common
//! --porcelain` compares them case for case (behavior, behaviorClose, remoteCloseCode)
//! and every difference must be listed in `reports/oracle/known-differences.txt`, as in
//! the server half (`oracle.rs`).
//!
//! | target                      | client                                               |
//! |-----------------------------|------------------------------------------------------|
//! | `websockets-client`         | Python `websockets` client, `compression=None`       |
//! | `websockets-client-deflate` | the same with its default `compression="deflate"`    |
//! | `ws-client`                 | Node `ws` client, `perMessageDeflate: false`         |
//! | `ws-client-deflate`         | the same with its default `perMessageDeflate: true`  |
//! | `tungstenite-client`        | tokio-tungstenite's client (`wsspec-testkit tungstenite`) |
//!
//! | `NAME-exec` (each of the above) | wstest: the driver `NAME`; wsspec: `wsspec serve --exec 'CLIENT --single {url}'`, one client process per case |
//!
//! The `-exec` targets check `wsspec serve --exec` (a process per case, the case URL on
//! its command line) against the same wstest verdicts as the driver: on the wstest side
//! they need the driver's run (done once for both), on the wsspec side they run
//! `serve --exec --agent NAME` into `wsspec-exec/NAME-exec/`, and their rows are
//! compared under the target name `NAME-exec`.
//!
//! `--fast`: `websockets-client` and `ws-client` on sections 1–7 and 10.
//! `--wstest-only`: only the wstest side; prints each client's verdict counts and the
//! cases that are not OK, and keeps the reports (for `docs/findings.md`).

use crate::gate::{self, Running};
use crate::oracle::{missing, Options};
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use xshell::{cmd, Shell};

/// How long wstest may take to listen.
const WSTEST_START: Duration = Duration::from_secs(30);

/// One client: its target (= agent) name, the peer installation it needs, and the
/// commands that run it as a driver (`{base}`, `{agent}` replaced) and on one case URL
/// (`{url}`, left for `wsspec serve --exec` to fill in).
pub(crate) struct Client {
    pub(crate) name: &'static str,
    peer: &'static str,
    /// Relative to the project root, a name on PATH, or `TESTKIT` for the
    /// `wsspec-testkit` binary of this workspace.
    program: &'static str,
    driver: &'static [&'static str],
    single: &'static [&'static str],
}

const PYTHON: &str = "scripts/peers/.venv/bin/python";
/// The `wsspec-testkit` binary (`cargo build -p wsspec-testkit`).
const TESTKIT: &str = "wsspec-testkit";

/// Every client, in the order they run.
pub(crate) const CLIENTS: [Client; 5] = [
    Client {
        name: "websockets-client",
        peer: "websockets",
        program: PYTHON,
        driver: &[
            "scripts/peers/websockets_client.py",
            "--no-deflate",
            "--agent",
            "{agent}",
            "{base}",
        ],
        single: &[
            "scripts/peers/websockets_client.py",
            "--no-deflate",
            "--single",
            "{url}",
        ],
    },
    Client {
        name: "websockets-client-deflate",
        peer: "websockets",
        program: PYTHON,
        driver: &[
            "scripts/peers/websockets_client.py",
            "--agent",
            "{agent}",
            "{base}",
        ],
        single: &["scripts/peers/websockets_client.py", "--single", "{url}"],
    },
    Client {
        name: "ws-client",
        peer: "ws",
        program: "node",
        driver: &[
            "scripts/peers/ws_client.js",
            "--no-deflate",
            "--agent",
            "{agent}",
            "{base}",
        ],
        single: &[
            "scripts/peers/ws_client.js",
            "--no-deflate",
            "--single",
            "{url}",
        ],
    },
    Client {
        name: "ws-client-deflate",
        peer: "ws",
        program: "node",
        driver: &["scripts/peers/ws_client.js", "--agent", "{agent}", "{base}"],
        single: &["scripts/peers/ws_client.js", "--single", "{url}"],
    },
    // tokio-tungstenite's client through the testkit's driver loop (no deflate: the
    // crate has none).
    Client {
        name: "tungstenite-client",
        peer: TESTKIT,
        program: TESTKIT,
        driver: &["tungstenite", "--driver", "{base}", "--agent", "{agent}"],
        single: &["tungstenite", "{url}"],
    },
];

/// The program of a client, as a path or a name on PATH.
fn program(root: &Path, c: &Client) -> PathBuf {
    if c.program == TESTKIT {
        return gate::testkit_bin(root);
    }
    let path = root.join(c.program);
    if path.is_file() {
        path
    } else {
        PathBuf::from(c.program)
    }
}

/// What `--fast` runs.
pub(crate) const FAST_CLIENTS: [&str; 2] = ["websockets-client", "ws-client"];

/// Suffix of the targets that run a client per case with `wsspec serve --exec`.
const EXEC: &str = "-exec";

/// Every target name: the drivers, then their `-exec` variants.
pub(crate) fn target_names() -> Vec<String> {
    let drivers = CLIENTS.iter().map(|c| c.name.to_string());
    let execs = CLIENTS.iter().map(|c| format!("{}{EXEC}", c.name));
    drivers.chain(execs).collect()
}

pub(crate) fn is_client(name: &str) -> bool {
    target_names().iter().any(|t| t == name)
}

pub(crate) fn run(sh: &Shell, o: &Options, wstest_python: &Path) -> Result<()> {
    let root = crate::project_root();
    let started = Instant::now();
    cmd!(sh, "cargo build --quiet -p wsspec").run()?;
    let bin = gate::wsspec_bin(&root);
    let cases = if o.cases.is_empty() {
        crate::oracle::sections_wsspec_plays(&bin)?
    } else {
        o.cases.clone()
    };

    let wanted = |name: &str| o.targets.iter().any(|t| t == name);
    if wanted("tungstenite-client") || wanted(&format!("tungstenite-client{EXEC}")) {
        cmd!(sh, "cargo build --quiet -p wsspec-testkit").run()?;
    }
    let setup_problem = gate::install_peers(&root)?;
    let mut clients = Vec::new();
    for c in CLIENTS
        .iter()
        .filter(|c| wanted(c.name) || wanted(&format!("{}{EXEC}", c.name)))
    {
        match gate::unavailable(&root, c.peer, setup_problem.as_deref()) {
            Some(why) => missing(&format!("oracle client {}: {why}", c.name))?,
            None => clients.push(c),
        }
    }
    if clients.is_empty() {
        return missing("the client oracle: no client driver can run");
    }

    let dir = std::env::temp_dir().join(format!("wsspec-oracle-clients-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let names: Vec<&str> = clients.iter().map(|c| c.name).collect();

    // The real Autobahn fuzzing server.
    println!(
        "xtask oracle: wstest -m fuzzingserver, clients {}, cases {}",
        names.join(", "),
        cases.join(",")
    );
    let t = Instant::now();
    let port = free_port()?;
    let spec = dir.join("fuzzingserver.json");
    std::fs::write(&spec, spec_json(port, &dir.join("wstest"), &cases))
        .with_context(|| format!("writing {}", spec.display()))?;
    {
        let _wstest = Server::start_wstest(&root, wstest_python, &dir, &spec, port)?;
        let base = format!("ws://127.0.0.1:{port}");
        for c in &clients {
            drive(
                &root,
                c,
                &base,
                &dir.join(format!("wstest-{}.log", c.name)),
                o.wstest_timeout,
            )?;
        }
    }
    let wstest_secs = t.elapsed().as_secs_f64();
    let wstest_index = dir.join("wstest/index.json");
    if !wstest_index.is_file() {
        bail!(
            "wstest wrote no {} (log: {})",
            wstest_index.display(),
            dir.join("wstest.log").display()
        );
    }
    println!("xtask oracle: wstest side {wstest_secs:.1} s");
    print_verdicts(&bin, &wstest_index)?;
    if o.wstest_only {
        println!(
            "xtask oracle: --wstest-only: wsspec side not run; reports kept in {}",
            dir.display()
        );
        return Ok(());
    }

    // wsspec serve, same clients, same cases.
    let t = Instant::now();
    let out = dir.join("wsspec");
    let drivers: Vec<&&Client> = clients.iter().filter(|c| wanted(c.name)).collect();
    if !drivers.is_empty() {
        println!("xtask oracle: wsspec serve --listen 127.0.0.1:0 (same clients, same cases)");
        let cases_arg = cases.join(",");
        let out_arg = out.to_string_lossy().into_owned();
        let mut serve = Running::start(
            &root,
            &bin.to_string_lossy(),
            &[
                "serve",
                "--quiet",
                "--listen",
                "127.0.0.1:0",
                "--out",
                &out_arg,
                "--cases",
                &cases_arg,
            ],
        )
        .context("starting `wsspec serve --listen` (does this build have it?)")?;
        let base = format!("ws://127.0.0.1:{}", serve.port);
        for c in &drivers {
            drive(
                &root,
                c,
                &base,
                &dir.join(format!("wsspec-{}.log", c.name)),
                o.wstest_timeout,
            )?;
        }
        // Each driver's /updateReports wrote the reports; on SIGINT serve writes them
        // once more (with any result that arrived after the last /updateReports).
        if serve.interrupt(Duration::from_secs(60)).is_none() {
            bail!("wsspec serve did not exit within 60 s of SIGINT");
        }
    }
    for c in clients
        .iter()
        .filter(|c| wanted(&format!("{}{EXEC}", c.name)))
    {
        serve_exec(&root, &bin, c, &dir, &cases, o.wstest_timeout)?;
    }
    let wsspec_secs = t.elapsed().as_secs_f64();
    let verdict = compare(&bin, &root, &dir)?;
    println!(
        "\nxtask oracle: wstest {wstest_secs:.1} s, wsspec {wsspec_secs:.1} s, {:.1} s in all; \
         reports in {}",
        started.elapsed().as_secs_f64(),
        dir.display()
    );
    if let Err(e) = verdict {
        println!("xtask oracle: kept {} for a look", dir.display());
        return Err(e);
    }
    if !o.keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

/// The wstest `index.json` of a run directory against every `index.json` that `wsspec
/// serve` wrote under its `wsspec/`, judged against the allow-list; the outer error is
/// a harness problem, the inner one the oracle's verdict. (`--rejudge DIR` too.)
pub(crate) fn compare(bin: &Path, root: &Path, dir: &Path) -> Result<Result<()>> {
    let wstest_index = dir.join("wstest/index.json");
    let out = dir.join("wsspec");
    let indexes = find_indexes(&out)?;
    if indexes.is_empty() && !dir.join("wsspec-exec").is_dir() {
        bail!("wsspec serve wrote no index.json under {}", out.display());
    }
    let mut porcelain = String::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut add = |rows: &str, label: Option<&str>| {
        for line in rows.lines() {
            let mut f: Vec<&str> = line.split('\t').collect();
            if let (Some(label), Some(agent)) = (label, f.get_mut(1)) {
                *agent = label;
            }
            if seen.insert(f.iter().take(3).copied().collect::<Vec<_>>().join("\t")) {
                porcelain.push_str(&f.join("\t"));
                porcelain.push('\n');
            }
        }
    };
    for index in &indexes {
        add(
            &crate::oracle::diff_porcelain(bin, &wstest_index, index)?,
            None,
        );
    }
    // `serve --exec` runs: the agent is the driver's name, the rows are the -exec target's.
    if let Ok(entries) = std::fs::read_dir(dir.join("wsspec-exec")) {
        let mut runs: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        runs.sort();
        for run in runs {
            let label = run
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let index = run.join("autobahn/index.json");
            if !index.is_file() {
                bail!("wsspec serve --exec wrote no {}", index.display());
            }
            add(
                &crate::oracle::diff_porcelain(bin, &wstest_index, &index)?,
                Some(&label),
            );
        }
    }
    let known = crate::oracle::Known::read(&root.join(crate::oracle::KNOWN))?;
    crate::oracle::judge(&porcelain, &known)
}

/// A free port on 127.0.0.1 for wstest (whose spec needs the port up front).
fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(l.local_addr()?.port())
}

/// The fuzzingserver spec: Autobahn's documented keys, failByDrop off as in the server
/// half (autobahn-python 0.10.9's default judging).
fn spec_json(port: u16, outdir: &Path, cases: &[String]) -> String {
    let q = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let cases: Vec<String> = cases.iter().map(|c| q(c)).collect();
    format!(
        "{{\n  \"url\": \"ws://127.0.0.1:{port}\",\n  \"outdir\": {},\n  \
         \"options\": {{\"failByDrop\": false}},\n  \"cases\": [{}],\n  \
         \"exclude-cases\": [],\n  \"exclude-agent-cases\": {{}}\n}}\n",
        q(&outdir.to_string_lossy()),
        cases.join(", ")
    )
}

/// A server process we started (wstest); SIGTERM, then SIGKILL, when dropped.
struct Server {
    child: Child,
}

impl Server {
    fn start_wstest(
        root: &Path,
        python: &Path,
        dir: &Path,
        spec: &Path,
        port: u16,
    ) -> Result<Server> {
        let log = File::create(dir.join("wstest.log")).context("creating wstest.log")?;
        let child = Command::new(python)
            .arg(root.join("scripts/autobahn/fuzzingserver.py"))
            .arg(spec)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", python.display()))?;
        let mut server = Server { child };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + WSTEST_START;
        loop {
            if let Some(status) = server.child.try_wait()? {
                bail!(
                    "wstest -m fuzzingserver ended with {status} before listening (log: {})",
                    dir.join("wstest.log").display()
                );
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(server);
            }
            if Instant::now() > deadline {
                bail!(
                    "wstest -m fuzzingserver did not listen on {addr} within {} s (log: {})",
                    WSTEST_START.as_secs(),
                    dir.join("wstest.log").display()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        stop(&mut self.child, Duration::from_secs(5));
    }
}

/// SIGTERM, wait up to `grace`, then SIGKILL; always reaped.
fn stop(child: &mut Child, grace: Duration) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) on the pid of a child we spawned and have not reaped yet.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Run one client driver against `base` (all cases, then updateReports), bounded.
fn drive(root: &Path, c: &Client, base: &str, log: &Path, timeout: Duration) -> Result<()> {
    let t = Instant::now();
    let file = File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let program = program(root, c);
    let args = c
        .driver
        .iter()
        .map(|a| a.replace("{base}", base).replace("{agent}", c.name));
    let mut child = Command::new(&program)
        .args(args)
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(file.try_clone()?)
        .stderr(file)
        .spawn()
        .with_context(|| format!("starting client {} ({})", c.name, program.display()))?;
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            stop(&mut child, Duration::from_secs(2));
            bail!(
                "client {} did not finish within {} s (log: {})",
                c.name,
                timeout.as_secs(),
                log.display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    if !status.success() {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let last = text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        bail!(
            "client {} ended with {status}: {last} (log: {})",
            c.name,
            log.display()
        );
    }
    println!("  {:<26} {:>7.1} s", c.name, t.elapsed().as_secs_f64());
    Ok(())
}

/// `wsspec serve --exec 'CLIENT --single {url}' --agent NAME` into
/// `dir/wsspec-exec/NAME-exec/`, bounded by `timeout`.
fn serve_exec(
    root: &Path,
    bin: &Path,
    c: &Client,
    dir: &Path,
    cases: &[String],
    timeout: Duration,
) -> Result<()> {
    let name = format!("{}{EXEC}", c.name);
    println!("xtask oracle: wsspec serve --exec ({name}: one client process per case)");
    let t = Instant::now();
    let out = dir.join("wsspec-exec").join(&name);
    let log_path = dir.join(format!("wsspec-{name}.log"));
    let log =
        File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
    // `serve --exec` runs the command through `sh -c` in the project root.
    let mut command = vec![program(root, c).to_string_lossy().into_owned()];
    command.extend(c.single.iter().map(|a| a.to_string()));
    let mut child = Command::new(bin)
        // One client at a time: a case allows the echo 0.5 s, and a fresh interpreter
        // among eight on two busy cores can miss that (6.5.4 did, at the default jobs).
        .args([
            "serve", "--quiet", "--jobs", "1", "--agent", c.name, "--exec",
        ])
        .arg(command.join(" "))
        .arg("--out")
        .arg(&out)
        .arg("--cases")
        .arg(cases.join(","))
        .current_dir(root)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("starting wsspec serve --exec")?;
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            stop(&mut child, Duration::from_secs(5));
            bail!(
                "wsspec serve --exec ({name}) did not finish within {} s (log: {})",
                timeout.as_secs(),
                log_path.display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // 0 all passed, 1 some case failed: both are results; anything else is not.
    if !matches!(status.code(), Some(0 | 1)) {
        bail!(
            "wsspec serve --exec ({name}) ended with {status} (log: {})",
            log_path.display()
        );
    }
    println!("  {:<26} {:>7.1} s", name, t.elapsed().as_secs_f64());
    Ok(())
}

/// Every `index.json` under `dir` (wsspec serve may write one per agent).
fn find_indexes(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let path = e?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n == "index.json") {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Per agent: how many cases got each `behavior/behaviorClose`, and the cases that are
/// not OK/OK. Read through `wsspec diff --porcelain` of the file with itself (every case
/// comes out as one `same` row with its verdicts), so this crate needs no JSON parser.
fn print_verdicts(bin: &Path, index: &Path) -> Result<()> {
    let rows = crate::oracle::diff_porcelain(bin, index, index)?;
    let mut counts: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut not_ok: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in rows.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let [_, agent, id, verdict, _] = f.as_slice() else {
            bail!("unexpected line from wsspec diff --porcelain: {line:?}");
        };
        let mut parts = verdict.split('/');
        let behavior = parts.next().unwrap_or("");
        let close = parts.next().unwrap_or("");
        *counts
            .entry(agent.to_string())
            .or_default()
            .entry(behavior.to_string())
            .or_default() += 1;
        if behavior != "OK" || close != "OK" {
            not_ok
                .entry(agent.to_string())
                .or_default()
                .push(format!("{id} {verdict}"));
        }
    }
    println!("xtask oracle: verdicts under wstest (behavior counts; cases not OK/OK):");
    for (agent, c) in &counts {
        let total: usize = c.values().sum();
        let list: Vec<String> = c.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!("  {agent:<26} {total:>4} cases: {}", list.join(", "));
        for case in not_ok.get(agent).map(Vec::as_slice).unwrap_or_default() {
            println!("      {case}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_names_the_port_outdir_and_cases() {
        let s = spec_json(
            9123,
            Path::new("/tmp/o\"d"),
            &["1.*".into(), "9.1.1".into()],
        );
        assert!(s.contains("\"url\": \"ws://127.0.0.1:9123\""), "{s}");
        assert!(s.contains("\"outdir\": \"/tmp/o\\\"d\""), "{s}");
        assert!(s.contains("\"cases\": [\"1.*\", \"9.1.1\"]"), "{s}");
        assert!(s.contains("\"failByDrop\": false"), "{s}");
    }

    #[test]
    fn finds_every_index_json_below_a_directory() {
        let dir = std::env::temp_dir().join(format!("xtask-find-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("a/autobahn")).unwrap();
        std::fs::create_dir_all(dir.join("b")).unwrap();
        std::fs::write(dir.join("a/autobahn/index.json"), "{}").unwrap();
        std::fs::write(dir.join("b/index.json"), "{}").unwrap();
        std::fs::write(dir.join("b/report.json"), "{}").unwrap();
        let found = find_indexes(&dir).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(
            found,
            vec![dir.join("a/autobahn/index.json"), dir.join("b/index.json")]
        );
        assert!(find_indexes(Path::new("/nonexistent/xtask"))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn client_targets_are_valid_in_the_known_list() {
        let k = crate::oracle::Known::parse(
            "ws-client 9.3.1 reason\nwebsockets-client-deflate 12.1.1 r\n",
            Path::new("k"),
        );
        assert!(k.is_ok());
        assert!(is_client("ws-client") && !is_client("ws"));
        assert!(is_client("websockets-client-deflate-exec") && !is_client("ws-exec"));
        assert!(FAST_CLIENTS.iter().all(|c| is_client(c)));
    }
}
