//! Named data sets for the compression cases (Autobahn 12.x/13.x).
//!
//! Autobahn ships five third-party files (a JSON dump, the Lena bitmap, Goethe's Faust,
//! an HTML page and a PDF) that this project cannot redistribute. wsspec generates five
//! data sets of the same kind and exactly the same size instead, deterministically from
//! a fixed seed, so every run and every machine sends the same bytes. Payload bytes
//! therefore differ from Autobahn's while the verdicts stay comparable: what the cases
//! check (the echo is identical, compression is negotiated and used correctly) does not
//! depend on the content, and the content has the same character as Autobahn's (text
//! that compresses well, an image, a binary mix of compressed and plain parts).
//!
//! | name | like Autobahn's | size | unit |
//! |---|---|---|---|
//! | `json` | `data1.json` | 194,056 B | character (text) |
//! | `bitmap` | `lena512.bmp` (512×512, 8-bit grey) | 263,222 B | byte |
//! | `text` | `pg2229.txt` (German prose, sent as binary) | 222,218 B | byte |
//! | `html` | `data1.html` | 263,647 B | character (text) |
//! | `pdf` | a PDF paper | 1,042,328 B | byte |
//!
//! A window of `len` units starting at unit `i × len` (wrapping around the end) is
//! message *i*, as Autobahn slides over its files. For the text sets a unit is a
//! character (so a window can be longer than `len` bytes), as in Autobahn.
//! Each set is built once, on first use, and shared.

use std::sync::OnceLock;

/// The known data set names.
pub const NAMES: [&str; 5] = ["json", "bitmap", "text", "html", "pdf"];

/// One generated data set.
pub struct DataSet {
    bytes: Vec<u8>,
    /// Byte offset of every character, for the text sets (units are characters).
    chars: Option<Vec<u32>>,
}

impl DataSet {
    fn new(bytes: Vec<u8>, text: bool) -> DataSet {
        let chars = text.then(|| {
            let s = std::str::from_utf8(&bytes).expect("generated text is UTF-8");
            s.char_indices().map(|(i, _)| i as u32).collect()
        });
        DataSet { bytes, chars }
    }

    /// The whole data set.
    #[cfg(feature = "internals")] // for the tests, testkit and fuzz targets
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Whether units are characters (a text data set).
    #[cfg(feature = "internals")] // for the tests, testkit and fuzz targets
    pub fn is_text(&self) -> bool {
        self.chars.is_some()
    }

    /// Number of units (characters or bytes).
    pub fn units(&self) -> usize {
        self.chars.as_ref().map_or(self.bytes.len(), Vec::len)
    }

    /// Byte offset of unit `u` (`u == units()` is the end).
    fn offset(&self, u: usize) -> usize {
        match &self.chars {
            Some(c) => c.get(u).map_or(self.bytes.len(), |&o| o as usize),
            None => u,
        }
    }

    /// Message `i` of windows of `len` units: starts where window `i - 1` ended, wraps
    /// around the end of the data set.
    pub fn window(&self, i: u64, len: usize) -> Vec<u8> {
        let n = self.units();
        if n == 0 || len == 0 {
            return Vec::new();
        }
        let mut start = ((i as u128 * len as u128) % n as u128) as usize;
        let mut left = len;
        let mut out = Vec::with_capacity(len + 8);
        while left > 0 {
            let take = left.min(n - start);
            out.extend_from_slice(&self.bytes[self.offset(start)..self.offset(start + take)]);
            left -= take;
            start = 0;
        }
        out
    }
}

/// The data set called `name`, built on first use.
pub fn get(name: &str) -> Option<&'static DataSet> {
    static SETS: [OnceLock<DataSet>; 5] = [const { OnceLock::new() }; 5];
    let i = NAMES.iter().position(|n| *n == name)?;
    Some(SETS[i].get_or_init(|| match i {
        0 => DataSet::new(json(194_056), true),
        1 => DataSet::new(bitmap(), false),
        2 => DataSet::new(prose(222_218), false),
        3 => DataSet::new(html(263_647), true),
        _ => DataSet::new(pdf(1_042_328), false),
    }))
}

/// A small deterministic generator (xorshift64*): the data sets must never change.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const WORDS: &[&str] = &[
    "der",
    "die",
    "und",
    "nicht",
    "mit",
    "Geist",
    "Welt",
    "Nacht",
    "Herz",
    "Licht",
    "süß",
    "Größe",
    "schön",
    "Träume",
    "über",
    "Mächte",
    "wären",
    "Glück",
    "Himmel",
    "Erde",
    "Zeit",
    "ich",
    "du",
    "wir",
    "sie",
    "hab",
    "nun",
    "ach",
    "Philosophie",
    "Juristerei",
    "Medizin",
    "leider",
    "auch",
    "durchaus",
    "studiert",
    "heißem",
    "Bemühn",
    "steh",
    "armer",
    "Tor",
    "klug",
    "als",
    "wie",
    "zuvor",
    "Lust",
    "Stunde",
    "Augenblick",
    "verweile",
    "doch",
    "bist",
];

/// German-like prose, exactly `size` bytes (ASCII padding at the end).
fn prose(size: usize) -> Vec<u8> {
    let mut r = Rng(0x5eed_0003);
    let mut s = String::with_capacity(size);
    let mut line = 0;
    while s.len() + 24 < size {
        let sentence_len = 4 + r.below(12);
        for w in 0..sentence_len {
            let word = r.pick(WORDS);
            if w == 0 {
                let mut c = word.chars();
                if let Some(f) = c.next() {
                    s.extend(f.to_uppercase());
                    s.push_str(c.as_str());
                }
            } else {
                s.push(' ');
                s.push_str(word);
            }
        }
        s.push_str([".", "!", "?", ";"][r.below(4)]);
        line += 1;
        s.push_str(if line % 4 == 0 { "\n\n" } else { "\n" });
    }
    pad(s.into_bytes(), size, b' ')
}

/// A JSON array of records, exactly `size` bytes.
fn json(size: usize) -> Vec<u8> {
    let mut r = Rng(0x5eed_0001);
    let mut s = String::from("[\n");
    let mut id = 0u64;
    loop {
        id += 1;
        let rec = format!(
            "  {{\"id\": {id}, \"name\": \"{} {}\", \"active\": {}, \"score\": {}.{:02}, \
             \"tags\": [\"{}\", \"{}\"], \"address\": {{\"city\": \"{}\", \"zip\": \"{:05}\"}}, \
             \"note\": \"{} {} {}\"}},\n",
            r.pick(WORDS),
            r.pick(WORDS),
            r.below(2) == 0,
            r.below(1000),
            r.below(100),
            r.pick(WORDS),
            r.pick(WORDS),
            r.pick(&["München", "Köln", "Zürich", "Genève", "Kraków", "Oslo"]),
            r.below(100_000),
            r.pick(WORDS),
            r.pick(WORDS),
            r.pick(WORDS),
        );
        if s.len() + rec.len() + 16 > size {
            break;
        }
        s.push_str(&rec);
    }
    s.push_str(&format!("  {{\"id\": {}}}\n", id));
    let mut b = pad(s.into_bytes(), size - 2, b' ');
    b.extend_from_slice(b"]\n");
    b
}

/// An HTML page of paragraphs, lists and tables, exactly `size` bytes.
fn html(size: usize) -> Vec<u8> {
    let mut r = Rng(0x5eed_0004);
    let mut s = String::from(
        "<!DOCTYPE html>\n<html lang=\"de\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>wsspec data set</title>\n</head>\n<body>\n",
    );
    let end = "</body>\n</html>\n";
    loop {
        let mut block = String::new();
        match r.below(3) {
            0 => {
                block.push_str("<p>");
                for _ in 0..(10 + r.below(30)) {
                    block.push_str(r.pick(WORDS));
                    block.push(' ');
                }
                block.push_str("</p>\n");
            }
            1 => {
                block.push_str("<ul class=\"list\">\n");
                for _ in 0..(2 + r.below(5)) {
                    block.push_str(&format!(
                        "  <li><a href=\"/{}/{}.html\">{}</a></li>\n",
                        r.pick(WORDS),
                        r.below(1000),
                        r.pick(WORDS)
                    ));
                }
                block.push_str("</ul>\n");
            }
            _ => {
                block.push_str("<table>\n");
                for _ in 0..(2 + r.below(4)) {
                    block.push_str(&format!(
                        "  <tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                        r.pick(WORDS),
                        r.below(100_000),
                        r.pick(WORDS)
                    ));
                }
                block.push_str("</table>\n");
            }
        }
        if s.len() + block.len() + end.len() > size {
            break;
        }
        s.push_str(&block);
    }
    let mut b = pad(s.into_bytes(), size - end.len(), b'\n');
    b.extend_from_slice(end.as_bytes());
    b
}

/// A 512×512 8-bit grey-scale BMP (263,222 bytes): smooth shapes and a little noise,
/// the statistics of a photograph rather than of a drawing.
fn bitmap() -> Vec<u8> {
    let (w, h) = (512u32, 512u32);
    let pixels = (w * h) as usize;
    let offset = 14 + 40 + 1024;
    let total = offset + pixels;
    let mut b = Vec::with_capacity(total);
    b.extend_from_slice(b"BM");
    b.extend_from_slice(&(total as u32).to_le_bytes());
    b.extend_from_slice(&[0; 4]);
    b.extend_from_slice(&(offset as u32).to_le_bytes());
    b.extend_from_slice(&40u32.to_le_bytes());
    b.extend_from_slice(&w.to_le_bytes());
    b.extend_from_slice(&h.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&8u16.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&(pixels as u32).to_le_bytes());
    b.extend_from_slice(&2835u32.to_le_bytes());
    b.extend_from_slice(&2835u32.to_le_bytes());
    b.extend_from_slice(&256u32.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    for g in 0..=255u8 {
        b.extend_from_slice(&[g, g, g, 0]);
    }
    let mut r = Rng(0x5eed_0002);
    for y in 0..h {
        for x in 0..w {
            let (fx, fy) = (x as f64 / 512.0, y as f64 / 512.0);
            let base = 90.0
                + 60.0 * (fx * 7.0).sin() * (fy * 5.0).cos()
                + 50.0 * ((fx - 0.5).powi(2) + (fy - 0.45).powi(2)).sqrt().min(0.5)
                + if ((fx - 0.6).powi(2) + (fy - 0.5).powi(2)) < 0.04 {
                    70.0
                } else {
                    0.0
                };
            let noise = (r.below(17) as f64) - 8.0;
            b.push((base + noise).clamp(0.0, 255.0) as u8);
        }
    }
    b
}

/// A PDF-like file: header, objects with plain and DEFLATE-compressed streams, an xref
/// table and trailer, exactly `size` bytes.
fn pdf(size: usize) -> Vec<u8> {
    let mut r = Rng(0x5eed_0005);
    let mut b = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    let tail_room = 4096;
    let mut n = 0;
    while b.len() + tail_room < size {
        n += 1;
        offsets.push(b.len());
        let text = prose(2000 + r.below(6000));
        let stream = if n % 8 == 0 {
            text
        } else {
            crate::wire::deflate::compress_message(&text)
        };
        let filter = if n % 8 == 0 {
            ""
        } else {
            " /Filter /FlateDecode"
        };
        let head = format!(
            "{n} 0 obj\n<< /Length {}{filter} >>\nstream\n",
            stream.len()
        );
        if b.len() + head.len() + stream.len() + 32 + tail_room > size {
            offsets.pop();
            break;
        }
        b.extend_from_slice(head.as_bytes());
        b.extend_from_slice(&stream);
        b.extend_from_slice(b"\nendstream\nendobj\n");
    }
    let xref_at = b.len();
    b.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes());
    for o in offsets.iter().take(60) {
        b.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    let trailer = format!(
        "trailer\n<< /Size {} >>\nstartxref\n{xref_at}\n%%EOF\n",
        offsets.len() + 1
    );
    let mut b = pad(b, size - trailer.len(), b' ');
    b.extend_from_slice(trailer.as_bytes());
    b
}

/// `b` cut or padded with `fill` to exactly `size` bytes (cut only at ASCII).
fn pad(mut b: Vec<u8>, size: usize, fill: u8) -> Vec<u8> {
    b.truncate(size);
    // Never leave half a character at the cut.
    while std::str::from_utf8(&b).is_err_and(|e| e.error_len().is_none()) {
        b.pop();
    }
    b.resize(size, fill);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_kinds_and_windows() {
        let want = [194_056, 263_222, 222_218, 263_647, 1_042_328];
        for (name, size) in NAMES.iter().zip(want) {
            let d = get(name).unwrap();
            assert_eq!(d.bytes().len(), size, "{name}");
            if d.is_text() {
                assert!(std::str::from_utf8(d.bytes()).is_ok(), "{name}");
            }
        }
        assert!(
            get("json").unwrap().units() < 194_056,
            "json has multi-byte characters"
        );
        assert!(std::str::from_utf8(get("text").unwrap().bytes()).is_ok());
        assert_eq!(&get("bitmap").unwrap().bytes()[..2], b"BM");
        assert!(get("pdf").unwrap().bytes().starts_with(b"%PDF-1.4"));
        assert!(get("nope").is_none());
        // Windows are deterministic, slide, wrap, and count characters in text sets.
        let d = get("json").unwrap();
        let w0 = d.window(0, 16);
        assert_eq!(std::str::from_utf8(&w0).unwrap().chars().count(), 16);
        let n = d.units() as u64;
        let wrapped = d.window(n / 16, 16);
        assert_eq!(std::str::from_utf8(&wrapped).unwrap().chars().count(), 16);
        let b = get("bitmap").unwrap();
        assert_eq!(b.window(1, 100), b.bytes()[100..200]);
        let last = b.window(b.units() as u64 / 100, 100);
        assert_eq!(last.len(), 100);
    }

    #[test]
    fn compressible_like_the_originals() {
        for (name, lo, hi) in [("json", 0.05, 0.5), ("text", 0.1, 0.6), ("pdf", 0.3, 1.0)] {
            let d = get(name).unwrap().bytes();
            let c = crate::wire::deflate::compress_message(d);
            let ratio = c.len() as f64 / d.len() as f64;
            assert!((lo..=hi).contains(&ratio), "{name}: ratio {ratio}");
        }
    }
}
