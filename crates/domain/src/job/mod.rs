//! Jobs: durable units of work a worker claims under a lease, and the only legal ways their
//! status changes. A benchmark run is one kind of job ([`crate::Run`] wraps its job).

mod kind;
mod label;
mod noop;
mod progress;
mod status;

use chrono::{DateTime, Utc};

pub use kind::JobKind;
pub use label::WorkerLabel;
pub use noop::NoopPayload;
pub use progress::Progress;
pub use status::JobStatus;

use crate::JobId;

/// A status change the life cycle does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The status asked for cannot follow the current one.
    #[error("{noun} is {from} and cannot become {to}")]
    Status {
        /// `job` or `run`, as the caller knows it.
        noun: &'static str,
        /// The current status.
        from: JobStatus,
        /// The status asked for.
        to: JobStatus,
    },
    /// The kind cannot pause (or be handed back to the queue); the reason says why.
    #[error("{0}")]
    NotPausable(&'static str),
}

/// A job's stored state, for adapters that persist jobs and read them back.
#[derive(Clone, Debug, PartialEq)]
pub struct JobRecord {
    /// Identifier (a benchmark job shares its run's).
    pub id: JobId,
    /// What it does.
    pub kind: JobKind,
    /// The user who submitted it.
    pub owner: String,
    /// Status.
    pub status: JobStatus,
    /// Kind-specific input, read only by the kind's handler.
    pub payload: serde_json::Value,
    /// The worker label a worker must carry to take it.
    pub requires: Option<WorkerLabel>,
    /// Phase, units done and rate.
    pub progress: Progress,
    /// How many times a worker took it.
    pub attempts: u32,
    /// The worker holding it, or that last held it.
    pub claimed_by: Option<String>,
    /// Until when the worker's claim holds unless renewed, on the database's clock.
    pub lease_until: Option<DateTime<Utc>>,
    /// Whether a pause was asked of the running job.
    pub pause_requested: bool,
    /// What it produced, once completed.
    pub result: Option<serde_json::Value>,
    /// Why it failed.
    pub error: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When a worker first started it.
    pub start_time: Option<DateTime<Utc>>,
    /// When it ended.
    pub end_time: Option<DateTime<Utc>>,
}

/// A durable unit of work.
///
/// The status is private: it changes only through the methods below, which enforce the life
/// cycle ([`JobStatus::can_become`]) and the kind's abilities ([`JobKind::can_pause`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Job(JobRecord);

impl Job {
    /// A new `CREATED` job of `kind` submitted by `owner` at `now`.
    pub fn new(
        id: JobId,
        kind: JobKind,
        owner: impl Into<String>,
        payload: serde_json::Value,
        requires: Option<WorkerLabel>,
        now: DateTime<Utc>,
    ) -> Self {
        Self(JobRecord {
            id,
            kind,
            owner: owner.into(),
            status: JobStatus::Created,
            payload,
            requires,
            progress: Progress::queued(),
            attempts: 0,
            claimed_by: None,
            lease_until: None,
            pause_requested: false,
            result: None,
            error: None,
            created_at: now,
            updated_at: now,
            start_time: None,
            end_time: None,
        })
    }

    /// A job as it was stored.
    pub fn restore(record: JobRecord) -> Self {
        Self(record)
    }

    /// The job's state, for storing it.
    pub fn record(&self) -> &JobRecord {
        &self.0
    }

    /// Identifier.
    pub fn id(&self) -> JobId {
        self.0.id
    }
    /// What it does.
    pub fn kind(&self) -> JobKind {
        self.0.kind
    }
    /// The user who submitted it.
    pub fn owner(&self) -> &str {
        &self.0.owner
    }
    /// Status.
    pub fn status(&self) -> JobStatus {
        self.0.status
    }
    /// Kind-specific input.
    pub fn payload(&self) -> &serde_json::Value {
        &self.0.payload
    }
    /// The label a worker must carry to take it.
    pub fn requires(&self) -> Option<&WorkerLabel> {
        self.0.requires.as_ref()
    }
    /// Phase, units done and rate.
    pub fn progress(&self) -> &Progress {
        &self.0.progress
    }
    /// How many times a worker took it.
    pub fn attempts(&self) -> u32 {
        self.0.attempts
    }
    /// The worker holding it (or that last held it).
    pub fn claimed_by(&self) -> Option<&str> {
        self.0.claimed_by.as_deref()
    }
    /// Until when the worker's claim holds unless renewed.
    pub fn lease_until(&self) -> Option<DateTime<Utc>> {
        self.0.lease_until
    }
    /// Whether a pause was asked of the running job.
    pub fn pause_requested(&self) -> bool {
        self.0.pause_requested
    }
    /// What it produced, once completed.
    pub fn result(&self) -> Option<&serde_json::Value> {
        self.0.result.as_ref()
    }
    /// Why it failed.
    pub fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    /// When it was created.
    pub fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it last changed.
    pub fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// When a worker first started it.
    pub fn start_time(&self) -> Option<DateTime<Utc>> {
        self.0.start_time
    }
    /// When it ended.
    pub fn end_time(&self) -> Option<DateTime<Utc>> {
        self.0.end_time
    }

    /// Whether a running job's worker has stopped renewing its lease by `now` (the database's
    /// clock): it died or hangs.
    pub fn lease_expired(&self, now: DateTime<Utc>) -> bool {
        self.0.status == JobStatus::Running && self.0.lease_until.is_some_and(|until| until < now)
    }

    fn transition(&mut self, noun: &'static str, to: JobStatus, now: DateTime<Utc>) -> Result<(), TransitionError> {
        let from = self.0.status;
        if !from.can_become(to) {
            return Err(TransitionError::Status { noun, from, to });
        }
        self.0.status = to;
        self.0.updated_at = now;
        if to == JobStatus::Running && self.0.start_time.is_none() {
            self.0.start_time = Some(now);
        }
        if to != JobStatus::Running {
            self.0.lease_until = None;
            self.0.pause_requested = false;
        }
        if to.is_terminal() {
            self.0.end_time = Some(now);
        }
        Ok(())
    }

    /// `worker` takes the job, holding it until `lease_until` unless it renews the lease.
    pub fn claim(
        &mut self,
        worker: impl Into<String>,
        lease_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), TransitionError> {
        if self.0.status != JobStatus::Created {
            return Err(TransitionError::Status { noun: "job", from: self.0.status, to: JobStatus::Running });
        }
        self.transition("job", JobStatus::Running, now)?;
        self.0.claimed_by = Some(worker.into());
        self.0.lease_until = Some(lease_until);
        self.0.attempts = self.0.attempts.saturating_add(1);
        Ok(())
    }

    /// The worker is alive: its claim holds until `lease_until`.
    pub fn renew_lease(&mut self, lease_until: DateTime<Utc>, now: DateTime<Utc>) {
        if self.0.status == JobStatus::Running {
            self.0.lease_until = Some(lease_until);
            self.0.updated_at = now;
        }
    }

    /// Records progress of a job that has not ended; progress of an ended job is ignored.
    pub fn report_progress(&mut self, progress: Progress, now: DateTime<Utc>) {
        if !self.0.status.is_terminal() {
            self.0.progress = progress;
            self.0.updated_at = now;
        }
    }

    /// The job finished with `result`.
    pub fn complete(&mut self, result: serde_json::Value, now: DateTime<Utc>) -> Result<(), TransitionError> {
        self.complete_as("job", result, now)
    }

    pub(crate) fn complete_as(
        &mut self,
        noun: &'static str,
        result: serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<(), TransitionError> {
        self.transition(noun, JobStatus::Completed, now)?;
        self.0.result = Some(result);
        Ok(())
    }

    /// The job stopped because of `error`.
    pub fn fail(&mut self, error: impl Into<String>, now: DateTime<Utc>) -> Result<(), TransitionError> {
        self.fail_as("job", error, now)
    }

    pub(crate) fn fail_as(
        &mut self,
        noun: &'static str,
        error: impl Into<String>,
        now: DateTime<Utc>,
    ) -> Result<(), TransitionError> {
        self.transition(noun, JobStatus::Failed, now)?;
        self.0.error = Some(error.into());
        Ok(())
    }

    /// The job was cancelled on request.
    pub fn cancel(&mut self, now: DateTime<Utc>) -> Result<(), TransitionError> {
        self.cancel_as("job", now)
    }

    pub(crate) fn cancel_as(&mut self, noun: &'static str, now: DateTime<Utc>) -> Result<(), TransitionError> {
        self.transition(noun, JobStatus::Canceled, now)
    }

    /// A pause is asked: a waiting job pauses at once; a running one is marked, and its worker
    /// pauses it at the next safe point ([`Job::pause`]). `NotPausable` for a kind that cannot.
    pub fn request_pause(&mut self, now: DateTime<Utc>) -> Result<(), TransitionError> {
        if let Some(reason) = self.0.kind.why_not_pausable() {
            return Err(TransitionError::NotPausable(reason));
        }
        match self.0.status {
            JobStatus::Created => self.transition("job", JobStatus::Paused, now),
            JobStatus::Running => {
                self.0.pause_requested = true;
                self.0.updated_at = now;
                Ok(())
            }
            from @ (JobStatus::Paused | JobStatus::Completed | JobStatus::Failed | JobStatus::Canceled) => {
                Err(TransitionError::Status { noun: "job", from, to: JobStatus::Paused })
            }
        }
    }

    /// The worker stopped the running job at a safe point with `progress`; it keeps that
    /// progress until resumed.
    pub fn pause(&mut self, progress: Progress, now: DateTime<Utc>) -> Result<(), TransitionError> {
        if let Some(reason) = self.0.kind.why_not_pausable() {
            return Err(TransitionError::NotPausable(reason));
        }
        if self.0.status != JobStatus::Running {
            return Err(TransitionError::Status { noun: "job", from: self.0.status, to: JobStatus::Paused });
        }
        self.transition("job", JobStatus::Paused, now)?;
        self.0.progress = progress;
        Ok(())
    }

    /// A paused job goes back to the queue, to continue from its progress.
    pub fn resume(&mut self, now: DateTime<Utc>) -> Result<(), TransitionError> {
        if self.0.status != JobStatus::Paused {
            return Err(TransitionError::Status { noun: "job", from: self.0.status, to: JobStatus::Created });
        }
        self.transition("job", JobStatus::Created, now)
    }

    /// The job's worker was lost: a kind that can resume goes back to the queue with its
    /// progress; any other fails as `worker lost`, naming the worker.
    pub fn lose_worker(&mut self, now: DateTime<Utc>) -> Result<(), TransitionError> {
        self.lose_worker_as("job", now)
    }

    pub(crate) fn lose_worker_as(&mut self, noun: &'static str, now: DateTime<Utc>) -> Result<(), TransitionError> {
        if self.0.status != JobStatus::Running {
            return Err(TransitionError::Status { noun, from: self.0.status, to: JobStatus::Failed });
        }
        let worker = self.0.claimed_by.clone().unwrap_or_else(|| "unknown".to_owned());
        if self.0.kind.can_pause() {
            self.transition(noun, JobStatus::Created, now)
        } else {
            self.fail_as(noun, format!("worker lost: {worker} stopped renewing its lease"), now)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + seconds, 0).unwrap_or_default()
    }

    fn job(kind: JobKind) -> Job {
        Job::new(JobId::new(), kind, "ann@example.com", serde_json::json!({}), None, at(0))
    }

    #[test]
    fn a_benchmark_refuses_to_pause_with_the_reason() {
        let mut job = job(JobKind::Benchmark);
        let refused = job.request_pause(at(1)).unwrap_err();
        assert!(refused.to_string().contains("benchmark cannot pause"), "{refused}");
        assert_eq!(job.status(), JobStatus::Created);
    }

    #[test]
    fn a_waiting_job_pauses_at_once_and_a_running_one_at_its_next_safe_point() {
        let mut waiting = job(JobKind::Noop);
        waiting.request_pause(at(1)).unwrap();
        assert_eq!(waiting.status(), JobStatus::Paused);

        let mut running = job(JobKind::Noop);
        running.claim("w1", at(30), at(1)).unwrap();
        running.request_pause(at(2)).unwrap();
        assert_eq!(running.status(), JobStatus::Running);
        assert!(running.pause_requested());
        running.pause(Progress::at("steps", 7, Some(10)), at(3)).unwrap();
        assert_eq!(running.status(), JobStatus::Paused);
        assert!(!running.pause_requested());
        assert_eq!(running.lease_until(), None);
        running.resume(at(4)).unwrap();
        assert_eq!(running.status(), JobStatus::Created);
        assert_eq!(running.progress().done, 7, "a resumed job keeps its progress");
        running.claim("w2", at(40), at(5)).unwrap();
        assert_eq!(running.attempts(), 2);
        assert_eq!(running.start_time(), Some(at(1)), "the first start is kept");
    }

    #[test]
    fn a_lost_worker_fails_a_benchmark_naming_the_worker_and_requeues_a_resumable_job() {
        let mut benchmark = job(JobKind::Benchmark);
        benchmark.claim("host-a/42", at(30), at(0)).unwrap();
        assert!(!benchmark.lease_expired(at(30)));
        assert!(benchmark.lease_expired(at(31)));
        benchmark.lose_worker(at(31)).unwrap();
        assert_eq!(benchmark.status(), JobStatus::Failed);
        assert_eq!(benchmark.error(), Some("worker lost: host-a/42 stopped renewing its lease"));

        let mut noop = job(JobKind::Noop);
        noop.claim("host-a/42", at(30), at(0)).unwrap();
        noop.report_progress(Progress::at("steps", 3, Some(10)), at(10));
        noop.lose_worker(at(31)).unwrap();
        assert_eq!(noop.status(), JobStatus::Created);
        assert_eq!(noop.claimed_by(), Some("host-a/42"), "the last holder is kept");
        assert_eq!(noop.lease_until(), None);
        assert_eq!(noop.progress().done, 3);
    }

    #[test]
    fn an_ended_job_refuses_every_change_and_keeps_its_end() {
        let mut job = job(JobKind::Noop);
        job.claim("w1", at(30), at(1)).unwrap();
        job.complete(serde_json::json!({"ok": true}), at(2)).unwrap();
        assert!(job.cancel(at(3)).is_err());
        assert!(job.request_pause(at(3)).is_err());
        assert!(job.lose_worker(at(3)).is_err());
        assert!(job.claim("w2", at(30), at(3)).is_err());
        assert_eq!(job.end_time(), Some(at(2)));
        assert!(!job.lease_expired(at(100)));
    }
}
