//! Runs many cases against one target, concurrently, each on its own connection.
//! Long cases start first so the run ends close to the longest single case.

use crate::case::{id_sort_key, Case};
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
pub async fn run_all(
    target: &Target,
    settings: &Settings,
    cases: &[&Case],
    jobs: usize,
    on_done: impl Fn(&CaseResult),
) -> Vec<CaseResult> {
    let mut order: Vec<&Case> = cases.to_vec();
    // Longest planned waits first; ties in catalogue order.
    order.sort_by(|a, b| {
        b.planned_seconds()
            .total_cmp(&a.planned_seconds())
            .then_with(|| id_sort_key(&a.id).cmp(&id_sort_key(&b.id)))
    });
    let mut results: Vec<CaseResult> = stream::iter(order)
        .map(|case| async move {
            let index = autobahn_index(&case.id).unwrap_or(0);
            run_case(target, settings, case, index).await
        })
        .buffer_unordered(jobs.max(1))
        .inspect(|r| on_done(r))
        .collect()
        .await;
    results.sort_by_key(|r| id_sort_key(&r.id));
    results
}
