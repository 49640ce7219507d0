//! The command line: argument definitions (clap) and the glue that loads cases, picks
//! the target, runs, reports and turns the outcome into an exit code.
//! Exit codes: 0 nothing failed, 1 some case failed, 2 usage or harness error.

use crate::case::{self, Case};
use crate::engine::conn::{self, Settings, Target};
use crate::error::Error;
use crate::report::model::{AgentReport, CaseResult, RunReport, SCHEMA_VERSION};
use crate::report::{autobahn, json, terminal};
use crate::{catalogue, runner, server};
use clap::{Args, Parser, Subcommand};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// WebSocket conformance testing: Autobahn's catalogue and verdicts, fast.
///
/// Point it at a server and get a report: `wsspec run ws://127.0.0.1:9001`.
/// With no URL, `wsspec run` tests its embedded tokio-tungstenite echo server, which
/// is a quick way to see what a report looks like. The server under test must echo
/// every text and binary message back unchanged.
#[derive(Debug, Parser)]
#[command(name = "wsspec", version, about, long_about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run cases against a WebSocket server (an echo server) and report verdicts.
    ///
    /// Exit status: 0 when no case failed, 1 when any case failed (WRONG CODE,
    /// UNCLEAN and FAILED BY CLIENT count as failures; NON-STRICT only with
    /// --strict), 2 for usage errors, unreadable case files, an empty selection
    /// or an unreachable target.
    Run(RunArgs),
    /// List the cases (id, title, RFC section) that a selection would run.
    Cases(CasesArgs),
    /// Serve the embedded reference echo server until interrupted (for trying clients).
    Serve {
        /// Port on 127.0.0.1 (0 picks a free one).
        #[arg(long, default_value_t = 9001)]
        port: u16,
    },
}

#[derive(Debug, Args, Clone)]
pub struct Selection {
    /// Cases to run: ids or patterns, comma-separated or repeated. A `*` pattern
    /// matches ids that start with it (Autobahn's rule): `6.4.*`, `1.*`, `2.1*`
    /// (2.1, 2.10, 2.11). A plain id must exist. Default: everything.
    #[arg(long, short = 'c', value_delimiter = ',', value_name = "PATTERN")]
    pub cases: Vec<String>,
    /// Cases to leave out (same syntax as --cases).
    #[arg(long, short = 'x', value_delimiter = ',', value_name = "PATTERN")]
    pub exclude: Vec<String>,
    /// Load extra case files (*.json, recursively) from this directory. Without
    /// --cases, only the cases found there are selected (handy to replay findings).
    #[arg(long, value_name = "DIR")]
    pub cases_dir: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CasesArgs {
    #[command(flatten)]
    pub select: Selection,
    /// Print the selected cases as JSON (the case file format) instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Target server, ws://HOST:PORT/PATH or wss://… (path and query are sent with
    /// every case). Omit it to test the embedded reference server.
    pub url: Option<String>,
    #[command(flatten)]
    pub select: Selection,
    /// Cases run at the same time, each on its own connection.
    #[arg(long, short = 'j', value_name = "N", default_value_t = runner::default_jobs())]
    pub jobs: usize,
    /// Seconds allowed for TCP connect and for the opening handshake.
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub timeout: f64,
    /// Agent name in reports (default: the server's `Server` header, else "UnknownServer").
    #[arg(long, value_name = "NAME")]
    pub agent: Option<String>,
    /// Directory for the reports: report.json (native) and autobahn/ (index.json and
    /// one JSON file per case, Autobahn's format).
    #[arg(long, value_name = "DIR", default_value = "reports/latest")]
    pub out: PathBuf,
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
    /// Send this Origin header.
    #[arg(long, value_name = "ORIGIN")]
    pub origin: Option<String>,
    /// Offer these subprotocols (Sec-WebSocket-Protocol), comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "NAME")]
    pub protocol: Vec<String>,
    /// No progress output, only the final report.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// Entry point used by `main`.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(2),
            };
        }
    };
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("wsspec: error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn dispatch(cli: Cli) -> Result<ExitCode, Error> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Io(format!("cannot start the async runtime: {e}")))?;
    match cli.command {
        Command::Cases(a) => list_cases(&a),
        Command::Run(a) => rt.block_on(run(a)),
        Command::Serve { port } => rt.block_on(async {
            let s = server::start(port)
                .await
                .map_err(|e| Error::Io(format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
            println!("reference echo server listening on {}", s.url());
            let _ = tokio::signal::ctrl_c().await;
            Ok(ExitCode::SUCCESS)
        }),
    }
}

/// Built-in catalogue plus any `--cases-dir` files, then the selection.
pub fn load_selection(sel: &Selection) -> Result<Vec<Case>, Error> {
    let mut all = catalogue::builtin()?;
    let mut from_dirs = Vec::new();
    for dir in &sel.cases_dir {
        from_dirs.extend(case::json::load_dir(dir)?);
    }
    for c in &from_dirs {
        if all.iter().any(|b| b.id == c.id) {
            return Err(Error::Usage(format!(
                "case id `{}` from --cases-dir is also a built-in case; give it another id",
                c.id
            )));
        }
    }
    let include = if sel.cases.is_empty() && !from_dirs.is_empty() {
        from_dirs.iter().map(|c| c.id.clone()).collect()
    } else {
        sel.cases.clone()
    };
    all.extend(from_dirs);
    let chosen = case::select::select(&all, &include, &sel.exclude)?;
    if chosen.is_empty() {
        return Err(Error::Usage(format!(
            "no case matches the selection (cases: {}; exclude: {}). Run `wsspec cases` to see the ids.",
            if sel.cases.is_empty() { "all".to_string() } else { sel.cases.join(",") },
            if sel.exclude.is_empty() { "none".to_string() } else { sel.exclude.join(",") },
        )));
    }
    Ok(chosen.into_iter().cloned().collect())
}

fn list_cases(a: &CasesArgs) -> Result<ExitCode, Error> {
    let cases = load_selection(&a.select)?;
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&cases).unwrap_or_default()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut section = String::new();
    for c in &cases {
        let s = c.section();
        if s != section {
            let title = catalogue::section_title(&s).unwrap_or("");
            println!("\n{s}  {title}");
            section = s;
        }
        println!(
            "  {:<10} {:<6} {:<18} {}",
            c.id,
            format!("{:?}", c.level).to_uppercase(),
            c.rfc,
            c.title
        );
    }
    println!("\n{} cases", cases.len());
    Ok(ExitCode::SUCCESS)
}

async fn run(a: RunArgs) -> Result<ExitCode, Error> {
    let cases = load_selection(&a.select)?;
    if a.dry_run {
        for c in &cases {
            println!("{:<10} {}", c.id, c.title);
        }
        println!("{} cases would run", cases.len());
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
        ..Settings::default()
    };

    // The embedded server lives as long as this function.
    let (embedded, url) = match &a.url {
        Some(u) => (None, u.clone()),
        None => {
            let s = server::start(0)
                .await
                .map_err(|e| Error::Io(format!("cannot start the embedded server: {e}")))?;
            let url = s.url();
            (Some(s), url)
        }
    };
    let mut target = Target::parse(&url)?;
    target.insecure = a.insecure;
    if let Some(o) = &a.origin {
        target.extra_headers.push(("Origin".into(), o.clone()));
    }
    if !a.protocol.is_empty() {
        target
            .extra_headers
            .push(("Sec-WebSocket-Protocol".into(), a.protocol.join(", ")));
    }
    let server_header = conn::probe(&target, &settings).await?;
    let agent = a
        .agent
        .clone()
        .unwrap_or_else(|| match (&embedded, server_header) {
            (Some(_), _) => server::AGENT.to_string(),
            (None, Some(h)) => h,
            (None, None) => "UnknownServer".to_string(),
        });

    let refs: Vec<&Case> = cases.iter().collect();
    let started = crate::engine::utc_now();
    let t0 = Instant::now();
    let progress = Progress::new(refs.len(), a.quiet);
    if !a.quiet {
        eprintln!(
            "wsspec: running {} cases against {} ({agent}) with {} jobs",
            refs.len(),
            target.url,
            a.jobs
        );
    }
    let results = runner::run_all(&target, &settings, &refs, a.jobs, |r| progress.done(r)).await;
    progress.finish();
    drop(embedded);

    let report = RunReport {
        schema: SCHEMA_VERSION,
        tool: format!("wsspec {}", env!("CARGO_PKG_VERSION")),
        started,
        duration_ms: t0.elapsed().as_millis() as u64,
        strict: a.strict,
        agents: vec![AgentReport {
            agent,
            url: target.url.clone(),
            results,
        }],
    };
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    print!("{}", terminal::render(&report, color));
    if !a.no_write {
        json::write(&report, &a.out.join("report.json")).map_err(|e| {
            Error::Io(format!(
                "writing {}: {e}",
                a.out.join("report.json").display()
            ))
        })?;
        autobahn::write_dir(&report, &a.out.join("autobahn"))
            .map_err(|e| Error::Io(format!("writing {}: {e}", a.out.join("autobahn").display())))?;
        println!(
            "reports: {}  (autobahn/index.json alongside)",
            a.out.join("report.json").display()
        );
    }
    let failed = report
        .agents
        .iter()
        .flat_map(|g| &g.results)
        .any(|r| is_failure(r, a.strict));
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Does this result fail the run?
pub fn is_failure(r: &CaseResult, strict: bool) -> bool {
    r.behavior.is_failure(strict) || r.behavior_close.is_failure(strict)
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
            if n % step == 0 || n == self.total {
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
