//! Test fixtures for wsspec, never shipped with the `wsspec` binary: what the tests
//! need to prove that wsspec's verdicts are right, on both sides of a connection.
//!
//! * [`driver`]: Autobahn's client-driver protocol (`/getCaseCount`, `/runCase`,
//!   `/updateReports`) as a loop over the cases of a fuzzing server;
//! * [`tungstenite_client`]: the reference client (tokio-tungstenite) as a testee;
//! * [`client`]: a hand-written client on wsspec's wire codec, correct with
//!   [`client::ClientFault::None`], breaking exactly one rule with every other fault;
//! * [`wstest`]: the real Autobahn|Testsuite fuzzing server as a child process;
//! * [`faulty`], [`faulty_hs`]: fault-injected servers (framing and closing rules;
//!   handshake, negotiation and security rules) and hostile targets.
//!
//! The `wsspec-testkit` binary runs them as processes (`wsspec-testkit client`,
//! `wsspec-testkit tungstenite`, e.g. for `wsspec serve --exec`; `wsspec-testkit
//! server` for `wsspec run --spawn` and the Autobahn oracle).

pub mod client;
pub mod driver;
pub mod faulty;
pub mod faulty_hs;
pub mod serve;
pub mod tungstenite_client;
pub mod wstest;
