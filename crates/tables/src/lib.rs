//! identity-links' data model: [`Tables`], the snapshot's columns over one string table
//! ([`strings::Strings`]), with what fills them — the loader, the interning table and the index
//! building — and the errors they report. It is a crate of its own so that it can be compiled for speed (opt-level
//! 3, set in the workspace's `Cargo.toml`) while everything else is compiled for size: loading
//! is the one step whose time grows with the snapshot, and the rest of the module ships to every
//! browser. The text formats it reads through (the JSON reader, numbers, escapes, timestamps)
//! are `identity-links-text`, compiled for size, re-exported here; the `identity-links` crate
//! re-exports all of it where the core has always had it (`json::reader`, `snapshot::strings`,
//! `error::SnapshotError`, ...). docs/decisions/0002 has the figures.
//!
//! Plain Rust, no dependencies but the workspace's text crate; nothing here knows of wasm,
//! JavaScript or HTTP.

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
