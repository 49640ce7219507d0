//! Sections 6.5–6.23: 132 single-frame text messages whose payloads probe a UTF-8
//! validator (vectors after Markus Kuhn's decoder stress test, in Autobahn's order).
//!
//! Payloads are computed from what they stand for — a code point written in the
//! original 1–6 byte UTF-8 integer scheme, an overlong form, a byte range — rather than
//! typed out. Whether a payload is valid is decided per group from its definition (a
//! Unicode scalar value in shortest form is valid; overlongs, surrogates, values above
//! U+10FFFF, stray continuation bytes and truncated sequences are not). The unit tests
//! check both the bytes and the flags against the reference table and `std::str::from_utf8`.

use crate::case::builder::*;
use crate::case::{encode_hex, Case};

/// One generated vector: `6.<group>.<n>`, the payload, and whether it is valid UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg(feature = "internals")] // for the tests, testkit and fuzz targets
pub struct Vector {
    pub id: String,
    pub bytes: Vec<u8>,
    pub valid: bool,
}

/// The Greek word "kosme" (κόσμε), 11 bytes with 2- and 3-byte code points.
const KOSME: &str = "\u{3ba}\u{1f79}\u{3c3}\u{3bc}\u{3b5}";

/// A payload group: (what it probes, in our words; its vectors with validity).
type Group = (&'static str, Vec<(bool, Vec<u8>)>);

/// Write `cp` in exactly `n` bytes (1–6) of the UTF-8 integer scheme, overlong if `n`
/// is more than needed. The scheme itself allows up to 31 bits; RFC 3629 UTF-8 is the
/// subset in shortest form up to U+10FFFF, surrogates excluded.
fn encode_in(cp: u32, n: usize) -> Vec<u8> {
    assert!(
        (1..=6).contains(&n),
        "UTF-8 integer scheme has 1 to 6 bytes"
    );
    if n == 1 {
        return vec![cp as u8];
    }
    let lead_bits = !(0xFFu8 >> n); // n leading one bits: 0xC0, 0xE0, 0xF0, 0xF8, 0xFC
    let mut out = vec![lead_bits | (cp >> (6 * (n - 1))) as u8];
    for k in (0..n - 1).rev() {
        out.push(0x80 | ((cp >> (6 * k)) & 0x3F) as u8);
    }
    out
}

/// Largest value the scheme fits in `n` bytes.
fn max_in(n: usize) -> u32 {
    match n {
        1 => 0x7F,
        _ => (1u32 << (5 * n + 1)) - 1, // 11, 16, 21, 26, 31 bits
    }
}

/// Shortest-form encoding (the scheme's natural length for `cp`).
fn encode(cp: u32) -> Vec<u8> {
    let n = (1..=6)
        .find(|&n| cp <= max_in(n))
        .expect("code point fits in 31 bits");
    encode_in(cp, n)
}

/// A Unicode scalar value (not a surrogate, not above U+10FFFF).
fn is_scalar(cp: u32) -> bool {
    char::from_u32(cp).is_some()
}

fn valid_all(items: impl IntoIterator<Item = Vec<u8>>) -> Vec<(bool, Vec<u8>)> {
    items.into_iter().map(|b| (true, b)).collect()
}
fn invalid_all(items: impl IntoIterator<Item = Vec<u8>>) -> Vec<(bool, Vec<u8>)> {
    items.into_iter().map(|b| (false, b)).collect()
}

/// The 19 groups, in Autobahn's order (6.5 first).
fn groups() -> Vec<Group> {
    let kosme = KOSME.as_bytes();
    // "hello" + one code point of each encoded length + "world"
    let hello = [0x24, 0xA2, 0x20AC, 0x24B62]
        .into_iter()
        .map(|cp| [b"hello".as_slice(), &encode(cp), b"world"].concat())
        .chain([kosme.to_vec()]);

    // Truncated sequences: the first and last value of each 2–6 byte length, minus
    // the final continuation byte.
    let truncated: Vec<Vec<u8>> = (2..=6)
        .map(|n| encode_in(0, n))
        .chain((2..=6).map(|n| encode_in(max_in(n), n)))
        .map(|mut b| {
            b.pop();
            b
        })
        .collect();

    // 80 bf 80 bf … cut to each length from 2 to 6.
    let alternating = (2..=6).map(|n| {
        (0..n)
            .map(|i| if i % 2 == 0 { 0x80 } else { 0xBF })
            .collect()
    });

    // Start bytes of each lead-byte range (end exclusive), each followed by a space.
    let lonely = [
        (0xC0u8, 0xDFu8),
        (0xE0, 0xEF),
        (0xF0, 0xF7),
        (0xF8, 0xFB),
        (0xFC, 0xFD),
    ]
    .into_iter()
    .map(|(lo, hi)| (lo..hi).flat_map(|b| [b, b' ']).collect());

    let high = [0xD800, 0xDB7F, 0xDB80, 0xDBFF];
    let low = [0xDC00, 0xDFFF];
    let single_surrogates = [0xD800, 0xDB7F, 0xDB80, 0xDBFF, 0xDC00, 0xDF80, 0xDFFF];

    // U+FFFE/U+FFFF, then the last two code points of planes 1 to 16.
    let nonchars = [0xFFFE, 0xFFFF]
        .into_iter()
        .chain((1..=16u32).flat_map(|p| [(p << 16) | 0xFFFE, (p << 16) | 0xFFFF]));

    vec![
        (
            "well-formed text with code points of every length",
            valid_all(hello),
        ),
        (
            "a prefix of a multi-byte string, valid only when it ends on a code-point boundary",
            (1..=kosme.len())
                .map(|i| (KOSME.is_char_boundary(i), kosme[..i].to_vec()))
                .collect(),
        ),
        (
            "the lowest code point of each encoded length",
            valid_all([0, 0x80, 0x800, 0x10000].map(encode)),
        ),
        (
            "5- and 6-byte sequences, which RFC 3629 forbids",
            invalid_all([0x20_0000, 0x400_0000].map(encode)),
        ),
        (
            "the highest code point of each encoded length",
            valid_all([0x7F, 0x7FF, 0xFFFF, 0x10_FFFF].map(encode)),
        ),
        (
            "the highest value of the 4-, 5- and 6-byte forms, all beyond U+10FFFF",
            invalid_all([max_in(4), max_in(5), max_in(6)].map(encode)),
        ),
        (
            "code points at the edges of the surrogate block and of the Unicode range",
            [0xD7FF, 0xE000, 0xFFFD, 0x10_FFFF, 0x11_0000]
                .map(|cp| (is_scalar(cp), encode(cp)))
                .into(),
        ),
        (
            "continuation bytes with no lead byte",
            invalid_all(
                [vec![0x80], vec![0xBF]]
                    .into_iter()
                    .chain(alternating)
                    .chain([(0x80..0xBF).collect()]),
            ),
        ),
        (
            "lead bytes followed by a space instead of continuation bytes",
            invalid_all(lonely),
        ),
        (
            "multi-byte sequences with the final continuation byte missing",
            invalid_all(truncated.clone()),
        ),
        (
            "several truncated sequences in a row",
            invalid_all([truncated.concat()]),
        ),
        (
            "bytes that never occur in UTF-8",
            invalid_all([vec![0xFE], vec![0xFF], vec![0xFE, 0xFE, 0xFF, 0xFF]]),
        ),
        (
            "'/' (U+002F) in overlong 2- to 6-byte forms",
            invalid_all((2..=6).map(|n| encode_in(0x2F, n))),
        ),
        (
            "the largest value of each length written one byte longer than needed",
            invalid_all((2..=6).map(|n| encode_in(max_in(n - 1), n))),
        ),
        (
            "NUL (U+0000) in overlong 2- to 6-byte forms",
            invalid_all((2..=6).map(|n| encode_in(0, n))),
        ),
        (
            "a UTF-16 surrogate code point encoded on its own",
            invalid_all(single_surrogates.map(|cp| encode_in(cp, 3))),
        ),
        (
            "a UTF-16 surrogate pair encoded as two 3-byte sequences",
            invalid_all(
                high.iter()
                    .flat_map(|&h| low.map(move |l| [encode_in(h, 3), encode_in(l, 3)].concat())),
            ),
        ),
        (
            "noncharacter code points, which are still valid UTF-8",
            valid_all(nonchars.map(encode)),
        ),
        (
            "the Specials block U+FFF9–U+FFFF",
            valid_all((0xFFF9..=0xFFFF).map(encode)),
        ),
    ]
}

/// Every generated vector with its Autobahn id (6.5.1 … 6.23.7).
#[cfg(feature = "internals")] // for the tests, testkit and fuzz targets
pub fn vectors() -> Vec<Vector> {
    let mut out = Vec::new();
    for (g, (_, items)) in groups().into_iter().enumerate() {
        for (n, (valid, bytes)) in items.into_iter().enumerate() {
            out.push(Vector {
                id: format!("6.{}.{}", g + 5, n + 1),
                bytes,
                valid,
            });
        }
    }
    out
}

/// The 132 cases of 6.5–6.23.
pub fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    for (g, (what, items)) in groups().into_iter().enumerate() {
        for (n, (valid, bytes)) in items.into_iter().enumerate() {
            out.push(one(&format!("6.{}.{}", g + 5, n + 1), what, valid, &bytes));
        }
    }
    out
}

fn one(id: &str, what: &str, valid: bool, bytes: &[u8]) -> Case {
    let shown = if bytes.len() > 16 {
        format!("{}… ({} bytes)", encode_hex(&bytes[..16]), bytes.len())
    } else {
        encode_hex(bytes)
    };
    let verdict = if valid { "valid" } else { "invalid" };
    let title = format!("Send a single-frame text message of {verdict} UTF-8: {shown}");
    let payload = hex(&encode_hex(bytes));
    let b = case(id, &title)
        .rfc("RFC 6455 §8.1")
        .send(text(payload.clone()))
        .kill_after(0.5);
    if valid {
        b.requirement(&format!(
            "A text message that is well-formed UTF-8 ({what}) MUST be accepted and delivered byte for byte."
        ))
        .expect_events([echo_text(payload)])
        .tester_closes()
        .build()
    } else {
        b.requirement(&format!(
            "A text message that is not valid UTF-8 ({what}) MUST make the receiver fail the connection, with close code 1007."
        ))
        .expect_events([])
        .peer_fails([1007])
        .wrong_closer_fatal()
        .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_encoder_matches_known_forms() {
        assert_eq!(encode(0x24B62), [0xF0, 0xA4, 0xAD, 0xA2]);
        assert_eq!(encode(0x20_0000), [0xF8, 0x88, 0x80, 0x80, 0x80]);
        assert_eq!(encode_in(0x7F, 2), [0xC1, 0xBF]);
        assert_eq!(encode(max_in(6)), [0xFD, 0xBF, 0xBF, 0xBF, 0xBF, 0xBF]);
        for cp in [0u32, 0x7F, 0x80, 0x7FF, 0x800, 0xFFFD, 0x10000, 0x10_FFFF] {
            let c = char::from_u32(cp).unwrap();
            assert_eq!(encode(cp), c.to_string().as_bytes(), "U+{cp:04X}");
        }
    }

    #[test]
    fn group_sizes_follow_autobahn() {
        let sizes: Vec<usize> = groups().iter().map(|(_, v)| v.len()).collect();
        assert_eq!(
            sizes,
            [5, 11, 4, 2, 4, 3, 5, 8, 5, 10, 1, 3, 5, 5, 5, 7, 8, 34, 7]
        );
    }
}
