//! `wsspec serve`: wsspec plays the server and tests WebSocket clients, either waiting
//! for Autobahn client drivers (`--listen`, see [`crate::drive::fuzzingserver`]) or
//! starting a client per case (`--exec`, see [`crate::drive::exec`]). Reports, the
//! known-failing gate and exit codes are the same as `wsspec run`.

use super::Selection;
use crate::case::Case;
use crate::drive::exec::{self, ExecOptions};
use crate::drive::fuzzingserver::{FuzzingServer, Options};
use crate::engine::conn::Settings;
use crate::error::Error;
use crate::gate;
use crate::report::model::{AgentReport, CaseResult, RunReport, SCHEMA_VERSION};
use crate::rules::Role;
use crate::runner;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const DEFAULT_OUT: &str = "reports/clients";

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Listen here for Autobahn client drivers (only 127.0.0.1 or another local
    /// address you choose; port 0 picks a free one). The first line on stdout is
    /// `listening on ws://HOST:PORT`. Drivers use Autobahn's URL protocol:
    /// /getCaseCount, /runCase?case=N&agent=A (N counts from 1 in the selection),
    /// /getCaseStatus, /getCaseInfo, /updateReports?agent=A (writes the reports;
    /// add &shutdownOnComplete=true to stop afterwards) and /stopServer.
    /// Default: 127.0.0.1:9001, or the `url` of a --config spec.
    #[arg(long, value_name = "ADDR", conflicts_with = "exec")]
    pub listen: Option<String>,
    /// Read an Autobahn fuzzingserver.json: its `url` is where to listen (unless
    /// --listen), `cases`, `exclude-cases`, `exclude-agent-cases` and `outdir` apply
    /// as with `run --config` (--cases replaces the spec's cases, --exclude adds,
    /// --out overrides).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Instead of waiting for a driver, start this client command for every case, with
    /// `{url}` replaced by the case's URL (shell-quoted), e.g.
    /// `--exec 'python3 client.py {url}'`. The client must connect within --timeout
    /// and echo every message; its exit status is noted, not trusted; its process
    /// group is stopped after the case.
    #[arg(long, value_name = "CMD")]
    pub exec: Option<String>,
    #[command(flatten)]
    pub select: Selection,
    /// Agent name for --exec reports (default: the command's program name).
    #[arg(long, value_name = "NAME")]
    pub agent: Option<String>,
    /// Seconds a client has to connect (--exec) and to send its opening request.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub timeout: f64,
    /// Clients run at the same time with --exec, each case on its own port. More
    /// than 1 is faster only with clients that start quickly, and timing-sensitive
    /// cases (0.5 s timers) may then see a loaded machine instead of the client.
    #[arg(long, short = 'j', value_name = "N", default_value_t = exec_jobs())]
    pub jobs: usize,
    /// Directory for the reports (one agent per client name), as with `wsspec run`.
    /// Default: reports/clients, or the `outdir` of a --config spec.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Do not write report files, only print.
    #[arg(long)]
    pub no_write: bool,
    /// Failures that do not fail the run (as with `wsspec run`).
    #[arg(long, value_delimiter = ',', value_name = "FILE|PATTERN")]
    pub known_failing: Vec<String>,
    /// Cases that never fail the run, pass or fail (as with `wsspec run`).
    #[arg(long, value_delimiter = ',', value_name = "FILE|PATTERN")]
    pub known_flaky: Vec<String>,
    /// Count NON-STRICT verdicts as failures for the exit status.
    #[arg(long)]
    pub strict: bool,
    /// Only the final report, no progress lines.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// One client at a time: clients are whole processes (an interpreter starting up
/// next to a case under way can delay that case's echo past a 0.5 s timer, a false
/// FAILED), and one at a time was also faster for Python and Node clients here.
fn exec_jobs() -> usize {
    1
}

pub(crate) async fn serve(a: ServeArgs) -> Result<ExitCode, Error> {
    if !(a.timeout > 0.0 && a.timeout <= 3600.0) {
        return Err(Error::Usage(format!(
            "--timeout {} is out of range (0 < SECS ≤ 3600)",
            a.timeout
        )));
    }
    if a.jobs == 0 {
        return Err(Error::Usage("--jobs must be at least 1".into()));
    }
    let known_failing = gate::load(&a.known_failing, "--known-failing")?;
    let known_flaky = gate::load(&a.known_flaky, "--known-flaky")?;
    let spec = a
        .config
        .as_deref()
        .map(crate::config::load_server_spec)
        .transpose()?;
    let selection = match &spec {
        Some((c, _)) => {
            for n in &c.notes {
                eprintln!("wsspec: note: {n}");
            }
            super::run::spec_selection(c, &a.select)?
        }
        None => a.select.clone(),
    };
    let out = a
        .out
        .clone()
        .or_else(|| spec.as_ref().and_then(|(c, _)| c.outdir.clone()))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_OUT));
    let mut selection = selection;
    selection.skip_dirs.push(out.clone());
    let cases = super::load_selection_for(&selection, Role::Server, a.quiet)?;
    let listen = a
        .listen
        .clone()
        .or_else(|| spec.as_ref().map(|(_, l)| l.clone()))
        .unwrap_or_else(|| "127.0.0.1:9001".to_string());
    let config = spec.map(|(c, _)| c);
    let settings = Settings {
        open_handshake_timeout: Duration::from_secs_f64(a.timeout),
        ..Settings::default()
    };
    let started = crate::engine::utc_now();
    let t0 = Instant::now();
    let mut report = match &a.exec {
        Some(cmd) => run_exec(&a, cmd, &cases, settings, config.as_ref()).await?,
        None => run_listen(&a, &listen, &out, cases, settings, config).await?,
    };
    report.started = started;
    report.duration_ms = t0.elapsed().as_millis() as u64;
    report.strict = a.strict;
    if report.agents.iter().all(|ag| ag.results.is_empty()) {
        return Err(Error::Target(
            "no client ran a case: nothing to report (a driver connects to /runCase?case=N&agent=A)"
                .into(),
        ));
    }
    let outcome = super::run::report_and_gate(
        &report,
        (!a.no_write).then_some(out.as_path()),
        &known_failing,
        &known_flaky,
    )?;
    Ok(ExitCode::from(outcome.exit_code))
}

async fn run_listen(
    a: &ServeArgs,
    listen: &str,
    out: &std::path::Path,
    cases: Vec<Case>,
    settings: Settings,
    config: Option<crate::config::Config>,
) -> Result<RunReport, Error> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| Error::Io(format!("cannot listen on {listen}: {e}")))?;
    let quiet = a.quiet;
    let count = cases.len();
    let server = FuzzingServer::new(
        listener,
        Options {
            cases,
            settings,
            out: (!a.no_write).then(|| out.to_path_buf()),
            excluded: config.map(|c| {
                Box::new(move |agent: &str, id: &str| c.excluded_for(agent, id))
                    as crate::drive::fuzzingserver::Excluded
            }),
            status_wait: Duration::from_secs(600),
        },
        Box::new(move |agent: &str, r: &CaseResult| {
            if !quiet {
                eprintln!(
                    "wsspec: {agent}: case {} {}: {} / {}",
                    r.index, r.id, r.behavior, r.behavior_close
                );
            }
        }),
    )
    .map_err(|e| Error::Io(format!("cannot listen on {listen}: {e}")))?;
    println!("listening on {}", server.url());
    if !a.quiet {
        eprintln!(
            "wsspec: serving {count} cases to client drivers; stop with /stopServer, \
             /updateReports?agent=A&shutdownOnComplete=true or Ctrl-C"
        );
    }
    // Ctrl-C and SIGTERM end the run the way /stopServer does: reports are written.
    let stop = server.stopper();
    tokio::spawn(async move {
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
        let _ = stop.send(true);
    });
    Ok(server.run().await)
}

async fn run_exec(
    a: &ServeArgs,
    cmd: &str,
    cases: &[Case],
    settings: Settings,
    config: Option<&crate::config::Config>,
) -> Result<RunReport, Error> {
    if !cmd.contains("{url}") {
        return Err(Error::Usage(
            "--exec needs `{url}` in the command line, where wsspec puts the case's URL".into(),
        ));
    }
    crate::spawn::kill_all_on_interrupt();
    let agent = a.agent.clone().unwrap_or_else(|| program_name(cmd));
    let opts = ExecOptions {
        command: cmd.to_string(),
        agent: agent.clone(),
        settings,
        connect_timeout: Duration::from_secs_f64(a.timeout),
    };
    let refs: Vec<&Case> = cases
        .iter()
        .filter(|c| !config.is_some_and(|cfg| cfg.excluded_for(&agent, &c.id)))
        .collect();
    let number = |c: &Case| cases.iter().position(|x| x.id == c.id).map_or(0, |i| i + 1);
    if !a.quiet {
        eprintln!(
            "wsspec: testing the client `{cmd}` ({agent}) on {} cases, {} at a time",
            cases.len(),
            a.jobs
        );
    }
    let quiet = a.quiet;
    let done = std::sync::atomic::AtomicUsize::new(0);
    let total = cases.len();
    let mut results = runner::schedule(
        &refs,
        a.jobs,
        |case| exec::run_one(&opts, case, number(case)),
        |r| {
            let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            if quiet {
                return;
            }
            if super::is_failure(r, false) {
                eprintln!(
                    "  {} {}: {} / {}",
                    r.overall(),
                    r.id,
                    r.behavior,
                    r.behavior_close
                );
            }
            let step = (total / 10).max(1);
            if n.is_multiple_of(step) || n == total {
                eprintln!("wsspec: {n}/{total} cases done");
            }
        },
    )
    .await;
    crate::drive::check_fresh_keys(&mut results);
    Ok(RunReport {
        schema: SCHEMA_VERSION,
        tool: format!("wsspec {}", env!("CARGO_PKG_VERSION")),
        started: String::new(),
        duration_ms: 0,
        strict: a.strict,
        agents: vec![AgentReport {
            agent,
            url: format!("client command: {cmd}"),
            results,
            role: Role::Server,
        }],
    })
}

/// `python3` for `python3 client.py {url}`, `client` for `./bin/client {url}`.
fn program_name(cmd: &str) -> String {
    let first = cmd.split_whitespace().next().unwrap_or("client");
    let base = first.rsplit('/').next().unwrap_or(first);
    if base.is_empty() {
        "client".into()
    } else {
        base.to_string()
    }
}
