//! `--origin-allow`: Origin cases are informational without a list; with one, a server
//! that enforces it passes and a server that accepts any Origin fails.

#![allow(clippy::result_large_err)] // tungstenite's handshake callback returns its own ErrorResponse

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use wsspec::engine::conn::{Settings, Target};
use wsspec::report::model::Verdict;

const ALLOWED: &str = "https://app.example";

/// An echo server that refuses (403) every Origin but `ALLOWED` and requests without one.
async fn origin_checking_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let check = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
                    match req
                        .headers()
                        .get("Origin")
                        .map(|o| o.to_str().unwrap_or(""))
                    {
                        None | Some(ALLOWED) => Ok(resp),
                        Some(_) => {
                            let mut e = ErrorResponse::new(Some("origin not allowed".into()));
                            *e.status_mut() =
                                tokio_tungstenite::tungstenite::http::StatusCode::FORBIDDEN;
                            Err(e)
                        }
                    }
                };
                let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(stream, check).await else {
                    return;
                };
                while let Some(Ok(m)) = ws.next().await {
                    if (m.is_text() || m.is_binary()) && ws.send(m).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

async fn origin_verdicts(url: &str, allow: Option<Vec<String>>) -> Vec<(String, Verdict)> {
    let target = Target::parse(url).unwrap();
    let settings = Settings {
        origin_allow: allow,
        ..Settings::default()
    };
    let all = wsspec::catalogue::builtin().unwrap();
    let cases: Vec<_> = all
        .iter()
        .filter(|c| c.id.starts_with("security/origin-"))
        .collect();
    assert!(cases.len() >= 4);
    let results = wsspec::runner::run_all(&target, &settings, &cases, 8, |_| {}).await;
    assert_eq!(results.len(), cases.len(), "one result per case");
    results.into_iter().map(|r| (r.id, r.behavior)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn origin_cases_follow_the_allow_list() {
    let strict = origin_checking_server().await;
    let open = wsspec::server::start(0).await.unwrap();

    // No list: informational whatever the server does.
    for (id, v) in origin_verdicts(&open.url(), None).await {
        assert_eq!(v, Verdict::Informational, "{id}");
    }
    // With the list: the enforcing server passes every case that sends an Origin…
    let allow = Some(vec![ALLOWED.to_string()]);
    for (id, v) in origin_verdicts(&strict, allow.clone()).await {
        let want = if id == "security/origin-absent" {
            Verdict::Informational
        } else {
            Verdict::Ok
        };
        assert_eq!(v, want, "{id} against the enforcing server");
    }
    // …and the server that accepts anything fails them.
    for (id, v) in origin_verdicts(&open.url(), allow).await {
        let want = if id == "security/origin-absent" {
            Verdict::Informational
        } else {
            Verdict::Failed
        };
        assert_eq!(v, want, "{id} against the accept-all server");
    }
}
