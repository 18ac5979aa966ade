//! Progress shared between an execution and the heartbeat that persists it.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
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

/// A phase entered, as the run's log records it.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// The phase.
    pub phase: String,
    /// Its units, when known.
    pub total: Option<u64>,
}

/// Where an execution reports its phase and units done; cheap to clone.
#[derive(Debug, Clone)]
pub struct ProgressSink {
    current: Arc<Mutex<Current>>,
    /// Every phase entered here, in order, for the run's log.
    history: Arc<Mutex<Vec<PhaseEntry>>>,
}

impl Default for ProgressSink {
    fn default() -> Self {
        Self::starting_at(Progress::queued())
    }
}

impl ProgressSink {
    /// A sink holding `progress` (a resumed job's stored progress).
    pub fn starting_at(progress: Progress) -> Self {
        Self { current: Arc::new(Mutex::new(Current { progress, since: None, base: 0 })), history: Arc::default() }
    }

    fn current(&self) -> std::sync::MutexGuard<'_, Current> {
        self.current.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every phase entered here (not progress reported from elsewhere), in order.
    pub fn history(&self) -> Vec<PhaseEntry> {
        self.history.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Enters `phase` with `total` units (when known).
    pub fn enter(&self, phase: impl AsRef<str>, total: Option<u64>) {
        self.enter_at(phase, 0, total);
    }

    /// Enters `phase` with `done` of `total` units already done (a resumed job's); the rate counts
    /// only what is done from here.
    pub fn enter_at(&self, phase: impl AsRef<str>, done: u64, total: Option<u64>) {
        let entry = PhaseEntry { at: Utc::now(), phase: phase.as_ref().to_owned(), total };
        self.history.lock().unwrap_or_else(PoisonError::into_inner).push(entry);
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

    #[test]
    fn every_phase_entered_is_kept_in_order_for_the_log() {
        let sink = ProgressSink::default();
        sink.enter("prepare", None);
        sink.enter("upload", Some(100));
        sink.set(Progress::at("elsewhere", 1, None));
        let phases: Vec<(String, Option<u64>)> =
            sink.history().into_iter().map(|entry| (entry.phase, entry.total)).collect();
        assert_eq!(phases, [("prepare".to_owned(), None), ("upload".to_owned(), Some(100))]);
    }
}
