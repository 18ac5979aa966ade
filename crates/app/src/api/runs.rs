//! `/api/v1/runs` and `/api/v1/experiments/{id}/runs`.

use actix_web::HttpRequest;
use actix_web::web::{Data, Json, Path};
use apistos::ApiComponent;
use apistos::api_operation;
use qbench_domain::report::compare as compare_reports;
use qbench_domain::{ExperimentId, JobId, RunId, RunStatus, Violation};
use qbench_repository::{Page, RunFilter};
use qbench_storage::Artifact;
use schemars::JsonSchema;
use serde::Deserialize;
use uuid::Uuid;

use crate::api::artifacts::signed_url;
use crate::api::body::JsonBody;
use crate::api::bulk;
use crate::api::pagination::{MAX_OFFSET, MAX_PAGE, PageQuery};
use crate::api::problem::{ApiError, ProblemKind};
use crate::api::query::QueryParams;
use crate::api::responses::{Accepted, Located, Paginated};
use crate::api::{IdPath, location};
use crate::auth::Authenticated;
use crate::dto::bulk::{BulkDeleteRequest, BulkDeleteResponse};
use crate::dto::compare::{CandidateBody, ComparedSettingBody, RunComparison};
use crate::dto::job::JobResponse;
use crate::dto::run::{ArtifactLinks, RunCanceled, RunCreated, RunResponse, RunResult, RunStatusBody};
use crate::state::{AppState, Artifacts};
use apistos::actix::NoContent;

/// Filters and page of the run list.
///
/// The page parameters repeat `PageQuery`'s (the query-string parser cannot flatten numbers).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema, ApiComponent)]
pub struct RunListQuery {
    /// Only runs of this experiment.
    pub experiment_id: Option<Uuid>,
    /// Only runs with this status.
    pub status: Option<RunStatusBody>,
    /// Only the trial runs of this study.
    pub study_id: Option<Uuid>,
    /// Items per page: 1 to 1000, default 50.
    #[schemars(range(min = 1, max = "Page::MAX_LIMIT"))]
    pub limit: Option<u64>,
    /// Items to skip, default 0.
    #[schemars(range(min = 0, max = "MAX_OFFSET"))]
    pub offset: Option<u64>,
    /// 1-based page number (with `page_size`); ignored when `offset` is given.
    #[schemars(range(min = 1, max = "MAX_PAGE"))]
    pub page: Option<u64>,
    /// Same as `limit`; ignored when `limit` is given.
    #[schemars(range(min = 1, max = "Page::MAX_LIMIT"))]
    pub page_size: Option<u64>,
    /// Every user's runs instead of the caller's own: admins only (403 for anyone else).
    #[serde(default)]
    pub all: bool,
}

/// Where a run may execute.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema, ApiComponent)]
pub struct RunCreateQuery {
    /// A worker label (e.g. `highmem`): only a worker carrying it takes the run.
    #[schemars(length(min = 1, max = 63), regex(pattern = r"^[a-z][a-z0-9-]*$"))]
    pub requires: Option<String>,
}

#[api_operation(
    operation_id = "create_run",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 500,
    error_code = 503,
    error_code = 422,
    tag = "runs",
    summary = "Start a run of an experiment",
    description = "The run is stored as `CREATED`, owned by the caller, and queued; follow `Location` to watch it. Needs the editor role (403) and an experiment the caller sees (404 otherwise)."
)]
pub(crate) async fn create(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
    query: QueryParams<RunCreateQuery>,
) -> Result<Accepted<RunCreated>, ApiError> {
    let requires = crate::api::jobs::worker_label("requires", query.into_inner().requires.as_deref())?;
    let run = state.runs.create(&caller, ExperimentId::from(path.id), requires).await?;
    let created = RunCreated { run_id: run.id().as_uuid(), task: Some(JobResponse::from(run.job())) };
    Ok(Accepted(Located::accepted(location("runs", run.id()), created)))
}

#[api_operation(
    operation_id = "list_runs",
    error_code = 400,
    error_code = 403,
    error_code = 500,
    error_code = 503,
    tag = "runs",
    summary = "List runs, newest first",
    description = "The caller's own runs; an admin lists every user's with `?all=true` (403 for anyone else)."
)]
pub(crate) async fn list(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    query: QueryParams<RunListQuery>,
) -> Result<Paginated<RunResponse>, ApiError> {
    let query = query.into_inner();
    let page = PageQuery { limit: query.limit, offset: query.offset, page: query.page, page_size: query.page_size }
        .to_page()?;
    let status = query.status.map(RunStatus::from);
    let filter = RunFilter {
        experiment_id: query.experiment_id.map(ExperimentId::from),
        status,
        owner: None,
        study_id: query.study_id.map(JobId::from),
    };
    let listed = state.runs.list(&caller, filter, query.all, page).await?;
    Ok(Paginated::new(listed.items.iter().map(RunResponse::from).collect(), listed.total, page))
}

/// The runs to compare.
#[derive(Debug, Clone, Deserialize, JsonSchema, ApiComponent)]
pub struct CompareQuery {
    /// 2 to 4 run ids, comma-separated: the first is the baseline.
    #[schemars(regex(
        pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(,[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}){1,3}$"
    ))]
    pub ids: String,
}

#[api_operation(
    operation_id = "compare_runs",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 422,
    error_code = 500,
    error_code = 503,
    tag = "runs",
    summary = "Compare completed runs setting by setting",
    description = "Aligns each run's settings with the first's by vector, setting and client count, with the recall change, the QPS and p99 ratios, and whether each difference exceeds the measured noise (the 95 % intervals are apart). 422 naming `ids` for fewer than 2 or more than 4 ids, a malformed id, or a run that has not completed."
)]
pub(crate) async fn compare(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    query: QueryParams<CompareQuery>,
) -> Result<Json<RunComparison>, ApiError> {
    let texts: Vec<&str> = query.ids.split(',').map(str::trim).filter(|id| !id.is_empty()).collect();
    if !(2..=4).contains(&texts.len()) {
        return Err(ApiError::invalid(vec![Violation::new(
            "ids",
            format!("{} run ids given; compare 2 to 4", texts.len()),
        )]));
    }
    let mut reports = Vec::with_capacity(texts.len());
    for (index, text) in texts.iter().enumerate() {
        let field = format!("ids[{index}]");
        let id = Uuid::parse_str(text)
            .map_err(|_| ApiError::invalid(vec![Violation::new(&field, format!("`{text}` is not a run id"))]))?;
        let run = state.runs.get(&caller, RunId::from(id)).await?;
        let report = run.report().filter(|_| run.status() == RunStatus::Completed).ok_or_else(|| {
            ApiError::invalid(vec![Violation::new(&field, format!("run {id} is {}, not COMPLETED", run.status()))])
        })?;
        reports.push((id, report));
    }
    let (baseline_id, baseline) = &reports[0];
    let candidates = reports[1..]
        .iter()
        .map(|(id, report)| CandidateBody {
            run_id: *id,
            settings: compare_reports(baseline, report).iter().map(ComparedSettingBody::from).collect(),
        })
        .collect();
    Ok(Json(RunComparison { baseline: *baseline_id, candidates }))
}

#[api_operation(
    operation_id = "get_run",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 500,
    error_code = 503,
    tag = "runs",
    summary = "Get a run: status, progress, metrics"
)]
pub(crate) async fn get(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
) -> Result<Json<RunResponse>, ApiError> {
    let run = state.runs.get(&caller, RunId::from(path.id)).await?;
    Ok(Json(RunResponse::from(&run)))
}

#[api_operation(
    operation_id = "cancel_run",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 409,
    error_code = 500,
    error_code = 503,
    tag = "runs",
    summary = "Cancel a run",
    description = "Needs the editor role (403). 409 when the run has already ended."
)]
pub(crate) async fn cancel(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
) -> Result<Json<RunCanceled>, ApiError> {
    let run = state.runs.cancel(&caller, RunId::from(path.id)).await?;
    Ok(Json(RunCanceled { id: run.id().as_uuid(), status: run.status().into() }))
}

#[api_operation(
    operation_id = "get_run_result",
    tag = "runs",
    summary = "The full result of a completed run",
    description = "Every (vector, search setting) in full, the dataset and provenance, and where the per-query rows were written, with `artifacts`: URLs to `result.json` and `queries.parquet` that need no other credential until `expires_at` (`server.artifact_url_seconds`, default an hour) — S3 presigned URLs when results are on S3, signed URLs to `/api/v1/artifacts/…` when they are in a local directory. 409 while the run is not COMPLETED.",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 409,
    error_code = 500,
    error_code = 503
)]
pub(crate) async fn result(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
    request: HttpRequest,
) -> Result<Json<RunResult>, ApiError> {
    let run = state.runs.get(&caller, RunId::from(path.id)).await?;
    match (run.status(), run.metrics()) {
        (RunStatus::Completed, Some(metrics)) => {
            let artifacts = match &state.artifacts {
                Some(artifacts) => Some(artifact_links(artifacts, &run.id().to_string(), &request).await?),
                None => None,
            };
            Ok(Json(RunResult { run_id: run.id().as_uuid(), result: metrics.clone(), artifacts }))
        }
        (status, _) => Err(ApiError::new(
            ProblemKind::Conflict,
            format!("run {} is {status}: a result exists once it is COMPLETED", run.id()),
        )),
    }
}

/// URLs to run `run_id`'s files.
async fn artifact_links(artifacts: &Artifacts, run_id: &str, request: &HttpRequest) -> Result<ArtifactLinks, ApiError> {
    let (result_url, expires_at) = signed_url(artifacts, run_id, Artifact::ResultJson, request).await?;
    let (results_url, _) = signed_url(artifacts, run_id, Artifact::QueriesParquet, request).await?;
    let (log_url, _) = signed_url(artifacts, run_id, Artifact::Log, request).await?;
    let (report_url, _) = signed_url(artifacts, run_id, Artifact::Report, request).await?;
    Ok(ArtifactLinks { result_url, results_url, log_url, report_url, expires_at })
}

#[api_operation(
    operation_id = "pause_run",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 409,
    error_code = 500,
    error_code = 503,
    tag = "runs",
    summary = "Pause a run: always refused",
    description = "A benchmark cannot stop halfway and continue with honest timings: 409 with the reason (cancel it instead); 404 for a run the caller does not see."
)]
pub(crate) async fn pause(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
) -> Result<Json<RunResponse>, ApiError> {
    let run = state.runs.pause(&caller, RunId::from(path.id)).await?;
    Ok(Json(RunResponse::from(&run)))
}

#[api_operation(
    operation_id = "delete_run",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 409,
    error_code = 500,
    error_code = 503,
    tag = "runs",
    summary = "Delete a run and its results",
    description = "Deletes an ended run (COMPLETED, FAILED or CANCELED): its record, then its stored results (result, per-query rows, log, report). Needs the editor role (403); 404 for a run the caller does not see; 409 while it is CREATED or RUNNING (cancel it first), or while a snapshot holds the collection it built (delete the snapshot first)."
)]
pub(crate) async fn delete(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
) -> Result<NoContent, ApiError> {
    state.runs.delete(&caller, RunId::from(path.id)).await?;
    Ok(NoContent)
}

#[api_operation(
    operation_id = "bulk_delete_runs",
    error_code = 400,
    error_code = 403,
    error_code = 413,
    error_code = 415,
    error_code = 422,
    error_code = 500,
    error_code = 503,
    tag = "runs",
    summary = "Delete several runs and their results",
    description = "Each id is deleted as `DELETE /runs/{id}` would; the answer gives each id's status (204, 404, 409 while running or snapshotted …) in the order given, and one failing id does not stop the others. 422 for no ids, more than 100, or one listed twice."
)]
pub(crate) async fn bulk_delete(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    body: JsonBody<BulkDeleteRequest>,
) -> Result<Json<BulkDeleteResponse>, ApiError> {
    let ids = bulk::ids(body.into_inner())?;
    let deleted = bulk::delete_each(ids, |id| state.runs.delete(&caller, RunId::from(id))).await;
    Ok(Json(deleted))
}
