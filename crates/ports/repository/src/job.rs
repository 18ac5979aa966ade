//! Storage of jobs: the durable queue every worker claims from.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use qbench_domain::{Job, JobId, JobKind, JobStatus, Progress, WorkerLabel};

use crate::{Listed, Page, RepositoryError};

/// Which jobs a list returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFilter {
    /// Only jobs of this kind.
    pub kind: Option<JobKind>,
    /// Only jobs with this status.
    pub status: Option<JobStatus>,
    /// Only jobs of this user.
    pub owner: Option<String>,
    /// Only jobs held by this worker.
    pub claimed_by: Option<String>,
}

/// What a worker asks for when it claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRequest {
    /// The worker's name, recorded as `claimed_by`.
    pub worker: String,
    /// The labels the worker carries: it takes jobs that require none or one of these.
    pub labels: Vec<WorkerLabel>,
    /// The kinds it has a free slot for.
    pub kinds: Vec<JobKind>,
    /// How long the claim holds without renewal, counted on the database's clock.
    pub lease: Duration,
}

/// What a heartbeat learnt about its job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeartbeatReply {
    /// Whether a pause was asked of the job since it was claimed.
    pub pause_requested: bool,
}

/// The queue at a glance, for `/metrics` and autoscalers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueStats {
    /// How many jobs of each kind have each status (pairs with no job are left out).
    pub counts: Vec<(JobKind, JobStatus, u64)>,
    /// When the oldest job still waiting (`CREATED`) was created.
    pub oldest_waiting: Option<DateTime<Utc>>,
    /// Running jobs per worker.
    pub running_by_worker: Vec<(String, u64)>,
    /// The database's clock when the figures were read.
    pub now: DateTime<Utc>,
}

/// Stores jobs; the `CREATED` ones are the queue.
///
/// Time in leases is the **database's clock** ([`JobRepository::now`]), so workers on hosts whose
/// clocks disagree still agree on whose lease has lapsed.
///
/// # Errors
/// Every method returns `Unavailable` when the database cannot be reached; `get` and `update`
/// MUST return `NotFound` for an unknown id; `update` and `heartbeat` MUST return `Conflict` when
/// the stored job is no longer what the caller holds (another status, another worker).
#[async_trait]
pub trait JobRepository: Send + Sync {
    /// Stores a new job.
    async fn insert(&self, job: &Job) -> Result<(), RepositoryError>;
    /// The job with `id`.
    async fn get(&self, id: JobId) -> Result<Job, RepositoryError>;
    /// Jobs matching `filter`, newest first; `total` counts the filtered set.
    async fn list(&self, filter: JobFilter, page: Page) -> Result<Listed<Job>, RepositoryError>;
    /// Stores a job's new state, but only if its stored status is still `expected` and, when that
    /// is `RUNNING`, it is still held by `job.claimed_by()`: a worker that lost a job never
    /// overwrites the next holder's.
    async fn update(&self, job: &Job, expected: JobStatus) -> Result<(), RepositoryError>;
    /// The database's clock.
    async fn now(&self) -> Result<DateTime<Utc>, RepositoryError>;
    /// Claims the oldest `CREATED` job the request fits (kind, label): it becomes `RUNNING`,
    /// held by the worker until the database's clock passes now + lease. Safe across processes:
    /// a job is claimed by one worker only, and workers do not wait on each other's candidates.
    /// `None` when no fitting job waits.
    async fn claim_next(&self, request: &ClaimRequest) -> Result<Option<Job>, RepositoryError>;
    /// Renews `worker`'s lease on a running job for `lease` and records its progress, touching
    /// nothing else (a concurrent pause request or cancel is kept). `Conflict` when the job is
    /// no longer running under `worker`.
    async fn heartbeat(
        &self,
        id: JobId,
        worker: &str,
        progress: &Progress,
        lease: Duration,
    ) -> Result<HeartbeatReply, RepositoryError>;
    /// Marks a running job as asked to pause, touching nothing else. `Conflict` when it is not
    /// running.
    async fn request_pause(&self, id: JobId) -> Result<(), RepositoryError>;
    /// Running jobs whose lease has lapsed on the database's clock.
    async fn expired(&self) -> Result<Vec<Job>, RepositoryError>;
    /// Counts by kind and status, the oldest waiting job, running jobs per worker.
    async fn stats(&self) -> Result<QueueStats, RepositoryError>;
}
