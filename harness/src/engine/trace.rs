//! The wire trace and traffic statistics of one case: every TCP chunk and frame in both
//! directions plus the tester's own decisions, with timestamps, under a size cap.
//!
//! Past the cap the trace keeps its head and a rolling tail (a failure shows at the
//! end of a long case); [`TraceMode`] shortens or silences it per case. The traffic
//! histograms always count everything.

use crate::case::encode_hex;
use crate::case::TraceMode;
use crate::report::model::{Dir, TraceRow, TraceWhat, Traffic, TRACE_OCTETS};
use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

/// Records trace rows and the Autobahn-style octet/frame histograms.
pub struct Recorder {
    start: Instant,
    cap: usize,
    mode: TraceMode,
    rows: Vec<TraceRow>,
    tail: VecDeque<TraceRow>,
    pub dropped: usize,
    pub rx_octets: BTreeMap<String, u64>,
    pub tx_octets: BTreeMap<String, u64>,
    pub rx_frames: BTreeMap<String, u64>,
    pub tx_frames: BTreeMap<String, u64>,
    /// Autobahn's `trafficStats` counters; [`Recorder::opened`] splits pre-open bytes.
    pub traffic: Traffic,
    open: bool,
}

impl Recorder {
    pub fn new(start: Instant, cap: usize) -> Self {
        Recorder {
            start,
            cap,
            mode: TraceMode::Full,
            rows: Vec::new(),
            tail: VecDeque::new(),
            dropped: 0,
            rx_octets: BTreeMap::new(),
            tx_octets: BTreeMap::new(),
            rx_frames: BTreeMap::new(),
            tx_frames: BTreeMap::new(),
            traffic: Traffic::default(),
            open: false,
        }
    }

    /// The opening handshake is over: bytes from now on count as open traffic.
    pub fn opened(&mut self) {
        self.open = true;
    }

    /// A whole data message was sent (`tx`) or received, `len` bytes before
    /// compression.
    pub fn message(&mut self, dir: Dir, len: u64) {
        let t = self.traffic.direction(dir);
        t.messages = t.messages.saturating_add(1);
        t.app_octets = t.app_octets.saturating_add(len);
    }

    /// Keep less of the trace (the case's [`TraceMode`]).
    pub fn set_mode(&mut self, mode: TraceMode) {
        self.mode = mode;
        if mode == TraceMode::HeadTail {
            self.cap = self.cap.min(400);
        }
    }

    fn push(&mut self, dir: Dir, what: TraceWhat) {
        if self.mode == TraceMode::Off && dir != Dir::Note {
            return;
        }
        let t_us = self.start.elapsed().as_micros() as u64;
        let row = TraceRow { t_us, dir, what };
        // First half of the cap: the head; then a rolling tail of the other half.
        if self.rows.len() < self.cap.div_ceil(2) {
            self.rows.push(row);
            return;
        }
        if self.tail.len() >= self.cap / 2 {
            if self.tail.pop_front().is_none() {
                self.dropped += 1;
                return;
            }
            self.dropped += 1;
        }
        self.tail.push_back(row);
    }

    /// The kept rows in order: the head, a note of how many rows were left out, the tail.
    pub fn take_rows(&mut self) -> (Vec<TraceRow>, usize) {
        if self.dropped > 0 {
            // The note takes the place of the oldest tail row: the cap holds.
            if self.tail.pop_front().is_some() {
                self.dropped += 1;
            }
            let t_us = self.tail.front().map_or(0, |r| r.t_us);
            self.rows.push(TraceRow {
                t_us,
                dir: Dir::Note,
                what: TraceWhat::Note {
                    text: format!("… {} trace rows not kept …", self.dropped),
                },
            });
        }
        let mut rows = std::mem::take(&mut self.rows);
        rows.extend(std::mem::take(&mut self.tail));
        (rows, self.dropped)
    }

    /// Raw bytes written to or read from TCP.
    pub fn octets(&mut self, dir: Dir, data: &[u8]) {
        let stats = if dir == Dir::Rx {
            &mut self.rx_octets
        } else {
            &mut self.tx_octets
        };
        *stats.entry(data.len().to_string()).or_default() += 1;
        let t = self.traffic.direction(dir);
        if self.open {
            t.wire_octets = t.wire_octets.saturating_add(data.len() as u64);
        } else {
            t.preopen_wire_octets = t.preopen_wire_octets.saturating_add(data.len() as u64);
        }
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
        if opcode < 3 && self.open {
            let t = self.traffic.direction(dir);
            t.frames = t.frames.saturating_add(1);
            // A declared length may be a lie (2^63 and more): counters saturate.
            t.websocket_octets = t.websocket_octets.saturating_add(len);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traffic_counts_open_data_frames_and_saturate_on_lying_lengths() {
        let mut rec = Recorder::new(Instant::now(), 100);
        rec.octets(Dir::Tx, &[0; 200]); // the handshake
        rec.opened();
        rec.octets(Dir::Tx, &[0; 11]);
        rec.frame(Dir::Tx, 1, true, 0, Some([1, 2, 3, 4]), 5, b"hello");
        rec.frame(Dir::Tx, 9, true, 0, Some([1, 2, 3, 4]), 0, b""); // ping: not data
        rec.message(Dir::Tx, 5);
        let out = &rec.traffic.outgoing;
        assert_eq!(
            (
                out.preopen_wire_octets,
                out.wire_octets,
                out.websocket_octets
            ),
            (200, 11, 5)
        );
        assert_eq!((out.frames, out.messages, out.app_octets), (1, 1, 5));
        // A peer (or a case) may declare 2^64-1 bytes, twice: no overflow panic.
        rec.frame(Dir::Rx, 2, true, 0, None, u64::MAX, b"");
        rec.frame(Dir::Rx, 0, true, 0, None, u64::MAX, b"");
        assert_eq!(rec.traffic.incoming.websocket_octets, u64::MAX);
        assert_eq!(rec.traffic.incoming.frames, 2);
    }
}
