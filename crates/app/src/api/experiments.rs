//! `/api/v1/experiments`.

use actix_web::web::{Data, Json, Path};
use apistos::ApiComponent;
use apistos::actix::NoContent;
use apistos::api_operation;
use qbench_domain::{ExperimentId, ExperimentSpec};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::api::body::JsonBody;
use crate::api::bulk;
use crate::api::pagination::PageQuery;
use crate::api::problem::ApiError;
use crate::api::query::QueryParams;
use crate::api::responses::{Located, Paginated};
use crate::api::{IdPath, location, patch};
use crate::auth::Authenticated;
use crate::dto::bulk::{BulkDeleteRequest, BulkDeleteResponse};
use crate::dto::experiment::{ExperimentRequest, ExperimentResponse, ValidationResponse};
use crate::state::AppState;

/// Options of an experiment deletion.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema, ApiComponent)]
pub struct DeleteQuery {
    /// Also delete the experiment's runs (otherwise an experiment with runs answers 409).
    #[serde(default)]
    pub cascade: bool,
}

#[api_operation(
    operation_id = "list_experiments",
    error_code = 400,
    error_code = 403,
    error_code = 500,
    error_code = 503,
    tag = "experiments",
    summary = "List experiments"
)]
pub(crate) async fn list(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    query: QueryParams<PageQuery>,
) -> Result<Paginated<ExperimentResponse>, ApiError> {
    let page = query.to_page()?;
    let listed = state.experiments.list(&caller, page).await?;
    let items = listed.items.iter().map(|experiment| ExperimentResponse::new(experiment, Vec::new())).collect();
    Ok(Paginated::new(items, listed.total, page))
}

#[api_operation(
    operation_id = "create_experiment",
    error_code = 400,
    error_code = 403,
    error_code = 413,
    error_code = 415,
    error_code = 422,
    error_code = 500,
    error_code = 503,
    tag = "experiments",
    summary = "Register an experiment",
    description = "Validated against its dataset: every violation is answered at once (422), each naming its field."
)]
pub(crate) async fn create(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    body: JsonBody<ExperimentRequest>,
) -> Result<Located<ExperimentResponse>, ApiError> {
    let spec = ExperimentSpec::try_from(body.into_inner()).map_err(ApiError::invalid)?;
    let (experiment, warnings) = state.experiments.create(&caller, spec).await?;
    Ok(Located::created(location("experiments", experiment.id), ExperimentResponse::new(&experiment, warnings)))
}

#[api_operation(
    operation_id = "validate_experiment",
    error_code = 400,
    error_code = 403,
    error_code = 413,
    error_code = 415,
    error_code = 422,
    error_code = 500,
    error_code = 503,
    tag = "experiments",
    summary = "Validate an experiment without registering it (dry run)",
    description = "Always 200 for a readable body: `{valid, errors, warnings}`."
)]
pub(crate) async fn validate(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    body: JsonBody<ExperimentRequest>,
) -> Result<Json<ValidationResponse>, ApiError> {
    let response = match ExperimentSpec::try_from(body.into_inner()) {
        Ok(spec) => ValidationResponse::from_report(state.experiments.validate(&caller, &spec).await?),
        Err(errors) => ValidationResponse::from_errors(errors),
    };
    Ok(Json(response))
}

#[api_operation(
    operation_id = "get_experiment",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 500,
    error_code = 503,
    tag = "experiments",
    summary = "Get an experiment"
)]
pub(crate) async fn get(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
) -> Result<Json<ExperimentResponse>, ApiError> {
    let experiment = state.experiments.get(&caller, ExperimentId::from(path.id)).await?;
    Ok(Json(ExperimentResponse::new(&experiment, Vec::new())))
}

#[api_operation(
    operation_id = "update_experiment",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 409,
    error_code = 413,
    error_code = 415,
    error_code = 422,
    error_code = 500,
    error_code = 503,
    tag = "experiments",
    summary = "Change an experiment (JSON Merge Patch)",
    description = "The merged experiment is validated like a new one (422)."
)]
pub(crate) async fn update(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
    body: JsonBody<patch::MergePatch<ExperimentRequest>>,
) -> Result<Json<ExperimentResponse>, ApiError> {
    let id = ExperimentId::from(path.id);
    let current = state.experiments.get_for_update(&caller, id).await?;
    let merged: ExperimentRequest = patch::merge(&ExperimentRequest::from_domain(&current), body.into_inner())?;
    let spec = ExperimentSpec::try_from(merged).map_err(ApiError::invalid)?;
    let experiment = state.experiments.update(&caller, id, spec).await?;
    Ok(Json(ExperimentResponse::new(&experiment, Vec::new())))
}

#[api_operation(
    operation_id = "delete_experiment",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 409,
    error_code = 500,
    error_code = 503,
    tag = "experiments",
    summary = "Delete an experiment",
    description = "409 when it has runs, unless `?cascade=true`, which deletes its runs too."
)]
pub(crate) async fn delete(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
    query: QueryParams<DeleteQuery>,
) -> Result<NoContent, ApiError> {
    state.experiments.delete(&caller, ExperimentId::from(path.id), query.cascade).await?;
    Ok(NoContent)
}

#[api_operation(
    operation_id = "bulk_delete_experiments",
    error_code = 400,
    error_code = 403,
    error_code = 413,
    error_code = 415,
    error_code = 422,
    error_code = 500,
    error_code = 503,
    tag = "experiments",
    summary = "Delete several experiments",
    description = "Each id is deleted as `DELETE /experiments/{id}` would (with `?cascade=true`, its runs too); the answer gives each id's status (204, 404, 409 …) in the order given, and one failing id does not stop the others. 422 for no ids, more than 100, or one listed twice."
)]
pub(crate) async fn bulk_delete(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    query: QueryParams<DeleteQuery>,
    body: JsonBody<BulkDeleteRequest>,
) -> Result<Json<BulkDeleteResponse>, ApiError> {
    let ids = bulk::ids(body.into_inner())?;
    let cascade = query.cascade;
    let deleted = bulk::delete_each(ids, |id| state.experiments.delete(&caller, ExperimentId::from(id), cascade)).await;
    Ok(Json(deleted))
}
