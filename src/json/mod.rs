//! JSON, read and written by hand: exact bytes out, precise errors in, no tree for big inputs.

pub mod sink;
pub mod value;
pub mod writer;

pub use identity_links_tables::{number, reader};
pub use reader::{Kind, Reader, SyntaxError, SyntaxProblem};
pub use sink::{JsonSink, Kept};
pub use value::Value;
