//! Case selection with Autobahn's pattern rules: a pattern with `*` matches ids that
//! *start* with it (`*` = anything, so `1.*` is section 1 and `2.1*` is 2.1, 2.10, 2.11);
//! a pattern without `*` must name an existing case exactly.

use super::{id_sort_key, Case};
use crate::error::Error;

/// Does `pattern` select `id`?
pub fn matches(pattern: &str, id: &str) -> bool {
    if !pattern.contains('*') {
        return pattern == id;
    }
    glob_prefix(pattern.as_bytes(), id.as_bytes())
}

/// `*` matches any run; the pattern must match a prefix of `s` (not anchored at the end).
fn glob_prefix(p: &[u8], s: &[u8]) -> bool {
    match p.split_first() {
        None => true,
        Some((b'*', rest)) => (0..=s.len()).any(|i| glob_prefix(rest, &s[i..])),
        Some((c, rest)) => s.first() == Some(c) && glob_prefix(rest, &s[1..]),
    }
}

/// Select from `all` the cases matching any of `include` (all when empty) and none of
/// `exclude`, sorted numerically. Literal ids that name no case are an error.
pub fn select<'a>(
    all: &'a [Case],
    include: &[String],
    exclude: &[String],
) -> Result<Vec<&'a Case>, Error> {
    for p in include.iter().chain(exclude) {
        if !p.contains('*') && !all.iter().any(|c| c.id == *p) {
            return Err(Error::Usage(format!(
                "unknown case id `{p}` (run `wsspec cases` to list them, or use a pattern such as `{p}*`)"
            )));
        }
    }
    let mut out: Vec<&Case> = all
        .iter()
        .filter(|c| include.is_empty() || include.iter().any(|p| matches(p, &c.id)))
        .filter(|c| !exclude.iter().any(|p| matches(p, &c.id)))
        .collect();
    out.sort_by_key(|c| id_sort_key(&c.id));
    out.dedup_by(|a, b| a.id == b.id);
    Ok(out)
}

/// Does `pattern` match the whole of `s`? `*` matches any run, anything else itself;
/// unlike [`matches`] the pattern is anchored at both ends (Autobahn's rule for
/// `exclude-agent-cases`, agent names and case ids alike), and a pattern without `*`
/// is simply compared for equality.
pub fn matches_whole(pattern: &str, s: &str) -> bool {
    glob_whole(pattern.as_bytes(), s.as_bytes())
}

fn glob_whole(p: &[u8], s: &[u8]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((b'*', rest)) => (0..=s.len()).any(|i| glob_whole(rest, &s[i..])),
        Some((c, rest)) => s.first() == Some(c) && glob_whole(rest, &s[1..]),
    }
}

/// One part of a `--partition k/n` split: `k` (1-based) of `n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    pub k: usize,
    pub n: usize,
}

impl Partition {
    /// Parse `k/n` with `1 ≤ k ≤ n`.
    pub fn parse(s: &str) -> Result<Partition, Error> {
        let bad = |why: &str| {
            Error::Usage(format!(
                "--partition `{s}`: {why} (expected k/n with 1 ≤ k ≤ n, e.g. 2/3)"
            ))
        };
        let (k, n) = s.split_once('/').ok_or_else(|| bad("no `/`"))?;
        let k: usize = k.trim().parse().map_err(|_| bad("k is not a number"))?;
        let n: usize = n.trim().parse().map_err(|_| bad("n is not a number"))?;
        if n == 0 || k == 0 || k > n {
            return Err(bad("out of range"));
        }
        Ok(Partition { k, n })
    }

    /// Keep the items of this part: item `i` (0-based, in the order given — the
    /// selection's numeric id order) belongs to part `i mod n + 1`. Parts differ in size
    /// by at most one, and a case's part depends only on its position in the selection.
    pub fn apply<T>(self, items: Vec<T>) -> Vec<T> {
        items
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % self.n + 1 == self.k)
            .map(|(_, t)| t)
            .collect()
    }
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn autobahn_pattern_rules() {
        assert!(matches("1.*", "1.1.1"));
        assert!(!matches("1.*", "10.1.1"));
        assert!(matches("1*", "10.1.1"));
        assert!(matches("2.1*", "2.10"));
        assert!(matches("2.1*", "2.1"));
        assert!(!matches("2.1", "2.10"));
        assert!(matches("6.*.1", "6.4.1"));
        assert!(matches("*", "anything"));
    }

    #[test]
    fn whole_patterns_are_anchored_at_both_ends() {
        assert!(matches_whole("6.4.*", "6.4.3"));
        assert!(matches_whole("6.*.1", "6.4.1"));
        assert!(!matches_whole("6.*.1", "6.4.10"));
        assert!(!matches_whole("2.1", "2.10"));
        assert!(matches_whole("2.1", "2.1"));
        assert!(matches_whole("Tungstenite*", "Tungstenite 0.30"));
        assert!(!matches_whole("ungstenite*", "Tungstenite 0.30"));
        assert!(matches_whole("*", ""));
    }

    #[test]
    fn partitions_are_balanced_disjoint_and_complete() {
        let items: Vec<usize> = (0..10).collect();
        let parts: Vec<Vec<usize>> = (1..=3)
            .map(|k| Partition { k, n: 3 }.apply(items.clone()))
            .collect();
        assert_eq!(parts[0], vec![0, 3, 6, 9]);
        assert_eq!(parts[1], vec![1, 4, 7]);
        assert_eq!(parts[2], vec![2, 5, 8]);
        let mut all: Vec<usize> = parts.concat();
        all.sort_unstable();
        assert_eq!(all, items);
        assert_eq!(Partition { k: 1, n: 1 }.apply(items.clone()), items);
    }

    #[test]
    fn partition_syntax() {
        assert_eq!(
            Partition::parse("2/3").expect("valid"),
            Partition { k: 2, n: 3 }
        );
        for bad in ["0/3", "4/3", "1/0", "3", "a/b", "1/-2", ""] {
            assert!(Partition::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Partition { k: 1, n: 4 }.to_string(), "1/4");
    }
}
