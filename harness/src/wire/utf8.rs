//! Incremental, fail-fast UTF-8 validation for text messages that arrive in pieces.
//!
//! The validator is a small state machine built from the table of well-formed byte
//! sequences (Unicode Table 3-7, RFC 3629): no overlong forms, no surrogates
//! (U+D800–U+DFFF), nothing above U+10FFFF. Noncharacters such as U+FFFE are valid.
//! It reports the *first* byte that cannot be part of valid UTF-8, the way a
//! fail-fast peer is expected to notice it (e.g. `f4 90` fails at the `90`).
//!
//! | first byte | second byte | third | fourth |
//! |------------|-------------|-------|--------|
//! | 00..7F     |             |       |        |
//! | C2..DF     | 80..BF      |       |        |
//! | E0         | A0..BF      | 80..BF|        |
//! | E1..EC     | 80..BF      | 80..BF|        |
//! | ED         | 80..9F      | 80..BF|        |
//! | EE..EF     | 80..BF      | 80..BF|        |
//! | F0         | 90..BF      | 80..BF| 80..BF |
//! | F1..F3     | 80..BF      | 80..BF| 80..BF |
//! | F4         | 80..8F      | 80..BF| 80..BF |

/// Where validation stands after the bytes fed so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Utf8Status {
    /// All bytes so far are valid; `complete` = not in the middle of a code point.
    Valid { complete: bool },
    /// The byte at absolute index `at` (counted over everything fed since new/reset)
    /// cannot be part of valid UTF-8.
    Invalid { at: usize },
}

/// Incremental UTF-8 validator; feed it the pieces of a message in order.
#[derive(Debug, Clone, Default)]
pub struct Utf8Validator {
    /// Continuation bytes still expected for the current code point.
    need: u8,
    /// Smallest allowed value of the next continuation byte.
    lo: u8,
    /// Largest allowed value of the next continuation byte.
    hi: u8,
    /// Number of bytes fed since new/reset.
    fed: usize,
    /// Index of the first impossible byte, once one was seen.
    invalid: Option<usize>,
}

/// High bit of every byte in a word: set in a word iff some byte is not ASCII.
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// What a lead byte starts: (continuation bytes needed, range of the first one),
/// or `None` if the byte cannot start a code point.
fn lead(b: u8) -> Option<(u8, u8, u8)> {
    match b {
        0x00..=0x7f => Some((0, 0, 0)),
        0xc2..=0xdf => Some((1, 0x80, 0xbf)),
        0xe0 => Some((2, 0xa0, 0xbf)),
        0xe1..=0xec | 0xee..=0xef => Some((2, 0x80, 0xbf)),
        0xed => Some((2, 0x80, 0x9f)),
        0xf0 => Some((3, 0x90, 0xbf)),
        0xf1..=0xf3 => Some((3, 0x80, 0xbf)),
        0xf4 => Some((3, 0x80, 0x8f)),
        // 80..BF (stray continuation), C0/C1 (overlong), F5..FF (beyond U+10FFFF).
        _ => None,
    }
}

impl Utf8Validator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Forget everything fed so far.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Feed more bytes. Fails at the first impossible byte (`f4 90` fails at the `90`,
    /// `ed a0` at the `a0`, `c0` at the `c0` itself, `f5`..`ff` immediately). Once
    /// invalid, it stays invalid and keeps returning the same status.
    pub fn feed(&mut self, bytes: &[u8]) -> Utf8Status {
        if self.invalid.is_some() {
            return self.status();
        }
        let mut rest = bytes;
        loop {
            if self.need == 0 {
                // Skip runs of ASCII a word at a time.
                while let Some((word, tail)) = rest.split_first_chunk::<8>() {
                    if u64::from_ne_bytes(*word) & HIGH_BITS != 0 {
                        break;
                    }
                    rest = tail;
                }
            }
            let Some((&b, tail)) = rest.split_first() else {
                break;
            };
            if self.need == 0 {
                match lead(b) {
                    Some((need, lo, hi)) => {
                        self.need = need;
                        self.lo = lo;
                        self.hi = hi;
                    }
                    None => return self.fail(bytes.len() - rest.len()),
                }
            } else if (self.lo..=self.hi).contains(&b) {
                self.need -= 1;
                self.lo = 0x80;
                self.hi = 0xbf;
            } else {
                return self.fail(bytes.len() - rest.len());
            }
            rest = tail;
        }
        self.fed = self.fed.saturating_add(bytes.len());
        self.status()
    }

    /// Where validation stands, without feeding anything.
    pub fn status(&self) -> Utf8Status {
        match self.invalid {
            Some(at) => Utf8Status::Invalid { at },
            None => Utf8Status::Valid {
                complete: self.need == 0,
            },
        }
    }

    /// Record the first impossible byte at `index` within the current feed.
    fn fail(&mut self, index: usize) -> Utf8Status {
        let at = self.fed.saturating_add(index);
        self.invalid = Some(at);
        self.need = 0;
        Utf8Status::Invalid { at }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small deterministic PRNG (xorshift64*), enough for generating test inputs.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            self.0 = x;
            x.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            if n == 0 {
                0
            } else {
                (self.next() % n as u64) as usize
            }
        }
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn check_all(bytes: &[u8]) -> Utf8Status {
        let mut v = Utf8Validator::new();
        v.feed(bytes)
    }

    /// What the validator must say about `bytes`, derived from the standard library.
    fn expected(bytes: &[u8]) -> Utf8Status {
        match std::str::from_utf8(bytes) {
            Ok(_) => Utf8Status::Valid { complete: true },
            Err(e) => match e.error_len() {
                None => Utf8Status::Valid { complete: false },
                Some(n) => {
                    // std points at the start of the bad sequence and gives the length of
                    // its longest valid prefix. If that sequence starts with a byte that
                    // can never be a lead byte, the lead itself is the impossible byte;
                    // otherwise the lead and its good continuations make up `n` bytes and
                    // the next one is the impossible byte.
                    let start = e.valid_up_to();
                    let at = if lead(bytes[start]).is_some() {
                        start + n
                    } else {
                        start
                    };
                    Utf8Status::Invalid { at }
                }
            },
        }
    }

    #[test]
    fn simple_cases() {
        assert_eq!(check_all(b""), Utf8Status::Valid { complete: true });
        assert_eq!(check_all(b"Hello"), Utf8Status::Valid { complete: true });
        assert_eq!(
            check_all("κόσμε".as_bytes()),
            Utf8Status::Valid { complete: true }
        );
        assert_eq!(check_all(&[0xce]), Utf8Status::Valid { complete: false });
        assert_eq!(check_all(&[0xc0]), Utf8Status::Invalid { at: 0 });
        assert_eq!(check_all(&[0xc1, 0xbf]), Utf8Status::Invalid { at: 0 });
        assert_eq!(check_all(&[0x80]), Utf8Status::Invalid { at: 0 });
        for b in 0xf5..=0xff {
            assert_eq!(check_all(&[b]), Utf8Status::Invalid { at: 0 });
            assert_eq!(check_all(&[b'a', b]), Utf8Status::Invalid { at: 1 });
        }
        assert_eq!(check_all(&[0xf4, 0x90]), Utf8Status::Invalid { at: 1 });
        assert_eq!(check_all(&[0xed, 0xa0]), Utf8Status::Invalid { at: 1 });
        assert_eq!(check_all(&[0xe0, 0x80]), Utf8Status::Invalid { at: 1 });
        assert_eq!(check_all(&[0xf0, 0x8f]), Utf8Status::Invalid { at: 1 });
        assert_eq!(
            check_all(&[0xe1, 0x80, 0x41]),
            Utf8Status::Invalid { at: 2 }
        );
        // Boundaries of the code space and noncharacters.
        assert_eq!(
            check_all(&[0xf4, 0x8f, 0xbf, 0xbf]),
            Utf8Status::Valid { complete: true }
        );
        assert_eq!(
            check_all(&[0xef, 0xbf, 0xbe]),
            Utf8Status::Valid { complete: true }
        );
        assert_eq!(
            check_all(&[0xed, 0x9f, 0xbf]),
            Utf8Status::Valid { complete: true }
        );
        assert_eq!(
            check_all(&[0xee, 0x80, 0x80]),
            Utf8Status::Valid { complete: true }
        );
    }

    #[test]
    fn autobahn_vectors() {
        // 6.3.1: "κόσμε" followed by the surrogate U+D800 (ed a0 80) and "edited".
        // Bytes: ce ba | e1 bd b9 | cf 83 | ce bc | ce b5 | ed(11) a0(12) ...
        let v = hex("cebae1bdb9cf83cebcceb5eda080656469746564");
        assert_eq!(v[11], 0xed);
        assert_eq!(check_all(&v), Utf8Status::Invalid { at: 12 });
        // Fed one byte at a time, fails on the same byte and only then.
        let mut val = Utf8Validator::new();
        for (i, b) in v.iter().enumerate() {
            let st = val.feed(&[*b]);
            if i < 12 {
                assert!(matches!(st, Utf8Status::Valid { .. }), "{i}");
            } else {
                assert_eq!(st, Utf8Status::Invalid { at: 12 });
            }
        }
        // 6.4.1-style: f4 90 80 80 (above U+10FFFF) fails at the second byte.
        assert_eq!(check_all(&hex("f4908080")), Utf8Status::Invalid { at: 1 });
        assert_eq!(
            check_all(&hex("cebae1bdb9cf83cebcceb5f4908080656469746564")),
            Utf8Status::Invalid { at: 12 }
        );
        assert_eq!(check_all(b"edited"), Utf8Status::Valid { complete: true });
        // 6.4.4: ce ba e1 bd b9 cf 83 ce bc ce b5 | f4 90 fed in two frames.
        let mut val = Utf8Validator::new();
        assert_eq!(
            val.feed(&hex("cebae1bdb9cf83cebcceb5")),
            Utf8Status::Valid { complete: true }
        );
        assert_eq!(val.feed(&hex("f4")), Utf8Status::Valid { complete: false });
        assert_eq!(val.feed(&hex("90")), Utf8Status::Invalid { at: 12 });
    }

    #[test]
    fn stays_invalid_and_reset() {
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(b"ab\xff"), Utf8Status::Invalid { at: 2 });
        assert_eq!(v.feed(b"cd"), Utf8Status::Invalid { at: 2 });
        assert_eq!(v.feed(b"\xff"), Utf8Status::Invalid { at: 2 });
        assert_eq!(v.status(), Utf8Status::Invalid { at: 2 });
        v.reset();
        assert_eq!(v.status(), Utf8Status::Valid { complete: true });
        assert_eq!(v.feed(b"\xe2\x82"), Utf8Status::Valid { complete: false });
        assert_eq!(v.feed(b"\xac"), Utf8Status::Valid { complete: true });
        assert_eq!(v.feed(b"abc\xc3"), Utf8Status::Valid { complete: false });
        assert_eq!(v.status(), Utf8Status::Valid { complete: false });
        assert_eq!(v.feed(b"("), Utf8Status::Invalid { at: 7 });
    }

    #[test]
    fn every_two_and_three_byte_prefix_agrees_with_std() {
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let s = [a, b];
                assert_eq!(check_all(&s), expected(&s), "{s:02x?}");
            }
        }
        for a in 0xe0..=0xf4u8 {
            for b in 0x70..=0xc2u8 {
                for c in [0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xff] {
                    let s = [a, b, c];
                    assert_eq!(check_all(&s), expected(&s), "{s:02x?}");
                }
            }
        }
    }

    #[test]
    fn every_scalar_value_is_valid() {
        let mut buf = [0u8; 4];
        for c in (0..=0x10ffffu32).filter_map(char::from_u32) {
            let s = c.encode_utf8(&mut buf);
            assert_eq!(
                check_all(s.as_bytes()),
                Utf8Status::Valid { complete: true },
                "{c:?}"
            );
        }
        // Every surrogate is rejected on its second byte.
        for cp in 0xd800..=0xdfffu32 {
            let s = [
                0xe0 | (cp >> 12) as u8,
                0x80 | ((cp >> 6) & 0x3f) as u8,
                0x80 | (cp & 0x3f) as u8,
            ];
            assert_eq!(check_all(&s), Utf8Status::Invalid { at: 1 });
        }
    }

    #[test]
    fn ascii_fast_path_finds_bytes_at_every_offset() {
        for len in 0..40 {
            for pos in 0..len {
                let mut s = vec![b'x'; len];
                s[pos] = 0xff;
                assert_eq!(check_all(&s), Utf8Status::Invalid { at: pos });
                s[pos] = 0xc3;
                let exp = if pos + 1 == len {
                    Utf8Status::Valid { complete: false }
                } else {
                    Utf8Status::Invalid { at: pos + 1 }
                };
                assert_eq!(check_all(&s), exp, "len {len} pos {pos}");
                if pos + 1 < len {
                    s[pos + 1] = 0xa9;
                    assert_eq!(check_all(&s), Utf8Status::Valid { complete: true });
                }
            }
        }
    }

    /// A byte string that is mostly UTF-8 with the occasional defect.
    fn generate(rng: &mut Rng) -> Vec<u8> {
        const TRICKY: &[&[u8]] = &[
            b"\xed\xa0\x80",
            b"\xed\x9f\xbf",
            b"\xed\xbf\xbf",
            b"\xf4\x90\x80\x80",
            b"\xf4\x8f\xbf\xbf",
            b"\xf0\x8f\xbf\xbf",
            b"\xf0\x90\x80\x80",
            b"\xe0\x9f\xbf",
            b"\xe0\xa0\x80",
            b"\xc0\x80",
            b"\xc1\xbf",
            b"\xc2\x80",
            b"\xef\xbf\xbe",
            b"\xef\xbf\xbf",
            b"\xf5\x80\x80\x80",
            b"\xff",
            b"\xfe",
            b"\x80",
            b"\xbf",
        ];
        let mut out = Vec::new();
        let pieces = rng.below(12);
        for _ in 0..pieces {
            match rng.below(10) {
                0..=2 => {
                    let n = rng.below(20);
                    for _ in 0..n {
                        out.push((rng.next() % 0x80) as u8);
                    }
                }
                3..=5 => {
                    let cp = (rng.next() % 0x11_0000) as u32;
                    if let Some(c) = char::from_u32(cp) {
                        let mut b = [0u8; 4];
                        out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
                    }
                }
                6 => {
                    let t = TRICKY[rng.below(TRICKY.len())];
                    out.extend_from_slice(t);
                }
                7 => {
                    // A truncated multi-byte character.
                    let cp = 0x80 + (rng.next() % (0x11_0000 - 0x80)) as u32;
                    if let Some(c) = char::from_u32(cp) {
                        let mut b = [0u8; 4];
                        let enc = c.encode_utf8(&mut b).as_bytes();
                        let cut = 1 + rng.below(enc.len() - 1);
                        out.extend_from_slice(&enc[..cut]);
                    }
                }
                _ => out.push(rng.next() as u8),
            }
        }
        out
    }

    #[test]
    fn differential_against_std_with_random_splits() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        // How many inputs were valid, truncated and invalid: all kinds must be covered.
        let mut kinds = [0usize; 3];
        for _ in 0..20_000 {
            let s = generate(&mut rng);
            let exp = expected(&s);
            assert_eq!(check_all(&s), exp, "{s:02x?}");
            kinds[match exp {
                Utf8Status::Valid { complete: true } => 0,
                Utf8Status::Valid { complete: false } => 1,
                Utf8Status::Invalid { .. } => 2,
            }] += 1;
            // The same bytes fed in random pieces: after every piece the status equals
            // the verdict on the prefix fed so far.
            let mut v = Utf8Validator::new();
            let mut fed = 0;
            while fed < s.len() {
                let n = 1 + rng.below(s.len() - fed);
                let st = v.feed(&s[fed..fed + n]);
                fed += n;
                assert_eq!(st, expected(&s[..fed]), "{s:02x?} at {fed}");
                assert_eq!(v.status(), st);
            }
            assert_eq!(v.status(), exp, "{s:02x?}");
        }
        assert!(kinds.iter().all(|&k| k > 500), "{kinds:?}");
    }
}
