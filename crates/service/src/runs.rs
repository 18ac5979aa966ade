//! Creating, reading and cancelling runs.

use std::sync::Arc;

use crate::clock::now;
use qbench_domain::{ExperimentId, Run, RunId};
use qbench_repository::{ExperimentRepository, Listed, Page, RepositoryError, RunFilter, RunQueue, RunRepository};

use crate::ServiceError;

/// How often a cancel re-reads a run that changed under it before giving up.
const CANCEL_ATTEMPTS: usize = 3;

/// Use cases on runs.
#[derive(Clone)]
pub struct RunService {
    runs: Arc<dyn RunRepository>,
    experiments: Arc<dyn ExperimentRepository>,
    queue: Arc<dyn RunQueue>,
}

impl RunService {
    /// A service over `runs`, creating runs of `experiments` and announcing them on `queue`.
    pub fn new(
        runs: Arc<dyn RunRepository>,
        experiments: Arc<dyn ExperimentRepository>,
        queue: Arc<dyn RunQueue>,
    ) -> Self {
        Self { runs, experiments, queue }
    }

    /// Stores a `CREATED` run of the experiment and queues it.
    #[tracing::instrument(skip(self))]
    pub async fn create(&self, experiment_id: ExperimentId) -> Result<Run, ServiceError> {
        self.experiments.get(experiment_id).await?;
        let run = Run::new(experiment_id, now());
        self.runs.insert(&run).await?;
        // The stored run is the source of truth: if the notification fails, the run still waits
        // in the table for the next worker to look.
        if let Err(error) = self.queue.enqueue(run.id()).await {
            tracing::warn!(run_id = %run.id(), %error, "run stored but not announced to the queue");
        }
        Ok(run)
    }

    /// The run with `id`.
    pub async fn get(&self, id: RunId) -> Result<Run, ServiceError> {
        Ok(self.runs.get(id).await?)
    }

    /// Runs matching `filter`, newest first.
    pub async fn list(&self, filter: RunFilter, page: Page) -> Result<Listed<Run>, ServiceError> {
        Ok(self.runs.list(filter, page).await?)
    }

    /// Cancels a run that has not ended; `Conflict` when it already has.
    #[tracing::instrument(skip(self))]
    pub async fn cancel(&self, id: RunId) -> Result<Run, ServiceError> {
        let mut last_error = None;
        for _ in 0..CANCEL_ATTEMPTS {
            let mut run = self.runs.get(id).await?;
            let expected = run.status();
            run.cancel(now())?;
            match self.runs.update(&run, expected).await {
                Ok(()) => return Ok(run),
                Err(error @ RepositoryError::Conflict { .. }) => last_error = Some(error),
                Err(other) => return Err(other.into()),
            }
        }
        Err(last_error.map_or_else(|| ServiceError::Internal("cancel made no attempt".to_owned()), ServiceError::from))
    }
}
