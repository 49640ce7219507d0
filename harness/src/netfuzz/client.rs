//! Fuzzing a WebSocket client (`wsspec fuzz --role client --exec 'CMD {url}'`).
//!
//! wsspec plays the server. For every sequence it listens on a fresh port of
//! 127.0.0.1, starts the client command with that URL (the pieces of
//! [`crate::drive::exec`], as `wsspec serve --exec` does), reads and answers the opening
//! request ([`crate::engine::accept`]), then sends the sequence's frames unmasked and
//! checks what the client sends back with the oracles of the server fuzzer
//! ([`super::execute::exchange`]): every frame a valid *client* frame (masked, by the
//! receive rules for the server role), our close answered when the model of a
//! conformant echo client says it must be, the connection ended after our FIN. The
//! client process is stopped after each sequence; its exit status is not trusted.
//!
//! Sequences are the server fuzzer's ([`super::generate_as`]): no opening handshake
//! mutations (there is no request to mutate), masking turned round. Findings are
//! confirmed and shrunk on fresh client processes and written as cases with
//! `"role": "server"`, which `wsspec serve --exec CMD --cases-dir DIR` replays.

use super::encode::{prepare_as, Prepared};
use super::execute::{exchange, settings_for, Observed, SEQUENCE_CAP};
use super::finding::{finding_case, write_case};
use super::generate::{generate_as, Sequence};
use super::shrink::{shrink_with, Oracle};
use super::{dedup_key, note, Finding, Kind, Options, Summary, Verification};
use crate::case::{MessageStep, Payload, Step};
use crate::drive::exec::{self, shell_quote, ExecOptions, Launched};
use crate::engine::accept;
use crate::engine::conn::Settings;
use crate::error::Error;
use crate::rules::Role;
use crate::spawn::Child;
use futures_util::future::BoxFuture;
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::time::Instant;

/// Agent name in the URLs the client is given.
const AGENT: &str = "wsspec-fuzz";
/// Least time a started client has to connect (interpreters start slowly on a busy
/// machine; a slow start is no finding).
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// Sequences in a row without a connection before the run stops.
const MAX_MISSES: u32 = 3;

/// The client command line for one URL.
fn command_line(command: &str, url: &str) -> String {
    command.replace("{url}", &shell_quote(url))
}

/// Start a client for sequence `n`, answer its opening request and run `p` on the
/// connection. `expect_text`: a text whose echo is looked for (the first check).
async fn execute(
    opts: &Options,
    settings: &Settings,
    command: &str,
    p: &Prepared,
    n: u64,
    expect_text: Option<Vec<u8>>,
) -> Observed {
    let mut obs = Observed::default();
    let start = |url: &str| {
        Child::start(&command_line(command, url), None).map(|c| Box::new(c) as Box<dyn Launched>)
    };
    let connect = opts.timeout.max(START_TIMEOUT);
    let (mut client, accepted) = match exec::launch(connect, AGENT, n as usize, start).await {
        Ok(c) => c,
        Err(e) => {
            obs.no_connection = Some(e);
            return obs;
        }
    };
    let hard = Instant::now() + SEQUENCE_CAP;
    match accepted {
        Err(why) => obs.no_connection = Some(why),
        Ok(tcp) => match accept::read_request(Box::new(tcp), settings).await {
            Err(why) => obs.no_connection = Some(why),
            Ok(mut inc) => match accept::check_request(&inc.request) {
                Err(why) => {
                    let why = format!("the client's opening request breaks RFC 6455 §4.1: {why}");
                    accept::reject(&mut inc.io, 400, "Bad Request", &why).await;
                    obs.finding = Some((Kind::Malformed, why));
                }
                // No extension: the sequences are uncompressed.
                Ok(key) => match accept::answer(inc, &key, None, None).await {
                    Err((why, _)) => obs.no_connection = Some(why),
                    Ok((s, _)) => {
                        exchange(
                            s.io,
                            &s.leftover,
                            None,
                            Role::Server,
                            p,
                            opts.timeout,
                            hard,
                            expect_text,
                            &mut obs,
                        )
                        .await
                    }
                },
            },
        },
    }
    // Not trusted, not judged: the process only has to go away.
    let _ = client.finish().await;
    obs
}

/// Whether a candidate still gives the same finding, on a fresh client.
struct OnClient<'a> {
    opts: &'a Options,
    settings: &'a Settings,
    command: &'a str,
    kind: Kind,
    key: String,
    key_seed: u64,
}

impl Oracle for OnClient<'_> {
    fn fires<'a>(&'a mut self, seq: &'a Sequence) -> BoxFuture<'a, Option<bool>> {
        Box::pin(async move {
            let p = prepare_as(seq, self.key_seed, Role::Server);
            let obs = execute(self.opts, self.settings, self.command, &p, 1, None).await;
            if obs.no_connection.is_some() {
                return None;
            }
            Some(
                obs.finding
                    .is_some_and(|(k, d)| k == self.kind && dedup_key(&d) == self.key),
            )
        })
    }
}

/// The client role's main loop (see [`super::run_with`]).
pub(super) async fn run(opts: &Options) -> Result<Summary, Error> {
    let command = opts
        .exec
        .as_deref()
        .ok_or_else(|| Error::Usage("fuzzing a client needs its command (--exec)".into()))?;
    if !command.contains("{url}") {
        return Err(Error::Usage(
            "--exec needs `{url}` in the command line, where wsspec puts the URL".into(),
        ));
    }
    let settings = settings_for(opts);
    // First a plain echo: the command must start a client that connects and answers.
    let text = "wsspec netfuzz probe";
    let probe = Sequence {
        handshake: None,
        steps: vec![Step::Message(MessageStep {
            payload: Payload::Text(text.into()),
            binary: false,
            fragment_size: None,
            chop: None,
            sync: false,
            compress: false,
        })],
    };
    let p = prepare_as(&probe, 0, Role::Server);
    let obs = execute(opts, &settings, command, &p, 0, Some(text.into())).await;
    if let Some(why) = obs.no_connection {
        return Err(Error::Target(format!(
            "the client ({command}) did not connect and hand-shake before fuzzing: {why}"
        )));
    }
    // A client that breaks a rule at once is a finding, not an error.
    if !obs.echoed && obs.finding.is_none() {
        return Err(Error::Target(format!(
            "the client ({command}) did not echo a text message before fuzzing (it must echo every message)"
        )));
    }
    std::fs::create_dir_all(&opts.out)
        .map_err(|e| Error::Io(format!("creating {}: {e}", opts.out.display())))?;
    let mut summary = Summary {
        seed: opts.seed,
        ..Summary::default()
    };
    let t0 = Instant::now();
    let mut fuzz_time = Duration::ZERO;
    let mut seen: BTreeSet<(Kind, String)> = BTreeSet::new();
    let mut last_progress = Instant::now();
    let mut misses = 0;
    let mut n: u64 = 0;
    while fuzz_time < opts.duration {
        let t_seq = Instant::now();
        n += 1;
        let seq = generate_as(opts.seed, n, opts.max_steps, Role::Server);
        let p = prepare_as(&seq, opts.seed ^ n, Role::Server);
        let obs = execute(opts, &settings, command, &p, n, None).await;
        summary.sequences += 1;
        summary.frames += obs.frames;
        summary.bytes += obs.bytes;
        fuzz_time += t_seq.elapsed();
        if !opts.quiet && last_progress.elapsed() > Duration::from_secs(5) {
            last_progress = Instant::now();
            note(
                opts,
                &format!(
                    "{} sequences ({:.1}/s), {} frames, {} findings",
                    summary.sequences,
                    summary.sequences as f64 / fuzz_time.as_secs_f64().max(1e-9),
                    summary.frames,
                    summary.findings.len()
                ),
            );
        }
        if let Some(why) = &obs.no_connection {
            misses += 1;
            if misses >= MAX_MISSES {
                summary.stopped = Some(format!(
                    "the client did not connect {MAX_MISSES} times in a row: {why}"
                ));
                break;
            }
            continue;
        }
        misses = 0;
        let Some((kind, detail)) = obs.finding else {
            continue;
        };
        if !seen.insert((kind, dedup_key(&detail))) {
            summary.duplicates += 1;
            continue;
        }
        note(
            opts,
            &format!(
                "sequence {n}: {}: {detail}; confirming and shrinking",
                kind.as_str()
            ),
        );
        let f = handle_finding(opts, &settings, command, seq, n, kind, detail, fuzz_time).await?;
        if summary.record(opts, f) {
            break;
        }
    }
    summary.fuzz_time = fuzz_time;
    summary.total_time = t0.elapsed();
    Ok(summary)
}

/// Confirm, shrink, write and (with `verify`) replay a finding.
#[allow(clippy::too_many_arguments)]
async fn handle_finding(
    opts: &Options,
    settings: &Settings,
    command: &str,
    seq: Sequence,
    n: u64,
    kind: Kind,
    detail: String,
    found_after: Duration,
) -> Result<Finding, Error> {
    let key_seed = opts.seed ^ n;
    let before = prepare_as(&seq, key_seed, Role::Server).steps.len();
    let mut oracle = OnClient {
        opts,
        settings,
        command,
        kind,
        key: dedup_key(&detail),
        key_seed,
    };
    let mut runs = 1;
    let confirmed = oracle.fires(&seq).await == Some(true);
    let shrunk = if confirmed {
        shrink_with(opts, seq, &mut runs, &mut oracle).await
    } else {
        seq
    };
    let p = prepare_as(&shrunk, key_seed, Role::Server);
    let case = finding_case(&p, kind, &detail, opts.seed, n);
    let path = write_case(&opts.out, &case)?;
    let mut verification = Verification::default();
    if opts.verify {
        // The replay `wsspec serve --exec` does; there is no reference client to
        // check the case against in the product (the tests do that).
        let eo = ExecOptions {
            command: command.to_string(),
            agent: AGENT.to_string(),
            settings: settings.clone(),
            connect_timeout: opts.timeout,
        };
        let r = exec::run_one(&eo, &case, 1).await;
        verification.target_fails = Some(r.fails(false));
    }
    Ok(Finding {
        kind,
        detail,
        sequence: n,
        case_id: case.id.clone(),
        path,
        steps_before: before,
        steps_after: p.steps.len(),
        shrink_runs: runs,
        confirmed,
        verification,
        found_after,
        crash: None,
        reproduced: None,
        report: None,
        reproducer: None,
    })
}
