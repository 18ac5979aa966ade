//! Submitting, reading, cancelling, pausing and resuming jobs, and the queue at a glance.

use std::sync::Arc;
use std::time::Duration;

use qbench_domain::{Caller, Job, JobId, JobKind, JobStatus, NoopPayload, Role, WorkerLabel};
use qbench_repository::{
    Entity, JobFilter, JobQueue, JobRepository, Listed, Page, QueueStats, RepositoryError, WorkerInfo, WorkerRepository,
};

use crate::access::{ensure_seen, requested_owner};
use crate::{Clock, ServiceError};

/// How often a status change re-reads a job that changed under it before giving up.
const ATTEMPTS: usize = 3;

/// A worker seen recently, with the jobs it holds now.
#[derive(Debug, Clone, PartialEq)]
pub struct SeenWorker {
    /// The worker as it announced itself.
    pub info: WorkerInfo,
    /// The jobs it is executing.
    pub running: Vec<JobId>,
}

/// Use cases on jobs of every kind.
///
/// Jobs belong to the user who submitted them: viewers read their own, editors also cancel, pause
/// and resume their own, admins anyone's. Submitting a `noop` job (a probe of the queue) is an
/// admin's. Another user's job answers the same `NotFound` as a missing one.
#[derive(Clone)]
pub struct JobService {
    jobs: Arc<dyn JobRepository>,
    workers: Arc<dyn WorkerRepository>,
    queue: Arc<dyn JobQueue>,
    clock: Arc<dyn Clock>,
}

impl JobService {
    /// A service over `jobs` and `workers`, announcing new jobs on `queue`.
    pub fn new(
        jobs: Arc<dyn JobRepository>,
        workers: Arc<dyn WorkerRepository>,
        queue: Arc<dyn JobQueue>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { jobs, workers, queue, clock }
    }

    async fn seen(&self, caller: &Caller, id: JobId) -> Result<Job, ServiceError> {
        let job = self.jobs.get(id).await?;
        ensure_seen(caller, job.owner(), Entity::Job, id)?;
        Ok(job)
    }

    /// Queues a `noop` job (admin): `steps` steps of `step_ms` each, on a worker carrying
    /// `requires` when given.
    pub async fn submit_noop(
        &self,
        caller: &Caller,
        payload: NoopPayload,
        requires: Option<WorkerLabel>,
    ) -> Result<Job, ServiceError> {
        caller.require(Role::Admin)?;
        let payload = NoopPayload {
            steps: payload.steps.min(NoopPayload::MAX_STEPS),
            step_ms: payload.step_ms.min(NoopPayload::MAX_STEP_MS),
        };
        let payload = serde_json::to_value(payload).map_err(|error| ServiceError::Internal(error.to_string()))?;
        let job = Job::new(JobId::new(), JobKind::Noop, caller.user(), payload, requires, self.clock.now());
        crate::jobs::submit(self.jobs.as_ref(), self.queue.as_ref(), &job).await?;
        Ok(job)
    }

    /// The job with `id` (viewer, a job the caller sees).
    pub async fn get(&self, caller: &Caller, id: JobId) -> Result<Job, ServiceError> {
        caller.require(Role::Viewer)?;
        self.seen(caller, id).await
    }

    /// The caller's jobs matching `filter`, newest first; with `all`, every user's (admin).
    pub async fn list(
        &self,
        caller: &Caller,
        mut filter: JobFilter,
        all: bool,
        page: Page,
    ) -> Result<Listed<Job>, ServiceError> {
        filter.owner = requested_owner(caller, all)?;
        Ok(self.jobs.list(filter, page).await?)
    }

    /// Applies `change` to the stored job and stores it if nobody changed it meanwhile (editor,
    /// a job the caller sees).
    async fn change(
        &self,
        caller: &Caller,
        id: JobId,
        change: impl Fn(&mut Job) -> Result<(), qbench_domain::TransitionError>,
    ) -> Result<Job, ServiceError> {
        caller.require(Role::Editor)?;
        let mut last_error = None;
        for _ in 0..ATTEMPTS {
            let mut job = self.seen(caller, id).await?;
            let expected = job.status();
            change(&mut job)?;
            match self.jobs.update(&job, expected).await {
                Ok(()) => return Ok(job),
                Err(error @ RepositoryError::Conflict { .. }) => last_error = Some(error),
                Err(other) => return Err(other.into()),
            }
        }
        Err(last_error.map_or_else(|| ServiceError::Internal("no attempt made".to_owned()), ServiceError::from))
    }

    /// Cancels a job that has not ended; `Conflict` when it already has.
    pub async fn cancel(&self, caller: &Caller, id: JobId) -> Result<Job, ServiceError> {
        let now = self.clock.now();
        self.change(caller, id, |job| job.cancel(now)).await
    }

    /// Pauses a job: a waiting one at once, a running one at its worker's next safe point (it
    /// stays `RUNNING` until then). `Conflict` naming the reason for a kind that cannot pause or a
    /// job that ended.
    pub async fn pause(&self, caller: &Caller, id: JobId) -> Result<Job, ServiceError> {
        caller.require(Role::Editor)?;
        let now = self.clock.now();
        let mut job = self.seen(caller, id).await?;
        job.request_pause(now)?;
        if job.status() == JobStatus::Running {
            // Only the flag is written: the worker's heartbeat owns lease and progress.
            self.jobs.request_pause(id).await?;
            return Ok(job);
        }
        self.change(caller, id, |job| job.request_pause(now)).await
    }

    /// Puts a paused job back in the queue, to continue from its progress.
    pub async fn resume(&self, caller: &Caller, id: JobId) -> Result<Job, ServiceError> {
        let now = self.clock.now();
        let job = self.change(caller, id, |job| job.resume(now)).await?;
        if let Err(error) = self.queue.enqueue(job.id()).await {
            tracing::warn!(job_id = %job.id(), %error, "job resumed but not announced to the queue");
        }
        Ok(job)
    }

    /// The queue at a glance: for the service's own gauges (`/metrics`), not a caller's.
    pub async fn stats(&self) -> Result<QueueStats, ServiceError> {
        Ok(self.jobs.stats().await?)
    }

    /// The workers seen within `window`, each with the jobs it runs now: for the system
    /// metadata, which any caller may read.
    pub async fn workers(&self, window: Duration) -> Result<Vec<SeenWorker>, ServiceError> {
        let mut seen = Vec::new();
        for info in self.workers.seen_within(window).await? {
            let filter = JobFilter {
                status: Some(JobStatus::Running),
                claimed_by: Some(info.id.clone()),
                ..JobFilter::default()
            };
            let running = self.jobs.list(filter, Page { limit: Page::MAX_LIMIT, offset: 0 }).await?;
            seen.push(SeenWorker { info, running: running.items.iter().map(Job::id).collect() });
        }
        Ok(seen)
    }
}
