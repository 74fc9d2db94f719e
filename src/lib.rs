//! identity-links answers Camunda's and Zitadel's identity queries from an in-memory snapshot
//! with exactly the bodies and errors the peer servers return.
//!
//! The core ([`json`], [`snapshot`], [`query`], [`error`]) is plain Rust with no dependency but
//! the workspace's own crates — `identity-links-tables` (the data model: the snapshot's tables,
//! the loader) and `identity-links-text` (the JSON reader, numbers, escapes, timestamps), each
//! imported from where it is defined — and builds and tests natively; the `wasm` module (wasm32 only) is a thin facade that converts
//! JavaScript values to and from the core's types.

pub mod error;
#[cfg(feature = "fuzzing")]
pub mod fuzz;
pub mod http;
pub mod json;
pub mod query;
pub mod snapshot;

pub use error::{CamundaError, QueryError, ZitadelError};
pub use query::{CallContext, Query};
pub use snapshot::delta::{DeltaError, DeltaHeader, Version};
pub use snapshot::{Snapshot, Stats};
// What a load refuses and the paging options are the data model's (`identity-links-tables`);
// the API names them here, beside the snapshot they belong to.
pub use identity_links_tables::error::{SnapshotError, SnapshotProblem};
pub use identity_links_tables::tables::{Limits, MAX_RANK};

#[cfg(target_arch = "wasm32")]
pub mod wasm;
