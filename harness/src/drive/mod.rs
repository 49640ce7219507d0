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
