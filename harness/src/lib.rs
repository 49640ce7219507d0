//! wsspec plays a WebSocket conformance catalogue (Autobahn|Testsuite's cases plus its
//! own handshake, negotiation and security sections, RFC 6455 / RFC 7692) against a
//! server and judges every case with Autobahn's verdicts. As a library it runs inside
//! `cargo test`: no Docker, no Python, no second terminal.
//!
//! # Example: test your server's connection handler
//!
//! A dev-dependency on `wsspec` and `tokio` (features `macros`, `rt-multi-thread`,
//! `net`), and one test. Here the server is a tokio-tungstenite echo handler; yours is
//! whatever accepts a [`tokio::net::TcpStream`] and echoes every text and binary
//! message back unchanged.
//!
//! ```
//! use futures_util::{SinkExt, StreamExt};
//! use tokio::net::{TcpListener, TcpStream};
//!
//! /// The server under test: echo every data message.
//! async fn echo(stream: TcpStream) {
//!     let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else { return };
//!     while let Some(Ok(msg)) = ws.next().await {
//!         if (msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err() {
//!             return;
//!         }
//!     }
//! }
//!
//! # async fn doc() {
//! // #[tokio::test]
//! // async fn websocket_conformance() {
//! let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//! let report = wsspec::Suite::new()
//!     .cases(["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*"]) // Autobahn's sections
//!     .test_server_on(listener, "/", echo)
//!     .await
//!     .expect("the harness could not run");
//! report.write_to("target/wsspec").unwrap(); // index.html, report.json, junit.xml…
//! // Every failing case must be listed in this file, and every listed case must still
//! // fail; otherwise the test panics with the lines to add or delete.
//! report.assert_known_failing("tests/wsspec-known-failing.txt");
//! // }
//! # }
//! # // What `#[tokio::test]` builds: a current-thread runtime.
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(doc());
//! ```
//!
//! A missing known-failing file reads as empty. When the server is broken (here: it
//! stops echoing text messages), the panic shows the fix to the file as a diff, then
//! what the first failing cases expected and saw:
//!
//! ```text
//! the conformance run does not match the known-failing file tests/wsspec-known-failing.txt (no such file: read as empty)
//! change the file like this (+ add the line, - delete it), or run the test with WSSPEC_BLESS=1 to write it:
//! --- tests/wsspec-known-failing.txt (committed)
//! +++ tests/wsspec-known-failing.txt (this run)
//! @@ -0,0 +1,87 @@
//! +1.1.1  # FAILED / WRONG CODE
//! +1.1.2  # FAILED / WRONG CODE
//! …
//!   1.1.1 failed (FAILED / WRONG CODE): Send a text message of 0 bytes in one frame
//!       expected: events: text message (0 bytes); then the tester closes and the peer answers with close 1000 or no code, and drops TCP (clean closing handshake)
//!       actual:   events: nothing; the tester closed first; peer's close code 1001; the tester failed the connection; clean close
//! …
//! ```
//!
//! A server that runs elsewhere (another process, an axum router you spawned) is
//! tested by URL or address instead: `Suite::new().test_server("ws://127.0.0.1:9001/ws")`.
//! `wss://` works with [`Suite::ca_cert`] or [`Suite::insecure`].
//!
//! # What is stable
//!
//! [`Suite`], [`Report`], [`Mismatch`], [`ServerAddress`], [`Error`] and the report
//! model ([`RunReport`], [`AgentReport`], [`CaseResult`], [`Verdict`], and what a
//! result holds: [`CloseInfo`], [`TraceRow`], [`Throughput`], [`Traffic`]). Everything else
//! (the wire codec, the engine, the rules, the runner, the reporters) is private to the
//! crate; the project's own tests and fuzz targets reach it through the `internals`
//! feature, which is not an API and may change in any release.
//!
//! The command line (`cargo install wsspec`, then `wsspec run URL`) writes the same
//! reports; see the README.
#![warn(missing_docs)]

mod api;

pub use api::{Mismatch, Report, ServerAddress, Suite, BLESS_ENV};
pub use error::Error;
pub use report::model::{
    AgentReport, CaseResult, CloseInfo, Dir, RunReport, Throughput, TraceRow, TraceWhat, Traffic,
    TrafficCounts, Verdict,
};

// The modules below are the command line's internals: private to the crate. The
// `internals` feature (never for users: no stability, no docs) makes them public for
// the project's own integration tests, test fixtures (testkit) and fuzz targets.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod case;
#[cfg(not(feature = "internals"))]
mod case;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod catalogue;
#[cfg(not(feature = "internals"))]
mod catalogue;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod cli;
#[cfg(not(feature = "internals"))]
mod cli;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod config;
#[cfg(not(feature = "internals"))]
mod config;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod drive;
#[cfg(not(feature = "internals"))]
mod drive;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod engine;
#[cfg(not(feature = "internals"))]
mod engine;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod error;
#[cfg(not(feature = "internals"))]
mod error;
// Entry points of the cargo-fuzz targets (fuzz/): not part of the binary.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod fuzz;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod gate;
#[cfg(not(feature = "internals"))]
mod gate;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod netfuzz;
#[cfg(not(feature = "internals"))]
mod netfuzz;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod report;
#[cfg(not(feature = "internals"))]
mod report;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod rules;
#[cfg(not(feature = "internals"))]
mod rules;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod runner;
#[cfg(not(feature = "internals"))]
mod runner;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod server;
#[cfg(not(feature = "internals"))]
mod server;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod spawn;
#[cfg(not(feature = "internals"))]
mod spawn;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod wire;
#[cfg(not(feature = "internals"))]
mod wire;

/// The `wsspec` command line: the binary's `main`. Not an API.
#[doc(hidden)]
pub fn command_line() -> std::process::ExitCode {
    cli::main()
}
