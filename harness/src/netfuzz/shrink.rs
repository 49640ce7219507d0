//! Shrinking a finding: keeping the target reachable between runs, and dropping
//! or simplifying steps while the same oracle still fires.

use super::encode::prepare;
use super::execute::{check_once, probe};
use super::generate::Sequence;
use super::{crash, dedup_key, Kind, Lifecycle, Options, PostMortem};
use crate::case::{FrameStep, Length, MessageStep, Payload, Step};
use crate::engine::conn::{Settings, Target};
use futures_util::future::BoxFuture;
use std::time::Duration;
use tokio::time::Instant;

/// Keeps the target reachable between runs (restart hook or waiting for recovery).
pub(super) struct Keeper {
    pub(super) target: Target,
    pub(super) restart: Option<Box<dyn Lifecycle>>,
    pub(super) insecure: bool,
    /// It died, had no restart hook and did not come back: stop asking.
    pub(super) gone: bool,
    /// While confirming and shrinking a crash: how the process must end to count as
    /// the same crash (`None` inside: any way, e.g. not ours to watch).
    pub(super) want_exit: Option<Option<crate::spawn::Exit>>,
    /// While confirming and shrinking other findings: the [`dedup_key`] of the detail,
    /// so that shrinking cannot wander off to another bug of the same kind.
    pub(super) want_key: Option<String>,
    /// Fresh-target runs per crash-shrinking candidate (more for flaky crashes).
    pub(super) crash_tries: u32,
}

impl Keeper {
    /// Bring up a fresh target through the lifecycle (false without one or on failure).
    pub(super) async fn restart(&mut self) -> bool {
        let Some(life) = self.restart.as_mut() else {
            return false;
        };
        match life.restart().await {
            Ok(url) => match Target::parse(&url) {
                Ok(mut t) => {
                    t.insecure = self.insecure;
                    self.target = t;
                    true
                }
                Err(_) => false,
            },
            Err(_) => false,
        }
    }

    /// Whether crashes can be replayed on fresh targets.
    pub(super) fn fresh(&self) -> bool {
        self.restart.as_ref().is_some_and(|l| l.fresh())
    }

    pub(super) async fn post_mortem(&mut self) -> Option<PostMortem> {
        self.restart.as_mut()?.post_mortem().await
    }

    /// Make sure the target answers a probe; restart it if we can. False if it stays dead.
    pub(super) async fn ensure_alive(&mut self, settings: &Settings, timeout: Duration) -> bool {
        if self.gone {
            return false;
        }
        if probe(&self.target, settings, 0, timeout).await.is_ok() {
            return true;
        }
        if self.restart.is_some() {
            return self.restart().await && probe(&self.target, settings, 0, timeout).await.is_ok();
        }
        // No hook: give it a few chances to come back by itself.
        for _ in 0..3 {
            tokio::time::sleep(timeout / 2).await;
            if probe(&self.target, settings, 0, timeout).await.is_ok() {
                return true;
            }
        }
        self.gone = true;
        false
    }
}

/// Does `seq` still fire `kind`? (Brings the target back first if needed.)
pub(super) async fn fires(
    keeper: &mut Keeper,
    settings: &Settings,
    opts: &Options,
    seq: &Sequence,
    kind: Kind,
    key_seed: u64,
) -> Option<bool> {
    if kind == Kind::Dead && keeper.fresh() {
        return crash::fires(keeper, settings, opts, seq, key_seed).await;
    }
    if !keeper.ensure_alive(settings, opts.timeout).await {
        return None;
    }
    let p = prepare(seq, key_seed);
    let (_, f) = check_once(&keeper.target, settings, &p, 1, opts.timeout).await;
    Some(f.is_some_and(|(k, d)| {
        k == kind && keeper.want_key.as_ref().is_none_or(|w| *w == dedup_key(&d))
    }))
}

/// Smaller variants of one step (shorter payload, no chopping, no fragmenting).
fn simpler(step: &Step) -> Vec<Step> {
    let mut out = Vec::new();
    let shorter = |p: &Payload| -> Vec<Payload> {
        let b = p.bytes();
        if b.is_empty() {
            return Vec::new();
        }
        let mut v = vec![Payload::from_bytes(&[])];
        if b.len() > 1 {
            v.push(Payload::from_bytes(&b[..b.len() / 2]));
        }
        v
    };
    match step {
        Step::Send(f) => {
            if f.chop.is_some() {
                out.push(Step::Send(FrameStep {
                    chop: None,
                    ..f.clone()
                }));
            }
            if !matches!(f.length, Length::Claim(_)) {
                for p in shorter(&f.payload) {
                    out.push(Step::Send(FrameStep {
                        payload: p,
                        ..f.clone()
                    }));
                }
            }
        }
        Step::Message(m) => {
            if m.chop.is_some() || m.fragment_size.is_some() {
                out.push(Step::Message(MessageStep {
                    chop: None,
                    fragment_size: None,
                    ..m.clone()
                }));
            }
            // Halving text may cut a character: only shorten binary or ASCII.
            if m.binary || m.payload.bytes().is_ascii() {
                for p in shorter(&m.payload) {
                    out.push(Step::Message(MessageStep {
                        payload: p,
                        ..m.clone()
                    }));
                }
            }
        }
        _ => {}
    }
    out
}

/// Shrink `seq` while it keeps firing `kind`, within the run and time budgets.
pub(super) async fn shrink(
    keeper: &mut Keeper,
    settings: &Settings,
    opts: &Options,
    seq: Sequence,
    kind: Kind,
    key_seed: u64,
    runs: &mut usize,
) -> Sequence {
    let mut oracle = OnServer {
        keeper,
        settings,
        opts,
        kind,
        key_seed,
    };
    shrink_with(opts, seq, runs, &mut oracle).await
}

/// Runs a candidate sequence and says whether the finding being shrunk still fires
/// (`None`: the target is gone, stop shrinking).
pub(super) trait Oracle: Send {
    fn fires<'a>(&'a mut self, seq: &'a Sequence) -> BoxFuture<'a, Option<bool>>;
}

/// [`fires`] against a server target.
struct OnServer<'k> {
    keeper: &'k mut Keeper,
    settings: &'k Settings,
    opts: &'k Options,
    kind: Kind,
    key_seed: u64,
}

impl Oracle for OnServer<'_> {
    fn fires<'a>(&'a mut self, seq: &'a Sequence) -> BoxFuture<'a, Option<bool>> {
        Box::pin(fires(
            self.keeper,
            self.settings,
            self.opts,
            seq,
            self.kind,
            self.key_seed,
        ))
    }
}

/// Shrink `seq` while `oracle` says it still fires, within the run and time budgets.
pub(super) async fn shrink_with(
    opts: &Options,
    seq: Sequence,
    runs: &mut usize,
    oracle: &mut dyn Oracle,
) -> Sequence {
    let deadline = Instant::now() + opts.shrink_time;
    let mut best = seq;
    let budget = |runs: &usize| *runs < opts.shrink_runs && Instant::now() < deadline;
    // Drop the handshake mutation if it is not needed.
    if best.handshake.is_some() && budget(runs) {
        let cand = Sequence {
            handshake: None,
            ..best.clone()
        };
        *runs += 1;
        match oracle.fires(&cand).await {
            Some(true) => best = cand,
            Some(false) => {}
            None => return best,
        }
    }
    // Remove runs of steps, halving the run length (delta debugging).
    let mut chunk = best.steps.len().div_ceil(2).max(1);
    loop {
        let mut i = 0;
        while i < best.steps.len() && budget(runs) {
            let mut cand = best.clone();
            let end = (i + chunk).min(cand.steps.len());
            cand.steps.drain(i..end);
            if cand.steps.is_empty() {
                i += chunk;
                continue;
            }
            *runs += 1;
            match oracle.fires(&cand).await {
                Some(true) => best = cand,
                Some(false) => i += chunk,
                None => return best,
            }
        }
        if chunk == 1 || !budget(runs) {
            break;
        }
        chunk = chunk.div_ceil(2);
    }
    // Simplify the remaining steps one by one.
    let mut i = 0;
    while i < best.steps.len() && budget(runs) {
        let mut improved = false;
        for s in simpler(&best.steps[i]) {
            if !budget(runs) {
                break;
            }
            let mut cand = best.clone();
            cand.steps[i] = s;
            *runs += 1;
            match oracle.fires(&cand).await {
                Some(true) => {
                    best = cand;
                    improved = true;
                    break;
                }
                Some(false) => {}
                None => return best,
            }
        }
        if !improved {
            i += 1;
        }
    }
    best
}
