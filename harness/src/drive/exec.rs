//! `wsspec serve --exec CMD`: a client process per case (h2spec's h2specd pattern).
//! For each case wsspec listens on a fresh port of 127.0.0.1, starts the command with
//! `{url}` replaced by that case's Autobahn-style URL
//! (`ws://127.0.0.1:PORT/runCase?case=N&agent=A`, quoted for the shell), waits for
//! the client to connect, plays the case as server and judges it. A client that never
//! connects, hangs or crashes still gets a verdict; its exit status is noted in the
//! trace but never trusted; its whole process group is stopped after the case.

use crate::case::Case;
use crate::engine::conn::Settings;
use crate::engine::{accept, serve_case, unplayed};
use crate::report::model::{CaseResult, Dir, TraceRow, TraceWhat};
use crate::spawn::Child;
use std::time::Duration;
use tokio::net::TcpListener;

/// How to start clients.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// Shell command line with `{url}`.
    pub command: String,
    /// Agent name in the URL and the reports.
    pub agent: String,
    pub settings: Settings,
    /// How long a started client has to connect.
    pub connect_timeout: Duration,
}

/// Quote `s` for `sh`: single quotes, with embedded ones closed and escaped.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The URL a client for case `n` is given.
pub fn case_url(port: u16, n: usize, agent: &str) -> String {
    let agent: String = url::form_urlencoded::byte_serialize(agent.as_bytes()).collect();
    format!("ws://127.0.0.1:{port}/runCase?case={n}&agent={agent}")
}

/// Start a client for `case` (number `n` in the selection) and play the case on its
/// connection.
pub async fn run_one(o: &ExecOptions, case: &Case, n: usize) -> CaseResult {
    let listener = match TcpListener::bind("127.0.0.1:0").await {
        Ok(l) => l,
        Err(e) => return unplayed(case, &o.settings, n, &format!("cannot listen: {e}")),
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let url = case_url(port, n, &o.agent);
    let line = o.command.replace("{url}", &shell_quote(&url));
    let mut child = match Child::start(&line, None) {
        Ok(c) => c,
        Err(e) => return unplayed(case, &o.settings, n, &e),
    };
    let accepted = tokio::select! {
        r = tokio::time::timeout(o.connect_timeout, listener.accept()) => match r {
            Ok(Ok((tcp, _))) => Ok(tcp),
            Ok(Err(e)) => Err(format!("accepting the client's connection failed: {e}")),
            Err(_) => Err(format!(
                "the client did not connect within {:.1} s",
                o.connect_timeout.as_secs_f64()
            )),
        },
        exit = exited(&mut child) => Err(format!("the client ended ({exit}) without connecting")),
    };
    drop(listener);
    let mut result = match accepted {
        Err(why) => {
            let why = format!("{why}{}", crate::spawn::tail_text(&child.tail()));
            unplayed(case, &o.settings, n, &why)
        }
        Ok(tcp) => {
            let _ = tcp.set_nodelay(true);
            match accept::read_request(Box::new(tcp), &o.settings).await {
                Err(why) => unplayed(case, &o.settings, n, &why),
                Ok(inc) => serve_case(inc, &o.settings, case, n).await,
            }
        }
    };
    // A client should end once the connection is closed; it gets a moment, then its
    // process group is stopped. Its exit status is a note, not a verdict.
    let exit = match child.wait_exit(Duration::from_secs(2)).await {
        Some(e) => format!("client process ended: {e}"),
        None => {
            child.stop();
            "client process still running 2 s after the case: stopped".to_string()
        }
    };
    let t_us = result.trace.last().map_or(0, |r| r.t_us);
    result.trace.push(TraceRow {
        t_us,
        dir: Dir::Note,
        what: TraceWhat::Note { text: exit },
    });
    result
}

/// Resolves when the child has ended (polled; never resolves while it runs).
async fn exited(child: &mut Child) -> crate::spawn::Exit {
    loop {
        if let Some(e) = child.exit() {
            return e;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
