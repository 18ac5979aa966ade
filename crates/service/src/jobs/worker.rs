//! The worker: claims queued jobs, keeps their leases alive, and records how each ended.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use qbench_domain::{Job, JobKind, JobStatus, WorkerLabel};
use qbench_repository::{ClaimRequest, JobRepository, RepositoryError, WorkerInfo, WorkerRepository};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::Clock;
use crate::execution::ProgressSink;
use crate::jobs::{JobContext, JobError, JobHandler, JobOutcome};

/// How often a worker announces itself while idle, so `/metadata/system` lists it.
const ANNOUNCE_EVERY: Duration = Duration::from_secs(10);

/// How many sweeps for lost jobs a lease period sees: often enough that a lost job is handled
/// soon after its lease lapses, rarely enough that a busy worker does not sweep on every wake-up.
const SWEEPS_PER_LEASE: u32 = 2;

/// How a worker claims and watches jobs.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// This worker's name, recorded as `claimed_by` (host and process id make a good one).
    pub worker_id: String,
    /// The host it runs on, for the worker list.
    pub host: String,
    /// The labels it carries: it takes jobs requiring none or one of these.
    pub labels: Vec<WorkerLabel>,
    /// How long a claim holds without renewal (on the database's clock); a job whose worker stops
    /// renewing for this long is lost.
    pub lease: Duration,
    /// How often a running job's lease and progress are written, and cancel and pause checked.
    pub heartbeat: Duration,
    /// How often the queue is checked when no wake-up arrives.
    pub poll_interval: Duration,
    /// Benchmarks (exclusive kinds) executed at once; 1 by default, as concurrent benchmarks
    /// disturb each other's timings.
    pub max_concurrent_runs: usize,
    /// Jobs of other kinds executed at once, beside the benchmarks.
    pub max_concurrent_jobs: usize,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            worker_id: format!("qbench-{}", std::process::id()),
            host: "unknown".to_owned(),
            labels: Vec::new(),
            lease: Duration::from_secs(30),
            heartbeat: Duration::from_millis(250),
            poll_interval: Duration::from_secs(2),
            max_concurrent_runs: 1,
            max_concurrent_jobs: 4,
        }
    }
}

/// What a heartbeat saw when it stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    /// The job was still ours at the last beat.
    Yes,
    /// Someone else ended it or took it (cancel, worker-lost sweep, delete).
    Lost,
}

/// Told of every job this worker ended or swept (completed, failed, cancelled at shutdown, paused,
/// handed back): for metrics such as job durations.
pub type EndObserver = Arc<dyn Fn(&Job) + Send + Sync>;

/// Claims queued jobs and executes each with the handler of its kind, until shut down.
pub struct JobWorker {
    jobs: Arc<dyn JobRepository>,
    workers: Option<Arc<dyn WorkerRepository>>,
    handlers: BTreeMap<JobKind, Arc<dyn JobHandler>>,
    settings: WorkerSettings,
    clock: Arc<dyn Clock>,
    started_at: DateTime<Utc>,
    on_end: Option<EndObserver>,
}

impl JobWorker {
    /// A worker over `jobs` with no handler yet; `clock` stamps what the database does not.
    pub fn new(jobs: Arc<dyn JobRepository>, settings: WorkerSettings, clock: Arc<dyn Clock>) -> Self {
        let started_at = clock.now();
        Self { jobs, workers: None, handlers: BTreeMap::new(), settings, clock, started_at, on_end: None }
    }

    /// The same worker, executing jobs of `handler`'s kind with it (replacing an earlier one).
    pub fn with_handler(mut self, handler: Arc<dyn JobHandler>) -> Self {
        self.handlers.insert(handler.kind(), handler);
        self
    }

    /// The same worker, announcing itself in `workers` at start and while it runs.
    pub fn announcing_to(mut self, workers: Arc<dyn WorkerRepository>) -> Self {
        self.workers = Some(workers);
        self
    }

    /// The same worker, telling `observer` of every job it ends or sweeps.
    pub fn reporting_ends_to(mut self, observer: EndObserver) -> Self {
        self.on_end = Some(observer);
        self
    }

    fn ended(&self, job: &Job) {
        if let Some(observer) = &self.on_end {
            observer(job);
        }
    }

    /// Its settings.
    pub fn settings(&self) -> &WorkerSettings {
        &self.settings
    }

    /// The kinds it executes.
    pub fn kinds(&self) -> Vec<JobKind> {
        self.handlers.keys().copied().collect()
    }

    /// The database's time, or this host's when the database cannot say.
    async fn now(&self) -> DateTime<Utc> {
        self.jobs.now().await.unwrap_or_else(|_| self.clock.now())
    }

    fn claim_request(&self, kinds: Vec<JobKind>) -> ClaimRequest {
        ClaimRequest {
            worker: self.settings.worker_id.clone(),
            labels: self.settings.labels.clone(),
            kinds,
            lease: self.settings.lease,
        }
    }

    async fn announce(&self) {
        let Some(workers) = &self.workers else { return };
        let info = WorkerInfo {
            id: self.settings.worker_id.clone(),
            host: self.settings.host.clone(),
            labels: self.settings.labels.clone(),
            max_concurrent_runs: u32::try_from(self.settings.max_concurrent_runs).unwrap_or(u32::MAX),
            max_concurrent_jobs: u32::try_from(self.settings.max_concurrent_jobs).unwrap_or(u32::MAX),
            started_at: self.started_at,
            last_seen: self.started_at,
        };
        if let Err(error) = workers.announce(&info).await {
            tracing::warn!(%error, "could not announce this worker");
        }
    }

    /// Runs until `shutdown`: claims jobs when woken (`wake`) or every poll interval, with at most
    /// `max_concurrent_runs` benchmarks and `max_concurrent_jobs` other jobs at once, and sweeps
    /// jobs whose worker was lost. Jobs still executing at shutdown are interrupted.
    pub async fn run(self: Arc<Self>, wake: Arc<Notify>, shutdown: CancellationToken) {
        let exclusive = Arc::new(Semaphore::new(self.settings.max_concurrent_runs.max(1)));
        let shared = Arc::new(Semaphore::new(self.settings.max_concurrent_jobs.max(1)));
        let mut executing = tokio::task::JoinSet::new();
        let mut announced: Option<Instant> = None;
        let sweep_every = self.settings.lease / SWEEPS_PER_LEASE;
        let mut swept: Option<Instant> = None;
        let mut cleaned_up = false;
        loop {
            if announced.is_none_or(|at| at.elapsed() >= ANNOUNCE_EVERY) {
                self.announce().await;
                announced = Some(Instant::now());
            }
            if swept.is_none_or(|at| at.elapsed() >= sweep_every) {
                if let Err(error) = self.sweep_lost().await {
                    tracing::warn!(%error, "could not check for lost jobs");
                }
                swept = Some(Instant::now());
            }
            if !cleaned_up {
                // After the first sweep, so that runs this machine lost are known as lost.
                for handler in self.handlers.values() {
                    handler.clean_up_at_start().await;
                }
                cleaned_up = true;
            }
            loop {
                let exclusive_slot = exclusive.clone().try_acquire_owned().ok();
                let shared_slot = shared.clone().try_acquire_owned().ok();
                let kinds: Vec<JobKind> = self
                    .kinds()
                    .into_iter()
                    .filter(|kind| if kind.is_exclusive() { exclusive_slot.is_some() } else { shared_slot.is_some() })
                    .collect();
                if kinds.is_empty() {
                    break;
                }
                match self.jobs.claim_next(&self.claim_request(kinds)).await {
                    Ok(Some(job)) => {
                        let slot: Option<OwnedSemaphorePermit> =
                            if job.kind().is_exclusive() { exclusive_slot } else { shared_slot };
                        let worker = self.clone();
                        let shutdown = shutdown.clone();
                        let wake = wake.clone();
                        executing.spawn(async move {
                            worker.execute_claimed(job, shutdown).await;
                            drop(slot);
                            // A slot is free: claim the next queued job now, not at the next poll.
                            wake.notify_one();
                        });
                    }
                    Ok(None) => break,
                    Err(error) => {
                        tracing::warn!(%error, "could not claim a job");
                        break;
                    }
                }
            }
            while executing.try_join_next().is_some() {}
            // Look again when woken, at the poll interval, and at least once per sweep period so
            // lost jobs are swept in time even when nothing else happens.
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(self.settings.poll_interval.min(sweep_every)) => {}
                () = shutdown.cancelled() => break,
            }
        }
        while executing.join_next().await.is_some() {}
    }

    /// Claims and executes one job if one waits; for the CLI and tests. Returns the job as it
    /// ended.
    pub async fn run_next(self: &Arc<Self>) -> Result<Option<Job>, RepositoryError> {
        let Some(job) = self.jobs.claim_next(&self.claim_request(self.kinds())).await? else {
            return Ok(None);
        };
        let id = job.id();
        self.clone().execute_claimed(job, CancellationToken::new()).await;
        self.jobs.get(id).await.map(Some)
    }

    /// Ends every running job whose lease has lapsed on the database's clock: a kind that can
    /// resume goes back to the queue with its progress, any other fails as `worker lost`.
    /// Returns how many this call handled.
    pub async fn sweep_lost(&self) -> Result<usize, RepositoryError> {
        let now = self.now().await;
        let mut handled = 0;
        for mut job in self.jobs.expired().await? {
            let worker = job.claimed_by().unwrap_or("unknown").to_owned();
            if job.lose_worker(now).is_err() {
                continue;
            }
            match self.jobs.update(&job, JobStatus::Running).await {
                Ok(()) => {
                    tracing::warn!(job_id = %job.id(), kind = %job.kind(), %worker, status = %job.status(), "worker lost");
                    if let Some(handler) = self.handlers.get(&job.kind()) {
                        handler.after_lost(&job).await;
                    }
                    self.ended(&job);
                    handled += 1;
                }
                Err(RepositoryError::Conflict { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(handled)
    }

    /// Executes a claimed job with a heartbeat, then records its end.
    async fn execute_claimed(self: Arc<Self>, mut job: Job, shutdown: CancellationToken) {
        let job_id = job.id();
        let worker_id = self.settings.worker_id.clone();
        let Some(handler) = self.handlers.get(&job.kind()).cloned() else {
            // Claims only ask for kinds with a handler; a job of another kind is not ours.
            return tracing::error!(%job_id, kind = %job.kind(), "claimed a job of a kind this worker has no handler for");
        };
        tracing::info!(%job_id, kind = %job.kind(), worker = %worker_id, attempt = job.attempts(), "job started");
        let context = JobContext {
            worker: worker_id.clone(),
            progress: ProgressSink::starting_at(job.progress().clone()),
            cancel: shutdown.child_token(),
            pause: CancellationToken::new(),
        };
        let stop_heartbeat = CancellationToken::new();
        let heartbeat = tokio::spawn(self.clone().heartbeat(job.clone(), context.clone(), stop_heartbeat.clone()));
        let outcome = {
            // Whatever ends the execution (its end, a panic unwinding through here, this task being
            // dropped), the guard stops the heartbeat: a dead execution never keeps its lease.
            let _stop_on_exit = stop_heartbeat.clone().drop_guard();
            AssertUnwindSafe(handler.execute(&job, &context)).catch_unwind().await
        };
        stop_heartbeat.cancel();
        let held = heartbeat.await.unwrap_or(Held::Yes);
        let now = self.now().await;
        job.report_progress(context.progress.snapshot(), now);
        let ended = match outcome {
            Ok(Ok(JobOutcome::Completed(result))) => job.complete(result, now),
            Ok(Ok(JobOutcome::Paused)) => job.pause(context.progress.snapshot(), now),
            Ok(Err(JobError::Cancelled)) if shutdown.is_cancelled() => {
                if job.kind().can_pause() {
                    job.lose_worker(now)
                } else {
                    job.fail("interrupted: qbench shut down", now)
                }
            }
            // Cancelled on request or lost: the stored status already says so.
            Ok(Err(JobError::Cancelled)) => return tracing::info!(%job_id, "job cancelled"),
            Ok(Err(JobError::Failed(cause))) => {
                tracing::warn!(%job_id, error = %cause, "job failed");
                job.fail(cause, now)
            }
            Err(panic) => {
                let message = panic_message(panic.as_ref());
                tracing::error!(%job_id, panic = %message, "job panicked");
                job.fail(format!("{}: the job panicked: {message}", job.progress().phase), now)
            }
        };
        if held == Held::Lost {
            return tracing::info!(%job_id, "job ended elsewhere (cancelled or lost) while executing");
        }
        if let Err(error) = ended {
            return tracing::warn!(%job_id, %error, "job could not be ended");
        }
        match self.jobs.update(&job, JobStatus::Running).await {
            Ok(()) => {
                tracing::info!(%job_id, status = %job.status(), "job ended");
                self.ended(&job);
            }
            Err(error) => tracing::warn!(%job_id, %error, "job end not recorded (cancelled or lost meanwhile)"),
        }
    }

    /// Renews the lease and writes progress every heartbeat until `stop`; fires the context's
    /// `cancel` when the stored job was ended or taken by someone else, and its `pause` when a
    /// pause was asked.
    async fn heartbeat(self: Arc<Self>, job: Job, context: JobContext, stop: CancellationToken) -> Held {
        loop {
            tokio::select! {
                () = stop.cancelled() => return Held::Yes,
                () = tokio::time::sleep(self.settings.heartbeat) => {}
            }
            let progress = context.progress.snapshot();
            match self.jobs.heartbeat(job.id(), &self.settings.worker_id, &progress, self.settings.lease).await {
                Ok(reply) => {
                    if reply.pause_requested && job.kind().can_pause() {
                        context.pause.cancel();
                    }
                }
                Err(RepositoryError::Conflict { .. } | RepositoryError::NotFound { .. }) => {
                    context.cancel.cancel();
                    return Held::Lost;
                }
                Err(error) => tracing::warn!(job_id = %job.id(), %error, "heartbeat not written"),
            }
        }
    }
}

/// The text of a panic's payload.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with no message".to_owned())
}
