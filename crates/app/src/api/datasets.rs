//! `/api/v1/datasets`.

use actix_web::web::{Data, Json, Path};
use apistos::actix::NoContent;
use apistos::api_operation;
use qbench_domain::{DatasetId, DatasetSpec};

use crate::api::body::JsonBody;
use crate::api::pagination::PageQuery;
use crate::api::problem::ApiError;
use crate::api::query::QueryParams;
use crate::api::responses::{Located, Paginated};
use crate::api::{IdPath, location, patch};
use crate::dto::dataset::{DatasetRequest, DatasetResponse};
use crate::state::AppState;

#[api_operation(
    operation_id = "list_datasets",
    error_code = 400,
    error_code = 500,
    error_code = 503,
    tag = "datasets",
    summary = "List datasets"
)]
pub(crate) async fn list(
    state: Data<AppState>,
    query: QueryParams<PageQuery>,
) -> Result<Paginated<DatasetResponse>, ApiError> {
    let page = query.to_page()?;
    let listed = state.datasets.list(page).await?;
    Ok(Paginated::new(listed.items.iter().map(DatasetResponse::from).collect(), listed.total, page))
}

#[api_operation(
    operation_id = "create_dataset",
    error_code = 400,
    error_code = 413,
    error_code = 415,
    error_code = 422,
    error_code = 500,
    error_code = 503,
    tag = "datasets",
    summary = "Register a dataset",
    description = "Vectors: `vectors: {name: {dim, distance, column}}`, the shorthand `vectors: {name: dim}` (distance `Cosine`), or one unnamed `vector: {dim, distance}`. Distances: `Cosine`, `Euclid` (alias `Euclidean`), `Dot`, `Manhattan`, case-insensitive."
)]
pub(crate) async fn create(
    state: Data<AppState>,
    body: JsonBody<DatasetRequest>,
) -> Result<Located<DatasetResponse>, ApiError> {
    let spec = DatasetSpec::try_from(body.into_inner()).map_err(ApiError::invalid)?;
    let dataset = state.datasets.create(spec).await?;
    Ok(Located::created(location("datasets", dataset.id), DatasetResponse::from(&dataset)))
}

#[api_operation(
    operation_id = "get_dataset",
    error_code = 400,
    error_code = 404,
    error_code = 500,
    error_code = 503,
    tag = "datasets",
    summary = "Get a dataset"
)]
pub(crate) async fn get(state: Data<AppState>, path: Path<IdPath>) -> Result<Json<DatasetResponse>, ApiError> {
    let dataset = state.datasets.get(DatasetId::from(path.id)).await?;
    Ok(Json(DatasetResponse::from(&dataset)))
}

#[api_operation(
    operation_id = "update_dataset",
    error_code = 400,
    error_code = 404,
    error_code = 409,
    error_code = 413,
    error_code = 415,
    error_code = 422,
    error_code = 500,
    error_code = 503,
    tag = "datasets",
    summary = "Change a dataset (JSON Merge Patch)",
    description = "Fields given replace the stored ones; `null` removes an optional field."
)]
pub(crate) async fn update(
    state: Data<AppState>,
    path: Path<IdPath>,
    body: JsonBody<patch::MergePatch>,
) -> Result<Json<DatasetResponse>, ApiError> {
    let id = DatasetId::from(path.id);
    let current = state.datasets.get(id).await?;
    let merged: DatasetRequest = patch::merge(&DatasetRequest::from_domain(&current), body.into_inner())?;
    let spec = DatasetSpec::try_from(merged).map_err(ApiError::invalid)?;
    let dataset = state.datasets.update(id, spec).await?;
    Ok(Json(DatasetResponse::from(&dataset)))
}

#[api_operation(
    operation_id = "delete_dataset",
    error_code = 400,
    error_code = 404,
    error_code = 409,
    error_code = 500,
    error_code = 503,
    tag = "datasets",
    summary = "Delete a dataset",
    description = "409 when an experiment uses it."
)]
pub(crate) async fn delete(state: Data<AppState>, path: Path<IdPath>) -> Result<NoContent, ApiError> {
    state.datasets.delete(DatasetId::from(path.id)).await?;
    Ok(NoContent)
}
