//! The wire trace and traffic statistics of one case: every TCP chunk and frame in both
//! directions plus the tester's own decisions, with timestamps, under a size cap.

use crate::case::encode_hex;
use crate::report::model::{Dir, TraceRow, TraceWhat, TRACE_OCTETS};
use std::collections::BTreeMap;
use std::time::Instant;

/// Records trace rows and the Autobahn-style octet/frame histograms.
pub struct Recorder {
    start: Instant,
    cap: usize,
    pub rows: Vec<TraceRow>,
    pub dropped: usize,
    pub rx_octets: BTreeMap<String, u64>,
    pub tx_octets: BTreeMap<String, u64>,
    pub rx_frames: BTreeMap<String, u64>,
    pub tx_frames: BTreeMap<String, u64>,
}

impl Recorder {
    pub fn new(start: Instant, cap: usize) -> Self {
        Recorder {
            start,
            cap,
            rows: Vec::new(),
            dropped: 0,
            rx_octets: BTreeMap::new(),
            tx_octets: BTreeMap::new(),
            rx_frames: BTreeMap::new(),
            tx_frames: BTreeMap::new(),
        }
    }

    fn push(&mut self, dir: Dir, what: TraceWhat) {
        if self.rows.len() >= self.cap {
            self.dropped += 1;
            return;
        }
        let t_us = self.start.elapsed().as_micros() as u64;
        self.rows.push(TraceRow { t_us, dir, what });
    }

    /// Raw bytes written to or read from TCP.
    pub fn octets(&mut self, dir: Dir, data: &[u8]) {
        let stats = if dir == Dir::Rx {
            &mut self.rx_octets
        } else {
            &mut self.tx_octets
        };
        *stats.entry(data.len().to_string()).or_default() += 1;
        let shown = &data[..data.len().min(TRACE_OCTETS)];
        self.push(
            dir,
            TraceWhat::Octets {
                len: data.len(),
                hex: encode_hex(shown),
            },
        );
    }

    /// A frame sent or received. `payload` is the unmasked payload (or its start).
    #[allow(clippy::too_many_arguments)]
    pub fn frame(
        &mut self,
        dir: Dir,
        opcode: u8,
        fin: bool,
        rsv: u8,
        mask: Option<[u8; 4]>,
        len: u64,
        payload: &[u8],
    ) {
        let stats = if dir == Dir::Rx {
            &mut self.rx_frames
        } else {
            &mut self.tx_frames
        };
        *stats.entry(opcode.to_string()).or_default() += 1;
        let shown = &payload[..payload.len().min(TRACE_OCTETS)];
        let payload_text = std::str::from_utf8(shown).ok().map(str::to_string);
        self.push(
            dir,
            TraceWhat::Frame {
                opcode,
                fin,
                rsv,
                masked: mask.is_some(),
                mask: mask.map(|m| encode_hex(&m)),
                len,
                payload_hex: encode_hex(shown),
                payload_text,
            },
        );
    }

    /// Something the tester did or concluded.
    pub fn note(&mut self, text: impl Into<String>) {
        self.push(Dir::Note, TraceWhat::Note { text: text.into() });
    }
}
