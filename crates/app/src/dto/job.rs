//! Jobs on the wire.

use apistos::ApiComponent;
use chrono::{DateTime, Utc};
use qbench_domain::{Job, JobKind, JobStatus, NoopPayload};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::dto::run::ProgressBody;

/// A job's status, with these exact strings on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum JobStatusBody {
    /// Queued.
    Created,
    /// Held by a worker.
    Running,
    /// Stopped at a safe point; resume to continue.
    Paused,
    /// Finished with a result.
    Completed,
    /// Stopped by an error.
    Failed,
    /// Stopped on request.
    Canceled,
}

impl From<JobStatus> for JobStatusBody {
    fn from(status: JobStatus) -> Self {
        match status {
            JobStatus::Created => Self::Created,
            JobStatus::Running => Self::Running,
            JobStatus::Paused => Self::Paused,
            JobStatus::Completed => Self::Completed,
            JobStatus::Failed => Self::Failed,
            JobStatus::Canceled => Self::Canceled,
        }
    }
}

impl From<JobStatusBody> for JobStatus {
    fn from(status: JobStatusBody) -> Self {
        match status {
            JobStatusBody::Created => Self::Created,
            JobStatusBody::Running => Self::Running,
            JobStatusBody::Paused => Self::Paused,
            JobStatusBody::Completed => Self::Completed,
            JobStatusBody::Failed => Self::Failed,
            JobStatusBody::Canceled => Self::Canceled,
        }
    }
}

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum JobKindBody {
    /// A benchmark run (also listed under `/runs`).
    Benchmark,
    /// Steps that do nothing: a probe of the queue.
    Noop,
    /// A tuning study (also listed under `/studies`).
    Study,
    /// A report being rendered (also read at `/reports/{id}`).
    Report,
    /// A collection being archived (its snapshot is read at `/snapshots/{id}`).
    Snapshot,
    /// A snapshot being restored into a collection.
    Restore,
    /// A dataset being loaded into a collection (read at `/backfills/{id}`).
    Backfill,
}

impl From<JobKind> for JobKindBody {
    fn from(kind: JobKind) -> Self {
        match kind {
            JobKind::Benchmark => Self::Benchmark,
            JobKind::Noop => Self::Noop,
            JobKind::Study => Self::Study,
            JobKind::Report => Self::Report,
            JobKind::Snapshot => Self::Snapshot,
            JobKind::Restore => Self::Restore,
            JobKind::Backfill => Self::Backfill,
        }
    }
}

impl From<JobKindBody> for JobKind {
    fn from(kind: JobKindBody) -> Self {
        match kind {
            JobKindBody::Benchmark => Self::Benchmark,
            JobKindBody::Noop => Self::Noop,
            JobKindBody::Study => Self::Study,
            JobKindBody::Report => Self::Report,
            JobKindBody::Snapshot => Self::Snapshot,
            JobKindBody::Restore => Self::Restore,
            JobKindBody::Backfill => Self::Backfill,
        }
    }
}

/// A job.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
pub struct JobResponse {
    /// Identifier (a benchmark job's is its run's).
    pub id: Uuid,
    /// What it does.
    pub kind: JobKindBody,
    /// The user who submitted it.
    pub owner: String,
    /// Where it is in its life.
    pub status: JobStatusBody,
    /// The worker label a worker must carry to take it.
    pub requires: Option<String>,
    /// Phase, units done and rate.
    pub progress: ProgressBody,
    /// How many times a worker took it.
    pub attempts: u32,
    /// The worker holding it, or that last held it.
    pub claimed_by: Option<String>,
    /// Until when the worker's claim holds unless renewed (the database's clock).
    pub lease_until: Option<DateTime<Utc>>,
    /// Whether a pause was asked and the worker has not reached a safe point yet.
    pub pause_requested: bool,
    /// What it produced, once completed.
    pub result: Option<serde_json::Value>,
    /// Why it failed.
    pub error: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When a worker first started it.
    pub start_time: Option<DateTime<Utc>>,
    /// When it ended.
    pub end_time: Option<DateTime<Utc>>,
    /// Where to follow it and what can be done to it now.
    pub links: JobLinks,
}

/// A job's links: itself, the resource it works on, and the commands its status allows.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
pub struct JobLinks {
    /// This job (`/api/v1/jobs/{id}`).
    #[serde(rename = "self")]
    pub this: String,
    /// What it works on, in its own terms: the run, study, report, backfill or snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// `POST` here cancels it (while it has not ended).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel: Option<String>,
    /// `POST` here pauses it (a kind that can pause, not ended or paused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause: Option<String>,
    /// `POST` here resumes it (while paused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<String>,
}

impl JobLinks {
    fn of(job: &Job) -> Self {
        let this = format!("/api/v1/jobs/{}", job.id());
        let id = job.id();
        let snapshot =
            || job.payload().get("snapshot_id").and_then(|id| id.as_str()).map(|id| format!("/api/v1/snapshots/{id}"));
        let resource = match job.kind() {
            JobKind::Benchmark => Some(format!("/api/v1/runs/{id}")),
            JobKind::Study => Some(format!("/api/v1/studies/{id}")),
            JobKind::Report => Some(format!("/api/v1/reports/{id}")),
            JobKind::Backfill => Some(format!("/api/v1/backfills/{id}")),
            JobKind::Snapshot | JobKind::Restore => snapshot(),
            JobKind::Noop => None,
        };
        let status = job.status();
        let ended = status.is_terminal();
        let pausable = job.kind().can_pause() && matches!(status, JobStatus::Created | JobStatus::Running);
        Self {
            cancel: (!ended).then(|| format!("{this}/cancel")),
            pause: pausable.then(|| format!("{this}/pause")),
            resume: (status == JobStatus::Paused).then(|| format!("{this}/resume")),
            resource,
            this,
        }
    }
}

impl From<&Job> for JobResponse {
    fn from(job: &Job) -> Self {
        Self {
            id: job.id().as_uuid(),
            kind: job.kind().into(),
            owner: job.owner().to_owned(),
            status: job.status().into(),
            requires: job.requires().map(ToString::to_string),
            progress: ProgressBody::from(job.progress()),
            attempts: job.attempts(),
            claimed_by: job.claimed_by().map(str::to_owned),
            lease_until: job.lease_until(),
            pause_requested: job.pause_requested(),
            result: job.result().cloned(),
            error: job.error().map(str::to_owned),
            created_at: job.created_at(),
            updated_at: job.updated_at(),
            start_time: job.start_time(),
            end_time: job.end_time(),
            links: JobLinks::of(job),
        }
    }
}

/// A `noop` job to queue: `steps` steps of `step_ms` milliseconds, each a safe point.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
#[serde(deny_unknown_fields)]
#[schemars(example = "NoopJobRequest::example")]
pub struct NoopJobRequest {
    /// Steps to take: 0 to 1000000.
    #[serde(default)]
    #[schemars(range(max = "NoopPayload::MAX_STEPS"))]
    pub steps: u64,
    /// Milliseconds per step: 0 to 60000.
    #[serde(default)]
    #[schemars(range(max = "NoopPayload::MAX_STEP_MS"))]
    pub step_ms: u64,
    /// A worker label the executing worker must carry.
    #[schemars(length(min = 1, max = 63), regex(pattern = r"^[a-z][a-z0-9-]*$"))]
    pub requires: Option<String>,
}

impl NoopJobRequest {
    fn example() -> Self {
        Self { steps: 100, step_ms: 50, requires: None }
    }
}
