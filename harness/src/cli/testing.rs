//! `wsspec faulty-server` (hidden): one of the fault-injected echo servers of
//! [`crate::faulty`] as a process of its own, so that `--spawn` can be tested end to
//! end against a server that really dies. With `crash-on-pattern` the process aborts
//! (SIGABRT, after a line on stderr) when the planted bug fires, as a C server that
//! trips an assertion would.

use crate::error::Error;
use crate::faulty::{self, Fault};
use clap::Args;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct FaultyServerArgs {
    /// The fault, e.g. `crash-on-pattern`, `none`, `no-pong` (case and dashes ignored).
    #[arg(long)]
    pub fault: String,
    /// Port on 127.0.0.1.
    #[arg(long)]
    pub port: u16,
}

fn parse_fault(name: &str) -> Result<Fault, Error> {
    let want: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    Fault::ALL
        .into_iter()
        .find(|f| format!("{f:?}").to_ascii_lowercase() == want)
        .ok_or_else(|| {
            let names: Vec<String> = Fault::ALL.iter().map(|f| format!("{f:?}")).collect();
            Error::Usage(format!(
                "unknown fault `{name}` (one of {})",
                names.join(", ")
            ))
        })
}

pub(crate) async fn faulty_server(a: FaultyServerArgs) -> Result<ExitCode, Error> {
    let fault = parse_fault(&a.fault)?;
    let s = faulty::start_on(fault, a.port)
        .await
        .map_err(|e| Error::Io(format!("cannot listen on 127.0.0.1:{}: {e}", a.port)))?;
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
