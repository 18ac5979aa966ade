//! Wire types of `/api/v1/reports`: asking for a report page, and following its job.

use apistos::ApiComponent;
use chrono::{DateTime, Utc};
use qbench_domain::report::{MAX_REPORT_RUNS, ReportPayload, ReportSubject};
use qbench_domain::{Job, JobId, RunId, Violation};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::dto::job::{JobResponse, JobStatusBody};
use crate::dto::run::ProgressBody;

/// What to report: runs side by side, or a study. Exactly one of `run_ids` and `study_id`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
#[serde(deny_unknown_fields)]
#[schemars(example = "ReportRequest::example")]
pub struct ReportRequest {
    /// Completed runs to put side by side, in this order (1 to 20, each once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 20))]
    pub run_ids: Option<Vec<Uuid>>,
    /// A completed study.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub study_id: Option<Uuid>,
    /// The page's title (1 to 200 characters); default one made of what it reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 200), regex(pattern = r"\S"))]
    pub title: Option<String>,
}

const _: () = assert!(MAX_REPORT_RUNS == 20, "the schema's run_ids bound");

impl ReportRequest {
    fn example() -> Self {
        Self {
            run_ids: Some(vec![Uuid::nil(), Uuid::max()]),
            study_id: None,
            title: Some("m=16 against m=32".to_owned()),
        }
    }
}

impl TryFrom<ReportRequest> for ReportPayload {
    type Error = Vec<Violation>;

    fn try_from(request: ReportRequest) -> Result<Self, Self::Error> {
        let run_ids = request.run_ids.map(|ids| ids.into_iter().map(RunId::from).collect());
        ReportPayload::new(run_ids, request.study_id.map(JobId::from), request.title)
    }
}

/// A report job: where it is, and the page once rendered.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
pub struct ReportResponse {
    /// Identifier (its job's).
    pub id: Uuid,
    /// Who asked for it.
    pub owner: String,
    /// Where it is in its life.
    pub status: JobStatusBody,
    /// The runs reported, when it reports runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_ids: Option<Vec<Uuid>>,
    /// The study reported, when it reports one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub study_id: Option<Uuid>,
    /// Its title, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// `read` (runs read of the total), `render`, `store`.
    pub progress: ProgressBody,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
    /// When it ended.
    pub end_time: Option<DateTime<Utc>>,
    /// Why it failed.
    pub error: Option<String>,
    /// The page (`report.html`, self-contained), once completed: signed, valid until `expires_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// When `url` stops working.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// The job doing the work (id, kind, status, progress, links), on the `202` that queued it:
    /// every asynchronous operation answers its task the same way (`/api/v1/jobs/{id}` follows it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<JobResponse>,
}

impl ReportResponse {
    /// `job`, with `url` to its page when there is one.
    pub fn new(job: &Job, url: Option<(String, DateTime<Utc>)>) -> Self {
        let payload = serde_json::from_value::<ReportPayload>(job.payload().clone()).ok();
        let (run_ids, study_id) = match payload.as_ref().map(|payload| &payload.subject) {
            Some(ReportSubject::Runs(ids)) => (Some(ids.iter().map(|id| id.as_uuid()).collect()), None),
            Some(ReportSubject::Study(id)) => (None, Some(id.as_uuid())),
            None => (None, None),
        };
        let (url, expires_at) = url.map_or((None, None), |(url, expires_at)| (Some(url), Some(expires_at)));
        Self {
            id: job.id().as_uuid(),
            owner: job.owner().to_owned(),
            status: job.status().into(),
            run_ids,
            study_id,
            title: payload.and_then(|payload| payload.title),
            progress: ProgressBody::from(job.progress()),
            created_at: job.created_at(),
            end_time: job.end_time(),
            error: job.error().map(str::to_owned),
            url,
            expires_at,
            task: None,
        }
    }
}
