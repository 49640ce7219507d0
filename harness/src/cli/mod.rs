//! The command line: argument definitions (clap) and the glue that loads cases, picks
//! the target, runs, reports and turns the outcome into an exit code.
//! Exit codes: 0 nothing failed, 1 some case failed, 2 usage or harness error.

mod cases;
mod run;

pub use cases::{load_selection, CasesArgs, Selection};
pub use run::{is_failure, RunArgs};

use crate::error::Error;
use crate::server;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

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
        Command::Cases(a) => cases::list_cases(&a),
        Command::Run(a) => rt.block_on(run::run(a)),
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
