//! `wsspec run`: pick the target, run the selection, report, exit code.

use super::Selection;
use crate::case::Case;
use crate::engine::conn::{self, Settings, Target};
use crate::error::Error;
use crate::report::model::{AgentReport, CaseResult, RunReport, SCHEMA_VERSION};
use crate::report::terminal;
use crate::{runner, server};
use clap::Args;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

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

pub(crate) async fn run(a: RunArgs) -> Result<ExitCode, Error> {
    let cases = super::load_selection(&a.select)?;
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
        let files = crate::report::write_all(&report, &a.out)
            .map_err(|e| Error::Io(format!("writing reports to {}: {e}", a.out.display())))?;
        let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        println!("reports: {}", names.join(", "));
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
