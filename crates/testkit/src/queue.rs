//! A job queue that records what it is told, for tests of job and run creation.

use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use qbench_domain::JobId;
use qbench_repository::{JobQueue, QueueError};

/// A [`JobQueue`] that remembers every run id it accepted and can be told to refuse.
#[derive(Debug, Default)]
pub struct RecordingJobQueue {
    enqueued: Mutex<Vec<JobId>>,
    failure: Mutex<Option<String>>,
}

impl RecordingJobQueue {
    /// A queue that accepts everything.
    pub fn new() -> Self {
        Self::default()
    }

    /// The job ids accepted so far, in order.
    pub fn enqueued(&self) -> Vec<JobId> {
        self.enqueued.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Makes every later `enqueue` fail with `reason` (and record nothing).
    pub fn fail_with(&self, reason: impl Into<String>) {
        *self.failure.lock().unwrap_or_else(PoisonError::into_inner) = Some(reason.into());
    }

    /// Makes `enqueue` accept jobs again.
    pub fn succeed(&self) {
        *self.failure.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

#[async_trait]
impl JobQueue for RecordingJobQueue {
    async fn enqueue(&self, job: JobId) -> Result<(), QueueError> {
        if let Some(reason) = self.failure.lock().unwrap_or_else(PoisonError::into_inner).clone() {
            return Err(QueueError(reason));
        }
        self.enqueued.lock().unwrap_or_else(PoisonError::into_inner).push(job);
        Ok(())
    }
}
