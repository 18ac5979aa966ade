//! Runs compared on the wire.

use apistos::ApiComponent;
use qbench_domain::report::{ComparedFigures, ComparedSetting, Significance};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::dto::report::IntervalBody;

/// Runs aligned against the first: each candidate's settings beside the baseline's.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
pub struct RunComparison {
    /// The run the others are compared with (the first id).
    pub baseline: Uuid,
    /// Each other run against it.
    pub candidates: Vec<CandidateBody>,
}

/// One run against the baseline.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CandidateBody {
    /// The run.
    pub run_id: Uuid,
    /// Every setting either run measured, aligned by vector, setting and client count.
    pub settings: Vec<ComparedSettingBody>,
}

/// One setting in both runs.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ComparedSettingBody {
    /// The vector searched.
    pub vector: String,
    /// The setting.
    pub setting: String,
    /// Concurrent clients.
    pub parallel: u32,
    /// The baseline's figures, when it measured the setting.
    pub baseline: Option<FiguresBody>,
    /// The candidate's figures, when it measured the setting.
    pub candidate: Option<FiguresBody>,
    /// Candidate recall minus baseline recall.
    pub recall_delta: Option<f64>,
    /// Candidate QPS over baseline QPS.
    pub qps_ratio: Option<f64>,
    /// Candidate p99 over baseline p99.
    pub p99_ratio: Option<f64>,
    /// Whether the QPS difference exceeds the noise (the 95 % intervals are apart); absent when a
    /// side has one pass.
    pub qps_beyond_noise: Option<bool>,
    /// Whether the p99 difference exceeds the noise; absent when a side has one pass.
    pub p99_beyond_noise: Option<bool>,
}

/// A setting's figures in one run.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct FiguresBody {
    /// Mean recall@k.
    pub recall: f64,
    /// Mean QPS.
    pub qps: f64,
    /// p99 latency, in milliseconds.
    pub p99_ms: f64,
    /// QPS over the passes.
    pub qps_interval: Option<IntervalBody>,
    /// p99 latency (seconds) over the passes.
    pub p99_interval: Option<IntervalBody>,
}

impl From<ComparedFigures> for FiguresBody {
    fn from(figures: ComparedFigures) -> Self {
        Self {
            recall: figures.recall,
            qps: figures.qps,
            p99_ms: figures.p99 * 1e3,
            qps_interval: figures.qps_interval.as_ref().map(IntervalBody::from),
            p99_interval: figures.p99_interval.as_ref().map(IntervalBody::from),
        }
    }
}

fn beyond(significance: Significance) -> Option<bool> {
    match significance {
        Significance::Beyond => Some(true),
        Significance::Within => Some(false),
        Significance::Unknown => None,
    }
}

impl From<&ComparedSetting> for ComparedSettingBody {
    fn from(row: &ComparedSetting) -> Self {
        Self {
            vector: row.vector.clone(),
            setting: row.setting.clone(),
            parallel: row.parallel,
            baseline: row.baseline.map(FiguresBody::from),
            candidate: row.candidate.map(FiguresBody::from),
            recall_delta: row.recall_delta(),
            qps_ratio: row.qps_ratio(),
            p99_ratio: row.p99_ratio(),
            qps_beyond_noise: beyond(row.qps_significance()),
            p99_beyond_noise: beyond(row.p99_significance()),
        }
    }
}
