//! Creating, reading, cancelling and deleting runs.

use std::sync::Arc;

use qbench_domain::{Caller, ExperimentId, Role, Run, RunId, RunStatus, WorkerLabel};
use qbench_repository::{
    Entity, ExperimentRepository, JobQueue, Listed, Page, RepositoryError, RunFilter, RunRepository,
};
use qbench_storage::ResultWriter;

use crate::access::{ensure_seen, requested_owner};
use crate::{Clock, MemoryBudget, ServiceError};

/// How often a cancel re-reads a run that changed under it before giving up.
const CANCEL_ATTEMPTS: usize = 3;

/// Use cases on runs.
///
/// A run belongs to the user who started it. Viewers read their own runs; editors also start
/// runs of experiments they see and cancel or delete their own; admins read, cancel and delete
/// anyone's, and list everyone's when they ask to. Another user's run answers the same `NotFound` as a missing one.
#[derive(Clone)]
pub struct RunService {
    runs: Arc<dyn RunRepository>,
    experiments: Arc<dyn ExperimentRepository>,
    queue: Arc<dyn JobQueue>,
    clock: Arc<dyn Clock>,
    budget: Option<MemoryBudget>,
    results: Option<Arc<dyn ResultWriter>>,
}

impl RunService {
    /// A service over `runs`, creating runs of `experiments` and announcing them on `queue`.
    pub fn new(
        runs: Arc<dyn RunRepository>,
        experiments: Arc<dyn ExperimentRepository>,
        queue: Arc<dyn JobQueue>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { runs, experiments, queue, clock, budget: None, results: None }
    }

    /// The same service, refusing to queue a run whose embedded collection would exceed `budget`.
    pub fn with_memory_budget(mut self, budget: MemoryBudget) -> Self {
        self.budget = Some(budget);
        self
    }

    /// The same service, deleting a deleted run's stored results (result, per-query rows, log,
    /// report) from `results`; without it, a delete removes the record only.
    pub fn with_results(mut self, results: Arc<dyn ResultWriter>) -> Self {
        self.results = Some(results);
        self
    }

    /// The run with `id`, if `caller` sees it; `NotFound` otherwise.
    async fn seen(&self, caller: &Caller, id: RunId) -> Result<Run, ServiceError> {
        let run = self.runs.get(id).await?;
        ensure_seen(caller, run.owner(), Entity::Run, id)?;
        Ok(run)
    }

    /// Stores a `CREATED` run of the experiment, owned by the caller, and queues it (editor, an
    /// experiment the caller sees); only a worker carrying `requires` takes it, when given.
    #[tracing::instrument(skip(self, caller), fields(user = caller.user()))]
    pub async fn create(
        &self,
        caller: &Caller,
        experiment_id: ExperimentId,
        requires: Option<WorkerLabel>,
    ) -> Result<Run, ServiceError> {
        caller.require(Role::Editor)?;
        let experiment = self.experiments.get(experiment_id).await?;
        ensure_seen(caller, &experiment.owner, Entity::Experiment, experiment_id)?;
        if let Some(budget) = &self.budget {
            budget.check(&experiment).await?;
        }
        let run = Run::of(&experiment, caller.user(), requires, self.clock.now());
        self.runs.insert(&run).await?;
        // The stored run is the source of truth: if the notification fails, the run still waits
        // in the table for the next worker to look.
        if let Err(error) = self.queue.enqueue(run.job().id()).await {
            tracing::warn!(run_id = %run.id(), %error, "run stored but not announced to the queue");
        }
        Ok(run)
    }

    /// The run with `id` (viewer, a run the caller sees).
    pub async fn get(&self, caller: &Caller, id: RunId) -> Result<Run, ServiceError> {
        caller.require(Role::Viewer)?;
        self.seen(caller, id).await
    }

    /// The caller's runs matching `filter`, newest first (viewer); with `all`, every user's runs
    /// (admin only: `Forbidden` for anyone else). `filter.owner` is set here, from the caller.
    pub async fn list(
        &self,
        caller: &Caller,
        mut filter: RunFilter,
        all: bool,
        page: Page,
    ) -> Result<Listed<Run>, ServiceError> {
        filter.owner = requested_owner(caller, all)?;
        Ok(self.runs.list(filter, page).await?)
    }

    /// How many runs of every user have `status`: for the service's own gauges (`/metrics`),
    /// not on behalf of a caller; a count shows no run.
    pub async fn count(&self, status: RunStatus) -> Result<u64, ServiceError> {
        let filter = RunFilter { status: Some(status), ..RunFilter::default() };
        Ok(self.runs.list(filter, Page { limit: 1, offset: 0 }).await?.total)
    }

    /// Cancels a run that has not ended (editor, a run the caller sees); `Conflict` when it
    /// already has.
    #[tracing::instrument(skip(self, caller), fields(user = caller.user()))]
    pub async fn cancel(&self, caller: &Caller, id: RunId) -> Result<Run, ServiceError> {
        caller.require(Role::Editor)?;
        let mut last_error = None;
        for _ in 0..CANCEL_ATTEMPTS {
            let mut run = self.seen(caller, id).await?;
            let expected = run.status();
            run.cancel(self.clock.now())?;
            match self.runs.update(&run, expected).await {
                Ok(()) => return Ok(run),
                Err(error @ RepositoryError::Conflict { .. }) => last_error = Some(error),
                Err(other) => return Err(other.into()),
            }
        }
        Err(last_error.map_or_else(|| ServiceError::Internal("cancel made no attempt".to_owned()), ServiceError::from))
    }

    /// Deletes a run that has ended (editor, a run the caller sees): its record and job, then its
    /// stored results. `Conflict` while it is `CREATED` or `RUNNING` (cancel it first), or while a
    /// snapshot holds the collection it built (restoring it relies on the run's kept settings).
    /// Once the record is gone the delete has happened: a failure to delete the results is logged,
    /// not returned, and leaves files no run names.
    #[tracing::instrument(skip(self, caller), fields(user = caller.user()))]
    pub async fn delete(&self, caller: &Caller, id: RunId) -> Result<(), ServiceError> {
        caller.require(Role::Editor)?;
        let run = self.seen(caller, id).await?;
        if !run.status().is_terminal() {
            return Err(ServiceError::Conflict(format!("run is {}: cancel it first", run.status())));
        }
        self.runs.delete(id).await?;
        if let Some(results) = &self.results
            && let Err(error) = results.delete_results(&id.to_string()).await
        {
            tracing::warn!(run_id = %id, %error, "run deleted but its results were not");
        }
        Ok(())
    }

    /// Refuses to pause a run (editor, a run the caller sees): a benchmark cannot stop halfway and
    /// continue with honest timings. Always `Conflict` with the reason, or `NotFound`.
    pub async fn pause(&self, caller: &Caller, id: RunId) -> Result<Run, ServiceError> {
        caller.require(Role::Editor)?;
        let run = self.seen(caller, id).await?;
        let mut job = run.job().clone();
        job.request_pause(self.clock.now())?;
        Err(ServiceError::Internal(format!("run {id} accepted a pause its kind refuses")))
    }
}
