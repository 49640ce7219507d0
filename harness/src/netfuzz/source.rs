//! The deterministic byte source: sequence `n` of seed `s` is decoded (by
//! `arbitrary`) from the same PRNG bytes every time.

/// Bytes of PRNG output a sequence is decoded from.
const SOURCE_BYTES: usize = 8 << 10;

/// SplitMix64: tiny, fast, well distributed; good enough to feed `arbitrary`.
#[derive(Debug, Clone)]
pub struct SplitMix(u64);

impl SplitMix {
    pub fn new(seed: u64) -> Self {
        SplitMix(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let x = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&x[..chunk.len()]);
        }
    }
}

/// The byte source of sequence `n` of `seed`.
pub(super) fn source(seed: u64, n: u64) -> Vec<u8> {
    let mut r = SplitMix::new(seed ^ n.wrapping_mul(0xd1b5_4a32_d192_ed03));
    let mut buf = vec![0u8; SOURCE_BYTES];
    r.fill(&mut buf);
    buf
}
