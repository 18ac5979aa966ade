//! `/api/v1/reports`: report pages rendered by a job from stored results, handed out behind
//! signed URLs.

use actix_web::HttpRequest;
use actix_web::web::{Data, Json, Path};
use apistos::api_operation;
use qbench_domain::report::ReportPayload;
use qbench_domain::{JobId, JobStatus};
use qbench_storage::Artifact;

use crate::api::artifacts::signed_url;
use crate::api::body::JsonBody;
use crate::api::problem::ApiError;
use crate::api::responses::{Accepted, Located};
use crate::api::{IdPath, location};
use crate::auth::Authenticated;
use crate::dto::job::JobResponse;
use crate::dto::report_job::{ReportRequest, ReportResponse};
use crate::state::AppState;

#[api_operation(
    operation_id = "create_report",
    error_code = 400,
    error_code = 403,
    error_code = 413,
    error_code = 415,
    error_code = 422,
    error_code = 500,
    error_code = 503,
    tag = "reports",
    summary = "Render a report of runs or of a study",
    description = "Queues a `report` job (202, follow `Location`): a worker reads the stored results (each run's `result.json`, or the study's report), renders one self-contained HTML page with inline SVG charts — recall against QPS and p99 with the Pareto front, latency percentiles, QPS against clients, per-query recall, the time line, every setting with the differences between runs marked — and stores it beside them. 422 names each run (`run_ids[i]`) or the study that is unknown or not COMPLETED."
)]
pub(crate) async fn create(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    body: JsonBody<ReportRequest>,
) -> Result<Accepted<ReportResponse>, ApiError> {
    let payload = ReportPayload::try_from(body.into_inner()).map_err(ApiError::invalid)?;
    let job = state.reports.create(&caller, payload).await?;
    let report = ReportResponse { task: Some(JobResponse::from(&job)), ..ReportResponse::new(&job, None) };
    Ok(Accepted(Located::accepted(location("reports", job.id()), report)))
}

#[api_operation(
    operation_id = "get_report",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 500,
    error_code = 503,
    tag = "reports",
    summary = "Get a report job: status, progress, and the page's signed URL once rendered"
)]
pub(crate) async fn get(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
    request: HttpRequest,
) -> Result<Json<ReportResponse>, ApiError> {
    let job = state.reports.get(&caller, JobId::from(path.id)).await?;
    let url = match (&state.artifacts, job.status()) {
        (Some(artifacts), JobStatus::Completed) => {
            Some(signed_url(artifacts, &job.id().to_string(), Artifact::Report, &request).await?)
        }
        _ => None,
    };
    Ok(Json(ReportResponse::new(&job, url)))
}
