//! Where a claimed run executes: in this process, or somewhere the worker only supervises.

use async_trait::async_trait;
use qbench_domain::Run;
use tokio_util::sync::CancellationToken;

use crate::execution::{ExecutionDependencies, ExecutionError, ProgressSink, RunOutcome, execute};

/// Executes one claimed run to its end; the worker around it keeps the lease, persists the
/// progress and records the outcome.
///
/// # Errors
/// MUST return `Cancelled` once `cancel` has fired and the execution stopped (within about a
/// second, whatever the phase), and `Failed` naming the phase and cause otherwise. An
/// implementation that executes elsewhere MUST turn the death of that execution (a crash, an
/// abort, an out-of-memory kill) into `Failed` rather than take the worker down with it.
#[async_trait]
pub trait RunExecutor: Send + Sync {
    /// Executes `run` for `worker`, reporting to `progress`.
    async fn execute(
        &self,
        run: &Run,
        worker: &str,
        progress: &ProgressSink,
        cancel: &CancellationToken,
    ) -> Result<RunOutcome, ExecutionError>;

    /// Whether a run that did not complete may have left its collection behind (an execution
    /// that was killed could not drop it), so the worker drops it.
    fn may_leave_collections(&self) -> bool {
        false
    }
}

/// Executes runs in the caller's process: for the CLI's `bench`, for tests, and inside the child
/// process that the isolated executor starts.
pub struct InProcessExecutor {
    dependencies: ExecutionDependencies,
}

impl InProcessExecutor {
    /// An executor over `dependencies`.
    pub fn new(dependencies: ExecutionDependencies) -> Self {
        Self { dependencies }
    }
}

#[async_trait]
impl RunExecutor for InProcessExecutor {
    async fn execute(
        &self,
        run: &Run,
        worker: &str,
        progress: &ProgressSink,
        cancel: &CancellationToken,
    ) -> Result<RunOutcome, ExecutionError> {
        execute(&self.dependencies, run, worker, progress, cancel).await
    }
}
