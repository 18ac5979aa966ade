//! `/api/v1/datasets`.

use actix_web::web::{Data, Json, Path};
use apistos::actix::NoContent;
use apistos::{ApiComponent, api_operation};
use qbench_domain::{DatasetId, DatasetSpec};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::api::body::JsonBody;
use crate::api::pagination::PageQuery;
use crate::api::problem::ApiError;
use crate::api::query::QueryParams;
use crate::api::responses::{Located, Paginated};
use crate::api::{IdPath, location, patch};
use crate::auth::Authenticated;
use crate::dto::dataset::{DatasetRequest, DatasetResponse};
use crate::state::AppState;

#[api_operation(
    operation_id = "list_datasets",
    error_code = 400,
    error_code = 403,
    error_code = 500,
    error_code = 503,
    tag = "datasets",
    summary = "List datasets"
)]
pub(crate) async fn list(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    query: QueryParams<PageQuery>,
) -> Result<Paginated<DatasetResponse>, ApiError> {
    let page = query.to_page()?;
    let listed = state.datasets.list(&caller, page).await?;
    Ok(Paginated::new(listed.items.iter().map(DatasetResponse::from).collect(), listed.total, page))
}

#[api_operation(
    operation_id = "create_dataset",
    error_code = 400,
    error_code = 403,
    error_code = 413,
    error_code = 415,
    error_code = 422,
    error_code = 500,
    error_code = 503,
    tag = "datasets",
    summary = "Register a dataset (with `?inspect=true`, only if its files can be read and match)",
    description = "Vectors: `vectors: {name: {dim, distance, column}}`, the shorthand `vectors: {name: dim}` (distance `Cosine`), or one unnamed `vector: {dim, distance}`. Distances: `Cosine`, `Euclid` (alias `Euclidean`), `Dot`, `Manhattan`, case-insensitive."
)]
pub(crate) async fn create(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    query: QueryParams<CreateQuery>,
    body: JsonBody<DatasetRequest>,
) -> Result<Located<DatasetResponse>, ApiError> {
    let spec = DatasetSpec::try_from(body.into_inner()).map_err(ApiError::invalid)?;
    let dataset = if query.inspect {
        state.datasets.create_inspected(&caller, spec).await?
    } else {
        state.datasets.create(&caller, spec).await?
    };
    Ok(Located::created(location("datasets", dataset.id), DatasetResponse::from(&dataset)))
}

#[api_operation(
    operation_id = "get_dataset",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 500,
    error_code = 503,
    tag = "datasets",
    summary = "Get a dataset"
)]
pub(crate) async fn get(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
) -> Result<Json<DatasetResponse>, ApiError> {
    let dataset = state.datasets.get(&caller, DatasetId::from(path.id)).await?;
    Ok(Json(DatasetResponse::from(&dataset)))
}

#[api_operation(
    operation_id = "update_dataset",
    error_code = 400,
    error_code = 403,
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
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
    body: JsonBody<patch::MergePatch<DatasetRequest>>,
) -> Result<Json<DatasetResponse>, ApiError> {
    let id = DatasetId::from(path.id);
    let current = state.datasets.get_for_update(&caller, id).await?;
    let merged: DatasetRequest = patch::merge(&DatasetRequest::from_domain(&current), body.into_inner())?;
    let spec = DatasetSpec::try_from(merged).map_err(ApiError::invalid)?;
    let dataset = state.datasets.update(&caller, id, spec).await?;
    Ok(Json(DatasetResponse::from(&dataset)))
}

#[api_operation(
    operation_id = "delete_dataset",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 409,
    error_code = 500,
    error_code = 503,
    tag = "datasets",
    summary = "Delete a dataset",
    description = "409 when an experiment uses it."
)]
pub(crate) async fn delete(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
) -> Result<NoContent, ApiError> {
    state.datasets.delete(&caller, DatasetId::from(path.id)).await?;
    Ok(NoContent)
}

/// Options of a dataset registration.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema, ApiComponent)]
pub struct CreateQuery {
    /// Read the files' footers first; refuse the dataset (422) when they cannot be read or do not
    /// match its schema.
    #[serde(default)]
    pub inspect: bool,
}

#[api_operation(
    operation_id = "inspect_dataset",
    tag = "datasets",
    summary = "Inspect a dataset's files",
    description = "Reads only the Parquet footers: files, rows, bytes, columns and types, checked against the schema; stored on the dataset. 422 when a file is missing or does not match.",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 422,
    error_code = 500,
    error_code = 503
)]
pub(crate) async fn inspect(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
) -> Result<Json<DatasetResponse>, ApiError> {
    let dataset = state.datasets.inspect(&caller, DatasetId::from(path.id)).await?;
    Ok(Json(DatasetResponse::from(&dataset)))
}
