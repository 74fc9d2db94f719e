//! The part of identity-links' core that loading runs through: the JSON reader, the string
//! table, the loader and the index building, with the tables they fill and the errors they
//! report. It is a crate of its own so that it can be compiled for speed (opt-level 3, set in
//! the workspace's `Cargo.toml`) while everything else is compiled for size: loading is the
//! one step whose time grows with the snapshot, and the rest of the module ships to every
//! browser. The `identity-links` crate re-exports all of it where the core has always had it
//! (`json::reader`, `snapshot::strings`, `error::SnapshotError`, ...).
//!
//! Plain Rust, no dependencies; nothing here knows of wasm, JavaScript or HTTP.

pub mod build;
pub mod error;
pub mod intern;
pub mod load;
pub mod strings;
pub mod tables;
pub mod words;

// The text formats, where this crate and the rest of the core have always found them.
pub use identity_links_text::{escape, number, reader, timestamp};

pub use error::{SnapshotError, SnapshotProblem};
pub use tables::{Limits, Tables};
