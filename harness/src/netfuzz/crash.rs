//! Crashes on fresh targets: a sequence that killed the target is replayed on a newly
//! started one, once per shrinking candidate (so that state left by earlier runs cannot
//! make a candidate look guilty) and [`REPRO_RUNS`] times for the rate, before
//! shrinking (a flaky crash gets up to three tries per candidate) and after (the
//! reported rate). It counts only when the process ends the same way (the same signal
//! or exit status).

use super::{check_once, prepare, Keeper, Kind, Options, PostMortem, Sequence};
use crate::engine::conn::Settings;

/// Fresh-target runs behind a reported reproduction rate.
pub(super) const REPRO_RUNS: u32 = 5;

/// How often a sequence killed a fresh target.
pub(super) struct Rate {
    pub hits: u32,
    pub runs: u32,
    /// How the first killed target ended.
    pub post_mortem: Option<PostMortem>,
    /// What the target answered (in the first run that killed it, else the last run).
    pub received: Vec<u8>,
}

/// Did `seq` kill a fresh target the way we look for? `None` when no fresh target
/// could be started; the answer and the post-mortem come along.
async fn run_fresh(
    keeper: &mut Keeper,
    settings: &Settings,
    opts: &Options,
    seq: &Sequence,
    key_seed: u64,
) -> Option<(bool, Vec<u8>, Option<PostMortem>)> {
    if !keeper.restart().await {
        return None;
    }
    let p = prepare(seq, key_seed);
    let (obs, f) = check_once(&keeper.target, settings, &p, 1, opts.timeout).await;
    if !matches!(f, Some((Kind::Dead, _))) {
        return Some((false, obs.received, None));
    }
    let pm = keeper.post_mortem().await;
    let same = match keeper.want_exit {
        Some(Some(want)) => pm
            .as_ref()
            .and_then(|p| p.exit)
            .is_some_and(|e| same_end(e, want)),
        _ => true,
    };
    Some((same, obs.received, pm))
}

fn same_end(a: crate::spawn::Exit, b: crate::spawn::Exit) -> bool {
    use crate::spawn::Exit;
    match (a, b) {
        (Exit::Signal { signal: x, .. }, Exit::Signal { signal: y, .. }) => x == y,
        (x, y) => x == y,
    }
}

/// [`super::fires`] for [`Kind::Dead`] when the target can be restarted fresh.
pub(super) async fn fires(
    keeper: &mut Keeper,
    settings: &Settings,
    opts: &Options,
    seq: &Sequence,
    key_seed: u64,
) -> Option<bool> {
    for _ in 0..keeper.crash_tries.max(1) {
        let (hit, _, _) = run_fresh(keeper, settings, opts, seq, key_seed).await?;
        if hit {
            return Some(true);
        }
    }
    Some(false)
}

/// Tries per shrinking candidate for a crash that killed `hits` of `runs` fresh
/// targets: one for a reliable crash, up to three for a flaky one (so that a
/// candidate is not dropped only because the crash did not happen that time).
pub(super) fn tries_for(hits: u32, runs: u32) -> u32 {
    match (hits, runs) {
        (_, 0) | (0, _) => 1,
        (h, r) if h * 5 >= r * 4 => 1,
        (h, r) if h * 5 >= r * 2 => 2,
        _ => 3,
    }
}

/// Run `seq` on `runs` fresh targets.
pub(super) async fn rate(
    keeper: &mut Keeper,
    settings: &Settings,
    opts: &Options,
    seq: &Sequence,
    key_seed: u64,
    runs: u32,
) -> Rate {
    let mut r = Rate {
        hits: 0,
        runs: 0,
        post_mortem: None,
        received: Vec::new(),
    };
    for _ in 0..runs {
        let Some((hit, received, pm)) = run_fresh(keeper, settings, opts, seq, key_seed).await
        else {
            break;
        };
        r.runs += 1;
        if hit {
            r.hits += 1;
            if r.post_mortem.is_none() {
                r.post_mortem = pm;
                r.received = received;
            }
        } else if r.post_mortem.is_none() {
            r.received = received;
        }
    }
    r
}

/// The finding's one-line detail: how the process ended and its last line of output.
pub(super) fn detail(pm: &PostMortem, probe: &str) -> String {
    let last = pm.tail.iter().rev().find(|l| !l.trim().is_empty());
    match last {
        Some(l) => {
            let l: String = l.chars().take(200).collect();
            format!("{} (last output: {l})", pm.describe())
        }
        None if pm.exit.is_none() => format!("{} ({probe})", pm.describe()),
        None => pm.describe(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn flaky_crashes_get_more_tries() {
        use super::tries_for;
        assert_eq!(tries_for(5, 5), 1);
        assert_eq!(tries_for(4, 5), 1);
        assert_eq!(tries_for(3, 5), 2);
        assert_eq!(tries_for(2, 5), 2);
        assert_eq!(tries_for(1, 5), 3);
        assert_eq!(tries_for(0, 5), 1);
        assert_eq!(tries_for(0, 0), 1);
    }
}
