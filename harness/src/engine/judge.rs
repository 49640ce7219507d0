//! Judging, exactly in Autobahn's order: `behavior` from the observed events,
//! `behaviorClose` from the close bookkeeping, plus the case-family overrides.

use super::play::same_events;
use crate::case::{Event, Expect};
use crate::report::model::{CloseInfo, Verdict};
use crate::rules::Role;

/// Both verdicts with Autobahn-style explanations.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub behavior: Verdict,
    pub result: String,
    pub behavior_close: Verdict,
    pub result_close: String,
}

/// Judge a case whose opening handshake completed.
pub fn judge(
    expect: &Expect,
    events: &[Event],
    close: &CloseInfo,
    tx_frames: &std::collections::BTreeMap<String, u64>,
    role: Role,
) -> Judgement {
    let (mut behavior, mut result) = if same_events(events, &expect.ok) {
        (
            Verdict::Ok,
            "Actual events match at least one expected.".to_string(),
        )
    } else if expect
        .non_strict
        .as_deref()
        .is_some_and(|ns| same_events(events, ns))
    {
        (
            Verdict::NonStrict,
            "Actual events match at least one expected.".to_string(),
        )
    } else {
        (
            Verdict::Failed,
            "Actual events differ from any expected.".to_string(),
        )
    };
    if let Some(want) = &expect.tx_frames {
        for (op, n) in want {
            let got = tx_frames.get(&op.to_string()).copied().unwrap_or(0);
            if got != *n {
                behavior = Verdict::Failed;
                result =
                    format!("tester sent {got} frames with opcode {op}, the case requires {n}");
            }
        }
    }

    let ec = &expect.close;
    let (mut behavior_close, result_close) = if ec.closed_by_me != close.closed_by_me {
        (
            Verdict::Failed,
            "The connection was failed by the wrong endpoint".to_string(),
        )
    } else if ec.require_clean && !close.was_clean {
        (
            Verdict::Unclean,
            "The spec requires the connection to be failed cleanly here".to_string(),
        )
    } else if close
        .remote_close_code
        .is_some_and(|c| !ec.codes.contains(&c))
    {
        let list: Vec<String> = ec.codes.iter().map(u16::to_string).collect();
        (
            Verdict::WrongCode,
            format!(
                "The close code should have been {} or empty",
                list.join(",")
            ),
        )
    } else if close.dropped_by_me && role.own_drop_is_peer_fault() {
        (
            Verdict::FailedByClient,
            "It is preferred that the server close the TCP connection".to_string(),
        )
    } else {
        (Verdict::Ok, "Connection was properly closed".to_string())
    };

    if ec.wrong_code_fatal && behavior_close == Verdict::WrongCode {
        behavior = Verdict::Failed;
        result = result_close.clone();
    }
    if ec.wrong_closer_fatal && ec.closed_by_me != close.closed_by_me {
        behavior = Verdict::Failed;
        result = "The connection was failed by the wrong endpoint".to_string();
    }
    if expect.informational {
        behavior = Verdict::Informational;
        behavior_close = Verdict::Informational;
    }
    Judgement {
        behavior,
        result,
        behavior_close,
        result_close,
    }
}

/// The judgement when the opening handshake never completed.
pub fn never_opened(why: &str) -> Judgement {
    Judgement {
        behavior: Verdict::Failed,
        result: format!("The WebSocket opening handshake was never completed: {why}"),
        behavior_close: Verdict::Failed,
        result_close: "The WebSocket opening handshake was never completed!".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::builder::tester_closes_clean;
    use crate::case::{ExpectClose, Payload};

    fn expect(ok: Vec<Event>, close: ExpectClose) -> Expect {
        Expect {
            ok,
            non_strict: None,
            close,
            informational: false,
            tx_frames: None,
            fresh_masks: false,
        }
    }
    fn peer_fails(codes: &[u16]) -> ExpectClose {
        ExpectClose {
            closed_by_me: false,
            codes: codes.to_vec(),
            require_clean: false,
            wrong_closer_fatal: false,
            wrong_code_fatal: false,
        }
    }
    fn none() -> std::collections::BTreeMap<String, u64> {
        Default::default()
    }

    #[test]
    fn clean_tester_close_is_ok() {
        let e = expect(vec![], tester_closes_clean());
        let c = CloseInfo {
            closed_by_me: true,
            was_clean: true,
            remote_close_code: Some(1000),
            ..Default::default()
        };
        let j = judge(&e, &[], &c, &none(), Role::Client);
        assert_eq!((j.behavior, j.behavior_close), (Verdict::Ok, Verdict::Ok));
    }

    #[test]
    fn close_rules_in_autobahn_order() {
        let e = expect(vec![], tester_closes_clean());
        // wrong closer beats everything
        let c = CloseInfo {
            closed_by_me: false,
            ..Default::default()
        };
        assert_eq!(
            judge(&e, &[], &c, &none(), Role::Client).behavior_close,
            Verdict::Failed
        );
        // then cleanliness
        let c = CloseInfo {
            closed_by_me: true,
            was_clean: false,
            remote_close_code: Some(1002),
            ..Default::default()
        };
        assert_eq!(
            judge(&e, &[], &c, &none(), Role::Client).behavior_close,
            Verdict::Unclean
        );
        // then the code
        let c = CloseInfo {
            closed_by_me: true,
            was_clean: true,
            remote_close_code: Some(1002),
            ..Default::default()
        };
        assert_eq!(
            judge(&e, &[], &c, &none(), Role::Client).behavior_close,
            Verdict::WrongCode
        );
        // then who dropped TCP
        let c = CloseInfo {
            closed_by_me: true,
            was_clean: true,
            dropped_by_me: true,
            ..Default::default()
        };
        assert_eq!(
            judge(&e, &[], &c, &none(), Role::Client).behavior_close,
            Verdict::FailedByClient
        );
        // a server closes TCP itself after the closing handshake: no fault of the peer
        assert_eq!(
            judge(&e, &[], &c, &none(), Role::Server).behavior_close,
            Verdict::Ok
        );
    }

    #[test]
    fn ignoring_a_violation_fails_only_the_close_column() {
        let e = expect(vec![], peer_fails(&[1002]));
        let c = CloseInfo {
            closed_by_me: true,
            failed_by_me: true,
            ..Default::default()
        };
        let j = judge(&e, &[], &c, &none(), Role::Client);
        assert_eq!(
            (j.behavior, j.behavior_close),
            (Verdict::Ok, Verdict::Failed)
        );
    }

    #[test]
    fn overrides() {
        let mut e = expect(vec![], peer_fails(&[1007]));
        e.close.wrong_closer_fatal = true;
        let c = CloseInfo {
            closed_by_me: true,
            ..Default::default()
        };
        assert_eq!(
            judge(&e, &[], &c, &none(), Role::Client).behavior,
            Verdict::Failed
        );

        let mut e = expect(vec![], tester_closes_clean());
        e.close.wrong_code_fatal = true;
        let c = CloseInfo {
            closed_by_me: true,
            was_clean: true,
            remote_close_code: Some(1001),
            ..Default::default()
        };
        let j = judge(&e, &[], &c, &none(), Role::Client);
        assert_eq!(
            (j.behavior, j.behavior_close),
            (Verdict::Failed, Verdict::WrongCode)
        );

        e.informational = true;
        let j = judge(&e, &[], &c, &none(), Role::Client);
        assert_eq!(
            (j.behavior, j.behavior_close),
            (Verdict::Informational, Verdict::Informational)
        );
    }

    #[test]
    fn non_strict_alternative() {
        let echo = Event::Message {
            payload: Payload::Text("x".into()),
            binary: false,
        };
        let mut e = expect(vec![echo.clone()], peer_fails(&[1002]));
        e.non_strict = Some(vec![]);
        let c = CloseInfo::default();
        assert_eq!(
            judge(&e, &[], &c, &none(), Role::Client).behavior,
            Verdict::NonStrict
        );
        assert_eq!(
            judge(&e, std::slice::from_ref(&echo), &c, &none(), Role::Client).behavior,
            Verdict::Ok
        );
        assert_eq!(
            judge(&e, &[echo.clone(), echo], &c, &none(), Role::Client).behavior,
            Verdict::Failed
        );
    }
}
