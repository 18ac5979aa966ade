//! [`ExperimentRepository`] on the `experiments` table.

use async_trait::async_trait;
use qbench_domain::{Experiment, ExperimentId, ExperimentSpec};
use qbench_repository::{Entity, ExperimentRepository, Listed, Page, RepositoryError};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::SqlDatabase;
use crate::codec::{RowRef, stored_time};
use crate::entity::{connections, datasets, experiments, jobs, runs};
use crate::error::{db_error, write_error};

use super::{Hold, convert, hold, in_use, owned_by, owner_of, page_of};

fn row_ref(id: Uuid) -> RowRef {
    RowRef { entity: Entity::Experiment, table: "experiments", id }
}

fn experiment_row(experiment: &Experiment) -> Result<experiments::Model, RepositoryError> {
    let id = experiment.id.as_uuid();
    let spec = &experiment.spec;
    let row = row_ref(id);
    Ok(experiments::Model {
        id,
        name: spec.name.clone(),
        dataset_id: spec.dataset_id.as_uuid(),
        connection_id: spec.connection_id.as_uuid(),
        optimizer_config: row.encode_json("optimizer_config", &spec.optimizer_config)?,
        vector_config: spec
            .vector_config
            .as_ref()
            .map(|vectors| row.encode_json("vector_config", vectors))
            .transpose()?,
        search_config: row.encode_json("search_config", &spec.search_config)?,
        upload_config: Some(row.encode_json("upload_config", &spec.upload_config)?),
        keep_collection: Some(spec.keep_collection),
        source: spec.source.as_ref().map(|source| row.encode_json("source", source)).transpose()?,
        owner: Some(experiment.owner.clone()),
        created_at: stored_time(experiment.created_at),
        updated_at: stored_time(experiment.updated_at),
    })
}

fn experiment_from_row(row: experiments::Model) -> Result<Experiment, RepositoryError> {
    let stored = row_ref(row.id);
    Ok(Experiment {
        id: row.id.into(),
        spec: ExperimentSpec {
            name: row.name,
            dataset_id: row.dataset_id.into(),
            connection_id: row.connection_id.into(),
            optimizer_config: stored.decode_json("optimizer_config", row.optimizer_config)?,
            vector_config: row.vector_config.map(|vectors| stored.decode_json("vector_config", vectors)).transpose()?,
            search_config: stored.decode_json("search_config", row.search_config)?,
            upload_config: row
                .upload_config
                .map(|upload| stored.decode_json("upload_config", upload))
                .transpose()?
                .unwrap_or_default(),
            keep_collection: row.keep_collection.unwrap_or(false),
            source: row.source.map(|source| stored.decode_json("source", source)).transpose()?,
        },
        owner: owner_of(row.owner),
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

impl SqlDatabase {
    /// Inserts or replaces an experiment while holding the dataset and connection it
    /// references, so that neither can be deleted under it; `NotFound` naming the one that is
    /// already gone.
    async fn write_experiment(&self, experiment: &Experiment, insert: bool) -> Result<(), RepositoryError> {
        let row = experiment_row(experiment)?.into_active_model().reset_all();
        let txn = self.begin_write().await?;
        let (dataset_id, connection_id) = (experiment.spec.dataset_id, experiment.spec.connection_id);
        if !hold::<datasets::Entity>(&txn, dataset_id.as_uuid(), Hold::Shared).await? {
            return Err(RepositoryError::not_found(Entity::Dataset, dataset_id));
        }
        if !hold::<connections::Entity>(&txn, connection_id.as_uuid(), Hold::Shared).await? {
            return Err(RepositoryError::not_found(Entity::Connection, connection_id));
        }
        if insert {
            experiments::Entity::insert(row)
                .exec_without_returning(&txn)
                .await
                .map_err(|error| write_error(error, Entity::Experiment, experiment.id, None))?;
        } else {
            let updated = experiments::Entity::update_many()
                .set(row)
                .filter(experiments::Column::Id.eq(experiment.id.as_uuid()))
                .exec(&txn)
                .await
                .map_err(db_error)?;
            if updated.rows_affected == 0 {
                return Err(RepositoryError::not_found(Entity::Experiment, experiment.id));
            }
        }
        txn.commit().await.map_err(db_error)
    }
}

#[async_trait]
impl ExperimentRepository for SqlDatabase {
    #[tracing::instrument(skip_all, fields(experiment_id = %experiment.id))]
    async fn insert(&self, experiment: &Experiment) -> Result<(), RepositoryError> {
        self.write_experiment(experiment, true).await
    }

    #[tracing::instrument(skip(self))]
    async fn get(&self, id: ExperimentId) -> Result<Experiment, RepositoryError> {
        let row = experiments::Entity::find_by_id(id.as_uuid())
            .one(&self.db)
            .await
            .map_err(db_error)?
            .ok_or_else(|| RepositoryError::not_found(Entity::Experiment, id))?;
        experiment_from_row(row)
    }

    #[tracing::instrument(skip(self))]
    async fn list(&self, owner: Option<&str>, page: Page) -> Result<Listed<Experiment>, RepositoryError> {
        let mut select = experiments::Entity::find();
        if let Some(owner) = owner {
            select = select.filter(owned_by(experiments::Column::Owner, owner));
        }
        let select = select.order_by_asc(experiments::Column::CreatedAt).order_by_asc(experiments::Column::Id);
        convert(page_of(select, page, &self.db).await?, experiment_from_row)
    }

    #[tracing::instrument(skip_all, fields(experiment_id = %experiment.id))]
    async fn update(&self, experiment: &Experiment) -> Result<(), RepositoryError> {
        self.write_experiment(experiment, false).await
    }

    #[tracing::instrument(skip(self))]
    async fn delete(&self, id: ExperimentId, cascade: bool) -> Result<(), RepositoryError> {
        let txn = self.begin_write().await?;
        if !hold::<experiments::Entity>(&txn, id.as_uuid(), Hold::Exclusive).await? {
            return Err(RepositoryError::not_found(Entity::Experiment, id));
        }
        let of_experiment = runs::Column::ExperimentId.eq(id.as_uuid());
        if cascade {
            let run_ids = sea_orm::sea_query::Query::select()
                .column(runs::Column::Id)
                .from(runs::Entity)
                .and_where(runs::Column::ExperimentId.eq(id.as_uuid()))
                .to_owned();
            jobs::Entity::delete_many()
                .filter(jobs::Column::Id.in_subquery(run_ids))
                .exec(&txn)
                .await
                .map_err(db_error)?;
            let deleted = runs::Entity::delete_many().filter(of_experiment).exec(&txn).await.map_err(db_error)?;
            tracing::debug!(runs = deleted.rows_affected, "deleted the experiment's runs");
        } else {
            let runs = runs::Entity::find().filter(of_experiment);
            let order = (runs::Column::CreatedAt, runs::Column::Id);
            if let Some(in_use) = in_use(&txn, runs, order, (Entity::Experiment, id), Entity::Run).await? {
                return Err(in_use);
            }
        }
        experiments::Entity::delete_by_id(id.as_uuid()).exec(&txn).await.map_err(db_error)?;
        txn.commit().await.map_err(db_error)
    }
}
