//! Test fixtures for wsspec, never shipped with the `wsspec` binary: what the tests
//! need to prove that wsspec's verdicts are right, on both sides of a connection.
//!
//! * [`driver`]: Autobahn's client-driver protocol (`/getCaseCount`, `/runCase`,
//!   `/updateReports`) as a loop over the cases of a fuzzing server;
//! * [`tungstenite_client`]: the reference client (tokio-tungstenite) as a testee;
//! * [`client`]: a hand-written client on wsspec's wire codec, correct with
//!   [`client::ClientFault::None`], breaking exactly one rule with every other fault;
//! * [`wstest`]: the real Autobahn|Testsuite fuzzing server as a child process.
//!
//! The `wsspec-testkit` binary runs the clients as processes (`wsspec-testkit client`,
//! `wsspec-testkit tungstenite`), e.g. for `wsspec serve --exec`.

pub mod client;
pub mod driver;
pub mod tungstenite_client;
pub mod wstest;
