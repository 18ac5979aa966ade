//! Progress shared between an execution and the heartbeat that persists it.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use qbench_domain::Progress;

/// How long a phase must have run before its rate is reported: shorter spans say nothing.
const RATE_AFTER: Duration = Duration::from_millis(500);

#[derive(Debug)]
struct Current {
    progress: Progress,
    /// When the phase was entered here; `None` for progress reported from elsewhere.
    since: Option<Instant>,
    /// Units done when the phase was entered here (a resumed job starts past zero).
    base: u64,
}

/// Where an execution reports its phase and units done; cheap to clone.
#[derive(Debug, Clone)]
pub struct ProgressSink(Arc<Mutex<Current>>);

impl Default for ProgressSink {
    fn default() -> Self {
        Self::starting_at(Progress::queued())
    }
}

impl ProgressSink {
    /// A sink holding `progress` (a resumed job's stored progress).
    pub fn starting_at(progress: Progress) -> Self {
        Self(Arc::new(Mutex::new(Current { progress, since: None, base: 0 })))
    }

    fn current(&self) -> std::sync::MutexGuard<'_, Current> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Enters `phase` with `total` units (when known).
    pub fn enter(&self, phase: impl AsRef<str>, total: Option<u64>) {
        self.enter_at(phase, 0, total);
    }

    /// Enters `phase` with `done` of `total` units already done (a resumed job's); the rate counts
    /// only what is done from here.
    pub fn enter_at(&self, phase: impl AsRef<str>, done: u64, total: Option<u64>) {
        *self.current() =
            Current { progress: Progress::at(phase.as_ref(), done, total), since: Some(Instant::now()), base: done };
    }

    /// Adds `units` done in the current phase.
    pub fn advance(&self, units: u64) {
        self.current().progress.done += units;
    }

    /// Replaces the progress with one reported from elsewhere (an execution in another process).
    pub fn set(&self, reported: Progress) {
        *self.current() = Current { progress: reported, since: None, base: 0 };
    }

    /// The progress now, with the rate of the current phase once it has run long enough.
    pub fn snapshot(&self) -> Progress {
        let current = self.current();
        let mut progress = current.progress.clone();
        if let Some(since) = current.since {
            let elapsed = since.elapsed();
            if elapsed >= RATE_AFTER {
                progress.rate = Some(progress.done.saturating_sub(current.base) as f64 / elapsed.as_secs_f64());
            }
        }
        progress
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phase_reports_no_rate_until_it_has_run_long_enough() {
        let sink = ProgressSink::default();
        sink.enter("upload", Some(100));
        sink.advance(10);
        let progress = sink.snapshot();
        assert_eq!((progress.phase.as_str(), progress.done, progress.total), ("upload", 10, Some(100)));
        assert_eq!(progress.rate, None);
    }
}
