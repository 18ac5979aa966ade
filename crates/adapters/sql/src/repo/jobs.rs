//! [`JobRepository`] and [`WorkerRepository`] on the `jobs` and `workers` tables.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use qbench_domain::{Job, JobId, JobKind, JobRecord, JobStatus, Progress, WorkerLabel};
use qbench_repository::{
    ClaimRequest, Entity, HeartbeatReply, JobFilter, JobRepository, Listed, Page, QueueStats, RepositoryError,
    WorkerInfo, WorkerRepository,
};
use sea_orm::sea_query::{Expr, LockBehavior, LockType, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement,
};
use uuid::Uuid;

use crate::SqlDatabase;
use crate::codec::{RowRef, stored_time};
use crate::entity::{jobs, workers};
use crate::error::{db_error, write_error};
use crate::url::Backend;

use super::{convert, page_of};

fn row_ref(id: Uuid) -> RowRef {
    RowRef { entity: Entity::Job, table: "jobs", id }
}

/// The row of `job`.
pub(super) fn job_row(job: &Job) -> Result<jobs::Model, RepositoryError> {
    let record = job.record();
    let id = record.id.as_uuid();
    Ok(jobs::Model {
        id,
        kind: record.kind.as_str().to_owned(),
        owner: record.owner.clone(),
        status: record.status.as_str().to_owned(),
        payload: record.payload.clone(),
        requires: record.requires.as_ref().map(|label| label.as_str().to_owned()),
        progress: row_ref(id).encode_json("progress", &record.progress)?,
        attempts: i32::try_from(record.attempts).unwrap_or(i32::MAX),
        claimed_by: record.claimed_by.clone(),
        lease_until: record.lease_until.map(stored_time),
        pause_requested: record.pause_requested,
        result: record.result.clone(),
        error: record.error.clone(),
        created_at: stored_time(record.created_at),
        updated_at: stored_time(record.updated_at),
        start_time: record.start_time.map(stored_time),
        end_time: record.end_time.map(stored_time),
    })
}

/// The job of a row.
pub(super) fn job_from_row(row: jobs::Model) -> Result<Job, RepositoryError> {
    let stored = row_ref(row.id);
    let column =
        |name: &str, error: &dyn std::fmt::Display| stored.corrupt(format!("column `{name}` is not valid: {error}"));
    let kind = row.kind.parse::<JobKind>().map_err(|error| column("kind", &error))?;
    let status = row.status.parse::<JobStatus>().map_err(|error| column("status", &error))?;
    let requires = row
        .requires
        .map(|label| label.parse::<WorkerLabel>())
        .transpose()
        .map_err(|error| column("requires", &error))?;
    Ok(Job::restore(JobRecord {
        id: row.id.into(),
        kind,
        owner: row.owner,
        status,
        payload: row.payload,
        requires,
        progress: stored.decode_json("progress", row.progress)?,
        attempts: u32::try_from(row.attempts).unwrap_or(0),
        claimed_by: row.claimed_by,
        lease_until: row.lease_until,
        pause_requested: row.pause_requested,
        result: row.result,
        error: row.error,
        created_at: row.created_at,
        updated_at: row.updated_at,
        start_time: row.start_time,
        end_time: row.end_time,
    }))
}

fn lease_end(now: DateTime<Utc>, lease: Duration) -> DateTime<Utc> {
    stored_time(now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::days(365)))
}

fn conflict(id: JobId) -> RepositoryError {
    RepositoryError::Conflict { entity: Entity::Job, id: id.to_string() }
}

impl SqlDatabase {
    /// The database's clock: PostgreSQL's `CURRENT_TIMESTAMP` (one clock for every host of a
    /// deployment); for SQLite, a file on this host, this host's clock.
    pub(crate) async fn database_now(&self, db: &impl ConnectionTrait) -> Result<DateTime<Utc>, RepositoryError> {
        match self.backend {
            Backend::Sqlite => Ok(Utc::now().trunc_subsecs(6)),
            Backend::Postgres => {
                let statement = Statement::from_string(db.get_database_backend(), "SELECT CURRENT_TIMESTAMP AS now");
                let row =
                    db.query_one_raw(statement).await.map_err(db_error)?.ok_or_else(|| {
                        RepositoryError::Internal("SELECT CURRENT_TIMESTAMP returned no row".to_owned())
                    })?;
                row.try_get::<DateTime<Utc>>("", "now").map(|now| now.trunc_subsecs(6)).map_err(db_error)
            }
        }
    }

    /// Writes `job` if its stored status is `expected` (and, for `RUNNING`, it is still held by
    /// `job`'s worker); `Conflict` or `NotFound` otherwise, as `entity`.
    pub(super) async fn write_job(
        &self,
        db: &impl ConnectionTrait,
        job: &Job,
        expected: JobStatus,
        entity: Entity,
        shown_id: String,
    ) -> Result<(), RepositoryError> {
        let row = job_row(job)?.into_active_model().reset_all();
        let mut update = jobs::Entity::update_many()
            .set(row)
            .filter(jobs::Column::Id.eq(job.id().as_uuid()))
            .filter(jobs::Column::Status.eq(expected.as_str()));
        if expected == JobStatus::Running {
            update = update.filter(jobs::Column::ClaimedBy.eq(job.claimed_by()));
        }
        let updated = update.exec(db).await.map_err(db_error)?;
        if updated.rows_affected > 0 {
            return Ok(());
        }
        let exists = jobs::Entity::find_by_id(job.id().as_uuid()).count(db).await.map_err(db_error)? > 0;
        if exists {
            Err(RepositoryError::Conflict { entity, id: shown_id })
        } else {
            Err(RepositoryError::NotFound { entity, id: shown_id })
        }
    }
}

#[async_trait]
impl JobRepository for SqlDatabase {
    #[tracing::instrument(skip_all, fields(job_id = %job.id(), kind = %job.kind()))]
    async fn insert(&self, job: &Job) -> Result<(), RepositoryError> {
        let row = job_row(job)?.into_active_model().reset_all();
        jobs::Entity::insert(row)
            .exec_without_returning(&self.db)
            .await
            .map_err(|error| write_error(error, Entity::Job, job.id(), None))?;
        Ok(())
    }

    #[tracing::instrument(skip(self))]
    async fn get(&self, id: JobId) -> Result<Job, RepositoryError> {
        let row = jobs::Entity::find_by_id(id.as_uuid())
            .one(&self.db)
            .await
            .map_err(db_error)?
            .ok_or_else(|| RepositoryError::not_found(Entity::Job, id))?;
        job_from_row(row)
    }

    #[tracing::instrument(skip(self))]
    async fn list(&self, filter: JobFilter, page: Page) -> Result<Listed<Job>, RepositoryError> {
        let mut select = jobs::Entity::find();
        if let Some(kind) = filter.kind {
            select = select.filter(jobs::Column::Kind.eq(kind.as_str()));
        }
        if let Some(status) = filter.status {
            select = select.filter(jobs::Column::Status.eq(status.as_str()));
        }
        if let Some(owner) = &filter.owner {
            select = select.filter(jobs::Column::Owner.eq(owner.as_str()));
        }
        if let Some(worker) = &filter.claimed_by {
            select = select.filter(jobs::Column::ClaimedBy.eq(worker.as_str()));
        }
        let select = select.order_by_desc(jobs::Column::CreatedAt).order_by_desc(jobs::Column::Id);
        convert(page_of(select, page, &self.db).await?, job_from_row)
    }

    #[tracing::instrument(skip_all, fields(job_id = %job.id(), status = %job.status(), %expected))]
    async fn update(&self, job: &Job, expected: JobStatus) -> Result<(), RepositoryError> {
        self.write_job(&self.db, job, expected, Entity::Job, job.id().to_string()).await
    }

    async fn now(&self) -> Result<DateTime<Utc>, RepositoryError> {
        self.database_now(&self.db).await
    }

    #[tracing::instrument(skip_all, fields(worker = %request.worker))]
    async fn claim_next(&self, request: &ClaimRequest) -> Result<Option<Job>, RepositoryError> {
        if request.kinds.is_empty() {
            return Ok(None);
        }
        let txn = self.begin_write().await?;
        let now = self.database_now(&txn).await?;
        let labels: Vec<&str> = request.labels.iter().map(WorkerLabel::as_str).collect();
        let mut fits = sea_orm::Condition::any().add(jobs::Column::Requires.is_null());
        if !labels.is_empty() {
            fits = fits.add(jobs::Column::Requires.is_in(labels));
        }
        // PostgreSQL: the first waiting row nobody else has locked, so concurrent workers take
        // different jobs instead of queueing on one. SQLite: `BEGIN IMMEDIATE` serialises claims.
        let candidate = jobs::Entity::find()
            .filter(jobs::Column::Status.eq(JobStatus::Created.as_str()))
            .filter(jobs::Column::Kind.is_in(request.kinds.iter().map(|kind| kind.as_str())))
            .filter(fits)
            .order_by_asc(jobs::Column::CreatedAt)
            .order_by_asc(jobs::Column::Id)
            .limit(1)
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
            .one(&txn)
            .await
            .map_err(db_error)?;
        let Some(row) = candidate else {
            txn.commit().await.map_err(db_error)?;
            return Ok(None);
        };
        let mut job = job_from_row(row)?;
        job.claim(request.worker.clone(), lease_end(now, request.lease), now)
            .map_err(|error| RepositoryError::Internal(format!("a CREATED job could not be claimed: {error}")))?;
        self.write_job(&txn, &job, JobStatus::Created, Entity::Job, job.id().to_string()).await?;
        txn.commit().await.map_err(db_error)?;
        Ok(Some(job))
    }

    #[tracing::instrument(skip(self, progress))]
    async fn heartbeat(
        &self,
        id: JobId,
        worker: &str,
        progress: &Progress,
        lease: Duration,
    ) -> Result<HeartbeatReply, RepositoryError> {
        let now = self.database_now(&self.db).await?;
        let updated = jobs::Entity::update_many()
            .col_expr(jobs::Column::LeaseUntil, Expr::value(lease_end(now, lease)))
            .col_expr(jobs::Column::Progress, Expr::value(row_ref(id.as_uuid()).encode_json("progress", progress)?))
            .col_expr(jobs::Column::UpdatedAt, Expr::value(stored_time(now)))
            .filter(jobs::Column::Id.eq(id.as_uuid()))
            .filter(jobs::Column::Status.eq(JobStatus::Running.as_str()))
            .filter(jobs::Column::ClaimedBy.eq(worker))
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        let row = jobs::Entity::find_by_id(id.as_uuid())
            .one(&self.db)
            .await
            .map_err(db_error)?
            .ok_or_else(|| RepositoryError::not_found(Entity::Job, id))?;
        if updated.rows_affected == 0 {
            return Err(conflict(id));
        }
        Ok(HeartbeatReply { pause_requested: row.pause_requested })
    }

    #[tracing::instrument(skip(self))]
    async fn request_pause(&self, id: JobId) -> Result<(), RepositoryError> {
        let updated = jobs::Entity::update_many()
            .col_expr(jobs::Column::PauseRequested, Expr::value(true))
            .filter(jobs::Column::Id.eq(id.as_uuid()))
            .filter(jobs::Column::Status.eq(JobStatus::Running.as_str()))
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        if updated.rows_affected > 0 {
            return Ok(());
        }
        match jobs::Entity::find_by_id(id.as_uuid()).count(&self.db).await.map_err(db_error)? {
            0 => Err(RepositoryError::not_found(Entity::Job, id)),
            _ => Err(conflict(id)),
        }
    }

    #[tracing::instrument(skip(self))]
    async fn expired(&self) -> Result<Vec<Job>, RepositoryError> {
        let now = self.database_now(&self.db).await?;
        jobs::Entity::find()
            .filter(jobs::Column::Status.eq(JobStatus::Running.as_str()))
            .filter(jobs::Column::LeaseUntil.lt(stored_time(now)))
            .order_by_asc(jobs::Column::CreatedAt)
            .limit(Page::MAX_LIMIT)
            .all(&self.db)
            .await
            .map_err(db_error)?
            .into_iter()
            .map(job_from_row)
            .collect()
    }

    #[tracing::instrument(skip(self))]
    async fn stats(&self) -> Result<QueueStats, RepositoryError> {
        let now = self.database_now(&self.db).await?;
        let counted: Vec<(String, String, i64)> = jobs::Entity::find()
            .select_only()
            .column(jobs::Column::Kind)
            .column(jobs::Column::Status)
            .column_as(jobs::Column::Id.count(), "count")
            .group_by(jobs::Column::Kind)
            .group_by(jobs::Column::Status)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(db_error)?;
        let mut counts = Vec::with_capacity(counted.len());
        for (kind, status, count) in counted {
            // A kind or status this build does not know (a newer version's) is left out.
            if let (Ok(kind), Ok(status)) = (kind.parse::<JobKind>(), status.parse::<JobStatus>()) {
                counts.push((kind, status, u64::try_from(count).unwrap_or(0)));
            }
        }
        let oldest_waiting: Option<DateTime<Utc>> = jobs::Entity::find()
            .select_only()
            .column(jobs::Column::CreatedAt)
            .filter(jobs::Column::Status.eq(JobStatus::Created.as_str()))
            .order_by_asc(jobs::Column::CreatedAt)
            .limit(1)
            .into_tuple()
            .one(&self.db)
            .await
            .map_err(db_error)?;
        let running: Vec<(Option<String>, i64)> = jobs::Entity::find()
            .select_only()
            .column(jobs::Column::ClaimedBy)
            .column_as(jobs::Column::Id.count(), "count")
            .filter(jobs::Column::Status.eq(JobStatus::Running.as_str()))
            .group_by(jobs::Column::ClaimedBy)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(db_error)?;
        let running_by_worker = running
            .into_iter()
            .filter_map(|(worker, count)| Some((worker?, u64::try_from(count).unwrap_or(0))))
            .collect();
        Ok(QueueStats { counts, oldest_waiting, running_by_worker, now })
    }
}

#[async_trait]
impl WorkerRepository for SqlDatabase {
    #[tracing::instrument(skip_all, fields(worker = %worker.id))]
    async fn announce(&self, worker: &WorkerInfo) -> Result<(), RepositoryError> {
        let now = self.database_now(&self.db).await?;
        let labels: Vec<&str> = worker.labels.iter().map(WorkerLabel::as_str).collect();
        let row = workers::ActiveModel {
            id: Set(worker.id.clone()),
            host: Set(worker.host.clone()),
            labels: Set(serde_json::json!(labels)),
            max_concurrent_runs: Set(i32::try_from(worker.max_concurrent_runs).unwrap_or(i32::MAX)),
            max_concurrent_jobs: Set(i32::try_from(worker.max_concurrent_jobs).unwrap_or(i32::MAX)),
            started_at: Set(stored_time(worker.started_at)),
            last_seen: Set(stored_time(now)),
        };
        workers::Entity::insert(row)
            .on_conflict(
                OnConflict::column(workers::Column::Id)
                    .update_columns([
                        workers::Column::Host,
                        workers::Column::Labels,
                        workers::Column::MaxConcurrentRuns,
                        workers::Column::MaxConcurrentJobs,
                        workers::Column::StartedAt,
                        workers::Column::LastSeen,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    #[tracing::instrument(skip(self))]
    async fn seen_within(&self, window: Duration) -> Result<Vec<WorkerInfo>, RepositoryError> {
        let now = self.database_now(&self.db).await?;
        let since = now - chrono::Duration::from_std(window).unwrap_or(chrono::Duration::days(365));
        let rows = workers::Entity::find()
            .filter(workers::Column::LastSeen.gte(stored_time(since)))
            .order_by_asc(workers::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let labels: Vec<String> = serde_json::from_value(row.labels).unwrap_or_default();
                WorkerInfo {
                    id: row.id,
                    host: row.host,
                    // A label that no longer parses (from another version) is left out.
                    labels: labels.iter().filter_map(|label| label.parse().ok()).collect(),
                    max_concurrent_runs: u32::try_from(row.max_concurrent_runs).unwrap_or(0),
                    max_concurrent_jobs: u32::try_from(row.max_concurrent_jobs).unwrap_or(0),
                    started_at: row.started_at,
                    last_seen: row.last_seen,
                }
            })
            .collect())
    }
}
