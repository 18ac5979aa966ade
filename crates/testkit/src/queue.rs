//! A run queue that records what it is told, for tests of run creation.

use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use qbench_domain::RunId;
use qbench_repository::{QueueError, RunQueue};

/// A [`RunQueue`] that remembers every run id it accepted and can be told to refuse.
#[derive(Debug, Default)]
pub struct RecordingRunQueue {
    enqueued: Mutex<Vec<RunId>>,
    failure: Mutex<Option<String>>,
}

impl RecordingRunQueue {
    /// A queue that accepts everything.
    pub fn new() -> Self {
        Self::default()
    }

    /// The run ids accepted so far, in order.
    pub fn enqueued(&self) -> Vec<RunId> {
        self.enqueued.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Makes every later `enqueue` fail with `reason` (and record nothing).
    pub fn fail_with(&self, reason: impl Into<String>) {
        *self.failure.lock().unwrap_or_else(PoisonError::into_inner) = Some(reason.into());
    }

    /// Makes `enqueue` accept runs again.
    pub fn succeed(&self) {
        *self.failure.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

#[async_trait]
impl RunQueue for RecordingRunQueue {
    async fn enqueue(&self, run_id: RunId) -> Result<(), QueueError> {
        if let Some(reason) = self.failure.lock().unwrap_or_else(PoisonError::into_inner).clone() {
            return Err(QueueError(reason));
        }
        self.enqueued.lock().unwrap_or_else(PoisonError::into_inner).push(run_id);
        Ok(())
    }
}
