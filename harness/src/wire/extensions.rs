//! `Sec-WebSocket-Extensions` (RFC 6455 §9.1) and permessage-deflate negotiation
//! (RFC 7692 §7): parsing a header value into extension offers, validating
//! permessage-deflate parameters, choosing the server's answer and checking a server's
//! answer as a client.
//!
//! Grammar (RFC 6455 §9.1, list rule of RFC 7230 §7):
//!
//! ```text
//! extension-list  = 1#extension
//! extension       = extension-token *( ";" extension-param )
//! extension-param = token [ "=" ( token | quoted-string ) ]
//! ```
//!
//! A quoted value must, once unescaped, be a token as well. The parser is a single
//! left-to-right pass (no backtracking, so no quadratic or exponential inputs such as
//! the unclosed-quote ReDoS of CVE-2020-7662), and empty list elements (`a,,b`) are
//! skipped as RFC 7230 §7 asks of recipients.
//!
//! permessage-deflate parameters (RFC 7692 §7.1):
//!
//! | parameter | offer | response |
//! |---|---|---|
//! | `server_no_context_takeover` | no value | no value; MUST be present if offered |
//! | `client_no_context_takeover` | no value | no value; allowed either way |
//! | `server_max_window_bits` | `8`..`15` | `8`..`15`, ≤ the offer's value |
//! | `client_max_window_bits` | no value or `8`..`15` | `8`..`15`, ≤ the offer's value; only if offered |
//!
//! Values are `1*DIGIT` without leading zeros (`08` and `+9` are invalid). An offer with
//! an unknown parameter, a duplicate or an invalid value is declined (§7), never fatal.

use std::fmt;

/// The registered name of permessage-deflate.
pub const PERMESSAGE_DEFLATE: &str = "permessage-deflate";

/// One extension of a `Sec-WebSocket-Extensions` value, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// The extension token, as written (compare case-insensitively).
    pub name: String,
    /// Parameters in order; quoted values are unescaped.
    pub params: Vec<(String, Option<String>)>,
}

impl fmt::Display for Extension {
    /// `name; p1; p2=v` — values that are tokens are written bare, others quoted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        for (k, v) in &self.params {
            write!(f, "; {k}")?;
            if let Some(v) = v {
                if is_token(v) {
                    write!(f, "={v}")?;
                } else {
                    f.write_str("=\"")?;
                    for c in v.chars() {
                        if c == '"' || c == '\\' {
                            f.write_str("\\")?;
                        }
                        write!(f, "{c}")?;
                    }
                    f.write_str("\"")?;
                }
            }
        }
        Ok(())
    }
}

/// Why a header value does not follow the grammar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid Sec-WebSocket-Extensions at byte {at}: {what}")]
pub struct ParseError {
    /// Byte offset in the value where parsing stopped.
    pub at: usize,
    pub what: &'static str,
}

/// RFC 7230 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Is `s` a non-empty RFC 7230 token?
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }
    fn err(&self, what: &'static str) -> ParseError {
        ParseError { at: self.i, what }
    }
    fn token(&mut self, what: &'static str) -> Result<String, ParseError> {
        let start = self.i;
        while self.peek().is_some_and(is_tchar) {
            self.i += 1;
        }
        if self.i == start {
            return Err(self.err(what));
        }
        // tchar is ASCII, so the slice is valid UTF-8.
        Ok(String::from_utf8_lossy(&self.b[start..self.i]).into_owned())
    }
    /// A quoted-string starting at the opening quote; returns the unescaped content.
    fn quoted(&mut self) -> Result<String, ParseError> {
        self.i += 1; // the opening quote
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err(self.err("unterminated quoted-string")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(String::from_utf8_lossy(&out).into_owned());
                }
                Some(b'\\') => {
                    self.i += 1;
                    match self.peek() {
                        // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
                        Some(c) if c == b'\t' || c >= 0x20 && c != 0x7f => {
                            out.push(c);
                            self.i += 1;
                        }
                        _ => return Err(self.err("invalid quoted-pair")),
                    }
                }
                // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
                Some(c) if c == b'\t' || c >= 0x20 && c != 0x7f => {
                    out.push(c);
                    self.i += 1;
                }
                Some(_) => return Err(self.err("control character in quoted-string")),
            }
        }
    }
}

/// Parse one header value into its extensions, in order.
pub fn parse(value: &str) -> Result<Vec<Extension>, ParseError> {
    let mut c = Cursor {
        b: value.as_bytes(),
        i: 0,
    };
    let mut out = Vec::new();
    loop {
        c.skip_ows();
        match c.peek() {
            None => break,
            // Empty list element.
            Some(b',') => {
                c.i += 1;
                continue;
            }
            Some(_) => {}
        }
        let name = c.token("expected an extension token")?;
        let mut params = Vec::new();
        loop {
            c.skip_ows();
            match c.peek() {
                None => break,
                Some(b',') => {
                    c.i += 1;
                    break;
                }
                Some(b';') => {
                    c.i += 1;
                    c.skip_ows();
                    let key = c.token("expected a parameter name")?;
                    c.skip_ows();
                    let val = if c.peek() == Some(b'=') {
                        c.i += 1;
                        c.skip_ows();
                        let v = if c.peek() == Some(b'"') {
                            let at = c.i;
                            let v = c.quoted()?;
                            if !is_token(&v) {
                                return Err(ParseError {
                                    at,
                                    what: "quoted parameter value is not a token once unescaped",
                                });
                            }
                            v
                        } else {
                            c.token("expected a parameter value")?
                        };
                        Some(v)
                    } else {
                        None
                    };
                    params.push((key, val));
                }
                Some(_) => return Err(c.err("expected `;`, `,` or the end")),
            }
        }
        out.push(Extension { name, params });
    }
    Ok(out)
}

/// Parse every value of the header (several header lines form one list).
pub fn parse_all<'a>(
    values: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<Extension>, ParseError> {
    let mut out = Vec::new();
    for v in values {
        out.extend(parse(v)?);
    }
    Ok(out)
}

/// `client_max_window_bits` in an offer: present without a value, or with one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientBits {
    /// `client_max_window_bits` (the client supports the parameter in the response).
    Supported,
    /// `client_max_window_bits=N` (a hint: the client will use at most N).
    Hint(u8),
}

impl ClientBits {
    /// The largest value a response may carry.
    pub fn limit(self) -> u8 {
        match self {
            ClientBits::Supported => 15,
            ClientBits::Hint(n) => n,
        }
    }
}

/// A valid permessage-deflate offer (client → server).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PmdOffer {
    pub server_no_context_takeover: bool,
    pub client_no_context_takeover: bool,
    /// `server_max_window_bits=N`, 8..=15.
    pub server_max_window_bits: Option<u8>,
    pub client_max_window_bits: Option<ClientBits>,
}

/// Negotiated permessage-deflate parameters (a server's response, as sent or received).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PmdParams {
    pub server_no_context_takeover: bool,
    pub client_no_context_takeover: bool,
    /// 8..=15; `None` means the default, 15.
    pub server_max_window_bits: Option<u8>,
    /// 8..=15; `None` means the default, 15.
    pub client_max_window_bits: Option<u8>,
}

/// A window-bits value: `1*DIGIT`, no leading zero, 8..=15.
fn window_bits(v: &str) -> Option<u8> {
    if v.is_empty() || v.len() > 2 || v.starts_with('0') || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse::<u8>().ok().filter(|n| (8..=15).contains(n))
}

/// Tracks which parameters were seen, to refuse duplicates.
#[derive(Default)]
struct Seen(u8);

impl Seen {
    fn first(&mut self, bit: u8, name: &str) -> Result<(), String> {
        if self.0 & bit != 0 {
            return Err(format!("parameter {name} appears twice"));
        }
        self.0 |= bit;
        Ok(())
    }
}

fn no_value(name: &str, v: &Option<String>) -> Result<(), String> {
    match v {
        None => Ok(()),
        Some(v) => Err(format!("parameter {name} takes no value, got {v:?}")),
    }
}

fn bits_value(name: &str, v: &str) -> Result<u8, String> {
    window_bits(v)
        .ok_or_else(|| format!("{name}={v:?} is not a decimal 8..15 without leading zeros"))
}

impl PmdOffer {
    /// Validate one extension as a permessage-deflate offer (RFC 7692 §7): an error says
    /// why the server must decline it.
    pub fn from_extension(e: &Extension) -> Result<PmdOffer, String> {
        if !e.name.eq_ignore_ascii_case(PERMESSAGE_DEFLATE) {
            return Err(format!("{} is not permessage-deflate", e.name));
        }
        let mut o = PmdOffer::default();
        let mut seen = Seen::default();
        for (k, v) in &e.params {
            match k.to_ascii_lowercase().as_str() {
                "server_no_context_takeover" => {
                    seen.first(1, k)?;
                    no_value(k, v)?;
                    o.server_no_context_takeover = true;
                }
                "client_no_context_takeover" => {
                    seen.first(2, k)?;
                    no_value(k, v)?;
                    o.client_no_context_takeover = true;
                }
                "server_max_window_bits" => {
                    seen.first(4, k)?;
                    let v = v
                        .as_deref()
                        .ok_or_else(|| format!("parameter {k} needs a value"))?;
                    o.server_max_window_bits = Some(bits_value(k, v)?);
                }
                "client_max_window_bits" => {
                    seen.first(8, k)?;
                    o.client_max_window_bits = Some(match v {
                        None => ClientBits::Supported,
                        Some(v) => ClientBits::Hint(bits_value(k, v)?),
                    });
                }
                _ => return Err(format!("unknown parameter {k}")),
            }
        }
        Ok(o)
    }

    /// The offer as an extension (for a request header).
    pub fn to_extension(self) -> Extension {
        let mut params = Vec::new();
        if self.server_no_context_takeover {
            params.push(("server_no_context_takeover".into(), None));
        }
        if self.client_no_context_takeover {
            params.push(("client_no_context_takeover".into(), None));
        }
        if let Some(n) = self.server_max_window_bits {
            params.push(("server_max_window_bits".into(), Some(n.to_string())));
        }
        match self.client_max_window_bits {
            None => {}
            Some(ClientBits::Supported) => params.push(("client_max_window_bits".into(), None)),
            Some(ClientBits::Hint(n)) => {
                params.push(("client_max_window_bits".into(), Some(n.to_string())))
            }
        }
        Extension {
            name: PERMESSAGE_DEFLATE.into(),
            params,
        }
    }
}

impl PmdParams {
    /// Parse an extension from a server's response as permessage-deflate parameters
    /// (syntax only: unknown, duplicate, valueless or invalid window bits are errors).
    pub fn from_response(e: &Extension) -> Result<PmdParams, String> {
        if !e.name.eq_ignore_ascii_case(PERMESSAGE_DEFLATE) {
            return Err(format!("{} is not permessage-deflate", e.name));
        }
        let mut p = PmdParams::default();
        let mut seen = Seen::default();
        for (k, v) in &e.params {
            match k.to_ascii_lowercase().as_str() {
                "server_no_context_takeover" => {
                    seen.first(1, k)?;
                    no_value(k, v)?;
                    p.server_no_context_takeover = true;
                }
                "client_no_context_takeover" => {
                    seen.first(2, k)?;
                    no_value(k, v)?;
                    p.client_no_context_takeover = true;
                }
                "server_max_window_bits" | "client_max_window_bits" => {
                    let server = k.eq_ignore_ascii_case("server_max_window_bits");
                    seen.first(if server { 4 } else { 8 }, k)?;
                    let v = v
                        .as_deref()
                        .ok_or_else(|| format!("parameter {k} needs a value in a response"))?;
                    let n = Some(bits_value(k, v)?);
                    if server {
                        p.server_max_window_bits = n;
                    } else {
                        p.client_max_window_bits = n;
                    }
                }
                _ => return Err(format!("unknown parameter {k}")),
            }
        }
        Ok(p)
    }

    /// The response as an extension (for a response header).
    pub fn to_extension(self) -> Extension {
        let mut params = Vec::new();
        if self.server_no_context_takeover {
            params.push(("server_no_context_takeover".into(), None));
        }
        if self.client_no_context_takeover {
            params.push(("client_no_context_takeover".into(), None));
        }
        if let Some(n) = self.server_max_window_bits {
            params.push(("server_max_window_bits".into(), Some(n.to_string())));
        }
        if let Some(n) = self.client_max_window_bits {
            params.push(("client_max_window_bits".into(), Some(n.to_string())));
        }
        Extension {
            name: PERMESSAGE_DEFLATE.into(),
            params,
        }
    }

    /// Does this response fit `offer` (RFC 7692 §7.1)? The error names the rule broken.
    pub fn fits(&self, offer: &PmdOffer) -> Result<(), String> {
        if offer.server_no_context_takeover && !self.server_no_context_takeover {
            return Err(
                "server_no_context_takeover was offered but is missing from the response".into(),
            );
        }
        if let (Some(want), Some(got)) = (offer.server_max_window_bits, self.server_max_window_bits)
        {
            if got > want {
                return Err(format!(
                    "server_max_window_bits={got} exceeds the offered {want}"
                ));
            }
        }
        if offer.server_max_window_bits.is_some() && self.server_max_window_bits.is_none() {
            return Err(
                "server_max_window_bits was offered but is missing from the response".into(),
            );
        }
        match (offer.client_max_window_bits, self.client_max_window_bits) {
            (None, Some(_)) => {
                Err("client_max_window_bits in the response, but the offer did not have it".into())
            }
            (Some(limit), Some(got)) if got > limit.limit() => Err(format!(
                "client_max_window_bits={got} exceeds the offered {}",
                limit.limit()
            )),
            _ => Ok(()),
        }
    }
}

/// What a server supports, for [`negotiate_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg(feature = "internals")] // for the tests, testkit and fuzz targets
pub struct ServerPolicy {
    /// Smallest compression window the server can limit itself to (zlib's raw deflate
    /// cannot do 8, so real servers often say 9). Offers asking for less are declined.
    pub min_server_window_bits: u8,
    /// Ask clients not to keep their compression context between messages.
    pub request_client_no_context_takeover: bool,
}

#[cfg(feature = "internals")]
impl Default for ServerPolicy {
    fn default() -> Self {
        ServerPolicy {
            min_server_window_bits: 8,
            request_client_no_context_takeover: false,
        }
    }
}

/// Server side with the default policy: the response to the first acceptable
/// permessage-deflate offer in `offers`, or `None` (decline; no extension header).
#[cfg(feature = "internals")] // for the tests, testkit and fuzz targets
pub fn negotiate(offers: &[Extension]) -> Option<PmdParams> {
    negotiate_with(offers, &ServerPolicy::default())
}

/// Server side: take offers in order (the client's preference), skip every one that is
/// not permessage-deflate, invalid (§7) or unsupported by `policy`, answer the first
/// other one. The answer never exceeds the offer: `server_no_context_takeover` when
/// offered, `server_max_window_bits` equal to the offered value, `client_max_window_bits`
/// only when offered (the hint's value when there is one).
#[cfg(feature = "internals")] // for the tests, testkit and fuzz targets
pub fn negotiate_with(offers: &[Extension], policy: &ServerPolicy) -> Option<PmdParams> {
    offers.iter().find_map(|e| {
        let o = PmdOffer::from_extension(e).ok()?;
        if o.server_max_window_bits
            .is_some_and(|n| n < policy.min_server_window_bits)
        {
            return None;
        }
        Some(PmdParams {
            server_no_context_takeover: o.server_no_context_takeover,
            client_no_context_takeover: o.client_no_context_takeover
                || policy.request_client_no_context_takeover,
            server_max_window_bits: o.server_max_window_bits,
            client_max_window_bits: match o.client_max_window_bits {
                Some(ClientBits::Hint(n)) => Some(n),
                _ => None,
            },
        })
    })
}

/// Client side: check a server's response to our single `offered` permessage-deflate
/// offer. `response` is the server's extension list; an empty list is a decline and
/// yields `Ok(None)`.
#[cfg(feature = "internals")] // for the tests, testkit and fuzz targets
pub fn check_response(
    offered: &PmdOffer,
    response: &[Extension],
) -> Result<Option<PmdParams>, String> {
    match response {
        [] => Ok(None),
        [one] => {
            let p = PmdParams::from_response(one)?;
            p.fits(offered)?;
            Ok(Some(p))
        }
        more => Err(format!(
            "the response lists {} extensions, but one permessage-deflate was offered",
            more.len()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ext(s: &str) -> Vec<Extension> {
        parse(s).unwrap()
    }

    #[test]
    fn grammar() {
        let e = ext("permessage-deflate; client_max_window_bits, foo;a=1;b=\"x\\y\" ,, bar");
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].name, "permessage-deflate");
        assert_eq!(e[0].params, vec![("client_max_window_bits".into(), None)]);
        // x"y is not a token once unescaped.
        assert!(parse("foo;b=\"x\\\"y\"").is_err());
        assert_eq!(
            ext("foo;a=1;b=\"xy\"")[0].params,
            vec![
                ("a".into(), Some("1".into())),
                ("b".into(), Some("xy".into()))
            ]
        );
        assert_eq!(ext("").len(), 0);
        assert_eq!(ext(" , ,").len(), 0);
        assert!(parse("a;").is_err());
        assert!(parse("a b").is_err());
        assert!(parse("a;b=").is_err());
        assert!(parse(";a").is_err());
        assert!(parse("a;b=\"unterminated").is_err());
        assert!(parse("a;b=\"\x01\"").is_err());
        assert_eq!(
            ext("a ; b = 1")[0].params,
            vec![("b".into(), Some("1".into()))]
        );
    }

    #[test]
    fn redos_shape_is_linear_and_rejected() {
        // CVE-2020-7662: an unclosed quoted string of backslash pairs.
        let mut v = String::from("a;b=\"");
        for _ in 0..200_000 {
            v.push_str("\\a");
        }
        let t = std::time::Instant::now();
        assert!(parse(&v).is_err());
        assert!(t.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "permessage-deflate; client_max_window_bits",
            "x; a=1; b",
            "permessage-deflate; server_max_window_bits=10",
        ] {
            let e = ext(s);
            assert_eq!(e[0].to_string(), s);
            assert_eq!(ext(&e[0].to_string()), e);
        }
        let e = Extension {
            name: "x".into(),
            params: vec![("q".into(), Some("a b\"".into()))],
        };
        assert_eq!(e.to_string(), "x; q=\"a b\\\"\"");
    }

    #[test]
    fn offers_declined_per_rfc7692_section7() {
        let decline = [
            "permessage-deflate; foo=1",
            "permessage-deflate; server_no_context_takeover=1",
            "permessage-deflate; client_no_context_takeover=x",
            "permessage-deflate; server_max_window_bits=7",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=08",
            "permessage-deflate; server_max_window_bits=+9",
            "permessage-deflate; server_max_window_bits=abc",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; client_max_window_bits=16",
            "permessage-deflate; client_max_window_bits=99999999999",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; server_max_window_bits=9; server_max_window_bits=9",
            "permessage-deflate; client_max_window_bits; client_max_window_bits=9",
            "x-webkit-deflate-frame",
        ];
        for d in decline {
            assert!(PmdOffer::from_extension(&ext(d)[0]).is_err(), "{d}");
            assert_eq!(negotiate(&ext(d)), None, "{d}");
        }
        let o = PmdOffer::from_extension(
            &ext("PerMessage-Deflate; Server_Max_Window_Bits=\"10\"; client_max_window_bits")[0],
        )
        .unwrap();
        assert_eq!(o.server_max_window_bits, Some(10));
        assert_eq!(o.client_max_window_bits, Some(ClientBits::Supported));
    }

    #[test]
    fn negotiation_never_exceeds_the_offer() {
        // D6: window bits ≤ offered; D7: no client bits unless offered; D8: sncto echoed.
        let p = negotiate(&ext("permessage-deflate; server_max_window_bits=10")).unwrap();
        assert_eq!(p.server_max_window_bits, Some(10));
        assert_eq!(p.client_max_window_bits, None);
        let p = negotiate(&ext("permessage-deflate")).unwrap();
        assert_eq!(p, PmdParams::default());
        let p = negotiate(&ext("permessage-deflate; server_no_context_takeover")).unwrap();
        assert!(p.server_no_context_takeover);
        let p = negotiate(&ext("permessage-deflate; client_max_window_bits=9")).unwrap();
        assert_eq!(p.client_max_window_bits, Some(9));
        // D9: the bad first offer is skipped, the second answered.
        let offers = ext("permessage-deflate; foo, permessage-deflate; client_no_context_takeover");
        let p = negotiate(&offers).unwrap();
        assert!(p.client_no_context_takeover);
        // Unsupported window: declined by a policy that cannot do 8.
        let policy = ServerPolicy {
            min_server_window_bits: 9,
            ..ServerPolicy::default()
        };
        assert_eq!(
            negotiate_with(
                &ext("permessage-deflate; server_max_window_bits=8"),
                &policy
            ),
            None
        );
        // Every accepted answer fits its offer and survives a round trip.
        for s in [
            "permessage-deflate; server_max_window_bits=8; client_max_window_bits",
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            "permessage-deflate; client_max_window_bits=15",
        ] {
            let offers = ext(s);
            let offer = PmdOffer::from_extension(&offers[0]).unwrap();
            let p = negotiate(&offers).unwrap();
            p.fits(&offer).unwrap();
            let wire = p.to_extension().to_string();
            assert_eq!(check_response(&offer, &ext(&wire)), Ok(Some(p)));
        }
    }

    #[test]
    fn client_checks_the_response() {
        let offer = PmdOffer {
            server_no_context_takeover: true,
            server_max_window_bits: Some(10),
            ..PmdOffer::default()
        };
        let ok = "permessage-deflate; server_no_context_takeover; server_max_window_bits=9";
        assert!(check_response(&offer, &ext(ok)).unwrap().is_some());
        assert_eq!(check_response(&offer, &[]), Ok(None));
        for bad in [
            "permessage-deflate; server_max_window_bits=9",
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=11",
            "permessage-deflate; server_no_context_takeover",
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=9; client_max_window_bits=9",
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=16",
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=9; x",
            "foo",
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=9, permessage-deflate",
        ] {
            assert!(check_response(&offer, &ext(bad)).is_err(), "{bad}");
        }
        let offer = PmdOffer {
            client_max_window_bits: Some(ClientBits::Supported),
            ..PmdOffer::default()
        };
        assert!(check_response(
            &offer,
            &ext("permessage-deflate; client_max_window_bits=15")
        )
        .is_ok());
        assert!(
            check_response(&offer, &ext("permessage-deflate; client_max_window_bits")).is_err()
        );
    }
}
