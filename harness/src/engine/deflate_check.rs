//! Judging a server's permessage-deflate answer against what the client offered
//! (RFC 7692 §5, §7): one accepted offer at most, known parameters only, no duplicates,
//! window bits 8–15, `client_max_window_bits` only if offered, `server_max_window_bits`
//! never above the offer, `server_no_context_takeover` echoed when requested.

/// One extension from a `Sec-WebSocket-Extensions` value: name and `(param, value)`s.
pub type Ext = (String, Vec<(String, Option<String>)>);

/// Parse a header value (several headers joined by ", ") into extensions. Quoted
/// values are unquoted; anything unparsable becomes an extension with an odd name,
/// which the checks then reject.
pub fn parse(value: &str) -> Vec<Ext> {
    split_outside_quotes(value, ',')
        .into_iter()
        .filter(|e| !e.trim().is_empty())
        .map(|e| {
            let mut parts = split_outside_quotes(&e, ';').into_iter();
            let name = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let params = parts
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => (
                        k.trim().to_ascii_lowercase(),
                        Some(v.trim().trim_matches('"').to_string()),
                    ),
                    None => (p.trim().to_ascii_lowercase(), None),
                })
                .collect();
            (name, params)
        })
        .collect()
}

fn split_outside_quotes(s: &str, sep: char) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for c in s.chars() {
        if c == '"' {
            quoted = !quoted;
        }
        if c == sep && !quoted {
            out.push(String::new());
        } else if let Some(last) = out.last_mut() {
            last.push(c);
        }
    }
    out
}

fn bits(v: &Option<String>) -> Option<u8> {
    let v = v.as_deref()?;
    if v.is_empty() || v.len() > 2 || !v.bytes().all(|b| b.is_ascii_digit()) || v.starts_with('0') {
        return None;
    }
    v.parse().ok().filter(|b| (8..=15).contains(b))
}

/// Is `answer` a valid acceptance of `offer`?
fn answers(offer: &Ext, answer: &Ext) -> Result<(), String> {
    let get = |e: &Ext, k: &str| e.1.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    if let Some(req) = get(offer, "server_max_window_bits") {
        let Some(limit) = bits(&req).or(if req.is_none() { Some(15) } else { None }) else {
            return Err(
                "the offer's server_max_window_bits is invalid, so it must be declined".into(),
            );
        };
        match get(answer, "server_max_window_bits") {
            Some(v) if bits(&v).is_some_and(|b| b <= limit) => {}
            Some(v) => {
                return Err(format!(
                    "server_max_window_bits={} exceeds the offered {limit}",
                    v.unwrap_or_default()
                ))
            }
            None => {
                return Err(
                    "the offer asked for server_max_window_bits but the answer does not include it"
                        .into(),
                )
            }
        }
    }
    if get(offer, "server_no_context_takeover").is_some()
        && get(answer, "server_no_context_takeover").is_none()
    {
        return Err(
            "the offer asked for server_no_context_takeover but the answer does not include it"
                .into(),
        );
    }
    if get(answer, "client_max_window_bits").is_some() {
        match get(offer, "client_max_window_bits") {
            None => {
                return Err(
                    "client_max_window_bits in the answer although the offer did not include it"
                        .into(),
                )
            }
            Some(Some(v)) => {
                if let (Some(o), Some(a)) = (
                    bits(&Some(v)),
                    get(answer, "client_max_window_bits").and_then(|v| bits(&v)),
                ) {
                    if a > o {
                        return Err(format!(
                            "client_max_window_bits={a} exceeds the offered {o}"
                        ));
                    }
                }
            }
            Some(None) => {}
        }
    }
    Ok(())
}

/// Check the answer headers against the offer header. `needed`: the case requires
/// permessage-deflate to be accepted.
pub fn check(offered: &str, answer_headers: &[&str], needed: bool) -> Result<(), String> {
    let answers_all: Vec<Ext> = answer_headers.iter().flat_map(|h| parse(h)).collect();
    let pmd: Vec<&Ext> = answers_all
        .iter()
        .filter(|e| e.0 == "permessage-deflate")
        .collect();
    if pmd.is_empty() {
        return if needed {
            Err("permessage-deflate was not accepted".into())
        } else {
            Ok(())
        };
    }
    if pmd.len() > 1 {
        return Err(format!("permessage-deflate accepted {} times", pmd.len()));
    }
    let a = pmd[0];
    let mut seen = Vec::new();
    for (k, v) in &a.1 {
        if seen.contains(&k) {
            return Err(format!("parameter {k} appears twice in the answer"));
        }
        seen.push(k);
        match k.as_str() {
            "server_no_context_takeover" | "client_no_context_takeover" if v.is_some() => {
                return Err(format!("{k} must not have a value"))
            }
            "server_no_context_takeover" | "client_no_context_takeover" => {}
            "server_max_window_bits" | "client_max_window_bits" if bits(v).is_none() => {
                return Err(format!(
                    "{k}={} is not a window size 8–15",
                    v.clone().unwrap_or_default()
                ))
            }
            "server_max_window_bits" | "client_max_window_bits" => {}
            other => return Err(format!("unknown parameter {other} in the answer")),
        }
    }
    let offers: Vec<Ext> = parse(offered)
        .into_iter()
        .filter(|e| e.0 == "permessage-deflate")
        .collect();
    if offers.is_empty() {
        return Err("permessage-deflate accepted although the client did not offer it".into());
    }
    let mut last_err = String::new();
    for o in &offers {
        match answers(o, a) {
            Ok(()) => return Ok(()),
            Err(e) => last_err = e,
        }
    }
    Err(last_err)
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn rfc7692_answers() {
        let offer = "permessage-deflate; client_max_window_bits";
        assert!(check(offer, &["permessage-deflate"], true).is_ok());
        assert!(check(
            offer,
            &["permessage-deflate; client_max_window_bits=10"],
            true
        )
        .is_ok());
        assert!(check(
            "permessage-deflate",
            &["permessage-deflate; client_max_window_bits=10"],
            true
        )
        .is_err());
        assert!(check(
            "permessage-deflate; server_max_window_bits=10",
            &["permessage-deflate; server_max_window_bits=12"],
            true
        )
        .is_err());
        assert!(check(
            "permessage-deflate; server_max_window_bits=10",
            &["permessage-deflate; server_max_window_bits=9"],
            true
        )
        .is_ok());
        assert!(check(
            offer,
            &["permessage-deflate; server_max_window_bits=16"],
            true
        )
        .is_err());
        assert!(check(offer, &["permessage-deflate; foo"], true).is_err());
        assert!(check(offer, &[], true).is_err());
        assert!(check(offer, &[], false).is_ok());
        assert!(check("x-other", &["permessage-deflate"], false).is_err());
        // a later offer may be the one accepted
        let two = "permessage-deflate; server_max_window_bits=9, permessage-deflate";
        assert!(check(two, &["permessage-deflate"], true).is_ok());
    }
}
