//! identity-links' data model: [`tables::Tables`], the snapshot's columns over one string table
//! ([`strings::Strings`]), with what fills them — the loader, the interning table and the index
//! building — and the errors they report.
//!
//! It is a crate of its own so that it can be compiled for speed (opt-level 3, set in the
//! workspace's `Cargo.toml`) while everything else is compiled for size: loading is the one step
//! whose time grows with the snapshot, and the rest of the module ships to every browser. The
//! text formats it reads through (the JSON reader, numbers, escapes, timestamps) are
//! `identity-links-text`, compiled for size; this crate and its users import them from there,
//! not through here. docs/decisions/0002 has the figures.
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
