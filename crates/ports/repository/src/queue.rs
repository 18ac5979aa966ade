//! Waking the workers when a job is queued.

use async_trait::async_trait;
use qbench_domain::JobId;

/// Why a job could not be announced.
#[derive(Debug, thiserror::Error)]
#[error("job queue unavailable: {0}")]
pub struct QueueError(pub String);

/// Tells the executing side that a job is waiting.
///
/// The job is already stored as `CREATED` when this is called, so the database stays the source of
/// truth: a lost notification delays a job, it never loses one.
#[async_trait]
pub trait JobQueue: Send + Sync {
    /// Announces that `job` waits to be executed.
    async fn enqueue(&self, job: JobId) -> Result<(), QueueError>;
}
