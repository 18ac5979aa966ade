//! [`StorageRepository`] on the `storages` table.

use async_trait::async_trait;
use qbench_domain::{ObjectStorage, StorageId, StorageSpec, StorageSummary, mask_secret};
use qbench_repository::{Entity, Listed, Page, RepositoryError, StorageRepository};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::SqlDatabase;
use crate::codec::{RowRef, stored_time};
use crate::entity::{datasets, snapshots, storages};
use crate::error::{db_error, write_error};

use super::{Hold, convert, hold, in_use, page_of};

fn row_ref(id: Uuid) -> RowRef {
    RowRef { entity: Entity::Storage, table: "storages", id }
}

impl SqlDatabase {
    fn storage_row(&self, storage: &ObjectStorage) -> Result<storages::Model, RepositoryError> {
        let id = storage.id.as_uuid();
        let spec = &storage.spec;
        let row = row_ref(id);
        Ok(storages::Model {
            id,
            name: spec.name.clone(),
            bucket: spec.bucket.clone(),
            region: spec.region.clone(),
            endpoint_url: spec.endpoint_url.clone(),
            access_key: row.seal(&self.cipher, "access_key", spec.access_key.as_ref())?,
            secret_key: row.seal(&self.cipher, "secret_key", spec.secret_key.as_ref())?,
            access_key_mask: spec.access_key.as_ref().map(mask_secret),
            secret_key_mask: spec.secret_key.as_ref().map(mask_secret),
            created_at: stored_time(storage.created_at),
            updated_at: stored_time(storage.updated_at),
        })
    }

    /// A row as lists show it: the stored masks, else (a row from before masks were stored,
    /// not yet filled) the masks of the opened secrets.
    fn storage_summary(&self, row: storages::Model) -> Result<StorageSummary, RepositoryError> {
        let stored = row_ref(row.id);
        let mask = |column: &str, sealed: Option<Vec<u8>>, mask: Option<String>| -> Result<_, RepositoryError> {
            match (sealed, mask) {
                (None, _) => Ok(None),
                (Some(_), Some(mask)) => Ok(Some(mask)),
                (Some(sealed), None) => Ok(stored.open(&self.cipher, column, Some(&sealed))?.as_ref().map(mask_secret)),
            }
        };
        Ok(StorageSummary {
            id: row.id.into(),
            access_key: mask("access_key", row.access_key, row.access_key_mask)?,
            secret_key: mask("secret_key", row.secret_key, row.secret_key_mask)?,
            name: row.name,
            bucket: row.bucket,
            region: row.region,
            endpoint_url: row.endpoint_url,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }

    pub(crate) fn storage_from_row(&self, row: storages::Model) -> Result<ObjectStorage, RepositoryError> {
        let stored = row_ref(row.id);
        let access_key = stored.open(&self.cipher, "access_key", row.access_key.as_deref())?;
        let secret_key = stored.open(&self.cipher, "secret_key", row.secret_key.as_deref())?;
        Ok(ObjectStorage {
            id: row.id.into(),
            spec: StorageSpec {
                name: row.name,
                bucket: row.bucket,
                region: row.region,
                endpoint_url: row.endpoint_url,
                access_key,
                secret_key,
            },
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[async_trait]
impl StorageRepository for SqlDatabase {
    #[tracing::instrument(skip_all, fields(storage_id = %storage.id))]
    async fn insert(&self, storage: &ObjectStorage) -> Result<(), RepositoryError> {
        let row = self.storage_row(storage)?;
        storages::Entity::insert(row.into_active_model().reset_all())
            .exec_without_returning(&self.db)
            .await
            .map_err(|error| write_error(error, Entity::Storage, storage.id, storage.spec.name.as_deref()))?;
        Ok(())
    }

    #[tracing::instrument(skip(self))]
    async fn get(&self, id: StorageId) -> Result<ObjectStorage, RepositoryError> {
        let row = storages::Entity::find_by_id(id.as_uuid())
            .one(&self.db)
            .await
            .map_err(db_error)?
            .ok_or_else(|| RepositoryError::not_found(Entity::Storage, id))?;
        self.storage_from_row(row)
    }

    #[tracing::instrument(skip(self))]
    async fn list(&self, page: Page) -> Result<Listed<ObjectStorage>, RepositoryError> {
        let select =
            storages::Entity::find().order_by_asc(storages::Column::CreatedAt).order_by_asc(storages::Column::Id);
        convert(page_of(select, page, &self.db).await?, |row| self.storage_from_row(row))
    }

    #[tracing::instrument(skip(self))]
    async fn list_masked(&self, page: Page) -> Result<Listed<StorageSummary>, RepositoryError> {
        let select =
            storages::Entity::find().order_by_asc(storages::Column::CreatedAt).order_by_asc(storages::Column::Id);
        convert(page_of(select, page, &self.db).await?, |row| self.storage_summary(row))
    }

    #[tracing::instrument(skip_all, fields(storage_id = %storage.id))]
    async fn update(&self, storage: &ObjectStorage) -> Result<(), RepositoryError> {
        let row = self.storage_row(storage)?;
        let updated = storages::Entity::update_many()
            .set(row.into_active_model().reset_all())
            .filter(storages::Column::Id.eq(storage.id.as_uuid()))
            .exec(&self.db)
            .await
            .map_err(|error| write_error(error, Entity::Storage, storage.id, storage.spec.name.as_deref()))?;
        if updated.rows_affected == 0 {
            return Err(RepositoryError::not_found(Entity::Storage, storage.id));
        }
        Ok(())
    }

    #[tracing::instrument(skip(self))]
    async fn delete(&self, id: StorageId) -> Result<(), RepositoryError> {
        let txn = self.begin_write().await?;
        if !hold::<storages::Entity>(&txn, id.as_uuid(), Hold::Exclusive).await? {
            return Err(RepositoryError::not_found(Entity::Storage, id));
        }
        let users = datasets::Entity::find().filter(datasets::Column::StorageId.eq(id.as_uuid()));
        let order = (datasets::Column::CreatedAt, datasets::Column::Id);
        if let Some(in_use) = in_use(&txn, users, order, (Entity::Storage, id), Entity::Dataset).await? {
            return Err(in_use);
        }
        // A snapshot kept in the storage would lose its archive's credentials.
        let kept = snapshots::Entity::find().filter(snapshots::Column::VaultStorageId.eq(id.as_uuid()));
        let order = (snapshots::Column::CreatedAt, snapshots::Column::Id);
        if let Some(in_use) = in_use(&txn, kept, order, (Entity::Storage, id), Entity::Snapshot).await? {
            return Err(in_use);
        }
        storages::Entity::delete_by_id(id.as_uuid()).exec(&txn).await.map_err(db_error)?;
        txn.commit().await.map_err(db_error)
    }
}
