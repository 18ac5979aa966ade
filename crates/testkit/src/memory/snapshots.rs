//! [`SnapshotRepository`] of the in-memory database.

use std::cmp::Reverse;

use async_trait::async_trait;
use qbench_domain::{Snapshot, SnapshotId};
use qbench_repository::{Entity, Listed, Page, RepositoryError, SnapshotFilter, SnapshotRepository};

use super::{InMemoryDatabase, duplicate_id, page_of};

#[async_trait]
impl SnapshotRepository for InMemoryDatabase {
    async fn insert(&self, snapshot: &Snapshot) -> Result<(), RepositoryError> {
        let mut tables = self.tables()?;
        let connection_id = snapshot.spec.connection_id;
        if !tables.connections.contains_key(&connection_id) {
            return Err(RepositoryError::not_found(Entity::Connection, connection_id));
        }
        if tables.snapshots.contains_key(&snapshot.id) {
            return Err(duplicate_id(Entity::Snapshot, snapshot.id));
        }
        tables.snapshots.insert(snapshot.id, snapshot.clone());
        Ok(())
    }

    async fn get(&self, id: SnapshotId) -> Result<Snapshot, RepositoryError> {
        self.tables()?.snapshots.get(&id).cloned().ok_or_else(|| RepositoryError::not_found(Entity::Snapshot, id))
    }

    async fn list(&self, filter: SnapshotFilter, page: Page) -> Result<Listed<Snapshot>, RepositoryError> {
        let tables = self.tables()?;
        let mut snapshots: Vec<&Snapshot> = tables
            .snapshots
            .values()
            .filter(|s| filter.connection_id.is_none_or(|id| s.spec.connection_id == id))
            .filter(|s| filter.collection.as_deref().is_none_or(|collection| s.spec.collection == collection))
            .filter(|s| filter.status.is_none_or(|status| s.status == status))
            .filter(|s| filter.owner.as_deref().is_none_or(|owner| s.owner == owner))
            .collect();
        // Newest first, ties broken by id, also descending.
        snapshots.sort_by_key(|s| Reverse((s.created_at, s.id)));
        Ok(page_of(snapshots, page))
    }

    /// Replaces only what changes in a snapshot's life, like the SQL adapter: what it is of,
    /// where to and by whom stay as inserted.
    async fn update(&self, snapshot: &Snapshot) -> Result<(), RepositoryError> {
        let mut tables = self.tables()?;
        let stored = tables
            .snapshots
            .get_mut(&snapshot.id)
            .ok_or_else(|| RepositoryError::not_found(Entity::Snapshot, snapshot.id))?;
        stored.status = snapshot.status;
        stored.archive = snapshot.archive.clone();
        stored.error = snapshot.error.clone();
        stored.updated_at = snapshot.updated_at;
        Ok(())
    }

    async fn delete(&self, id: SnapshotId) -> Result<(), RepositoryError> {
        self.tables()?.snapshots.remove(&id).map(drop).ok_or_else(|| RepositoryError::not_found(Entity::Snapshot, id))
    }
}
