//! Close status codes (RFC 6455 §7.4): which codes may travel in a close frame, which
//! ones Autobahn's tester accepts from a peer, and short names for reports.

/// RFC 6455 §7.4: may this code appear in a close frame on the wire?
///
/// Allowed: 1000–1003, 1007–1014 (1012–1014 were registered at IANA after the RFC),
/// and 3000–4999. Not allowed: anything below 1000, 1004 (reserved), 1005, 1006 and
/// 1015 (reserved for local use, never sent), 1016–2999 and 5000 and above.
pub fn is_valid_on_wire(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// The stricter set Autobahn's tester accepts from a peer: 1000–1003, 1007–1011 and
/// 3000–4999 (it predates the registration of 1012–1014).
pub fn autobahn_accepts(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1011 | 3000..=4999)
}

/// Short name of a close code, for reports.
#[cfg(feature = "internals")] // for the tests, testkit and fuzz targets
pub fn describe(code: u16) -> &'static str {
    match code {
        1000 => "normal closure",
        1001 => "going away",
        1002 => "protocol error",
        1003 => "unsupported data",
        1007 => "invalid payload data",
        1008 => "policy violation",
        1009 => "message too big",
        1010 => "mandatory extension",
        1011 => "internal error",
        1012 => "service restart",
        1013 => "try again later",
        1014 => "bad gateway",
        3000..=3999 => "registered",
        4000..=4999 => "private use",
        _ => "reserved/invalid",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_on_wire_matches_rfc_list() {
        for code in [
            1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
        ] {
            assert!(is_valid_on_wire(code), "{code}");
        }
        for code in [
            0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 6000, 65535,
        ] {
            assert!(!is_valid_on_wire(code), "{code}");
        }
        assert!(is_valid_on_wire(3000));
        assert!(is_valid_on_wire(3999));
        assert!(is_valid_on_wire(4000));
        assert!(is_valid_on_wire(4999));
    }

    #[test]
    fn autobahn_set_is_stricter() {
        for code in [
            1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4999,
        ] {
            assert!(autobahn_accepts(code), "{code}");
        }
        for code in [999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 2999, 5000] {
            assert!(!autobahn_accepts(code), "{code}");
        }
        // Everything Autobahn accepts may be sent on the wire.
        for code in 0..=u16::MAX {
            if autobahn_accepts(code) {
                assert!(is_valid_on_wire(code), "{code}");
            }
        }
    }

    #[test]
    fn descriptions() {
        assert_eq!(describe(1000), "normal closure");
        assert_eq!(describe(1002), "protocol error");
        assert_eq!(describe(1007), "invalid payload data");
        assert_eq!(describe(1014), "bad gateway");
        assert_eq!(describe(3000), "registered");
        assert_eq!(describe(3999), "registered");
        assert_eq!(describe(4000), "private use");
        assert_eq!(describe(4999), "private use");
        for code in [0, 999, 1004, 1005, 1006, 1015, 2999, 5000, 65535] {
            assert_eq!(describe(code), "reserved/invalid", "{code}");
        }
    }
}
