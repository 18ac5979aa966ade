//! `/docs` (Swagger UI) and `/redoc` (ReDoc) served offline: their pinned assets (`crates/app/web`,
//! installed by npm from its lock file) are compiled into the binary, so the pages load nothing
//! from the network.

use actix_web::HttpResponse;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::web::Path;
use apistos::web::{ServiceConfig, get, resource};
use apistos::{RedocConfig, SwaggerUIConfig, api_operation};

/// Swagger UI's page, loading its assets from `/docs/assets/`.
const SWAGGER_HTML: &str = include_str!("swagger.html");
/// ReDoc's page, loading its bundle from `/redoc/assets/`.
const REDOC_HTML: &str = include_str!("redoc.html");

/// An embedded file: its name under the assets path, media type and bytes.
struct Asset {
    name: &'static str,
    media_type: &'static str,
    bytes: &'static [u8],
}

const SWAGGER_ASSETS: [Asset; 3] = [
    Asset {
        name: "swagger-ui-bundle.js",
        media_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../web/node_modules/swagger-ui-dist/swagger-ui-bundle.js"),
    },
    Asset {
        name: "swagger-ui.css",
        media_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../web/node_modules/swagger-ui-dist/swagger-ui.css"),
    },
    Asset {
        name: "swagger-init.js",
        media_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("swagger-init.js"),
    },
];

const REDOC_ASSETS: [Asset; 1] = [Asset {
    name: "redoc.standalone.js",
    media_type: "text/javascript; charset=utf-8",
    bytes: include_bytes!("../../web/node_modules/redoc/bundles/redoc.standalone.js"),
}];

/// Swagger UI at `/docs`, from qbench itself.
pub fn swagger_ui() -> SwaggerUIConfig {
    SwaggerUIConfig::new(&"/docs").with_html(SWAGGER_HTML.to_owned())
}

/// ReDoc at `/redoc`, from qbench itself.
pub fn redoc() -> RedocConfig {
    RedocConfig::new(&"/redoc").with_html(REDOC_HTML.to_owned())
}

/// The routes of the viewers' assets (not in the OpenAPI document).
pub fn asset_routes(config: &mut ServiceConfig) {
    config
        .service(resource("/docs/assets/{file}").route(get().to(swagger_asset)))
        .service(resource("/redoc/assets/{file}").route(get().to(redoc_asset)));
}

#[api_operation(skip)]
async fn swagger_asset(file: Path<String>) -> HttpResponse {
    serve(&SWAGGER_ASSETS, &file)
}

#[api_operation(skip)]
async fn redoc_asset(file: Path<String>) -> HttpResponse {
    serve(&REDOC_ASSETS, &file)
}

/// `name` among `assets`, cached for a day (the assets change only with the binary); 404 else.
fn serve(assets: &[Asset], name: &str) -> HttpResponse {
    match assets.iter().find(|asset| asset.name == name) {
        Some(asset) => HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, asset.media_type))
            .insert_header((CACHE_CONTROL, "public, max-age=86400"))
            .body(asset.bytes),
        None => HttpResponse::NotFound().finish(),
    }
}
