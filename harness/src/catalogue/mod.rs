//! The built-in catalogue: all 517 cases of Autobahn|Testsuite (sections 1–7, 9, 10,
//! 12 and 13), under Autobahn's numbers and judged the way Autobahn judges them.
//!
//! Most cases are data in `cases/autobahn/*.json` (embedded at build time, see
//! [`crate::case::json`]). The ones whose payloads are better computed than typed live
//! here, written with [`crate::case::builder`]:
//!
//! * [`framing`] — section 1, data frames on each side of the payload-length boundaries;
//! * [`utf8_tables`] — 6.5–6.23, 132 generated UTF-8 validator probes;
//! * [`misc`] — 10.1.1, a message the tester fragments itself;
//! * [`limits`] — section 9, big and many messages (timed, run alone);
//! * [`compression`] — sections 12 and 13, 1000 compressed round trips per case;
//! * [`beyond`] — the computed cases of wsspec's own `handshake`, `deflate` and
//!   `security` sections (the rest of them is data in `cases/wsspec/`).
//!
//! [`registry`] knows the layout of Autobahn's whole 517-case registry (global indices
//! and report headings).

pub mod beyond;
pub mod compression;
pub mod framing;
pub mod limits;
pub mod misc;
pub mod registry;
pub mod utf8_tables;

use crate::case::{id_sort_key, json, Case};
use crate::error::Error;

pub use registry::{autobahn_index, section_title};

/// Cases that need computation: section 1 (16), 6.5–6.23 (132) and 10.1.1.
pub fn code_cases() -> Vec<Case> {
    let mut all = framing::cases();
    all.extend(utf8_tables::cases());
    all.extend(misc::cases());
    all.extend(limits::cases());
    all.extend(compression::cases());
    all.extend(beyond::cases());
    all
}

/// The embedded JSON cases plus [`code_cases`], sorted numerically by id.
///
/// Fails if two cases share an id (a JSON file repeating a computed case, or two files
/// defining the same one).
pub fn builtin() -> Result<Vec<Case>, Error> {
    let mut tagged: Vec<(Case, &str)> = json::embedded_cases()?
        .into_iter()
        .map(|c| (c, "cases/"))
        .collect();
    tagged.extend(code_cases().into_iter().map(|c| (c, "src/catalogue")));
    sorted_unique(tagged)
}

/// Sort (case, where it was defined) pairs by id and refuse repeated ids.
fn sorted_unique(mut tagged: Vec<(Case, &str)>) -> Result<Vec<Case>, Error> {
    tagged.sort_by_key(|(c, _)| id_sort_key(&c.id));
    for pair in tagged.windows(2) {
        let ((a, from_a), (b, from_b)) = (&pair[0], &pair[1]);
        if a.id == b.id {
            let whence = if from_a == from_b {
                format!("twice in {from_a}")
            } else {
                format!("in both {from_a} and {from_b}")
            };
            return Err(Error::CaseFile {
                location: "built-in catalogue".into(),
                message: format!("case id `{}` is defined {whence}", a.id),
            });
        }
    }
    Ok(tagged.into_iter().map(|(c, _)| c).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{section_of, Event, Step};
    use std::collections::BTreeMap;

    /// The reference table of §1.8 (`id yes|no hex`), extracted from the Autobahn notes.
    const UTF8_VECTORS: &str = include_str!("utf8_vectors.txt");

    fn autobahn_cases() -> Vec<Case> {
        builtin()
            .unwrap()
            .into_iter()
            .filter(|c| autobahn_index(&c.id).is_some())
            .collect()
    }

    #[test]
    fn catalogue_has_all_517_autobahn_cases() {
        let all = builtin().unwrap();
        let numbered: Vec<&Case> = all.iter().filter(|c| !c.id.contains('/')).collect();
        assert_eq!(numbered.len(), 517);
        for c in &numbered {
            assert!(
                autobahn_index(&c.id).is_some(),
                "{} is not an Autobahn case id",
                c.id
            );
        }
        // Sorted numerically, and indices strictly increasing.
        let idx: Vec<usize> = numbered
            .iter()
            .map(|c| autobahn_index(&c.id).unwrap())
            .collect();
        assert!(idx.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn per_section_counts() {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for c in autobahn_cases() {
            *counts
                .entry(c.id.split('.').next().unwrap().to_string())
                .or_default() += 1;
        }
        let want: BTreeMap<String, usize> = [
            ("1", 16),
            ("2", 11),
            ("3", 7),
            ("4", 10),
            ("5", 20),
            ("6", 145),
            ("7", 37),
            ("9", 54),
            ("10", 1),
            ("12", 90),
            ("13", 126),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        assert_eq!(counts, want);
    }

    #[test]
    fn every_subsection_is_complete() {
        // Exactly the cases of Autobahn's registry, in its order.
        let have: Vec<String> = autobahn_cases().into_iter().map(|c| c.id).collect();
        let want: Vec<String> = registry::autobahn_ids().collect();
        assert_eq!(have, want);
    }

    #[test]
    fn every_case_validates_and_is_documented() {
        for c in builtin().unwrap() {
            c.validate().unwrap();
            assert!(!c.title.trim().is_empty(), "{}: empty title", c.id);
            assert!(!c.title.contains('\n'), "{}: title must be one line", c.id);
            assert!(c.rfc.starts_with("RFC "), "{}: rfc {:?}", c.id, c.rfc);
            assert!(
                !c.requirement.trim().is_empty(),
                "{}: empty requirement",
                c.id
            );
            assert!(
                section_title(&section_of(&c.id)).is_some(),
                "{}: no section title",
                c.id
            );
        }
    }

    #[test]
    fn duplicate_ids_are_refused() {
        let one = misc::cases().remove(0);
        let err = sorted_unique(vec![(one.clone(), "cases/"), (one, "src/catalogue")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "built-in catalogue: case id `10.1.1` is defined in both cases/ and src/catalogue"
        );
    }

    #[test]
    fn generated_utf8_cases_match_the_reference_table() {
        let table: Vec<(String, bool, String)> = UTF8_VECTORS
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                assert_eq!(f.len(), 3, "bad fixture line {l:?}");
                (f[0].to_string(), f[1] == "yes", f[2].to_string())
            })
            .collect();
        assert_eq!(table.len(), 132);
        let vectors = utf8_tables::vectors();
        let got: Vec<(String, bool, String)> = vectors
            .iter()
            .map(|v| (v.id.clone(), v.valid, crate::case::encode_hex(&v.bytes)))
            .collect();
        assert_eq!(got.len(), table.len());
        for (g, t) in got.iter().zip(&table) {
            assert_eq!(g, t);
        }
        // The validity flags are those of a strict decoder.
        for v in &vectors {
            assert_eq!(std::str::from_utf8(&v.bytes).is_ok(), v.valid, "{}", v.id);
        }
        assert_eq!(vectors.iter().filter(|v| v.valid).count(), 63);
    }

    #[test]
    fn generated_utf8_cases_are_judged_by_validity() {
        let by_id: BTreeMap<String, Case> = code_cases()
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect();
        for v in utf8_tables::vectors() {
            let c = &by_id[&v.id];
            assert_eq!(c.steps.len(), 2, "{}", c.id);
            let Step::Send(f) = &c.steps[0] else {
                panic!("{}: first step is not a frame", c.id)
            };
            assert_eq!(f.opcode.value(), 1);
            assert!(f.fin);
            assert_eq!(f.payload.bytes(), v.bytes);
            assert_eq!(c.steps[1], Step::KillAfter(0.5));
            let close = &c.expect.close;
            if v.valid {
                assert_eq!(c.expect.ok.len(), 1);
                assert!(c.expect.ok[0].same(&Event::Message {
                    payload: f.payload.clone(),
                    binary: false
                }));
                assert!(close.closed_by_me && close.require_clean && close.codes == [1000]);
            } else {
                assert!(c.expect.ok.is_empty());
                assert!(!close.closed_by_me && !close.require_clean && close.codes == [1007]);
                assert!(close.wrong_closer_fatal);
            }
        }
    }

    #[test]
    fn autobahn_index_spot_checks() {
        for (id, idx) in [
            ("1.1.1", 1),
            ("1.2.8", 16),
            ("2.1", 17),
            ("2.10", 26),
            ("3.1", 28),
            ("6.4.4", 77),
            ("6.5.1", 78),
            ("6.23.7", 209),
            ("7.1.1", 210),
            ("7.13.2", 246),
            ("9.1.1", 247),
            ("10.1.1", 301),
            ("12.1.1", 302),
            ("13.1.1", 392),
            ("13.7.18", 517),
        ] {
            assert_eq!(autobahn_index(id), Some(idx), "{id}");
        }
        assert_eq!(autobahn_index("handshake/no-key"), None);
    }

    #[test]
    fn section_titles() {
        assert_eq!(section_title("1.1"), Some("Framing – Text Messages"));
        assert_eq!(section_title("2"), Some("Pings/Pongs"));
        assert_eq!(
            section_title("6.4"),
            Some("UTF-8 Handling – Fail-fast on invalid UTF-8")
        );
        assert_eq!(
            section_title("7.13"),
            Some("Close Handling – Informational close information (fuzzer initiated)")
        );
        assert_eq!(section_title("10.1"), Some("Misc – Auto-Fragmentation"));
        assert_eq!(section_title("8"), None);
        assert_eq!(
            section_title("handshake"),
            Some("Opening handshake (RFC 6455 §4)")
        );
    }

    fn get(id: &str) -> Case {
        builtin()
            .unwrap()
            .into_iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("no case {id}"))
    }

    #[test]
    fn message_steps_and_quirks() {
        let c = get("6.2.3");
        let Step::Message(m) = &c.steps[0] else {
            panic!("6.2.3 sends a message")
        };
        assert_eq!(m.payload.bytes().len(), 29);
        assert_eq!(
            std::str::from_utf8(&m.payload.bytes()).unwrap(),
            "Hello-\u{b5}@\u{df}\u{f6}\u{e4}\u{fc}\u{e0}\u{e1}-UTF-8!!"
        );
        assert_eq!(m.fragment_size, Some(1));

        let c = get("10.1.1");
        let Step::Message(m) = &c.steps[0] else {
            panic!("10.1.1 sends a message")
        };
        assert_eq!(
            (m.payload.bytes().len(), m.fragment_size),
            (65536, Some(1300))
        );
        assert_eq!(
            c.expect.tx_frames,
            Some([(0, 50), (1, 1)].into_iter().collect())
        );

        let c = get("1.1.8");
        let Step::Send(f) = &c.steps[0] else { panic!() };
        assert_eq!((f.payload.bytes().len(), f.chop), (65536, Some(997)));
        assert_eq!(c.steps[1], Step::KillAfter(10.0));
        let c = get("1.2.5");
        let Step::Send(f) = &c.steps[0] else { panic!() };
        assert_eq!(f.opcode.value(), 2);
        assert_eq!(f.payload.bytes(), vec![0xFE; 128]);
        assert_eq!(c.steps[1], Step::KillAfter(1.0));
    }

    #[test]
    fn close_section_rules() {
        for c in autobahn_cases()
            .into_iter()
            .filter(|c| c.id.starts_with("7."))
        {
            let informational = c.id == "7.1.6" || c.id.starts_with("7.13.");
            assert_eq!(c.expect.close.wrong_code_fatal, !informational, "{}", c.id);
            assert_eq!(c.expect.informational, informational, "{}", c.id);
            assert!(c.expect.close.closed_by_me, "{}", c.id);
            assert_eq!(c.steps.last(), Some(&Step::KillAfter(1.0)), "{}", c.id);
        }
        let c = get("7.7.10");
        assert_eq!(c.expect.close.codes, [1000, 3000]);
        assert!(c.expect.close.require_clean);
        let c = get("7.13.2");
        assert_eq!(c.expect.close.codes, [1000, 65535, 1002]);
        let c = get("7.5.1");
        let Step::Close(cl) = &c.steps[0] else {
            panic!()
        };
        assert_eq!(cl.code, Some(1000));
        assert!(std::str::from_utf8(&cl.reason.as_ref().unwrap().bytes()).is_err());
        let c = get("7.3.6");
        let Step::Close(cl) = &c.steps[0] else {
            panic!()
        };
        assert_eq!(cl.reason.as_ref().unwrap().bytes().len() + 2, 126);
    }

    #[test]
    fn utf8_fail_fast_cases_carry_21_bytes() {
        for id in ["6.4.1", "6.4.2", "6.4.3", "6.4.4"] {
            let c = get(id);
            let mut bytes = Vec::new();
            for s in &c.steps {
                match s {
                    Step::Send(f) => bytes.extend(f.payload.bytes()),
                    Step::FramePayload(p) => bytes.extend(p.bytes()),
                    Step::FrameHeader(h) => assert_eq!((h.len, h.fin), (21, false)),
                    _ => {}
                }
            }
            assert_eq!(
                crate::case::encode_hex(&bytes),
                "cebae1bdb9cf83cebcceb5f4908080656469746564",
                "{id}"
            );
            assert!(c.expect.close.wrong_closer_fatal);
        }
    }
}
