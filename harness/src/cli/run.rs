//! `wsspec run`: pick the targets (a URL, the embedded server, or the servers of an
//! Autobahn `fuzzingclient.json`), run the selection (or one `--partition` of it),
//! report, and gate the exit code on the known-failing and known-flaky lists
//! (see [`crate::gate`]).

use super::Selection;
use crate::case::select::Partition;
use crate::case::Case;
use crate::config::{self, Config};
use crate::engine::conn::{self, Settings, Target};
use crate::error::Error;
use crate::gate;
use crate::netfuzz::Spawned;
use crate::report::model::{AgentReport, CaseResult, RunReport, SCHEMA_VERSION};
use crate::report::terminal;
use crate::{catalogue, runner, server};
use clap::Args;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Where `--out` points when neither it nor a spec's `outdir` says otherwise.
const DEFAULT_OUT: &str = "reports/latest";

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Target server, ws://HOST:PORT/PATH or wss://… (path and query are sent with
    /// every case). Omit it to test the embedded reference server.
    pub url: Option<String>,
    /// Start the server yourself: a shell command line in which `{port}` becomes a
    /// free port on 127.0.0.1; wsspec waits for it to listen, reports how it ended if
    /// it dies (signal, last output) and stops its whole process group at the end and
    /// on Ctrl-C. It is not restarted within the run.
    #[arg(long, value_name = "CMD", conflicts_with_all = ["url", "config"])]
    pub spawn: Option<String>,
    #[command(flatten)]
    pub select: Selection,
    /// Test the servers of an Autobahn fuzzingclient.json spec (servers, cases,
    /// exclude-cases, exclude-agent-cases, outdir), one after the other, one agent each
    /// in the same report. --cases replaces the spec's `cases`, --exclude adds to its
    /// `exclude-cases`, --out overrides its `outdir`.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["url", "agent", "origin", "protocol"])]
    pub config: Option<PathBuf>,
    /// Run only part K of N of the selection: the selected cases in numeric id order,
    /// case i going to part (i mod N) + 1. Combine the parts with `wsspec merge`.
    #[arg(long, value_name = "K/N")]
    pub partition: Option<String>,
    /// Failures that do not fail the run: a file listing case patterns (one per line,
    /// `#` comments), or patterns; comma-separated or repeated. `AGENT:PATTERN` applies
    /// to one agent only. A listed case that passes fails the run (stale baseline: the
    /// message names the line to delete).
    #[arg(long, value_delimiter = ',', value_name = "FILE|PATTERN")]
    pub known_failing: Vec<String>,
    /// Cases that run and are reported but never fail the run, pass or fail (same
    /// syntax as --known-failing).
    #[arg(long, value_delimiter = ',', value_name = "FILE|PATTERN")]
    pub known_flaky: Vec<String>,
    /// Cases run at the same time, each on its own connection.
    #[arg(long, short = 'j', value_name = "N", default_value_t = runner::default_jobs())]
    pub jobs: usize,
    /// Seconds allowed for TCP connect and for the opening handshake.
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub timeout: f64,
    /// Agent name in reports (default: the server's `Server` header, else "UnknownServer").
    #[arg(long, value_name = "NAME")]
    pub agent: Option<String>,
    /// Directory for the reports: report.json (native, versioned schema), index.html
    /// (self-contained, wire traces), junit.xml, summary.md (for CI step summaries) and
    /// autobahn/ (index.json plus one JSON file per case, Autobahn's format).
    /// Default: reports/latest, or the `outdir` of a --config spec.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Do not write report files, only print.
    #[arg(long)]
    pub no_write: bool,
    /// List what would run and exit.
    #[arg(long)]
    pub dry_run: bool,
    /// Count NON-STRICT verdicts as failures for the exit status.
    #[arg(long)]
    pub strict: bool,
    /// Accept any TLS certificate (for wss:// test servers with self-signed certs).
    #[arg(long)]
    pub insecure: bool,
    /// Trust the CA certificate(s) in this PEM file for wss:// (besides the usual web
    /// roots): for servers whose certificate a private or self-signed CA issued.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Send this Origin header.
    #[arg(long, value_name = "ORIGIN")]
    pub origin: Option<String>,
    /// Origins your server is meant to accept (comma-separated or repeated, e.g.
    /// `https://app.example`). The security/origin-* cases then require those to be
    /// accepted and every other Origin refused; without it they are informational.
    #[arg(long, value_delimiter = ',', value_name = "ORIGIN")]
    pub origin_allow: Vec<String>,
    /// Offer these subprotocols (Sec-WebSocket-Protocol), comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "NAME")]
    pub protocol: Vec<String>,
    /// No progress output, only the final report.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// One server to run against, before it is reached.
struct Planned {
    /// Agent name given by the user or the spec.
    agent: Option<String>,
    /// `None` = the embedded server.
    url: Option<String>,
    origin: Option<String>,
    protocols: Vec<String>,
}

/// A server that answered the probe.
struct Reached {
    agent: String,
    target: Target,
}

pub(crate) async fn run(a: RunArgs) -> Result<ExitCode, Error> {
    let config = a.config.as_deref().map(config::load).transpose()?;
    if let Some(c) = &config {
        for n in &c.notes {
            eprintln!("wsspec: note: {n}");
        }
    }
    let partition = a.partition.as_deref().map(Partition::parse).transpose()?;
    let known_failing = gate::load(&a.known_failing, "--known-failing")?;
    let known_flaky = gate::load(&a.known_flaky, "--known-flaky")?;

    let mut selection = match &config {
        Some(c) => spec_selection(c, &a.select)?,
        None => a.select.clone(),
    };
    let out = (!a.no_write).then(|| {
        a.out
            .clone()
            .or_else(|| config.as_ref().and_then(|c| c.outdir.clone()))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_OUT))
    });
    selection.skip_dirs.extend(out.clone());
    let mut cases = super::load_selection_for(&selection, crate::rules::Role::Client, a.quiet)?;
    if let Some(p) = partition {
        let total = cases.len();
        cases = p.apply(cases);
        if cases.is_empty() {
            return Err(Error::Usage(format!(
                "--partition {p}: this part is empty (the selection has only {total} cases)"
            )));
        }
    }
    let mut plan: Vec<Planned> = match &config {
        Some(c) => c
            .servers
            .iter()
            .map(|s| Planned {
                agent: s.agent.clone(),
                url: Some(s.url.clone()),
                origin: s.origin.clone(),
                protocols: s.protocols.clone(),
            })
            .collect(),
        None => vec![Planned {
            agent: a.agent.clone(),
            url: a.url.clone(),
            origin: a.origin.clone(),
            protocols: a.protocol.clone(),
        }],
    };

    if a.dry_run {
        let width = cases.iter().map(|c| c.id.len()).max().unwrap_or(0);
        for c in &cases {
            println!("{:<width$} {}", c.id, c.title);
        }
        let part = partition
            .map(|p| format!(" (part {p})"))
            .unwrap_or_default();
        if plan.len() > 1 {
            println!(
                "{} cases would run{part} against each of {} servers, less their exclude-agent-cases",
                cases.len(),
                plan.len()
            );
        } else {
            println!("{} cases would run{part}", cases.len());
        }
        return Ok(ExitCode::SUCCESS);
    }
    if !(a.timeout > 0.0 && a.timeout <= 3600.0) {
        return Err(Error::Usage(format!(
            "--timeout {} is out of range (0 < SECS ≤ 3600)",
            a.timeout
        )));
    }
    if a.jobs == 0 {
        return Err(Error::Usage("--jobs must be at least 1".into()));
    }
    let settings = Settings {
        connect_timeout: Duration::from_secs_f64(a.timeout),
        open_handshake_timeout: Duration::from_secs_f64(a.timeout),
        origin_allow: (!a.origin_allow.is_empty()).then(|| a.origin_allow.clone()),
        ..Settings::default()
    };

    let ca_certs = crate::engine::conn::load_ca_files(a.ca_cert.as_slice())?;
    // A --spawn server lives as long as this function too.
    let mut spawned = None;
    if let Some(cmd) = &a.spawn {
        if !cmd.contains("{port}") {
            return Err(Error::Usage(
                "--spawn needs `{port}` in the command line, where wsspec puts the port".into(),
            ));
        }
        crate::spawn::kill_all_on_interrupt();
        let mut s = Spawned::new(cmd, "/", Duration::from_secs(10));
        let url = s
            .start()
            .await
            .map_err(|e| Error::Target(format!("--spawn: {e}")))?;
        plan[0].url = Some(url);
        spawned = Some(s);
    }
    // The embedded server (when no URL is given) lives as long as this function.
    let mut embedded = None;
    // Reach every server before running anything: an unreachable one is an error (exit
    // 2) before minutes are spent on the others.
    let mut reached: Vec<Reached> = Vec::new();
    for p in &plan {
        let url = match &p.url {
            Some(u) => u.clone(),
            None => {
                let s = server::start(0)
                    .await
                    .map_err(|e| Error::Io(format!("cannot start the embedded server: {e}")))?;
                let url = s.url();
                embedded = Some(s);
                url
            }
        };
        let target = crate::engine::conn::target_for(
            &url,
            a.insecure,
            &ca_certs,
            p.origin.as_deref(),
            &p.protocols,
        )?;
        let server_header = conn::probe(&target, &settings).await?;
        let mut agent = p
            .agent
            .clone()
            .unwrap_or_else(|| match (p.url.is_none(), server_header) {
                (true, _) => server::AGENT.to_string(),
                (false, Some(h)) => h,
                (false, None) => "UnknownServer".to_string(),
            });
        if reached.iter().any(|r| r.agent == agent) {
            let mut n = 2;
            while reached.iter().any(|r| r.agent == format!("{agent} #{n}")) {
                n += 1;
            }
            eprintln!(
                "wsspec: warning: two servers report as agent `{agent}`; calling {} `{agent} #{n}` \
                 (give each server its own `agent`)",
                target.url
            );
            agent = format!("{agent} #{n}");
        }
        reached.push(Reached { agent, target });
    }

    let started = crate::engine::utc_now();
    let t0 = Instant::now();
    let mut agents = Vec::new();
    for r in &reached {
        let refs: Vec<&Case> = cases
            .iter()
            .filter(|c| {
                !config
                    .as_ref()
                    .is_some_and(|cfg| cfg.excluded_for(&r.agent, &c.id))
            })
            .collect();
        if refs.len() < cases.len() && !a.quiet {
            eprintln!(
                "wsspec: {} cases excluded for {} by exclude-agent-cases",
                cases.len() - refs.len(),
                r.agent
            );
        }
        let progress = Progress::new(refs.len(), a.quiet);
        if !a.quiet {
            eprintln!(
                "wsspec: running {} cases{} against {} ({}) with {} jobs",
                refs.len(),
                partition
                    .map(|p| format!(" (part {p})"))
                    .unwrap_or_default(),
                r.target.url,
                r.agent,
                a.jobs
            );
        }
        let results =
            runner::run_all(&r.target, &settings, &refs, a.jobs, |c| progress.done(c)).await;
        progress.finish();
        agents.push(AgentReport {
            role: Default::default(),
            agent: r.agent.clone(),
            url: r.target.url.clone(),
            results,
        });
    }
    drop(embedded);
    if let Some(s) = spawned.as_mut() {
        if let Some(pm) = s.ended().await {
            eprintln!(
                "wsspec: during the run {}{}",
                pm.describe(),
                crate::spawn::tail_text(&pm.tail)
            );
        }
        s.stop();
    }

    let report = RunReport {
        schema: SCHEMA_VERSION,
        tool: format!("wsspec {}", env!("CARGO_PKG_VERSION")),
        started,
        duration_ms: t0.elapsed().as_millis() as u64,
        strict: a.strict,
        agents,
    };
    let outcome = report_and_gate(&report, out.as_deref(), &known_failing, &known_flaky)?;
    if let (Some(p), false) = (partition, outcome.unused.is_empty()) {
        if !known_failing.is_empty() || !known_flaky.is_empty() {
            println!(
                "note: this run is part {p}: entries for cases of the other parts match nothing here"
            );
        }
    }
    Ok(ExitCode::from(outcome.exit_code))
}

/// The end of a run, in either role: the terminal report, the report files (unless
/// `out` is `None`), and the known-failing/known-flaky gate with its messages.
pub(crate) fn report_and_gate(
    report: &RunReport,
    out: Option<&std::path::Path>,
    known_failing: &[gate::Entry],
    known_flaky: &[gate::Entry],
) -> Result<gate::GateOutcome, Error> {
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    print!("{}", terminal::render(report, color));
    if let Some(out) = out {
        let files = crate::report::write_all(report, out)
            .map_err(|e| Error::Io(format!("writing reports to {}: {e}", out.display())))?;
        let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        println!("reports: {}", names.join(", "));
    }
    let outcome = gate::evaluate(report, known_failing, known_flaky);
    if !known_failing.is_empty() || !known_flaky.is_empty() {
        for m in &outcome.messages {
            println!("{m}");
        }
    }
    Ok(outcome)
}

/// The selection a spec asks for: its `cases` (unless --cases is given) and
/// `exclude-cases` plus --exclude. Literal ids of Autobahn cases wsspec does not
/// implement are dropped with a note, so that unmodified Autobahn specs run.
pub(crate) fn spec_selection(c: &Config, cli: &Selection) -> Result<Selection, Error> {
    let builtin: Vec<String> = catalogue::builtin()?.into_iter().map(|c| c.id).collect();
    let mut skipped = Vec::new();
    let mut keep = |ids: &[String]| -> Vec<String> {
        ids.iter()
            .filter(|p| {
                let unimplemented = !p.contains('*')
                    && !builtin.iter().any(|b| b == *p)
                    && catalogue::autobahn_index(p).is_some();
                if unimplemented {
                    skipped.push((*p).clone());
                }
                !unimplemented
            })
            .cloned()
            .collect()
    };
    let mut sel = cli.clone();
    if sel.cases.is_empty() {
        if let Some(spec_cases) = &c.cases {
            sel.cases = keep(spec_cases);
            if sel.cases.is_empty() && !spec_cases.is_empty() {
                return Err(Error::Usage(format!(
                    "{}: none of the spec's cases is implemented by wsspec ({})",
                    c.path,
                    spec_cases.join(", ")
                )));
            }
        }
    }
    let mut exclude = keep(&c.exclude_cases);
    exclude.extend(cli.exclude.iter().cloned());
    sel.exclude = exclude;
    if !skipped.is_empty() {
        eprintln!(
            "wsspec: note: {}: skipping Autobahn cases wsspec does not implement: {}",
            c.path,
            skipped.join(", ")
        );
    }
    Ok(sel)
}

/// Does this result fail the run?
pub fn is_failure(r: &CaseResult, strict: bool) -> bool {
    r.fails(strict)
}

/// Progress: a bar on a terminal, a few plain lines otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: usize,
    done: std::sync::atomic::AtomicUsize,
    quiet: bool,
}

impl Progress {
    fn new(total: usize, quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let b = indicatif::ProgressBar::new(total as u64);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b
        });
        Progress {
            bar,
            total,
            done: 0.into(),
            quiet,
        }
    }

    fn done(&self, r: &CaseResult) {
        let n = self.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let failed = is_failure(r, false);
        if let Some(b) = &self.bar {
            b.inc(1);
            b.set_message(r.id.clone());
            if failed {
                b.println(format!(
                    "{} {}: {} / {}",
                    r.overall(),
                    r.id,
                    r.behavior,
                    r.behavior_close
                ));
            }
        } else if !self.quiet {
            if failed {
                eprintln!(
                    "  {} {}: {} / {}",
                    r.overall(),
                    r.id,
                    r.behavior,
                    r.behavior_close
                );
            }
            let step = (self.total / 10).max(1);
            if n.is_multiple_of(step) || n == self.total {
                eprintln!("wsspec: {n}/{} cases done", self.total);
            }
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
