//! `/api/v1/snapshots`: collections archived into repositories, and restored from them.

use actix_web::web::{Data, Json, Path};
use apistos::ApiComponent;
use apistos::actix::NoContent;
use apistos::api_operation;
use qbench_domain::{ConnectionId, SnapshotId, SnapshotSpec, SnapshotStatus};
use qbench_repository::{Page, SnapshotFilter};
use qbench_service::snapshots::RestoreSpec;
use schemars::JsonSchema;
use serde::Deserialize;
use uuid::Uuid;

use crate::api::body::JsonBody;
use crate::api::bulk;
use crate::api::pagination::{MAX_OFFSET, MAX_PAGE, PageQuery};
use crate::api::problem::ApiError;
use crate::api::query::QueryParams;
use crate::api::responses::{Accepted, Located, Paginated};
use crate::api::{IdPath, location};
use crate::auth::Authenticated;
use crate::dto::bulk::{BulkDeleteRequest, BulkDeleteResponse};
use crate::dto::job::JobResponse;
use crate::dto::snapshot::{RestoreRequest, SnapshotRequest, SnapshotResponse, SnapshotStatusBody};
use crate::state::AppState;

/// Filters and page of the snapshot list.
///
/// The page parameters repeat `PageQuery`'s (the query-string parser cannot flatten numbers).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema, ApiComponent)]
pub struct SnapshotListQuery {
    /// Only snapshots of collections of this connection.
    pub connection_id: Option<Uuid>,
    /// Only snapshots of this collection.
    #[schemars(length(min = 1, max = 255))]
    pub collection: Option<String>,
    /// Only snapshots with this status.
    pub status: Option<SnapshotStatusBody>,
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
}

#[api_operation(
    operation_id = "create_snapshot",
    error_code = 400,
    error_code = 403,
    error_code = 413,
    error_code = 415,
    error_code = 422,
    error_code = 500,
    error_code = 503,
    tag = "snapshots",
    summary = "Snapshot a collection into a repository",
    description = "Queues a `snapshot` job (202, follow `Location`): the engine's consistent archive of the collection, in Qdrant's shard snapshot format, streams into the repository — a directory under the data roots, or a registered storage's bucket — while its size and SHA-256 are tallied. 422 names `connection_id` (unknown), `collection` (not in that engine) or `repository.*` (outside the data roots, an unknown storage). A collection qbench did not create (`qbench-…`) needs an admin (403 naming `collection`)."
)]
pub(crate) async fn create(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    body: JsonBody<SnapshotRequest>,
) -> Result<Accepted<SnapshotResponse>, ApiError> {
    let spec = SnapshotSpec::try_from(body.into_inner()).map_err(ApiError::invalid)?;
    let (snapshot, job) = state.snapshots.create(&caller, spec).await?;
    let body = SnapshotResponse { task: Some(JobResponse::from(&job)), ..SnapshotResponse::from(&snapshot) };
    Ok(Accepted(Located::accepted(location("snapshots", snapshot.id), body)))
}

#[api_operation(
    operation_id = "list_snapshots",
    error_code = 400,
    error_code = 403,
    error_code = 500,
    error_code = 503,
    tag = "snapshots",
    summary = "List snapshots, newest first",
    description = "The caller's own snapshots (an admin's: everyone's), filtered by connection, collection and status."
)]
pub(crate) async fn list(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    query: QueryParams<SnapshotListQuery>,
) -> Result<Paginated<SnapshotResponse>, ApiError> {
    let query = query.into_inner();
    let page = PageQuery { limit: query.limit, offset: query.offset, page: query.page, page_size: query.page_size }
        .to_page()?;
    if let Some(collection) = &query.collection
        && !(1..=255).contains(&collection.chars().count())
    {
        return Err(ApiError::bad_parameter("collection", "a collection name has 1 to 255 characters"));
    }
    let filter = SnapshotFilter {
        connection_id: query.connection_id.map(ConnectionId::from),
        collection: query.collection,
        status: query.status.map(SnapshotStatus::from),
        owner: None,
    };
    let listed = state.snapshots.list(&caller, filter, page).await?;
    Ok(Paginated::new(listed.items.iter().map(SnapshotResponse::from).collect(), listed.total, page))
}

#[api_operation(
    operation_id = "get_snapshot",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 500,
    error_code = 503,
    tag = "snapshots",
    summary = "Get a snapshot: status, size, SHA-256, where it is and the collection configuration it holds"
)]
pub(crate) async fn get(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
) -> Result<Json<SnapshotResponse>, ApiError> {
    let snapshot = state.snapshots.get(&caller, SnapshotId::from(path.id)).await?;
    Ok(Json(SnapshotResponse::from(&snapshot)))
}

#[api_operation(
    operation_id = "delete_snapshot",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 409,
    error_code = 500,
    error_code = 503,
    tag = "snapshots",
    summary = "Delete a snapshot and its archive",
    description = "409 while it is still being archived (cancel its job first)."
)]
pub(crate) async fn delete(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
) -> Result<NoContent, ApiError> {
    state.snapshots.delete(&caller, SnapshotId::from(path.id)).await?;
    Ok(NoContent)
}

#[api_operation(
    operation_id = "restore_snapshot",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 409,
    error_code = 413,
    error_code = 415,
    error_code = 422,
    error_code = 500,
    error_code = 503,
    tag = "snapshots",
    summary = "Restore a snapshot into a collection",
    description = "Queues a `restore` job (202; `Location` is the job): the archive streams from its repository into the engine, its size and SHA-256 are checked against the snapshot's before anything is restored (a mismatch fails the job and leaves the engine as it was), and the restored collection must hold the points the snapshot recorded. 409 when the snapshot is not READY, or the collection exists and `overwrite` is not set."
)]
pub(crate) async fn restore(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
    body: JsonBody<RestoreRequest>,
) -> Result<Accepted<JobResponse>, ApiError> {
    let target = RestoreSpec::try_from(body.into_inner()).map_err(ApiError::invalid)?;
    let job = state.snapshots.restore(&caller, SnapshotId::from(path.id), target).await?;
    Ok(Accepted(Located::accepted(location("jobs", job.id()), JobResponse::from(&job))))
}

#[api_operation(
    operation_id = "bulk_delete_snapshots",
    error_code = 400,
    error_code = 403,
    error_code = 413,
    error_code = 415,
    error_code = 422,
    error_code = 500,
    error_code = 503,
    tag = "snapshots",
    summary = "Delete several snapshots and their archives",
    description = "Each id is deleted as `DELETE /snapshots/{id}` would; the answer gives each id's status (204, 404, 409 while archiving …) in the order given, and one failing id does not stop the others. 422 for no ids, more than 100, or one listed twice."
)]
pub(crate) async fn bulk_delete(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    body: JsonBody<BulkDeleteRequest>,
) -> Result<Json<BulkDeleteResponse>, ApiError> {
    let ids = bulk::ids(body.into_inner())?;
    let deleted = bulk::delete_each(ids, |id| state.snapshots.delete(&caller, SnapshotId::from(id))).await;
    Ok(Json(deleted))
}
