//! The library API: what a Rust project needs to run the catalogue inside `cargo test`.
//!
//! [`Suite`] selects cases the way `wsspec run` does and plays them against a server;
//! [`Report`] holds the same report model the command line writes and compares it with
//! a committed known-failing file ([`Report::assert_known_failing`]). Everything else in
//! the crate is an implementation detail of the command line and may change.

use crate::case::Case;
use crate::cli::Selection;
use crate::engine::conn::{self, Settings, Target};
use crate::error::Error;
use crate::gate;
use crate::report::model::{AgentReport, CaseResult, RunReport, SCHEMA_VERSION};
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};

/// Environment variable that makes [`Report::assert_known_failing`] rewrite the file
/// to match the run instead of panicking (set it to `1`, run the test once, review the
/// change with `git diff`).
pub const BLESS_ENV: &str = "WSSPEC_BLESS";

/// Agent name of a server that sends no `Server` header and was given no
/// [`Suite::agent`].
const UNKNOWN_AGENT: &str = "UnknownServer";

/// A selection of cases and the settings to play them with, against a WebSocket
/// **server** that echoes every text and binary message back unchanged.
///
/// Build it like the command line (`wsspec run -c PATTERN -x PATTERN --cases-dir DIR`),
/// then run it with [`Suite::test_server`] (a URL or a socket address) or
/// [`Suite::test_server_on`] (a [`TcpListener`] you bound, served by your own
/// connection handler for the length of the run).
///
/// The same suite tests a WebSocket **client** with [`Suite::test_client`]: wsspec
/// plays the server, and your client connects to one URL per case and echoes every
/// message.
#[derive(Debug, Clone)]
pub struct Suite {
    select: Selection,
    sections: Vec<String>,
    jobs: usize,
    timeout: Duration,
    strict: bool,
    insecure: bool,
    ca_certs: Vec<PathBuf>,
    agent: Option<String>,
    origin: Option<String>,
    origin_allow: Vec<String>,
    protocols: Vec<String>,
}

impl Default for Suite {
    fn default() -> Self {
        Suite::new()
    }
}

impl Suite {
    /// Every case of the built-in catalogue, default settings (those of `wsspec run`).
    pub fn new() -> Suite {
        Suite {
            select: Selection::default(),
            sections: Vec::new(),
            jobs: crate::runner::default_jobs(),
            timeout: Duration::from_secs(5),
            strict: false,
            insecure: false,
            ca_certs: Vec::new(),
            agent: None,
            origin: None,
            origin_allow: Vec::new(),
            protocols: Vec::new(),
        }
    }

    /// Run only the cases matching one of these patterns (`--cases`): a pattern with
    /// `*` matches the ids that start with it (`6.4.*`, `2.1*` = 2.1, 2.10, 2.11), a
    /// plain id must name an existing case. Adds to earlier calls.
    pub fn cases<I, S>(mut self, patterns: I) -> Suite
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.select
            .cases
            .extend(patterns.into_iter().map(Into::into));
        self
    }

    /// Leave out the cases matching these patterns (`--exclude`, same syntax as
    /// [`Suite::cases`]). Adds to earlier calls.
    pub fn exclude<I, S>(mut self, patterns: I) -> Suite
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.select
            .exclude
            .extend(patterns.into_iter().map(Into::into));
        self
    }

    /// Run whole sections, as `wsspec cases` groups them: `"1"` (Autobahn's framing
    /// section), `"6.4"`, `"handshake"`, `"deflate"`. Combined with [`Suite::cases`]
    /// as a union. A section with no case is an error when the suite runs.
    pub fn sections<I, S>(mut self, sections: I) -> Suite
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.sections.extend(sections.into_iter().map(Into::into));
        self
    }

    /// Also load case files (`*.json`, recursively) from this directory
    /// (`--cases-dir`). Without [`Suite::cases`] or [`Suite::sections`], only the
    /// cases found there run.
    pub fn cases_dir(mut self, dir: impl Into<PathBuf>) -> Suite {
        self.select.cases_dir.push(dir.into());
        self
    }

    /// Cases played at the same time, each on its own connection (`--jobs`; at
    /// least 1).
    pub fn jobs(mut self, jobs: usize) -> Suite {
        self.jobs = jobs.max(1);
        self
    }

    /// Time allowed for the TCP (and TLS) connect and for the opening handshake
    /// (`--timeout`, default 5 s).
    pub fn timeout(mut self, timeout: Duration) -> Suite {
        self.timeout = timeout;
        self
    }

    /// Count NON-STRICT verdicts as failures (`--strict`).
    pub fn strict(mut self, strict: bool) -> Suite {
        self.strict = strict;
        self
    }

    /// Accept any TLS certificate for `wss://` (`--insecure`).
    pub fn insecure(mut self, insecure: bool) -> Suite {
        self.insecure = insecure;
        self
    }

    /// Trust the CA certificate(s) in this PEM file for `wss://`, besides the usual
    /// web roots (`--ca-cert`). May be called more than once.
    pub fn ca_cert(mut self, pem_file: impl Into<PathBuf>) -> Suite {
        self.ca_certs.push(pem_file.into());
        self
    }

    /// Agent name in the report (`--agent`; default: the server's `Server` header,
    /// else `UnknownServer`). Agent-scoped known-failing entries (`AGENT:PATTERN`)
    /// match this name.
    pub fn agent(mut self, name: impl Into<String>) -> Suite {
        self.agent = Some(name.into());
        self
    }

    /// Send this `Origin` header with every case (`--origin`).
    pub fn origin(mut self, origin: impl Into<String>) -> Suite {
        self.origin = Some(origin.into());
        self
    }

    /// Origins the server is meant to accept (`--origin-allow`): the
    /// `security/origin-*` cases then require exactly those to be accepted.
    pub fn origin_allow<I, S>(mut self, origins: I) -> Suite
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.origin_allow
            .extend(origins.into_iter().map(Into::into));
        self
    }

    /// Offer these subprotocols (`Sec-WebSocket-Protocol`) with every case
    /// (`--protocol`).
    pub fn protocols<I, S>(mut self, names: I) -> Suite
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.protocols.extend(names.into_iter().map(Into::into));
        self
    }

    /// The ids of the cases this suite selects, in catalogue order (what
    /// `wsspec run --dry-run` lists). Errors like a run would: an unknown id, an empty
    /// selection, an unreadable case file.
    pub fn case_ids(&self) -> Result<Vec<String>, Error> {
        Ok(self.load()?.into_iter().map(|c| c.id).collect())
    }

    fn load(&self) -> Result<Vec<Case>, Error> {
        let mut sel = self.select.clone();
        if !self.sections.is_empty() {
            let all = crate::cli::load_selection(&Selection {
                cases_dir: sel.cases_dir.clone(),
                ..Selection::default()
            })?;
            for s in &self.sections {
                let s = s.trim().trim_end_matches(['.', '/', '*']);
                if !all
                    .iter()
                    .any(|c| c.section() == s || c.section().starts_with(&format!("{s}.")))
                {
                    return Err(Error::Usage(format!(
                        "no case is in section `{s}` (run `wsspec cases` to see the sections)"
                    )));
                }
                let numeric = s.starts_with(|c: char| c.is_ascii_digit());
                sel.cases
                    .push(format!("{s}{}*", if numeric { "." } else { "/" }));
            }
        }
        crate::cli::load_selection(&sel)
    }

    /// The selected cases wsspec can play in `role`; none is a usage error.
    fn load_for(&self, role: crate::rules::Role) -> Result<Vec<Case>, Error> {
        let all = self.load()?;
        let total = all.len();
        let cases: Vec<Case> = all.into_iter().filter(|c| c.plays_as(role)).collect();
        if cases.is_empty() {
            return Err(Error::Usage(format!(
                "none of the {total} selected cases can be played as {role}: opening-handshake, \
                 timing and destructive cases test servers, `client/*` cases test clients"
            )));
        }
        Ok(cases)
    }

    fn settings(&self) -> Result<Settings, Error> {
        if self.timeout.is_zero() || self.timeout > Duration::from_secs(3600) {
            return Err(Error::Usage(format!(
                "timeout {:?} is out of range (0 < timeout ≤ 1 h)",
                self.timeout
            )));
        }
        Ok(Settings {
            connect_timeout: self.timeout,
            open_handshake_timeout: self.timeout,
            origin_allow: (!self.origin_allow.is_empty()).then(|| self.origin_allow.clone()),
            ..Settings::default()
        })
    }

    fn target(&self, url: &str) -> Result<Target, Error> {
        let ca_certs = conn::load_ca_files(&self.ca_certs)?;
        conn::target_for(
            url,
            self.insecure,
            &ca_certs,
            self.origin.as_deref(),
            &self.protocols,
        )
    }

    /// Play the selected cases against the server at `server`: a `ws://` or `wss://`
    /// URL (`"ws://127.0.0.1:9001/chat"`), or a [`SocketAddr`] (as `ws://ADDR/`).
    ///
    /// Returns the report once every case has a verdict. Failing cases are *not* an
    /// error (judge them with [`Report::assert_known_failing`] or
    /// [`Report::failures`]); an error means the harness could not do its job: a bad
    /// selection or URL, an unreadable file, or a server that cannot be reached or
    /// does not complete a WebSocket handshake.
    pub async fn test_server(&self, server: impl Into<ServerAddress>) -> Result<Report, Error> {
        let url = server.into().0;
        let cases = self.load_for(crate::rules::Role::Client)?;
        let settings = self.settings()?;
        let target = self.target(&url)?;
        let server_header = conn::probe(&target, &settings).await?;
        let agent = self
            .agent
            .clone()
            .or(server_header)
            .unwrap_or_else(|| UNKNOWN_AGENT.to_string());
        let started = crate::engine::utc_now();
        let t0 = Instant::now();
        let refs: Vec<&Case> = cases.iter().collect();
        let results = crate::runner::run_all(&target, &settings, &refs, self.jobs, |_| {}).await;
        Ok(self.report(
            started,
            t0,
            AgentReport {
                role: Default::default(),
                agent,
                url: target.url.clone(),
                results,
            },
        ))
    }

    /// The report of a run of one agent that started at `started` (`t0`).
    fn report(&self, started: String, t0: Instant, agent: AgentReport) -> Report {
        Report {
            model: RunReport {
                schema: SCHEMA_VERSION,
                tool: format!("wsspec {}", env!("CARGO_PKG_VERSION")),
                started,
                duration_ms: t0.elapsed().as_millis() as u64,
                strict: self.strict,
                agents: vec![agent],
            },
        }
    }

    /// Serve `listener` with `handler` (called with each accepted connection, on its
    /// own task) while the selected cases play against it, then stop serving and
    /// return the report. The listener must be bound to a loopback or reachable
    /// address; `path` is the request path the cases use (`"/"` for most servers).
    ///
    /// This is the shortest way to test the connection handler of your own server
    /// without running it as a separate process; see the crate example.
    pub async fn test_server_on<H, F>(
        &self,
        listener: TcpListener,
        path: &str,
        handler: H,
    ) -> Result<Report, Error>
    where
        H: Fn(TcpStream) -> F + Send + Sync + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Io(format!("the listener has no local address: {e}")))?;
        let path = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("/{path}")
        };
        let accept = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        conns.spawn(handler(stream));
                    }
                    // Out of file descriptors and the like: wait, bounded by the run.
                    Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                }
                while conns.try_join_next().is_some() {}
            }
        });
        // Aborting the accept task drops its JoinSet, which aborts every connection.
        struct AbortOnDrop(tokio::task::JoinHandle<()>);
        impl Drop for AbortOnDrop {
            fn drop(&mut self) {
                self.0.abort();
            }
        }
        let _guard = AbortOnDrop(accept);
        self.test_server(format!("ws://{}{path}", host_port(addr)))
            .await
    }
}

/// `127.0.0.1:9001` or `[::1]:9001`, and the unspecified address as loopback.
fn host_port(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        ip if !ip.is_unspecified() => ip,
        std::net::IpAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
    };
    SocketAddr::new(ip, addr.port()).to_string()
}

impl Suite {
    /// Play the selected cases against a WebSocket **client**: wsspec is the server.
    ///
    /// For every case wsspec listens on a fresh port of 127.0.0.1 and calls `client`
    /// with that case's URL (`ws://127.0.0.1:PORT/runCase?case=N&agent=A`); your
    /// client connects to it, echoes every text and binary message and ends when the
    /// connection closes. A client that does not connect within the suite's timeout,
    /// or does not end within 2 s after its case, is aborted; the case still gets a
    /// verdict. Cases that test servers only (opening-handshake, timing and
    /// destructive cases) are left out; the `client/*` cases test what only clients
    /// do.
    ///
    /// ```no_run
    /// # async fn doc() {
    /// use futures_util::{SinkExt, StreamExt};
    /// let report = wsspec::Suite::new()
    ///     .cases(["1.*", "5.*", "client/*"])
    ///     .test_client(|url| async move {
    ///         let Ok((mut ws, _)) = tokio_tungstenite::connect_async(url).await else { return };
    ///         while let Some(Ok(msg)) = ws.next().await {
    ///             if (msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err() {
    ///                 return;
    ///             }
    ///         }
    ///     })
    ///     .await
    ///     .expect("the harness could not run");
    /// report.assert_known_failing("tests/wsspec-client-known-failing.txt");
    /// # }
    /// ```
    pub async fn test_client<C, F>(&self, client: C) -> Result<Report, Error>
    where
        C: Fn(String) -> F + Send + Sync,
        F: Future<Output = ()> + Send + 'static,
    {
        let cases = self.load_for(crate::rules::Role::Server)?;
        let settings = self.settings()?;
        let agent = self.agent.clone().unwrap_or_else(|| "client".to_string());
        let started = crate::engine::utc_now();
        let t0 = Instant::now();
        let refs: Vec<&Case> = cases.iter().collect();
        let number = |c: &Case| cases.iter().position(|x| x.id == c.id).map_or(0, |i| i + 1);
        let client = &client;
        let mut results = crate::runner::schedule(
            &refs,
            self.jobs,
            |case| {
                let (settings, agent) = (&settings, &agent);
                async move {
                    crate::drive::exec::play_with_client(
                        settings,
                        self.timeout,
                        agent,
                        case,
                        number(case),
                        |url| {
                            Ok(Box::new(TaskClient {
                                task: tokio::spawn(client(url.to_string())),
                                how: None,
                            })
                                as Box<dyn crate::drive::exec::Launched>)
                        },
                    )
                    .await
                }
            },
            |_| {},
        )
        .await;
        crate::drive::check_fresh_keys(&mut results);
        Ok(self.report(
            started,
            t0,
            AgentReport {
                role: crate::rules::Role::Server,
                agent,
                url: "client task (Suite::test_client)".into(),
                results,
            },
        ))
    }
}

/// A client under test running as a tokio task.
struct TaskClient {
    task: tokio::task::JoinHandle<()>,
    /// How it ended, once it has.
    how: Option<String>,
}

impl TaskClient {
    fn describe(r: Result<(), tokio::task::JoinError>) -> String {
        match r {
            Ok(()) => "the client task returned".into(),
            Err(e) if e.is_panic() => "the client task panicked".into(),
            Err(_) => "the client task was cancelled".into(),
        }
    }
}

impl crate::drive::exec::Launched for TaskClient {
    fn ended(&mut self) -> std::pin::Pin<Box<dyn Future<Output = String> + Send + '_>> {
        Box::pin(async move {
            if self.how.is_none() {
                let r = (&mut self.task).await;
                self.how = Some(Self::describe(r));
            }
            self.how.clone().unwrap_or_default()
        })
    }

    fn finish(&mut self) -> std::pin::Pin<Box<dyn Future<Output = String> + Send + '_>> {
        Box::pin(async move {
            if let Some(h) = &self.how {
                return h.clone();
            }
            match tokio::time::timeout(Duration::from_secs(2), &mut self.task).await {
                Ok(r) => Self::describe(r),
                Err(_) => {
                    self.task.abort();
                    "the client task was still running 2 s after the case: aborted".into()
                }
            }
        })
    }

    fn output(&self) -> String {
        String::new()
    }
}

/// Where the server under test listens: a `ws://` / `wss://` URL or a socket address
/// (converted with `From`, so [`Suite::test_server`] takes `&str`, `String` and
/// [`SocketAddr`] alike).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerAddress(String);

impl From<&str> for ServerAddress {
    fn from(url: &str) -> Self {
        ServerAddress(url.to_string())
    }
}

impl From<String> for ServerAddress {
    fn from(url: String) -> Self {
        ServerAddress(url)
    }
}

impl From<&String> for ServerAddress {
    fn from(url: &String) -> Self {
        ServerAddress(url.clone())
    }
}

impl From<SocketAddr> for ServerAddress {
    fn from(addr: SocketAddr) -> Self {
        ServerAddress(format!("ws://{}/", host_port(addr)))
    }
}

/// The outcome of one [`Suite`] run: the report model `wsspec run` writes as
/// `report.json`, with ways to judge and write it.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    model: RunReport,
}

impl Report {
    /// The report model (the contents of `report.json`).
    pub fn model(&self) -> &RunReport {
        &self.model
    }

    /// The report model, owned.
    pub fn into_model(self) -> RunReport {
        self.model
    }

    /// Every case result, in catalogue order.
    pub fn results(&self) -> impl Iterator<Item = &CaseResult> {
        self.model.agents.iter().flat_map(|a| a.results.iter())
    }

    /// The results that fail the run (FAILED, WRONG CODE, UNCLEAN, FAILED BY CLIENT;
    /// NON-STRICT too for a [`Suite::strict`] run).
    pub fn failures(&self) -> Vec<&CaseResult> {
        let strict = self.model.strict;
        self.results().filter(|r| r.fails(strict)).collect()
    }

    /// Write every report format `wsspec run` writes into `dir` (created if needed):
    /// `report.json`, `index.html`, `junit.xml`, `summary.md` and `autobahn/`.
    /// Returns the main files written.
    pub fn write_to(&self, dir: impl AsRef<Path>) -> Result<Vec<PathBuf>, Error> {
        let dir = dir.as_ref();
        crate::report::write_all(&self.model, dir)
            .map_err(|e| Error::Io(format!("writing reports to {}: {e}", dir.display())))
    }

    /// The known-failing file that matches this run exactly: one line per failing
    /// case, with its verdicts as a comment.
    pub fn known_failing_text(&self) -> String {
        let mut out = String::new();
        for r in self.failures() {
            out.push_str(&failing_line(r));
        }
        out
    }

    /// Compare the run with the known-failing file at `path` (the format of
    /// `wsspec run --known-failing FILE`: one case pattern per line, `#` comments;
    /// a missing file counts as empty). The run matches when every failing case is
    /// listed and every listed entry still fails; entries that match no case of the
    /// run (other sections) are fine.
    ///
    /// On a mismatch the error says why, case by case, and shows the change to the
    /// file as a unified diff.
    pub fn check_known_failing(&self, path: impl AsRef<Path>) -> Result<(), Mismatch> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let (text, missing) = match std::fs::read_to_string(path) {
            Ok(t) => (t, false),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (String::new(), true),
            Err(e) => {
                return Err(Mismatch {
                    path: path.to_path_buf(),
                    message: format!("cannot read the known-failing file {shown}: {e}"),
                    expected: String::new(),
                })
            }
        };
        let entries = gate::parse_list(&shown, &text);
        let outcome = gate::evaluate(&self.model, &entries, &[]);
        if outcome.passed() {
            return Ok(());
        }
        // The file as it should be: stale lines deleted, unexpected failures appended.
        let stale_lines: Vec<usize> = outcome
            .stale
            .iter()
            .filter_map(|s| match s.entry.origin {
                gate::Origin::File { line, .. } => Some(line),
                gate::Origin::Arg { .. } => None,
            })
            .collect();
        let mut expected: String = text
            .lines()
            .enumerate()
            .filter(|(i, _)| !stale_lines.contains(&(i + 1)))
            .map(|(_, l)| format!("{l}\n"))
            .collect();
        let several = self.model.agents.len() > 1;
        for c in &outcome.unexpected_failures {
            let prefix = if several {
                format!("{}:", c.agent)
            } else {
                String::new()
            };
            expected.push_str(&format!(
                "{prefix}{}  # {} / {}\n",
                c.id, c.behavior, c.behavior_close
            ));
        }
        let mut current = text.clone();
        if !current.is_empty() && !current.ends_with('\n') {
            current.push('\n');
        }
        let diff = similar::TextDiff::from_lines(&current, &expected)
            .unified_diff()
            .context_radius(2)
            .header(
                &format!("{shown} (committed)"),
                &format!("{shown} (this run)"),
            )
            .to_string();
        let mut message = format!(
            "the conformance run does not match the known-failing file {shown}{}\n",
            if missing {
                " (no such file: read as empty)"
            } else {
                ""
            }
        );
        // The fix first, then why: stale entries, and what the first failures were about.
        message.push_str(&format!(
            "change the file like this (+ add the line, - delete it), or run the test with \
             {BLESS_ENV}=1 to write it:\n{diff}"
        ));
        // gate::evaluate lists one error per unexpected failure first, then the stale
        // entries.
        let stale = outcome
            .messages
            .iter()
            .filter(|m| m.level == gate::Level::Error)
            .skip(outcome.unexpected_failures.len());
        for m in stale {
            message.push_str(&format!("  {}\n", m.text));
        }
        const DETAILED: usize = 5;
        for c in outcome.unexpected_failures.iter().take(DETAILED) {
            let found = self
                .model
                .agents
                .iter()
                .filter(|a| a.agent == c.agent)
                .flat_map(|a| a.results.iter())
                .find(|r| r.id == c.id);
            if let Some(r) = found {
                message.push_str(&format!(
                    "  {} failed ({} / {}): {}\n      expected: {}\n      actual:   {}\n",
                    r.id,
                    r.behavior,
                    r.behavior_close,
                    r.title,
                    one_line(&r.expected),
                    one_line(&r.actual)
                ));
            }
        }
        if outcome.unexpected_failures.len() > DETAILED {
            message.push_str(&format!(
                "  … and {} more failures (every detail and wire trace: Report::write_to)\n",
                outcome.unexpected_failures.len() - DETAILED
            ));
        }
        Err(Mismatch {
            path: path.to_path_buf(),
            message,
            expected,
        })
    }

    /// Panic unless the run matches the known-failing file at `path` (see
    /// [`Report::check_known_failing`]); the panic message names each case and shows
    /// the lines to add or delete as a diff.
    ///
    /// With the environment variable [`BLESS_ENV`] (`WSSPEC_BLESS=1`) set, a mismatch
    /// rewrites the file instead, so a fixed or newly failing case is one test run
    /// and a reviewed `git diff` away.
    #[track_caller]
    pub fn assert_known_failing(&self, path: impl AsRef<Path>) {
        let Err(m) = self.check_known_failing(path) else {
            return;
        };
        if std::env::var_os(BLESS_ENV).is_some_and(|v| !v.is_empty() && v != "0") {
            if let Some(dir) = m.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                let _ = std::fs::create_dir_all(dir);
            }
            match std::fs::write(&m.path, &m.expected) {
                Ok(()) => {
                    eprintln!("wsspec: {BLESS_ENV}: wrote {}", m.path.display());
                    return;
                }
                Err(e) => panic!("{m}\n({BLESS_ENV}: cannot write {}: {e})", m.path.display()),
            }
        }
        panic!("{m}");
    }
}

/// At most 200 characters of `text`, on one line.
fn one_line(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &flat[..i]),
        None => flat,
    }
}

/// `7.1.1  # WRONG CODE / OK`
fn failing_line(r: &CaseResult) -> String {
    format!("{}  # {} / {}\n", r.id, r.behavior, r.behavior_close)
}

impl fmt::Display for Report {
    /// The table and failure details `wsspec run` prints (no colour).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::report::terminal::render(&self.model, false))
    }
}

/// A run that does not match its known-failing file ([`Report::check_known_failing`]).
/// Its `Display` is the whole explanation, diff included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    path: PathBuf,
    message: String,
    expected: String,
}

impl Mismatch {
    /// The known-failing file that was compared.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The contents the file should have for this run to match.
    pub fn expected_file(&self) -> &str {
        &self.expected
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Mismatch {}
