//! [`SnapshotRepository`] on the `snapshots` table.

use async_trait::async_trait;
use qbench_domain::{Snapshot, SnapshotId, SnapshotSpec, SnapshotStatus, SnapshotVault};
use qbench_repository::{Entity, Listed, Page, RepositoryError, SnapshotFilter, SnapshotRepository};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::SqlDatabase;
use crate::codec::{RowRef, stored_time};
use crate::entity::{connections, runs, snapshots};
use crate::error::{db_error, write_error};

use super::{Hold, convert, hold, page_of};

fn row_ref(id: Uuid) -> RowRef {
    RowRef { entity: Entity::Snapshot, table: "snapshots", id }
}

fn snapshot_row(snapshot: &Snapshot) -> Result<snapshots::Model, RepositoryError> {
    let id = snapshot.id.as_uuid();
    let stored = row_ref(id);
    Ok(snapshots::Model {
        id,
        connection_id: snapshot.spec.connection_id.as_uuid(),
        collection: snapshot.spec.collection.clone(),
        vault: stored.encode_json("vault", &snapshot.spec.vault)?,
        vault_storage_id: match &snapshot.spec.vault {
            SnapshotVault::Storage { storage_id, .. } => Some(storage_id.as_uuid()),
            SnapshotVault::Directory { .. } => None,
        },
        owner: snapshot.owner.clone(),
        built_by: snapshot.built_by.map(|run| run.as_uuid()),
        job_id: snapshot.job_id.as_uuid(),
        status: snapshot.status.as_str().to_owned(),
        archive: snapshot.archive.as_ref().map(|archive| stored.encode_json("archive", archive)).transpose()?,
        error: snapshot.error.clone(),
        created_at: stored_time(snapshot.created_at),
        updated_at: stored_time(snapshot.updated_at),
    })
}

fn snapshot_from_row(row: snapshots::Model) -> Result<Snapshot, RepositoryError> {
    let stored = row_ref(row.id);
    let status = row
        .status
        .parse::<SnapshotStatus>()
        .map_err(|error| stored.corrupt(format!("column `status` is not valid: {error}")))?;
    Ok(Snapshot {
        id: row.id.into(),
        owner: row.owner,
        spec: SnapshotSpec {
            connection_id: row.connection_id.into(),
            collection: row.collection,
            vault: stored.decode_json("vault", row.vault)?,
        },
        built_by: row.built_by.map(Into::into),
        job_id: row.job_id.into(),
        status,
        archive: row.archive.map(|json| stored.decode_json("archive", json)).transpose()?,
        error: row.error,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

#[async_trait]
impl SnapshotRepository for SqlDatabase {
    #[tracing::instrument(skip_all, fields(snapshot_id = %snapshot.id, connection_id = %snapshot.spec.connection_id))]
    async fn insert(&self, snapshot: &Snapshot) -> Result<(), RepositoryError> {
        let row = snapshot_row(snapshot)?.into_active_model().reset_all();
        let txn = self.begin_write().await?;
        // Holding the connection makes a concurrent delete of it wait, then see this snapshot.
        let connection_id = snapshot.spec.connection_id;
        if !hold::<connections::Entity>(&txn, connection_id.as_uuid(), Hold::Shared).await? {
            return Err(RepositoryError::not_found(Entity::Connection, connection_id));
        }
        // Holding the run that built the collection makes a concurrent delete of that run wait,
        // then see this snapshot. A run that is gone (or never was) is no error: the collection
        // outlived its record.
        if let Some(run_id) = snapshot.built_by {
            hold::<runs::Entity>(&txn, run_id.as_uuid(), Hold::Shared).await?;
        }
        snapshots::Entity::insert(row)
            .exec_without_returning(&txn)
            .await
            .map_err(|error| write_error(error, Entity::Snapshot, snapshot.id, None))?;
        txn.commit().await.map_err(db_error)
    }

    #[tracing::instrument(skip(self))]
    async fn get(&self, id: SnapshotId) -> Result<Snapshot, RepositoryError> {
        let row = snapshots::Entity::find_by_id(id.as_uuid())
            .one(&self.db)
            .await
            .map_err(db_error)?
            .ok_or_else(|| RepositoryError::not_found(Entity::Snapshot, id))?;
        snapshot_from_row(row)
    }

    #[tracing::instrument(skip(self))]
    async fn list(&self, filter: SnapshotFilter, page: Page) -> Result<Listed<Snapshot>, RepositoryError> {
        let mut select = snapshots::Entity::find();
        if let Some(connection_id) = filter.connection_id {
            select = select.filter(snapshots::Column::ConnectionId.eq(connection_id.as_uuid()));
        }
        if let Some(collection) = filter.collection {
            select = select.filter(snapshots::Column::Collection.eq(collection));
        }
        if let Some(status) = filter.status {
            select = select.filter(snapshots::Column::Status.eq(status.as_str()));
        }
        if let Some(owner) = filter.owner {
            select = select.filter(snapshots::Column::Owner.eq(owner));
        }
        let select = select.order_by_desc(snapshots::Column::CreatedAt).order_by_desc(snapshots::Column::Id);
        convert(page_of(select, page, &self.db).await?, snapshot_from_row)
    }

    /// Writes only what changes in a snapshot's life; what it is of, where to and by whom stay
    /// as inserted, so an update needs no reference check.
    #[tracing::instrument(skip_all, fields(snapshot_id = %snapshot.id, status = %snapshot.status))]
    async fn update(&self, snapshot: &Snapshot) -> Result<(), RepositoryError> {
        let row = snapshot_row(snapshot)?;
        let updated = snapshots::Entity::update_many()
            .col_expr(snapshots::Column::Status, Expr::value(row.status))
            .col_expr(snapshots::Column::Archive, Expr::value(row.archive))
            .col_expr(snapshots::Column::Error, Expr::value(row.error))
            .col_expr(snapshots::Column::UpdatedAt, Expr::value(row.updated_at))
            .filter(snapshots::Column::Id.eq(snapshot.id.as_uuid()))
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        if updated.rows_affected == 0 {
            return Err(RepositoryError::not_found(Entity::Snapshot, snapshot.id));
        }
        Ok(())
    }

    #[tracing::instrument(skip(self))]
    async fn delete(&self, id: SnapshotId) -> Result<(), RepositoryError> {
        let deleted = snapshots::Entity::delete_by_id(id.as_uuid()).exec(&self.db).await.map_err(db_error)?;
        if deleted.rows_affected == 0 {
            return Err(RepositoryError::not_found(Entity::Snapshot, id));
        }
        Ok(())
    }
}
