//! The model: what a conformant echo peer does with the bytes we sent (the events
//! a tester records and how the connection ends).

use crate::case::{Event, Payload};
use crate::rules::Role;
use crate::wire::close_code;
use crate::wire::frame::FrameDecoder;
use crate::wire::utf8::{Utf8Status, Utf8Validator};

/// A conformant server's message limit assumed by the model (the test servers' and
/// roughly every real server's); longer declared lengths must fail with 1009 or 1002.
const MODEL_MAX: u64 = 64 << 20;
/// tungstenite's frame limit; between it and [`MODEL_MAX`] servers may differ.
const MODEL_AMBIGUOUS: u64 = 16 << 20;

/// How a conformant echo server ends up after the bytes we sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelEnd {
    /// Still open; `pending` bytes complete the frame being received (None: the
    /// stream ends on a frame boundary).
    Open { pending: Option<u64> },
    /// Our valid close frame arrived: the server answers it (with this code or none).
    Closed { code: Option<u16> },
    /// A rule was broken: the server fails the connection with one of these codes.
    Failed { codes: Vec<u16>, why: String },
    /// Conformant servers may legitimately differ.
    Unknown(String),
}

/// The model's prediction: the events a tester records, and the end state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    pub events: Vec<Event>,
    pub end: ModelEnd,
}

/// A conformant echo server (RFC 6455 server role, no extension) receiving `stream`:
/// pings answered, complete data messages echoed, and the connection failed at the
/// first broken rule (1002, 1007 for bad UTF-8, 1009 for a length over any sane
/// limit). Text is validated per frame, as the conformant test servers (wsspec-testkit) and
/// tungstenite do.
#[cfg(feature = "internals")] // for the tests, testkit and fuzz targets
pub fn model(stream: &[u8]) -> Model {
    model_as(stream, Role::Client)
}

/// The same for wsspec in `role`: as client the peer is an echo server and our frames
/// must be masked; as server the peer is an echo client (Autobahn's client drivers
/// echo like that) and our frames must not be (RFC 6455 §5.1). The rest is the same.
pub fn model_as(stream: &[u8], role: Role) -> Model {
    let mut d = FrameDecoder::new(MODEL_MAX);
    d.push(stream);
    let mut events = Vec::new();
    let mut msg: Option<(u8, Vec<u8>)> = None;
    let mut utf8 = Utf8Validator::new();
    let fail = |events: Vec<Event>, codes: &[u16], why: &str| Model {
        events,
        end: ModelEnd::Failed {
            codes: codes.to_vec(),
            why: why.to_string(),
        },
    };
    loop {
        let f = match d.next_frame() {
            Err(_) => return fail(events, &[1009, 1002], "a length over any sane limit"),
            Ok(None) => {
                let end = match d.pending_header() {
                    Some((_, _, _, _, len)) if len > MODEL_AMBIGUOUS => {
                        ModelEnd::Unknown(format!("a frame of {len} bytes"))
                    }
                    Some((_, _, _, masked, len)) => {
                        // The pending frame starts where the decoder stopped; its
                        // header may use a longer length form than needed.
                        let start = stream.len() - d.buffered();
                        let ext = match stream.get(start + 1).map(|b| b & 0x7f) {
                            Some(126) => 2,
                            Some(127) => 8,
                            _ => 0,
                        };
                        let hdr = 2 + ext + if masked { 4 } else { 0 };
                        ModelEnd::Open {
                            pending: Some(
                                (hdr as u64 + len)
                                    .saturating_sub(d.buffered() as u64)
                                    .max(1),
                            ),
                        }
                    }
                    None if d.buffered() > 0 => ModelEnd::Open { pending: Some(1) },
                    None => ModelEnd::Open { pending: None },
                };
                return Model { events, end };
            }
            Ok(Some(f)) => f,
        };
        if f.declared_len > MODEL_AMBIGUOUS {
            return Model {
                events,
                end: ModelEnd::Unknown(format!("a frame of {} bytes", f.declared_len)),
            };
        }
        // Our frames must be masked exactly when the peer is a server.
        match (role.peer().peer_masks(), f.mask.is_some()) {
            (true, false) => return fail(events, &[1002], "unmasked client frame"),
            (false, true) => return fail(events, &[1002], "masked server frame"),
            _ => {}
        }
        if f.rsv != 0 {
            return fail(events, &[1002], "RSV bits without an extension");
        }
        if matches!(f.opcode, 3..=7 | 11..=15) {
            return fail(events, &[1002], "reserved opcode");
        }
        if f.is_control() {
            if !f.fin || f.payload.len() > 125 {
                return fail(events, &[1002], "fragmented or oversized control frame");
            }
            match f.opcode {
                8 => {
                    return match f.payload.as_slice() {
                        [] => Model {
                            events,
                            end: ModelEnd::Closed { code: None },
                        },
                        [_] => fail(events, &[1002], "close payload of one byte"),
                        [a, b, reason @ ..] => {
                            let code = u16::from_be_bytes([*a, *b]);
                            if !close_code::is_valid_on_wire(code) {
                                fail(events, &[1002], "invalid close code")
                            } else if std::str::from_utf8(reason).is_err() {
                                fail(events, &[1007], "close reason not UTF-8")
                            } else {
                                Model {
                                    events,
                                    end: ModelEnd::Closed { code: Some(code) },
                                }
                            }
                        }
                    };
                }
                9 => events.push(Event::Pong(Payload::from_bytes(&f.payload))),
                _ => {}
            }
            continue;
        }
        let (opcode, mut buf) = match (f.opcode, msg.take()) {
            (0, Some(m)) => m,
            (0, None) => return fail(events, &[1002], "continuation without a message"),
            (_, Some(_)) => return fail(events, &[1002], "new message inside a fragmented one"),
            (op, None) => {
                utf8.reset();
                (op, Vec::new())
            }
        };
        if opcode == 1 {
            if let Utf8Status::Invalid { .. } = utf8.feed(&f.payload) {
                return fail(events, &[1007], "invalid UTF-8 in text");
            }
        }
        buf.extend_from_slice(&f.payload);
        if !f.fin {
            msg = Some((opcode, buf));
            continue;
        }
        if opcode == 1 && utf8.status() != (Utf8Status::Valid { complete: true }) {
            return fail(events, &[1007], "text ends inside a UTF-8 character");
        }
        events.push(Event::Message {
            payload: Payload::from_bytes(&buf),
            binary: opcode == 2,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::Length;
    use crate::wire::frame::encode_frame;

    #[test]
    fn model_follows_the_rfc() {
        let k = Some([1, 2, 3, 4]);
        let f = |fin, op, p: &[u8]| encode_frame(fin, 0, op, k, Length::Minimal, p);
        let mut s = f(false, 1, b"He");
        s.extend(f(true, 9, b"p"));
        s.extend(f(true, 0, b"llo"));
        s.extend(f(true, 8, &1000u16.to_be_bytes()));
        let m = model(&s);
        assert_eq!(
            m.events,
            vec![
                Event::Pong(Payload::Text("p".into())),
                Event::Message {
                    payload: Payload::Text("Hello".into()),
                    binary: false
                }
            ]
        );
        assert_eq!(m.end, ModelEnd::Closed { code: Some(1000) });
        let m = model(&encode_frame(true, 0, 1, None, Length::Minimal, b"x"));
        assert!(matches!(m.end, ModelEnd::Failed { ref codes, .. } if codes == &[1002]));
        let m = model(&f(true, 1, b"\xff"));
        assert!(matches!(m.end, ModelEnd::Failed { ref codes, .. } if codes == &[1007]));
        let m = model(&encode_frame(true, 0, 1, k, Length::Claim(10), b"abc"));
        assert_eq!(m.end, ModelEnd::Open { pending: Some(7) });
        let m = model(&encode_frame(true, 0, 2, k, Length::Claim(u64::MAX), b""));
        assert!(matches!(m.end, ModelEnd::Failed { .. }));
        // An echo client: our frames must not be masked.
        let m = model_as(&f(true, 1, b"x"), Role::Server);
        assert!(matches!(m.end, ModelEnd::Failed { ref codes, .. } if codes == &[1002]));
        let m = model_as(
            &encode_frame(true, 0, 1, None, Length::Minimal, b"x"),
            Role::Server,
        );
        assert_eq!(m.end, ModelEnd::Open { pending: None });
        assert_eq!(m.events.len(), 1);
    }
}
