//! Harness errors: what went wrong with *us* (bad usage, unreadable case file, a target
//! we cannot reach). A peer's misbehaviour is never an `Error`; it is a verdict.

use thiserror::Error;

/// Why the harness could not do what it was asked: the command line exits with 2 and
/// [`Suite`](crate::Suite) returns it. A case that fails is not an error but a
/// [`Verdict`](crate::Verdict) in the report.
#[derive(Debug, Error)]
pub enum Error {
    /// The command line asks for something impossible (unknown case id, empty selection…).
    #[error("{0}")]
    Usage(String),
    /// A case file does not parse or does not make sense. `location` is `file:line:column`.
    #[error("{location}: {message}")]
    CaseFile {
        /// `file:line:column` of the problem.
        location: String,
        /// What is wrong there.
        message: String,
    },
    /// The target could not be reached or did not complete a WebSocket handshake.
    #[error("{0}")]
    Target(String),
    /// Reading or writing local files.
    #[error("{0}")]
    Io(String),
}

impl Error {
    /// Process exit code for this error (always 2: usage or harness error).
    pub fn exit_code(&self) -> u8 {
        2
    }
}
