//! Wire types of `/api/v1/backfills`: asking for a backfill, following it, its work items, and
//! the commands that pause, resume or cancel it.

use apistos::ApiComponent;
use chrono::{DateTime, Utc};
use qbench_domain::backfill::{Backfill, BackfillMode, BackfillSpec, IndexSettings, WorkItem, WorkItemStatus};
use qbench_domain::{ConnectionId, DatasetId, JobId, Limits, Violation};
use qbench_service::backfills::BackfillCommand;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::dto::experiment::{
    IndexBody, IndexType, OptimizerConfigBody, QuantizationBody, ScalarInput, ScalarTypeBody,
};
use crate::dto::job::{JobResponse, JobStatusBody};
use crate::dto::snapshot::check_collection;
use crate::dto::{Violations, bounds};

const PARALLEL_MIN: u32 = *Limits::BACKFILL_PARALLEL.start();
const PARALLEL_MAX: u32 = *Limits::BACKFILL_PARALLEL.end();
/// Points per upsert when the request says nothing.
const DEFAULT_BATCH_SIZE: u32 = 256;
/// Work items loaded at once when the request says nothing.
const DEFAULT_PARALLEL: u32 = 4;

/// How a backfill treats its collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum BackfillTypeBody {
    /// Every train file, into a collection that must not exist yet (409 otherwise).
    Full,
    /// Into an existing collection with the dataset's vectors (created when missing), skipping
    /// the file ranges earlier backfills into it loaded.
    Incremental,
}

impl From<BackfillTypeBody> for BackfillMode {
    fn from(body: BackfillTypeBody) -> Self {
        match body {
            BackfillTypeBody::Full => Self::Full,
            BackfillTypeBody::Incremental => Self::Incremental,
        }
    }
}

impl From<BackfillMode> for BackfillTypeBody {
    fn from(mode: BackfillMode) -> Self {
        match mode {
            BackfillMode::Full => Self::Full,
            BackfillMode::Incremental => Self::Incremental,
        }
    }
}

/// A dataset to load into a collection. The collection's index settings are either given
/// (`optimizer_config`, as in an experiment) or a completed study's recommendation (`study_id`):
/// exactly one of the two.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
#[serde(deny_unknown_fields)]
#[schemars(example = "BackfillRequest::example")]
pub struct BackfillRequest {
    /// The dataset whose train rows are loaded.
    pub dataset_id: Uuid,
    /// The engine.
    pub connection_id: Uuid,
    /// The collection. qbench's own (`qbench-…`) for anyone with the editor role; any other only
    /// for an admin (403).
    #[schemars(regex(pattern = r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$"))]
    pub collection: String,
    /// Index and quantization settings of the collection when the backfill creates it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimizer_config: Option<OptimizerConfigBody>,
    /// A COMPLETED study whose recommended build sets the collection up instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub study_id: Option<Uuid>,
    /// Points per upsert, 1 to 65536; default 256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = "bounds::UPLOAD_BATCH_SIZE_MIN", max = "bounds::UPLOAD_BATCH_SIZE_MAX"))]
    pub batch_size: Option<u32>,
    /// Work items (file ranges) loaded at once, 1 to 16; default 4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = "PARALLEL_MIN", max = "PARALLEL_MAX"))]
    pub parallel: Option<u32>,
    /// `FULL` or `INCREMENTAL`.
    #[serde(rename = "type")]
    pub backfill_type: BackfillTypeBody,
}

impl BackfillRequest {
    fn example() -> Self {
        Self {
            dataset_id: Uuid::nil(),
            connection_id: Uuid::nil(),
            collection: "qbench-docs".to_owned(),
            optimizer_config: Some(OptimizerConfigBody {
                indexing: [(
                    "dense".to_owned(),
                    IndexBody {
                        index_type: IndexType::Hnsw,
                        m: Some(16),
                        ef_construct: Some(128),
                        full_scan_threshold: None,
                        on_disk: None,
                    },
                )]
                .into(),
                quantization: Some(QuantizationBody::Scalar(ScalarInput::Short(ScalarTypeBody::Int8))),
            }),
            study_id: None,
            batch_size: Some(DEFAULT_BATCH_SIZE),
            parallel: Some(DEFAULT_PARALLEL),
            backfill_type: BackfillTypeBody::Full,
        }
    }
}

impl TryFrom<BackfillRequest> for BackfillSpec {
    type Error = Vec<Violation>;

    fn try_from(request: BackfillRequest) -> Result<Self, Self::Error> {
        let mut violations = Violations::default();
        let mut collection_violations = Vec::new();
        check_collection("collection", &request.collection, &mut collection_violations);
        for violation in collection_violations {
            violations.push(violation.field, violation.message);
        }
        let settings = match (request.optimizer_config, request.study_id) {
            (Some(config), None) => config.to_domain(&mut violations).map(IndexSettings::Given),
            (None, Some(study)) => Some(IndexSettings::Study(JobId::from(study))),
            (Some(_), Some(_)) => {
                violations.push("optimizer_config", "give either optimizer_config or study_id, not both");
                None
            }
            (None, None) => {
                violations.push(
                    "optimizer_config",
                    "give the collection's index settings (optimizer_config) or a completed study's (study_id)",
                );
                None
            }
        };
        let spec = settings.map(|settings| Self {
            dataset_id: DatasetId::from(request.dataset_id),
            connection_id: ConnectionId::from(request.connection_id),
            collection: request.collection,
            settings,
            batch_size: request.batch_size.unwrap_or(DEFAULT_BATCH_SIZE),
            parallel: request.parallel.unwrap_or(DEFAULT_PARALLEL),
            mode: request.backfill_type.into(),
        });
        violations.finish(spec)
    }
}

/// How far a backfill has come, in points.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
pub struct BackfillProgressBody {
    /// `queued`, `plan`, `collection`, `load` or `index`.
    pub phase: String,
    /// Points loaded (of the `DONE` work items).
    pub points_done: u64,
    /// Points to load in all; unknown until the first execution planned the work items.
    pub points_total: Option<u64>,
    /// Points per second while it loads, once measurable.
    pub rate: Option<f64>,
    /// Seconds left at that rate.
    pub seconds_left: Option<f64>,
}

/// A backfill's work items by status.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
pub struct WorkItemCountsBody {
    /// Not loaded yet.
    pub pending: u64,
    /// Being loaded.
    pub running: u64,
    /// Loaded.
    pub done: u64,
    /// Given up after their attempts.
    pub failed: u64,
    /// In all.
    pub total: u64,
}

/// A backfill: what it loads, where it is, and its work items by status.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
pub struct BackfillResponse {
    /// Identifier (its job's: `/api/v1/jobs/{id}`).
    pub id: Uuid,
    /// Who asked for it.
    pub owner: String,
    /// The dataset loaded.
    pub dataset_id: Uuid,
    /// The engine.
    pub connection_id: Uuid,
    /// The collection.
    pub collection: String,
    /// `FULL` or `INCREMENTAL`.
    #[serde(rename = "type")]
    pub backfill_type: BackfillTypeBody,
    /// The collection's index settings (the study's recommendation when `study_id` is set).
    pub optimizer_config: OptimizerConfigBody,
    /// The study they come from.
    pub study_id: Option<Uuid>,
    /// Points per upsert.
    pub batch_size: u32,
    /// Work items loaded at once.
    pub parallel: u32,
    /// Where it is in its life (a paused backfill holds no worker).
    pub status: JobStatusBody,
    /// Whether a pause was asked and the backfill has not reached a safe point yet.
    pub pause_requested: bool,
    /// Points loaded, to load, and the rate.
    pub progress: BackfillProgressBody,
    /// Its work items by status (`/api/v1/backfills/{id}/work-items` lists them).
    pub work_items: WorkItemCountsBody,
    /// The points the collection holds, once completed.
    pub collection_points: Option<u64>,
    /// Why it failed.
    pub error: Option<String>,
    /// How many times a worker took it.
    pub attempts: u32,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
    /// When a worker first started it.
    pub start_time: Option<DateTime<Utc>>,
    /// When it ended.
    pub end_time: Option<DateTime<Utc>>,
    /// The job doing the work (id, kind, status, progress, links), on the `202` that queued it:
    /// every asynchronous operation answers its task the same way (`/api/v1/jobs/{id}` follows it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<JobResponse>,
}

impl From<&Backfill> for BackfillResponse {
    fn from(backfill: &Backfill) -> Self {
        let (job, payload, items) = (&backfill.job, &backfill.payload, &backfill.items);
        Self {
            id: job.id().as_uuid(),
            owner: job.owner().to_owned(),
            dataset_id: payload.dataset_id.as_uuid(),
            connection_id: payload.connection_id.as_uuid(),
            collection: payload.collection.clone(),
            backfill_type: payload.mode.into(),
            optimizer_config: OptimizerConfigBody::from_domain(&payload.optimizer_config),
            study_id: payload.study_id.map(|id| id.as_uuid()),
            batch_size: payload.batch_size,
            parallel: payload.parallel,
            status: job.status().into(),
            pause_requested: job.pause_requested(),
            progress: BackfillProgressBody {
                phase: job.progress().phase.clone(),
                points_done: backfill.points_done(),
                points_total: backfill.points_total(),
                rate: backfill.rate(),
                seconds_left: backfill.seconds_left(),
            },
            work_items: WorkItemCountsBody {
                pending: items.pending,
                running: items.running,
                done: items.done,
                failed: items.failed,
                total: items.total(),
            },
            collection_points: job.result().and_then(|result| result["points"].as_u64()),
            error: job.error().map(str::to_owned),
            attempts: job.attempts(),
            created_at: job.created_at(),
            start_time: job.start_time(),
            end_time: job.end_time(),
            task: None,
        }
    }
}

/// Where a work item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ApiComponent)]
#[serde(rename_all = "UPPERCASE")]
pub enum WorkItemStatusBody {
    /// Not loaded yet.
    Pending,
    /// Being loaded (one a lost worker left is loaded again).
    Running,
    /// Loaded.
    Done,
    /// Given up after its attempts; `last_error` says why.
    Failed,
}

impl From<WorkItemStatus> for WorkItemStatusBody {
    fn from(status: WorkItemStatus) -> Self {
        match status {
            WorkItemStatus::Pending => Self::Pending,
            WorkItemStatus::Running => Self::Running,
            WorkItemStatus::Done => Self::Done,
            WorkItemStatus::Failed => Self::Failed,
        }
    }
}

impl From<WorkItemStatusBody> for WorkItemStatus {
    fn from(status: WorkItemStatusBody) -> Self {
        match status {
            WorkItemStatusBody::Pending => Self::Pending,
            WorkItemStatusBody::Running => Self::Running,
            WorkItemStatusBody::Done => Self::Done,
            WorkItemStatusBody::Failed => Self::Failed,
        }
    }
}

/// One work item: a file's range of row groups, loaded as a unit.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
pub struct WorkItemResponse {
    /// Its place in the plan, from 0.
    pub ordinal: u32,
    /// The Parquet file.
    pub location: String,
    /// The file's size when planned, in bytes.
    pub bytes: u64,
    /// The file's version (ETag or modification time) when planned, when its store reports one.
    pub version: Option<String>,
    /// The first row group read.
    pub row_group_start: u32,
    /// The row group after the last one read (`[start, end)`).
    pub row_group_end: u32,
    /// The number of the range's first row among the dataset's train rows.
    pub first_row: u64,
    /// Rows in the range.
    pub rows: u64,
    /// Where it is.
    pub status: WorkItemStatusBody,
    /// Attempts started.
    pub attempts: u32,
    /// Points loaded, once `DONE`.
    pub points: u64,
    /// Why its last attempt failed.
    pub last_error: Option<String>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<&WorkItem> for WorkItemResponse {
    fn from(item: &WorkItem) -> Self {
        Self {
            ordinal: item.ordinal,
            location: item.location.clone(),
            bytes: item.bytes,
            version: item.version.clone(),
            row_group_start: item.row_groups.start,
            row_group_end: item.row_groups.end,
            first_row: item.first_row,
            rows: item.rows,
            status: item.status.into(),
            attempts: item.attempts,
            points: item.points,
            last_error: item.last_error.clone(),
            updated_at: item.updated_at,
        }
    }
}

/// What to do with a backfill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum BackfillCommandBody {
    /// Stop at the next safe point (between work items); a paused backfill holds no worker.
    Pause,
    /// Continue a paused backfill with the work items not yet loaded.
    Resume,
    /// Stop for good; what is loaded stays in the collection.
    Cancel,
}

/// A command for a backfill.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
#[serde(deny_unknown_fields)]
#[schemars(example = "BackfillCommandRequest::example")]
pub struct BackfillCommandRequest {
    /// `pause`, `resume` or `cancel`.
    pub command: BackfillCommandBody,
}

impl BackfillCommandRequest {
    fn example() -> Self {
        Self { command: BackfillCommandBody::Pause }
    }
}

impl From<BackfillCommandBody> for BackfillCommand {
    fn from(body: BackfillCommandBody) -> Self {
        match body {
            BackfillCommandBody::Pause => Self::Pause,
            BackfillCommandBody::Resume => Self::Resume,
            BackfillCommandBody::Cancel => Self::Cancel,
        }
    }
}
