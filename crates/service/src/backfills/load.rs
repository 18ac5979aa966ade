//! Loading work items: each reads its own range of row groups and upserts it in batches with the
//! dataset's ids (so loading an item again overwrites the same points), a few items at a time,
//! retrying transient errors.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use qbench_domain::SchemaConfig;
use qbench_domain::backfill::WorkItem;
use qbench_repository::BackfillRepository;
use qbench_storage::{DatasetReader, DatasetSource, PointBatch};
use qbench_vector_store::{Point, VectorStore};

use crate::Clock;
use crate::execution::point_at;
use crate::jobs::{JobContext, JobError};

/// Attempts an item gets (counted across executions: an item whose worker was lost mid-way has
/// used one) before it fails for good.
pub(super) const ITEM_ATTEMPTS: u32 = 3;

/// Everything loading needs, borrowed from the handler and the job.
pub(super) struct Loader<'a> {
    pub(super) backfills: &'a dyn BackfillRepository,
    pub(super) reader: &'a dyn DatasetReader,
    pub(super) store: &'a dyn VectorStore,
    pub(super) clock: &'a dyn Clock,
    pub(super) source: &'a DatasetSource,
    pub(super) schema: &'a SchemaConfig,
    pub(super) collection: &'a str,
    /// Points per upsert.
    pub(super) batch_size: usize,
    /// Waited after a transient failure, times the attempts made.
    pub(super) retry_backoff: Duration,
    pub(super) context: &'a JobContext,
}

/// How loading the items ended, short of an error of the job itself.
#[derive(Debug)]
pub(super) enum Ending {
    /// Every item is `DONE`.
    Loaded,
    /// A pause was asked: the items under way were finished and no other started.
    Paused,
    /// An item failed for good (the first, by plan order); the items under way were finished.
    Failed(WorkItem),
}

/// How one item ended.
enum Loaded {
    Done,
    NotStarted,
    Failed(WorkItem),
}

/// Why one attempt failed.
enum Attempt {
    /// Retrying may help (the store or the engine could not be reached).
    Transient(String),
    /// It will fail again.
    Permanent(String),
}

impl Loader<'_> {
    /// Loads `items`, `parallel` at a time, until all are done, a pause is asked or one fails.
    /// `Cancelled` as soon as the job's cancel token fires (items under way stay `RUNNING`, to be
    /// loaded again if the job is).
    pub(super) async fn load_all(&self, items: Vec<WorkItem>, parallel: usize) -> Result<Ending, JobError> {
        let stop = AtomicBool::new(false);
        let loading = futures_util::stream::iter(items)
            .map(|item| self.load(item, &stop))
            .buffer_unordered(parallel.max(1))
            .collect::<Vec<_>>();
        let outcomes = tokio::select! {
            biased;
            () = self.context.cancel.cancelled() => return Err(JobError::Cancelled),
            outcomes = loading => outcomes,
        };
        let mut failed: Option<WorkItem> = None;
        let mut paused = false;
        for outcome in outcomes {
            match outcome? {
                Loaded::Done => {}
                Loaded::NotStarted => paused = true,
                Loaded::Failed(item) => {
                    if failed.as_ref().is_none_or(|first| item.ordinal < first.ordinal) {
                        failed = Some(item);
                    }
                }
            }
        }
        if self.context.cancel.is_cancelled() {
            return Err(JobError::Cancelled);
        }
        Ok(match (failed, paused) {
            (Some(item), _) => Ending::Failed(item),
            (None, true) => Ending::Paused,
            (None, false) => Ending::Loaded,
        })
    }

    /// Loads one item, retrying transient failures; does not start it once `stop` is set or a
    /// pause is asked.
    async fn load(&self, mut item: WorkItem, stop: &AtomicBool) -> Result<Loaded, JobError> {
        loop {
            if stop.load(Ordering::SeqCst) || self.context.pause.is_cancelled() || self.context.cancel.is_cancelled() {
                return Ok(Loaded::NotStarted);
            }
            if item.attempts >= ITEM_ATTEMPTS {
                // Its earlier attempts were cut short by lost workers (or failed just before).
                let why = item.last_error.clone().unwrap_or_else(|| "its worker was lost during each".to_owned());
                item.fail(format!("gave up after {} attempts: {why}", item.attempts), self.clock.now());
                self.store_item(&item).await?;
                stop.store(true, Ordering::SeqCst);
                return Ok(Loaded::Failed(item));
            }
            item.start(self.clock.now());
            self.store_item(&item).await?;
            match self.upsert_range(&item).await {
                Ok(points) => {
                    item.done(points, self.clock.now());
                    self.store_item(&item).await?;
                    self.context.progress.advance(points);
                    return Ok(Loaded::Done);
                }
                Err(Attempt::Transient(error)) if item.attempts < ITEM_ATTEMPTS => {
                    tracing::warn!(backfill_id = %item.backfill_id, ordinal = item.ordinal, attempt = item.attempts, %error, "work item failed; retrying");
                    item.retry(error, self.clock.now());
                    self.store_item(&item).await?;
                    tokio::select! {
                        () = self.context.cancel.cancelled() => return Ok(Loaded::NotStarted),
                        () = tokio::time::sleep(self.retry_backoff * item.attempts) => {}
                    }
                }
                Err(Attempt::Transient(error) | Attempt::Permanent(error)) => {
                    item.fail(error, self.clock.now());
                    self.store_item(&item).await?;
                    stop.store(true, Ordering::SeqCst);
                    return Ok(Loaded::Failed(item));
                }
            }
        }
    }

    /// Reads the item's row groups and upserts them; answers the points upserted.
    async fn upsert_range(&self, item: &WorkItem) -> Result<u64, Attempt> {
        let groups = item.row_groups.start as usize..item.row_groups.end as usize;
        let place = format!("{}, row groups {}..{}", item.location, groups.start, groups.end);
        let read = |error: qbench_storage::StorageError| {
            let message = format!("read {place}: {error}");
            if error.is_transient() { Attempt::Transient(message) } else { Attempt::Permanent(message) }
        };
        let write = |error: qbench_vector_store::VectorStoreError| {
            let message = format!("upsert {place} into `{}`: {error}", self.collection);
            if error.is_transient() { Attempt::Transient(message) } else { Attempt::Permanent(message) }
        };
        let mut stream = self
            .reader
            .open_row_groups(self.source, self.schema, &item.location, groups, item.first_row, self.batch_size)
            .await
            .map_err(read)?;
        let mut points = 0_u64;
        while let Some(batch) = stream.next_batch().await.map_err(read)? {
            for chunk in points_of(&batch).chunks(self.batch_size) {
                self.store.upsert(self.collection, chunk).await.map_err(write)?;
            }
            points += batch.len() as u64;
        }
        if points != item.rows {
            return Err(Attempt::Permanent(format!(
                "read {place}: {points} rows where the file's footer counts {} in those row groups",
                item.rows
            )));
        }
        Ok(points)
    }

    async fn store_item(&self, item: &WorkItem) -> Result<(), JobError> {
        self.backfills
            .update(item)
            .await
            .map_err(|error| JobError::Failed(format!("work item {} ({}): {error}", item.ordinal, item.status)))
    }
}

/// Every row of `batch` as a point: its id, each named vector, its payload.
fn points_of(batch: &PointBatch) -> Vec<Point> {
    (0..batch.len()).map(|row| point_at(batch, row)).collect()
}
