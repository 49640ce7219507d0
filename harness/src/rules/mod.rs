//! The protocol rules, apart from the wire codec and from the engine that plays cases:
//! which endpoint does what ([`role`]) and what a received frame may look like
//! ([`receive`]). The engine, the network fuzzer and the test servers share them.

pub mod receive;
pub mod role;

pub use role::Role;
