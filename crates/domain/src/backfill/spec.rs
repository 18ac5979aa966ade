//! What a backfill loads, where to, with which index settings, and the backfill as it is read.

use std::fmt;
use std::str::FromStr;

use crate::backfill::WorkItemCounts;
use crate::study::StudyReport;
use crate::validation::{ValidationReport, check_index, check_quantization, check_range, vector_field};
use crate::{
    ConnectionId, DatasetId, DomainError, Job, JobId, JobKind, JobStatus, Limits, OptimizerConfig, SchemaConfig,
    Violation,
};

/// How a backfill treats its collection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum BackfillMode {
    /// Every train file into a collection that does not exist yet (created by the backfill).
    Full,
    /// Into an existing collection with the same vectors (created when missing), skipping the
    /// file ranges earlier backfills into it loaded.
    Incremental,
}

impl BackfillMode {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Full => "FULL",
            Self::Incremental => "INCREMENTAL",
        }
    }
}

impl fmt::Display for BackfillMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BackfillMode {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::Full, Self::Incremental].into_iter().find(|mode| mode.as_str() == s).ok_or_else(|| {
            DomainError::invalid("type", format!("unknown backfill type `{s}`; expected FULL or INCREMENTAL"))
        })
    }
}

/// Where the collection's index settings come from.
#[derive(Clone, Debug, PartialEq)]
pub enum IndexSettings {
    /// Given with the request (the experiments' `optimizer_config`).
    Given(OptimizerConfig),
    /// The recommendation of a completed study.
    Study(JobId),
}

/// What a user asks to load.
#[derive(Clone, Debug, PartialEq)]
pub struct BackfillSpec {
    /// The dataset whose train rows are loaded.
    pub dataset_id: DatasetId,
    /// The engine.
    pub connection_id: ConnectionId,
    /// The collection.
    pub collection: String,
    /// Index and quantization of the collection, when the backfill creates it.
    pub settings: IndexSettings,
    /// Points per upsert.
    pub batch_size: u32,
    /// Work items loaded at once.
    pub parallel: u32,
    /// `FULL` or `INCREMENTAL`.
    pub mode: BackfillMode,
}

impl BackfillSpec {
    /// The numbers out of their bounds ([`Limits::UPLOAD_BATCH_SIZE`], [`Limits::BACKFILL_PARALLEL`]).
    pub fn violations(&self) -> Vec<Violation> {
        let mut report = ValidationReport::default();
        check_range(&mut report, "batch_size", "batch_size", Some(self.batch_size), &Limits::UPLOAD_BATCH_SIZE);
        check_range(&mut report, "parallel", "parallel", Some(self.parallel), &Limits::BACKFILL_PARALLEL);
        report.errors
    }
}

/// Checks index settings against the dataset's vectors and Qdrant's ranges; fields are named as in
/// an experiment (`optimizer_config.indexing.<vector>.m`, …).
pub fn validate_optimizer(config: &OptimizerConfig, schema: &SchemaConfig) -> Vec<Violation> {
    let mut report = ValidationReport::default();
    for (name, index) in &config.indexing {
        let field = vector_field("optimizer_config.indexing", name);
        if !schema.vectors.contains_key(name) {
            let has = if schema.vectors.is_empty() {
                "the dataset has no vectors".to_owned()
            } else {
                format!("the dataset has {}", schema.vector_names())
            };
            report.error(&field, format!("vector `{name}` is not in the dataset: {has}"));
        }
        check_index(&mut report, &field, index);
    }
    check_quantization(&mut report, config.quantization.as_ref());
    report.errors
}

/// The index settings a study recommends: the build of its recommended point (the closest one
/// when none meets the target); `None` when the study measured nothing.
pub fn recommended_optimizer(report: &StudyReport) -> Option<OptimizerConfig> {
    let recommendation = report.recommendation.as_ref()?;
    report.points.get(recommendation.point).map(|point| point.point.build.optimizer_config())
}

/// What a `backfill` job carries: the spec with its index settings resolved.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BackfillPayload {
    /// The dataset.
    pub dataset_id: DatasetId,
    /// The engine.
    pub connection_id: ConnectionId,
    /// The collection.
    pub collection: String,
    /// Index and quantization the collection is created with.
    pub optimizer_config: OptimizerConfig,
    /// The study whose recommendation they are, when they are one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub study_id: Option<JobId>,
    /// Points per upsert.
    pub batch_size: u32,
    /// Work items loaded at once.
    pub parallel: u32,
    /// `FULL` or `INCREMENTAL`.
    pub mode: BackfillMode,
}

/// A backfill as read: its job (status, progress, error, result), what it loads, and its work
/// items counted by status.
#[derive(Clone, Debug, PartialEq)]
pub struct Backfill {
    /// The `backfill` job; its id is the backfill's.
    pub job: Job,
    /// What it loads.
    pub payload: BackfillPayload,
    /// Its work items by status, with rows planned and points loaded.
    pub items: WorkItemCounts,
}

impl Backfill {
    /// The backfill `job` is, with its `items`.
    ///
    /// # Errors
    /// `Invalid` when the job is of another kind or its payload is not a backfill's.
    pub fn of(job: Job, items: WorkItemCounts) -> Result<Self, DomainError> {
        if job.kind() != JobKind::Backfill {
            return Err(DomainError::invalid(
                "kind",
                format!("job {} is a {} job, not a backfill", job.id(), job.kind()),
            ));
        }
        let payload = serde_json::from_value(job.payload().clone())
            .map_err(|error| DomainError::invalid("payload", format!("job {}: {error}", job.id())))?;
        Ok(Self { job, payload, items })
    }

    /// Identifier (its job's).
    pub fn id(&self) -> JobId {
        self.job.id()
    }

    /// Points to load in all: the rows of its planned items; `None` until it is planned (a
    /// completed backfill with no item had nothing to load).
    pub fn points_total(&self) -> Option<u64> {
        (self.items.total() > 0 || self.job.status() == JobStatus::Completed).then_some(self.items.rows)
    }

    /// Points loaded so far (of `DONE` items).
    pub fn points_done(&self) -> u64 {
        self.items.points
    }

    /// Points per second while it runs, once measurable.
    pub fn rate(&self) -> Option<f64> {
        (self.job.status() == JobStatus::Running).then_some(self.job.progress().rate).flatten()
    }

    /// Seconds left at the current rate, while it runs.
    pub fn seconds_left(&self) -> Option<f64> {
        let rate = self.rate().filter(|rate| *rate > 0.0)?;
        let left = self.points_total()?.saturating_sub(self.points_done());
        Some(left as f64 / rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dimension, Distance, IndexConfig, Progress, Quantization, ScalarType, VectorSpec};

    fn schema() -> SchemaConfig {
        SchemaConfig::from_vectors([("dense", VectorSpec::new(Dimension::new(8).unwrap(), Distance::Cosine))]).unwrap()
    }

    fn payload() -> BackfillPayload {
        BackfillPayload {
            dataset_id: DatasetId::new(),
            connection_id: ConnectionId::new(),
            collection: "qbench-docs".to_owned(),
            optimizer_config: OptimizerConfig::default(),
            study_id: None,
            batch_size: 256,
            parallel: 4,
            mode: BackfillMode::Full,
        }
    }

    #[test]
    fn bounds_and_index_settings_name_their_fields() {
        let spec = BackfillSpec {
            dataset_id: DatasetId::new(),
            connection_id: ConnectionId::new(),
            collection: "qbench-docs".to_owned(),
            settings: IndexSettings::Given(OptimizerConfig::default()),
            batch_size: 0,
            parallel: 17,
            mode: BackfillMode::Full,
        };
        let fields: Vec<String> = spec.violations().into_iter().map(|v| v.field).collect();
        assert_eq!(fields, ["batch_size", "parallel"]);

        let config = OptimizerConfig {
            indexing: [("sparse".parse().unwrap(), IndexConfig::hnsw(600, 100))].into(),
            quantization: Some(Quantization::Scalar {
                scalar_type: ScalarType::Int8,
                quantile: Some(0.1),
                always_ram: None,
            }),
        };
        let violations = validate_optimizer(&config, &schema());
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "optimizer_config.indexing.sparse",
                "optimizer_config.indexing.sparse.m",
                "optimizer_config.quantization.scalar.quantile"
            ]
        );
        assert!(violations[0].message.contains("`dense`"), "{violations:?}");
    }

    #[test]
    fn a_backfill_reads_its_progress_from_its_items_and_its_rate_from_its_running_job() {
        let body = serde_json::to_value(payload()).unwrap();
        let now = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let mut job = Job::new(JobId::new(), JobKind::Backfill, "ann", body, None, now);
        let items = WorkItemCounts { pending: 2, done: 2, rows: 1_000, points: 400, ..WorkItemCounts::default() };
        let queued = Backfill::of(job.clone(), items).unwrap();
        assert_eq!((queued.points_total(), queued.points_done(), queued.rate()), (Some(1_000), 400, None));

        job.claim("w", now, now).unwrap();
        job.report_progress(Progress { rate: Some(200.0), ..Progress::at("load", 400, Some(1_000)) }, now);
        let running = Backfill::of(job, items).unwrap();
        assert_eq!(running.seconds_left(), Some(3.0));

        let unplanned = Backfill::of(running.job.clone(), WorkItemCounts::default()).unwrap();
        assert_eq!((unplanned.points_total(), unplanned.seconds_left()), (None, None));

        let mut nothing_new = running.job.clone();
        nothing_new.complete(serde_json::json!({}), now).unwrap();
        assert_eq!(Backfill::of(nothing_new, WorkItemCounts::default()).unwrap().points_total(), Some(0));

        let other = Job::new(JobId::new(), JobKind::Noop, "ann", serde_json::json!({}), None, now);
        assert!(Backfill::of(other, items).is_err());
    }

    #[test]
    fn modes_read_back_from_their_wire_names() {
        for mode in [BackfillMode::Full, BackfillMode::Incremental] {
            assert_eq!(mode.as_str().parse::<BackfillMode>().unwrap(), mode);
        }
        assert!("full".parse::<BackfillMode>().is_err());
    }
}
