//! External oracle: against tokio-tungstenite's echo server, every one of Autobahn's 517
//! cases (sections 9.x OK, 12.x/13.x UNIMPLEMENTED: no deflate) must get exactly the verdicts Autobahn|Testsuite published for tungstenite
//! (`behavior`, `behaviorClose`, `remoteCloseCode`), over real sockets.

use std::collections::BTreeMap;
use wsspec::engine::conn::{Settings, Target};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verdicts_equal_autobahns_published_results_for_tungstenite() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../reports/baseline/autobahn-tungstenite-index.json"
    ))
    .unwrap();
    let index: serde_json::Value = serde_json::from_str(&text).unwrap();
    let expected = index["Tungstenite"].as_object().unwrap();

    let server = wsspec::server::start(0).await.unwrap();
    let target = Target::parse(&server.url()).unwrap();
    let all = wsspec::catalogue::builtin().unwrap();
    // Autobahn's numbered cases only (our own cases have slug ids).
    let cases: Vec<&wsspec::case::Case> = all.iter().filter(|c| !c.id.contains('/')).collect();
    assert_eq!(cases.len(), 517);
    let results = wsspec::runner::run_all(&target, &Settings::default(), &cases, 32, |_| {}).await;
    assert_eq!(results.len(), cases.len(), "one result per case");

    let mut mismatches = BTreeMap::new();
    for r in &results {
        let e = &expected[&r.id];
        let want = (
            e["behavior"].as_str().unwrap().to_string(),
            e["behaviorClose"].as_str().unwrap().to_string(),
            e["remoteCloseCode"].as_u64().map(|c| c as u16),
        );
        let got = (
            r.behavior.as_str().to_string(),
            r.behavior_close.as_str().to_string(),
            r.close.remote_close_code,
        );
        if want != got {
            mismatches.insert(
                r.id.clone(),
                format!("want {want:?}, got {got:?}: {} | {}", r.result, r.actual),
            );
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{:#?}",
        mismatches.len(),
        mismatches
    );
}
