//! Storage of snapshots' records (the archives themselves live in their repositories).

use async_trait::async_trait;
use qbench_domain::{ConnectionId, Snapshot, SnapshotId, SnapshotStatus};

use crate::{Listed, Page, RepositoryError};

/// Which snapshots a list returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotFilter {
    /// Only snapshots of collections of this connection.
    pub connection_id: Option<ConnectionId>,
    /// Only snapshots of this collection.
    pub collection: Option<String>,
    /// Only snapshots with this status.
    pub status: Option<SnapshotStatus>,
    /// Only snapshots of this user.
    pub owner: Option<String>,
}

/// Stores snapshot records.
///
/// # Errors
/// Every method returns `Unavailable` when the database cannot be reached; `get`, `update` and
/// `delete` MUST return `NotFound` (entity `Snapshot`) for an unknown id. `insert` MUST return
/// `NotFound` (entity `Connection`) when the connection does not exist, and deleting a
/// connection that snapshots name MUST return `InUse`.
#[async_trait]
pub trait SnapshotRepository: Send + Sync {
    /// Stores a new snapshot.
    async fn insert(&self, snapshot: &Snapshot) -> Result<(), RepositoryError>;
    /// The snapshot with `id`.
    async fn get(&self, id: SnapshotId) -> Result<Snapshot, RepositoryError>;
    /// Snapshots matching `filter`, newest first; `total` counts the filtered set.
    async fn list(&self, filter: SnapshotFilter, page: Page) -> Result<Listed<Snapshot>, RepositoryError>;
    /// Replaces a stored snapshot (status, archive, error, `updated_at`).
    async fn update(&self, snapshot: &Snapshot) -> Result<(), RepositoryError>;
    /// Deletes a snapshot's record.
    async fn delete(&self, id: SnapshotId) -> Result<(), RepositoryError>;
}
