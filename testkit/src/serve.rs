//! wsspec's fuzzing server (`wsspec serve --listen`) in-process, for tests: the
//! selected cases on a free port of 127.0.0.1, default settings, no report files.

use std::time::Duration;
use wsspec::drive::fuzzingserver::{FuzzingServer, Options};
use wsspec::engine::conn::Settings;

/// A running fuzzing server.
pub struct Served {
    /// `ws://127.0.0.1:PORT`, the base URL drivers append `/runCase?…` to.
    pub url: String,
    /// Stops it (as `/stopServer` does).
    pub stop: tokio::sync::watch::Sender<bool>,
    /// Ends with everything recorded once it stops.
    pub report: tokio::task::JoinHandle<wsspec::RunReport>,
}

/// Serve `cases` (`case=N` is `cases[N - 1]`); `/getCaseStatus` waits at most 5 s.
pub async fn start(cases: Vec<wsspec::case::Case>) -> std::io::Result<Served> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let server = FuzzingServer::new(
        listener,
        Options {
            cases,
            settings: Settings::default(),
            out: None,
            excluded: None,
            status_wait: Duration::from_secs(5),
        },
        Box::new(|_, _| {}),
    )?;
    Ok(Served {
        url: server.url().to_string(),
        stop: server.stopper(),
        report: tokio::spawn(server.run()),
    })
}
