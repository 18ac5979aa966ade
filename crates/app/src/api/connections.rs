//! `/api/v1/connections`.

use actix_web::web::{Data, Json, Path};
use apistos::actix::NoContent;
use apistos::{ApiComponent, api_operation};
use qbench_domain::{ConnectionId, ConnectionSpec};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::api::body::JsonBody;
use crate::api::pagination::PageQuery;
use crate::api::problem::ApiError;
use crate::api::query::QueryParams;
use crate::api::responses::{Located, Paginated};
use crate::api::{IdPath, location, patch};
use crate::auth::Authenticated;
use crate::dto::cluster::{ConnectionHealthResponse, ConnectionStatsResponse, ConnectionTestResponse};
use crate::dto::connection::{ConnectionRequest, ConnectionResponse};
use crate::dto::unmask;
use crate::state::AppState;

#[api_operation(
    operation_id = "list_connections",
    error_code = 400,
    error_code = 403,
    error_code = 500,
    error_code = 503,
    tag = "connections",
    summary = "List connections"
)]
pub(crate) async fn list(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    query: QueryParams<PageQuery>,
) -> Result<Paginated<ConnectionResponse>, ApiError> {
    let page = query.to_page()?;
    let listed = state.connections.list(&caller, page).await?;
    Ok(Paginated::new(listed.items.into_iter().map(ConnectionResponse::from).collect(), listed.total, page))
}

#[api_operation(
    operation_id = "create_connection",
    error_code = 400,
    error_code = 403,
    error_code = 409,
    error_code = 413,
    error_code = 415,
    error_code = 422,
    error_code = 500,
    error_code = 503,
    tag = "connections",
    summary = "Register a Qdrant connection",
    description = "The API key is stored encrypted and shown masked afterwards. Names are unique (409). With `?test=true` it is tested first and refused (422 naming `url` or `api_key`) unless the test passes."
)]
pub(crate) async fn create(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    query: QueryParams<CreateQuery>,
    body: JsonBody<ConnectionRequest>,
) -> Result<Located<ConnectionResponse>, ApiError> {
    let spec = ConnectionSpec::try_from(body.into_inner()).map_err(ApiError::invalid)?;
    let connection = if query.test {
        state.connections.create_tested(&caller, spec).await?
    } else {
        state.connections.create(&caller, spec).await?
    };
    Ok(Located::created(location("connections", connection.id), ConnectionResponse::from(&connection)))
}

/// Options of a connection's registration.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema, ApiComponent)]
pub struct CreateQuery {
    /// Test the connection first (as `POST /connections/{id}/test` does) and refuse it (422 naming
    /// `url`, or `api_key` when authentication failed) unless every step passes.
    #[serde(default)]
    pub test: bool,
}

#[api_operation(
    operation_id = "test_connection",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 500,
    error_code = 503,
    tag = "connections",
    summary = "Test a connection: reachable, TLS, authentication, Qdrant and its version, round trip",
    description = "200 whatever the outcome: `ok`, each step (`reachable`, `tls`, `authentication`, `qdrant`) with `passed`, `failed` (and why) or `skipped`, and `failure` naming the first that failed — an unreachable host, a TLS handshake, an API key refused (401/403), a server that is not Qdrant. Editors and admins."
)]
pub(crate) async fn test(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
) -> Result<Json<ConnectionTestResponse>, ApiError> {
    let (connection, check) = state.connections.test(&caller, ConnectionId::from(path.id)).await?;
    Ok(Json(ConnectionTestResponse::new(&connection, &check)))
}

#[api_operation(
    operation_id = "get_connection",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 500,
    error_code = 503,
    tag = "connections",
    summary = "Get a connection"
)]
pub(crate) async fn get(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
) -> Result<Json<ConnectionResponse>, ApiError> {
    let connection = state.connections.get(&caller, ConnectionId::from(path.id)).await?;
    Ok(Json(ConnectionResponse::from(&connection)))
}

#[api_operation(
    operation_id = "update_connection",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 409,
    error_code = 413,
    error_code = 415,
    error_code = 422,
    error_code = 500,
    error_code = 503,
    tag = "connections",
    summary = "Change a connection (JSON Merge Patch)",
    description = "Fields given replace the stored ones; `null` removes an optional field. The built-in connection cannot change (409)."
)]
pub(crate) async fn update(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
    body: JsonBody<patch::MergePatch<ConnectionRequest>>,
) -> Result<Json<ConnectionResponse>, ApiError> {
    let id = ConnectionId::from(path.id);
    let current = state.connections.get_for_update(&caller, id).await?;
    let mut merged: ConnectionRequest = patch::merge(&ConnectionRequest::from_domain(&current), body.into_inner())?;
    merged.api_key = unmask(merged.api_key, current.spec.api_key.as_ref());
    let spec = ConnectionSpec::try_from(merged).map_err(ApiError::invalid)?;
    let connection = state.connections.update(&caller, id, spec).await?;
    Ok(Json(ConnectionResponse::from(&connection)))
}

#[api_operation(
    operation_id = "delete_connection",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 409,
    error_code = 500,
    error_code = 503,
    tag = "connections",
    summary = "Delete a connection",
    description = "409 when an experiment uses it, or for the built-in connection."
)]
pub(crate) async fn delete(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
) -> Result<NoContent, ApiError> {
    state.connections.delete(&caller, ConnectionId::from(path.id)).await?;
    Ok(NoContent)
}

#[api_operation(
    operation_id = "connection_health",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 500,
    error_code = 503,
    tag = "connections",
    summary = "Whether a connection's engine is alive and ready, and its peers in distributed mode",
    description = "Qdrant's `/healthz`, `/readyz` and `/cluster` (REST, which the gRPC client lacks); the embedded engine answers for itself. 200 whatever the engine's state: an engine that cannot be asked is `live: false` with `error` saying why."
)]
pub(crate) async fn health(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
) -> Result<Json<ConnectionHealthResponse>, ApiError> {
    let (connection, health) = state.connections.health(&caller, ConnectionId::from(path.id)).await?;
    Ok(Json(ConnectionHealthResponse::new(&connection, &health)))
}

#[api_operation(
    operation_id = "connection_stats",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 500,
    error_code = 503,
    tag = "connections",
    summary = "What a connection's engine holds: its version and every collection",
    description = "Every collection by name; the figures (points, indexed vectors, segments) of those that can be read without touching another's data: a remote Qdrant's `qbench-` collections, and the embedded engine's collections open in this process (a run's collection written by that run's process is not loaded; its disk bytes are measured). A remote Qdrant also answers its peers, the memory it reports (telemetry, when built with jemalloc) and, per `qbench-` collection, shard placement and the transfers under way. 200 whatever the engine's state: one that cannot be asked answers `error`."
)]
pub(crate) async fn stats(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<IdPath>,
) -> Result<Json<ConnectionStatsResponse>, ApiError> {
    let (connection, stats) = state.connections.stats(&caller, ConnectionId::from(path.id)).await?;
    Ok(Json(ConnectionStatsResponse::new(&connection, &stats)))
}
