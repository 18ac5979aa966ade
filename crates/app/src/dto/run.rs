//! Runs on the wire.

use apistos::ApiComponent;
use chrono::{DateTime, Utc};
use qbench_domain::report::RunReport;
use qbench_domain::{Run, RunStatus};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::dto::experiment::ExperimentRequest;
use crate::dto::job::JobResponse;
use crate::dto::report::RunReportBody;

/// A run's status, with these exact strings on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum RunStatusBody {
    /// Queued.
    Created,
    /// Executing.
    Running,
    /// Finished with metrics.
    Completed,
    /// Stopped by an error.
    Failed,
    /// Stopped on request.
    Canceled,
}

impl From<RunStatusBody> for RunStatus {
    fn from(status: RunStatusBody) -> Self {
        match status {
            RunStatusBody::Created => Self::Created,
            RunStatusBody::Running => Self::Running,
            RunStatusBody::Completed => Self::Completed,
            RunStatusBody::Failed => Self::Failed,
            RunStatusBody::Canceled => Self::Canceled,
        }
    }
}

impl From<RunStatus> for RunStatusBody {
    fn from(status: RunStatus) -> Self {
        match status {
            RunStatus::Created => Self::Created,
            RunStatus::Running => Self::Running,
            RunStatus::Completed => Self::Completed,
            RunStatus::Failed => Self::Failed,
            RunStatus::Canceled => Self::Canceled,
        }
    }
}

/// Phase and units done.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ProgressBody {
    /// Phase (`queued`, `prepare`, `create_collection`, `upload`, `index`, `search`, `cleanup`).
    pub phase: String,
    /// Units done in the phase.
    pub done: u64,
    /// Units in the phase, when known.
    pub total: Option<u64>,
    /// Units per second in the phase so far, once measurable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// Seconds left at that rate (of the phase; of the whole study for a study), when the total
    /// and the rate are known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eta_seconds: Option<f64>,
}

impl From<&qbench_domain::Progress> for ProgressBody {
    fn from(progress: &qbench_domain::Progress) -> Self {
        let eta_seconds = match (progress.total, progress.rate) {
            (Some(total), Some(rate)) if rate > 0.0 && rate.is_finite() => {
                Some(total.saturating_sub(progress.done) as f64 / rate)
            }
            _ => None,
        };
        Self {
            phase: progress.phase.clone(),
            done: progress.done,
            total: progress.total,
            rate: progress.rate,
            eta_seconds,
        }
    }
}

/// A run.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
#[schemars(example = "RunResponse::example")]
pub struct RunResponse {
    /// Identifier.
    pub id: Uuid,
    /// The experiment run.
    pub experiment_id: Uuid,
    /// The user who started it; only they and admins see it.
    pub owner: String,
    /// `CREATED`, `RUNNING`, `COMPLETED`, `FAILED` or `CANCELED`.
    pub status: RunStatusBody,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When a worker started it.
    pub start_time: Option<DateTime<Utc>>,
    /// When it ended.
    pub end_time: Option<DateTime<Utc>>,
    /// Phase and units done.
    pub progress: ProgressBody,
    /// The report once completed: `f1`, `precision`, `recall`, `p_95_latency` (seconds), `qps` of
    /// the setting `headline` names, and every setting in `results`.
    pub metrics: Option<RunReportBody>,
    /// Why it failed.
    pub error: Option<String>,
    /// The experiment's settings as they were when the run was triggered: what it executes and
    /// reports, whatever the experiment became since. Absent for runs stored before runs kept them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment_settings: Option<ExperimentRequest>,
}

impl RunResponse {
    fn example() -> Self {
        Self {
            id: Uuid::nil(),
            experiment_id: Uuid::nil(),
            owner: "ann@example.com".to_owned(),
            status: RunStatusBody::Completed,
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
            start_time: Some(DateTime::<Utc>::UNIX_EPOCH),
            end_time: Some(DateTime::<Utc>::UNIX_EPOCH),
            progress: ProgressBody {
                phase: "cleanup".to_owned(),
                done: 1,
                total: Some(1),
                rate: None,
                eta_seconds: None,
            },
            metrics: None,
            error: None,
            experiment_settings: None,
        }
    }
}

impl From<&Run> for RunResponse {
    fn from(run: &Run) -> Self {
        Self {
            id: run.id().as_uuid(),
            experiment_id: run.experiment_id().as_uuid(),
            owner: run.owner().to_owned(),
            status: run.status().into(),
            created_at: run.created_at(),
            updated_at: run.updated_at(),
            start_time: run.start_time(),
            end_time: run.end_time(),
            progress: ProgressBody::from(run.progress()),
            metrics: run.metrics().and_then(|metrics| report_of(run, metrics)),
            error: run.error().map(str::to_owned),
            experiment_settings: run.settings().map(ExperimentRequest::from_spec),
        }
    }
}

/// The typed report of a run's stored metrics; a document that is not one (which no run writes)
/// is logged and left out rather than failing the whole answer.
fn report_of(run: &Run, metrics: &serde_json::Value) -> Option<RunReportBody> {
    match serde_json::from_value::<RunReport>(metrics.clone()) {
        Ok(report) => Some(RunReportBody::from(&report)),
        Err(error) => {
            tracing::warn!(run_id = %run.id(), %error, "the stored metrics of the run are not a report");
            None
        }
    }
}

/// The answer to creating a run.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
#[schemars(example = "RunCreated::example")]
pub struct RunCreated {
    /// The new run's id; follow `Location` to watch it.
    pub run_id: Uuid,
    /// The job doing the work (id, kind, status, progress, links), on the `202` that queued it:
    /// every asynchronous operation answers its task the same way (`/api/v1/jobs/{id}` follows it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<JobResponse>,
}

impl RunCreated {
    fn example() -> Self {
        Self { run_id: Uuid::nil(), task: None }
    }
}

/// The answer to cancelling a run.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
#[schemars(example = "RunCanceled::example")]
pub struct RunCanceled {
    /// The run's id.
    pub id: Uuid,
    /// Always `CANCELED`.
    pub status: RunStatusBody,
}

impl RunCanceled {
    fn example() -> Self {
        Self { id: Uuid::nil(), status: RunStatusBody::Canceled }
    }
}

/// The full result of a completed run.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
#[schemars(example = "RunResult::example")]
pub struct RunResult {
    /// The run.
    pub run_id: Uuid,
    /// Its metrics in full: `results[]` per (vector, search setting), `dataset`, `provenance`,
    /// `result_files`, and the summary keys of the first setting.
    pub result: serde_json::Value,
    /// URLs to its stored files that need no other credential, valid until `expires_at`; absent
    /// when the server keeps no artifacts.
    pub artifacts: Option<ArtifactLinks>,
}

/// Signed URLs to a run's files: the storage's own presigned URLs on S3, URLs to this server's
/// `/api/v1/artifacts/…` on a local directory.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ArtifactLinks {
    /// `result.json`: the report.
    pub result_url: String,
    /// `queries.parquet`: one row per query and setting.
    pub results_url: String,
    /// `log.jsonl`: the run's own log (phases with their times, warnings, how it ended); runs
    /// from before logs were kept have none (404).
    pub log_url: String,
    /// `report.html`: the run's report, one self-contained page with its charts; runs from
    /// before reports were drawn have none (404).
    pub report_url: String,
    /// When the URLs stop working.
    pub expires_at: DateTime<Utc>,
}

impl RunResult {
    fn example() -> Self {
        Self {
            run_id: Uuid::nil(),
            result: serde_json::json!({
                "f1": 0.991, "precision": 0.991, "recall": 0.991, "p_95_latency": 0.00061, "qps": 5120.4,
                "upload_seconds": 2.6, "index_seconds": 30.8,
                "results": [{"vector": "text_embedding", "setting": "hnsw_ef=128", "k": 10, "recall": 0.991,
                             "latency": {"p50": 0.00038, "p95": 0.00061, "p99": 0.00071, "max": 0.002, "mean": 0.0004},
                             "qps": 5120.4}],
                "provenance": {"engine": "qdrant-edge", "engine_version": "0.7.2", "cores": 2}
            }),
            artifacts: Some(ArtifactLinks {
                result_url: "https://qbench.example/api/v1/artifacts/00000000-0000-0000-0000-000000000000/result.json?expires=1767225600&signature=…".to_owned(),
                results_url: "https://qbench.example/api/v1/artifacts/00000000-0000-0000-0000-000000000000/queries.parquet?expires=1767225600&signature=…".to_owned(),
                log_url: "https://qbench.example/api/v1/artifacts/00000000-0000-0000-0000-000000000000/log.jsonl?expires=1767225600&signature=…".to_owned(),
                report_url: "https://qbench.example/api/v1/artifacts/00000000-0000-0000-0000-000000000000/report.html?expires=1767225600&signature=…".to_owned(),
                expires_at: DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_left_is_what_remains_at_the_rate_so_far() {
        let progress =
            qbench_domain::Progress { phase: "trial 3/9".to_owned(), done: 3, total: Some(9), rate: Some(0.5) };
        assert_eq!(ProgressBody::from(&progress).eta_seconds, Some(12.0));
        let unknown = qbench_domain::Progress { total: None, ..progress.clone() };
        assert_eq!(ProgressBody::from(&unknown).eta_seconds, None);
        let stalled = qbench_domain::Progress { rate: Some(0.0), ..progress };
        assert_eq!(ProgressBody::from(&stalled).eta_seconds, None);
    }
}
