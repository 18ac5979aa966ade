//! Studies on the wire: the request in Qdrant's vocabulary, and what a study found.

use std::collections::BTreeMap;

use apistos::ApiComponent;
use chrono::{DateTime, Utc};
use qbench_domain::study::{
    Budget, Constraints, EfValues, Objective, Optimise, QuantizationChoice, RankedLower, Recommendation, SearchSpace,
    SpaceSize, Strategy, StudyPayload, StudyPoint, StudyReport, StudySpace, StudySpec, TrialReport, VectorBuildSpace,
};
use qbench_domain::{ConnectionId, DatasetId, Job, ProductCompression, ScalarType, VectorName, Violation};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::problem::FieldError;
use crate::dto::Violations;
use crate::dto::experiment::QualityMetricBody;
use crate::dto::job::JobStatusBody;
use crate::dto::qdrant_json::{QdrantCollectionBody, QdrantSearchParams};
use crate::dto::report::IntervalBody;
use crate::dto::run::ProgressBody;
use crate::dto::snapshot::RepositoryBody;

fn default_k() -> u32 {
    10
}

fn default_repetitions() -> u32 {
    3
}

fn default_parallel() -> Vec<u32> {
    vec![1]
}

fn default_quantization() -> Vec<String> {
    vec!["none".to_owned()]
}

/// A tuning study to run: which builds and search settings to measure, and what "best" means.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
#[serde(deny_unknown_fields)]
#[schemars(example = "StudyRequest::example")]
pub struct StudyRequest {
    /// Name.
    pub name: String,
    /// The dataset measured.
    pub dataset_id: Uuid,
    /// The Qdrant measured (the built-in `embedded` connection, or a registered one).
    pub connection_id: Uuid,
    /// Results per query, and the `k` of the quality target. Default 10.
    #[serde(default = "default_k")]
    pub k: u32,
    /// The vectors searched; default every vector of the space.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vectors: Option<Vec<String>>,
    /// What to build and search.
    pub space: SpaceBody,
    /// The quality to reach and the figure to make best.
    pub objective: ObjectiveBody,
    /// Hard limits a recommended configuration must meet.
    #[serde(default)]
    pub constraints: ConstraintsBody,
    /// `grid`: every build and setting; `auto`: every build, each searching its cheapest `hnsw_ef`
    /// reaching the target by bisection over the space's range.
    #[serde(default)]
    pub strategy: StrategyBody,
    /// At most this many builds, or this long.
    #[serde(default)]
    pub budget: BudgetBody,
    /// Measured passes of each setting (1 to 10). Default 3.
    #[serde(default = "default_repetitions")]
    pub repetitions: u32,
    /// Keep each configuration built on all the points as a snapshot in this repository (a
    /// directory under the data roots, or a storage's bucket). Whether kept or not, a build whose
    /// snapshot exists (the same dataset, vectors and index settings, yours) is restored instead
    /// of built: a later study extends the search sweep without uploading or indexing again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_snapshots: Option<RepositoryBody>,
}

/// The search space, in Qdrant's vocabulary.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpaceBody {
    /// HNSW settings per vector.
    pub vectors: BTreeMap<String, VectorSpaceBody>,
    /// Collection-wide quantization to try: `none`, `int8`, `product-x4` … `product-x64`, `binary`.
    /// Default `["none"]`.
    #[serde(default = "default_quantization")]
    pub quantization: Vec<String>,
    /// Search settings measured on every build.
    pub search: SearchSpaceBody,
    /// Concurrent clients. Default `[1]`; only the first is measured for now.
    #[serde(default = "default_parallel")]
    pub parallel: Vec<u32>,
}

/// The HNSW settings of one vector to try.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VectorSpaceBody {
    /// Edges per node.
    pub m: Vec<u32>,
    /// Neighbours considered while building.
    pub ef_construct: Vec<u32>,
    /// Keep the graph on disk. Default `[false]`.
    #[serde(default)]
    pub on_disk: Vec<bool>,
}

/// `hnsw_ef` values: a list, or a range (`grid` measures its bounds and the powers of two between).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum EfBody {
    /// These values.
    List(Vec<u32>),
    /// From `min` to `max`.
    Range {
        /// Smallest.
        min: u32,
        /// Largest.
        max: u32,
    },
}

/// The search settings to try.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchSpaceBody {
    /// `hnsw_ef` values.
    pub hnsw_ef: EfBody,
    /// Also measure exact search.
    #[serde(default)]
    pub exact: bool,
    /// Quantized search re-scoring to try.
    #[serde(default)]
    pub rescore: Vec<bool>,
    /// Quantized search oversampling to try.
    #[serde(default)]
    pub oversampling: Vec<f64>,
    /// Ignoring the quantized vectors (searching the original ones) to try; `true` is tried once,
    /// without `rescore` and `oversampling`.
    #[serde(default)]
    pub ignore: Vec<bool>,
}

/// The quality to reach and the figure to make best.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectiveBody {
    /// The quality the target is set on (at `k`). Default `recall`.
    #[serde(default)]
    pub metric: QualityMetricBody,
    /// The quality to reach, in (0, 1].
    pub target: f64,
    /// The figure to make best. Default `qps`.
    #[serde(default)]
    pub optimise: OptimiseBody,
}

/// The figure a study makes best among the settings that reach its target.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OptimiseBody {
    /// Highest queries per second.
    #[default]
    Qps,
    /// Lowest 99th-percentile latency.
    P99Latency,
    /// Least RAM held by the built collection.
    Memory,
}

impl From<OptimiseBody> for Optimise {
    fn from(optimise: OptimiseBody) -> Self {
        match optimise {
            OptimiseBody::Qps => Self::Qps,
            OptimiseBody::P99Latency => Self::P99Latency,
            OptimiseBody::Memory => Self::Memory,
        }
    }
}

/// Hard limits.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConstraintsBody {
    /// Highest p99 latency, in milliseconds.
    pub max_p99_ms: Option<f64>,
    /// Lowest QPS.
    pub min_qps: Option<f64>,
    /// Most RAM the built collection may hold (measured on the engine after indexing), in bytes.
    pub max_memory_bytes: Option<u64>,
}

/// How the space is explored.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StrategyBody {
    /// Every build and setting.
    #[default]
    Grid,
    /// Per build, the cheapest `hnsw_ef` reaching the target, by bisection.
    Auto,
}

/// Limits of a study's work.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetBody {
    /// At most this many builds.
    pub max_builds: Option<u32>,
    /// Start no build after this many seconds.
    pub max_seconds: Option<u64>,
}

impl StudyRequest {
    fn example() -> Self {
        Self {
            name: "text-recall-95".to_owned(),
            dataset_id: Uuid::nil(),
            connection_id: Uuid::nil(),
            k: 10,
            vectors: Some(vec!["text".to_owned()]),
            space: SpaceBody {
                vectors: BTreeMap::from([(
                    "text".to_owned(),
                    VectorSpaceBody { m: vec![8, 16, 32], ef_construct: vec![64, 128, 256], on_disk: vec![] },
                )]),
                quantization: vec!["none".to_owned(), "int8".to_owned()],
                search: SearchSpaceBody {
                    hnsw_ef: EfBody::List(vec![16, 32, 64, 128, 256, 512]),
                    exact: false,
                    rescore: vec![],
                    oversampling: vec![],
                    ignore: vec![],
                },
                parallel: vec![1],
            },
            objective: ObjectiveBody { metric: QualityMetricBody::Recall, target: 0.95, optimise: OptimiseBody::Qps },
            constraints: ConstraintsBody { max_p99_ms: Some(5.0), min_qps: None, max_memory_bytes: None },
            strategy: StrategyBody::Grid,
            budget: BudgetBody::default(),
            repetitions: 3,
            keep_snapshots: None,
        }
    }
}

pub(crate) fn quantization_choice(text: &str) -> Option<QuantizationChoice> {
    match text {
        "none" => Some(QuantizationChoice::None),
        "int8" | "scalar" => Some(QuantizationChoice::Scalar(ScalarType::Int8)),
        "binary" => Some(QuantizationChoice::Binary),
        other => other.strip_prefix("product-").and_then(|ratio| {
            ProductCompression::ALL.into_iter().find(|c| c.as_str() == ratio).map(QuantizationChoice::Product)
        }),
    }
}

impl TryFrom<StudyRequest> for StudySpec {
    type Error = Vec<Violation>;

    fn try_from(request: StudyRequest) -> Result<Self, Self::Error> {
        let mut violations = Violations::default();
        let mut vectors = BTreeMap::new();
        for (name, space) in request.space.vectors {
            let field = format!("space.vectors.{name}");
            if let Some(name) = violations.check(&field, name.parse::<VectorName>()) {
                let on_disk = if space.on_disk.is_empty() { vec![false] } else { space.on_disk };
                vectors.insert(name, VectorBuildSpace { m: space.m, ef_construct: space.ef_construct, on_disk });
            }
        }
        let mut quantization = Vec::new();
        for (index, text) in request.space.quantization.iter().enumerate() {
            match quantization_choice(text) {
                Some(choice) => quantization.push(choice),
                None => violations.push(
                    format!("space.quantization[{index}]"),
                    format!("`{text}` is not none, int8, product-x4 … product-x64 or binary"),
                ),
            }
        }
        let searched = request.vectors.map(|names| {
            names
                .iter()
                .enumerate()
                .filter_map(|(index, name)| violations.check(format!("vectors[{index}]"), name.parse::<VectorName>()))
                .collect::<Vec<_>>()
        });
        let search = SearchSpace {
            hnsw_ef: match request.space.search.hnsw_ef {
                EfBody::List(values) => EfValues::List(values),
                EfBody::Range { min, max } => EfValues::Range { min, max },
            },
            exact: request.space.search.exact,
            rescore: request.space.search.rescore,
            oversampling: request.space.search.oversampling,
            ignore: request.space.search.ignore,
        };
        let (metric, optimise) = (request.objective.metric.into(), request.objective.optimise.into());
        let mut vault_violations = Vec::new();
        let keep_snapshots =
            request.keep_snapshots.and_then(|body| body.into_vault("keep_snapshots", &mut vault_violations));
        for violation in vault_violations {
            violations.push(violation.field, violation.message);
        }
        let spec = Some(StudySpec {
            name: request.name,
            dataset_id: DatasetId::from(request.dataset_id),
            connection_id: ConnectionId::from(request.connection_id),
            k: request.k,
            vectors: searched,
            space: StudySpace { vectors, quantization, search, parallel: request.space.parallel },
            objective: Objective { metric, target: request.objective.target, optimise },
            constraints: Constraints {
                max_p99_ms: request.constraints.max_p99_ms,
                min_qps: request.constraints.min_qps,
                max_memory_bytes: request.constraints.max_memory_bytes,
            },
            strategy: match request.strategy {
                StrategyBody::Grid => Strategy::Grid,
                StrategyBody::Auto => Strategy::Auto,
            },
            budget: Budget { max_builds: request.budget.max_builds, max_seconds: request.budget.max_seconds },
            repetitions: request.repetitions,
            keep_snapshots,
        });
        violations.finish(spec)
    }
}

/// How much a valid study measures.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
pub struct StudyValidation {
    /// Collections built (one per build configuration).
    pub builds: u64,
    /// Settings measured (builds × search settings × client counts).
    pub measurements: u64,
    /// Legal settings that are probably not what was meant.
    pub warnings: Vec<FieldError>,
}

impl StudyValidation {
    /// The answer for a valid study of `size`.
    pub fn new(size: SpaceSize, warnings: Vec<Violation>) -> Self {
        Self {
            builds: size.builds,
            measurements: size.measurements,
            warnings: warnings.into_iter().map(FieldError::from).collect(),
        }
    }
}

/// A study: its status and progress, and once completed what it found.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
pub struct StudyResponse {
    /// Identifier (also its job's).
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Who submitted it.
    pub owner: String,
    /// Where it is in its life.
    pub status: JobStatusBody,
    /// Trials done of the total, and the current trial.
    pub progress: ProgressBody,
    /// When it was submitted.
    pub created_at: DateTime<Utc>,
    /// When it started.
    pub start_time: Option<DateTime<Utc>>,
    /// When it ended.
    pub end_time: Option<DateTime<Utc>>,
    /// Why it failed.
    pub error: Option<String>,
    /// What it found, once completed.
    pub report: Option<StudyReportBody>,
}

/// What a study found.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StudyReportBody {
    /// Every trial (one run per build).
    pub trials: Vec<TrialBody>,
    /// Every measured point.
    pub points: Vec<PointBody>,
    /// Indexes of the non-dominated points, recall against QPS.
    pub front_recall_vs_qps: Vec<usize>,
    /// … recall against p99 latency.
    pub front_recall_vs_p99: Vec<usize>,
    /// … recall against memory.
    pub front_recall_vs_memory: Vec<usize>,
    /// The configuration to run; absent when nothing was measured.
    pub recommendation: Option<RecommendationBody>,
    /// Builds made (completed trials), on samples and on the full data.
    pub builds_made: u64,
    /// Of those, builds on a sample of the points (`auto`'s rounds before the full data).
    pub sample_builds: u64,
    /// Builds the full grid needs.
    pub grid_builds: u64,
    /// Measurements the full grid needs.
    pub grid_measurements: u64,
    /// Wall time, in seconds.
    pub seconds: f64,
    /// What the reader should know: builds a budget left out.
    pub notes: Vec<String>,
}

/// One trial run.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TrialBody {
    /// The run (see `/api/v1/runs/{id}`).
    pub run_id: String,
    /// The build (`m=16,ef_construct=128,int8`).
    pub build: String,
    /// How the run ended.
    pub status: String,
    /// Why it failed.
    pub error: Option<String>,
    /// The share of the points it was built on, for a round of `auto` on a sample; absent for a
    /// build on every point (only those give the study's points).
    pub sample_fraction: Option<f64>,
    /// Wall time from queuing the trial to its end, in seconds.
    pub seconds: f64,
    /// The run's own total time, when it completed.
    pub run_seconds: Option<f64>,
    /// The snapshot this trial restored instead of building, or kept its build in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<Uuid>,
    /// Whether it restored `snapshot_id` (nothing uploaded or indexed) rather than built.
    #[serde(default)]
    pub restored: bool,
}

/// One measured (build, search setting, client count).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PointBody {
    /// The run that measured it.
    pub run_id: String,
    /// The vector searched.
    pub vector: String,
    /// The build.
    pub build: String,
    /// The search setting.
    pub setting: String,
    /// `hnsw_ef` searched with.
    pub hnsw_ef: Option<u32>,
    /// Concurrent clients.
    pub parallel: u32,
    /// Mean recall@k.
    pub recall: f64,
    /// Mean precision@k.
    pub precision: f64,
    /// Mean F1.
    pub f1: f64,
    /// Mean QPS of the passes.
    pub qps: f64,
    /// p99 latency, in milliseconds.
    pub p99_ms: f64,
    /// RAM the built collection holds, in bytes: measured on the engine after indexing, or the
    /// estimate made before the build for an engine that does not report it.
    pub memory_bytes: Option<u64>,
    /// QPS over the passes.
    pub qps_interval: Option<IntervalBody>,
    /// p99 latency (seconds) over the passes.
    pub p99_interval: Option<IntervalBody>,
}

/// The configuration to run, with its evidence and the JSON to apply it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RecommendationBody {
    /// Whether it meets the target and every constraint (else it is the closest point).
    pub meets_target: bool,
    /// Its index among the points.
    pub point: usize,
    /// The other points meeting the target, best first, and why each ranks lower.
    pub runners_up: Vec<RunnerUpBody>,
    /// How the closest point misses, when nothing meets the target.
    pub misses: Vec<String>,
    /// The body of Qdrant's `PUT /collections/{name}` for this build, in Qdrant's own REST shape.
    pub collection: QdrantCollectionBody,
    /// The `params` of Qdrant's search request for this setting, in Qdrant's own REST shape.
    pub search_params: QdrantSearchParams,
}

/// A point that also meets the target.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RunnerUpBody {
    /// Its index among the points.
    pub point: usize,
    /// Why it ranks lower.
    pub why: String,
}

fn point_body(point: &StudyPoint) -> PointBody {
    let measured = &point.point;
    PointBody {
        run_id: point.run_id.clone(),
        vector: point.vector.clone(),
        build: measured.build.label(),
        setting: measured.setting.label(),
        hnsw_ef: measured.setting.hnsw_ef,
        parallel: measured.parallel,
        recall: measured.quality.recall,
        precision: measured.quality.precision,
        f1: measured.quality.f1,
        qps: measured.qps,
        p99_ms: measured.p99_seconds * 1e3,
        memory_bytes: measured.memory_bytes,
        qps_interval: measured.qps_interval.as_ref().map(IntervalBody::from),
        p99_interval: measured.p99_interval.as_ref().map(IntervalBody::from),
    }
}

fn trial_body(trial: &TrialReport) -> TrialBody {
    TrialBody {
        run_id: trial.run_id.clone(),
        build: trial.label.clone(),
        status: trial.status.clone(),
        error: trial.error.clone(),
        sample_fraction: trial.sample.map(|sample| sample.fraction),
        seconds: trial.seconds,
        run_seconds: trial.run_seconds,
        snapshot_id: trial.snapshot.as_ref().map(|snapshot| snapshot.snapshot_id.as_uuid()),
        restored: trial.snapshot.as_ref().is_some_and(|snapshot| snapshot.restored),
    }
}

fn why(ranked: &RankedLower) -> String {
    match ranked {
        RankedLower::Objective { value: Some(value), best } => format!("objective {value:.4} against {best:.4}"),
        RankedLower::Objective { value: None, best } => format!("objective not measured against {best:.4}"),
        RankedLower::TieBreak => {
            "same objective; lost the tie-break (quality, then a cheaper build or setting)".to_owned()
        }
    }
}

impl From<&StudyReport> for StudyReportBody {
    fn from(report: &StudyReport) -> Self {
        let recommendation = report.recommendation.as_ref().map(|chosen| {
            let (runners_up, misses) = match &chosen.decision {
                Recommendation::Meets { runners_up, .. } => (
                    runners_up
                        .iter()
                        .map(|runner| RunnerUpBody { point: runner.index, why: why(&runner.why) })
                        .collect(),
                    Vec::new(),
                ),
                Recommendation::NothingMeets { misses, .. } => {
                    (Vec::new(), misses.iter().map(ToString::to_string).collect())
                }
            };
            RecommendationBody {
                meets_target: chosen.meets_target,
                point: chosen.point,
                runners_up,
                misses,
                collection: QdrantCollectionBody::from(&chosen.qdrant.collection),
                search_params: QdrantSearchParams::from(&chosen.qdrant.search_params),
            }
        });
        Self {
            trials: report.trials.iter().map(trial_body).collect(),
            points: report.points.iter().map(point_body).collect(),
            front_recall_vs_qps: report.fronts.recall_vs_qps.clone(),
            front_recall_vs_p99: report.fronts.recall_vs_p99.clone(),
            front_recall_vs_memory: report.fronts.recall_vs_memory.clone(),
            recommendation,
            builds_made: report.builds_made,
            sample_builds: report.sample_builds,
            grid_builds: report.grid.builds,
            grid_measurements: report.grid.measurements,
            seconds: report.seconds,
            notes: report.notes.clone(),
        }
    }
}

impl From<&Job> for StudyResponse {
    fn from(job: &Job) -> Self {
        let name = serde_json::from_value::<StudyPayload>(job.payload().clone())
            .map(|payload| payload.spec.name)
            .unwrap_or_default();
        let report = job
            .result()
            .and_then(|result| serde_json::from_value::<StudyReport>(result.clone()).ok())
            .map(|report| StudyReportBody::from(&report));
        Self {
            id: job.id().as_uuid(),
            name,
            owner: job.owner().to_owned(),
            status: job.status().into(),
            progress: ProgressBody::from(job.progress()),
            created_at: job.created_at(),
            start_time: job.start_time(),
            end_time: job.end_time(),
            error: job.error().map(str::to_owned),
            report,
        }
    }
}
