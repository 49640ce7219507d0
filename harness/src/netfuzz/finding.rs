//! A finding becomes a case: confirming and shrinking it, the case that replays it
//! (with the model's expectation), checking that case, writing it.

use super::encode::{encode, prepare, Prepared};
use super::execute::check_once;
use super::generate::{send, Sequence};
use super::model::{model_as, ModelEnd};
use super::shrink::{fires, shrink, Keeper};
use super::source::SplitMix;
use super::{bugreport, crash, dedup_key, Finding, Kind, Options, PostMortem, Verification};
use crate::case::builder::case as new_case;
use crate::case::{Case, ExpectClose, FrameStep, Mask, OpName, Opcode, Payload, Step, WaitStep};
use crate::engine::conn::{Settings, Target};
use crate::engine::play::close_payload;
use crate::error::Error;
use crate::rules::Role;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// FNV-1a, 64 bits: a stable name for a finding's content.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The case that replays a finding: the prepared steps, and what a conformant echo
/// server does with them as the expectation.
pub fn finding_case(p: &Prepared, kind: Kind, detail: &str, seed: u64, n: u64) -> Case {
    let hashed = serde_json::to_vec(&(&p.handshake, &p.steps)).unwrap_or_default();
    let id = format!("finding/{:016x}", fnv(&hashed));
    let (rfc, requirement) = match kind {
        Kind::Dead => (
            "RFC 6455 §7.1.7, §10.4",
            "Whatever a client sends, the server keeps serving: it fails a broken connection cleanly (close frame, then TCP close) and a fresh connection still gets its messages echoed.",
        ),
        Kind::Hang => (
            "RFC 6455 §7.1.1, §7.1.2",
            "The server answers a valid close frame with a close frame and closes the TCP connection; it never keeps a connection the client ended.",
        ),
        Kind::Malformed if p.role == Role::Server => (
            "RFC 6455 §5.1-5.6, §7.4, §8.1",
            "Everything the client sends is a valid client frame: masked, RSV 0, a known opcode, final control frames of at most 125 bytes, UTF-8 text, valid close codes.",
        ),
        Kind::Malformed => (
            "RFC 6455 §5.1-5.6, §7.4, §8.1",
            "Everything the server sends is a valid server frame: unmasked, RSV 0, a known opcode, final control frames of at most 125 bytes, UTF-8 text, valid close codes.",
        ),
    };
    let requirement = if p.role == Role::Server && kind == Kind::Hang {
        "The client answers a valid close frame with a close frame and closes the TCP connection once the server has closed it."
    } else {
        requirement
    };
    let command = match p.role {
        Role::Client => "wsspec fuzz",
        Role::Server => "wsspec fuzz --role client",
    };
    // The probe's error names a port: keep titles stable for a dead target.
    let title = match kind {
        Kind::Dead => {
            "netfuzz finding (target died): a fresh connection failed after these steps".to_string()
        }
        _ => format!("netfuzz finding ({}): {detail}", kind.as_str()),
    };
    let mut c = new_case(&id, &title)
        .rfc(rfc)
        .requirement(&format!(
            "{requirement} Found by `{command} --seed {seed}`, sequence {n}."
        ))
        .build();
    if p.role == Role::Server {
        c.role = Some(Role::Server);
        // The replay checks the client's masking keys too.
        c.expect.fresh_masks = true;
    }
    c.steps = p.steps.clone();
    c.handshake = p.handshake.clone();
    c.expect.ok = p.model.events.clone();
    c.expect.close = match &p.model.end {
        ModelEnd::Closed { code } => ExpectClose {
            closed_by_me: true,
            codes: match code {
                Some(1000) | None => vec![1000],
                Some(c) => vec![*c, 1000],
            },
            require_clean: true,
            wrong_closer_fatal: false,
            wrong_code_fatal: false,
        },
        ModelEnd::Failed { codes, .. } => {
            peer_must_close(&mut c.steps, !p.model.events.is_empty(), p.role);
            ExpectClose {
                closed_by_me: false,
                codes: codes.clone(),
                // Not required clean: tokio-tungstenite drops TCP without a close frame
                // on some protocol errors. A dead target fails `probe_after` instead.
                require_clean: false,
                wrong_closer_fatal: false,
                wrong_code_fatal: false,
            }
        }
        ModelEnd::Open { .. } | ModelEnd::Unknown(_) => {
            peer_must_close(&mut c.steps, !p.model.events.is_empty(), p.role);
            ExpectClose {
                closed_by_me: false,
                codes: vec![1002, 1007, 1009],
                require_clean: false,
                wrong_closer_fatal: false,
                wrong_code_fatal: false,
            }
        }
    };
    c.probe_after = kind == Kind::Dead;
    c
}

/// For a case where the peer must fail the connection: our closing close frame goes
/// out as a plain frame (same bytes, but the tester does not become the closer: the
/// peer stopped reading at the broken rule before it), then a 2 s kill timer. When
/// replies are expected before the broken rule, a short pause goes before the step
/// that breaks it: a server that closes with our later bytes unread resets the
/// connection (tokio-tungstenite does), and a reset can destroy replies the tester
/// has not read yet.
fn peer_must_close(steps: &mut Vec<Step>, replies_first: bool, role: Role) {
    if replies_first {
        if let Some(k) = first_violation(steps, role) {
            steps.insert(
                k,
                Step::Wait(WaitStep {
                    seconds: 0.2,
                    tag: None,
                }),
            );
        }
    }
    for s in steps.iter_mut() {
        if let Step::Close(c) = s {
            let reason = c.reason.as_ref().map(Payload::bytes).unwrap_or_default();
            let payload = close_payload(c.code, &reason);
            *s = Step::Send(FrameStep {
                opcode: Opcode::Named(OpName::Close),
                ..send(8, payload, true, Mask::Auto)
            });
        }
    }
    steps.push(Step::KillAfter(2.0));
}

/// Index of the step after which the model first says the connection fails.
fn first_violation(steps: &[Step], role: Role) -> Option<usize> {
    // Mask keys do not change the verdict: lying frames carry explicit keys.
    let mut stream = Vec::new();
    let mut rng = SplitMix::new(0);
    for (k, step) in steps.iter().enumerate() {
        for p in encode(std::slice::from_ref(step), &mut rng, role) {
            stream.extend_from_slice(&p.bytes);
        }
        if matches!(
            model_as(&stream, role).end,
            ModelEnd::Failed { .. } | ModelEnd::Unknown(_)
        ) {
            return Some(k);
        }
    }
    None
}

async fn verify(
    case: &Case,
    keeper: &mut Keeper,
    settings: &Settings,
    opts: &Options,
) -> Verification {
    let mut v = Verification::default();
    let run = |url: String| {
        let case = case.clone();
        let settings = settings.clone();
        async move {
            let t = Target::parse(&url).ok()?;
            let r = crate::engine::run_case(&t, &settings, &case, 0).await;
            Some(!r.fails(false))
        }
    };
    if let Ok(s) = crate::server::start(0).await {
        v.reference_passes = run(s.url()).await;
    }
    if keeper.ensure_alive(settings, opts.timeout).await {
        let url = keeper.target.url.clone();
        let mut t = Target::parse(&url).ok();
        if let Some(t) = t.as_mut() {
            t.insecure = keeper.insecure;
        }
        if let Some(t) = t {
            let r = crate::engine::run_case(&t, settings, case, 0).await;
            v.target_fails = Some(r.fails(false));
        }
    }
    v
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn handle_finding(
    keeper: &mut Keeper,
    settings: &Settings,
    opts: &Options,
    seq: Sequence,
    n: u64,
    kind: Kind,
    detail: String,
    crash_info: Option<PostMortem>,
    found_after: Duration,
) -> Result<Finding, Error> {
    let key_seed = opts.seed ^ n;
    let before = prepare(&seq, key_seed).steps.len();
    let mut runs = 1;
    let crash_on_fresh = kind == Kind::Dead && keeper.fresh();
    if crash_on_fresh {
        keeper.want_exit = Some(crash_info.as_ref().and_then(|pm| pm.exit));
    } else if kind != Kind::Dead {
        keeper.want_key = Some(dedup_key(&detail));
    }
    let (confirmed, first_rate) = if crash_on_fresh {
        // How often the original kills a fresh target (0: it needs the state earlier
        // sequences left) decides how often each shrinking candidate is tried.
        let r = crash::rate(keeper, settings, opts, &seq, key_seed, crash::REPRO_RUNS).await;
        keeper.crash_tries = crash::tries_for(r.hits, r.runs);
        runs = r.runs as usize;
        (r.hits > 0, Some(r))
    } else {
        let fired = fires(keeper, settings, opts, &seq, kind, key_seed).await;
        (matches!(fired, Some(true)), None)
    };
    let shrink_it = confirmed;
    let shrunk = if shrink_it {
        shrink(keeper, settings, opts, seq, kind, key_seed, &mut runs).await
    } else {
        seq
    };
    let p = prepare(&shrunk, key_seed);
    let case = finding_case(&p, kind, &detail, opts.seed, n);
    let path = write_case(&opts.out, &case)?;
    // The reproduction rate of what is reported, and the target's answer to it.
    let mut answer_head = None;
    let (reproduced, crash, received) = if crash_on_fresh {
        let r = match first_rate {
            Some(r) if !shrink_it => r,
            _ => crash::rate(keeper, settings, opts, &shrunk, key_seed, crash::REPRO_RUNS).await,
        };
        let pm = r.post_mortem.or(crash_info);
        (Some((r.hits, r.runs)), pm, r.received)
    } else {
        let received = if keeper.ensure_alive(settings, opts.timeout).await {
            let obs = check_once(&keeper.target, settings, &p, 1, opts.timeout)
                .await
                .0;
            answer_head = obs.answer_head;
            obs.received
        } else {
            Vec::new()
        };
        (None, crash_info, received)
    };
    keeper.want_exit = None;
    keeper.want_key = None;
    keeper.crash_tries = 1;
    let verification = if opts.verify {
        verify(&case, keeper, settings, opts).await
    } else {
        Verification::default()
    };
    let mut finding = Finding {
        kind,
        detail,
        sequence: n,
        case_id: case.id.clone(),
        path,
        steps_before: before,
        steps_after: p.steps.len(),
        shrink_runs: runs,
        confirmed: confirmed || reproduced.is_some_and(|(h, _)| h > 0),
        verification,
        found_after,
        crash,
        reproduced,
        report: None,
        reproducer: None,
    };
    let command = keeper.restart.as_ref().and_then(|l| l.command());
    let (md, py) = bugreport::write(
        &opts.out,
        &bugreport::Input {
            finding: &finding,
            prepared: &p,
            url: &keeper.target.url,
            command: command.as_deref(),
            received: &received,
            answer_head: answer_head.as_deref(),
            seed: opts.seed,
        },
    )?;
    finding.report = Some(md);
    finding.reproducer = Some(py);
    Ok(finding)
}

/// Write a case file `<dir>/<hash>.json` (the id's last part).
pub fn write_case(dir: &Path, case: &Case) -> Result<PathBuf, Error> {
    let name = case.id.rsplit('/').next().unwrap_or("finding");
    let path = dir.join(format!("{name}.json"));
    let text = serde_json::to_string_pretty(case)
        .map_err(|e| Error::Io(format!("serialising {}: {e}", case.id)))?;
    std::fs::write(&path, text + "\n")
        .map_err(|e| Error::Io(format!("writing {}: {e}", path.display())))?;
    Ok(path)
}
