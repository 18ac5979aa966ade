//! What a study found: every measured point, the Pareto fronts, and the recommendation with the
//! Qdrant JSON to apply it.

use crate::study::{
    BuildConfig, CollectionBody, Constraints, Objective, ParetoAxis, Recommendation, SearchParamsBody, SpaceSize,
    TrialPoint, pareto_front, recommend,
};
use crate::{DomainError, PointSample, SchemaConfig};

/// One trial: a build measured by one run.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrialReport {
    /// The run that built and measured it.
    pub run_id: String,
    /// The build's label (`m=16,ef_construct=128,int8`).
    pub label: String,
    /// The build.
    pub build: BuildConfig,
    /// How the run ended (`COMPLETED`, `FAILED`, `CANCELED`).
    pub status: String,
    /// Why it failed.
    pub error: Option<String>,
    /// Wall time from queuing the trial to seeing it end, in seconds.
    #[serde(default)]
    pub seconds: f64,
    /// The run's own total time (`total_seconds` of its report), when it completed: the rest of
    /// `seconds` is the study's overhead between trials (queueing, claiming, bookkeeping).
    #[serde(default)]
    pub run_seconds: Option<f64>,
    /// The sample of the points it was built on (a round of `auto` before the full data); `None`
    /// for a build on every point. Only builds on every point give the study's points.
    #[serde(default)]
    pub sample: Option<PointSample>,
    /// The snapshot this trial restored instead of building (`restored`), or kept its build in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<TrialSnapshot>,
}

/// A trial's snapshot.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrialSnapshot {
    /// The snapshot.
    pub snapshot_id: crate::SnapshotId,
    /// Whether the trial restored it (nothing uploaded or indexed) rather than kept its build in it.
    pub restored: bool,
}

/// A measured point and the run it came from.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StudyPoint {
    /// The run that measured it.
    pub run_id: String,
    /// The vector searched.
    pub vector: String,
    /// The point.
    #[serde(flatten)]
    pub point: TrialPoint,
}

/// The non-dominated points for each trade-off, as indexes into the points.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Fronts {
    /// Recall against QPS.
    pub recall_vs_qps: Vec<usize>,
    /// Recall against p99 latency.
    pub recall_vs_p99: Vec<usize>,
    /// Recall against memory.
    pub recall_vs_memory: Vec<usize>,
}

/// The configuration to run, as Qdrant takes it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QdrantConfig {
    /// The body of `PUT /collections/{name}`.
    pub collection: CollectionBody,
    /// The `params` of a search request.
    pub search_params: SearchParamsBody,
}

/// The recommendation, with what to apply.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RecommendationReport {
    /// Which point, and the evidence (runners-up, or how the closest point misses).
    #[serde(flatten)]
    pub decision: Recommendation,
    /// Whether a point meets the target and every constraint.
    pub meets_target: bool,
    /// The recommended (or closest) point's index.
    pub point: usize,
    /// Its configuration in Qdrant's REST shape.
    pub qdrant: QdrantConfig,
}

/// The result of a study.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StudyReport {
    /// Every trial, in order.
    pub trials: Vec<TrialReport>,
    /// Every measured point.
    pub points: Vec<StudyPoint>,
    /// The Pareto fronts.
    pub fronts: Fronts,
    /// The recommendation; `None` when nothing was measured.
    pub recommendation: Option<RecommendationReport>,
    /// Builds made (completed trials), on samples and on the full data.
    pub builds_made: u64,
    /// Of those, builds on a sample of the points (`auto`'s first rounds).
    #[serde(default)]
    pub sample_builds: u64,
    /// What the full grid needs.
    pub grid: SpaceSize,
    /// Wall time of the study, in seconds.
    pub seconds: f64,
    /// What the reader should know: builds a budget left out.
    #[serde(default)]
    pub notes: Vec<String>,
}

impl StudyReport {
    /// Assembles the report of `points` measured in `trials`: fronts, recommendation, and the
    /// Qdrant JSON of the recommended build on a dataset of `schema`.
    ///
    /// # Errors
    /// `Invalid` when the recommended build names a vector `schema` does not have.
    pub fn assemble(
        trials: Vec<TrialReport>,
        points: Vec<StudyPoint>,
        objective: &Objective,
        constraints: &Constraints,
        schema: &SchemaConfig,
        grid: SpaceSize,
        seconds: f64,
    ) -> Result<Self, DomainError> {
        let measured: Vec<TrialPoint> = points.iter().map(|point| point.point.clone()).collect();
        let fronts = Fronts {
            recall_vs_qps: pareto_front(&measured, ParetoAxis::RecallVsQps),
            recall_vs_p99: pareto_front(&measured, ParetoAxis::RecallVsP99),
            recall_vs_memory: pareto_front(&measured, ParetoAxis::RecallVsMemory),
        };
        let recommendation = match recommend(&measured, objective, constraints) {
            None => None,
            Some(decision) => {
                let (point, meets_target) = match &decision {
                    Recommendation::Meets { best, .. } => (*best, true),
                    Recommendation::NothingMeets { closest, .. } => (*closest, false),
                };
                let chosen = measured.get(point).ok_or_else(|| DomainError::invalid("point", "out of range"))?;
                let qdrant = QdrantConfig {
                    collection: CollectionBody::new(&chosen.build, schema)?,
                    search_params: SearchParamsBody::from(&chosen.setting),
                };
                Some(RecommendationReport { decision, meets_target, point, qdrant })
            }
        };
        let completed = || trials.iter().filter(|trial| trial.status == "COMPLETED");
        let builds_made = completed().count() as u64;
        let sample_builds = completed().filter(|trial| trial.sample.is_some()).count() as u64;
        Ok(Self {
            trials,
            points,
            fronts,
            recommendation,
            builds_made,
            sample_builds,
            grid,
            seconds,
            notes: Vec::new(),
        })
    }
}
