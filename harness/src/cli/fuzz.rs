//! `wsspec fuzz`: the network fuzzer ([`crate::netfuzz`]) from the command line, for a
//! server (a URL, `--spawn`) or a client (`--role client --exec CMD`).
//! Exit status: 0 no finding, 1 findings (written as case files), 2 usage or harness
//! error (bad URL, unreachable target, unwritable output directory).

use crate::error::Error;
use crate::netfuzz::{self, Lifecycle, Options, RestartCommand, Spawned, Verification};
use crate::rules::Role;
use crate::server;
use crate::spawn;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Args)]
#[command(
    after_help = "Fuzzing a client: wsspec fuzz --role client --exec 'CMD {url}'\n\
  For every sequence wsspec listens on 127.0.0.1, starts CMD with {url} replaced by the\n\
  URL to connect to (shell-quoted, run through sh -c), answers the opening request, sends\n\
  the frames unmasked and checks what the client sends back. The client must echo every\n\
  message (as Autobahn's client drivers do). Findings replay with\n\
  wsspec serve --exec 'CMD {url}' --cases-dir DIR"
)]
pub struct FuzzArgs {
    /// Target server, ws://HOST:PORT/PATH or wss://…; it must echo text and binary
    /// messages. Omit it to fuzz the embedded reference server (or with --spawn).
    #[arg(conflicts_with = "spawn")]
    pub url: Option<String>,
    /// What to fuzz: `server` (a URL or --spawn) or `client` (--exec starts one per
    /// sequence; wsspec is the server).
    #[arg(long, value_name = "ROLE", default_value = "server", value_parser = ["server", "client"])]
    pub role: String,
    /// With --role client: the client command line, `{url}` where the URL goes, e.g.
    /// `--exec 'python3 client.py {url}'`. Started for every sequence and stopped after.
    #[arg(long, value_name = "CMD", conflicts_with_all = ["url", "spawn", "restart"])]
    pub exec: Option<String>,
    /// Start the target yourself: a shell command line in which `{port}` becomes a free
    /// port on 127.0.0.1 (e.g. `./echo-server --port {port}`). wsspec waits for it to
    /// listen, restarts it after it dies (and for every crash-shrinking run), records
    /// its exit signal and last output, and stops its whole process group at the end
    /// and on Ctrl-C.
    #[arg(long, value_name = "CMD")]
    pub spawn: Option<String>,
    /// URL path for a --spawn target.
    #[arg(long, value_name = "PATH", default_value = "/", requires = "spawn")]
    pub spawn_path: String,
    /// For a URL target wsspec does not own: a shell command that brings it back
    /// after it died (e.g. `systemctl restart my-ws`); wsspec then waits for the URL.
    #[arg(long, value_name = "CMD", requires = "url")]
    pub restart: Option<String>,
    /// How long a started or restarted target may take to listen.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = netfuzz::parse_duration)]
    pub listen_timeout: Duration,
    /// Seed of the sequence generator: the same seed sends the same sequences.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// How long to fuzz (e.g. 30s, 500ms, 5m); shrinking findings comes on top.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = netfuzz::parse_duration)]
    pub duration: Duration,
    /// Directory for finding case files (replay: wsspec run --cases-dir DIR URL).
    #[arg(long, value_name = "DIR", default_value = "reports/findings")]
    pub out: PathBuf,
    /// Connect, handshake and close timeout; a target that keeps a finished
    /// connection open longer is hanging.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = netfuzz::parse_duration)]
    pub timeout: Duration,
    /// Most steps (frames, messages) per sequence.
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub max_steps: usize,
    /// Stop after this many distinct findings.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub max_findings: usize,
    /// Most sequence runs spent shrinking one finding.
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub shrink_runs: usize,
    /// Most time spent shrinking one finding.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = netfuzz::parse_duration)]
    pub shrink_time: Duration,
    /// Do not check written cases against the reference servers and the target.
    #[arg(long)]
    pub no_verify: bool,
    /// Accept any TLS certificate (wss:// test servers with self-signed certs).
    #[arg(long)]
    pub insecure: bool,
    /// No progress lines, only the summary.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

fn yes_no(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "NO",
        None => "not checked",
    }
}

fn describe(v: &Verification) -> String {
    format!(
        "passes tokio-tungstenite: {}, fails the target: {}",
        yes_no(v.reference_passes),
        yes_no(v.target_fails)
    )
}

pub(crate) async fn fuzz(a: FuzzArgs) -> Result<ExitCode, Error> {
    if a.max_steps == 0 || a.max_findings == 0 {
        return Err(Error::Usage(
            "--max-steps and --max-findings must be at least 1".into(),
        ));
    }
    if a.spawn.as_deref().is_some_and(|c| !c.contains("{port}")) {
        return Err(Error::Usage(
            "--spawn needs `{port}` in the command line, where wsspec puts the port".into(),
        ));
    }
    if a.role == "client" {
        return fuzz_client(&a).await;
    }
    if a.exec.is_some() {
        return Err(Error::Usage(
            "--exec starts a client: it needs --role client".into(),
        ));
    }
    if a.spawn.is_some() || a.restart.is_some() {
        spawn::kill_all_on_interrupt();
    }
    let mut life: Option<Box<dyn Lifecycle>> = None;
    let (embedded, url) = match (&a.url, &a.spawn) {
        (_, Some(cmd)) => {
            let mut s = Spawned::new(cmd, &a.spawn_path, a.listen_timeout);
            let url = s
                .start()
                .await
                .map_err(|e| Error::Target(format!("--spawn: {e}")))?;
            life = Some(Box::new(s));
            (None, url)
        }
        (Some(u), None) => {
            if let Some(r) = &a.restart {
                life = Some(Box::new(RestartCommand::new(r, u, a.listen_timeout)));
            }
            (None, u.clone())
        }
        (None, None) => {
            let s = server::start(0)
                .await
                .map_err(|e| Error::Io(format!("cannot start the embedded server: {e}")))?;
            let url = s.url();
            (Some(s), url)
        }
    };
    let opts = Options {
        out: a.out.clone(),
        timeout: a.timeout,
        max_steps: a.max_steps,
        max_findings: a.max_findings,
        shrink_runs: a.shrink_runs,
        shrink_time: a.shrink_time,
        verify: !a.no_verify,
        insecure: a.insecure,
        quiet: a.quiet,
        ..Options::new(&url, a.seed, a.duration)
    };
    if !a.quiet {
        eprintln!(
            "wsspec fuzz: {} for {:?} with seed {}, findings to {}",
            url,
            a.duration,
            a.seed,
            a.out.display()
        );
    }
    let s = netfuzz::run_with(&opts, life).await?;
    drop(embedded);
    let replay = match &a.spawn {
        Some(cmd) => format!("wsspec run --cases-dir {} --spawn '{cmd}'", a.out.display()),
        None => format!(
            "wsspec run --cases-dir {} {}",
            a.out.display(),
            a.url.as_deref().unwrap_or("URL")
        ),
    };
    Ok(print_summary(&url, &opts, &s, &replay))
}

/// `--role client`: fuzz the client `--exec` starts.
async fn fuzz_client(a: &FuzzArgs) -> Result<ExitCode, Error> {
    let Some(cmd) = &a.exec else {
        return Err(Error::Usage(
            "--role client needs the client's command: --exec 'CMD {url}'".into(),
        ));
    };
    if a.url.is_some() || a.spawn.is_some() || a.restart.is_some() || a.insecure {
        return Err(Error::Usage(
            "--role client takes --exec, not a URL, --spawn, --restart or --insecure".into(),
        ));
    }
    if !cmd.contains("{url}") {
        return Err(Error::Usage(
            "--exec needs `{url}` in the command line, where wsspec puts the URL".into(),
        ));
    }
    spawn::kill_all_on_interrupt();
    let opts = Options {
        out: a.out.clone(),
        timeout: a.timeout,
        max_steps: a.max_steps,
        max_findings: a.max_findings,
        shrink_runs: a.shrink_runs,
        shrink_time: a.shrink_time,
        verify: !a.no_verify,
        quiet: a.quiet,
        ..Options::for_client(cmd, a.seed, a.duration)
    };
    if !a.quiet {
        eprintln!(
            "wsspec fuzz: the client `{cmd}` for {:?} with seed {}, findings to {}",
            a.duration,
            a.seed,
            a.out.display()
        );
    }
    let s = netfuzz::run_with(&opts, None).await?;
    let replay = format!(
        "wsspec serve --exec {} --cases-dir {}",
        crate::drive::exec::shell_quote(cmd),
        a.out.display()
    );
    Ok(print_summary(
        &format!("the client `{cmd}`"),
        &opts,
        &s,
        &replay,
    ))
}

/// The run's summary on stdout and its exit status.
fn print_summary(what: &str, opts: &Options, s: &netfuzz::Summary, replay: &str) -> ExitCode {
    println!(
        "fuzzed {} for {:.1} s (seed {}): {} sequences ({:.0}/s), {} frames ({:.0} frames/s), {:.1} MB sent",
        what,
        s.fuzz_time.as_secs_f64(),
        s.seed,
        s.sequences,
        s.sequences_per_sec(),
        s.frames,
        s.frames_per_sec(),
        s.bytes as f64 / 1e6
    );
    if let Some(why) = &s.stopped {
        println!("stopped early: {why}");
    }
    if s.findings.is_empty() {
        println!("no findings");
        return ExitCode::SUCCESS;
    }
    println!(
        "{} finding(s){}:",
        s.findings.len(),
        if s.duplicates > 0 {
            format!(" (and {} repeats of them)", s.duplicates)
        } else {
            String::new()
        }
    );
    for f in &s.findings {
        println!("  [{}] {}", f.kind.as_str(), f.detail);
        println!(
            "    {} ({}; sequence {} after {:.1} s, {} -> {} steps in {} runs{})",
            f.case_id,
            f.path.display(),
            f.sequence,
            f.found_after.as_secs_f64(),
            f.steps_before,
            f.steps_after,
            f.shrink_runs,
            if f.confirmed {
                ""
            } else {
                ", not reproduced: unshrunk"
            }
        );
        if let Some((h, n)) = f.reproduced {
            println!("    reproduced on fresh targets: {h}/{n}");
        }
        if let Some(pm) = &f.crash {
            println!("    {}{}", pm.describe(), spawn::tail_text(&pm.tail));
        }
        if opts.verify && opts.role == Role::Server {
            println!(
                "    check: fails the client: {}",
                yes_no(f.verification.target_fails)
            );
        } else if opts.verify {
            println!("    check: {}", describe(&f.verification));
        }
        if let (Some(md), Some(py)) = (&f.report, &f.reproducer) {
            println!(
                "    report: {}; reproducer: python3 {}",
                md.display(),
                py.display()
            );
        }
    }
    println!("replay: {replay}");
    ExitCode::from(1)
}
