//! The server side of the opening handshake (RFC 6455 §4.2): read a client's request
//! with bounds on time and size, check it, answer 101 (with the permessage-deflate
//! settings a case accepts) or an HTTP error. Produces a [`Session`] in the server role.

use super::conn::{Io, Settings};
use super::session::Session;
use crate::case::{Answer, DeflateAccept};
use crate::rules::Role;
use crate::wire::extensions::{self, PmdOffer, PmdParams};
use crate::wire::handshake::{self, Request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A client's opening request, read but not answered yet.
pub struct Incoming {
    /// The stream, positioned after the request head.
    pub io: Box<dyn Io>,
    /// The request head as received.
    pub head: Vec<u8>,
    /// The parsed head.
    pub request: Request,
    /// Bytes the client sent after the head (it should wait for the 101).
    pub leftover: Vec<u8>,
}

/// Read one request head, within the opening-handshake timeout and `max_head` bytes.
pub async fn read_request(mut io: Box<dyn Io>, settings: &Settings) -> Result<Incoming, String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + settings.open_handshake_timeout;
    loop {
        match handshake::parse_request(&buf, settings.max_head) {
            Ok(Some(request)) => {
                let leftover = buf.split_off(request.head_len);
                return Ok(Incoming {
                    io,
                    head: buf,
                    request,
                    leftover,
                });
            }
            Ok(None) => {}
            Err(e) => return Err(e.to_string()),
        }
        let n = tokio::time::timeout_at(deadline, io.read(&mut chunk))
            .await
            .map_err(|_| {
                format!(
                    "no complete opening request within {:.1} s",
                    settings.open_handshake_timeout.as_secs_f64()
                )
            })?
            .map_err(|e| format!("reading the opening request: {e}"))?;
        if n == 0 {
            return Err(if buf.is_empty() {
                "the client closed TCP without sending a request".into()
            } else {
                "the client closed TCP in the middle of its request".into()
            });
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn has_token(values: &[&str], token: &str) -> bool {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// Check a request against RFC 6455 §4.1/§4.2.1; `Ok(key)` or what is wrong, in words.
pub fn check_request(r: &Request) -> Result<String, String> {
    if r.method != "GET" {
        return Err(format!("method {} (must be GET)", r.method));
    }
    if r.version != 1 {
        return Err("HTTP/1.0 request (must be HTTP/1.1 or later)".into());
    }
    if r.header("Host").is_none() {
        return Err("no Host header".into());
    }
    if !has_token(&r.headers_named("Upgrade"), "websocket") {
        return Err("Upgrade does not hold the token websocket".into());
    }
    if !has_token(&r.headers_named("Connection"), "upgrade") {
        return Err("Connection does not hold the token Upgrade".into());
    }
    let keys = r.headers_named("Sec-WebSocket-Key");
    let [key] = keys.as_slice() else {
        return Err(format!(
            "{} Sec-WebSocket-Key headers (must be exactly one)",
            keys.len()
        ));
    };
    let key = key.trim();
    use base64::Engine as _;
    match base64::engine::general_purpose::STANDARD.decode(key) {
        Ok(b) if b.len() == 16 => {}
        _ => {
            return Err(format!(
                "Sec-WebSocket-Key {key:?} is not 16 bytes in base64"
            ))
        }
    }
    match r.headers_named("Sec-WebSocket-Version").as_slice() {
        [v] if v.trim() == "13" => {}
        v => return Err(format!("Sec-WebSocket-Version {v:?} (must be 13)")),
    }
    Ok(key.to_string())
}

/// The permessage-deflate answer to the client's offers under a case's accept rules,
/// as Autobahn's fuzzing server makes it: the first valid offer (in the client's
/// order) that one rule (in the case's order) fits. A rule asking for
/// `client_max_window_bits` fits only an offer that contains `client_max_window_bits`.
/// The answer honours what the offer asks of the server.
pub fn accept_deflate(request: &Request, rules: &[DeflateAccept]) -> Option<PmdParams> {
    if rules.is_empty() {
        return None;
    }
    let offers = extensions::parse_all(request.headers_named("Sec-WebSocket-Extensions")).ok()?;
    offers
        .iter()
        .filter(|e| e.name.eq_ignore_ascii_case("permessage-deflate"))
        .filter_map(|e| PmdOffer::from_extension(e).ok())
        .find_map(|o| {
            rules
                .iter()
                .find(|r| r.client_max_window_bits.is_none() || o.client_max_window_bits.is_some())
                .map(|r| PmdParams {
                    server_no_context_takeover: o.server_no_context_takeover,
                    client_no_context_takeover: r.client_no_context_takeover,
                    server_max_window_bits: o.server_max_window_bits,
                    client_max_window_bits: r.client_max_window_bits,
                })
        })
}

/// The opening response: the standard 101 for `key` (with `deflate` in
/// `Sec-WebSocket-Extensions`), changed as a case's [`Answer`] says.
pub fn build_response(key: &str, deflate: Option<PmdParams>, spec: Option<&Answer>) -> Vec<u8> {
    let accept = handshake::accept_key(key);
    let mut headers: Vec<(String, String)> = vec![
        ("Upgrade".into(), "websocket".into()),
        ("Connection".into(), "Upgrade".into()),
        ("Sec-WebSocket-Accept".into(), accept.clone()),
        (
            "Server".into(),
            format!("wsspec/{}", env!("CARGO_PKG_VERSION")),
        ),
    ];
    if let Some(p) = &deflate {
        headers.push((
            "Sec-WebSocket-Extensions".into(),
            p.to_extension().to_string(),
        ));
    }
    let (mut status, mut reason) = (101, "Switching Protocols".to_string());
    if let Some(a) = spec {
        let fill = |v: &str| v.replace("{accept}", &accept);
        headers.retain(|(n, _)| !a.remove.iter().any(|r| r.eq_ignore_ascii_case(n)));
        for [name, value] in &a.set {
            match headers
                .iter_mut()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
            {
                Some(h) => h.1 = fill(value),
                None => headers.push((name.clone(), fill(value))),
            }
        }
        for [name, value] in &a.add {
            headers.push((name.clone(), fill(value)));
        }
        if let Some(s) = a.status {
            status = s;
            reason = a.reason.clone().unwrap_or_else(|| {
                match s {
                    200 => "OK",
                    400 => "Bad Request",
                    403 => "Forbidden",
                    404 => "Not Found",
                    426 => "Upgrade Required",
                    _ => "Status",
                }
                .to_string()
            });
        } else if let Some(r) = &a.reason {
            reason = r.clone();
        }
    }
    let mut s = format!("HTTP/1.1 {status} {reason}\r\n");
    for (n, v) in &headers {
        s.push_str(&format!("{n}: {v}\r\n"));
    }
    s.push_str("\r\n");
    s.into_bytes()
}

/// Answer (the 101 with `deflate`, or what the case's [`Answer`] makes of it) and hand
/// over a session. Returns the response bytes too, for the trace. With
/// [`Answer::coalesce`] the response is not written here but goes out with the first
/// frames.
pub async fn answer(
    mut inc: Incoming,
    key: &str,
    deflate: Option<PmdParams>,
    spec: Option<&Answer>,
) -> Result<(Session, Vec<u8>), (String, Vec<u8>)> {
    let response = build_response(key, deflate, spec);
    let coalesce = spec.is_some_and(|a| a.coalesce);
    if !coalesce {
        if let Err(e) = inc.io.write_all(&response).await {
            return Err((format!("writing the opening response: {e}"), response));
        }
        let _ = inc.io.flush().await;
    }
    Ok((
        Session {
            io: inc.io,
            leftover: inc.leftover,
            deflate,
            role: Role::Server,
            preamble: if coalesce {
                response.clone()
            } else {
                Vec::new()
            },
        },
        response,
    ))
}

/// Answer with an HTTP error and close.
pub async fn reject(io: &mut Box<dyn Io>, status: u16, reason: &str, body: &str) -> Vec<u8> {
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), async {
        let _ = io.write_all(&response).await;
        let _ = io.shutdown().await;
    })
    .await;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(ext: &str) -> Request {
        let raw = format!(
            "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: {ext}\r\n\r\n"
        );
        handshake::parse_request(raw.as_bytes(), 4096)
            .unwrap()
            .unwrap()
    }

    #[test]
    fn checks_the_request() {
        assert_eq!(
            check_request(&req("x")).unwrap(),
            "dGhlIHNhbXBsZSBub25jZQ=="
        );
        let raw = b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: abc\r\nSec-WebSocket-Version: 13\r\n\r\n";
        let r = handshake::parse_request(raw, 4096).unwrap().unwrap();
        assert!(check_request(&r).unwrap_err().contains("16 bytes"));
    }

    #[test]
    fn accept_rules_as_autobahn() {
        let nct = DeflateAccept {
            client_no_context_takeover: true,
            client_max_window_bits: None,
        };
        let bits9 = DeflateAccept {
            client_no_context_takeover: true,
            client_max_window_bits: Some(9),
        };
        // No client_max_window_bits in the offer: the 9-bit rule does not fit, the next does.
        let p = accept_deflate(&req("permessage-deflate"), &[bits9, nct]).unwrap();
        assert_eq!(p.client_max_window_bits, None);
        assert!(p.client_no_context_takeover);
        let p = accept_deflate(
            &req("permessage-deflate; client_max_window_bits; server_max_window_bits=10"),
            &[bits9],
        )
        .unwrap();
        assert_eq!(p.client_max_window_bits, Some(9));
        assert_eq!(p.server_max_window_bits, Some(10));
        assert!(accept_deflate(&req("permessage-deflate"), &[bits9]).is_none());
        assert!(accept_deflate(&req("x-webkit-deflate-frame"), &[nct]).is_none());
        assert!(accept_deflate(&req("permessage-deflate"), &[]).is_none());
    }
}
