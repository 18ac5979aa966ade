//! `/api/v1/jobs`: every kind of durable work, with cancel, pause and resume.

use actix_web::web::{Data, Json, Path};
use apistos::ApiComponent;
use apistos::api_operation;
use qbench_domain::{JobId, NoopPayload, Violation, WorkerLabel};
use qbench_repository::{JobFilter, Page};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::api::body::JsonBody;
use crate::api::pagination::{MAX_OFFSET, PageQuery};
use crate::api::problem::ApiError;
use crate::api::query::QueryParams;
use crate::api::responses::{Accepted, Located, Paginated};
use crate::api::{IdPath, location};
use crate::auth::Authenticated;
use crate::dto::job::{JobKindBody, JobResponse, JobStatusBody, NoopJobRequest};
use crate::state::AppState;

/// Filters and page of the job list.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema, ApiComponent)]
pub struct JobListQuery {
    /// Only jobs of this kind.
    pub kind: Option<JobKindBody>,
    /// Only jobs with this status.
    pub status: Option<JobStatusBody>,
    /// Items per page: 1 to 1000, default 50.
    #[schemars(range(min = 1, max = "Page::MAX_LIMIT"))]
    pub limit: Option<u64>,
    /// Items to skip, default 0.
    #[schemars(range(min = 0, max = "MAX_OFFSET"))]
    pub offset: Option<u64>,
    /// Every user's jobs instead of the caller's own: admins only (403 for anyone else).
    #[serde(default)]
    pub all: bool,
}

/// A worker label from the wire, or the 422 naming `field`.
pub(crate) fn worker_label(field: &str, value: Option<&str>) -> Result<Option<WorkerLabel>, ApiError> {
    value
        .map(|label| label.parse::<WorkerLabel>())
        .transpose()
        .map_err(|error| ApiError::invalid(vec![Violation::new(field, error.to_string())]))
}

#[api_operation(
    operation_id = "create_noop_job",
    error_code = 400,
    error_code = 403,
    error_code = 415,
    error_code = 422,
    error_code = 500,
    error_code = 503,
    tag = "jobs",
    summary = "Queue a noop job (a probe of the queue and its workers)",
    description = "Admins only (403). The job takes `steps` steps of `step_ms` each; it can pause between steps."
)]
pub(crate) async fn create_noop(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    body: JsonBody<NoopJobRequest>,
) -> Result<Accepted<JobResponse>, ApiError> {
    let request = body.into_inner();
    let mut violations = Vec::new();
    if request.steps > NoopPayload::MAX_STEPS {
        violations.push(Violation::new("steps", format!("at most {}", NoopPayload::MAX_STEPS)));
    }
    if request.step_ms > NoopPayload::MAX_STEP_MS {
        violations.push(Violation::new("step_ms", format!("at most {}", NoopPayload::MAX_STEP_MS)));
    }
    if !violations.is_empty() {
        return Err(ApiError::invalid(violations));
    }
    let requires = worker_label("requires", request.requires.as_deref())?;
    let payload = NoopPayload { steps: request.steps, step_ms: request.step_ms };
    let job = state.jobs.submit_noop(&caller, payload, requires).await?;
    Ok(Accepted(Located::accepted(location("jobs", job.id()), JobResponse::from(&job))))
}

#[api_operation(
    operation_id = "list_jobs",
    error_code = 400,
    error_code = 403,
    error_code = 500,
    error_code = 503,
    tag = "jobs",
    summary = "List jobs of every kind, newest first",
    description = "The caller's own jobs; an admin lists every user's with `?all=true` (403 for anyone else)."
)]
pub(crate) async fn list(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    query: QueryParams<JobListQuery>,
) -> Result<Paginated<JobResponse>, ApiError> {
    let query = query.into_inner();
    let page = PageQuery { limit: query.limit, offset: query.offset, page: None, page_size: None }.to_page()?;
    let filter =
        JobFilter { kind: query.kind.map(Into::into), status: query.status.map(Into::into), ..JobFilter::default() };
    let listed = state.jobs.list(&caller, filter, query.all, page).await?;
    Ok(Paginated::new(listed.items.iter().map(JobResponse::from).collect(), listed.total, page))
}

#[api_operation(
    operation_id = "get_job",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 500,
    error_code = 503,
    tag = "jobs",
    summary = "Get a job: status, progress, attempts, worker, result"
)]
pub(crate) async fn get(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
) -> Result<Json<JobResponse>, ApiError> {
    let job = state.jobs.get(&caller, JobId::from(path.id)).await?;
    Ok(Json(JobResponse::from(&job)))
}

#[api_operation(
    operation_id = "cancel_job",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 409,
    error_code = 500,
    error_code = 503,
    tag = "jobs",
    summary = "Cancel a job",
    description = "Needs the editor role (403). 409 when the job has already ended."
)]
pub(crate) async fn cancel(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
) -> Result<Json<JobResponse>, ApiError> {
    let job = state.jobs.cancel(&caller, JobId::from(path.id)).await?;
    Ok(Json(JobResponse::from(&job)))
}

#[api_operation(
    operation_id = "pause_job",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 409,
    error_code = 500,
    error_code = 503,
    tag = "jobs",
    summary = "Pause a job at its next safe point",
    description = "A waiting job pauses at once; a running one stays RUNNING with `pause_requested` until its worker reaches a safe point. 409 with the reason for a kind that cannot pause (benchmarks) or a job that ended."
)]
pub(crate) async fn pause(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
) -> Result<Json<JobResponse>, ApiError> {
    let job = state.jobs.pause(&caller, JobId::from(path.id)).await?;
    Ok(Json(JobResponse::from(&job)))
}

#[api_operation(
    operation_id = "resume_job",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 409,
    error_code = 500,
    error_code = 503,
    tag = "jobs",
    summary = "Resume a paused job from its progress",
    description = "409 unless the job is PAUSED."
)]
pub(crate) async fn resume(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
) -> Result<Json<JobResponse>, ApiError> {
    let job = state.jobs.resume(&caller, JobId::from(path.id)).await?;
    Ok(Json(JobResponse::from(&job)))
}
