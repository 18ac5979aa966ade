//! [`DatasetRepository`] on the `datasets` table.

use async_trait::async_trait;
use qbench_domain::{Dataset, DatasetId, DatasetSpec};
use qbench_repository::{DatasetRepository, Entity, Listed, Page, RepositoryError};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::SqlDatabase;
use crate::codec::{RowRef, stored_time};
use crate::entity::{datasets, experiments, storages};
use crate::error::{db_error, write_error};

use super::{Hold, convert, hold, in_use, owned_by, owner_of, page_of};

fn row_ref(id: Uuid) -> RowRef {
    RowRef { entity: Entity::Dataset, table: "datasets", id }
}

fn dataset_row(dataset: &Dataset) -> Result<datasets::Model, RepositoryError> {
    let id = dataset.id.as_uuid();
    let spec = &dataset.spec;
    Ok(datasets::Model {
        id,
        name: spec.name.clone(),
        source_uri: spec.source_uri.to_string(),
        storage_id: spec.storage_id.map(|id| id.as_uuid()),
        schema_config: row_ref(id).encode_json("schema_config", &spec.schema_config)?,
        inspection: dataset
            .inspection
            .as_ref()
            .map(|inspection| row_ref(id).encode_json("inspection", inspection))
            .transpose()?,
        owner: Some(dataset.owner.clone()),
        created_at: stored_time(dataset.created_at),
        updated_at: stored_time(dataset.updated_at),
    })
}

fn dataset_from_row(row: datasets::Model) -> Result<Dataset, RepositoryError> {
    let stored = row_ref(row.id);
    let source_uri =
        row.source_uri.parse().map_err(|error| stored.corrupt(format!("column `source_uri` is not valid: {error}")))?;
    Ok(Dataset {
        id: row.id.into(),
        spec: DatasetSpec {
            name: row.name,
            source_uri,
            storage_id: row.storage_id.map(Into::into),
            schema_config: stored.decode_json("schema_config", row.schema_config)?,
        },
        owner: owner_of(row.owner),
        created_at: row.created_at,
        updated_at: row.updated_at,
        inspection: row.inspection.map(|json| stored.decode_json("inspection", json)).transpose()?,
    })
}

impl SqlDatabase {
    /// Inserts or replaces a dataset while holding the storage it references, so that the
    /// storage cannot be deleted under it; `NotFound` naming the storage when it is already gone.
    async fn write_dataset(&self, dataset: &Dataset, insert: bool) -> Result<(), RepositoryError> {
        let row = dataset_row(dataset)?.into_active_model().reset_all();
        let txn = self.begin_write().await?;
        if let Some(storage_id) = dataset.spec.storage_id
            && !hold::<storages::Entity>(&txn, storage_id.as_uuid(), Hold::Shared).await?
        {
            return Err(RepositoryError::not_found(Entity::Storage, storage_id));
        }
        if insert {
            datasets::Entity::insert(row)
                .exec_without_returning(&txn)
                .await
                .map_err(|error| write_error(error, Entity::Dataset, dataset.id, None))?;
        } else {
            let updated = datasets::Entity::update_many()
                .set(row)
                .filter(datasets::Column::Id.eq(dataset.id.as_uuid()))
                .exec(&txn)
                .await
                .map_err(db_error)?;
            if updated.rows_affected == 0 {
                return Err(RepositoryError::not_found(Entity::Dataset, dataset.id));
            }
        }
        txn.commit().await.map_err(db_error)
    }
}

#[async_trait]
impl DatasetRepository for SqlDatabase {
    #[tracing::instrument(skip_all, fields(dataset_id = %dataset.id))]
    async fn insert(&self, dataset: &Dataset) -> Result<(), RepositoryError> {
        self.write_dataset(dataset, true).await
    }

    #[tracing::instrument(skip(self))]
    async fn get(&self, id: DatasetId) -> Result<Dataset, RepositoryError> {
        let row = datasets::Entity::find_by_id(id.as_uuid())
            .one(&self.db)
            .await
            .map_err(db_error)?
            .ok_or_else(|| RepositoryError::not_found(Entity::Dataset, id))?;
        dataset_from_row(row)
    }

    #[tracing::instrument(skip(self))]
    async fn list(&self, owner: Option<&str>, page: Page) -> Result<Listed<Dataset>, RepositoryError> {
        let mut select = datasets::Entity::find();
        if let Some(owner) = owner {
            select = select.filter(owned_by(datasets::Column::Owner, owner));
        }
        let select = select.order_by_asc(datasets::Column::CreatedAt).order_by_asc(datasets::Column::Id);
        convert(page_of(select, page, &self.db).await?, dataset_from_row)
    }

    #[tracing::instrument(skip_all, fields(dataset_id = %dataset.id))]
    async fn update(&self, dataset: &Dataset) -> Result<(), RepositoryError> {
        self.write_dataset(dataset, false).await
    }

    #[tracing::instrument(skip(self))]
    async fn delete(&self, id: DatasetId) -> Result<(), RepositoryError> {
        let txn = self.begin_write().await?;
        if !hold::<datasets::Entity>(&txn, id.as_uuid(), Hold::Exclusive).await? {
            return Err(RepositoryError::not_found(Entity::Dataset, id));
        }
        let users = experiments::Entity::find().filter(experiments::Column::DatasetId.eq(id.as_uuid()));
        let order = (experiments::Column::CreatedAt, experiments::Column::Id);
        if let Some(in_use) = in_use(&txn, users, order, (Entity::Dataset, id), Entity::Experiment).await? {
            return Err(in_use);
        }
        datasets::Entity::delete_by_id(id.as_uuid()).exec(&txn).await.map_err(db_error)?;
        txn.commit().await.map_err(db_error)
    }
}
