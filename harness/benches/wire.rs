//! Criterion benchmarks of the wire layer: how fast wsspec decodes, encodes and
//! validates what a target sends, and how cheap the `frame_decoder` fuzz entry point
//! is without libFuzzer around it (`cargo xtask bench`, or
//! `cargo bench -p wsspec --bench wire`).
//!
//! Inputs are built deterministically here, except the fuzz replay, which uses the
//! committed seeds of `fuzz/corpus/frame_decoder/`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use wsspec::case::Length;
use wsspec::wire::deflate;
use wsspec::wire::frame::{encode_frame, FrameDecoder};
use wsspec::wire::utf8::Utf8Validator;

/// `count` masked binary frames of `len` bytes each, back to back.
fn masked_stream(count: usize, len: usize) -> Vec<u8> {
    let payload: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
    let mut out = Vec::new();
    for i in 0..count {
        let key = (i as u32).wrapping_mul(0x9e37_79b9).to_be_bytes();
        out.extend(encode_frame(
            true,
            0,
            2,
            Some(key),
            Length::Minimal,
            &payload,
        ));
    }
    out
}

/// Push `stream` in `chunk`-byte reads and drain every frame; returns the frame count.
fn decode_all(stream: &[u8], chunk: usize) -> usize {
    let mut d = FrameDecoder::new(u64::MAX);
    let mut n = 0;
    for piece in stream.chunks(chunk) {
        d.push(piece);
        while let Ok(Some(f)) = d.next_frame() {
            black_box(&f.payload);
            n += 1;
        }
    }
    n
}

fn decoder(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode");
    for (name, count, len, chunk) in [
        ("1000 x 125 B masked, 4 KiB reads", 1000, 125, 4096),
        ("1000 x 125 B masked, 1 B reads", 1000, 125, 1),
        ("16 x 64 KiB masked, 16 KiB reads", 16, 65536, 16384),
    ] {
        let stream = masked_stream(count, len);
        g.throughput(Throughput::Bytes(stream.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| assert_eq!(decode_all(black_box(&stream), chunk), count))
        });
    }
    g.finish();
}

fn encoder(c: &mut Criterion) {
    let mut g = c.benchmark_group("encode");
    for len in [125usize, 65536] {
        let payload = vec![0x5a; len];
        g.throughput(Throughput::Bytes(len as u64));
        g.bench_function(format!("{len} B masked"), |b| {
            b.iter(|| {
                encode_frame(
                    true,
                    0,
                    2,
                    Some([1, 2, 3, 4]),
                    Length::Minimal,
                    black_box(&payload),
                )
            })
        });
    }
    g.finish();
}

fn utf8(c: &mut Criterion) {
    let mut g = c.benchmark_group("utf8");
    let ascii = "hello, world ".repeat(80_000).into_bytes();
    let mixed = "κόσμε — ¿qué? 日本語 🎉 ".repeat(30_000).into_bytes();
    for (name, text) in [("ASCII ~1 MiB", &ascii), ("mixed ~1 MiB", &mixed)] {
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut v = Utf8Validator::new();
                black_box(v.feed(black_box(text)))
            })
        });
    }
    g.finish();
}

fn inflate(c: &mut Criterion) {
    let mut g = c.benchmark_group("inflate");
    let text = "permessage-deflate compresses repetitive text well. ".repeat(20_000);
    let compressed = deflate::compress_message(text.as_bytes());
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("~1 MiB text, bounded", |b| {
        b.iter(|| deflate::inflate_bounded(black_box(&compressed), 2 << 20).unwrap())
    });
    g.finish();
}

/// The `frame_decoder` fuzz entry point (decoder + reference oracle) over the committed
/// seeds, or over the corpus in `WSSPEC_BENCH_CORPUS` (e.g. the one libFuzzer grew in
/// `fuzz/target/corpus/frame_decoder`, inputs cut at the target's 512-byte `max_len`):
/// its cost per execution without libFuzzer's bookkeeping.
fn fuzz_entry(c: &mut Criterion) {
    let dir = std::env::var_os("WSSPEC_BENCH_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/frame_decoder")
        });
    let mut inputs: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .filter_map(|e| std::fs::read(e.path()).ok())
        .map(|mut i| {
            i.truncate(512);
            i
        })
        .collect();
    inputs.sort();
    let mut g = c.benchmark_group("fuzz entry");
    g.throughput(Throughput::Elements(inputs.len() as u64));
    g.bench_function(format!("frame_decoder, {} inputs", inputs.len()), |b| {
        b.iter(|| {
            for i in &inputs {
                wsspec::fuzz::frame_decoder(black_box(i));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, decoder, encoder, utf8, inflate, fuzz_entry);
criterion_main!(benches);
