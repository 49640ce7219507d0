//! Reporters. Each reads the [`model::RunReport`] and writes one format; none of them
//! knows how the results were produced.

pub mod autobahn;
pub mod json;
pub mod model;
pub mod terminal;
