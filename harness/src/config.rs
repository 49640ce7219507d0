//! Autobahn's spec files, so that an existing Autobahn setup runs unchanged:
//! `fuzzingclient.json` for `wsspec run --config FILE` (the servers to test and the
//! cases to run) and `fuzzingserver.json` for `wsspec serve --config FILE` (see
//! [`load_server_spec`]).
//!
//! ```json
//! {
//!   "outdir": "./reports/servers",
//!   "options": {"failByDrop": false},
//!   "servers": [{"agent": "MyServer 1.0", "url": "ws://127.0.0.1:9001",
//!                "options": {"version": 18}, "origin": null, "protocols": [], "hostname": null}],
//!   "cases": ["*"],
//!   "exclude-cases": [],
//!   "exclude-agent-cases": {"MyServer*": ["6.4.*"]}
//! }
//! ```
//!
//! * `servers` (required, at least one) are run one after the other, one agent each in
//!   the same report; each needs a `url` with a `ws://` or `wss://` scheme. `agent`
//!   names the agent (default: the server's `Server` header, else `UnknownServer`),
//!   `origin` is sent as the `Origin` header and `protocols` as
//!   `Sec-WebSocket-Protocol`.
//! * `cases` (default: every case) and `exclude-cases` use the usual patterns (every
//!   one of Autobahn's 517 ids is implemented; a literal Autobahn id missing from a
//!   reduced `--cases-dir` catalogue is skipped with a note rather than refused).
//! * `exclude-agent-cases` maps an agent pattern to case patterns, both anchored at both
//!   ends (Autobahn's rule); a case excluded for an agent is not run and not reported.
//! * `outdir` is where reports go unless `--out` is given (relative to the current
//!   directory, as with Autobahn).
//! * `options` (global and per server) and `hostname` are accepted and ignored with a
//!   note: wsspec's protocol settings are fixed, and TLS uses the URL's host name.
//! * Any other key is an error pointing at `file:line:column`.

use crate::case::select::matches_whole;
use crate::error::Error;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The spec file as written (serde form).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    #[serde(default)]
    outdir: Option<String>,
    #[serde(default)]
    options: Option<serde_json::Map<String, serde_json::Value>>,
    servers: Vec<RawServer>,
    #[serde(default)]
    cases: Option<Vec<String>>,
    #[serde(default, rename = "exclude-cases")]
    exclude_cases: Vec<String>,
    #[serde(default, rename = "exclude-agent-cases")]
    exclude_agent_cases: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    #[serde(default)]
    agent: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    options: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    origin: Option<String>,
    #[serde(default)]
    protocols: Option<Vec<String>>,
    #[serde(default)]
    hostname: Option<String>,
}

/// One server to test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSpec {
    /// Agent name for the reports; `None` = from the `Server` header.
    pub agent: Option<String>,
    /// `ws://` or `wss://` URL.
    pub url: String,
    pub origin: Option<String>,
    pub protocols: Vec<String>,
}

/// A loaded `fuzzingclient.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The file it came from (for messages).
    pub path: String,
    pub outdir: Option<PathBuf>,
    pub servers: Vec<ServerSpec>,
    /// Case patterns (`None` = every case).
    pub cases: Option<Vec<String>>,
    pub exclude_cases: Vec<String>,
    /// Agent pattern → case patterns, both anchored at both ends.
    pub exclude_agent_cases: Vec<(String, Vec<String>)>,
    /// What was accepted but has no effect, in words (print them as notes).
    pub notes: Vec<String>,
}

impl Config {
    /// Is case `id` excluded for `agent` by `exclude-agent-cases`?
    pub fn excluded_for(&self, agent: &str, id: &str) -> bool {
        self.exclude_agent_cases
            .iter()
            .any(|(a, cases)| matches_whole(a, agent) && cases.iter().any(|c| matches_whole(c, id)))
    }
}

/// Read and check a spec file. Errors are [`Error::Io`] (unreadable) or
/// [`Error::Usage`] (anything wrong in it), both exit status 2.
pub fn load(path: &Path) -> Result<Config, Error> {
    let shown = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|e| Error::Io(format!("--config {shown}: {e}")))?;
    parse(&shown, &text)
}

/// Parse a spec's text; `name` is the file name used in messages.
pub fn parse(name: &str, text: &str) -> Result<Config, Error> {
    let raw: RawSpec = serde_json::from_str(text).map_err(|e| {
        let full = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let msg = full.strip_suffix(&suffix).unwrap_or(&full);
        let hint = if msg.contains("unknown field `protocols`") {
            " (in fuzzingclient mode `protocols` belongs to each server entry)"
        } else if msg.contains("unknown field") {
            " (a fuzzingclient.json has outdir, options, servers, cases, exclude-cases and \
             exclude-agent-cases; a server has agent, url, options, origin, protocols and hostname)"
        } else {
            ""
        };
        Error::Usage(format!("{name}:{}:{}: {msg}{hint}", e.line(), e.column()))
    })?;

    let mut notes = Vec::new();
    if let Some(o) = raw.options.as_ref().filter(|o| !o.is_empty()) {
        notes.push(format!(
            "{name}: options {} ignored: wsspec's protocol settings are fixed",
            keys(o)
        ));
    }
    if raw.servers.is_empty() {
        return Err(Error::Usage(format!(
            "{name}: `servers` is empty; list at least one {{\"agent\": …, \"url\": \"ws://…\"}}"
        )));
    }
    let mut servers = Vec::new();
    for (i, s) in raw.servers.into_iter().enumerate() {
        let which = match &s.agent {
            Some(a) => format!("servers[{i}] ({a})"),
            None => format!("servers[{i}]"),
        };
        let url = match s.url.as_deref().map(str::trim) {
            None | Some("") => {
                return Err(Error::Usage(format!(
                    "{name}: {which} has no `url` (e.g. \"url\": \"ws://127.0.0.1:9001\")"
                )))
            }
            Some(u) => u.to_string(),
        };
        if !url.contains("://") {
            return Err(Error::Usage(format!(
                "{name}: {which}: url `{url}` has no scheme; write ws://{url} (or wss:// for TLS)"
            )));
        }
        if let Some(o) = s.options.as_ref().filter(|o| !o.is_empty()) {
            notes.push(format!(
                "{name}: {which}: options {} ignored: wsspec's protocol settings are fixed",
                keys(o)
            ));
        }
        if let Some(h) = &s.hostname {
            notes.push(format!(
                "{name}: {which}: hostname `{h}` ignored: TLS uses the URL's host name \
                 (and verifies the certificate unless --insecure)"
            ));
        }
        servers.push(ServerSpec {
            agent: s.agent.filter(|a| !a.trim().is_empty()),
            url,
            origin: s.origin,
            protocols: s.protocols.unwrap_or_default(),
        });
    }
    Ok(Config {
        path: name.to_string(),
        outdir: raw.outdir.map(PathBuf::from),
        servers,
        cases: raw.cases,
        exclude_cases: raw.exclude_cases,
        exclude_agent_cases: raw.exclude_agent_cases.into_iter().collect(),
        notes,
    })
}

/// Autobahn's `fuzzingserver.json` (for `wsspec serve --config FILE`), as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServerSpec {
    url: Option<String>,
    #[serde(default)]
    outdir: Option<String>,
    #[serde(default)]
    options: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    protocols: Option<Vec<String>>,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    cert: Option<String>,
    #[serde(default)]
    webport: Option<serde_json::Value>,
    #[serde(default)]
    cases: Option<Vec<String>>,
    #[serde(default, rename = "exclude-cases")]
    exclude_cases: Vec<String>,
    #[serde(default, rename = "exclude-agent-cases")]
    exclude_agent_cases: BTreeMap<String, Vec<String>>,
}

/// Read a `fuzzingserver.json`: the selection and report settings as a [`Config`]
/// without servers, and the address to listen on (host and port of its `url`).
/// `options`, `protocols` (Autobahn never selects one either) and `webport` are
/// ignored with a note; TLS (`wss://`, `key`, `cert`) is not served: an error.
pub fn load_server_spec(path: &Path) -> Result<(Config, String), Error> {
    let shown = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|e| Error::Io(format!("--config {shown}: {e}")))?;
    parse_server_spec(&shown, &text)
}

/// Parse a `fuzzingserver.json`; see [`load_server_spec`].
pub fn parse_server_spec(name: &str, text: &str) -> Result<(Config, String), Error> {
    let raw: RawServerSpec = serde_json::from_str(text).map_err(|e| {
        let full = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let msg = full.strip_suffix(&suffix).unwrap_or(&full);
        let hint = if msg.contains("unknown field `servers`") {
            " (this is a fuzzingclient.json: use it with `wsspec run --config`)"
        } else if msg.contains("unknown field") {
            " (a fuzzingserver.json has url, outdir, options, protocols, key, cert, webport, \
             cases, exclude-cases and exclude-agent-cases)"
        } else {
            ""
        };
        Error::Usage(format!("{name}:{}:{}: {msg}{hint}", e.line(), e.column()))
    })?;
    let url = raw.url.as_deref().map(str::trim).unwrap_or("");
    if url.is_empty() {
        return Err(Error::Usage(format!(
            "{name}: no `url` to listen on (e.g. \"url\": \"ws://127.0.0.1:9001\")"
        )));
    }
    let parsed = url::Url::parse(url)
        .map_err(|e| Error::Usage(format!("{name}: url `{url}` does not parse: {e}")))?;
    match parsed.scheme() {
        "ws" => {}
        "wss" => {
            return Err(Error::Usage(format!(
                "{name}: url `{url}`: wsspec serve does not serve TLS yet; use ws:// (a TLS \
                 terminating proxy in front works)"
            )))
        }
        s => {
            return Err(Error::Usage(format!(
                "{name}: url `{url}`: scheme {s} (must be ws://)"
            )))
        }
    }
    let host = match parsed.host() {
        Some(url::Host::Ipv6(a)) => format!("[{a}]"),
        Some(h) => h.to_string(),
        None => "127.0.0.1".to_string(),
    };
    let listen = format!("{host}:{}", parsed.port().unwrap_or(80));
    let mut notes = Vec::new();
    if let Some(o) = raw.options.as_ref().filter(|o| !o.is_empty()) {
        notes.push(format!(
            "{name}: options {} ignored: wsspec's protocol settings are fixed",
            keys(o)
        ));
    }
    if raw.protocols.as_ref().is_some_and(|p| !p.is_empty()) {
        notes.push(format!(
            "{name}: protocols ignored: no subprotocol is selected (as in Autobahn)"
        ));
    }
    if raw.key.is_some() || raw.cert.is_some() {
        notes.push(format!("{name}: key/cert ignored: the url is ws://"));
    }
    if raw.webport.is_some() {
        notes.push(format!(
            "{name}: webport ignored: wsspec serves no web pages"
        ));
    }
    Ok((
        Config {
            path: name.to_string(),
            outdir: raw.outdir.map(PathBuf::from),
            servers: Vec::new(),
            cases: raw.cases,
            exclude_cases: raw.exclude_cases,
            exclude_agent_cases: raw.exclude_agent_cases.into_iter().collect(),
            notes,
        },
        listen,
    ))
}

fn keys(m: &serde_json::Map<String, serde_json::Value>) -> String {
    m.keys()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzzingserver_spec_is_read_and_checked() {
        let (c, listen) = parse_server_spec(
            "fs.json",
            r#"{"url": "ws://127.0.0.1:9001", "outdir": "./reports/clients",
                "options": {"failByDrop": false}, "webport": 8080,
                "cases": ["*"], "exclude-cases": ["9.*"], "exclude-agent-cases": {"a*": ["1.*"]}}"#,
        )
        .unwrap();
        assert_eq!(listen, "127.0.0.1:9001");
        assert_eq!(c.exclude_cases, ["9.*"]);
        assert!(c.excluded_for("abc", "1.1.1") && !c.excluded_for("b", "1.1.1"));
        assert_eq!(c.notes.len(), 2, "{:?}", c.notes);
        let e = parse_server_spec("fs.json", r#"{"url": "ws://h:1", "servers": []}"#).unwrap_err();
        assert!(e.to_string().contains("fuzzingclient.json"), "{e}");
        let e = parse_server_spec("fs.json", r#"{"outdir": "x"}"#).unwrap_err();
        assert!(e.to_string().contains("no `url`"), "{e}");
        let e = parse_server_spec("fs.json", r#"{"url": "wss://h:1"}"#).unwrap_err();
        assert!(e.to_string().contains("TLS"), "{e}");
        let e = parse_server_spec("fs.json", "{\n  \"url\": 3\n}").unwrap_err();
        assert!(e.to_string().starts_with("fs.json:2:"), "{e}");
    }

    const AUTOBAHN_TEMPLATE: &str = r#"{
   "outdir": "./reports/servers",
   "options": {"failByDrop": false},
   "servers": [
      {"agent": "MyServer 1.0", "url": "ws://127.0.0.1:9001",
       "options": {"version": 18}, "origin": null, "protocols": [], "hostname": null}
   ],
   "cases": ["*"],
   "exclude-cases": ["9.*", "12.*", "13.*"],
   "exclude-agent-cases": {"MyServer*": ["6.4.*"], "other": ["1.1.1"]}
}"#;

    #[test]
    fn autobahn_template_loads() {
        let c = parse("spec.json", AUTOBAHN_TEMPLATE).expect("valid spec");
        assert_eq!(c.outdir, Some(PathBuf::from("./reports/servers")));
        assert_eq!(c.servers.len(), 1);
        assert_eq!(c.servers[0].agent.as_deref(), Some("MyServer 1.0"));
        assert_eq!(c.servers[0].url, "ws://127.0.0.1:9001");
        assert_eq!(c.cases, Some(vec!["*".to_string()]));
        assert_eq!(c.exclude_cases.len(), 3);
        assert_eq!(c.notes.len(), 2, "{:?}", c.notes);
        assert!(c.notes[0].contains("`failByDrop`"));
        assert!(c.excluded_for("MyServer 1.0", "6.4.3"));
        assert!(!c.excluded_for("MyServer 1.0", "6.5.1"));
        assert!(!c.excluded_for("YourServer", "6.4.3"));
        assert!(c.excluded_for("other", "1.1.1"));
        assert!(!c.excluded_for("other", "1.1.10"), "anchored at both ends");
    }

    #[test]
    fn unknown_keys_point_at_line_and_column() {
        let text = "{\n  \"servers\": [{\"url\": \"ws://h:1\"}],\n  \"casez\": []\n}";
        let msg = parse("f.json", text).expect_err("unknown key").to_string();
        assert!(msg.starts_with("f.json:3:"), "{msg}");
        assert!(msg.contains("unknown field `casez`"), "{msg}");

        let text = "{\"servers\": [{\"url\": \"ws://h:1\", \"agnet\": \"x\"}]}";
        let msg = parse("f.json", text).expect_err("unknown key").to_string();
        assert!(
            msg.starts_with("f.json:1:") && msg.contains("`agnet`"),
            "{msg}"
        );

        let text = "{\"servers\": [{\"url\": \"ws://h:1\"}], \"protocols\": []}";
        let msg = parse("f.json", text)
            .expect_err("top-level protocols")
            .to_string();
        assert!(msg.contains("belongs to each server"), "{msg}");
    }

    #[test]
    fn bad_servers_are_clear_errors() {
        let msg = parse("f.json", r#"{"servers": [{"agent": "a"}]}"#)
            .expect_err("no url")
            .to_string();
        assert_eq!(
            msg,
            "f.json: servers[0] (a) has no `url` (e.g. \"url\": \"ws://127.0.0.1:9001\")"
        );
        let msg = parse("f.json", r#"{"servers": [{"url": "127.0.0.1:9001"}]}"#)
            .expect_err("no scheme")
            .to_string();
        assert!(
            msg.contains("has no scheme; write ws://127.0.0.1:9001"),
            "{msg}"
        );
        let msg = parse("f.json", r#"{"servers": []}"#)
            .expect_err("empty")
            .to_string();
        assert!(msg.contains("`servers` is empty"), "{msg}");
        let msg = parse("f.json", r#"{"cases": ["*"]}"#)
            .expect_err("missing servers")
            .to_string();
        assert!(msg.contains("missing field `servers`"), "{msg}");
        let msg = parse("f.json", "{").expect_err("syntax").to_string();
        assert!(msg.starts_with("f.json:1:"), "{msg}");
    }
}
