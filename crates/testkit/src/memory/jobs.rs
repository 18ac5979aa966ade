//! [`JobRepository`] and [`WorkerRepository`] of the in-memory database.

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use qbench_domain::{Job, JobId, JobKind, JobStatus, Progress};
use qbench_repository::{
    ClaimRequest, Entity, HeartbeatReply, JobFilter, JobRepository, Listed, Page, QueueStats, RepositoryError,
    WorkerInfo, WorkerRepository,
};

use super::{InMemoryDatabase, duplicate_id, page_of};

fn lease_end(now: DateTime<Utc>, lease: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX)
}

fn conflict(id: JobId) -> RepositoryError {
    RepositoryError::Conflict { entity: Entity::Job, id: id.to_string() }
}

#[async_trait]
impl JobRepository for InMemoryDatabase {
    async fn insert(&self, job: &Job) -> Result<(), RepositoryError> {
        let mut tables = self.tables()?;
        if tables.jobs.contains_key(&job.id()) {
            return Err(duplicate_id(Entity::Job, job.id()));
        }
        tables.jobs.insert(job.id(), job.clone());
        Ok(())
    }

    async fn get(&self, id: JobId) -> Result<Job, RepositoryError> {
        self.tables()?.jobs.get(&id).cloned().ok_or_else(|| RepositoryError::not_found(Entity::Job, id))
    }

    async fn list(&self, filter: JobFilter, page: Page) -> Result<Listed<Job>, RepositoryError> {
        let tables = self.tables()?;
        let mut jobs: Vec<&Job> = tables
            .jobs
            .values()
            .filter(|job| filter.kind.is_none_or(|kind| job.kind() == kind))
            .filter(|job| filter.status.is_none_or(|status| job.status() == status))
            .filter(|job| filter.owner.as_deref().is_none_or(|owner| job.owner() == owner))
            .filter(|job| filter.claimed_by.as_deref().is_none_or(|worker| job.claimed_by() == Some(worker)))
            .collect();
        jobs.sort_by_key(|job| Reverse((job.created_at(), job.id())));
        Ok(page_of(jobs, page))
    }

    async fn update(&self, job: &Job, expected: JobStatus) -> Result<(), RepositoryError> {
        let mut tables = self.tables()?;
        match tables.jobs.get_mut(&job.id()) {
            None => Err(RepositoryError::not_found(Entity::Job, job.id())),
            Some(stored)
                if stored.status() != expected
                    || (expected == JobStatus::Running && stored.claimed_by() != job.claimed_by()) =>
            {
                Err(conflict(job.id()))
            }
            Some(stored) => {
                *stored = job.clone();
                Ok(())
            }
        }
    }

    async fn now(&self) -> Result<DateTime<Utc>, RepositoryError> {
        drop(self.tables()?);
        Ok(self.clock_now())
    }

    async fn claim_next(&self, request: &ClaimRequest) -> Result<Option<Job>, RepositoryError> {
        let now = self.clock_now();
        let mut tables = self.tables()?;
        let oldest = tables
            .jobs
            .values_mut()
            .filter(|job| job.status() == JobStatus::Created && request.kinds.contains(&job.kind()))
            .filter(|job| job.requires().is_none_or(|label| request.labels.contains(label)))
            .min_by_key(|job| (job.created_at(), job.id()));
        let Some(job) = oldest else { return Ok(None) };
        job.claim(request.worker.clone(), lease_end(now, request.lease), now)
            .map_err(|error| RepositoryError::Internal(format!("a CREATED job could not be claimed: {error}")))?;
        Ok(Some(job.clone()))
    }

    async fn heartbeat(
        &self,
        id: JobId,
        worker: &str,
        progress: &Progress,
        lease: Duration,
    ) -> Result<HeartbeatReply, RepositoryError> {
        let now = self.clock_now();
        let mut tables = self.tables()?;
        let job = tables.jobs.get_mut(&id).ok_or_else(|| RepositoryError::not_found(Entity::Job, id))?;
        if job.status() != JobStatus::Running || job.claimed_by() != Some(worker) {
            return Err(conflict(id));
        }
        job.renew_lease(lease_end(now, lease), now);
        job.report_progress(progress.clone(), now);
        Ok(HeartbeatReply { pause_requested: job.pause_requested() })
    }

    async fn request_pause(&self, id: JobId) -> Result<(), RepositoryError> {
        let now = self.clock_now();
        let mut tables = self.tables()?;
        let job = tables.jobs.get_mut(&id).ok_or_else(|| RepositoryError::not_found(Entity::Job, id))?;
        if job.status() != JobStatus::Running {
            return Err(conflict(id));
        }
        job.request_pause(now).map_err(|error| RepositoryError::Internal(error.to_string()))
    }

    async fn expired(&self) -> Result<Vec<Job>, RepositoryError> {
        let now = self.clock_now();
        Ok(self.tables()?.jobs.values().filter(|job| job.lease_expired(now)).cloned().collect())
    }

    async fn stats(&self) -> Result<QueueStats, RepositoryError> {
        let now = self.clock_now();
        let tables = self.tables()?;
        let mut counts: BTreeMap<(JobKind, JobStatus), u64> = BTreeMap::new();
        let mut running: BTreeMap<String, u64> = BTreeMap::new();
        for job in tables.jobs.values() {
            *counts.entry((job.kind(), job.status())).or_default() += 1;
            if let (JobStatus::Running, Some(worker)) = (job.status(), job.claimed_by()) {
                *running.entry(worker.to_owned()).or_default() += 1;
            }
        }
        let oldest_waiting =
            tables.jobs.values().filter(|job| job.status() == JobStatus::Created).map(Job::created_at).min();
        Ok(QueueStats {
            counts: counts.into_iter().map(|((kind, status), count)| (kind, status, count)).collect(),
            oldest_waiting,
            running_by_worker: running.into_iter().collect(),
            now,
        })
    }
}

#[async_trait]
impl WorkerRepository for InMemoryDatabase {
    async fn announce(&self, worker: &WorkerInfo) -> Result<(), RepositoryError> {
        let now = self.clock_now();
        let mut tables = self.tables()?;
        let mut seen = worker.clone();
        seen.last_seen = now;
        tables.workers.insert(seen.id.clone(), seen);
        Ok(())
    }

    async fn seen_within(&self, window: Duration) -> Result<Vec<WorkerInfo>, RepositoryError> {
        let now = self.clock_now();
        let since = now - chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX);
        Ok(self.tables()?.workers.values().filter(|worker| worker.last_seen >= since).cloned().collect())
    }
}
