//! The middleware that identifies every request before its handler runs, and limits its rate.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use actix_web::middleware::Next;
use actix_web::web::Data;
use actix_web::{Error, HttpMessage, ResponseError};
use qbench_domain::Role;

use crate::api::problem::{ApiError, ProblemKind};
use crate::auth::AuthError;
use crate::protect::RateLimiter;
use crate::state::AppState;

/// Probes an orchestrator calls: never authenticated, never rate limited.
const PROBES: [&str; 4] = ["/health", "/ready", "/api/v1/health", "/api/v1/health/ready"];
/// The Prometheus endpoint: open unless `auth.protect_metrics`, never rate limited.
const METRICS: &str = "/metrics";
/// Run artifacts behind signed URLs: the signature is the credential (the handler checks it);
/// rate limited per peer like any anonymous request.
const ARTIFACTS: &str = "/api/v1/artifacts/";
/// The API documentation: open unless `auth.protect_docs`.
const DOCS: [&str; 3] = ["/docs", "/redoc", "/openapi.json"];

/// Identifies the request with the app's [`Authenticator`](crate::auth::Authenticator) and stores
/// its [`Caller`](qbench_domain::Caller): 401 problem+json with `WWW-Authenticate: Bearer` when it
/// cannot; then counts the request against its identity's rate limit (the peer address when it
/// has none): 429 with `Retry-After` beyond it.
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(state) = req.app_data::<Data<AppState>>().cloned() else {
        return Err(actix_web::error::ErrorInternalServerError("the application state is not configured"));
    };
    let path = req.path();
    let is_metrics = path == METRICS;
    let is_docs = DOCS.iter().any(|docs| path == *docs || path.starts_with(&format!("{docs}/")));
    let open = PROBES.contains(&path)
        || (is_metrics && !state.auth.protects_metrics())
        || (is_docs && !state.auth.protects_docs());
    if open {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    }
    let peer = req.peer_addr().map(|address| address.ip());
    let signed = path.starts_with(ARTIFACTS);
    let verdict = if signed { None } else { Some(state.auth.identify(req.headers(), peer).await) };
    let key = match &verdict {
        Some(Ok(caller)) => format!("user:{}", caller.user()),
        Some(Err(_)) | None => format!("peer:{}", peer.map_or_else(|| "unknown".to_owned(), |peer| peer.to_string())),
    };
    if !is_metrics && let Err(retry_after) = state.rate_limiter.check(&key) {
        let error = ApiError::new(ProblemKind::TooManyRequests, RateLimiter::message(retry_after));
        let mut response = error.error_response();
        if let Ok(value) = HeaderValue::from_str(&retry_after.as_secs().max(1).to_string()) {
            response.headers_mut().insert(RETRY_AFTER, value);
        }
        return Ok(req.into_response(response));
    }
    let Some(verdict) = verdict else {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    match verdict {
        Ok(caller) => {
            // Metrics and docs have no service to check roles: they need a viewer here.
            if (is_metrics || is_docs)
                && let Err(denied) = caller.require(Role::Viewer)
            {
                let response = ApiError::new(ProblemKind::Forbidden, denied.to_string()).error_response();
                return Ok(req.into_response(response));
            }
            req.extensions_mut().insert(caller);
            next.call(req).await.map(ServiceResponse::map_into_boxed_body)
        }
        Err(error @ AuthError::Unavailable) => {
            let response = ApiError::new(ProblemKind::Unavailable, error.to_string()).error_response();
            Ok(req.into_response(response))
        }
        Err(error @ (AuthError::Missing | AuthError::Expired | AuthError::InvalidToken | AuthError::InvalidApiKey)) => {
            let mut response = ApiError::new(ProblemKind::Unauthorized, error.to_string()).error_response();
            response.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            Ok(req.into_response(response))
        }
    }
}
