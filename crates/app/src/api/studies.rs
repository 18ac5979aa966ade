//! `/api/v1/studies`: tuning studies, validated against their dataset, executed as jobs whose
//! trials are ordinary runs.

use actix_web::web::{Data, Json, Path};
use apistos::api_operation;
use qbench_domain::study::StudySpec;
use qbench_domain::{JobId, JobKind};
use qbench_repository::JobFilter;

use crate::api::body::JsonBody;
use crate::api::pagination::PageQuery;
use crate::api::problem::ApiError;
use crate::api::query::QueryParams;
use crate::api::responses::{Located, Paginated};
use crate::api::{IdPath, location};
use crate::auth::Authenticated;
use crate::dto::study::{StudyRequest, StudyResponse, StudyValidation};
use crate::state::AppState;

#[api_operation(
    operation_id = "create_study",
    error_code = 400,
    error_code = 403,
    error_code = 413,
    error_code = 415,
    error_code = 422,
    error_code = 500,
    error_code = 503,
    tag = "studies",
    summary = "Start a tuning study",
    description = "Validated against the dataset like an experiment, with every violation at once (422), including a space larger than the server's `studies` limits. The study is queued as a job; follow `Location` for its progress, and once completed its points, Pareto fronts and recommendation with the Qdrant JSON to apply."
)]
pub(crate) async fn create(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    body: JsonBody<StudyRequest>,
) -> Result<Located<StudyResponse>, ApiError> {
    let spec = StudySpec::try_from(body.into_inner()).map_err(ApiError::invalid)?;
    let job = state.studies.create(&caller, spec).await?;
    Ok(Located::created(location("studies", job.id()), StudyResponse::from(&job)))
}

#[api_operation(
    operation_id = "validate_study",
    error_code = 400,
    error_code = 403,
    error_code = 413,
    error_code = 415,
    error_code = 422,
    error_code = 500,
    error_code = 503,
    tag = "studies",
    summary = "Validate a study and count what it would build and measure",
    description = "200 with the builds and measurements the space expands to; 422 with every violation, including a space over the server's limits."
)]
pub(crate) async fn validate(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    body: JsonBody<StudyRequest>,
) -> Result<Json<StudyValidation>, ApiError> {
    let spec = StudySpec::try_from(body.into_inner()).map_err(ApiError::invalid)?;
    let (report, size) = state.studies.validate(&caller, &spec).await?;
    if !report.is_valid() {
        return Err(ApiError::invalid(report.errors));
    }
    Ok(Json(StudyValidation::new(size, report.warnings)))
}

#[api_operation(
    operation_id = "get_study",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 500,
    error_code = 503,
    tag = "studies",
    summary = "Get a study: status, progress, and what it found"
)]
pub(crate) async fn get(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
) -> Result<Json<StudyResponse>, ApiError> {
    let job = state.studies.get(&caller, JobId::from(path.id)).await?;
    Ok(Json(StudyResponse::from(&job)))
}

#[api_operation(
    operation_id = "list_studies",
    error_code = 400,
    error_code = 403,
    error_code = 500,
    error_code = 503,
    tag = "studies",
    summary = "List the caller's studies, newest first"
)]
pub(crate) async fn list(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    query: QueryParams<PageQuery>,
) -> Result<Paginated<StudyResponse>, ApiError> {
    let page = query.into_inner().to_page()?;
    let filter = JobFilter { kind: Some(JobKind::Study), ..JobFilter::default() };
    let listed = state.jobs.list(&caller, filter, false, page).await?;
    Ok(Paginated::new(listed.items.iter().map(StudyResponse::from).collect(), listed.total, page))
}

#[api_operation(
    operation_id = "cancel_study",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 409,
    error_code = 500,
    error_code = 503,
    tag = "studies",
    summary = "Cancel a study",
    description = "Its current trial is cancelled; the trials it finished are kept. 409 when it has already ended."
)]
pub(crate) async fn cancel(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
) -> Result<Json<StudyResponse>, ApiError> {
    let id = JobId::from(path.id);
    state.studies.get(&caller, id).await?;
    let job = state.jobs.cancel(&caller, id).await?;
    Ok(Json(StudyResponse::from(&job)))
}
