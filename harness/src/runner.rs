//! Runs many cases against one target, concurrently, each on its own connection.
//! Long cases start first so the run ends close to the longest single case; timed
//! cases (section 9) run one at a time after the concurrent batch (beside only the
//! cases that sleep, such as 6.4.x), then destructive ones, one at a time, at the end.

use crate::case::{id_sort_key, Case, Step};
use crate::catalogue::autobahn_index;
use crate::engine::conn::{Settings, Target};
use crate::engine::run_case;
use crate::report::model::CaseResult;
use futures_util::stream::{self, StreamExt};

/// Default concurrency: cases mostly wait on timers, so well above the core count.
pub fn default_jobs() -> usize {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    (cores * 8).clamp(8, 64)
}

/// Run `cases` with at most `jobs` connections at a time. `on_done` is called as each
/// case finishes (for progress output). Results come back sorted by case id.
pub async fn run_all<'a>(
    target: &'a Target,
    settings: &'a Settings,
    cases: &[&'a Case],
    jobs: usize,
    on_done: impl Fn(&CaseResult),
) -> Vec<CaseResult> {
    schedule(
        cases,
        jobs,
        |case| {
            let index = autobahn_index(&case.id).unwrap_or(0);
            run_case(target, settings, case, index)
        },
        on_done,
    )
    .await
}

/// The run order for either role: the concurrent batch (longest planned waits first),
/// then timed cases one at a time (cases that mostly sleep run beside them), then
/// destructive ones one at a time. `run` plays
/// one case; results come back sorted by case id.
pub async fn schedule<'a, F, Fut>(
    cases: &[&'a Case],
    jobs: usize,
    run: F,
    on_done: impl Fn(&CaseResult),
) -> Vec<CaseResult>
where
    F: Fn(&'a Case) -> Fut,
    Fut: std::future::Future<Output = CaseResult>,
{
    // Destructive cases (those followed by a liveness probe) run last, one at a
    // time, so that a target they kill cannot spoil the verdicts of other cases.
    let (mut order, destructive): (Vec<&Case>, Vec<&Case>) =
        cases.iter().partition(|c| !c.probe_after);
    // Timed cases (section 9) run alone after the concurrent batch, so their
    // throughput is theirs alone.
    let (timed, mut order): (Vec<&Case>, Vec<&Case>) = order.drain(..).partition(|c| c.timed);
    // Longest planned waits first; ties in catalogue order.
    order.sort_by(|a, b| {
        b.planned_seconds()
            .total_cmp(&a.planned_seconds())
            .then_with(|| id_sort_key(&a.id).cmp(&id_sort_key(&b.id)))
    });
    let run = &run;
    let on_done = &on_done;
    // With more than one job, cases that mostly sleep (deliberate pauses of half a
    // second or more, e.g. 6.4.x) run beside the rest and the timed lane: they leave
    // the CPU to it, and the run does not wait for their pauses before starting it.
    let (sleepers, order): (Vec<&Case>, Vec<&Case>) = if jobs > 1 {
        order.into_iter().partition(|c| deliberate_waits(c) >= 0.5)
    } else {
        (Vec::new(), order)
    };
    let sleeping = stream::iter(sleepers)
        .map(run)
        .buffer_unordered(jobs.max(1))
        .inspect(|r| on_done(r))
        .collect::<Vec<CaseResult>>();
    let rest = async {
        let mut results: Vec<CaseResult> = stream::iter(order)
            .map(run)
            .buffer_unordered(jobs.max(1))
            .inspect(|r| on_done(r))
            .collect()
            .await;
        for case in timed {
            let r = run(case).await;
            on_done(&r);
            results.push(r);
        }
        results
    };
    let (slept, mut results) = tokio::join!(sleeping, rest);
    results.extend(slept);
    for case in destructive {
        let r = run(case).await;
        on_done(&r);
        results.push(r);
    }
    results.sort_by_key(|r| id_sort_key(&r.id));
    results
}

/// Seconds a case deliberately waits (pauses, paused reading), timers not counted.
fn deliberate_waits(c: &Case) -> f64 {
    c.steps
        .iter()
        .map(|s| match s {
            Step::Wait(w) => w.seconds,
            Step::PauseReading(s) => *s,
            _ => 0.0,
        })
        .sum()
}
