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
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

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

/// A client started for one case: a process (`--exec`) or a task (the library API).
pub trait Launched: Send {
    /// Resolves when the client has ended by itself, saying how.
    fn ended(&mut self) -> Pin<Box<dyn Future<Output = String> + Send + '_>>;
    /// After the case: wait briefly for the client to end, stop it if it does not;
    /// how it ended.
    fn finish(&mut self) -> Pin<Box<dyn Future<Output = String> + Send + '_>>;
    /// Its last output, for a failure message (may be empty).
    fn output(&self) -> String;
}

/// How long a client may take to end after its case.
const END_GRACE: Duration = Duration::from_secs(2);

impl Launched for Child {
    fn ended(&mut self) -> Pin<Box<dyn Future<Output = String> + Send + '_>> {
        Box::pin(async move {
            loop {
                if let Some(e) = self.exit() {
                    self.wait_output(Duration::from_millis(500)).await;
                    return e.to_string();
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    }

    fn finish(&mut self) -> Pin<Box<dyn Future<Output = String> + Send + '_>> {
        Box::pin(async move {
            match self.wait_exit(END_GRACE).await {
                Some(e) => format!("client process ended: {e}"),
                None => {
                    self.stop();
                    "client process still running 2 s after the case: stopped".to_string()
                }
            }
        })
    }

    fn output(&self) -> String {
        crate::spawn::tail_text(&self.tail())
    }
}

/// Start a client for `case` (number `n` in the selection) with `--exec`'s command
/// and play the case on its connection.
pub async fn run_one(o: &ExecOptions, case: &Case, n: usize) -> CaseResult {
    let command = o.command.clone();
    play_with_client(
        &o.settings,
        o.connect_timeout,
        &o.agent,
        case,
        n,
        move |url| {
            let line = command.replace("{url}", &shell_quote(url));
            Child::start(&line, None).map(|c| Box::new(c) as Box<dyn Launched>)
        },
    )
    .await
}

/// Listen on a fresh port of 127.0.0.1, start a client with the case's URL, play the
/// case as server on its connection. Whatever the client does, a result comes back
/// and the client is ended.
pub async fn play_with_client(
    settings: &Settings,
    connect_timeout: Duration,
    agent: &str,
    case: &Case,
    n: usize,
    start: impl FnOnce(&str) -> Result<Box<dyn Launched>, String>,
) -> CaseResult {
    let (mut client, accepted) = match launch(connect_timeout, agent, n, start).await {
        Ok(c) => c,
        Err(e) => return unplayed(case, settings, n, &e),
    };
    let mut result = match accepted {
        Err(why) => unplayed(case, settings, n, &why),
        Ok(tcp) => match accept::read_request(Box::new(tcp), settings).await {
            Err(why) => unplayed(case, settings, n, &why),
            Ok(inc) => serve_case(inc, settings, case, n).await,
        },
    };
    // A client should end once the connection is closed; it gets a moment, then it is
    // stopped. How it ended is a note, not a verdict.
    let how = client.finish().await;
    let t_us = result.trace.last().map_or(0, |r| r.t_us);
    result.trace.push(TraceRow {
        t_us,
        dir: Dir::Note,
        what: TraceWhat::Note { text: how },
    });
    result
}

/// Listen on a fresh port of 127.0.0.1, start a client with the URL for connection
/// `n`, wait at most `connect_timeout` for it to connect. Gives the started client
/// and its connection (or why there is none, with the client's last output); `Err`
/// when no client could be started. The caller must [`Launched::finish`] the client.
pub async fn launch(
    connect_timeout: Duration,
    agent: &str,
    n: usize,
    start: impl FnOnce(&str) -> Result<Box<dyn Launched>, String>,
) -> Result<(Box<dyn Launched>, Result<TcpStream, String>), String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("cannot listen: {e}"))?;
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let url = case_url(port, n, agent);
    let mut client = start(&url)?;
    let accepted = tokio::select! {
        r = tokio::time::timeout(connect_timeout, listener.accept()) => match r {
            Ok(Ok((tcp, _))) => Ok(tcp),
            Ok(Err(e)) => Err(format!("accepting the client's connection failed: {e}")),
            Err(_) => Err(format!(
                "the client did not connect within {:.1} s",
                connect_timeout.as_secs_f64()
            )),
        },
        how = client.ended() => Err(format!("the client ended ({how}) without connecting")),
    };
    drop(listener);
    let accepted = match accepted {
        Ok(tcp) => {
            let _ = tcp.set_nodelay(true);
            Ok(tcp)
        }
        Err(why) => Err(format!("{why}{}", client.output())),
    };
    Ok((client, accepted))
}
