//! Asking for backfills, reading them and their work items, and pausing, resuming or cancelling
//! them.

use std::sync::Arc;

use qbench_domain::backfill::{
    Backfill, BackfillMode, BackfillPayload, BackfillSpec, IndexSettings, WorkItem, WorkItemStatus,
    recommended_optimizer, validate_optimizer,
};
use qbench_domain::study::StudyReport;
use qbench_domain::{Caller, Connection, Dataset, Job, JobId, JobKind, JobStatus, OptimizerConfig, Role, Violation};
use qbench_repository::{
    BackfillRepository, ConnectionRepository, DatasetRepository, Entity, JobFilter, JobQueue, JobRepository, Listed,
    Page, RepositoryError,
};
use qbench_vector_store::VectorStoreProvider;

use crate::access::{ensure_may_touch, ensure_seen, listed_owner};
use crate::collection_names::collection_names;
use crate::jobs::{JobService, submit};
use crate::{Clock, Repositories, ServiceError};

/// What a caller may ask of a backfill's job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackfillCommand {
    /// Stop at the next safe point (between work items), holding no worker.
    Pause,
    /// Put a paused backfill back in the queue, to continue with the items not yet loaded.
    Resume,
    /// Stop for good; the items loaded stay in the collection.
    Cancel,
}

/// Use cases on backfills. A backfill is a `backfill` job owned by its submitter (editor), with
/// the access rules of every job; it loads only collections qbench created (`qbench-…`) unless an
/// admin names another.
#[derive(Clone)]
pub struct BackfillService {
    backfills: Arc<dyn BackfillRepository>,
    datasets: Arc<dyn DatasetRepository>,
    connections: Arc<dyn ConnectionRepository>,
    jobs: Arc<dyn JobRepository>,
    queue: Arc<dyn JobQueue>,
    clock: Arc<dyn Clock>,
    job_service: JobService,
    stores: Option<Arc<dyn VectorStoreProvider>>,
}

impl BackfillService {
    /// A service over `repositories`; it checks collections once given the engines
    /// ([`Self::with_stores`]).
    pub fn new(repositories: &Repositories) -> Self {
        Self {
            backfills: repositories.backfills.clone(),
            datasets: repositories.datasets.clone(),
            connections: repositories.connections.clone(),
            jobs: repositories.jobs.clone(),
            queue: repositories.queue.clone(),
            clock: repositories.clock.clone(),
            job_service: JobService::new(
                repositories.jobs.clone(),
                repositories.workers.clone(),
                repositories.queue.clone(),
                repositories.clock.clone(),
            ),
            stores: None,
        }
    }

    /// The service reaching engines through `stores`.
    #[must_use]
    pub fn with_stores(mut self, stores: Arc<dyn VectorStoreProvider>) -> Self {
        self.stores = Some(stores);
        self
    }

    /// Queues a backfill of `spec` (editor). The caller may touch the collection (403 naming
    /// `collection`); dataset, connection and study exist (a study `COMPLETED`, with a
    /// recommendation), the index settings fit the dataset and the numbers their bounds (422
    /// naming each field); a `FULL` backfill's collection does not exist yet, and no other backfill
    /// into the collection is under way (409).
    pub async fn create(&self, caller: &Caller, spec: BackfillSpec) -> Result<Backfill, ServiceError> {
        caller.require(Role::Editor)?;
        ensure_may_touch(caller, "collection", &spec.collection)?;
        let mut violations = spec.violations();
        let dataset = match self.datasets.get(spec.dataset_id).await {
            Ok(dataset) if caller.sees(&dataset.owner) => Some(dataset),
            Ok(_) | Err(RepositoryError::NotFound { .. }) => {
                violations.push(Violation::new("dataset_id", format!("dataset {} does not exist", spec.dataset_id)));
                None
            }
            Err(other) => return Err(other.into()),
        };
        let connection = match self.connections.get(spec.connection_id).await {
            Ok(connection) => Some(connection),
            Err(RepositoryError::NotFound { .. }) => {
                let message = format!("connection {} does not exist", spec.connection_id);
                violations.push(Violation::new("connection_id", message));
                None
            }
            Err(other) => return Err(other.into()),
        };
        let optimizer = self.index_settings(caller, &spec.settings, dataset.as_ref(), &mut violations).await?;
        let (Some(dataset), Some(connection), Some((optimizer_config, study_id))) = (dataset, connection, optimizer)
        else {
            return Err(ServiceError::Invalid(violations));
        };
        if !violations.is_empty() {
            return Err(ServiceError::Invalid(violations));
        }
        self.ensure_collection_free(&connection, &spec).await?;
        let payload = BackfillPayload {
            dataset_id: dataset.id,
            connection_id: connection.id,
            collection: spec.collection,
            optimizer_config,
            study_id,
            batch_size: spec.batch_size,
            parallel: spec.parallel,
            mode: spec.mode,
        };
        let body = serde_json::to_value(&payload)
            .map_err(|error| ServiceError::Internal(format!("backfill payload: {error}")))?;
        let job = Job::new(JobId::new(), JobKind::Backfill, caller.user(), body, None, self.clock.now());
        submit(self.jobs.as_ref(), self.queue.as_ref(), &job).await?;
        Ok(Backfill { job, payload, items: Default::default() })
    }

    /// The index settings of `settings` and the study they come from, checked against `dataset`;
    /// `None` (with the violations recorded) when they cannot be had.
    async fn index_settings(
        &self,
        caller: &Caller,
        settings: &IndexSettings,
        dataset: Option<&Dataset>,
        violations: &mut Vec<Violation>,
    ) -> Result<Option<(OptimizerConfig, Option<JobId>)>, ServiceError> {
        let (config, study_id) = match settings {
            IndexSettings::Given(config) => (config.clone(), None),
            IndexSettings::Study(id) => match self.recommendation(caller, *id).await? {
                Ok(config) => (config, Some(*id)),
                Err(violation) => {
                    violations.push(violation);
                    return Ok(None);
                }
            },
        };
        let Some(dataset) = dataset else { return Ok(None) };
        let found = validate_optimizer(&config, &dataset.spec.schema_config);
        match study_id {
            None => violations.extend(found),
            // The fields are the study's, not the request's: name the study.
            Some(id) => violations.extend(found.into_iter().map(|violation| {
                let message = format!(
                    "study {id}'s recommendation does not fit the dataset: {}: {}",
                    violation.field, violation.message
                );
                Violation::new("study_id", message)
            })),
        }
        Ok(Some((config, study_id)))
    }

    /// The index settings study `id` recommends, or the violation of `study_id` saying why there
    /// are none.
    async fn recommendation(
        &self,
        caller: &Caller,
        id: JobId,
    ) -> Result<Result<OptimizerConfig, Violation>, ServiceError> {
        let refuse = |message: String| Ok(Err(Violation::new("study_id", message)));
        let study = match self.jobs.get(id).await {
            Ok(job) if caller.sees(job.owner()) && job.kind() == JobKind::Study => job,
            Ok(_) | Err(RepositoryError::NotFound { .. }) => return refuse(format!("study {id} does not exist")),
            Err(other) => return Err(other.into()),
        };
        if study.status() != JobStatus::Completed {
            return refuse(format!("study {id} is {}: only a COMPLETED study recommends settings", study.status()));
        }
        let report = study.result().and_then(|result| serde_json::from_value::<StudyReport>(result.clone()).ok());
        match report.as_ref().and_then(recommended_optimizer) {
            Some(config) => Ok(Ok(config)),
            None => refuse(format!("study {id} recommends nothing: none of its trials measured a point")),
        }
    }

    /// `Conflict` naming the collection when a `FULL` backfill would load one that exists, or
    /// another backfill into it has not ended.
    async fn ensure_collection_free(&self, connection: &Connection, spec: &BackfillSpec) -> Result<(), ServiceError> {
        for status in [JobStatus::Created, JobStatus::Running, JobStatus::Paused] {
            let filter = JobFilter { kind: Some(JobKind::Backfill), status: Some(status), ..JobFilter::default() };
            let active = self.jobs.list(filter, Page { limit: Page::MAX_LIMIT, offset: 0 }).await?;
            let busy = active.items.iter().find(|job| {
                serde_json::from_value::<BackfillPayload>(job.payload().clone())
                    .is_ok_and(|other| other.connection_id == spec.connection_id && other.collection == spec.collection)
            });
            if let Some(job) = busy {
                return Err(ServiceError::Conflict(format!(
                    "collection `{}`: backfill {} into it is {status}; wait for it to end or cancel it",
                    spec.collection,
                    job.id()
                )));
            }
        }
        if spec.mode == BackfillMode::Full && self.collections(connection).await?.contains(&spec.collection) {
            return Err(ServiceError::Conflict(format!(
                "collection `{}` already exists on connection `{}`: a FULL backfill creates its collection; \
                 load it with an INCREMENTAL backfill, or choose another name",
                spec.collection, connection.spec.name
            )));
        }
        Ok(())
    }

    /// The names of the collections `connection`'s engine holds, read without loading any.
    async fn collections(&self, connection: &Connection) -> Result<Vec<String>, ServiceError> {
        collection_names(self.stores.as_ref(), connection).await
    }

    /// The backfill `id` (viewer, one the caller sees), with its work items counted.
    pub async fn get(&self, caller: &Caller, id: JobId) -> Result<Backfill, ServiceError> {
        caller.require(Role::Viewer)?;
        let job = self.job(caller, id).await?;
        self.backfill(job).await
    }

    /// Backfills, newest first (viewer): the caller's own, or everyone's for an admin.
    pub async fn list(&self, caller: &Caller, page: Page) -> Result<Listed<Backfill>, ServiceError> {
        caller.require(Role::Viewer)?;
        let filter = JobFilter {
            kind: Some(JobKind::Backfill),
            owner: listed_owner(caller).map(str::to_owned),
            ..JobFilter::default()
        };
        let listed = self.jobs.list(filter, page).await?;
        let mut items = Vec::with_capacity(listed.items.len());
        for job in listed.items {
            items.push(self.backfill(job).await?);
        }
        Ok(Listed { items, total: listed.total })
    }

    /// The work items of backfill `id` (viewer, one the caller sees) with `status`, in plan order.
    pub async fn items(
        &self,
        caller: &Caller,
        id: JobId,
        status: Option<WorkItemStatus>,
        page: Page,
    ) -> Result<Listed<WorkItem>, ServiceError> {
        caller.require(Role::Viewer)?;
        self.job(caller, id).await?;
        Ok(self.backfills.items(id, status, page).await?)
    }

    /// Pauses, resumes or cancels backfill `id` (editor, one the caller sees), as
    /// [`JobService`] does any job; a cancelled backfill's unfinished items read `PENDING` again.
    pub async fn command(
        &self,
        caller: &Caller,
        id: JobId,
        command: BackfillCommand,
    ) -> Result<Backfill, ServiceError> {
        caller.require(Role::Editor)?;
        self.job(caller, id).await?;
        let job = match command {
            BackfillCommand::Pause => self.job_service.pause(caller, id).await?,
            BackfillCommand::Resume => self.job_service.resume(caller, id).await?,
            BackfillCommand::Cancel => {
                let job = self.job_service.cancel(caller, id).await?;
                self.backfills.requeue_running(id, self.clock.now()).await?;
                job
            }
        };
        self.backfill(job).await
    }

    /// The `backfill` job `id` the caller sees; any other answers the `NotFound` of a missing
    /// backfill.
    async fn job(&self, caller: &Caller, id: JobId) -> Result<Job, ServiceError> {
        let missing = || ServiceError::NotFound { entity: Entity::Backfill, id: id.to_string() };
        let job = match self.jobs.get(id).await {
            Ok(job) => job,
            Err(RepositoryError::NotFound { .. }) => return Err(missing()),
            Err(other) => return Err(other.into()),
        };
        ensure_seen(caller, job.owner(), Entity::Backfill, id)?;
        if job.kind() != JobKind::Backfill {
            return Err(missing());
        }
        Ok(job)
    }

    async fn backfill(&self, job: Job) -> Result<Backfill, ServiceError> {
        let items = self.backfills.counts(job.id()).await?;
        Backfill::of(job, items).map_err(|error| ServiceError::Internal(error.to_string()))
    }
}
