//! Storage of backfills' work items (the backfill itself is its `backfill` job).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use qbench_domain::backfill::{ItemKey, WorkItem, WorkItemCounts, WorkItemStatus};
use qbench_domain::{ConnectionId, JobId};

use crate::{Listed, Page, RepositoryError};

/// Stores the work items of backfills, so a backfill continues where it stopped.
///
/// # Errors
/// Every method returns `Unavailable` when the database cannot be reached. `plan` MUST store all
/// the items or none, and return `Duplicate` (entity `Backfill`, field `backfill_id`) when the
/// backfill already has items; `update` MUST return `NotFound` (entity `Backfill`) for an item
/// that is not stored. Reading the items of a backfill that has none answers none, not an error.
#[async_trait]
pub trait BackfillRepository: Send + Sync {
    /// Stores the planned items of `backfill_id`, all at once.
    async fn plan(&self, backfill_id: JobId, items: &[WorkItem]) -> Result<(), RepositoryError>;
    /// The items of `backfill_id` with `status` (every status when `None`), in plan order;
    /// `total` counts the filtered set.
    async fn items(
        &self,
        backfill_id: JobId,
        status: Option<WorkItemStatus>,
        page: Page,
    ) -> Result<Listed<WorkItem>, RepositoryError>;
    /// The items of `backfill_id` counted by status, with their rows and the points of the `DONE` ones.
    async fn counts(&self, backfill_id: JobId) -> Result<WorkItemCounts, RepositoryError>;
    /// Stores an item's new state: status, attempts, points, last error and `updated_at` (what
    /// it loads stays as planned).
    async fn update(&self, item: &WorkItem) -> Result<(), RepositoryError>;
    /// Puts every `RUNNING` item of `backfill_id` back to `PENDING` at `now` (their worker is
    /// gone); answers how many.
    async fn requeue_running(&self, backfill_id: JobId, now: DateTime<Utc>) -> Result<u64, RepositoryError>;
    /// The keys of every `DONE` item of any backfill into `collection` of `connection_id`: what
    /// an incremental backfill into it need not load again.
    async fn loaded(&self, connection_id: ConnectionId, collection: &str) -> Result<Vec<ItemKey>, RepositoryError>;
}
