//! Snapshots: a collection archived into a repository by a `snapshot` job and restored into any
//! engine by a `restore` job. Archives stream from the engine to the repository and back; their
//! SHA-256 is computed while they are stored and verified before anything is restored.

mod checksum;
pub(crate) mod handler;
mod restore;
pub(crate) mod service;
pub(crate) mod transfer;
pub(crate) mod vault;

pub use handler::SnapshotHandler;
pub use restore::RestoreHandler;
pub use service::{RestoreSpec, SnapshotService};
