//! [`RunRepository`] on the `runs` table.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use qbench_domain::{Run, RunId, RunRecord, RunStatus};
use qbench_repository::{Entity, Listed, Page, RepositoryError, RunFilter, RunRepository};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::SqlDatabase;
use crate::codec::{RowRef, stored_time};
use crate::entity::{experiments, runs};
use crate::error::{db_error, write_error};

use super::{Hold, convert, hold, owned_by, owner_of, page_of};

fn row_ref(id: Uuid) -> RowRef {
    RowRef { entity: Entity::Run, table: "runs", id }
}

fn run_row(run: &Run) -> Result<runs::Model, RepositoryError> {
    let record = run.to_record();
    let id = record.id.as_uuid();
    Ok(runs::Model {
        id,
        experiment_id: record.experiment_id.as_uuid(),
        owner: Some(record.owner),
        status: record.status.as_str().to_owned(),
        created_at: stored_time(record.created_at),
        updated_at: stored_time(record.updated_at),
        start_time: record.start_time.map(stored_time),
        end_time: record.end_time.map(stored_time),
        progress: row_ref(id).encode_json("progress", &record.progress)?,
        metrics: record.metrics,
        error: record.error,
        claimed_by: record.claimed_by,
        lease_until: record.lease_until.map(stored_time),
    })
}

fn run_from_row(row: runs::Model) -> Result<Run, RepositoryError> {
    let stored = row_ref(row.id);
    let status = row
        .status
        .parse::<RunStatus>()
        .map_err(|error| stored.corrupt(format!("column `status` is not valid: {error}")))?;
    Ok(Run::restore(RunRecord {
        id: row.id.into(),
        experiment_id: row.experiment_id.into(),
        owner: owner_of(row.owner),
        status,
        created_at: row.created_at,
        updated_at: row.updated_at,
        start_time: row.start_time,
        end_time: row.end_time,
        progress: stored.decode_json("progress", row.progress)?,
        metrics: row.metrics,
        error: row.error,
        claimed_by: row.claimed_by,
        lease_until: row.lease_until,
    }))
}

#[async_trait]
impl RunRepository for SqlDatabase {
    #[tracing::instrument(skip_all, fields(run_id = %run.id(), experiment_id = %run.experiment_id()))]
    async fn insert(&self, run: &Run) -> Result<(), RepositoryError> {
        let row = run_row(run)?.into_active_model().reset_all();
        let txn = self.begin_write().await?;
        // Holding the experiment makes a concurrent delete of it wait, then see this run.
        let experiment_id = run.experiment_id();
        if !hold::<experiments::Entity>(&txn, experiment_id.as_uuid(), Hold::Shared).await? {
            return Err(RepositoryError::not_found(Entity::Experiment, experiment_id));
        }
        runs::Entity::insert(row)
            .exec_without_returning(&txn)
            .await
            .map_err(|error| write_error(error, Entity::Run, run.id(), None))?;
        txn.commit().await.map_err(db_error)
    }

    #[tracing::instrument(skip(self))]
    async fn get(&self, id: RunId) -> Result<Run, RepositoryError> {
        let row = runs::Entity::find_by_id(id.as_uuid())
            .one(&self.db)
            .await
            .map_err(db_error)?
            .ok_or_else(|| RepositoryError::not_found(Entity::Run, id))?;
        run_from_row(row)
    }

    #[tracing::instrument(skip(self))]
    async fn list(&self, filter: RunFilter, page: Page) -> Result<Listed<Run>, RepositoryError> {
        let mut select = runs::Entity::find();
        if let Some(experiment_id) = filter.experiment_id {
            select = select.filter(runs::Column::ExperimentId.eq(experiment_id.as_uuid()));
        }
        if let Some(status) = filter.status {
            select = select.filter(runs::Column::Status.eq(status.as_str()));
        }
        if let Some(owner) = &filter.owner {
            select = select.filter(owned_by(runs::Column::Owner, owner));
        }
        let select = select.order_by_desc(runs::Column::CreatedAt).order_by_desc(runs::Column::Id);
        convert(page_of(select, page, &self.db).await?, run_from_row)
    }

    #[tracing::instrument(skip_all, fields(run_id = %run.id(), status = %run.status(), %expected))]
    async fn update(&self, run: &Run, expected: RunStatus) -> Result<(), RepositoryError> {
        let row = run_row(run)?.into_active_model().reset_all();
        // One conditional statement: of two concurrent status changes from the same status,
        // exactly one matches.
        let updated = runs::Entity::update_many()
            .set(row)
            .filter(runs::Column::Id.eq(run.id().as_uuid()))
            .filter(runs::Column::Status.eq(expected.as_str()))
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        if updated.rows_affected > 0 {
            return Ok(());
        }
        let exists = runs::Entity::find_by_id(run.id().as_uuid()).count(&self.db).await.map_err(db_error)? > 0;
        if exists {
            Err(RepositoryError::Conflict { entity: Entity::Run, id: run.id().to_string() })
        } else {
            Err(RepositoryError::not_found(Entity::Run, run.id()))
        }
    }

    #[tracing::instrument(skip(self, lease_until, now))]
    async fn claim_next(
        &self,
        worker: &str,
        lease_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<Run>, RepositoryError> {
        // Take the oldest waiting run with a conditional update; when another worker took it
        // first, nothing matched and the next candidate is tried.
        loop {
            let candidate = runs::Entity::find()
                .filter(runs::Column::Status.eq(RunStatus::Created.as_str()))
                .order_by_asc(runs::Column::CreatedAt)
                .order_by_asc(runs::Column::Id)
                .one(&self.db)
                .await
                .map_err(db_error)?;
            let Some(row) = candidate else { return Ok(None) };
            let mut run = run_from_row(row)?;
            run.claim(worker, lease_until, now)
                .map_err(|error| RepositoryError::Internal(format!("a CREATED run could not be claimed: {error}")))?;
            match self.update(&run, RunStatus::Created).await {
                Ok(()) => return Ok(Some(run)),
                Err(RepositoryError::Conflict { .. } | RepositoryError::NotFound { .. }) => continue,
                Err(other) => return Err(other),
            }
        }
    }
}
