//! identity-links' text formats: the strict JSON pull reader, exact integers from JSON number
//! text, JSON string escapes, and RFC 3339 timestamps as Zitadel renders them.
//!
//! A crate of its own so that it is compiled for size (the workspace's default for the module),
//! while the crate that loads snapshots through it (`identity-links-tables`) is compiled
//! for speed: loading reads a snapshot as its writers write it in one pass
//! ([`reader::Reader::eat`], [`reader::Reader::plain_str`], `#[inline]`, so compiled with their
//! caller), and comes here token by token only for what is written otherwise; requests, small,
//! are read token by token. The figures are in docs/decisions/0002.
//!
//! Plain Rust, no dependencies; nothing here knows of wasm, JavaScript or HTTP.

pub mod bytes;
pub mod escape;
pub mod number;
pub mod reader;
pub mod timestamp;
