//! Security headers on every answer (the docs pages included) and CORS.

use actix_cors::Cors;
use actix_web::middleware::DefaultHeaders;

/// Headers that keep browsers from sniffing types, framing the pages, or leaking the URL.
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
}

/// CORS for the comma-separated `origins`; none (the default) means browsers on other origins
/// cannot call the API.
pub fn cors(origins: &str) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PATCH", "DELETE"])
        .allowed_headers(["authorization", "content-type", "x-api-key", "x-request-id"])
        .expose_headers(["location", "x-total-count", "link", "x-request-id", "retry-after"])
        .max_age(3600);
    for origin in origins.split(',').map(str::trim).filter(|origin| !origin.is_empty()) {
        cors = cors.allowed_origin(origin);
    }
    cors
}
