//! `cargo xtask bench`: how fast and how lean the whole catalogue runs, next to the real
//! Autobahn|Testsuite (`wstest`) on the same target, and the wire layer's criterion
//! benchmarks.
//!
//! The catalogue part runs the release binary over Autobahn's 517 cases (or `--cases`)
//! against each target, once with `--jobs 1` and once with the default concurrency
//! (`--runs N` times each; the median run is reported), and then `wstest -m
//! fuzzingclient` on the same cases and target (`--no-wstest` to leave it out). Per row:
//!
//! * wall time of the tool's process;
//! * the tool's CPU time (user + system) and peak RSS, from `wait4`'s rusage of that
//!   process alone;
//! * the peer's CPU time during the row, from `/proc/PID/stat` (utime + stime) of the
//!   server process before and after.
//!
//! | target       | server                                                                |
//! |--------------|-----------------------------------------------------------------------|
//! | `embedded`   | wsspec's in-process tokio-tungstenite server (`wsspec run` with no URL; its CPU is counted in the harness's); wstest gets `wsspec serve` |
//! | `ws-deflate` | Node `ws` with perMessageDeflate (`scripts/peers/ws_echo.js --deflate`)  |
//! | `tungstenite-client` | the server role: `wsspec serve --listen` and tokio-tungstenite's client through Autobahn's driver protocol (`wsspec-testkit tungstenite --driver`), one case at a time (no wstest row) |
//!
//! The targets of issue 9 are checked and printed: embedded ≤ 3 s wall (default jobs);
//! against ws-deflate the harness is never the bottleneck (harness CPU ≤ 0.5 × the
//! peer's, wall ≤ 1.25 × the peer's CPU); peak RSS ≤ 96 MiB everywhere. The table also
//! goes to `reports/bench/TARGETS.md` (e.g. `embedded+ws-deflate.md`).
//!
//! `--cases small-deflate` is a shortcut for Autobahn's sections 1–7, 9 and 10 plus the
//! 12.x/13.x rows of at most 16 KiB (rows 1–7, 11 and 12): wstest needs about a quarter
//! of an hour for every 12.x/13.x row on ws-deflate.

use anyhow::{bail, Context, Result};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use xshell::{cmd, Shell};

/// Autobahn's sections: the 517 cases.
const ALL: &str = "1.*,2.*,3.*,4.*,5.*,6.*,7.*,9.*,10.*,12.*,13.*";
/// wstest gives up after this long on one target.
const WSTEST_TIMEOUT: Duration = Duration::from_secs(3 * 3600);
/// The targets.
const EMBEDDED_WALL_S: f64 = 3.0;
const CPU_RATIO: f64 = 0.5;
const WALL_RATIO: f64 = 1.25;
const RSS_MIB: f64 = 96.0;

struct Options {
    runs: usize,
    only: Option<String>,
    targets: Vec<String>,
    cases: String,
    wstest: bool,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut o = Options {
        runs: 1,
        only: None,
        targets: vec![
            "embedded".into(),
            "tungstenite-client".into(),
            "ws-deflate".into(),
        ],
        cases: ALL.into(),
        wstest: true,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--runs" => {
                o.runs = it.next().context("--runs needs a number")?.parse()?;
                if o.runs == 0 {
                    bail!("--runs must be at least 1");
                }
            }
            "--only" => {
                let what = it.next().context("--only needs `catalogue` or `wire`")?;
                if what != "catalogue" && what != "wire" {
                    bail!("--only takes `catalogue` or `wire`, not `{what}`");
                }
                o.only = Some(what.clone());
            }
            "--targets" => {
                let v = it.next().context("--targets needs a list")?;
                o.targets = v.split(',').map(str::to_string).collect();
                for t in &o.targets {
                    if !matches!(t.as_str(), "embedded" | "ws-deflate" | "tungstenite-client") {
                        bail!(
                            "unknown bench target `{t}` (embedded, ws-deflate, tungstenite-client)"
                        );
                    }
                }
            }
            "--cases" => {
                let v = it.next().context("--cases needs patterns")?;
                o.cases = if v == "small-deflate" {
                    small_deflate()
                } else {
                    v.clone()
                };
            }
            "--no-wstest" => o.wstest = false,
            other => bail!(
                "unknown bench option `{other}` (--runs N, --only catalogue|wire, \
                 --targets embedded,tungstenite-client,ws-deflate, --cases P,Q|small-deflate, \
                 --no-wstest)"
            ),
        }
    }
    Ok(o)
}

/// Sections 1–7, 9, 10 and the 12.x/13.x rows of at most 16 KiB.
fn small_deflate() -> String {
    let mut v: Vec<String> = [
        "1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "9.*", "10.*",
    ]
    .map(String::from)
    .to_vec();
    let rows = [1, 2, 3, 4, 5, 6, 7, 11, 12];
    for (sec, subs) in [(12, 5), (13, 7)] {
        for sub in 1..=subs {
            for row in rows {
                v.push(format!("{sec}.{sub}.{row}"));
            }
        }
    }
    v.join(",")
}

pub fn run(sh: &Shell, args: &[String]) -> Result<()> {
    let o = parse(args)?;
    if o.only.as_deref() != Some("wire") {
        catalogue(sh, &o)?;
    }
    if o.only.as_deref() != Some("catalogue") {
        println!("wire layer (criterion; reports in target/criterion/)");
        cmd!(sh, "cargo bench -p wsspec --bench wire").run()?;
    }
    Ok(())
}

/// One measured row.
struct Row {
    target: String,
    tool: String,
    wall: f64,
    cpu: f64,
    rss_mib: f64,
    /// The server process's CPU during the row (`None`: in-process).
    peer_cpu: Option<f64>,
    cases: usize,
}

/// Resource use of one finished child process.
struct Usage {
    code: i32,
    wall: f64,
    cpu: f64,
    rss_kib: i64,
}

fn catalogue(sh: &Shell, o: &Options) -> Result<()> {
    cmd!(sh, "cargo build --release --quiet -p wsspec").run()?;
    let root = crate::project_root();
    let bin = release_bin(&root);
    let wstest = root.join(".tools/autobahn/venv/bin/wstest");
    if o.wstest {
        println!("xtask bench: installing wstest (scripts/autobahn/setup.sh)");
        let st = Command::new("bash")
            .arg(root.join("scripts/autobahn/setup.sh"))
            .current_dir(&root)
            .stdin(Stdio::null())
            .status()
            .context("running scripts/autobahn/setup.sh")?;
        if !st.success() || !wstest.is_file() {
            bail!("wstest could not be installed (scripts/autobahn/setup.sh: {st}); --no-wstest runs without it");
        }
    }
    if o.targets.iter().any(|t| t == "ws-deflate") {
        if let Some(why) = crate::gate::install_peers(&root)? {
            bail!("Node ws could not be installed: {why}");
        }
    }
    let count = count_cases(&bin, &o.cases)?;
    let mut rows = Vec::new();
    for target in &o.targets {
        if target == "tungstenite-client" {
            let row = server_role(sh, &root, &bin, &o.cases, count)?;
            print_row(&row);
            rows.push(row);
            continue;
        }
        println!("xtask bench: {target}, {count} cases");
        // The server (for ws-deflate always, for embedded only for wstest).
        let peer = if target == "ws-deflate" {
            Some(
                crate::gate::Running::start(
                    &root,
                    "node",
                    &["scripts/peers/ws_echo.js", "0", "--deflate"],
                )
                .context("starting Node ws with perMessageDeflate")?,
            )
        } else {
            None
        };
        for (name, jobs) in [("wsspec --jobs 1", Some("1")), ("wsspec", None)] {
            let mut runs = Vec::new();
            for _ in 0..o.runs {
                let mut c = Command::new(&bin);
                c.args(["run", "--quiet", "--no-write", "--cases", &o.cases]);
                if let Some(p) = &peer {
                    c.arg(format!("ws://127.0.0.1:{}/", p.port));
                }
                if let Some(j) = jobs {
                    c.args(["--jobs", j]);
                }
                c.stdout(Stdio::null());
                let before = peer.as_ref().map(|p| proc_cpu(p.pid())).transpose()?;
                let u = measure(c, None)?;
                let after = peer.as_ref().map(|p| proc_cpu(p.pid())).transpose()?;
                if u.code > 1 {
                    bail!(
                        "wsspec exited with status {} (run it by hand to see why)",
                        u.code
                    );
                }
                let peer_cpu = before.zip(after).map(|(b, a)| a - b);
                runs.push(Row {
                    target: target.clone(),
                    tool: name.into(),
                    wall: u.wall,
                    cpu: u.cpu,
                    rss_mib: u.rss_kib as f64 / 1024.0,
                    peer_cpu,
                    cases: count,
                });
            }
            runs.sort_by(|a, b| a.wall.total_cmp(&b.wall));
            let median = runs.swap_remove(runs.len() / 2);
            print_row(&median);
            rows.push(median);
        }
        if o.wstest {
            let started;
            let server = match peer {
                Some(p) => p,
                None => {
                    started = crate::gate::Running::start(
                        &root,
                        &bin.to_string_lossy(),
                        &["echo", "--port", "0"],
                    )
                    .context("starting `wsspec echo`")?;
                    started
                }
            };
            let dir = root.join("target/bench-wstest").join(target);
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir)?;
            let spec = dir.join("fuzzingclient.json");
            std::fs::write(&spec, spec_json(&dir, target, server.port, &o.cases))?;
            let mut c = Command::new(&wstest);
            c.current_dir(&dir)
                .args(["-m", "fuzzingclient", "-s"])
                .arg(&spec);
            let log = std::fs::File::create(dir.join("wstest.log"))?;
            c.stdout(log.try_clone()?).stderr(log);
            let before = proc_cpu(server.pid())?;
            let u = measure(c, Some(WSTEST_TIMEOUT))?;
            let after = proc_cpu(server.pid())?;
            if u.code != 0 {
                bail!(
                    "wstest exited with status {} (log: {})",
                    u.code,
                    dir.join("wstest.log").display()
                );
            }
            let row = Row {
                target: target.clone(),
                tool: "wstest".into(),
                wall: u.wall,
                cpu: u.cpu,
                rss_mib: u.rss_kib as f64 / 1024.0,
                peer_cpu: Some(after - before),
                cases: count,
            };
            print_row(&row);
            rows.push(row);
        }
    }
    let report = markdown(&rows, o);
    println!("\n{report}");
    let out = root.join("reports/bench");
    std::fs::create_dir_all(&out)?;
    let name = format!("{}.md", o.targets.join("+"));
    std::fs::write(out.join(&name), &report)?;
    println!("xtask bench: written to reports/bench/{name}");
    Ok(())
}

fn release_bin(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("release/wsspec")
}

/// How many cases the patterns select (`wsspec cases`).
fn count_cases(bin: &Path, cases: &str) -> Result<usize> {
    let out = Command::new(bin)
        .args(["cases", "--cases", cases])
        .output()
        .context("wsspec cases")?;
    if !out.status.success() {
        bail!(
            "wsspec cases --cases {cases}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    // One indented line per case under unindented section headers.
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text
        .lines()
        .filter(|l| l.starts_with("  ") && !l.trim().is_empty())
        .count())
}

fn spec_json(dir: &Path, agent: &str, port: u16, cases: &str) -> String {
    let list: Vec<String> = cases.split(',').map(|c| format!("\"{c}\"")).collect();
    format!(
        "{{\n  \"outdir\": \"{}\",\n  \"options\": {{\"failByDrop\": false}},\n  \"servers\": \
         [{{\"agent\": \"{agent}\", \"url\": \"ws://127.0.0.1:{port}\"}}],\n  \"cases\": [{}],\n  \
         \"exclude-cases\": [],\n  \"exclude-agent-cases\": {{}}\n}}\n",
        dir.join("reports").display(),
        list.join(", ")
    )
}

/// The server role: `wsspec serve --listen` against tokio-tungstenite's client driven
/// through Autobahn's URL protocol (`wsspec-testkit tungstenite --driver`, release),
/// one case after the other as Autobahn's drivers do. Wall time from the start of the
/// driver to its end; the harness's CPU and peak RSS from its rusage (it is stopped
/// with SIGINT after the driver); the driver's CPU as the peer's.
fn server_role(sh: &Shell, root: &Path, bin: &Path, cases: &str, count: usize) -> Result<Row> {
    use std::io::BufRead;
    cmd!(sh, "cargo build --release --quiet -p wsspec-testkit").run()?;
    let driver = bin.with_file_name("wsspec-testkit");
    println!("xtask bench: tungstenite-client (wsspec serve), {count} cases");
    let mut serve = Command::new(bin)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--no-write",
            "-q",
            "--cases",
            cases,
        ])
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting wsspec serve")?;
    let pid = serve.id() as libc::pid_t;
    let mut line = String::new();
    if let Some(out) = serve.stdout.take() {
        std::io::BufReader::new(out).read_line(&mut line)?;
    }
    let Some(url) = line
        .trim()
        .strip_prefix("listening on ")
        .map(str::to_string)
    else {
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        bail!("wsspec serve did not say where it listens (got {line:?})");
    };
    let mut c = Command::new(&driver);
    c.args(["tungstenite", "--driver", &url, "--agent", "tungstenite"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let d = measure(c, Some(Duration::from_secs(600)))?;
    // SAFETY: kill(2) on our own child, not reaped yet.
    unsafe { libc::kill(pid, libc::SIGINT) };
    let mut status = 0;
    // SAFETY: wait4 only writes into the status and rusage we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    if r != pid {
        bail!(
            "wait4 on wsspec serve failed: {}",
            std::io::Error::last_os_error()
        );
    }
    let secs = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    Ok(Row {
        target: "tungstenite-client".into(),
        tool: "wsspec serve".into(),
        wall: d.wall,
        cpu: secs(ru.ru_utime) + secs(ru.ru_stime),
        rss_mib: ru.ru_maxrss as f64 / 1024.0,
        peer_cpu: Some(d.cpu),
        cases: count,
    })
}

/// Run `c` to its end (killing it after `timeout`, if given) and measure it.
fn measure(mut c: Command, timeout: Option<Duration>) -> Result<Usage> {
    c.stdin(Stdio::null());
    let t = Instant::now();
    let child = c.spawn().context("starting the benchmarked process")?;
    let pid = child.id() as libc::pid_t;
    let deadline = timeout.map(|d| t + d);
    loop {
        let mut status = 0;
        // SAFETY: wait4 only writes into the status and rusage we pass.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut ru) };
        if r == pid {
            let code = if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                -1
            };
            let secs = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
            return Ok(Usage {
                code,
                wall: t.elapsed().as_secs_f64(),
                cpu: secs(ru.ru_utime) + secs(ru.ru_stime),
                rss_kib: ru.ru_maxrss,
            });
        }
        if r < 0 {
            bail!("wait4 failed: {}", std::io::Error::last_os_error());
        }
        if deadline.is_some_and(|d| Instant::now() > d) {
            // SAFETY: kill(2) on the pid of our own child, not reaped yet.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
            bail!("the benchmarked process did not finish in time");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// CPU seconds (user + system) a process has used so far, from `/proc/PID/stat`.
fn proc_cpu(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    // The command name may hold spaces: fields count from the last ')'.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .context("malformed /proc/PID/stat")?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After ')': state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let ticks = |i: usize| -> Result<f64> {
        Ok(f.get(i).context("short /proc/PID/stat")?.parse::<u64>()? as f64)
    };
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Ok((ticks(11)? + ticks(12)?) / hz)
}

fn print_row(r: &Row) {
    println!(
        "  {:<11} {:<16} {:>5} cases  wall {:>8.2} s  cpu {:>8.2} s  rss {:>6.1} MiB  peer cpu {}",
        r.target,
        r.tool,
        r.cases,
        r.wall,
        r.cpu,
        r.rss_mib,
        r.peer_cpu
            .map_or("(in-process)".into(), |p| format!("{p:.2} s"))
    );
}

fn markdown(rows: &[Row], o: &Options) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# wsspec benchmark\n\n`cargo xtask bench` (release build; cases `{}`; median of {} run(s) \
         for wsspec, one wstest run). CPU = user + system of the tool's process (wait4); peer CPU \
         from /proc/PID/stat of the server during the row. Against `embedded` wsspec's server runs \
         inside the wsspec process, so its CPU is in wsspec's.\n",
        if o.cases == ALL {
            "all 517 Autobahn cases"
        } else if o.cases == small_deflate() {
            "small-deflate: sections 1-7, 9, 10 and the 12.x/13.x rows up to 16 KiB"
        } else {
            &o.cases
        },
        o.runs
    );
    let _ = writeln!(
        s,
        "| target | tool | cases | wall s | CPU s | peak RSS MiB | peer CPU s |\n|---|---|---|---|---|---|---|"
    );
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.2} | {:.2} | {:.1} | {} |",
            r.target,
            r.tool,
            r.cases,
            r.wall,
            r.cpu,
            r.rss_mib,
            r.peer_cpu
                .map_or("in-process".into(), |p| format!("{p:.2}"))
        );
    }
    let _ = writeln!(s, "\nTargets (issues 9 and 10):\n");
    let mark = |ok: bool| if ok { "met" } else { "MISSED" };
    for r in rows.iter().filter(|r| r.tool.starts_with("wsspec")) {
        if r.target == "embedded" && r.tool == "wsspec" {
            let _ = writeln!(
                s,
                "- embedded, default jobs: wall {:.2} s ≤ {EMBEDDED_WALL_S} s: {}",
                r.wall,
                mark(r.wall <= EMBEDDED_WALL_S)
            );
        }
        if r.target == "tungstenite-client" {
            // Issue 10: the server role takes no more wall time than the client role
            // at the same concurrency (Autobahn's drivers run one case at a time).
            if let Some(c) = rows
                .iter()
                .find(|c| c.target == "embedded" && c.tool == "wsspec --jobs 1")
            {
                let _ = writeln!(
                    s,
                    "- server role (tungstenite's client, one case at a time) wall {:.2} s ≤ \
                     client role `--jobs 1` wall {:.2} s × 1.1: {}",
                    r.wall,
                    c.wall,
                    mark(r.wall <= c.wall * 1.1)
                );
            }
        } else if let Some(p) = r.peer_cpu {
            let _ = writeln!(
                s,
                "- {} `{}`: harness CPU {:.2} s ≤ {CPU_RATIO} × peer CPU {:.2} s: {}; wall {:.2} s ≤ {WALL_RATIO} × peer CPU: {}",
                r.target,
                r.tool,
                r.cpu,
                p,
                mark(r.cpu <= CPU_RATIO * p),
                r.wall,
                mark(r.wall <= WALL_RATIO * p)
            );
        }
        let _ = writeln!(
            s,
            "- {} `{}`: peak RSS {:.1} MiB ≤ {RSS_MIB} MiB: {}",
            r.target,
            r.tool,
            r.rss_mib,
            mark(r.rss_mib <= RSS_MIB)
        );
    }
    s
}
