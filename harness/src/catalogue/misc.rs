//! Section 10 (Autobahn "Misc"): 10.1.1, a long text message the tester itself cuts into
//! 1300-byte frames, with a self-check of how many frames it sent.

use crate::case::builder::*;
use crate::case::Case;

/// The one section-10 case.
pub fn cases() -> Vec<Case> {
    let payload = rep("*", 65536);
    // 65536 = 50 × 1300 + 536: one text frame, then 50 continuations (the last one
    // short, so no empty final frame is needed). Autobahn checks its own transmitted
    // frame counts afterwards; a peer cannot fail that part.
    let title = "Send a 65536-byte text message fragmented into 1300-byte frames";
    vec![case("10.1.1", title)
        .rfc("RFC 6455 §5.4")
        .requirement(
            "A receiver MUST accept a message split into fragments of any size the sender (or \
             an intermediary) chooses, and deliver it whole.",
        )
        .message(message(payload.clone(), false, Some(1300)))
        .kill_after(10.0)
        .expect_events([echo_text(payload)])
        .tester_closes()
        .tx_frames([(0, 50), (1, 1)])
        .build()]
}
