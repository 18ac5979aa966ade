//! Runs: one execution of an experiment, and the only legal ways its status changes.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::{
    DomainError, Experiment, ExperimentId, ExperimentSpec, Job, JobId, JobKind, JobStatus, Progress, RunId,
    TransitionError, WorkerLabel,
};

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

impl From<RunStatus> for JobStatus {
    fn from(status: RunStatus) -> Self {
        match status {
            RunStatus::Created => JobStatus::Created,
            RunStatus::Running => JobStatus::Running,
            RunStatus::Completed => JobStatus::Completed,
            RunStatus::Failed => JobStatus::Failed,
            RunStatus::Canceled => JobStatus::Canceled,
        }
    }
}

impl RunStatus {
    /// The run status of a benchmark job's status. A benchmark never pauses (its kind refuses),
    /// so `PAUSED` reads as still running.
    pub fn of_job(status: JobStatus) -> Self {
        match status {
            JobStatus::Created => Self::Created,
            JobStatus::Running | JobStatus::Paused => Self::Running,
            JobStatus::Completed => Self::Completed,
            JobStatus::Failed => Self::Failed,
            JobStatus::Canceled => Self::Canceled,
        }
    }
}

/// What a benchmark job carries besides its run: the experiment it measures, and that
/// experiment's settings as they were when the run was triggered.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BenchmarkPayload {
    /// The experiment run.
    pub experiment_id: ExperimentId,
    /// The settings run; `None` for runs stored before runs kept them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<ExperimentSpec>,
    /// The study this run is a trial of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub study_id: Option<JobId>,
}

/// One execution of an experiment: a [`Job`] of kind `benchmark` with the experiment it measures.
///
/// The status is private: it changes only through [`Run::claim`], [`Run::complete`],
/// [`Run::fail`] and [`Run::cancel`] (and the job's own methods), which enforce the life cycle.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    experiment_id: ExperimentId,
    settings: Option<ExperimentSpec>,
    study_id: Option<JobId>,
    job: Job,
}

impl Run {
    /// A new run of `experiment_id` started by `owner`, `CREATED` at `now`.
    pub fn new(experiment_id: ExperimentId, owner: impl Into<String>, now: DateTime<Utc>) -> Self {
        Self::requiring(experiment_id, owner, None, now)
    }

    /// A new run that only a worker carrying `requires` may execute (without a copy of the
    /// experiment's settings: [`Run::of`] keeps one).
    pub fn requiring(
        experiment_id: ExperimentId,
        owner: impl Into<String>,
        requires: Option<WorkerLabel>,
        now: DateTime<Utc>,
    ) -> Self {
        Self::with_payload(BenchmarkPayload { experiment_id, settings: None, study_id: None }, owner, requires, now)
    }

    /// A new run of `experiment` that keeps a copy of its settings: editing the experiment later
    /// never changes what this run executes or reports.
    pub fn of(
        experiment: &Experiment,
        owner: impl Into<String>,
        requires: Option<WorkerLabel>,
        now: DateTime<Utc>,
    ) -> Self {
        let payload =
            BenchmarkPayload { experiment_id: experiment.id, settings: Some(experiment.spec.clone()), study_id: None };
        Self::with_payload(payload, owner, requires, now)
    }

    /// A trial of study `study_id`: a run of `experiment` that keeps its settings.
    pub fn trial(experiment: &Experiment, study_id: JobId, owner: impl Into<String>, now: DateTime<Utc>) -> Self {
        let payload = BenchmarkPayload {
            experiment_id: experiment.id,
            settings: Some(experiment.spec.clone()),
            study_id: Some(study_id),
        };
        Self::with_payload(payload, owner, None, now)
    }

    fn with_payload(
        payload: BenchmarkPayload,
        owner: impl Into<String>,
        requires: Option<WorkerLabel>,
        now: DateTime<Utc>,
    ) -> Self {
        let (experiment_id, settings, study_id) = (payload.experiment_id, payload.settings.clone(), payload.study_id);
        let payload = serde_json::to_value(payload).unwrap_or_default();
        let job = Job::new(JobId::from(RunId::new().as_uuid()), JobKind::Benchmark, owner, payload, requires, now);
        Self { experiment_id, settings, study_id, job }
    }

    /// The run of a stored benchmark `job` of `experiment_id`; `Invalid` for another kind.
    pub fn from_job(experiment_id: ExperimentId, job: Job) -> Result<Self, DomainError> {
        if job.kind() != JobKind::Benchmark {
            return Err(DomainError::invalid("kind", format!("job {} is a {} job, not a run", job.id(), job.kind())));
        }
        // A payload without settings (a run stored before runs kept them) reads as `None`.
        let payload = serde_json::from_value::<BenchmarkPayload>(job.payload().clone()).ok();
        let study_id = payload.as_ref().and_then(|payload| payload.study_id);
        let settings = payload.and_then(|payload| payload.settings);
        Ok(Self { experiment_id, settings, study_id, job })
    }

    /// The study this run is a trial of, if any.
    pub fn study_id(&self) -> Option<JobId> {
        self.study_id
    }

    /// The experiment's settings as they were when the run was triggered; `None` for runs stored
    /// before runs kept them (they execute the experiment as it is now).
    pub fn settings(&self) -> Option<&ExperimentSpec> {
        self.settings.as_ref()
    }

    /// The job behind the run.
    pub fn job(&self) -> &Job {
        &self.job
    }

    /// The job behind the run, for the worker that executes it.
    pub fn into_job(self) -> Job {
        self.job
    }

    /// Identifier.
    pub fn id(&self) -> RunId {
        RunId::from(self.job.id().as_uuid())
    }
    /// The experiment run.
    pub fn experiment_id(&self) -> ExperimentId {
        self.experiment_id
    }
    /// The user who started it; only they and admins see it.
    pub fn owner(&self) -> &str {
        self.job.owner()
    }
    /// Status.
    pub fn status(&self) -> RunStatus {
        RunStatus::of_job(self.job.status())
    }
    /// When it was created.
    pub fn created_at(&self) -> DateTime<Utc> {
        self.job.created_at()
    }
    /// When it last changed.
    pub fn updated_at(&self) -> DateTime<Utc> {
        self.job.updated_at()
    }
    /// When a worker started it.
    pub fn start_time(&self) -> Option<DateTime<Utc>> {
        self.job.start_time()
    }
    /// When it ended.
    pub fn end_time(&self) -> Option<DateTime<Utc>> {
        self.job.end_time()
    }
    /// Phase and units done.
    pub fn progress(&self) -> &Progress {
        self.job.progress()
    }
    /// Results, once completed.
    pub fn metrics(&self) -> Option<&serde_json::Value> {
        self.job.result()
    }
    /// Its results as the typed report; `None` before it completed, or for a stored document
    /// that is not a report.
    pub fn report(&self) -> Option<crate::report::RunReport> {
        self.metrics().and_then(|metrics| serde_json::from_value(metrics.clone()).ok())
    }
    /// Why it failed.
    pub fn error(&self) -> Option<&str> {
        self.job.error()
    }
    /// The worker executing it.
    pub fn claimed_by(&self) -> Option<&str> {
        self.job.claimed_by()
    }
    /// Until when the worker's claim holds unless renewed.
    pub fn lease_until(&self) -> Option<DateTime<Utc>> {
        self.job.lease_until()
    }

    /// Whether a running run's worker has stopped renewing its lease by `now` (it died or hangs).
    pub fn lease_expired(&self, now: DateTime<Utc>) -> bool {
        self.job.lease_expired(now)
    }

    /// `worker` picked the run up, holding it until `lease_until` unless it renews the lease.
    pub fn claim(
        &mut self,
        worker: impl Into<String>,
        lease_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), TransitionError> {
        self.job.claim(worker, lease_until, now)
    }

    /// The worker is alive: its claim holds until `lease_until`.
    pub fn renew_lease(&mut self, lease_until: DateTime<Utc>, now: DateTime<Utc>) {
        self.job.renew_lease(lease_until, now);
    }

    /// The run finished with `metrics`.
    pub fn complete(&mut self, metrics: serde_json::Value, now: DateTime<Utc>) -> Result<(), TransitionError> {
        self.job.complete_as("run", metrics, now)
    }

    /// The run stopped because of `error`.
    pub fn fail(&mut self, error: impl Into<String>, now: DateTime<Utc>) -> Result<(), TransitionError> {
        self.job.fail_as("run", error, now)
    }

    /// The run was cancelled on request.
    pub fn cancel(&mut self, now: DateTime<Utc>) -> Result<(), TransitionError> {
        self.job.cancel_as("run", now)
    }

    /// Its worker was lost: a run cannot resume, so it fails as `worker lost`, naming the worker.
    pub fn lose_worker(&mut self, now: DateTime<Utc>) -> Result<(), TransitionError> {
        self.job.lose_worker_as("run", now)
    }

    /// Records progress of a running run; progress of an ended run is ignored.
    pub fn report_progress(&mut self, progress: Progress, now: DateTime<Utc>) {
        self.job.report_progress(progress, now);
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
        let refused = run.cancel(at(6)).unwrap_err();
        assert_eq!(refused.to_string(), "run is COMPLETED and cannot become CANCELED");
        assert_eq!(run.status(), RunStatus::Completed);
        assert_eq!(run.end_time(), Some(at(5)));
    }

    #[test]
    fn a_run_keeps_its_owner_through_its_life_and_its_record() {
        let mut run = Run::new(ExperimentId::new(), "ann@example.com", at(0));
        run.claim("worker-1", at(30), at(1)).unwrap();
        run.cancel(at(2)).unwrap();
        assert_eq!(run.owner(), "ann@example.com");
        let restored = Run::from_job(run.experiment_id(), Job::restore(run.job().record().clone())).unwrap();
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
        run.lose_worker(at(61)).unwrap();
        assert_eq!(run.status(), RunStatus::Failed);
        assert_eq!(run.error(), Some("worker lost: worker-1 stopped renewing its lease"));
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
