//! `/api/v1/backfills`: datasets loaded into named collections by durable, pausable jobs, with
//! their work items.

use actix_web::web::{Data, Json, Path};
use apistos::ApiComponent;
use apistos::api_operation;
use qbench_domain::JobId;
use qbench_domain::backfill::BackfillSpec;
use qbench_repository::Page;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::api::body::JsonBody;
use crate::api::pagination::{MAX_OFFSET, MAX_PAGE, PageQuery};
use crate::api::problem::ApiError;
use crate::api::query::QueryParams;
use crate::api::responses::{Accepted, Located, Paginated};
use crate::api::{IdPath, location};
use crate::auth::Authenticated;
use crate::dto::backfill::{
    BackfillCommandRequest, BackfillRequest, BackfillResponse, WorkItemResponse, WorkItemStatusBody,
};
use crate::dto::job::JobResponse;
use crate::state::AppState;

/// Filters and page of a backfill's work items.
///
/// The page parameters repeat `PageQuery`'s (the query-string parser cannot flatten numbers).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema, ApiComponent)]
pub struct WorkItemListQuery {
    /// Only work items with this status.
    pub status: Option<WorkItemStatusBody>,
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
    operation_id = "create_backfill",
    error_code = 400,
    error_code = 403,
    error_code = 409,
    error_code = 413,
    error_code = 415,
    error_code = 422,
    error_code = 500,
    error_code = 503,
    tag = "backfills",
    summary = "Load a dataset into a collection, without benchmarking it",
    description = "Queues a `backfill` job (202, follow `Location`). Its first execution splits the dataset's train files into work items (one per file and range of row groups, `/work-items`); each is read alone and upserted with the dataset's ids, a few at a time (`parallel`), so an item loaded again never duplicates a point; a worker lost mid-way hands the backfill back to the queue and the next one loads only what is not done; at the end the index is built. `FULL` creates the collection (409 when it exists); `INCREMENTAL` loads an existing collection with the dataset's vectors (created when missing), skipping the file ranges earlier backfills into it loaded. The index settings are `optimizer_config` (as in an experiment) or a COMPLETED study's recommendation (`study_id`), exactly one of them. 422 names each field at fault (unknown dataset, connection or study, settings that do not fit the dataset, bounds); a collection qbench did not create (`qbench-…`) needs an admin (403 naming `collection`); another backfill still loading the collection is a 409."
)]
pub(crate) async fn create(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    body: JsonBody<BackfillRequest>,
) -> Result<Accepted<BackfillResponse>, ApiError> {
    let spec = BackfillSpec::try_from(body.into_inner()).map_err(ApiError::invalid)?;
    let backfill = state.backfills.create(&caller, spec).await?;
    let body = BackfillResponse { task: Some(JobResponse::from(&backfill.job)), ..BackfillResponse::from(&backfill) };
    Ok(Accepted(Located::accepted(location("backfills", backfill.id()), body)))
}

#[api_operation(
    operation_id = "list_backfills",
    error_code = 400,
    error_code = 403,
    error_code = 500,
    error_code = 503,
    tag = "backfills",
    summary = "List backfills, newest first",
    description = "The caller's own backfills (an admin's: everyone's)."
)]
pub(crate) async fn list(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    query: QueryParams<PageQuery>,
) -> Result<Paginated<BackfillResponse>, ApiError> {
    let page = query.into_inner().to_page()?;
    let listed = state.backfills.list(&caller, page).await?;
    Ok(Paginated::new(listed.items.iter().map(BackfillResponse::from).collect(), listed.total, page))
}

#[api_operation(
    operation_id = "get_backfill",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 500,
    error_code = 503,
    tag = "backfills",
    summary = "Get a backfill: status, points loaded of the total, rate, seconds left, work items by status"
)]
pub(crate) async fn get(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
) -> Result<Json<BackfillResponse>, ApiError> {
    let backfill = state.backfills.get(&caller, JobId::from(path.id)).await?;
    Ok(Json(BackfillResponse::from(&backfill)))
}

#[api_operation(
    operation_id = "list_backfill_work_items",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 500,
    error_code = 503,
    tag = "backfills",
    summary = "List a backfill's work items in plan order",
    description = "One per Parquet file and range of row groups `[row_group_start, row_group_end)`: status, attempts, points loaded and the last error; filtered by status. Empty until the backfill's first execution planned them."
)]
pub(crate) async fn work_items(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
    query: QueryParams<WorkItemListQuery>,
) -> Result<Paginated<WorkItemResponse>, ApiError> {
    let query = query.into_inner();
    let page = PageQuery { limit: query.limit, offset: query.offset, page: query.page, page_size: query.page_size }
        .to_page()?;
    let status = query.status.map(Into::into);
    let listed = state.backfills.items(&caller, JobId::from(path.id), status, page).await?;
    Ok(Paginated::new(listed.items.iter().map(WorkItemResponse::from).collect(), listed.total, page))
}

#[api_operation(
    operation_id = "command_backfill",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 409,
    error_code = 413,
    error_code = 415,
    error_code = 422,
    error_code = 500,
    error_code = 503,
    tag = "backfills",
    summary = "Pause, resume or cancel a backfill",
    description = "202 with the backfill. `pause`: a queued backfill pauses at once, a running one after the work items under way (`pause_requested` until then); a paused backfill holds no worker. `resume`: back to the queue, to load the items not done. `cancel`: stops for good; what is loaded stays. 409 when the backfill's status does not allow the command."
)]
pub(crate) async fn command(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
    body: JsonBody<BackfillCommandRequest>,
) -> Result<Accepted<BackfillResponse>, ApiError> {
    let command = body.into_inner().command.into();
    let backfill = state.backfills.command(&caller, JobId::from(path.id), command).await?;
    let body = BackfillResponse { task: Some(JobResponse::from(&backfill.job)), ..BackfillResponse::from(&backfill) };
    Ok(Accepted(Located::accepted(location("backfills", backfill.id()), body)))
}
