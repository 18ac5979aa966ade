//! Runs: one execution of an experiment, and the only legal ways its status changes.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::{DomainError, ExperimentId, RunId};

/// Where a run is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RunStatus {
    /// Stored and queued, not yet picked up.
    Created,
    /// Being executed by a worker.
    Running,
    /// Finished with metrics.
    Completed,
    /// Stopped by an error, recorded in `error`.
    Failed,
    /// Stopped on request.
    Canceled,
}

impl RunStatus {
    /// Every status, in life order.
    pub const ALL: [RunStatus; 5] = [Self::Created, Self::Running, Self::Completed, Self::Failed, Self::Canceled];

    /// The wire name (`CREATED`, `RUNNING`, `COMPLETED`, `FAILED`, `CANCELED`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "CREATED",
            Self::Running => "RUNNING",
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
            Self::Canceled => "CANCELED",
        }
    }

    /// Whether the run has ended and can no longer change.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Canceled)
    }

    /// Whether a run may move from `self` to `next`.
    pub fn can_become(self, next: RunStatus) -> bool {
        matches!(
            (self, next),
            (Self::Created, Self::Running | Self::Failed | Self::Canceled)
                | (Self::Running, Self::Completed | Self::Failed | Self::Canceled)
        )
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RunStatus {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|status| status.as_str().eq_ignore_ascii_case(s)).ok_or_else(|| {
            DomainError::invalid(
                "status",
                format!("unknown status `{s}`; expected one of CREATED, RUNNING, COMPLETED, FAILED, CANCELED"),
            )
        })
    }
}

/// A status change the life cycle does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("run is {from} and cannot become {to}")]
pub struct TransitionError {
    /// The run's current status.
    pub from: RunStatus,
    /// The status asked for.
    pub to: RunStatus,
}

/// How far a run has come: the phase and the units done of it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Progress {
    /// Phase name (`queued`, `prepare`, `upload`, `index`, `search`, …).
    pub phase: String,
    /// Units done in this phase.
    pub done: u64,
    /// Units in this phase, when known.
    pub total: Option<u64>,
}

impl Progress {
    /// The progress of a run that waits for a worker.
    pub fn queued() -> Self {
        Self { phase: "queued".to_owned(), done: 0, total: None }
    }
}

/// One execution of an experiment.
///
/// The status is private: it changes only through [`Run::start`], [`Run::complete`],
/// [`Run::fail`] and [`Run::cancel`], which enforce the life cycle.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    id: RunId,
    experiment_id: ExperimentId,
    owner: String,
    status: RunStatus,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    start_time: Option<DateTime<Utc>>,
    end_time: Option<DateTime<Utc>>,
    progress: Progress,
    metrics: Option<serde_json::Value>,
    error: Option<String>,
    claimed_by: Option<String>,
    lease_until: Option<DateTime<Utc>>,
}

/// A run's stored state, for adapters that persist runs and read them back.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    /// Identifier.
    pub id: RunId,
    /// The experiment run.
    pub experiment_id: ExperimentId,
    /// The user who started it.
    pub owner: String,
    /// Status.
    pub status: RunStatus,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When a worker started it.
    pub start_time: Option<DateTime<Utc>>,
    /// When it ended.
    pub end_time: Option<DateTime<Utc>>,
    /// Phase and units done.
    pub progress: Progress,
    /// Results, once completed.
    pub metrics: Option<serde_json::Value>,
    /// Why it failed.
    pub error: Option<String>,
    /// The worker executing it.
    pub claimed_by: Option<String>,
    /// Until when the worker's claim holds unless renewed.
    pub lease_until: Option<DateTime<Utc>>,
}

impl Run {
    /// A new run of `experiment_id` started by `owner`, `CREATED` at `now`.
    pub fn new(experiment_id: ExperimentId, owner: impl Into<String>, now: DateTime<Utc>) -> Self {
        Self {
            id: RunId::new(),
            experiment_id,
            owner: owner.into(),
            status: RunStatus::Created,
            created_at: now,
            updated_at: now,
            start_time: None,
            end_time: None,
            progress: Progress::queued(),
            metrics: None,
            error: None,
            claimed_by: None,
            lease_until: None,
        }
    }

    /// A run as it was stored.
    pub fn restore(record: RunRecord) -> Self {
        Self {
            id: record.id,
            experiment_id: record.experiment_id,
            owner: record.owner,
            status: record.status,
            created_at: record.created_at,
            updated_at: record.updated_at,
            start_time: record.start_time,
            end_time: record.end_time,
            progress: record.progress,
            metrics: record.metrics,
            error: record.error,
            claimed_by: record.claimed_by,
            lease_until: record.lease_until,
        }
    }

    /// The run's state, for storing it.
    pub fn to_record(&self) -> RunRecord {
        RunRecord {
            id: self.id,
            experiment_id: self.experiment_id,
            owner: self.owner.clone(),
            status: self.status,
            created_at: self.created_at,
            updated_at: self.updated_at,
            start_time: self.start_time,
            end_time: self.end_time,
            progress: self.progress.clone(),
            metrics: self.metrics.clone(),
            error: self.error.clone(),
            claimed_by: self.claimed_by.clone(),
            lease_until: self.lease_until,
        }
    }

    /// Identifier.
    pub fn id(&self) -> RunId {
        self.id
    }
    /// The experiment run.
    pub fn experiment_id(&self) -> ExperimentId {
        self.experiment_id
    }
    /// The user who started it; only they and admins see it.
    pub fn owner(&self) -> &str {
        &self.owner
    }
    /// Status.
    pub fn status(&self) -> RunStatus {
        self.status
    }
    /// When it was created.
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    /// When it last changed.
    pub fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }
    /// When a worker started it.
    pub fn start_time(&self) -> Option<DateTime<Utc>> {
        self.start_time
    }
    /// When it ended.
    pub fn end_time(&self) -> Option<DateTime<Utc>> {
        self.end_time
    }
    /// Phase and units done.
    pub fn progress(&self) -> &Progress {
        &self.progress
    }
    /// Results, once completed.
    pub fn metrics(&self) -> Option<&serde_json::Value> {
        self.metrics.as_ref()
    }
    /// Why it failed.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }
    /// The worker executing it.
    pub fn claimed_by(&self) -> Option<&str> {
        self.claimed_by.as_deref()
    }
    /// Until when the worker's claim holds unless renewed.
    pub fn lease_until(&self) -> Option<DateTime<Utc>> {
        self.lease_until
    }

    /// Whether a running run's worker has stopped renewing its lease by `now` (it died or hangs).
    pub fn lease_expired(&self, now: DateTime<Utc>) -> bool {
        self.status == RunStatus::Running && self.lease_until.is_some_and(|until| until < now)
    }

    fn transition(&mut self, to: RunStatus, now: DateTime<Utc>) -> Result<(), TransitionError> {
        if !self.status.can_become(to) {
            return Err(TransitionError { from: self.status, to });
        }
        self.status = to;
        self.updated_at = now;
        if to == RunStatus::Running {
            self.start_time = Some(now);
        }
        if to.is_terminal() {
            self.end_time = Some(now);
        }
        Ok(())
    }

    /// `worker` picked the run up, holding it until `lease_until` unless it renews the lease.
    pub fn claim(
        &mut self,
        worker: impl Into<String>,
        lease_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), TransitionError> {
        self.transition(RunStatus::Running, now)?;
        self.claimed_by = Some(worker.into());
        self.lease_until = Some(lease_until);
        Ok(())
    }

    /// The worker is alive: its claim holds until `lease_until`.
    pub fn renew_lease(&mut self, lease_until: DateTime<Utc>, now: DateTime<Utc>) {
        if self.status == RunStatus::Running {
            self.lease_until = Some(lease_until);
            self.updated_at = now;
        }
    }

    /// The run finished with `metrics`.
    pub fn complete(&mut self, metrics: serde_json::Value, now: DateTime<Utc>) -> Result<(), TransitionError> {
        self.transition(RunStatus::Completed, now)?;
        self.metrics = Some(metrics);
        Ok(())
    }

    /// The run stopped because of `error`.
    pub fn fail(&mut self, error: impl Into<String>, now: DateTime<Utc>) -> Result<(), TransitionError> {
        self.transition(RunStatus::Failed, now)?;
        self.error = Some(error.into());
        Ok(())
    }

    /// The run was cancelled on request.
    pub fn cancel(&mut self, now: DateTime<Utc>) -> Result<(), TransitionError> {
        self.transition(RunStatus::Canceled, now)
    }

    /// Records progress of a running run; progress of an ended run is ignored.
    pub fn report_progress(&mut self, progress: Progress, now: DateTime<Utc>) {
        if !self.status.is_terminal() {
            self.progress = progress;
            self.updated_at = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + seconds, 0).unwrap_or_default()
    }

    #[test]
    fn only_the_life_cycle_transitions_are_allowed() {
        use RunStatus::*;
        let allowed = [
            (Created, Running),
            (Created, Failed),
            (Created, Canceled),
            (Running, Completed),
            (Running, Failed),
            (Running, Canceled),
        ];
        for from in RunStatus::ALL {
            for to in RunStatus::ALL {
                assert_eq!(from.can_become(to), allowed.contains(&(from, to)), "{from} -> {to}");
            }
        }
    }

    #[test]
    fn a_completed_run_keeps_its_times_and_metrics_and_refuses_cancel() {
        let mut run = Run::new(ExperimentId::new(), "ann@example.com", at(0));
        run.claim("worker-1", at(61), at(1)).unwrap();
        run.complete(serde_json::json!({"f1": 0.9}), at(5)).unwrap();
        assert_eq!(run.start_time(), Some(at(1)));
        assert_eq!(run.end_time(), Some(at(5)));
        assert_eq!(run.cancel(at(6)), Err(TransitionError { from: RunStatus::Completed, to: RunStatus::Canceled }));
        assert_eq!(run.status(), RunStatus::Completed);
        assert_eq!(run.end_time(), Some(at(5)));
    }

    #[test]
    fn a_run_keeps_its_owner_through_its_life_and_its_record() {
        let mut run = Run::new(ExperimentId::new(), "ann@example.com", at(0));
        run.claim("worker-1", at(30), at(1)).unwrap();
        run.cancel(at(2)).unwrap();
        assert_eq!(run.owner(), "ann@example.com");
        let restored = Run::restore(run.to_record());
        assert_eq!(restored, run);
        assert_eq!(restored.owner(), "ann@example.com");
    }

    #[test]
    fn a_claimed_run_is_lost_once_its_lease_lapses() {
        let mut run = Run::new(ExperimentId::new(), "ann@example.com", at(0));
        run.claim("worker-1", at(30), at(0)).unwrap();
        assert_eq!(run.claimed_by(), Some("worker-1"));
        assert!(!run.lease_expired(at(30)));
        assert!(run.lease_expired(at(31)));
        run.renew_lease(at(60), at(29));
        assert!(!run.lease_expired(at(31)));
        run.fail("worker lost", at(61)).unwrap();
        assert!(!run.lease_expired(at(100)), "an ended run has no lease to lose");
    }

    #[test]
    fn statuses_use_the_exact_wire_strings() {
        let wire: Vec<String> = RunStatus::ALL.iter().map(|s| serde_json::to_string(s).unwrap()).collect();
        assert_eq!(wire, ["\"CREATED\"", "\"RUNNING\"", "\"COMPLETED\"", "\"FAILED\"", "\"CANCELED\""]);
        assert_eq!("canceled".parse::<RunStatus>(), Ok(RunStatus::Canceled));
        assert!("DONE".parse::<RunStatus>().is_err());
    }
}
