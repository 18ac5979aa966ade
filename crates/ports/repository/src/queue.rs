//! Handing runs to the engine that executes them.

use async_trait::async_trait;
use qbench_domain::RunId;

/// Why a run could not be queued.
#[derive(Debug, thiserror::Error)]
#[error("run queue unavailable: {0}")]
pub struct QueueError(pub String);

/// Tells the executing side that a run is waiting.
///
/// The run is already stored as `CREATED` when this is called, so the database stays the source of
/// truth: a lost notification delays a run, it never loses one.
#[async_trait]
pub trait RunQueue: Send + Sync {
    /// Announces that `run_id` waits to be executed.
    async fn enqueue(&self, run_id: RunId) -> Result<(), QueueError>;
}
