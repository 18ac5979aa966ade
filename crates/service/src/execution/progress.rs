//! Progress shared between the execution and the heartbeat that persists it.

use std::sync::{Arc, Mutex, PoisonError};

use qbench_domain::Progress;

use crate::execution::Phase;

/// Where an execution reports its phase and units done; cheap to clone.
#[derive(Debug, Clone)]
pub struct ProgressSink(Arc<Mutex<Progress>>);

impl Default for ProgressSink {
    fn default() -> Self {
        Self(Arc::new(Mutex::new(Progress::queued())))
    }
}

impl ProgressSink {
    /// Enters `phase` with `total` units (when known).
    pub fn enter(&self, phase: Phase, total: Option<u64>) {
        let mut progress = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *progress = Progress { phase: phase.as_str().to_owned(), done: 0, total };
    }

    /// Adds `units` done in the current phase.
    pub fn advance(&self, units: u64) {
        let mut progress = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        progress.done += units;
    }

    /// Replaces the progress with one reported from elsewhere (an execution in another process).
    pub fn set(&self, reported: Progress) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = reported;
    }

    /// The progress now.
    pub fn snapshot(&self) -> Progress {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}
