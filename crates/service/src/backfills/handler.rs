//! The `backfill` job: plan once, then load the items not yet done, then index.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use qbench_domain::backfill::{BackfillMode, BackfillPayload, ITEM_ROWS, WorkItem, WorkItemStatus, plan_items};
use qbench_domain::{Job, JobId, JobKind, JobStatus, LocalAccess, RunId};
use qbench_repository::{
    BackfillRepository, ConnectionRepository, DatasetRepository, JobRepository, Page, RepositoryError,
    StorageRepository,
};
use qbench_storage::{DatasetReader, S3Credentials};
use qbench_vector_store::{VectorStore, VectorStoreProvider};

use crate::backfills::collection::{check_vectors, collection_spec, exists};
use crate::backfills::load::{Ending, Loader};
use crate::backfills::plan::{ensure_unchanged, plan_files};
use crate::jobs::{JobContext, JobError, JobHandler, JobOutcome};
use crate::{Clock, Repositories};

/// How long a transient failure of an item is waited out, times the attempts made.
const RETRY_BACKOFF: Duration = Duration::from_secs(2);

/// Executes `backfill` jobs. Each execution continues where the last stopped: the plan is made
/// once and stored, items a lost worker left `RUNNING` are loaded again, `DONE` ones never.
pub struct BackfillHandler {
    backfills: Arc<dyn BackfillRepository>,
    datasets: Arc<dyn DatasetRepository>,
    connections: Arc<dyn ConnectionRepository>,
    storages: Arc<dyn StorageRepository>,
    jobs: Arc<dyn JobRepository>,
    clock: Arc<dyn Clock>,
    reader: Arc<dyn DatasetReader>,
    stores: Arc<dyn VectorStoreProvider>,
    default_s3: Option<S3Credentials>,
    access: LocalAccess,
    item_rows: u64,
    retry_backoff: Duration,
}

impl BackfillHandler {
    /// A handler reading datasets through `reader` (`s3://` ones without a storage of their own
    /// with `default_s3`; local ones in their owner's area under `access`) into the engines of
    /// `stores`.
    pub fn new(
        repositories: &Repositories,
        reader: Arc<dyn DatasetReader>,
        stores: Arc<dyn VectorStoreProvider>,
        default_s3: Option<S3Credentials>,
        access: LocalAccess,
    ) -> Self {
        Self {
            backfills: repositories.backfills.clone(),
            datasets: repositories.datasets.clone(),
            connections: repositories.connections.clone(),
            storages: repositories.storages.clone(),
            jobs: repositories.jobs.clone(),
            clock: repositories.clock.clone(),
            reader,
            stores,
            default_s3,
            access,
            item_rows: ITEM_ROWS,
            retry_backoff: RETRY_BACKOFF,
        }
    }

    /// The same handler planning items of about `rows` rows (tests cut small datasets in many).
    #[must_use]
    pub fn with_item_rows(mut self, rows: u64) -> Self {
        self.item_rows = rows.max(1);
        self
    }

    /// The same handler waiting `backoff` (times the attempts made) before retrying an item.
    #[must_use]
    pub fn with_retry_backoff(mut self, backoff: Duration) -> Self {
        self.retry_backoff = backoff;
        self
    }

    async fn run(&self, job: &Job, payload: &BackfillPayload, context: &JobContext) -> Result<JobOutcome, JobError> {
        let id = job.id();
        context.progress.enter("plan", None);
        let dataset = self.datasets.get(payload.dataset_id).await.map_err(|error| failed("dataset", &error))?;
        let connection =
            self.connections.get(payload.connection_id).await.map_err(|error| failed("connection", &error))?;
        let source =
            crate::sources::dataset_source(self.storages.as_ref(), self.default_s3.as_ref(), self.access, &dataset)
                .await
                .map_err(|error| failed("dataset", &error))?;
        let schema = &dataset.spec.schema_config;
        let store = self.stores.open(&connection, RunId::new()).await.map_err(|error| failed("engine", &error))?;
        let collection = payload.collection.as_str();
        let inspection = self.reader.inspect(&source, schema).await.map_err(|error| failed("dataset", &error))?;

        let mut counts = self.backfills.counts(id).await.map_err(|error| failed("plan", &error))?;
        if counts.total() == 0 {
            // The first execution (or one that stopped before its plan was stored).
            let existed = exists(store.as_ref(), collection).await?;
            let loaded = match (payload.mode, existed) {
                (BackfillMode::Full, true) => {
                    return Err(JobError::Failed(format!(
                        "collection `{collection}` already exists: a FULL backfill loads a collection it creates"
                    )));
                }
                (BackfillMode::Incremental, true) => {
                    check_vectors(store.as_ref(), collection, &schema.vectors).await?;
                    self.backfills.loaded(connection.id, collection).await.map_err(|error| failed("plan", &error))?
                }
                // A missing collection has nothing loaded, whatever earlier backfills loaded into
                // one of its name.
                (_, false) => Vec::new(),
            };
            let loaded: HashSet<_> = loaded.into_iter().collect();
            let files = plan_files(&inspection);
            let items = plan_items(id, (connection.id, collection), &files, &loaded, self.item_rows, self.clock.now());
            match self.backfills.plan(id, &items).await {
                // Another execution planned it meanwhile (a lease lost and taken over): its plan holds.
                Ok(()) | Err(RepositoryError::Duplicate { .. }) => {}
                Err(error) => return Err(failed("plan", &error)),
            }
            counts = self.backfills.counts(id).await.map_err(|error| failed("plan", &error))?;
            tracing::info!(backfill_id = %id, items = counts.total(), rows = counts.rows, skipped = loaded.len(), "backfill planned");
        } else {
            let requeued =
                self.backfills.requeue_running(id, self.clock.now()).await.map_err(|error| failed("plan", &error))?;
            if requeued > 0 {
                tracing::info!(backfill_id = %id, requeued, "work items a lost worker left running are loaded again");
            }
        }
        let unfinished = self.unfinished(job).await?;
        ensure_unchanged(&unfinished, &inspection)?;

        context.progress.enter("collection", None);
        if exists(store.as_ref(), collection).await? {
            check_vectors(store.as_ref(), collection, &schema.vectors).await?;
        } else if counts.done > 0 {
            return Err(JobError::Failed(format!(
                "collection `{collection}` is gone: it was dropped while the backfill loaded it ({} items were loaded)",
                counts.done
            )));
        } else {
            let spec = collection_spec(collection, schema, &payload.optimizer_config);
            store.create_collection(&spec).await.map_err(|error| failed("collection", &error))?;
        }

        context.progress.enter_at("load", counts.points, Some(counts.rows));
        let loader = Loader {
            backfills: self.backfills.as_ref(),
            reader: self.reader.as_ref(),
            store: store.as_ref(),
            clock: self.clock.as_ref(),
            source: &source,
            schema,
            collection,
            batch_size: payload.batch_size.max(1) as usize,
            retry_backoff: self.retry_backoff,
            context,
        };
        match loader.load_all(unfinished, payload.parallel as usize).await {
            Ok(Ending::Loaded) => {}
            Ok(Ending::Paused) => return Ok(JobOutcome::Paused),
            Ok(Ending::Failed(item)) => return Err(self.item_failed(id, &item).await),
            Err(JobError::Cancelled) => {
                self.after_cancel(job).await;
                return Err(JobError::Cancelled);
            }
            Err(error) => return Err(error),
        }
        self.finish(job, payload, store.as_ref(), context).await
    }

    /// The items not loaded yet, in plan order.
    async fn unfinished(&self, job: &Job) -> Result<Vec<WorkItem>, JobError> {
        let mut items = Vec::new();
        let mut page = Page { limit: Page::MAX_LIMIT, offset: 0 };
        loop {
            let listed = self
                .backfills
                .items(job.id(), Some(WorkItemStatus::Pending), page)
                .await
                .map_err(|error| failed("plan", &error))?;
            let read = listed.items.len() as u64;
            items.extend(listed.items);
            if read < page.limit {
                return Ok(items);
            }
            page.offset += read;
        }
    }

    /// Indexes the loaded collection and answers what it holds.
    async fn finish(
        &self,
        job: &Job,
        payload: &BackfillPayload,
        store: &dyn VectorStore,
        context: &JobContext,
    ) -> Result<JobOutcome, JobError> {
        let collection = payload.collection.as_str();
        context.progress.enter("index", None);
        tokio::select! {
            biased;
            () = context.cancel.cancelled() => return Err(JobError::Cancelled),
            indexed = store.build_index(collection) => indexed.map_err(|error| failed("index", &error))?,
        }
        let info = store.collection_info(collection).await.map_err(|error| failed("index", &error))?;
        let counts = self.backfills.counts(job.id()).await.map_err(|error| failed("index", &error))?;
        if payload.mode == BackfillMode::Full && info.points != counts.rows {
            return Err(JobError::Failed(format!(
                "index: collection `{collection}` holds {} points where the dataset has {} train rows (are some ids \
                 repeated in the dataset?)",
                info.points, counts.rows
            )));
        }
        Ok(JobOutcome::Completed(serde_json::json!({
            "collection": collection,
            "points": info.points,
            "loaded": counts.points,
            "items": counts.done,
            "mode": payload.mode,
        })))
    }

    /// The job's failure for `item`, which failed for good, saying what is loaded.
    async fn item_failed(&self, id: JobId, item: &WorkItem) -> JobError {
        let loaded = match self.backfills.counts(id).await {
            Ok(counts) => format!("; {} of {} items are loaded", counts.done, counts.total()),
            Err(_) => String::new(),
        };
        JobError::Failed(format!(
            "load: work item {} ({}, row groups {}..{}) failed after {} attempts: {}{loaded}; an INCREMENTAL \
             backfill loads the rest",
            item.ordinal,
            item.location,
            item.row_groups.start,
            item.row_groups.end,
            item.attempts,
            item.last_error.as_deref().unwrap_or("no cause recorded")
        ))
    }

    /// A cancelled backfill's items under way read `PENDING` again; a backfill cancelled because
    /// its worker stops or lost it keeps them `RUNNING` for the next execution to take back.
    async fn after_cancel(&self, job: &Job) {
        let cancelled = self.jobs.get(job.id()).await.is_ok_and(|stored| stored.status() == JobStatus::Canceled);
        if cancelled && let Err(error) = self.backfills.requeue_running(job.id(), self.clock.now()).await {
            tracing::warn!(backfill_id = %job.id(), %error, "work items of a cancelled backfill left running");
        }
    }
}

fn failed(what: &str, error: &dyn std::fmt::Display) -> JobError {
    JobError::Failed(format!("{what}: {error}"))
}

#[async_trait]
impl JobHandler for BackfillHandler {
    fn kind(&self) -> JobKind {
        JobKind::Backfill
    }

    async fn execute(&self, job: &Job, context: &JobContext) -> Result<JobOutcome, JobError> {
        let payload: BackfillPayload =
            serde_json::from_value(job.payload().clone()).map_err(|error| failed("backfill payload", &error))?;
        self.run(job, &payload, context).await
    }
}
