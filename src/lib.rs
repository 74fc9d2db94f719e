//! identity-links answers Camunda's and Zitadel's identity queries from an in-memory snapshot
//! with exactly the bodies and errors the peer servers return.
//!
//! The core ([`json`], [`snapshot`], [`query`], [`error`]) is plain Rust with no dependency and
//! builds and tests natively; the `wasm` module (wasm32 only) is a thin facade that converts
//! JavaScript values to and from the core's types.

pub mod error;
#[cfg(feature = "fuzzing")]
pub mod fuzz;
pub mod http;
pub mod json;
pub mod query;
pub mod snapshot;

pub use error::{CamundaError, QueryError, SnapshotError, SnapshotProblem, ZitadelError};
pub use query::{CallContext, Query};
pub use snapshot::{Limits, Snapshot, Stats};

#[cfg(target_arch = "wasm32")]
pub mod wasm;
