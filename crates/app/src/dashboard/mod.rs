//! The web dashboard at `/`: server-rendered pages over the same services as the API, with the
//! report's charts (inline SVG drawn in Rust by `qbench-report`). No script and nothing from the
//! network: the pages work offline, behind the same authentication as the API (an identity-aware
//! proxy, or a token the login page keeps in a same-site cookie).

mod compare;
mod connections;
mod experiments;
mod login;
mod page;
mod runs;
mod studies;

pub use login::SESSION_COOKIE;
pub use page::is_dashboard_path;

use actix_web::web::{ServiceConfig, get, post, resource};

/// The dashboard's routes (not in the OpenAPI document: they answer HTML).
pub fn routes(config: &mut ServiceConfig) {
    config
        .service(resource("/").route(get().to(runs::list)))
        .service(resource("/ui/runs/{id}").route(get().to(runs::detail)))
        .service(resource("/ui/compare").route(get().to(compare::show)))
        .service(resource("/ui/studies").route(get().to(studies::list)))
        .service(resource("/ui/studies/{id}").route(get().to(studies::detail)))
        .service(
            resource("/ui/experiments")
                .route(get().to(experiments::page_handler))
                .route(post().to(experiments::create)),
        )
        .service(resource("/ui/experiments/{id}/runs").route(post().to(experiments::run)))
        .service(resource("/ui/connections/{id}/test").route(post().to(connections::test)))
        .service(resource("/ui/login").route(get().to(login::form)).route(post().to(login::submit)))
        .service(resource("/ui/logout").route(post().to(login::logout)));
}
