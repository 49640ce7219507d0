//! Autobahn's client-driver protocol, as a client-side loop: ask the fuzzing server how
//! many cases it selected (`/getCaseCount`), play each one on its own connection
//! (`/runCase?case=N&agent=A`, one after the other, each only once the previous one has
//! ended), then ask it to write its reports (`/updateReports?agent=A`). This is what
//! Autobahn's reference drivers (`testee.py`, `test_browser.html`) and the
//! tokio-tungstenite `autobahn-client` example do; the URL protocol is described in
//! `autobahn-catalogue.md` §4.2.
//!
//! The control connections (`getCaseCount`, `updateReports`) always use
//! tokio-tungstenite; how a case connection is played is up to the caller (the
//! tokio-tungstenite echo client of [`crate::tungstenite_client`] or a fault-injected
//! client of [`crate::client`]). Every connection is bounded by a timeout.

use anyhow::{bail, Context, Result};
use futures_util::StreamExt;
use std::future::Future;
use std::time::Duration;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;

/// Longest text a control connection may send (a case count or a JSON object).
const MAX_CONTROL_MESSAGE: usize = 64 << 10;

/// `base` without a trailing slash.
fn trim(base: &str) -> &str {
    base.trim_end_matches('/')
}

/// The agent name, escaped for a query string: every byte but RFC 3986's unreserved
/// characters as `%XX` (a space too, never `+`, which not every server decodes).
fn escape(agent: &str) -> String {
    let mut out = String::with_capacity(agent.len());
    for b in agent.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `BASE/runCase?case=N&agent=A`: the URL of case `n` (1-based index into the server's
/// selection) for `agent`.
pub fn case_url(base: &str, n: u32, agent: &str) -> String {
    format!("{}/runCase?case={n}&agent={}", trim(base), escape(agent))
}

/// `BASE/updateReports?agent=A`.
pub fn update_reports_url(base: &str, agent: &str) -> String {
    format!("{}/updateReports?agent={}", trim(base), escape(agent))
}

/// Open a control connection, collect its text messages until the server closes it
/// (bounded by `limit` in time and [`MAX_CONTROL_MESSAGE`] in size).
async fn control(url: &str, limit: Duration) -> Result<Vec<String>> {
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(MAX_CONTROL_MESSAGE))
        .max_frame_size(Some(MAX_CONTROL_MESSAGE));
    let work = async {
        let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
            .await
            .with_context(|| format!("connecting to {url}"))?;
        let mut texts = Vec::new();
        while let Some(msg) = ws.next().await {
            match msg {
                Ok(Message::Text(t)) => texts.push(t.to_string()),
                // The server's close: the command is done (for /updateReports: the
                // reports are written).
                Ok(Message::Close(_)) => return Ok(texts),
                Ok(_) => {}
                Err(e) => return Err(e).with_context(|| format!("reading from {url}")),
            }
        }
        bail!("{url}: the server ended the connection without a close frame")
    };
    timeout(limit, work)
        .await
        .with_context(|| format!("{url}: no answer within {} s", limit.as_secs_f64()))?
}

/// `/getCaseCount`: the number of cases the server selected.
pub async fn case_count(base: &str, limit: Duration) -> Result<u32> {
    let url = format!("{}/getCaseCount", trim(base));
    let texts = control(&url, limit).await?;
    let Some(first) = texts.first() else {
        bail!("{url}: the server closed without sending the case count");
    };
    first
        .trim()
        .parse()
        .with_context(|| format!("{url}: not a case count: {first:?}"))
}

/// `/updateReports?agent=A`: the server writes its reports; returns once it closed the
/// connection (that is when the files are written).
pub async fn update_reports(base: &str, agent: &str, limit: Duration) -> Result<()> {
    let url = update_reports_url(base, agent);
    control(&url, limit).await.map(|_| ())
}

/// What the driver loop saw.
#[derive(Debug, Default)]
pub struct Summary {
    /// The server's case count.
    pub count: u32,
    /// Cases whose connection ended with an error on the client's side (case number and
    /// the error). A case that sends broken frames is meant to end like that, so this
    /// is information, not a verdict: the server judges.
    pub client_errors: Vec<(u32, String)>,
}

/// The whole driver loop: `/getCaseCount`, every case through `play(url)` in order,
/// `/updateReports`. `play` must bound its own time (the loop waits for it).
pub async fn run<F, Fut>(base: &str, agent: &str, limit: Duration, play: F) -> Result<Summary>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let summary = play_all(base, agent, limit, play).await?;
    update_reports(base, agent, limit).await?;
    Ok(summary)
}

/// The driver loop without `/updateReports` (for several agents run at once: one
/// report update at the end is enough, it writes every agent's reports).
pub async fn play_all<F, Fut>(
    base: &str,
    agent: &str,
    limit: Duration,
    mut play: F,
) -> Result<Summary>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let count = case_count(base, limit).await?;
    let mut summary = Summary {
        count,
        ..Summary::default()
    };
    for n in 1..=count {
        if let Err(e) = play(case_url(base, n, agent)).await {
            summary.client_errors.push((n, format!("{e:#}")));
        }
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_escape_the_agent_and_ignore_a_trailing_slash() {
        assert_eq!(
            case_url("ws://127.0.0.1:9001/", 3, "tokio tungstenite&x"),
            "ws://127.0.0.1:9001/runCase?case=3&agent=tokio%20tungstenite%26x"
        );
        assert_eq!(
            update_reports_url("ws://127.0.0.1:9001", "a"),
            "ws://127.0.0.1:9001/updateReports?agent=a"
        );
    }
}
