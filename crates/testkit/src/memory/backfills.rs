//! [`BackfillRepository`] of the in-memory database.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use qbench_domain::backfill::{ItemKey, WorkItem, WorkItemCounts, WorkItemStatus};
use qbench_domain::{ConnectionId, JobId};
use qbench_repository::{BackfillRepository, Entity, Listed, Page, RepositoryError};

use super::{InMemoryDatabase, page_of};

#[async_trait]
impl BackfillRepository for InMemoryDatabase {
    async fn plan(&self, backfill_id: JobId, items: &[WorkItem]) -> Result<(), RepositoryError> {
        let mut tables = self.tables()?;
        if tables.backfill_items.range((backfill_id, 0)..=(backfill_id, u32::MAX)).next().is_some() {
            return Err(RepositoryError::Duplicate {
                entity: Entity::Backfill,
                field: "backfill_id",
                value: backfill_id.to_string(),
            });
        }
        for item in items {
            tables.backfill_items.insert((backfill_id, item.ordinal), WorkItem { backfill_id, ..item.clone() });
        }
        Ok(())
    }

    async fn items(
        &self,
        backfill_id: JobId,
        status: Option<WorkItemStatus>,
        page: Page,
    ) -> Result<Listed<WorkItem>, RepositoryError> {
        let tables = self.tables()?;
        let items: Vec<&WorkItem> = tables
            .backfill_items
            .range((backfill_id, 0)..=(backfill_id, u32::MAX))
            .map(|(_, item)| item)
            .filter(|item| status.is_none_or(|status| item.status == status))
            .collect();
        Ok(page_of(items, page))
    }

    async fn counts(&self, backfill_id: JobId) -> Result<WorkItemCounts, RepositoryError> {
        let tables = self.tables()?;
        Ok(tables.backfill_items.range((backfill_id, 0)..=(backfill_id, u32::MAX)).map(|(_, item)| item).collect())
    }

    /// Replaces only what changes in an item's life, like the SQL adapter.
    async fn update(&self, item: &WorkItem) -> Result<(), RepositoryError> {
        let mut tables = self.tables()?;
        let stored = tables.backfill_items.get_mut(&(item.backfill_id, item.ordinal)).ok_or_else(|| {
            RepositoryError::not_found(Entity::Backfill, format!("{} item {}", item.backfill_id, item.ordinal))
        })?;
        stored.status = item.status;
        stored.attempts = item.attempts;
        stored.points = item.points;
        stored.last_error = item.last_error.clone();
        stored.updated_at = item.updated_at;
        Ok(())
    }

    async fn requeue_running(&self, backfill_id: JobId, now: DateTime<Utc>) -> Result<u64, RepositoryError> {
        let mut tables = self.tables()?;
        let mut requeued = 0;
        for (_, item) in tables.backfill_items.range_mut((backfill_id, 0)..=(backfill_id, u32::MAX)) {
            if item.status == WorkItemStatus::Running {
                item.status = WorkItemStatus::Pending;
                item.updated_at = now;
                requeued += 1;
            }
        }
        Ok(requeued)
    }

    async fn loaded(&self, connection_id: ConnectionId, collection: &str) -> Result<Vec<ItemKey>, RepositoryError> {
        let tables = self.tables()?;
        Ok(tables
            .backfill_items
            .values()
            .filter(|item| {
                item.status == WorkItemStatus::Done
                    && item.connection_id == connection_id
                    && item.collection == collection
            })
            .map(WorkItem::key)
            .collect())
    }
}
