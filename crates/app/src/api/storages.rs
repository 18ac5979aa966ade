//! `/api/v1/storage`.

use actix_web::web::{Data, Json, Path};
use apistos::actix::NoContent;
use apistos::api_operation;
use qbench_domain::{StorageId, StorageSpec};

use crate::api::body::JsonBody;
use crate::api::pagination::PageQuery;
use crate::api::problem::ApiError;
use crate::api::query::QueryParams;
use crate::api::responses::{Located, Paginated};
use crate::api::{IdPath, location, patch};
use crate::auth::Authenticated;
use crate::dto::storage::{StorageRequest, StorageResponse};
use crate::dto::unmask;
use crate::state::AppState;

#[api_operation(
    operation_id = "list_storages",
    error_code = 400,
    error_code = 403,
    error_code = 500,
    error_code = 503,
    tag = "storage",
    summary = "List object storages"
)]
pub(crate) async fn list(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    query: QueryParams<PageQuery>,
) -> Result<Paginated<StorageResponse>, ApiError> {
    let page = query.to_page()?;
    let listed = state.storages.list(&caller, page).await?;
    Ok(Paginated::new(listed.items.into_iter().map(StorageResponse::from).collect(), listed.total, page))
}

#[api_operation(
    operation_id = "create_storage",
    error_code = 400,
    error_code = 403,
    error_code = 409,
    error_code = 413,
    error_code = 415,
    error_code = 422,
    error_code = 500,
    error_code = 503,
    tag = "storage",
    summary = "Register an S3-compatible object storage",
    description = "Keys are stored encrypted and shown masked afterwards. Names, when given, are unique (409)."
)]
pub(crate) async fn create(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    body: JsonBody<StorageRequest>,
) -> Result<Located<StorageResponse>, ApiError> {
    let spec = StorageSpec::try_from(body.into_inner()).map_err(ApiError::invalid)?;
    let storage = state.storages.create(&caller, spec).await?;
    Ok(Located::created(location("storage", storage.id), StorageResponse::from(&storage)))
}

#[api_operation(
    operation_id = "get_storage",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 500,
    error_code = 503,
    tag = "storage",
    summary = "Get an object storage"
)]
pub(crate) async fn get(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
) -> Result<Json<StorageResponse>, ApiError> {
    let storage = state.storages.get(&caller, StorageId::from(path.id)).await?;
    Ok(Json(StorageResponse::from(&storage)))
}

#[api_operation(
    operation_id = "update_storage",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 409,
    error_code = 413,
    error_code = 415,
    error_code = 422,
    error_code = 500,
    error_code = 503,
    tag = "storage",
    summary = "Change an object storage (JSON Merge Patch)",
    description = "Fields given replace the stored ones; `null` removes an optional field."
)]
pub(crate) async fn update(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
    body: JsonBody<patch::MergePatch<StorageRequest>>,
) -> Result<Json<StorageResponse>, ApiError> {
    let id = StorageId::from(path.id);
    let current = state.storages.get_for_update(&caller, id).await?;
    let mut merged: StorageRequest = patch::merge(&StorageRequest::from_domain(&current), body.into_inner())?;
    merged.access_key = unmask(merged.access_key, current.spec.access_key.as_ref());
    merged.secret_key = unmask(merged.secret_key, current.spec.secret_key.as_ref());
    let spec = StorageSpec::try_from(merged).map_err(ApiError::invalid)?;
    let storage = state.storages.update(&caller, id, spec).await?;
    Ok(Json(StorageResponse::from(&storage)))
}

#[api_operation(
    operation_id = "delete_storage",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 409,
    error_code = 500,
    error_code = 503,
    tag = "storage",
    summary = "Delete an object storage",
    description = "409 when a dataset uses it."
)]
pub(crate) async fn delete(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
) -> Result<NoContent, ApiError> {
    state.storages.delete(&caller, StorageId::from(path.id)).await?;
    Ok(NoContent)
}
