//! What a job kind plugs into the worker: one handler per kind.

use async_trait::async_trait;
use qbench_domain::{Job, JobKind};
use tokio_util::sync::CancellationToken;

use crate::execution::{ExecutionError, ProgressSink};

/// What a handler is given to execute one claimed job.
#[derive(Debug, Clone)]
pub struct JobContext {
    /// The worker holding the job.
    pub worker: String,
    /// Where the handler reports progress; the heartbeat persists it. It starts at the job's
    /// stored progress, so a resumed job knows where it stopped.
    pub progress: ProgressSink,
    /// Fires when the job is cancelled, lost, or the worker shuts down: stop as soon as possible.
    pub cancel: CancellationToken,
    /// Fires when a pause was asked: a kind that can pause stops at its next safe point and
    /// answers [`JobOutcome::Paused`]; other kinds never see it fire.
    pub pause: CancellationToken,
}

/// How a job's execution ended well.
#[derive(Debug, Clone, PartialEq)]
pub enum JobOutcome {
    /// Done, with the job's result.
    Completed(serde_json::Value),
    /// Stopped at a safe point after a pause request; the progress reported so far is kept.
    Paused,
}

/// How a job's execution ended badly.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Stopped because `cancel` fired.
    #[error("cancelled")]
    Cancelled,
    /// Failed; the message names the cause (and the phase, where there are phases).
    #[error("{0}")]
    Failed(String),
}

impl From<ExecutionError> for JobError {
    fn from(error: ExecutionError) -> Self {
        match error {
            ExecutionError::Cancelled => Self::Cancelled,
            failed @ ExecutionError::Failed { .. } => Self::Failed(failed.to_string()),
        }
    }
}

/// Executes the jobs of one kind. Claiming, leasing, heartbeat, cancel and pause are the
/// worker's; a handler only does the work.
///
/// # Errors
/// `execute` MUST return `Cancelled` soon after `cancel` fires, and `Failed` naming the cause
/// otherwise. A panic is caught by the worker and fails the job.
#[async_trait]
pub trait JobHandler: Send + Sync {
    /// The kind handled.
    fn kind(&self) -> JobKind;

    /// Executes `job` to its end (or to a safe point, when paused).
    async fn execute(&self, job: &Job, context: &JobContext) -> Result<JobOutcome, JobError>;

    /// Cleans up after a job whose worker was lost (found by another worker's sweep, or by the
    /// same worker at start-up). Best effort: the job has already ended or gone back to the queue.
    async fn after_lost(&self, _job: &Job) {}

    /// Cleans up what jobs of this kind lost on this machine left behind, once when the worker
    /// starts. Best effort.
    async fn clean_up_at_start(&self) {}
}
