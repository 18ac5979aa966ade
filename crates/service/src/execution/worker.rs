//! The worker: claims queued runs, keeps their leases alive, and records how each ended.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use qbench_domain::{Run, RunStatus};
use qbench_repository::{Page, RepositoryError, RunFilter, RunRepository};
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::execution::plan;
use crate::execution::{ExecutionDependencies, ExecutionError, InProcessExecutor, ProgressSink, RunExecutor};

/// How a worker claims and watches runs.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// This worker's name, recorded as `claimed_by` (host and process id make a good one).
    pub worker_id: String,
    /// How long a claim holds without renewal; a run whose worker stops renewing for this long is
    /// failed as `worker lost`.
    pub lease: Duration,
    /// How often a running run's lease and progress are written, and cancellation is checked.
    pub heartbeat: Duration,
    /// How often the queue is checked when no wake-up arrives (runs created by other processes).
    pub poll_interval: Duration,
    /// Runs executed at once by this process; 1 by default, as concurrent runs disturb each
    /// other's timings.
    pub max_concurrent_runs: usize,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            worker_id: format!("qbench-{}", std::process::id()),
            lease: Duration::from_secs(30),
            heartbeat: Duration::from_millis(250),
            poll_interval: Duration::from_secs(2),
            max_concurrent_runs: 1,
        }
    }
}

/// Claims queued runs and executes them until shut down.
pub struct RunWorker {
    runs: Arc<dyn RunRepository>,
    dependencies: ExecutionDependencies,
    executor: Arc<dyn RunExecutor>,
    settings: WorkerSettings,
}

impl RunWorker {
    /// A worker over `runs`, executing in this process with `dependencies`.
    pub fn new(runs: Arc<dyn RunRepository>, dependencies: ExecutionDependencies, settings: WorkerSettings) -> Self {
        let executor = Arc::new(InProcessExecutor::new(dependencies.clone()));
        Self { runs, dependencies, executor, settings }
    }

    /// The same worker, executing runs with `executor` (e.g. each in a child process); the
    /// dependencies still serve the worker's own clean-up of what an execution left behind.
    pub fn with_executor(mut self, executor: Arc<dyn RunExecutor>) -> Self {
        self.executor = executor;
        self
    }

    fn lease_until(&self) -> chrono::DateTime<Utc> {
        Utc::now() + chrono::Duration::from_std(self.settings.lease).unwrap_or(chrono::Duration::seconds(30))
    }

    /// Runs until `shutdown`: claims runs when woken (`wake`) or every poll interval, at most
    /// `max_concurrent_runs` at once, and fails runs whose worker was lost. Runs still executing at
    /// shutdown are failed as interrupted.
    pub async fn run(self: Arc<Self>, wake: Arc<Notify>, shutdown: CancellationToken) {
        let slots = Arc::new(Semaphore::new(self.settings.max_concurrent_runs.max(1)));
        let mut executing = tokio::task::JoinSet::new();
        loop {
            if let Err(error) = self.fail_lost_runs().await {
                tracing::warn!(%error, "could not check for lost runs");
            }
            while let Ok(permit) = slots.clone().try_acquire_owned() {
                match self.runs.claim_next(&self.settings.worker_id, self.lease_until(), Utc::now()).await {
                    Ok(Some(run)) => {
                        let worker = self.clone();
                        let shutdown = shutdown.clone();
                        let wake = wake.clone();
                        executing.spawn(async move {
                            worker.execute_claimed(run, shutdown).await;
                            drop(permit);
                            // A slot is free: claim the next queued run now, not at the next poll.
                            wake.notify_one();
                        });
                    }
                    Ok(None) => break,
                    Err(error) => {
                        tracing::warn!(%error, "could not claim a run");
                        break;
                    }
                }
            }
            while executing.try_join_next().is_some() {}
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(self.settings.poll_interval) => {}
                () = shutdown.cancelled() => break,
            }
        }
        while executing.join_next().await.is_some() {}
    }

    /// Claims and executes one run if one waits; for the CLI and tests. Returns the run as it ended.
    pub async fn run_next(self: &Arc<Self>) -> Result<Option<Run>, RepositoryError> {
        let Some(run) = self.runs.claim_next(&self.settings.worker_id, self.lease_until(), Utc::now()).await? else {
            return Ok(None);
        };
        let id = run.id();
        self.clone().execute_claimed(run, CancellationToken::new()).await;
        self.runs.get(id).await.map(Some)
    }

    /// Fails every running run whose lease has lapsed: its worker died or hangs.
    pub async fn fail_lost_runs(&self) -> Result<usize, RepositoryError> {
        let running = self
            .runs
            .list(
                RunFilter { status: Some(RunStatus::Running), ..RunFilter::default() },
                Page { limit: Page::MAX_LIMIT, offset: 0 },
            )
            .await?;
        let now = Utc::now();
        let mut failed = 0;
        for mut run in running.items.into_iter().filter(|run| run.lease_expired(now)) {
            let worker = run.claimed_by().unwrap_or("unknown").to_owned();
            if run.fail(format!("worker lost: {worker} stopped renewing its lease"), now).is_ok() {
                match self.runs.update(&run, RunStatus::Running).await {
                    Ok(()) => {
                        tracing::warn!(run_id = %run.id(), %worker, "run failed: worker lost");
                        self.drop_lost_collection(&run).await;
                        failed += 1;
                    }
                    Err(RepositoryError::Conflict { .. }) => {}
                    Err(error) => return Err(error),
                }
            }
        }
        Ok(failed)
    }

    /// Drops the collection a lost worker or a killed execution left behind, so that neither the
    /// engine's disk nor a remote Qdrant keeps it forever. Best effort: the run has already ended.
    async fn drop_lost_collection(&self, run: &Run) {
        let collection = plan::collection_name(run.id());
        let dropped = async {
            let experiment =
                self.dependencies.experiments.get(run.experiment_id()).await.map_err(|error| error.to_string())?;
            let connection = self
                .dependencies
                .connections
                .get(experiment.spec.connection_id)
                .await
                .map_err(|error| error.to_string())?;
            let store =
                self.dependencies.stores.open(&connection, run.id()).await.map_err(|error| error.to_string())?;
            store.drop_collection(&collection).await.map_err(|error| error.to_string())
        };
        match dropped.await {
            Ok(()) => tracing::info!(run_id = %run.id(), %collection, "dropped the collection the run left behind"),
            Err(error) => tracing::warn!(run_id = %run.id(), %collection, %error, "the run's collection not dropped"),
        }
    }

    /// Executes a claimed run with a heartbeat, then records its end.
    async fn execute_claimed(self: Arc<Self>, run: Run, shutdown: CancellationToken) {
        let run_id = run.id();
        tracing::info!(%run_id, worker = %self.settings.worker_id, "run started");
        let progress = ProgressSink::default();
        let cancel = shutdown.child_token();
        let stop_heartbeat = CancellationToken::new();
        let heartbeat =
            tokio::spawn(self.clone().heartbeat(run.clone(), progress.clone(), cancel.clone(), stop_heartbeat.clone()));
        let outcome = self.executor.execute(&run, &self.settings.worker_id, &progress, &cancel).await;
        stop_heartbeat.cancel();
        let mut latest = heartbeat.await.unwrap_or(run);
        if outcome.is_err() && self.executor.may_leave_collections() {
            // An execution that was killed (cancel after the grace, a crash) could not drop its
            // collection.
            self.drop_lost_collection(&latest).await;
        }
        let now = Utc::now();
        let ended = match outcome {
            Ok(outcome) => latest.complete(outcome.metrics, now),
            Err(ExecutionError::Cancelled) if shutdown.is_cancelled() => {
                latest.fail("interrupted: qbench shut down", now)
            }
            // Cancelled on request or lost: the stored status already says so.
            Err(ExecutionError::Cancelled) => return tracing::info!(%run_id, "run cancelled"),
            Err(failure @ ExecutionError::Failed { .. }) => {
                tracing::warn!(%run_id, error = %failure, "run failed");
                latest.fail(failure.to_string(), now)
            }
        };
        if let Err(error) = ended {
            return tracing::warn!(%run_id, %error, "run could not be ended");
        }
        match self.runs.update(&latest, RunStatus::Running).await {
            Ok(()) => tracing::info!(%run_id, status = %latest.status(), "run ended"),
            Err(error) => tracing::warn!(%run_id, %error, "run end not recorded (cancelled or lost meanwhile)"),
        }
    }

    /// Writes lease and progress every heartbeat; cancels the execution when the stored run was
    /// cancelled or failed by someone else. Returns the run as last written.
    async fn heartbeat(
        self: Arc<Self>,
        mut run: Run,
        progress: ProgressSink,
        cancel: CancellationToken,
        stop: CancellationToken,
    ) -> Run {
        loop {
            tokio::select! {
                () = stop.cancelled() => {}
                () = tokio::time::sleep(self.settings.heartbeat) => {}
            }
            let now = Utc::now();
            let mut next = run.clone();
            next.renew_lease(self.lease_until(), now);
            next.report_progress(progress.snapshot(), now);
            match self.runs.update(&next, RunStatus::Running).await {
                Ok(()) => run = next,
                Err(RepositoryError::Conflict { .. } | RepositoryError::NotFound { .. }) => {
                    // Someone else ended it (cancel, worker-lost sweep, cascade delete): stop.
                    cancel.cancel();
                    return run;
                }
                Err(error) => tracing::warn!(run_id = %run.id(), %error, "heartbeat not written"),
            }
            if stop.is_cancelled() {
                return run;
            }
        }
    }
}
