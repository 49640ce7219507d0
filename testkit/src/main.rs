//! `wsspec-testkit`: wsspec's test clients as a process.
//!
//! ```text
//! wsspec-testkit client [--fault NAME] URL                    one connection (e.g. for `wsspec serve --exec`)
//! wsspec-testkit client [--fault NAME] --driver BASE --agent A  Autobahn's driver loop
//! wsspec-testkit tungstenite URL | --driver BASE --agent A      the same with tokio-tungstenite's client
//! ```
//!
//! Exit status: 0 when the connection (or the driver loop) ran to its end, 2 on a
//! usage error or when the fuzzing server could not be reached. A case connection the
//! server ends badly is not an error of the client: the server judges it.

use clap::{Args, Parser, Subcommand};
use std::process::ExitCode;
use std::time::Duration;
use wsspec_testkit::client::{self, ClientFault};
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

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    let (fault, target) = match command {
        Command::Client { fault, target } => (Some(ClientFault::parse(&fault)?), target),
        Command::Tungstenite { target } => (None, target),
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
