//! wsspec: a WebSocket conformance and fuzz testing harness.
//!
//! * [`wire`] — the byte-level codec: frames of any shape, handshake bytes, UTF-8.
//! * [`case`] — the case model (JSON or builder), loading and selection.
//! * [`catalogue`] — the built-in cases (Autobahn's numbering) that need computing.
//! * [`engine`] — plays one case over one connection and judges it like Autobahn.
//! * [`runner`] — runs many cases concurrently against a target.
//! * [`report`] — the result model and one module per output format.
//! * [`server`] — the embedded reference echo server (tokio-tungstenite).

pub mod case;
pub mod catalogue;
pub mod cli;
pub mod config;
pub mod engine;
pub mod error;
pub mod faulty;
pub mod faulty_hs;
pub mod fuzz;
pub mod gate;
pub mod netfuzz;
pub mod report;
pub mod runner;
pub mod server;
pub mod spawn;
pub mod wire;

pub use error::Error;
