//! `wsspec-testkit`: wsspec's test clients as a process.
//!
//! ```text
//! wsspec-testkit client [--fault NAME] URL                    one connection (e.g. for `wsspec serve --exec`)
//! wsspec-testkit client [--fault NAME] --driver BASE --agent A  Autobahn's driver loop
//! wsspec-testkit tungstenite URL | --driver BASE --agent A      the same with tokio-tungstenite's client
//! wsspec-testkit server --fault NAME --port P [--deflate]        a fault-injected echo server
//! ```
//!
//! `server` prints `faulty server (NAME) listening on ws://127.0.0.1:PORT/` first and
//! serves until interrupted; with `crash-on-pattern` the process aborts (SIGABRT, after
//! a line on stderr) when the planted bug fires, as a C server tripping an assertion
//! would, so that `wsspec fuzz --spawn` can be tested against a server that really dies.
//!
//! Exit status: 0 when the connection (or the driver loop) ran to its end, 2 on a
//! usage error or when the fuzzing server could not be reached. A case connection the
//! server ends badly is not an error of the client: the server judges it.

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use std::process::ExitCode;
use std::time::Duration;
use wsspec_testkit::client::{self, ClientFault};
use wsspec_testkit::faulty::{self, Fault};
use wsspec_testkit::{driver, tungstenite_client};

#[derive(Parser)]
#[command(name = "wsspec-testkit", about = "wsspec's test clients and servers")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The hand-written client of wsspec's wire codec, with one fault (or none).
    Client {
        /// The fault (`none`, `send-unmasked`, `no-pong`, …; case and dashes ignored).
        #[arg(long, default_value = "none")]
        fault: String,
        #[command(flatten)]
        target: Target,
    },
    /// tokio-tungstenite's client (the reference), echoing like Autobahn's testee.
    Tungstenite {
        #[command(flatten)]
        target: Target,
    },
    /// A fault-injected echo server on 127.0.0.1 (`none`: conformant).
    Server {
        /// The fault, e.g. `crash-on-pattern`, `none`, `no-pong` (case and dashes ignored).
        #[arg(long)]
        fault: String,
        /// Port on 127.0.0.1 (0 picks a free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Support permessage-deflate (the `Deflate…` faults always do).
        #[arg(long)]
        deflate: bool,
    },
}

#[derive(Args)]
struct Target {
    /// One case URL (`ws://127.0.0.1:9001/runCase?case=1&agent=x`).
    #[arg(required_unless_present = "driver", conflicts_with = "driver")]
    url: Option<String>,
    /// The fuzzing server's base URL: run Autobahn's driver loop over all its cases.
    #[arg(long, value_name = "BASE_URL")]
    driver: Option<String>,
    /// Agent name for the driver loop.
    #[arg(long, default_value = "wsspec-testkit")]
    agent: String,
    /// Time limit per connection, in seconds.
    #[arg(long, default_value_t = 60.0)]
    timeout: f64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wsspec-testkit: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("wsspec-testkit: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// A server fault by name, ignoring case, dashes and underscores.
fn server_fault(name: &str) -> anyhow::Result<Fault> {
    let want: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    Fault::ALL
        .into_iter()
        .find(|f| format!("{f:?}").to_ascii_lowercase() == want)
        .with_context(|| {
            let names: Vec<String> = Fault::ALL.iter().map(|f| format!("{f:?}")).collect();
            format!("unknown fault `{name}` (one of {})", names.join(", "))
        })
}

async fn serve(fault: &str, port: u16, deflate: bool) -> anyhow::Result<ExitCode> {
    let fault = server_fault(fault)?;
    let s = faulty::start_on_with(fault, deflate, port)
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
    println!("faulty server ({fault:?}) listening on {}", s.url());
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(ExitCode::SUCCESS),
            _ = tokio::time::sleep(Duration::from_millis(5)) => {
                if !s.is_alive() {
                    eprintln!("faulty server: planted crash ({fault:?}) fired: aborting");
                    std::process::abort();
                }
            }
        }
    }
}

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    let (fault, target) = match command {
        Command::Client { fault, target } => (Some(ClientFault::parse(&fault)?), target),
        Command::Tungstenite { target } => (None, target),
        Command::Server {
            fault,
            port,
            deflate,
        } => return serve(&fault, port, deflate).await,
    };
    if !(target.timeout.is_finite() && target.timeout > 0.0) {
        anyhow::bail!("--timeout must be a positive number of seconds");
    }
    let limit = Duration::from_secs_f64(target.timeout);
    let play = move |url: String| async move {
        match fault {
            Some(f) => client::play(&url, f, limit).await.map(|end| {
                eprintln!("{url}: {end:?}");
            }),
            None => tungstenite_client::play(&url, limit).await,
        }
    };
    if let Some(base) = &target.driver {
        let summary = driver::run(base, &target.agent, limit, play).await?;
        println!(
            "{} cases played, {} ended with a client-side error",
            summary.count,
            summary.client_errors.len()
        );
        for (n, e) in &summary.client_errors {
            println!("  case {n}: {e}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let url = target.url.unwrap_or_default();
    if let Err(e) = play(url).await {
        // Judged by the server; said here for the person reading the log.
        eprintln!("wsspec-testkit: {e:#}");
    }
    Ok(ExitCode::SUCCESS)
}
