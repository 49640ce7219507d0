//! The command line: argument definitions (clap) and the glue that loads cases, picks
//! the target, runs, reports and turns the outcome into an exit code.
//! Exit codes: 0 nothing failed, 1 some case failed (or, for `diff`, something
//! regressed), 2 usage or harness error.

mod cases;
mod diff;
mod fuzz;
mod merge;
mod run;
mod serve;

pub use cases::{load_selection, load_selection_for, CasesArgs, Selection};
pub use diff::DiffArgs;
#[cfg_attr(not(feature = "internals"), allow(unused_imports))] // used by the tests
pub use fuzz::FuzzArgs;
pub use merge::MergeArgs;
pub use run::{is_failure, RunArgs};
pub use serve::ServeArgs;

use crate::error::Error;
use crate::server;
use clap::{CommandFactory, Parser, Subcommand};
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
    /// --strict) unless it is listed in --known-failing or --known-flaky, or when a
    /// --known-failing case passes (stale baseline); 2 for usage errors, unreadable
    /// case or config files, an empty selection or an unreachable target.
    Run(Box<RunArgs>),
    /// List the cases (id, title, RFC section) that a selection would run.
    Cases(CasesArgs),
    /// Compare two runs case by case (report.json or Autobahn index.json files).
    ///
    /// Prints a unified diff of one line per case (id, behavior, behaviorClose,
    /// remoteCloseCode) and the regressions, fixes, changed, added and removed cases.
    /// Exit status: 1 when a case that passed in OLD fails in NEW or is missing from it,
    /// 0 otherwise, 2 when an input cannot be read.
    Diff(DiffArgs),
    /// Combine partial reports (e.g. of `run --partition k/n`) into one report.
    ///
    /// Exit status: 0 when the merged report was written, 2 when an input cannot be
    /// read or two inputs report the same case of the same agent.
    Merge(MergeArgs),
    /// Fuzz a live server over the network: generated frame sequences and handshake
    /// mutations, each on a fresh connection; findings are shrunk and written as cases.
    ///
    /// Exit status: 0 no finding, 1 findings (replay them with `wsspec run --cases-dir
    /// DIR URL`), 2 for usage errors or an unreachable target.
    Fuzz(fuzz::FuzzArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    ///
    /// bash: `wsspec completions bash > ~/.local/share/bash-completion/completions/wsspec`;
    /// zsh: `wsspec completions zsh > ~/.zfunc/_wsspec` (with `fpath+=~/.zfunc` before
    /// `compinit`); fish: `wsspec completions fish > ~/.config/fish/completions/wsspec.fish`.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write man pages (wsspec.1 and one per subcommand) into DIR (used by `cargo xtask man`).
    #[command(hide = true)]
    GenerateMan {
        /// Directory for the pages (created if needed).
        dir: std::path::PathBuf,
    },
    /// Test WebSocket clients: wsspec plays the server, as Autobahn's fuzzing server.
    ///
    /// Either client drivers written for Autobahn connect to --listen and run the
    /// cases (`/getCaseCount`, `/runCase?case=N&agent=A`, `/updateReports?agent=A`),
    /// or wsspec starts a client per case with --exec. The same catalogue and verdicts
    /// as `run`, from the other side: frames from wsspec are unmasked, the client's
    /// must be masked, and wsspec closes TCP after the closing handshake.
    /// Exit status as for `run`: 0 no failure, 1 failures, 2 usage errors or when no
    /// case was run.
    Serve(Box<ServeArgs>),
    /// Serve the embedded reference echo server until interrupted (a server to try
    /// clients or other tools against).
    Echo {
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

/// Print the completion script for `shell` on stdout.
fn completions(shell: clap_complete::Shell) -> Result<ExitCode, Error> {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "wsspec", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}

/// `wsspec.1` plus `wsspec-SUBCOMMAND.1` for every visible subcommand, into `dir`.
fn generate_man(dir: &std::path::Path) -> Result<ExitCode, Error> {
    let io = |e: std::io::Error| Error::Io(format!("writing man pages to {}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(io)?;
    let cmd = Cli::command();
    let mut written = Vec::new();
    let mut write = |name: String, page: clap::Command| -> Result<(), Error> {
        let mut out = Vec::new();
        clap_mangen::Man::new(page).render(&mut out).map_err(io)?;
        let path = dir.join(format!("{name}.1"));
        std::fs::write(&path, out).map_err(io)?;
        written.push(path.display().to_string());
        Ok(())
    };
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("wsspec-{}", sub.get_name());
        write(name.clone(), sub.clone().name(name))?;
    }
    write("wsspec".into(), cmd)?;
    println!("{}", written.join("\n"));
    Ok(ExitCode::SUCCESS)
}

fn dispatch(cli: Cli) -> Result<ExitCode, Error> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Io(format!("cannot start the async runtime: {e}")))?;
    match cli.command {
        Command::Cases(a) => cases::list_cases(&a),
        Command::Diff(a) => diff::diff(&a),
        Command::Merge(a) => merge::run(&a),
        Command::Completions { shell } => completions(shell),
        Command::GenerateMan { dir } => generate_man(&dir),
        Command::Run(a) => rt.block_on(run::run(*a)),
        Command::Fuzz(a) => rt.block_on(fuzz::fuzz(a)),
        Command::Serve(a) => rt.block_on(serve::serve(*a)),
        Command::Echo { port } => rt.block_on(async {
            let s = server::start(port)
                .await
                .map_err(|e| Error::Io(format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
            println!("reference echo server listening on {}", s.url());
            let _ = tokio::signal::ctrl_c().await;
            Ok(ExitCode::SUCCESS)
        }),
    }
}
