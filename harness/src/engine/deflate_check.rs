//! Judging a server's permessage-deflate answer against everything the client offered
//! (RFC 7692 §5, §7): at most one accepted permessage-deflate, valid for at least one
//! of the offers. Parsing and the single-offer rules live in [`crate::wire::extensions`].

use crate::wire::extensions::{self, PmdOffer, PmdParams};

/// Check the answer headers against the offer header. `needed`: the case requires
/// permessage-deflate to be accepted. Returns the negotiated parameters, if any.
pub fn check(
    offered: &str,
    answer_headers: &[&str],
    needed: bool,
) -> Result<Option<PmdParams>, String> {
    let answer = extensions::parse_all(answer_headers.iter().copied())
        .map_err(|e| format!("Sec-WebSocket-Extensions in the response does not parse: {e}"))?;
    let pmd: Vec<_> = answer
        .iter()
        .filter(|e| e.name.eq_ignore_ascii_case("permessage-deflate"))
        .collect();
    let Some(&accepted) = pmd.first() else {
        return if needed {
            Err("permessage-deflate was not accepted".into())
        } else {
            Ok(None)
        };
    };
    if pmd.len() > 1 {
        return Err(format!("permessage-deflate accepted {} times", pmd.len()));
    }
    let params = PmdParams::from_response(accepted)?;
    // Offers the client made that are themselves valid; the server may pick any one.
    let offers: Vec<PmdOffer> = extensions::parse(offered)
        .unwrap_or_default()
        .iter()
        .filter(|e| e.name.eq_ignore_ascii_case("permessage-deflate"))
        .filter_map(|e| PmdOffer::from_extension(e).ok())
        .collect();
    if offers.is_empty() {
        return Err(
            "permessage-deflate accepted although the client made no valid offer of it".into(),
        );
    }
    let mut last = String::new();
    for o in &offers {
        match params.fits(o) {
            Ok(()) => return Ok(Some(params)),
            Err(e) => last = e,
        }
    }
    Err(last)
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
        let smwb = "permessage-deflate; server_max_window_bits=10";
        assert!(check(
            smwb,
            &["permessage-deflate; server_max_window_bits=12"],
            true
        )
        .is_err());
        assert!(check(
            smwb,
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
        assert_eq!(check(offer, &[], false), Ok(None));
        assert!(check("x-other", &["permessage-deflate"], false).is_err());
        // the server may accept a later offer
        let two = "permessage-deflate; server_max_window_bits=9, permessage-deflate";
        assert!(check(two, &["permessage-deflate"], true).is_ok());
        // an invalid offer cannot be the one accepted
        let bad_then_good = "permessage-deflate; server_max_window_bits=16, permessage-deflate";
        assert!(check(bad_then_good, &["permessage-deflate"], true).is_ok());
        assert!(check(
            "permessage-deflate; server_max_window_bits=16",
            &["permessage-deflate"],
            true
        )
        .is_err());
    }
}
