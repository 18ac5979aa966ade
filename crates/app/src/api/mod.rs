//! The REST API: thin handlers that extract, convert, call a service and map the result.

pub mod artifacts;
pub mod backfills;
pub mod body;
pub mod bulk;
pub mod connections;
pub mod datasets;
pub mod experiments;
pub mod health;
pub mod jobs;
pub mod metadata;
pub mod pagination;
pub mod patch;
pub mod problem;
pub mod query;
pub mod reports;
pub mod responses;
pub mod runs;
pub mod snapshots;
pub mod storages;
pub mod studies;

use actix_web::web as actix;
use apistos::ApiComponent;
use apistos::web::{ServiceConfig, delete, get, patch as patch_route, post, resource, scope};
use schemars::JsonSchema;
use serde::Deserialize;
use uuid::Uuid;

pub use health::health_routes;

/// The `{id}` of a path.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, ApiComponent)]
pub struct IdPath {
    /// The object's UUID.
    pub id: Uuid,
}

/// The API under `/api/v1`.
pub fn configure(config: &mut ServiceConfig) {
    config.service(
        scope("/api/v1")
            .service(
                scope("/connections")
                    .service(resource("").route(get().to(connections::list)).route(post().to(connections::create)))
                    .service(
                        resource("/{id}")
                            .route(get().to(connections::get))
                            .route(patch_route().to(connections::update))
                            .route(delete().to(connections::delete)),
                    )
                    .service(resource("/{id}/test").route(post().to(connections::test)))
                    .service(resource("/{id}/health").route(get().to(connections::health)))
                    .service(resource("/{id}/stats").route(get().to(connections::stats))),
            )
            .service(
                scope("/storage")
                    .service(resource("").route(get().to(storages::list)).route(post().to(storages::create)))
                    .service(
                        resource("/{id}")
                            .route(get().to(storages::get))
                            .route(patch_route().to(storages::update))
                            .route(delete().to(storages::delete)),
                    ),
            )
            .service(
                scope("/datasets")
                    .service(resource("").route(get().to(datasets::list)).route(post().to(datasets::create)))
                    .service(resource("/{id}/inspect").route(post().to(datasets::inspect)))
                    .service(
                        resource("/{id}")
                            .route(get().to(datasets::get))
                            .route(patch_route().to(datasets::update))
                            .route(delete().to(datasets::delete)),
                    ),
            )
            .service(
                scope("/experiments")
                    .service(resource("").route(get().to(experiments::list)).route(post().to(experiments::create)))
                    .service(resource("/validate").route(post().to(experiments::validate)))
                    .service(resource("/bulk-delete").route(post().to(experiments::bulk_delete)))
                    .service(
                        resource("/{id}")
                            .route(get().to(experiments::get))
                            .route(patch_route().to(experiments::update))
                            .route(delete().to(experiments::delete)),
                    )
                    .service(resource("/{id}/runs").route(post().to(runs::create))),
            )
            .service(
                scope("/runs")
                    .service(resource("").route(get().to(runs::list)))
                    .service(resource("/compare").route(get().to(runs::compare)))
                    .service(resource("/bulk-delete").route(post().to(runs::bulk_delete)))
                    .service(resource("/{id}").route(get().to(runs::get)).route(delete().to(runs::delete)))
                    .service(resource("/{id}/cancel").route(post().to(runs::cancel)))
                    .service(resource("/{id}/pause").route(post().to(runs::pause)))
                    .service(resource("/{id}/result").route(get().to(runs::result))),
            )
            .service(scope("/artifacts").service(resource("/{run_id}/{file}").route(get().to(artifacts::get))))
            .service(
                scope("/reports")
                    .service(resource("").route(post().to(reports::create)))
                    .service(resource("/{id}").route(get().to(reports::get))),
            )
            .service(
                scope("/snapshots")
                    .service(resource("").route(get().to(snapshots::list)).route(post().to(snapshots::create)))
                    .service(resource("/bulk-delete").route(post().to(snapshots::bulk_delete)))
                    .service(resource("/{id}").route(get().to(snapshots::get)).route(delete().to(snapshots::delete)))
                    .service(resource("/{id}/restore").route(post().to(snapshots::restore))),
            )
            .service(
                scope("/backfills")
                    .service(resource("").route(get().to(backfills::list)).route(post().to(backfills::create)))
                    .service(resource("/{id}").route(get().to(backfills::get)))
                    .service(resource("/{id}/work-items").route(get().to(backfills::work_items)))
                    .service(resource("/{id}/commands").route(post().to(backfills::command))),
            )
            .service(
                scope("/studies")
                    .service(resource("").route(get().to(studies::list)).route(post().to(studies::create)))
                    .service(resource("/validate").route(post().to(studies::validate)))
                    .service(resource("/{id}").route(get().to(studies::get)))
                    .service(resource("/{id}/cancel").route(post().to(studies::cancel))),
            )
            .service(
                scope("/jobs")
                    .service(resource("").route(get().to(jobs::list)))
                    .service(resource("/noop").route(post().to(jobs::create_noop)))
                    .service(resource("/{id}").route(get().to(jobs::get)))
                    .service(resource("/{id}/cancel").route(post().to(jobs::cancel)))
                    .service(resource("/{id}/pause").route(post().to(jobs::pause)))
                    .service(resource("/{id}/resume").route(post().to(jobs::resume))),
            )
            .service(
                scope("/metadata")
                    .service(resource("/version").route(get().to(metadata::version)))
                    .service(resource("/capabilities").route(get().to(metadata::capabilities)))
                    .service(resource("/system").route(get().to(metadata::system))),
            )
            .service(
                scope("/health")
                    .service(resource("").route(get().to(health::api_health)))
                    .service(resource("/ready").route(get().to(health::api_ready))),
            ),
    );
}

/// Where the object at `path` under the API lives, for `Location` headers.
pub(crate) fn location(collection: &str, id: impl std::fmt::Display) -> String {
    format!("/api/v1/{collection}/{id}")
}

/// Path-parameter errors (a malformed UUID) become problems naming the value.
pub fn path_config() -> actix::PathConfig {
    actix::PathConfig::default().error_handler(|err, req| {
        let value = req.match_info().get("id").unwrap_or_default().to_owned();
        problem::ApiError::bad_parameter("id", format!("`{value}` is not a UUID ({err})")).into()
    })
}
