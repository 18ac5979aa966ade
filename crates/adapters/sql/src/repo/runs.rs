//! [`RunRepository`] on the `runs` table (experiment and owner) and the run's `jobs` row (its life).

use async_trait::async_trait;
use qbench_domain::{BenchmarkPayload, Job, JobKind, JobRecord, JobStatus, Progress, Run, RunId, RunStatus};
use qbench_repository::{Entity, Listed, Page, RepositoryError, RunFilter, RunRepository};
use sea_orm::sea_query::Query;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::SqlDatabase;
use crate::codec::{RowRef, stored_time};
use crate::entity::{experiments, jobs, runs, snapshots};
use crate::error::{db_error, write_error};

use super::jobs::{job_from_row, job_row};
use super::{Hold, hold, in_use, owned_by, owner_of, page_of};

fn row_ref(id: Uuid) -> RowRef {
    RowRef { entity: Entity::Run, table: "runs", id }
}

/// The `runs` row of a new run; the columns from before jobs hold the run as created.
fn run_row(run: &Run) -> Result<runs::Model, RepositoryError> {
    let id = run.id().as_uuid();
    Ok(runs::Model {
        id,
        experiment_id: run.experiment_id().as_uuid(),
        owner: Some(run.owner().to_owned()),
        study_id: run.study_id().map(|id| id.as_uuid()),
        status: RunStatus::Created.as_str().to_owned(),
        created_at: stored_time(run.created_at()),
        updated_at: stored_time(run.created_at()),
        start_time: None,
        end_time: None,
        progress: row_ref(id).encode_json("progress", &Progress::queued())?,
        metrics: None,
        error: None,
        claimed_by: None,
        lease_until: None,
    })
}

/// The job of a run stored before jobs existed, from its `runs` row.
fn legacy_job(row: &runs::Model) -> Result<Job, RepositoryError> {
    let stored = row_ref(row.id);
    let status = row
        .status
        .parse::<RunStatus>()
        .map_err(|error| stored.corrupt(format!("column `status` is not valid: {error}")))?;
    let payload = serde_json::to_value(BenchmarkPayload {
        experiment_id: row.experiment_id.into(),
        settings: None,
        study_id: None,
    })
    .map_err(|error| RepositoryError::Internal(error.to_string()))?;
    Ok(Job::restore(JobRecord {
        id: row.id.into(),
        kind: JobKind::Benchmark,
        owner: owner_of(row.owner.clone()),
        status: JobStatus::from(status),
        payload,
        requires: None,
        progress: stored.decode_json("progress", row.progress.clone())?,
        attempts: u32::from(row.start_time.is_some()),
        claimed_by: row.claimed_by.clone(),
        lease_until: row.lease_until,
        pause_requested: false,
        result: row.metrics.clone(),
        error: row.error.clone(),
        created_at: row.created_at,
        updated_at: row.updated_at,
        start_time: row.start_time,
        end_time: row.end_time,
    }))
}

fn run_of(row: &runs::Model, job: jobs::Model) -> Result<Run, RepositoryError> {
    let job = job_from_row(job)?;
    Run::from_job(row.experiment_id.into(), job).map_err(|error| row_ref(row.id).corrupt(error.to_string()))
}

impl SqlDatabase {
    /// Gives every run stored before jobs existed its `jobs` row, built from the run's own
    /// columns. Idempotent: runs that have a job are left alone.
    pub(crate) async fn move_runs_into_jobs(&self, db: &impl sea_orm::ConnectionTrait) -> Result<(), RepositoryError> {
        let without_job = runs::Entity::find()
            .filter(
                runs::Column::Id
                    .not_in_subquery(Query::select().column(jobs::Column::Id).from(jobs::Entity).to_owned()),
            )
            .all(db)
            .await
            .map_err(db_error)?;
        for row in &without_job {
            let job = legacy_job(row)?;
            jobs::Entity::insert(job_row(&job)?.into_active_model().reset_all())
                .exec_without_returning(db)
                .await
                .map_err(|error| write_error(error, Entity::Job, job.id(), None))?;
        }
        if !without_job.is_empty() {
            tracing::info!(runs = without_job.len(), "moved runs stored before jobs into the jobs table");
        }
        Ok(())
    }
}

#[async_trait]
impl RunRepository for SqlDatabase {
    #[tracing::instrument(skip_all, fields(run_id = %run.id(), experiment_id = %run.experiment_id()))]
    async fn insert(&self, run: &Run) -> Result<(), RepositoryError> {
        let row = run_row(run)?.into_active_model().reset_all();
        let job = job_row(run.job())?.into_active_model().reset_all();
        let txn = self.begin_write().await?;
        // Holding the experiment makes a concurrent delete of it wait, then see this run.
        let experiment_id = run.experiment_id();
        if !hold::<experiments::Entity>(&txn, experiment_id.as_uuid(), Hold::Shared).await? {
            return Err(RepositoryError::not_found(Entity::Experiment, experiment_id));
        }
        jobs::Entity::insert(job)
            .exec_without_returning(&txn)
            .await
            .map_err(|error| write_error(error, Entity::Run, run.id(), None))?;
        runs::Entity::insert(row)
            .exec_without_returning(&txn)
            .await
            .map_err(|error| write_error(error, Entity::Run, run.id(), None))?;
        txn.commit().await.map_err(db_error)
    }

    #[tracing::instrument(skip(self))]
    async fn get(&self, id: RunId) -> Result<Run, RepositoryError> {
        let not_found = || RepositoryError::not_found(Entity::Run, id);
        let row =
            runs::Entity::find_by_id(id.as_uuid()).one(&self.db).await.map_err(db_error)?.ok_or_else(not_found)?;
        let job =
            jobs::Entity::find_by_id(id.as_uuid()).one(&self.db).await.map_err(db_error)?.ok_or_else(not_found)?;
        run_of(&row, job)
    }

    #[tracing::instrument(skip(self))]
    async fn list(&self, filter: RunFilter, page: Page) -> Result<Listed<Run>, RepositoryError> {
        let mut select = runs::Entity::find();
        if let Some(experiment_id) = filter.experiment_id {
            select = select.filter(runs::Column::ExperimentId.eq(experiment_id.as_uuid()));
        }
        if let Some(status) = filter.status {
            let with_status = Query::select()
                .column(jobs::Column::Id)
                .from(jobs::Entity)
                .and_where(jobs::Column::Status.eq(JobStatus::from(status).as_str()))
                .to_owned();
            select = select.filter(runs::Column::Id.in_subquery(with_status));
        }
        if let Some(owner) = &filter.owner {
            select = select.filter(owned_by(runs::Column::Owner, owner));
        }
        if let Some(study_id) = filter.study_id {
            select = select.filter(runs::Column::StudyId.eq(study_id.as_uuid()));
        }
        let select = select.order_by_desc(runs::Column::CreatedAt).order_by_desc(runs::Column::Id);
        let listed = page_of(select, page, &self.db).await?;
        let ids: Vec<Uuid> = listed.items.iter().map(|row| row.id).collect();
        let mut jobs_by_id: std::collections::HashMap<Uuid, jobs::Model> = jobs::Entity::find()
            .filter(jobs::Column::Id.is_in(ids))
            .limit(Page::MAX_LIMIT)
            .all(&self.db)
            .await
            .map_err(db_error)?
            .into_iter()
            .map(|job| (job.id, job))
            .collect();
        let mut items = Vec::with_capacity(listed.items.len());
        for row in &listed.items {
            let job = jobs_by_id.remove(&row.id).ok_or_else(|| row_ref(row.id).corrupt("the run has no `jobs` row"))?;
            items.push(run_of(row, job)?);
        }
        Ok(Listed { items, total: listed.total })
    }

    #[tracing::instrument(skip_all, fields(run_id = %run.id(), status = %run.status(), %expected))]
    async fn update(&self, run: &Run, expected: RunStatus) -> Result<(), RepositoryError> {
        self.write_job(&self.db, run.job(), JobStatus::from(expected), Entity::Run, run.id().to_string()).await
    }

    #[tracing::instrument(skip(self))]
    async fn delete(&self, id: RunId) -> Result<(), RepositoryError> {
        let txn = self.begin_write().await?;
        // Holding the run makes a concurrent snapshot of its collection wait, then be seen here.
        if !hold::<runs::Entity>(&txn, id.as_uuid(), Hold::Exclusive).await? {
            return Err(RepositoryError::not_found(Entity::Run, id));
        }
        let users = snapshots::Entity::find().filter(snapshots::Column::BuiltBy.eq(id.as_uuid()));
        let order = (snapshots::Column::CreatedAt, snapshots::Column::Id);
        if let Some(in_use) = in_use(&txn, users, order, (Entity::Run, id), Entity::Snapshot).await? {
            return Err(in_use);
        }
        jobs::Entity::delete_by_id(id.as_uuid()).exec(&txn).await.map_err(db_error)?;
        runs::Entity::delete_by_id(id.as_uuid()).exec(&txn).await.map_err(db_error)?;
        txn.commit().await.map_err(db_error)
    }
}
