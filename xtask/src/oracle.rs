//! `cargo xtask oracle`: the real Autobahn|Testsuite as a differential oracle.
//!
//! Installs `wstest` (`scripts/autobahn/setup.sh`: autobahntestsuite 25.10.1 on
//! autobahn-python 0.10.9) and the real peers (`scripts/peers/setup.sh`), starts the
//! targets, writes one `fuzzingclient.json` naming them all into a temporary directory,
//! and runs both `wstest -m fuzzingclient` and `wsspec run --config` on it. The two
//! Autobahn-format `index.json` files are then compared by `wsspec diff --common
//! --porcelain` (behavior, behaviorClose and remoteCloseCode, case for case, on the
//! cases both tools produced: sections wsspec cannot play yet are left out, and the
//! number compared is printed per target).
//!
//! | target               | server                                            |
//! |----------------------|---------------------------------------------------|
//! | `embedded`           | `wsspec echo` (tokio-tungstenite echo server)    |
//! | `websockets`         | Python `websockets`, no compression               |
//! | `websockets-deflate` | the same with permessage-deflate                  |
//! | `ws`                 | Node `ws`, no compression                         |
//! | `ws-deflate`         | the same with permessage-deflate                  |
//! | `fault-NAME`         | `wsspec-testkit server --fault NAME`, one per fault |
//!
//! By default every target runs, on the Autobahn sections of which wsspec plays at
//! least one case (`--cases` to choose; wstest alone needs about 15 minutes for all
//! targets, most of it on the faults whose servers never close).
//!
//! Every difference must be listed, with a reason, in
//! `reports/oracle/known-differences.txt` (`TARGET CASE REASON…`, `*` for every target,
//! `#` comments); an unlisted difference fails the task, and so does a listed one that
//! was compared and no longer differs (stale: delete the line), unless its reason starts
//! with `timing:` (a verdict that depends on timing, which may agree on some runs).
//!
//! `--fast` (what `cargo xtask ci` runs): the embedded server only, sections 1–7 and 10
//! (about 10 s of wstest). A tool or peer that cannot be installed or started fails the
//! task when `CI` is set; otherwise it is skipped with a loud `SKIPPED` line on stderr.
//!
//! `--clients` runs the client half instead (`oracle_clients.rs`): real client drivers
//! against `wstest -m fuzzingserver` and `wsspec serve`, judged with the same list.

use crate::gate::{self, Running};
use crate::oracle_clients;
use anyhow::{bail, Context, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use xshell::{cmd, Shell};

/// The allow-list of known differences, relative to the project root.
pub(crate) const KNOWN: &str = "reports/oracle/known-differences.txt";

/// Autobahn's sections (what both tools are asked to run by default).
const ALL_SECTIONS: &[&str] = &[
    "1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "9.*", "10.*", "12.*", "13.*",
];
/// What `--fast` runs.
const FAST_SECTIONS: &[&str] = &["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "10.*"];

/// One target: its name (the agent name in both reports) and how to start it.
struct Target {
    name: String,
    /// Which installed peer it needs (`None`: a server of the wsspec binary).
    peer: Option<&'static str>,
    /// Program (empty: the wsspec binary; [`TESTKIT`]: the test fixtures' binary) and
    /// its arguments.
    program: &'static str,
    args: Vec<String>,
}

/// The real peers: (target, peer, program, arguments).
const PEERS: [(&str, &str, &str, &[&str]); 4] = [
    (
        "websockets",
        "websockets",
        "scripts/peers/.venv/bin/python",
        &["scripts/peers/websockets_echo.py", "0"],
    ),
    (
        "websockets-deflate",
        "websockets",
        "scripts/peers/.venv/bin/python",
        &["scripts/peers/websockets_echo.py", "0", "--deflate"],
    ),
    ("ws", "ws", "node", &["scripts/peers/ws_echo.js", "0"]),
    (
        "ws-deflate",
        "ws",
        "node",
        &["scripts/peers/ws_echo.js", "0", "--deflate"],
    ),
];

/// wsspec's fault-injected servers (`wsspec-testkit server --fault NAME`), `fault-NAME`:
/// each breaks one rule, so the two tools must agree on how a broken server is judged.
/// (`CrashOnPattern` is left out: it is a planted bug for the network fuzzer.)
const FAULTS: [&str; 15] = [
    "None",
    "AcceptUnmasked",
    "IgnoreRsv",
    "AcceptReservedOpcodes",
    "AcceptFragmentedControl",
    "AcceptLongControl",
    "NoUtf8Validation",
    "Utf8AtMessageEnd",
    "EchoAnyCloseCode",
    "NeverAnswerClose",
    "InvalidCloseReply",
    "NoPong",
    "LoseFragment",
    "AcceptBadContinuation",
    "KeepTcpAfterClose",
];

/// `Target::program` of the fault servers: the `wsspec-testkit` binary.
const TESTKIT: &str = "wsspec-testkit";

/// Every target, in the order they run.
fn all_targets() -> Vec<Target> {
    let mut v = vec![Target {
        name: "embedded".into(),
        peer: None,
        program: "",
        args: ["echo", "--port", "0"].map(String::from).to_vec(),
    }];
    for (name, peer, program, args) in PEERS {
        v.push(Target {
            name: name.into(),
            peer: Some(peer),
            program,
            args: args.iter().map(|a| a.to_string()).collect(),
        });
    }
    for f in FAULTS {
        v.push(Target {
            name: format!("fault-{f}"),
            peer: None,
            program: TESTKIT,
            args: ["server", "--port", "0", "--fault", f]
                .map(String::from)
                .to_vec(),
        });
    }
    v
}

pub(crate) struct Options {
    fast: bool,
    /// The client half (`oracle_clients.rs`) instead of the server half.
    clients: bool,
    /// Client half: run only the wstest side.
    pub(crate) wstest_only: bool,
    pub(crate) targets: Vec<String>,
    pub(crate) cases: Vec<String>,
    pub(crate) keep: bool,
    /// Compare the reports of an earlier run (its directory) instead of running.
    rejudge: Option<String>,
    /// For each wstest run (client half: each client driver, on each side).
    pub(crate) wstest_timeout: Duration,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut o = Options {
        fast: false,
        clients: false,
        wstest_only: false,
        targets: Vec::new(),
        cases: Vec::new(),
        keep: false,
        rejudge: None,
        wstest_timeout: Duration::from_secs(0),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--fast" => o.fast = true,
            "--clients" => o.clients = true,
            "--wstest-only" => o.wstest_only = true,
            "--keep" => o.keep = true,
            "--rejudge" => {
                o.rejudge = Some(it.next().context("--rejudge needs a directory")?.clone());
            }
            "--targets" => {
                let v = it
                    .next()
                    .context("--targets needs a comma-separated list")?;
                o.targets = v.split(',').map(str::to_string).collect();
            }
            "-c" | "--cases" => {
                let v = it.next().context("--cases needs patterns")?;
                o.cases.extend(v.split(',').map(str::to_string));
            }
            "--wstest-timeout" => {
                let v = it.next().context("--wstest-timeout needs seconds")?;
                o.wstest_timeout = Duration::from_secs(v.parse().context("--wstest-timeout")?);
            }
            other => bail!(
                "unknown oracle option `{other}` (use --fast, --clients, --wstest-only, \
                 --targets A,B, --cases P,Q, --wstest-timeout SECS, --keep, --rejudge DIR)"
            ),
        }
    }
    if o.wstest_only && !o.clients {
        bail!("--wstest-only goes with --clients");
    }
    let names: Vec<String> = if o.clients {
        oracle_clients::target_names()
    } else {
        all_targets().into_iter().map(|k| k.name).collect()
    };
    for t in &o.targets {
        if !names.contains(t) {
            bail!("unknown target `{t}` (targets: {})", names.join(", "));
        }
    }
    if o.targets.is_empty() {
        o.targets = match (o.fast, o.clients) {
            (true, false) => vec!["embedded".into()],
            (true, true) => oracle_clients::FAST_CLIENTS.map(String::from).to_vec(),
            (false, _) => names,
        };
    }
    if o.cases.is_empty() && o.fast {
        o.cases = FAST_SECTIONS.iter().map(|s| s.to_string()).collect();
    }
    if o.wstest_timeout.is_zero() {
        o.wstest_timeout = Duration::from_secs(if o.fast { 180 } else { 3 * 3600 });
    }
    Ok(o)
}

/// Something that is not there: a failure in CI, a loud skip elsewhere.
pub(crate) fn missing(what: &str) -> Result<()> {
    if std::env::var_os("CI").is_some() {
        bail!("{what} (CI is set: a missing dependency is a failure)");
    }
    eprintln!("\n!!!!!!!! SKIPPED (not a pass): {what}\n");
    Ok(())
}

pub fn run(sh: &Shell, args: &[String]) -> Result<()> {
    let o = parse(args)?;
    let root = crate::project_root();
    let started = Instant::now();
    if let Some(dir) = &o.rejudge {
        cmd!(sh, "cargo build --quiet -p wsspec").run()?;
        let dir = Path::new(dir);
        println!("xtask oracle: comparing the reports in {}", dir.display());
        if o.clients {
            return oracle_clients::compare(&gate::wsspec_bin(&root), &root, dir)?;
        }
        return compare(&gate::wsspec_bin(&root), &root, dir)?;
    }

    // wstest.
    println!("xtask oracle: installing wstest (scripts/autobahn/setup.sh)");
    let out = Command::new("bash")
        .arg(root.join("scripts/autobahn/setup.sh"))
        .current_dir(&root)
        .stdin(Stdio::null())
        .output()
        .context("running scripts/autobahn/setup.sh")?;
    print!("{}", String::from_utf8_lossy(&out.stdout));
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let why = err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        return missing(&format!(
            "the Autobahn oracle: setup.sh exited with {}: {why}",
            out.status
        ));
    }
    let wstest = root.join(".tools/autobahn/venv/bin/wstest");
    if o.clients {
        return oracle_clients::run(sh, &o, &root.join(".tools/autobahn/venv/bin/python"));
    }

    cmd!(sh, "cargo build --quiet -p wsspec -p wsspec-testkit").run()?;
    let bin = gate::wsspec_bin(&root);
    let mut o = o;
    if o.cases.is_empty() {
        o.cases = sections_wsspec_plays(&bin)?;
    }

    // The peers, when a target needs one.
    let all = all_targets();
    let wanted: Vec<&Target> = all.iter().filter(|t| o.targets.contains(&t.name)).collect();
    let setup_problem = if wanted.iter().any(|t| t.peer.is_some()) {
        gate::install_peers(&root)?
    } else {
        None
    };

    // Start the targets.
    let mut running: Vec<(&Target, Running)> = Vec::new();
    for t in &wanted {
        if let Some(peer) = t.peer {
            if let Some(why) = gate::unavailable(&root, peer, setup_problem.as_deref()) {
                missing(&format!("oracle target {}: {why}", t.name))?;
                continue;
            }
        }
        let program = if t.program.is_empty() {
            bin.to_string_lossy().into_owned()
        } else if t.program == TESTKIT {
            gate::testkit_bin(&root).to_string_lossy().into_owned()
        } else {
            t.program.to_string()
        };
        let args: Vec<&str> = t.args.iter().map(String::as_str).collect();
        match Running::start(&root, &program, &args) {
            Ok(r) => running.push((t, r)),
            Err(e) => missing(&format!(
                "oracle target {}: could not start it: {e:#}",
                t.name
            ))?,
        }
    }
    if running.is_empty() {
        return missing("the Autobahn oracle: no target could be started");
    }

    // One spec for both tools.
    let dir = std::env::temp_dir().join(format!("wsspec-oracle-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let spec = dir.join("fuzzingclient.json");
    std::fs::write(&spec, spec_json(&dir, &running, &o.cases))
        .with_context(|| format!("writing {}", spec.display()))?;

    println!(
        "xtask oracle: wstest -m fuzzingclient on {} target(s), cases {}",
        running.len(),
        o.cases.join(",")
    );
    let t = Instant::now();
    run_wstest(&wstest, &dir, &spec, o.wstest_timeout)?;
    let wstest_secs = t.elapsed().as_secs_f64();

    println!("xtask oracle: wsspec run --config (same spec)");
    let t = Instant::now();
    let status = Command::new(&bin)
        .current_dir(&dir)
        .args(["run", "--quiet", "--config"])
        .arg(&spec)
        .arg("--out")
        .arg(dir.join("wsspec"))
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .status()
        .context("running wsspec run")?;
    let wsspec_secs = t.elapsed().as_secs_f64();
    if !matches!(status.code(), Some(0 | 1)) {
        bail!("wsspec run ended with {status} (see above)");
    }
    drop(running);

    let verdict = compare(&bin, &root, &dir)?;
    println!(
        "\nxtask oracle: wstest {wstest_secs:.1} s, wsspec {wsspec_secs:.1} s, \
         {:.1} s in all; reports in {}",
        started.elapsed().as_secs_f64(),
        dir.display()
    );
    if let Err(e) = verdict {
        println!(
            "xtask oracle: kept {} for a look (--rejudge DIR compares it again)",
            dir.display()
        );
        return Err(e);
    }
    if !o.keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

/// `wsspec diff --common --porcelain` of the two reports in `dir`, judged against the
/// allow-list; the outer error is a harness problem, the inner one the oracle's verdict.
fn compare(bin: &Path, root: &Path, dir: &Path) -> Result<Result<()>> {
    let diffs = diff_porcelain(
        bin,
        &dir.join("wstest/index.json"),
        &dir.join("wsspec/autobahn/index.json"),
    )?;
    let known = Known::read(&root.join(KNOWN))?;
    judge(&diffs, &known)
}

/// `wsspec diff --common --porcelain OLD NEW`: one `KIND AGENT ID OLD NEW` row per case
/// both files hold.
pub(crate) fn diff_porcelain(bin: &Path, old: &Path, new: &Path) -> Result<String> {
    let out = Command::new(bin)
        .args(["diff", "--common", "--porcelain"])
        .arg(old)
        .arg(new)
        .env("NO_COLOR", "1")
        .output()
        .context("running wsspec diff")?;
    if !matches!(out.status.code(), Some(0 | 1)) {
        bail!(
            "wsspec diff ended with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    String::from_utf8(out.stdout).context("wsspec diff output")
}

/// Autobahn's sections of which wsspec plays at least one case (running wstest on the
/// others would only cost time: they are not compared).
pub(crate) fn sections_wsspec_plays(bin: &Path) -> Result<Vec<String>> {
    let out = Command::new(bin)
        .arg("cases")
        .env("NO_COLOR", "1")
        .output()
        .context("running wsspec cases")?;
    if !out.status.success() {
        bail!("wsspec cases ended with {}", out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let played: BTreeSet<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|id| !id.contains('/'))
        .filter_map(|id| id.split('.').next())
        .collect();
    let sections: Vec<String> = ALL_SECTIONS
        .iter()
        .filter(|p| played.contains(p.trim_end_matches(".*")))
        .map(|p| p.to_string())
        .collect();
    let skipped: Vec<&str> = ALL_SECTIONS
        .iter()
        .filter(|p| !sections.iter().any(|s| s == *p))
        .copied()
        .collect();
    if !skipped.is_empty() {
        println!(
            "xtask oracle: wsspec plays no case of {} yet: not run",
            skipped.join(", ")
        );
    }
    Ok(sections)
}

/// The fuzzingclient spec: every running target as one server.
fn spec_json(dir: &Path, running: &[(&Target, Running)], cases: &[String]) -> String {
    let q = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let servers: Vec<String> = running
        .iter()
        .map(|(t, r)| {
            format!(
                "    {{\"agent\": {}, \"url\": \"ws://127.0.0.1:{}\"}}",
                q(&t.name),
                r.port
            )
        })
        .collect();
    let cases: Vec<String> = cases.iter().map(|c| q(c)).collect();
    format!(
        "{{\n  \"outdir\": {},\n  \"options\": {{\"failByDrop\": false}},\n  \"servers\": [\n{}\n  ],\n  \
         \"cases\": [{}],\n  \"exclude-cases\": [],\n  \"exclude-agent-cases\": {{}}\n}}\n",
        q(&dir.join("wstest").to_string_lossy()),
        servers.join(",\n"),
        cases.join(", ")
    )
}

/// Run wstest in `dir` (its log goes to `dir/wstest.log`), bounded by `timeout`.
fn run_wstest(wstest: &Path, dir: &Path, spec: &Path, timeout: Duration) -> Result<()> {
    let log = std::fs::File::create(dir.join("wstest.log")).context("creating wstest.log")?;
    let mut child = Command::new(wstest)
        .current_dir(dir)
        .args(["-m", "fuzzingclient", "-s"])
        .arg(spec)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {}", wstest.display()))?;
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            if !status.success() {
                bail!(
                    "wstest ended with {status} (log: {})",
                    dir.join("wstest.log").display()
                );
            }
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "wstest did not finish within {} s (log: {})",
                timeout.as_secs(),
                dir.join("wstest.log").display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if !dir.join("wstest/index.json").is_file() {
        bail!("wstest finished but wrote no wstest/index.json");
    }
    Ok(())
}

/// (target or `*`, case id).
type Key = (String, String);

/// The allow-list: key → (reason, line number).
pub(crate) struct Known {
    entries: BTreeMap<Key, (String, usize)>,
}

impl Known {
    pub(crate) fn read(path: &Path) -> Result<Known> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        Known::parse(&text, path)
    }

    pub(crate) fn parse(text: &str, path: &Path) -> Result<Known> {
        let mut entries = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.splitn(3, char::is_whitespace);
            let target = parts.next().unwrap_or("");
            let case = parts.next().unwrap_or("");
            let reason = parts.next().unwrap_or("").trim();
            if case.is_empty() || reason.is_empty() {
                bail!(
                    "{}:{}: expected `TARGET CASE REASON…` (a reason is required)",
                    path.display(),
                    i + 1
                );
            }
            if target != "*"
                && !all_targets().iter().any(|t| t.name == target)
                && !oracle_clients::is_client(target)
            {
                bail!("{}:{}: unknown target `{target}`", path.display(), i + 1);
            }
            let key = (target.to_string(), case.to_string());
            if entries.insert(key, (reason.to_string(), i + 1)).is_some() {
                bail!("{}:{}: listed twice", path.display(), i + 1);
            }
        }
        Ok(Known { entries })
    }

    /// The entry covering `case` on `target`, if any.
    fn find(&self, target: &str, case: &str) -> Option<(&Key, &(String, usize))> {
        self.entries
            .get_key_value(&(target.to_string(), case.to_string()))
            .or_else(|| {
                self.entries
                    .get_key_value(&("*".to_string(), case.to_string()))
            })
    }
}

/// One compared case, from `wsspec diff --porcelain`.
struct Compared {
    agent: String,
    id: String,
    wstest: String,
    wsspec: String,
    differs: bool,
}

/// Print the comparison; the outer error is a harness problem, the inner one the
/// oracle's verdict (unlisted differences or stale entries).
pub(crate) fn judge(porcelain: &str, known: &Known) -> Result<Result<()>> {
    let mut rows = Vec::new();
    for line in porcelain.lines() {
        match line.split('\t').collect::<Vec<_>>().as_slice() {
            [kind, agent, id, old, new] => rows.push(Compared {
                agent: agent.to_string(),
                id: id.to_string(),
                wstest: old.to_string(),
                wsspec: new.to_string(),
                differs: *kind != "same",
            }),
            _ => bail!("unexpected line from wsspec diff --porcelain: {line:?}"),
        }
    }
    let agents: Vec<&str> = rows
        .iter()
        .map(|r| r.agent.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut used = BTreeSet::new();
    let mut unlisted = 0;
    println!(
        "\nxtask oracle: wstest vs wsspec, case for case (behavior/behaviorClose/remoteCloseCode):"
    );
    for agent in &agents {
        let mine: Vec<&Compared> = rows.iter().filter(|r| r.agent == *agent).collect();
        let diffs: Vec<&&Compared> = mine.iter().filter(|r| r.differs).collect();
        println!(
            "  {agent:<19} {:>4} cases compared, {} difference(s)",
            mine.len(),
            diffs.len()
        );
        for d in diffs {
            let what = match known.find(agent, &d.id) {
                Some((key, (reason, line))) => {
                    used.insert(key.clone());
                    format!("listed ({KNOWN}:{line}): {reason}")
                }
                None => {
                    unlisted += 1;
                    "NOT LISTED".to_string()
                }
            };
            println!(
                "      {:<8} wstest {:<26} wsspec {:<26} {what}",
                d.id, d.wstest, d.wsspec
            );
        }
    }
    // Stale: listed, compared in this run, and no longer different. Entries whose
    // reason starts with `timing:` may differ on one run and not on the next: for them
    // this is only a note.
    let mut stale = Vec::new();
    let mut agreed_this_time = Vec::new();
    for ((target, case), (reason, line)) in &known.entries {
        let key = (target.clone(), case.clone());
        let compared = rows
            .iter()
            .any(|r| &r.id == case && (target == "*" || &r.agent == target));
        if compared && !used.contains(&key) {
            let entry = format!("{KNOWN}:{line}: {target} {case}");
            if reason.starts_with("timing:") {
                agreed_this_time.push(entry);
            } else {
                stale.push(entry);
            }
        }
    }
    if !agreed_this_time.is_empty() {
        println!("  timing-dependent entries that agreed this time (kept):");
        for s in &agreed_this_time {
            println!("    {s}");
        }
    }
    if !stale.is_empty() {
        println!("  stale entries (compared, no longer different: delete them):");
        for s in &stale {
            println!("    {s}");
        }
    }
    let differing = rows.iter().filter(|r| r.differs).count();
    println!(
        "xtask oracle: {} cases compared on {} target(s): {differing} difference(s), \
         {unlisted} not listed, {} stale",
        rows.len(),
        agents.len(),
        stale.len()
    );
    if rows.is_empty() {
        return Ok(Err(anyhow::anyhow!(
            "no case was produced by both wstest and wsspec"
        )));
    }
    if unlisted > 0 || !stale.is_empty() {
        return Ok(Err(anyhow::anyhow!(
            "the oracle found {unlisted} unlisted difference(s) and {} stale entr{} in {KNOWN}",
            stale.len(),
            if stale.len() == 1 { "y" } else { "ies" }
        )));
    }
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlisted_listed_and_stale() {
        let known = Known::parse(
            "# comment\nembedded 2.5 tester records the oversize pong\n* 7.1.1 reason\nws 3.1 gone\n",
            Path::new("k.txt"),
        )
        .unwrap();
        let porcelain = "same\tembedded\t1.1.1\tOK/OK/1000\tOK/OK/1000\n\
                         changed\tembedded\t2.5\tFAILED/FAILED/-\tOK/FAILED/-\n\
                         changed\tembedded\t7.1.1\tOK/UNCLEAN/1005\tOK/OK/1000\n\
                         changed\tembedded\t7.1.2\tOK/UNCLEAN/1005\tOK/OK/1000\n";
        let v = judge(porcelain, &known).unwrap();
        let msg = v.unwrap_err().to_string();
        assert!(
            msg.contains("1 unlisted difference(s) and 0 stale"),
            "{msg}"
        );

        let porcelain = "same\tembedded\t2.5\tOK/OK/1000\tOK/OK/1000\n\
                         same\tembedded\t7.1.1\tOK/OK/1000\tOK/OK/1000\n";
        let msg = judge(porcelain, &known).unwrap().unwrap_err().to_string();
        assert!(
            msg.contains("0 unlisted difference(s) and 2 stale"),
            "{msg}"
        );
        let timing = Known::parse("embedded 4.1.5 timing: pacing\n", Path::new("k")).unwrap();
        let porcelain = "same\tembedded\t4.1.5\tOK/OK/1002\tOK/OK/1002\n";
        judge(porcelain, &timing).unwrap().unwrap();
        // ws 3.1 was not compared (ws did not run): not stale.
        let porcelain = "changed\tembedded\t2.5\tFAILED/FAILED/-\tOK/FAILED/-\n\
                         changed\tws\t7.1.1\tOK/UNCLEAN/1005\tOK/OK/1000\n";
        judge(porcelain, &known).unwrap().unwrap();
        assert!(judge("", &known).unwrap().is_err(), "nothing compared");
        assert!(
            Known::parse("ws 2.5\n", Path::new("k")).is_err(),
            "no reason"
        );
        assert!(
            Known::parse("nope 2.5 r\n", Path::new("k")).is_err(),
            "bad target"
        );
    }
}
