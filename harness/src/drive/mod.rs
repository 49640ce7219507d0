//! Ways of getting connections for cases when wsspec plays the server (it tests a
//! client): [`fuzzingserver`] waits for client drivers that speak Autobahn's URL
//! protocol, [`exec`] starts a client command per case. Both hand each connection to
//! [`crate::engine::serve_case`]; dialing servers (the client role) is
//! [`crate::runner`].

pub mod exec;
pub mod fuzzingserver;

/// `key=value` pairs of a URL query, percent-decoded.
pub(crate) fn query_pairs(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// RFC 6455 §4.1: the Sec-WebSocket-Key "MUST be selected randomly for each
/// connection". Across one client's results (in case order), a case whose request
/// repeats an earlier case's key is FAILED, naming that case. Runs over finished
/// results, so it holds whatever order the cases ran in.
pub fn check_fresh_keys(results: &mut [crate::report::model::CaseResult]) {
    let mut seen: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for r in results.iter_mut() {
        let Some(key) = request_key(&r.http_request) else {
            continue;
        };
        match seen.get(&key) {
            Some(first) => {
                r.behavior = crate::report::model::Verdict::Failed;
                r.result = format!(
                    "the client sent the Sec-WebSocket-Key of case {first} again ({key}): \
                     RFC 6455 §4.1 wants a fresh random key for each connection"
                );
            }
            None => {
                seen.insert(key, r.id.clone());
            }
        }
    }
}

fn request_key(head: &str) -> Option<String> {
    head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("Sec-WebSocket-Key")
            .then(|| value.trim().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::{CaseResult, Verdict};

    #[test]
    fn a_repeated_key_fails_the_later_case() {
        let mut a = CaseResult::sample("1.1.1", Verdict::Ok, Verdict::Ok);
        a.http_request =
            "GET / HTTP/1.1\r\nsec-websocket-key: AAAAAAAAAAAAAAAAAAAAAA==\r\n\r\n".into();
        let mut b = CaseResult::sample("1.1.2", Verdict::Ok, Verdict::Ok);
        b.http_request = a.http_request.clone();
        let mut c = CaseResult::sample("1.1.3", Verdict::Ok, Verdict::Ok);
        c.http_request =
            "GET / HTTP/1.1\r\nSec-WebSocket-Key: BAAAAAAAAAAAAAAAAAAAAA==\r\n\r\n".into();
        let mut all = vec![a, b, c];
        check_fresh_keys(&mut all);
        assert_eq!(all[0].behavior, Verdict::Ok);
        assert_eq!(all[1].behavior, Verdict::Failed);
        assert!(all[1].result.contains("case 1.1.1"), "{}", all[1].result);
        assert_eq!(all[2].behavior, Verdict::Ok);
    }
}
