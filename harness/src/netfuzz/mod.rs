//! Network fuzzing of a live WebSocket server (`wsspec fuzz URL`), or of a client
//! (`wsspec fuzz --role client --exec CMD`: the same generator, model, checks,
//! shrinker and case writer with wsspec as the server, see `client.rs`).
//!
//! **Sequences.** Each sequence is generated from a seeded, deterministic byte source
//! (SplitMix64 filling a buffer that `arbitrary::Unstructured` decodes), so sequence
//! `n` of seed `s` is always the same. A sequence is a list of ordinary case
//! [`Step`]s — valid messages, fragments with control frames interleaved, pings and
//! pongs, frames with reserved opcodes or RSV bits, unmasked frames, oversized or
//! fragmented control frames, close frames with bad codes or reasons, invalid UTF-8,
//! lying lengths, chopped writes — plus, sometimes, a mutated opening handshake
//! (missing or odd headers, extension offers, a dribbled request). Each sequence runs
//! on a fresh connection. Steps are encoded exactly the way the case player
//! ([`crate::engine::play`]) encodes them, so a finding replays as a case.
//!
//! **Oracles.**
//!
//! * *liveness*: after every sequence a fresh connection must complete the handshake
//!   and get one message echoed;
//! * *termination*: a sequence ends with our close frame when the model says the
//!   connection is still open (the target must answer it within the timeout), then a
//!   TCP FIN (sent at once when the target should already have failed the
//!   connection); the target must close TCP within the timeout after our FIN. A frame
//!   whose length lies is completed with filler bytes first, so the stream always
//!   ends on a frame boundary;
//! * *well-formed output*: everything the target sends must be valid server frames:
//!   unmasked, RSV 0 (RSV1 only on compressed messages when permessage-deflate was
//!   negotiated), known opcodes, control frames final and ≤ 125 bytes, minimal
//!   lengths, continuation order, UTF-8 text, close payloads that are not 1 byte long,
//!   carry a code that may be sent and a UTF-8 reason, nothing after its close frame;
//!   and a permessage-deflate answer that fits the offer.
//!
//! **Findings.** A finding is confirmed by running its sequence again, shrunk (drop
//! runs of steps, then shorten payloads and drop chopping, keeping every change under
//! which the same oracle still fires, with a bounded number of runs and a time budget),
//! and written as a case file `<out>/<hash>.json` with id `finding/<hash>`, which
//! `wsspec run --cases-dir <out> URL` replays. The case's expectation is what a
//! conformant echo server does with those steps (computed by a model of RFC 6455, see
//! [`model`]), so the case passes against a conformant server and fails against the
//! broken one; a target that dies gets `probe_after` (a fresh connection must still
//! get its echo). Where the target must fail the connection, the closing close frame
//! is sent as a plain frame and a kill timer follows, and a 0.2 s pause precedes the
//! rule-breaking step when replies are expected before it (a server that closes with
//! unread input resets the connection, which can destroy unread replies). The
//! model is checked against both conformant servers in `harness/tests/netfuzz.rs`.
//! Each written case is checked against
//! the embedded tokio-tungstenite server (it must pass) and, when the target is alive or can be restarted, against the
//! target (it must fail).
//!
//! A target that dies cannot be shrunk against unless it comes back: the fuzzer waits
//! briefly for it to recover, or restarts it through a [`Lifecycle`] (`--spawn`, where
//! wsspec owns the process; `--restart CMD`; a hook in tests). With one, a death is
//! confirmed, shrunk and counted on fresh targets (`crash`), deduplicated by how the
//! process ended and its last output (`life`). A dead target that stays dead ends the
//! run; its finding is written unshrunk. Every finding also gets a Markdown report and
//! a standalone Python reproducer (`bugreport`).
//!
//! Everything is bounded: connect and handshake by the timeout, every sequence by a
//! hard time cap, payloads and steps by fixed maxima, shrinking by runs and time.

use crate::engine::conn::Target;
use crate::error::Error;
use crate::rules::Role;
#[cfg(feature = "internals")]
use futures_util::future::BoxFuture;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;
use tokio::time::Instant;

mod bugreport;
mod check;
mod client;
mod crash;
mod encode;
mod execute;
mod finding;
mod generate;
mod life;
mod model;
mod shrink;
mod source;

#[cfg_attr(not(feature = "internals"), allow(unused_imports))] // used by the tests
pub use encode::{prepare, prepare_as, Prepared};
#[cfg_attr(not(feature = "internals"), allow(unused_imports))] // used by the tests
pub use finding::{finding_case, write_case};
#[cfg_attr(not(feature = "internals"), allow(unused_imports))] // used by the tests
pub use generate::{generate, generate_as, Sequence};
pub use life::{Lifecycle, PostMortem, RestartCommand, Spawned};
#[cfg(feature = "internals")]
pub use model::model;
#[cfg_attr(not(feature = "internals"), allow(unused_imports))] // used by the tests
pub use model::{model_as, Model, ModelEnd};
#[cfg_attr(not(feature = "internals"), allow(unused_imports))] // used by the tests
pub use source::SplitMix;

use execute::{check_once, probe, settings_for};
use finding::handle_finding;
use shrink::Keeper;

/// What to fuzz and how long.
#[derive(Debug, Clone)]
pub struct Options {
    pub url: String,
    pub seed: u64,
    /// Fuzzing time (shrinking and verification come on top, bounded separately).
    pub duration: Duration,
    /// Directory for finding case files.
    pub out: PathBuf,
    /// Connect, handshake, close-answer and FIN-to-EOF timeout.
    pub timeout: Duration,
    /// Most steps per generated sequence.
    pub max_steps: usize,
    /// Stop after this many distinct findings.
    pub max_findings: usize,
    /// Most sequence runs spent shrinking one finding…
    pub shrink_runs: usize,
    /// …and most time.
    pub shrink_time: Duration,
    /// Check each written case against the reference servers and the target.
    pub verify: bool,
    /// Accept any TLS certificate.
    pub insecure: bool,
    /// No progress lines on stderr.
    pub quiet: bool,
    /// wsspec's role. `Client` (the default) fuzzes the server at `url`; `Server`
    /// fuzzes a client: `exec` is started for every sequence (see `client.rs`).
    pub role: Role,
    /// The client command line for the server role, with `{url}` where the URL to
    /// connect to goes (shell-quoted); run through `sh -c`.
    pub exec: Option<String>,
}

impl Options {
    /// Defaults for everything but the target, seed and duration.
    pub fn new(url: &str, seed: u64, duration: Duration) -> Options {
        Options {
            url: url.to_string(),
            seed,
            duration,
            out: PathBuf::from("reports/findings"),
            timeout: Duration::from_secs(2),
            max_steps: 32,
            max_findings: 5,
            shrink_runs: 200,
            shrink_time: Duration::from_secs(30),
            verify: true,
            insecure: false,
            quiet: false,
            role: Role::Client,
            exec: None,
        }
    }

    /// Defaults for fuzzing the client that `command` starts (`{url}` in it).
    pub fn for_client(command: &str, seed: u64, duration: Duration) -> Options {
        Options {
            role: Role::Server,
            exec: Some(command.to_string()),
            ..Options::new("", seed, duration)
        }
    }
}

/// Restarts a dead target and returns its (possibly new) URL.
#[cfg(feature = "internals")] // for the tests, testkit and fuzz targets
pub type Restart = Box<dyn FnMut() -> BoxFuture<'static, Result<String, String>> + Send>;

/// Which oracle fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// The target sent something that is not a valid server frame or handshake answer.
    Malformed,
    /// The target did not end the connection in time when it had to.
    Hang,
    /// A fresh connection got no echo afterwards.
    Dead,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Malformed => "malformed output",
            Kind::Hang => "hang",
            Kind::Dead => "target died",
        }
    }
}

/// What the checks of one written case gave (`None`: not checked).
#[derive(Debug, Clone, Default)]
pub struct Verification {
    /// Passes against the embedded tokio-tungstenite server.
    pub reference_passes: Option<bool>,
    /// Fails against the target.
    pub target_fails: Option<bool>,
}

/// One distinct finding.
#[derive(Debug, Clone)]
pub struct Finding {
    pub kind: Kind,
    pub detail: String,
    /// Sequence number (with the seed, it regenerates the original sequence).
    pub sequence: u64,
    pub case_id: String,
    pub path: PathBuf,
    /// Steps before and after shrinking.
    pub steps_before: usize,
    pub steps_after: usize,
    /// Sequence runs spent confirming and shrinking.
    pub shrink_runs: usize,
    /// The original sequence fired the same oracle again.
    pub confirmed: bool,
    pub verification: Verification,
    /// Fuzzing time until it was first seen.
    pub found_after: Duration,
    /// For a dead target wsspec owns: its exit status or signal and last output.
    pub crash: Option<PostMortem>,
    /// Runs on fresh targets that reproduced it / runs (dead targets that can restart).
    pub reproduced: Option<(u32, u32)>,
    /// The Markdown bug report and the standalone Python reproducer.
    pub report: Option<PathBuf>,
    pub reproducer: Option<PathBuf>,
}

/// The outcome of a run.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub seed: u64,
    pub sequences: u64,
    /// Frames written (sequences only, not probes).
    pub frames: u64,
    pub bytes: u64,
    /// Fuzzing time (without shrinking and verification).
    pub fuzz_time: Duration,
    pub total_time: Duration,
    pub findings: Vec<Finding>,
    /// Findings of an already-seen kind and detail, not written again.
    pub duplicates: u64,
    /// Why the run stopped early, if it did.
    pub stopped: Option<String>,
}

impl Summary {
    pub fn frames_per_sec(&self) -> f64 {
        self.frames as f64 / self.fuzz_time.as_secs_f64().max(1e-9)
    }
    pub fn sequences_per_sec(&self) -> f64 {
        self.sequences as f64 / self.fuzz_time.as_secs_f64().max(1e-9)
    }
}

// ----- the main loop ---------------------------------------------------------------

impl Summary {
    /// Keep a written finding (and say so); `true` once `--max-findings` is reached.
    fn record(&mut self, opts: &Options, f: Finding) -> bool {
        note(
            opts,
            &format!(
                "wrote {} ({} -> {} steps, {} runs)",
                f.path.display(),
                f.steps_before,
                f.steps_after,
                f.shrink_runs
            ),
        );
        self.findings.push(f);
        if self.findings.len() >= opts.max_findings {
            self.stopped = Some(format!("{} findings (--max-findings)", opts.max_findings));
            return true;
        }
        false
    }
}

fn note(opts: &Options, msg: &str) {
    if !opts.quiet {
        eprintln!("wsspec fuzz: {msg}");
    }
}

/// Fuzz `opts.url` for `opts.duration`. `restart`, when given, brings a dead target
/// back (and may move it: it returns the new URL). Errors are harness errors (bad URL,
/// target unreachable at the start, output directory not writable).
#[cfg(feature = "internals")] // for the tests, testkit and fuzz targets
pub async fn run(opts: &Options, restart: Option<Restart>) -> Result<Summary, Error> {
    let life = restart.map(|r| Box::new(life::Hook(r)) as Box<dyn Lifecycle>);
    run_with(opts, life).await
}

/// [`run`] with a target that wsspec starts or restarts itself ([`Spawned`],
/// [`RestartCommand`]): crashes are confirmed, shrunk and counted on fresh targets,
/// deduplicated by how the process ended and its last output, and reported with both.
pub async fn run_with(opts: &Options, life: Option<Box<dyn Lifecycle>>) -> Result<Summary, Error> {
    if opts.role == Role::Server {
        return client::run(opts).await;
    }
    let mut restart = life;
    let mut target = Target::parse(&opts.url)?;
    target.insecure = opts.insecure;
    let settings = settings_for(opts);
    if let Err((_, e)) = probe(&target, &settings, 0, opts.timeout).await {
        // A server we started may have died of the probe itself: say how.
        let mut how = String::new();
        if let Some(pm) = match restart.as_mut() {
            Some(l) => l.post_mortem().await.filter(|pm| pm.exit.is_some()),
            None => None,
        } {
            how = format!("; {}{}", pm.describe(), crate::spawn::tail_text(&pm.tail));
        }
        return Err(Error::Target(format!(
            "{} does not answer a handshake and an echo before fuzzing: {e}{how}",
            opts.url
        )));
    }
    std::fs::create_dir_all(&opts.out)
        .map_err(|e| Error::Io(format!("creating {}: {e}", opts.out.display())))?;
    let mut keeper = Keeper {
        target,
        restart,
        insecure: opts.insecure,
        gone: false,
        want_exit: None,
        want_key: None,
        crash_tries: 1,
    };
    let mut summary = Summary {
        seed: opts.seed,
        ..Summary::default()
    };
    let t0 = Instant::now();
    let mut fuzz_time = Duration::ZERO;
    let mut seen: BTreeSet<(Kind, String)> = BTreeSet::new();
    let mut last_progress = Instant::now();
    let mut n: u64 = 0;
    let mut previous: Option<(u64, Sequence)> = None;
    while fuzz_time < opts.duration {
        let t_seq = Instant::now();
        n += 1;
        let seq = generate(opts.seed, n, opts.max_steps);
        let key_seed = opts.seed ^ n;
        let p = prepare(&seq, key_seed);
        let (obs, finding) = check_once(&keeper.target, &settings, &p, n, opts.timeout).await;
        summary.sequences += 1;
        summary.frames += obs.frames;
        summary.bytes += obs.bytes;
        fuzz_time += t_seq.elapsed();
        if !opts.quiet && last_progress.elapsed() > Duration::from_secs(5) {
            last_progress = Instant::now();
            note(
                opts,
                &format!(
                    "{} sequences, {} frames, {:.0} frames/s, {} findings",
                    summary.sequences,
                    summary.frames,
                    summary.frames as f64 / fuzz_time.as_secs_f64().max(1e-9),
                    summary.findings.len()
                ),
            );
        }
        let Some((kind, mut detail)) = finding else {
            previous = Some((n, seq));
            continue;
        };
        // The connection could not even be opened: the previous sequence killed it.
        let (n_found, seq_found) = match (&obs.no_connection, &previous) {
            (Some(_), Some((pn, ps))) => (*pn, ps.clone()),
            _ => (n, seq),
        };
        // A dead target is one finding per way of dying (signal and last output when
        // wsspec watches the process), whatever the probe's error said.
        let mut crash_info = None;
        let dedup = match kind {
            Kind::Dead => {
                crash_info = keeper.post_mortem().await;
                match &crash_info {
                    Some(pm) => {
                        detail = crash::detail(pm, &detail);
                        (kind, pm.signature())
                    }
                    None => (kind, String::new()),
                }
            }
            _ => (kind, dedup_key(&detail)),
        };
        if seen.contains(&dedup) {
            summary.duplicates += 1;
            if kind == Kind::Dead && !keeper.ensure_alive(&settings, opts.timeout).await {
                summary.stopped = Some("the target died and did not come back".into());
                break;
            }
            continue;
        }
        seen.insert(dedup);
        note(
            opts,
            &format!(
                "sequence {n_found}: {}: {detail}; confirming and shrinking",
                kind.as_str()
            ),
        );
        let f = handle_finding(
            &mut keeper,
            &settings,
            opts,
            seq_found,
            n_found,
            kind,
            detail,
            crash_info,
            fuzz_time,
        )
        .await?;
        if summary.record(opts, f) {
            break;
        }
        if !keeper.ensure_alive(&settings, opts.timeout).await {
            summary.stopped = Some("the target died and did not come back".into());
            break;
        }
        previous = None;
    }
    summary.fuzz_time = fuzz_time;
    summary.total_time = t0.elapsed();
    Ok(summary)
}

/// Details without numbers, so the same bug with other sizes counts once.
fn dedup_key(detail: &str) -> String {
    let head = detail.split(" (").next().unwrap_or_default();
    let mut out = String::with_capacity(head.len());
    for c in head.chars() {
        if c.is_ascii_digit() {
            if !out.ends_with('#') {
                out.push('#');
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Parse `10`, `10s`, `500ms`, `2m` into a duration.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let v: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (e.g. 30s, 500ms, 2m)"))?;
    let secs = match unit {
        "ms" => v / 1000.0,
        "s" => v,
        "m" => v * 60.0,
        "h" => v * 3600.0,
        _ => return Err(format!("`{s}`: unknown unit `{unit}` (ms, s, m, h)")),
    };
    if !(secs.is_finite() && secs > 0.0 && secs <= 7.0 * 86400.0) {
        return Err(format!(
            "`{s}` is out of range (more than 0, at most a week)"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("x").is_err());
        assert!(parse_duration("5y").is_err());
    }
}
