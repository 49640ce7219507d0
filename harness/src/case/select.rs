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
}
