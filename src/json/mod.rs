//! JSON, read and written by hand: exact bytes out, precise errors in, no tree for big inputs.
//! The pull reader, numbers and escapes are `identity-links-text`'s (imported from there); here
//! are the writer, the answers' sinks and the small tree requests are read into.

pub mod sink;
pub mod value;
pub mod writer;

pub use sink::{JsonSink, Kept};
pub use value::Value;
