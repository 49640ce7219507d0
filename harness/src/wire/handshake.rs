//! The HTTP/1.1 opening handshake (RFC 6455 §4): building the client's request,
//! parsing and checking the server's 101 response, and — for server mode — parsing a
//! request and building the 101 response. Heads are parsed with `httparse`; whatever
//! follows a head belongs to the frame layer.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use sha1::{Digest, Sha1};

/// The GUID appended to the key before hashing (RFC 6455 §1.3).
const WS_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Most headers a parsed head may have.
const MAX_HEADERS: usize = 128;

/// A fresh Sec-WebSocket-Key: 16 random bytes, base64 (24 characters).
pub fn generate_key() -> String {
    let bytes: [u8; 16] = rand::random();
    BASE64.encode(bytes)
}

/// The Sec-WebSocket-Accept value for `key`: base64(SHA-1(key + GUID)).
pub fn accept_key(key: &str) -> String {
    let mut h = Sha1::new();
    h.update(key.as_bytes());
    h.update(WS_GUID.as_bytes());
    BASE64.encode(h.finalize())
}

/// The opening request: request line, then User-Agent, Host, Upgrade, Connection,
/// Pragma, Cache-Control, Sec-WebSocket-Key, each of `extra`, Sec-WebSocket-Version,
/// CRLF line ends and a final empty line. Values are written as given (a case may want
/// to send odd ones).
pub fn build_request(
    path: &str,
    host: &str,
    key: &str,
    user_agent: &str,
    extra: &[(String, String)],
) -> Vec<u8> {
    let mut s = format!(
        "GET {path} HTTP/1.1\r\n\
         User-Agent: {user_agent}\r\n\
         Host: {host}\r\n\
         Upgrade: websocket\r\n\
         Connection: Upgrade\r\n\
         Pragma: no-cache\r\n\
         Cache-Control: no-cache\r\n\
         Sec-WebSocket-Key: {key}\r\n"
    );
    push_headers(&mut s, extra);
    s.push_str("Sec-WebSocket-Version: 13\r\n\r\n");
    s.into_bytes()
}

/// The server's 101 response to a request carrying `key`, with `extra` headers.
#[cfg(feature = "internals")] // for the tests, testkit and fuzz targets
pub fn build_response(key: &str, extra: &[(String, String)]) -> Vec<u8> {
    let mut s = format!(
        "HTTP/1.1 101 Switching Protocols\r\n\
         Upgrade: websocket\r\n\
         Connection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n",
        accept_key(key)
    );
    push_headers(&mut s, extra);
    s.push_str("\r\n");
    s.into_bytes()
}

fn push_headers(s: &mut String, headers: &[(String, String)]) {
    for (name, value) in headers {
        s.push_str(name);
        s.push_str(": ");
        s.push_str(value);
        s.push_str("\r\n");
    }
}

/// First value of header `name` (case-insensitive).
fn find<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// All values of header `name` (case-insensitive), in order.
fn find_all<'a>(headers: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect()
}

fn convert_headers(headers: &[httparse::Header<'_>]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect()
}

/// A parsed response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    /// Bytes of the head, including the final CRLFCRLF.
    pub head_len: usize,
}

impl Response {
    /// First header with this name, case-insensitive.
    pub fn header(&self, name: &str) -> Option<&str> {
        find(&self.headers, name)
    }

    /// All values of a header (case-insensitive name).
    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        find_all(&self.headers, name)
    }
}

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Minor version: 0 or 1 for HTTP/1.x.
    pub version: u8,
    pub headers: Vec<(String, String)>,
    /// Bytes of the head, including the final CRLFCRLF.
    pub head_len: usize,
}

impl Request {
    /// First header with this name, case-insensitive.
    pub fn header(&self, name: &str) -> Option<&str> {
        find(&self.headers, name)
    }

    /// All values of a header (case-insensitive name).
    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        find_all(&self.headers, name)
    }
}

/// Why a head could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    #[error("the response head is larger than {0} bytes")]
    TooLarge(usize),
    #[error("malformed HTTP response: {0}")]
    Malformed(String),
    #[error("malformed HTTP request: {0}")]
    MalformedRequest(String),
}

/// Parse a response head (up to 128 headers; values as lossy UTF-8).
///
/// `Ok(None)` if the head is incomplete and `buf.len() <= max_head`;
/// `Err(TooLarge(max_head))` if it is incomplete and longer (only the first `max_head`
/// bytes are looked at, so a complete head longer than `max_head` is too large as
/// well). Bytes after `head_len` belong to the frame layer.
pub fn parse_response(buf: &[u8], max_head: usize) -> Result<Option<Response>, HandshakeError> {
    let window = buf.get(..max_head).unwrap_or(buf);
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(window) {
        Ok(httparse::Status::Complete(head_len)) => Ok(Some(Response {
            status: resp.code.unwrap_or(0),
            reason: resp.reason.unwrap_or("").to_string(),
            headers: convert_headers(resp.headers),
            head_len,
        })),
        Ok(httparse::Status::Partial) if buf.len() > max_head => {
            Err(HandshakeError::TooLarge(max_head))
        }
        Ok(httparse::Status::Partial) => Ok(None),
        Err(e) => Err(HandshakeError::Malformed(e.to_string())),
    }
}

/// Parse a request head; same contract as [`parse_response`].
pub fn parse_request(buf: &[u8], max_head: usize) -> Result<Option<Request>, HandshakeError> {
    let window = buf.get(..max_head).unwrap_or(buf);
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(window) {
        Ok(httparse::Status::Complete(head_len)) => Ok(Some(Request {
            method: req.method.unwrap_or("").to_string(),
            path: req.path.unwrap_or("").to_string(),
            version: req.version.unwrap_or(1),
            headers: convert_headers(req.headers),
            head_len,
        })),
        Ok(httparse::Status::Partial) if buf.len() > max_head => {
            Err(HandshakeError::TooLarge(max_head))
        }
        Ok(httparse::Status::Partial) => Ok(None),
        Err(e) => Err(HandshakeError::MalformedRequest(e.to_string())),
    }
}

/// Does any of `values` hold `token` in its comma-separated list (case-insensitive)?
fn has_token(values: &[&str], token: &str) -> bool {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// Check a response against RFC 6455 §4.1: status 101, `Upgrade` holds the token
/// `websocket`, `Connection` holds the token `upgrade` (both case-insensitive, in
/// comma-separated lists), and exactly one `Sec-WebSocket-Accept` equal to
/// [`accept_key`]`(key)`. The error says in words what is wrong.
pub fn check_response(resp: &Response, key: &str) -> Result<(), String> {
    if resp.status != 101 {
        let reason = if resp.reason.is_empty() {
            String::new()
        } else {
            format!(" {}", resp.reason)
        };
        return Err(format!("expected status 101, got {}{reason}", resp.status));
    }

    let upgrade = resp.headers_named("Upgrade");
    if upgrade.is_empty() {
        return Err("missing Upgrade header".to_string());
    }
    if !has_token(&upgrade, "websocket") {
        return Err(format!(
            "Upgrade header does not contain \"websocket\": {:?}",
            upgrade.join(", ")
        ));
    }

    let connection = resp.headers_named("Connection");
    if connection.is_empty() {
        return Err("missing Connection header".to_string());
    }
    if !has_token(&connection, "upgrade") {
        return Err(format!(
            "Connection header does not contain \"Upgrade\": {:?}",
            connection.join(", ")
        ));
    }

    let expected = accept_key(key);
    match resp.headers_named("Sec-WebSocket-Accept").as_slice() {
        [] => Err("missing Sec-WebSocket-Accept header".to_string()),
        [got] if got.trim() == expected => Ok(()),
        [got] => Err(format!(
            "wrong Sec-WebSocket-Accept: expected {expected:?}, got {got:?}"
        )),
        many => Err(format!(
            "Sec-WebSocket-Accept appears {} times, expected exactly once",
            many.len()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
    const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    fn ok_response() -> Vec<u8> {
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Accept: {ACCEPT}\r\n\r\n"
        )
        .into_bytes()
    }

    fn parse(s: &str) -> Response {
        parse_response(s.as_bytes(), 8192).unwrap().unwrap()
    }

    #[test]
    fn accept_key_rfc_example() {
        assert_eq!(accept_key(KEY), ACCEPT);
    }

    #[test]
    fn generated_keys_are_16_random_bytes() {
        let a = generate_key();
        let b = generate_key();
        assert_eq!(a.len(), 24);
        assert_eq!(BASE64.decode(&a).unwrap().len(), 16);
        assert_ne!(a, b);
    }

    #[test]
    fn request_layout() {
        let extra = vec![
            ("Origin".to_string(), "http://example.com".to_string()),
            (
                "Sec-WebSocket-Extensions".to_string(),
                "permessage-deflate".to_string(),
            ),
        ];
        let req = build_request(
            "/chat?x=1",
            "server.example.com:9001",
            KEY,
            "wsspec/0.1",
            &extra,
        );
        let expected = "GET /chat?x=1 HTTP/1.1\r\n\
                        User-Agent: wsspec/0.1\r\n\
                        Host: server.example.com:9001\r\n\
                        Upgrade: websocket\r\n\
                        Connection: Upgrade\r\n\
                        Pragma: no-cache\r\n\
                        Cache-Control: no-cache\r\n\
                        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
                        Origin: http://example.com\r\n\
                        Sec-WebSocket-Extensions: permessage-deflate\r\n\
                        Sec-WebSocket-Version: 13\r\n\
                        \r\n";
        assert_eq!(String::from_utf8(req.clone()).unwrap(), expected);

        // And it parses back as a request.
        let r = parse_request(&req, 8192).unwrap().unwrap();
        assert_eq!(r.method, "GET");
        assert_eq!(r.path, "/chat?x=1");
        assert_eq!(r.version, 1);
        assert_eq!(r.head_len, req.len());
        assert_eq!(r.header("sec-websocket-key"), Some(KEY));
        assert_eq!(r.header("HOST"), Some("server.example.com:9001"));
        assert_eq!(r.headers_named("sec-websocket-version"), vec!["13"]);
        assert_eq!(r.headers.len(), 10);
    }

    #[test]
    fn response_round_trip_and_check() {
        let extra = vec![("X-Test".to_string(), "1".to_string())];
        let bytes = build_response(KEY, &extra);
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
                 Connection: Upgrade\r\nSec-WebSocket-Accept: {ACCEPT}\r\nX-Test: 1\r\n\r\n"
            )
        );
        let r = parse_response(&bytes, 8192).unwrap().unwrap();
        assert_eq!(r.status, 101);
        assert_eq!(r.reason, "Switching Protocols");
        assert_eq!(r.head_len, bytes.len());
        assert_eq!(r.header("x-test"), Some("1"));
        assert_eq!(check_response(&r, KEY), Ok(()));
        assert!(check_response(&r, "AAAAAAAAAAAAAAAAAAAAAA==").is_err());
    }

    #[test]
    fn trailing_bytes_belong_to_frames() {
        let mut bytes = ok_response();
        let head = bytes.len();
        bytes.extend_from_slice(&[0x81, 0x02, b'h', b'i']);
        let r = parse_response(&bytes, 8192).unwrap().unwrap();
        assert_eq!(r.head_len, head);
        assert_eq!(&bytes[r.head_len..], &[0x81, 0x02, b'h', b'i']);
    }

    #[test]
    fn incomplete_and_too_large() {
        let full = ok_response();
        for cut in 0..full.len() {
            assert_eq!(parse_response(&full[..cut], 8192), Ok(None), "cut {cut}");
        }
        assert!(parse_response(&full, full.len()).unwrap().is_some());
        // Incomplete and already longer than the limit.
        let partial = &full[..full.len() - 2];
        assert_eq!(
            parse_response(partial, 20),
            Err(HandshakeError::TooLarge(20))
        );
        assert_eq!(parse_response(partial, partial.len()), Ok(None));
        // A complete head longer than the limit is too large as well.
        assert_eq!(parse_response(&full, 20), Err(HandshakeError::TooLarge(20)));
        assert_eq!(
            HandshakeError::TooLarge(20).to_string(),
            "the response head is larger than 20 bytes"
        );
        // Same for requests.
        let req = build_request("/", "h", KEY, "ua", &[]);
        assert_eq!(parse_request(&req[..10], 8192), Ok(None));
        assert_eq!(
            parse_request(&req[..30], 20),
            Err(HandshakeError::TooLarge(20))
        );
        assert_eq!(parse_request(&req, 20), Err(HandshakeError::TooLarge(20)));
        assert_eq!(parse_request(b"", 0), Ok(None));
    }

    #[test]
    fn malformed_heads() {
        assert!(matches!(
            parse_response(b"HTTP/1.1 abc OK\r\n\r\n", 8192),
            Err(HandshakeError::Malformed(_))
        ));
        assert!(matches!(
            parse_response(b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 8192),
            Err(HandshakeError::Malformed(_))
        ));
        assert!(matches!(
            parse_request(b"GET / HTTP/1.1\r\nBad Header\r\n\r\n", 8192),
            Err(HandshakeError::MalformedRequest(_))
        ));
        // More than 128 headers.
        let mut many = String::from("HTTP/1.1 101 OK\r\n");
        for i in 0..129 {
            many.push_str(&format!("X-{i}: v\r\n"));
        }
        many.push_str("\r\n");
        assert!(matches!(
            parse_response(many.as_bytes(), 1 << 20),
            Err(HandshakeError::Malformed(_))
        ));
    }

    #[test]
    fn lossy_header_values() {
        let bytes = b"HTTP/1.1 101 OK\r\nX-Bin: a\xffb\r\n\r\n";
        let r = parse_response(bytes, 8192).unwrap().unwrap();
        assert_eq!(r.header("x-bin"), Some("a\u{fffd}b"));
    }

    #[test]
    fn bad_status() {
        let r = parse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(
            check_response(&r, KEY),
            Err("expected status 101, got 200 OK".to_string())
        );
        let r = parse("HTTP/1.1 404 Not Found\r\n\r\n");
        assert_eq!(
            check_response(&r, KEY),
            Err("expected status 101, got 404 Not Found".to_string())
        );
    }

    #[test]
    fn missing_or_wrong_accept() {
        let r = parse(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        );
        assert_eq!(
            check_response(&r, KEY),
            Err("missing Sec-WebSocket-Accept header".to_string())
        );
        let r = parse(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOO=\r\n\r\n",
        );
        let e = check_response(&r, KEY).unwrap_err();
        assert!(e.starts_with("wrong Sec-WebSocket-Accept"), "{e}");
    }

    #[test]
    fn duplicate_accept() {
        let r = parse(&format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {ACCEPT}\r\nsec-websocket-accept: {ACCEPT}\r\n\r\n"
        ));
        let e = check_response(&r, KEY).unwrap_err();
        assert!(e.contains("2 times"), "{e}");
    }

    #[test]
    fn upgrade_and_connection_tokens() {
        let with = |upgrade: &str, connection: &str| {
            parse(&format!(
                "HTTP/1.1 101 Switching Protocols\r\n{upgrade}{connection}\
                 Sec-WebSocket-Accept: {ACCEPT}\r\n\r\n"
            ))
        };
        let ok = |u: &str, c: &str| check_response(&with(u, c), KEY);
        assert_eq!(
            ok("Upgrade: websocket\r\n", "Connection: Upgrade\r\n"),
            Ok(())
        );
        // Header names and token values are case-insensitive.
        assert_eq!(
            ok("UPGRADE: WebSocket\r\n", "connection: upgrade\r\n"),
            Ok(())
        );
        assert_eq!(
            ok(
                "upgrade: websocket\r\n",
                "Connection: keep-alive, Upgrade\r\n"
            ),
            Ok(())
        );
        assert_eq!(
            ok(
                "Upgrade: websocket\r\n",
                "Connection: keep-alive\r\nConnection: Upgrade\r\n"
            ),
            Ok(())
        );
        assert_eq!(
            ok("Upgrade: foo, websocket\r\n", "Connection: Upgrade\r\n"),
            Ok(())
        );
        assert_eq!(
            ok("", "Connection: Upgrade\r\n"),
            Err("missing Upgrade header".to_string())
        );
        assert!(ok("Upgrade: h2c\r\n", "Connection: Upgrade\r\n")
            .unwrap_err()
            .contains("websocket"));
        assert_eq!(
            ok("Upgrade: websocket\r\n", ""),
            Err("missing Connection header".to_string())
        );
        assert!(ok("Upgrade: websocket\r\n", "Connection: keep-alive\r\n")
            .unwrap_err()
            .contains("Upgrade"));
        // A token must match whole, not as a substring.
        assert!(ok("Upgrade: websocket\r\n", "Connection: upgraded\r\n").is_err());
        assert!(ok("Upgrade: websockets\r\n", "Connection: Upgrade\r\n").is_err());
    }

    #[test]
    fn header_lookup_is_case_insensitive() {
        let r = parse(&String::from_utf8(ok_response()).unwrap());
        assert_eq!(r.header("sec-websocket-accept"), Some(ACCEPT));
        assert_eq!(r.header("SEC-WEBSOCKET-ACCEPT"), Some(ACCEPT));
        assert_eq!(r.header("missing"), None);
        assert_eq!(r.headers_named("UPGRADE"), vec!["websocket"]);
        assert!(r.headers_named("nope").is_empty());
    }

    #[test]
    fn never_panics_on_garbage() {
        let mut x: u64 = 0x1234_5678;
        for n in 0..2000usize {
            let len = n % 200;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    b"HTTP/1.1 101 GET \r\n:ab\xff"[(x % 22) as usize]
                })
                .collect();
            let _ = parse_response(&bytes, n % 64);
            let _ = parse_request(&bytes, n % 64);
            if let Ok(Some(r)) = parse_response(&bytes, 1000) {
                let _ = check_response(&r, KEY);
            }
        }
    }
}
