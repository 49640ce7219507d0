//! wsspec as Autobahn's fuzzing server (`wstest -m fuzzingserver`): client drivers
//! written for Autobahn connect and drive the run through the request path
//! (../shared notes, Autobahn's client-driver protocol):
//!
//! | path | what wsspec does |
//! |---|---|
//! | `/getCaseCount` | sends the number of selected cases as a text message, closes |
//! | `/getCaseInfo?case=N` | sends `{"id": …, "description": …}`, closes |
//! | `/runCase?case=N&agent=A` (or `casetuple=ID`) | plays case N on this connection |
//! | `/getCaseStatus?case=N&agent=A` | waits for that result, sends `{"behavior": …}` |
//! | `/updateReports?agent=A[&shutdownOnComplete=true]` | writes every report, closes |
//! | `/stopServer` | stops (reports are still written on the way out) |
//!
//! `N` is 1-based in the selected list. Results are kept per agent and case; running
//! a case again replaces its result. Unlike Autobahn, the `Host` port is not checked
//! (port forwarding works) and bad parameters get a 400 that says what is wrong.

use crate::case::Case;
use crate::case::Length;
use crate::engine::accept::{self, Incoming};
use crate::engine::conn::{Io, Settings};
use crate::engine::{serve_case, utc_now};
use crate::report::model::{AgentReport, CaseResult, RunReport, SCHEMA_VERSION};
use crate::rules::Role;
use crate::wire::frame::{encode_frame, FrameDecoder};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;

/// Connections served at once; more are closed on arrival (each one is also bounded
/// in time by the opening-handshake timeout and the case's own limits).
const MAX_CONNECTIONS: usize = 256;

/// What the fuzzing server serves and where its reports go.
pub struct Options {
    /// The selected cases, in catalogue order: `case=N` is `cases[N - 1]`.
    pub cases: Vec<Case>,
    pub settings: Settings,
    /// Reports are written here at `/updateReports` (and by the caller at the end).
    pub out: Option<PathBuf>,
    /// Cases not run for an agent (`exclude-agent-cases`): `(agent, id) -> excluded`.
    pub excluded: Option<Excluded>,
    /// Longest wait of `/getCaseStatus` for a result that is not there yet.
    pub status_wait: Duration,
}

/// `exclude-agent-cases`: `(agent, case id) -> excluded`.
pub type Excluded = Box<dyn Fn(&str, &str) -> bool + Send + Sync>;

/// Called for each finished case: `(agent, result)`.
pub type OnDone = Box<dyn Fn(&str, &CaseResult) + Send + Sync>;

/// The server's state, shared by its connections.
struct Shared {
    opts: Options,
    url: String,
    started: String,
    t0: Instant,
    results: Mutex<BTreeMap<String, BTreeMap<usize, CaseResult>>>,
    changed: Notify,
    /// Cases being played right now, and a signal each time one is recorded.
    running: std::sync::atomic::AtomicUsize,
    idle: Notify,
    stop: watch::Sender<bool>,
    on_done: OnDone,
}

/// A running fuzzing server.
pub struct FuzzingServer {
    shared: Arc<Shared>,
    listener: TcpListener,
}

impl FuzzingServer {
    /// Serve on `listener` (already bound).
    pub fn new(listener: TcpListener, opts: Options, on_done: OnDone) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let (stop, _) = watch::channel(false);
        Ok(FuzzingServer {
            shared: Arc::new(Shared {
                opts,
                url: format!("ws://{addr}"),
                started: utc_now(),
                t0: Instant::now(),
                results: Mutex::new(BTreeMap::new()),
                changed: Notify::new(),
                running: 0.into(),
                idle: Notify::new(),
                stop,
                on_done,
            }),
            listener,
        })
    }

    /// `ws://HOST:PORT` of the server.
    pub fn url(&self) -> &str {
        &self.shared.url
    }

    /// A handle that stops the server (as `/stopServer` does).
    pub fn stopper(&self) -> watch::Sender<bool> {
        self.shared.stop.clone()
    }

    /// Accept connections until `/stopServer`, `/updateReports?shutdownOnComplete=true`
    /// or the stopper; then wait briefly for connections still running and return
    /// everything recorded.
    pub async fn run(self) -> RunReport {
        let mut stop = self.shared.stop.subscribe();
        let mut tasks = JoinSet::new();
        loop {
            if *stop.borrow() {
                break;
            }
            tokio::select! {
                r = self.listener.accept() => {
                    let Ok((tcp, _)) = r else { continue };
                    if tasks.len() >= MAX_CONNECTIONS {
                        // A client opening connections without end is refused, not served.
                        drop(tcp);
                        continue;
                    }
                    let _ = tcp.set_nodelay(true);
                    let sh = self.shared.clone();
                    tasks.spawn(async move { handle(sh, Box::new(tcp)).await });
                }
                _ = stop.changed() => {}
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
        drop(self.listener);
        let grace = tokio::time::sleep(Duration::from_secs(2));
        tokio::pin!(grace);
        while !tasks.is_empty() {
            tokio::select! {
                _ = tasks.join_next() => {}
                _ = &mut grace => { tasks.abort_all(); break; }
            }
        }
        report(&self.shared)
    }
}

/// Everything recorded so far, one agent per client name.
fn report(sh: &Shared) -> RunReport {
    let results = sh.results.lock().map(|r| r.clone()).unwrap_or_default();
    let agents = results
        .into_iter()
        .map(|(agent, by_case)| {
            let mut results: Vec<CaseResult> = by_case.into_values().collect();
            results.sort_by_key(|r| crate::case::id_sort_key(&r.id));
            super::check_fresh_keys(&mut results);
            AgentReport {
                agent,
                url: format!("client of {}", sh.url),
                results,
                role: Role::Server,
            }
        })
        .collect();
    RunReport {
        schema: SCHEMA_VERSION,
        tool: format!("wsspec {}", env!("CARGO_PKG_VERSION")),
        started: sh.started.clone(),
        duration_ms: sh.t0.elapsed().as_millis() as u64,
        strict: false,
        agents,
    }
}

/// The case a request names: `case=N` (1-based in the selection) or `casetuple=ID`.
fn pick<'a>(sh: &'a Shared, q: &[(String, String)]) -> Result<(usize, &'a Case), String> {
    let cases = &sh.opts.cases;
    if let Some(n) = param(q, "case") {
        let n: usize = n
            .parse()
            .map_err(|_| format!("case={n:?} is not a number"))?;
        return match n.checked_sub(1).and_then(|i| cases.get(i)) {
            Some(c) => Ok((n, c)),
            None => Err(format!(
                "case={n} is out of range: {} cases are selected (1..={})",
                cases.len(),
                cases.len()
            )),
        };
    }
    if let Some(id) = param(q, "casetuple") {
        return cases
            .iter()
            .position(|c| c.id == id)
            .map(|i| (i + 1, &cases[i]))
            .ok_or_else(|| format!("casetuple={id:?} is not among the selected cases"));
    }
    Err("the case parameter is missing (case=N, 1-based)".into())
}

fn param<'a>(q: &'a [(String, String)], name: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn agent(q: &[(String, String)]) -> Result<String, String> {
    match param(q, "agent") {
        Some(a) if !a.trim().is_empty() => Ok(a.to_string()),
        _ => Err("the agent parameter is missing (agent=NAME)".into()),
    }
}

async fn handle(sh: Arc<Shared>, io: Box<dyn Io>) {
    let Ok(inc) = accept::read_request(io, &sh.opts.settings).await else {
        return;
    };
    let target = inc.request.path.clone();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let q = super::query_pairs(query);
    macro_rules! or_400 {
        ($e:expr) => {
            match $e {
                Ok(v) => v,
                Err(why) => return bad_request(inc, &target, why).await,
            }
        };
    }
    match path {
        "/getCaseCount" => reply(inc, Some(sh.opts.cases.len().to_string())).await,
        "/getCaseInfo" => {
            let (_, case) = or_400!(pick(&sh, &q));
            let info = serde_json::json!({"id": case.id, "description": case.title});
            reply(inc, Some(info.to_string())).await;
        }
        "/runCase" => {
            let agent = or_400!(agent(&q));
            let (n, case) = or_400!(pick(&sh, &q));
            if sh
                .opts
                .excluded
                .as_ref()
                .is_some_and(|ex| ex(&agent, &case.id))
            {
                // Autobahn: an excluded case is closed at once and not recorded.
                return reply(inc, None).await;
            }
            sh.running.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let result = serve_case(inc, &sh.opts.settings, case, n).await;
            (sh.on_done)(&agent, &result);
            if let Ok(mut r) = sh.results.lock() {
                r.entry(agent).or_default().insert(n, result);
            }
            sh.running.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            sh.changed.notify_waiters();
            sh.idle.notify_waiters();
        }
        "/getCaseStatus" => {
            let agent = or_400!(agent(&q));
            let (n, _) = or_400!(pick(&sh, &q));
            let until = tokio::time::Instant::now() + sh.opts.status_wait;
            let behavior = loop {
                let changed = sh.changed.notified();
                let found = sh.results.lock().ok().and_then(|r| {
                    r.get(&agent)
                        .and_then(|m| m.get(&n))
                        .map(|c| c.behavior.as_str())
                });
                if let Some(b) = found {
                    break Ok(b);
                }
                if tokio::time::timeout_at(until, changed).await.is_err() {
                    break Err(format!(
                        "no result for case {n} of agent {agent:?} within {} s",
                        sh.opts.status_wait.as_secs()
                    ));
                }
            };
            let b = or_400!(behavior);
            reply(inc, Some(serde_json::json!({ "behavior": b }).to_string())).await;
        }
        "/updateReports" => {
            or_400!(agent(&q));
            let shutdown = matches!(param(&q, "shutdownOnComplete"), Some("true" | "yes"));
            // The 101 first (writing a big report takes a while), then the reports
            // once the cases still being recorded are in (a driver asks for the
            // reports the moment its last case's TCP closes), then the close.
            let ws = open(inc).await;
            let until = tokio::time::Instant::now() + Duration::from_secs(10);
            loop {
                let idle = sh.idle.notified();
                if sh.running.load(std::sync::atomic::Ordering::SeqCst) == 0 {
                    break;
                }
                if tokio::time::timeout_at(until, idle).await.is_err() {
                    break;
                }
            }
            if let Some(dir) = &sh.opts.out {
                if let Err(e) = crate::report::write_all(&report(&sh), dir) {
                    eprintln!("wsspec: writing reports to {}: {e}", dir.display());
                }
            }
            if let Some(ws) = ws {
                close(ws, None).await;
            }
            if shutdown {
                let _ = sh.stop.send(true);
            }
        }
        "/stopServer" => {
            reply(inc, None).await;
            let _ = sh.stop.send(true);
        }
        _ => {
            let why = format!(
                "unknown path {path:?}; wsspec's fuzzing server knows /getCaseCount, \
                 /getCaseInfo?case=N, /runCase?case=N&agent=A, /getCaseStatus?case=N&agent=A, \
                 /updateReports?agent=A and /stopServer"
            );
            let mut io = inc.io;
            accept::reject(&mut io, 404, "Not Found", &format!("{why}\n")).await;
        }
    }
}

/// A request whose parameters are wrong: 400 with the reason, also on stderr.
async fn bad_request(inc: Incoming, target: &str, why: String) {
    eprintln!("wsspec: {target}: {why}");
    let mut io = inc.io;
    accept::reject(&mut io, 400, "Bad Request", &format!("{why}\n")).await;
}

/// Open the WebSocket, send `text` (if any) and a close without code, wait (bounded)
/// for the client's close, close TCP.
async fn reply(inc: Incoming, text: Option<String>) {
    if let Some(ws) = open(inc).await {
        close(ws, text).await;
    }
}

/// Answer a control request with a plain 101 (or 400 when it is not a WebSocket
/// request).
async fn open(inc: Incoming) -> Option<crate::engine::session::Session> {
    let Ok(key) = accept::check_request(&inc.request) else {
        let mut io = inc.io;
        accept::reject(
            &mut io,
            400,
            "Bad Request",
            "not a WebSocket opening request\n",
        )
        .await;
        return None;
    };
    accept::answer(inc, &key, None, None)
        .await
        .ok()
        .map(|(session, _)| session)
}

/// Send `text` (if any) and a close without code, wait (bounded) for the client's
/// close, close TCP.
async fn close(session: crate::engine::session::Session, text: Option<String>) {
    let mut io = session.io;
    let mut out = Vec::new();
    if let Some(t) = text {
        out.extend(encode_frame(
            true,
            0,
            1,
            None,
            Length::Minimal,
            t.as_bytes(),
        ));
    }
    out.extend(encode_frame(true, 0, 8, None, Length::Minimal, &[]));
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        io.write_all(&out).await?;
        io.flush().await?;
        let mut dec = FrameDecoder::new(1 << 20);
        dec.push(&session.leftover);
        let mut buf = [0u8; 4096];
        loop {
            while let Ok(Some(f)) = dec.next_frame() {
                if f.opcode == 8 {
                    return Ok(());
                }
            }
            let n = io.read(&mut buf).await?;
            if n == 0 {
                return Ok(());
            }
            dec.push(&buf[..n]);
        }
    })
    .await
    .map(|r: std::io::Result<()>| r);
    let _ = io.shutdown().await;
}
