//! Why a run did not complete.

use qbench_repository::RepositoryError;
use qbench_storage::StorageError;
use qbench_vector_store::VectorStoreError;

use crate::execution::Phase;

/// How an execution ended without results.
#[derive(Debug, thiserror::Error)]
pub enum ExecutionError {
    /// The run was cancelled (on request, or because its worker lost it).
    #[error("cancelled")]
    Cancelled,
    /// A phase failed; the message names the phase and the cause.
    #[error("{phase}: {cause}")]
    Failed {
        /// The phase that failed.
        phase: Phase,
        /// The cause, for the run's `error`.
        cause: String,
    },
}

impl ExecutionError {
    /// A failure of `phase` because of `cause`.
    pub fn failed(phase: Phase, cause: impl ToString) -> Self {
        Self::Failed { phase, cause: cause.to_string() }
    }
}

/// Attaches the phase to a port error.
pub(crate) trait InPhase<T> {
    /// The error, as a failure of `phase`.
    fn in_phase(self, phase: Phase) -> Result<T, ExecutionError>;
}

impl<T> InPhase<T> for Result<T, StorageError> {
    fn in_phase(self, phase: Phase) -> Result<T, ExecutionError> {
        self.map_err(|error| ExecutionError::failed(phase, error))
    }
}

impl<T> InPhase<T> for Result<T, VectorStoreError> {
    fn in_phase(self, phase: Phase) -> Result<T, ExecutionError> {
        self.map_err(|error| ExecutionError::failed(phase, error))
    }
}

impl<T> InPhase<T> for Result<T, RepositoryError> {
    fn in_phase(self, phase: Phase) -> Result<T, ExecutionError> {
        self.map_err(|error| ExecutionError::failed(phase, error))
    }
}
