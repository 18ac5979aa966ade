//! The `benchmark` kind: a job that executes a run.

use std::sync::Arc;

use async_trait::async_trait;
use qbench_domain::{Job, JobKind, Run, RunId, RunStatus};
use qbench_repository::{Page, RunFilter, RunRepository};

use crate::execution::{ExecutionDependencies, InProcessExecutor, RunExecutor, plan};
use crate::jobs::{JobContext, JobError, JobHandler, JobOutcome};

/// Executes benchmark jobs with a [`RunExecutor`] (by default each in a child process), and
/// drops the collections executions could not.
pub struct BenchmarkHandler {
    runs: Arc<dyn RunRepository>,
    dependencies: ExecutionDependencies,
    executor: Arc<dyn RunExecutor>,
}

impl BenchmarkHandler {
    /// A handler executing runs in this process with `dependencies`.
    pub fn new(runs: Arc<dyn RunRepository>, dependencies: ExecutionDependencies) -> Self {
        let executor = Arc::new(InProcessExecutor::new(dependencies.clone()));
        Self { runs, dependencies, executor }
    }

    /// The same handler, executing runs with `executor`; the dependencies still serve the
    /// handler's own clean-up of what an execution left behind.
    pub fn with_executor(mut self, executor: Arc<dyn RunExecutor>) -> Self {
        self.executor = executor;
        self
    }

    /// Drops `run`'s collection where this worker can reach it; `Ok(false)` when there is none
    /// to drop. An embedded collection lives on the disk of the worker that executed the run: a
    /// worker sharing that disk finds and drops it, any other leaves it to that worker's next
    /// start.
    /// `executed_here` says this worker executed the run, so the collection, if any, is on its disk.
    async fn drop_collection(&self, run: &Run, executed_here: bool) -> Result<bool, String> {
        let collection = plan::collection_name(run.id());
        let experiment = plan::experiment_of(&self.dependencies, run).await.map_err(|error| error.to_string())?;
        let connection = self
            .dependencies
            .connections
            .get(experiment.spec.connection_id)
            .await
            .map_err(|error| error.to_string())?;
        let store = self.dependencies.stores.open(&connection, run.id()).await.map_err(|error| error.to_string())?;
        if connection.is_embedded() && !executed_here && store.collection_info(&collection).await.is_err() {
            return Ok(false);
        }
        store.drop_collection(&collection).await.map(|()| true).map_err(|error| error.to_string())
    }

    /// [`Self::drop_collection`], logged.
    async fn drop_logged(&self, run: &Run, executed_here: bool) {
        let collection = plan::collection_name(run.id());
        match self.drop_collection(run, executed_here).await {
            Ok(true) => tracing::info!(run_id = %run.id(), %collection, "dropped the collection the run left behind"),
            Ok(false) => tracing::info!(
                run_id = %run.id(),
                %collection,
                "no collection of the run here: an embedded one stays on its worker's disk until that worker starts again"
            ),
            Err(error) => tracing::warn!(run_id = %run.id(), %collection, %error, "the run's collection not dropped"),
        }
    }
}

#[async_trait]
impl JobHandler for BenchmarkHandler {
    fn kind(&self) -> JobKind {
        JobKind::Benchmark
    }

    async fn execute(&self, job: &Job, context: &JobContext) -> Result<JobOutcome, JobError> {
        let run = self
            .runs
            .get(RunId::from(job.id().as_uuid()))
            .await
            .map_err(|error| JobError::Failed(format!("prepare: {error}")))?;
        match self.executor.execute(&run, &context.worker, &context.progress, &context.cancel).await {
            Ok(outcome) => Ok(JobOutcome::Completed(outcome.metrics)),
            Err(error) => {
                if self.executor.may_leave_collections() {
                    // An execution that was killed (cancel after the grace, a crash) could not drop
                    // its collection.
                    self.drop_logged(&run, true).await;
                }
                Err(error.into())
            }
        }
    }

    async fn after_lost(&self, job: &Job) {
        match self.runs.get(RunId::from(job.id().as_uuid())).await {
            Ok(run) => self.drop_logged(&run, false).await,
            Err(error) => tracing::warn!(job_id = %job.id(), %error, "a lost run could not be read for clean-up"),
        }
    }

    async fn clean_up_at_start(&self) {
        // Runs lost by a worker on this machine (this one before a restart, or another sharing its
        // disk) may have left their embedded collection here.
        let filter = RunFilter { status: Some(RunStatus::Failed), ..RunFilter::default() };
        let failed = match self.runs.list(filter, Page { limit: Page::MAX_LIMIT, offset: 0 }).await {
            Ok(failed) => failed.items,
            Err(error) => return tracing::warn!(%error, "could not look for lost runs' collections"),
        };
        for run in failed.iter().filter(|run| run.error().is_some_and(|error| error.starts_with("worker lost"))) {
            if let Ok(true) = self.drop_collection(run, false).await {
                tracing::info!(run_id = %run.id(), "dropped a lost run's collection left on this machine");
            }
        }
    }
}
