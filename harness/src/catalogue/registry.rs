//! The shape of Autobahn's full registry (517 cases, sections 1–7, 9, 10, 12, 13): each
//! subsection's key, case count and report heading, in registry order. From it follow a
//! case's global 1-based index (the `case` field of Autobahn's per-case reports) and the
//! heading shown above each group of rows.

/// (section key as [`crate::case::section_of`] gives it, number of cases, heading).
const SUBSECTIONS: &[(&str, usize, &str)] = &[
    ("1.1", 8, "Framing – Text Messages"),
    ("1.2", 8, "Framing – Binary Messages"),
    ("2", 11, "Pings/Pongs"),
    ("3", 7, "Reserved Bits"),
    ("4.1", 5, "Opcodes – Non-control Opcodes"),
    ("4.2", 5, "Opcodes – Control Opcodes"),
    ("5", 20, "Fragmentation"),
    ("6.1", 3, "UTF-8 Handling – Valid UTF-8 with zero payload fragments"),
    ("6.2", 4, "UTF-8 Handling – Valid UTF-8 unfragmented, fragmented on code-points and within code-points"),
    ("6.3", 2, "UTF-8 Handling – Invalid UTF-8 differently fragmented"),
    ("6.4", 4, "UTF-8 Handling – Fail-fast on invalid UTF-8"),
    ("6.5", 5, "UTF-8 Handling – Some valid UTF-8 sequences"),
    ("6.6", 11, "UTF-8 Handling – All prefixes of a valid UTF-8 string that contains multi-byte code points"),
    ("6.7", 4, "UTF-8 Handling – First possible sequence of a certain length"),
    ("6.8", 2, "UTF-8 Handling – First possible sequence length 5/6 (invalid codepoints)"),
    ("6.9", 4, "UTF-8 Handling – Last possible sequence of a certain length"),
    ("6.10", 3, "UTF-8 Handling – Last possible sequence length 4/5/6 (invalid codepoints)"),
    ("6.11", 5, "UTF-8 Handling – Other boundary conditions"),
    ("6.12", 8, "UTF-8 Handling – Unexpected continuation bytes"),
    ("6.13", 5, "UTF-8 Handling – Lonely start characters"),
    ("6.14", 10, "UTF-8 Handling – Sequences with last continuation byte missing"),
    ("6.15", 1, "UTF-8 Handling – Concatenation of incomplete sequences"),
    ("6.16", 3, "UTF-8 Handling – Impossible bytes"),
    ("6.17", 5, "UTF-8 Handling – Examples of an overlong ASCII character"),
    ("6.18", 5, "UTF-8 Handling – Maximum overlong sequences"),
    ("6.19", 5, "UTF-8 Handling – Overlong representation of the NUL character"),
    ("6.20", 7, "UTF-8 Handling – Single UTF-16 surrogates"),
    ("6.21", 8, "UTF-8 Handling – Paired UTF-16 surrogates"),
    ("6.22", 34, "UTF-8 Handling – Non-character code points (valid UTF-8)"),
    ("6.23", 7, "UTF-8 Handling – Unicode specials (i.e. replacement char)"),
    ("7.1", 6, "Close Handling – Basic close behavior (fuzzer initiated)"),
    ("7.3", 6, "Close Handling – Close frame structure: payload length (fuzzer initiated)"),
    ("7.5", 1, "Close Handling – Close frame structure: payload value (fuzzer initiated)"),
    ("7.7", 13, "Close Handling – Close frame structure: valid close codes (fuzzer initiated)"),
    ("7.9", 9, "Close Handling – Close frame structure: invalid close codes (fuzzer initiated)"),
    ("7.13", 2, "Close Handling – Informational close information (fuzzer initiated)"),
    ("9.1", 6, "Limits/Performance – Text Message (increasing size)"),
    ("9.2", 6, "Limits/Performance – Binary Message (increasing size)"),
    ("9.3", 9, "Limits/Performance – Fragmented Text Message (fixed size, increasing fragment size)"),
    ("9.4", 9, "Limits/Performance – Fragmented Binary Message (fixed size, increasing fragment size)"),
    ("9.5", 6, "Limits/Performance – Text Message (fixed size, increasing chop size)"),
    ("9.6", 6, "Limits/Performance – Binary Text Message (fixed size, increasing chop size)"),
    ("9.7", 6, "Limits/Performance – Text Message Roundtrip Time (fixed number, increasing size)"),
    ("9.8", 6, "Limits/Performance – Binary Message Roundtrip Time (fixed number, increasing size)"),
    ("10.1", 1, "Misc – Auto-Fragmentation"),
    ("12.1", 18, "WebSocket Compression (different payloads) – Large JSON data file (utf8, 194056 bytes)"),
    ("12.2", 18, "WebSocket Compression (different payloads) – Lena Picture, Bitmap 512x512 bw (binary, 263222 bytes)"),
    (
        "12.3",
        18,
        "WebSocket Compression (different payloads) – Human readable text, Goethe's Faust I (German) (binary, 222218 bytes)",
    ),
    ("12.4", 18, "WebSocket Compression (different payloads) – Large HTML file (utf8, 263647 bytes)"),
    ("12.5", 18, "WebSocket Compression (different payloads) – A larger PDF (binary, 1042328 bytes)"),
    (
        "13.1",
        18,
        "WebSocket Compression (different parameters) – client offers (requestNoContextTakeover, \
         requestMaxWindowBits): [(False, 0)] / server accept (requestNoContextTakeover, requestMaxWindowBits): [(False, 0)]",
    ),
    (
        "13.2",
        18,
        "WebSocket Compression (different parameters) – client offers (requestNoContextTakeover, \
         requestMaxWindowBits): [(True, 0)] / server accept (requestNoContextTakeover, requestMaxWindowBits): [(True, 0)]",
    ),
    (
        "13.3",
        18,
        "WebSocket Compression (different parameters) – client offers (requestNoContextTakeover, \
         requestMaxWindowBits): [(False, 9)] / server accept (requestNoContextTakeover, requestMaxWindowBits): [(False, 9)]",
    ),
    (
        "13.4",
        18,
        "WebSocket Compression (different parameters) – client offers (requestNoContextTakeover, \
         requestMaxWindowBits): [(False, 15)] / server accept (requestNoContextTakeover, requestMaxWindowBits): [(False, 15)]",
    ),
    (
        "13.5",
        18,
        "WebSocket Compression (different parameters) – client offers (requestNoContextTakeover, \
         requestMaxWindowBits): [(True, 9)] / server accept (requestNoContextTakeover, requestMaxWindowBits): [(True, 9)]",
    ),
    (
        "13.6",
        18,
        "WebSocket Compression (different parameters) – client offers (requestNoContextTakeover, \
         requestMaxWindowBits): [(True, 15)] / server accept (requestNoContextTakeover, requestMaxWindowBits): [(True, 15)]",
    ),
    (
        "13.7",
        18,
        "WebSocket Compression (different parameters) – client offers (requestNoContextTakeover, \
         requestMaxWindowBits): [(True, 9), (True, 0), (False, 0)] / server accept (requestNoContextTakeover, \
         requestMaxWindowBits): [(True, 9), (True, 0), (False, 0)]",
    ),
];

/// Category names of the top-level sections (report rows use them before the subsection title).
const CATEGORIES: &[(&str, &str)] = &[
    ("1", "Framing"),
    ("2", "Pings/Pongs"),
    ("3", "Reserved Bits"),
    ("4", "Opcodes"),
    ("5", "Fragmentation"),
    ("6", "UTF-8 Handling"),
    ("7", "Close Handling"),
    ("9", "Limits/Performance"),
    ("10", "Misc"),
    ("12", "WebSocket Compression (different payloads)"),
    ("13", "WebSocket Compression (different parameters)"),
];

/// Total number of cases in Autobahn's registry.
#[cfg(feature = "internals")] // for the tests, testkit and fuzz targets
pub const REGISTRY_LEN: usize = 517;

/// Autobahn's global 1-based index of `id`, or `None` if Autobahn has no such case.
pub fn autobahn_index(id: &str) -> Option<usize> {
    let (key, last) = id.rsplit_once('.')?;
    // Plain decimal only: no sign, no leading zero, no empty part.
    if last.is_empty() || !last.bytes().all(|b| b.is_ascii_digit()) || last.starts_with('0') {
        return None;
    }
    let n: usize = last.parse().ok()?;
    let mut before = 0;
    for &(k, count, _) in SUBSECTIONS {
        if k == key {
            return (n <= count).then_some(before + n);
        }
        before += count;
    }
    None
}

/// Report heading of a section key (`"1.1"`, `"2"`, `"6.4"`, `"7.13"` …); a bare
/// category number (`"6"`) gives the category name.
pub fn section_title(section: &str) -> Option<&'static str> {
    SUBSECTIONS
        .iter()
        .find(|(k, _, _)| *k == section)
        .map(|&(_, _, t)| t)
        .or_else(|| {
            CATEGORIES
                .iter()
                .find(|(k, _)| *k == section)
                .map(|&(_, t)| t)
        })
        .or_else(|| {
            WSSPEC_SECTIONS
                .iter()
                .find(|(k, _)| *k == section)
                .map(|&(_, t)| t)
        })
}

/// Titles of wsspec's own sections (case ids `section/slug`).
const WSSPEC_SECTIONS: &[(&str, &str)] = &[
    ("framing", "Framing beyond Autobahn (masking, lengths)"),
    (
        "client",
        "What only a client checks: the 101 response, masked server frames, mask keys",
    ),
    ("handshake", "Opening handshake (RFC 6455 §4)"),
    ("deflate", "permessage-deflate negotiation (RFC 7692)"),
    (
        "security",
        "Security and resource limits (known bug classes)",
    ),
];

/// Every case id of Autobahn's registry, in registry order.
#[cfg(feature = "internals")] // for the tests, testkit and fuzz targets
pub fn autobahn_ids() -> impl Iterator<Item = String> {
    SUBSECTIONS
        .iter()
        .flat_map(|&(k, count, _)| (1..=count).map(move |n| format!("{k}.{n}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_517_cases_in_numeric_order() {
        let ids: Vec<String> = autobahn_ids().collect();
        assert_eq!(ids.len(), REGISTRY_LEN);
        let mut sorted = ids.clone();
        sorted.sort_by_key(|i| crate::case::id_sort_key(i));
        assert_eq!(ids, sorted, "registry order must be numeric order");
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(autobahn_index(id), Some(i + 1), "{id}");
        }
    }

    #[test]
    fn every_subsection_heading_starts_with_its_category() {
        for &(k, _, title) in SUBSECTIONS {
            let cat = k.split('.').next().unwrap();
            let name = section_title(cat).unwrap();
            assert!(title.starts_with(name), "{k}: {title}");
        }
    }

    #[test]
    fn rejects_ids_outside_the_registry() {
        for id in [
            "",
            "1",
            "1.1",
            "1.1.9",
            "1.1.0",
            "1.1.01",
            "2.+1",
            "2.12",
            "8.1.1",
            "9.9.1",
            "handshake/no-key",
        ] {
            assert_eq!(autobahn_index(id), None, "{id:?}");
        }
    }
}
