//! The middleware that identifies every request before its handler runs.

use crate::api::problem::{ApiError, ProblemKind};
use crate::state::AppState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web::Data;
use actix_web::{Error, HttpMessage};

/// Paths answered without credentials: the probes an orchestrator calls.
const OPEN_PATHS: [&str; 4] = ["/health", "/ready", "/api/v1/health", "/api/v1/ready"];

/// Identifies the request with the app's [`Authenticator`](crate::auth::Authenticator) and stores its
/// [`Caller`](qbench_domain::Caller); answers 401
/// problem+json with `WWW-Authenticate: Bearer` when it cannot.
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if OPEN_PATHS.contains(&req.path()) {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    }
    let verdict = match req.app_data::<Data<AppState>>() {
        Some(state) => state.auth.identify(&req),
        None => return Err(actix_web::error::ErrorInternalServerError("the application state is not configured")),
    };
    match verdict {
        Ok(caller) => {
            req.extensions_mut().insert(caller);
            next.call(req).await.map(ServiceResponse::map_into_boxed_body)
        }
        Err(error) => {
            let mut response =
                actix_web::ResponseError::error_response(&ApiError::new(ProblemKind::Unauthorized, error.to_string()));
            response.headers_mut().insert(
                actix_web::http::header::WWW_AUTHENTICATE,
                actix_web::http::header::HeaderValue::from_static("Bearer"),
            );
            Ok(req.into_response(response))
        }
    }
}
