//! The middleware that identifies every request before its handler runs, and limits its rate.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::cookie::Cookie;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{AUTHORIZATION, HeaderMap, HeaderValue, LOCATION, RETRY_AFTER, WWW_AUTHENTICATE};
use actix_web::middleware::Next;
use actix_web::web::Data;
use actix_web::{Error, HttpMessage, HttpResponse, ResponseError};
use qbench_domain::Role;

use crate::api::problem::{ApiError, ProblemKind};
use crate::auth::{API_KEY_HEADER, AuthError};
use crate::dashboard::{SESSION_COOKIE, is_dashboard_path};
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

/// The dashboard's sign-in page.
const LOGIN: &str = "/ui/login";

/// `headers`, with the dashboard's session cookie as the bearer token when they carry no
/// credential of their own.
fn with_session(headers: &HeaderMap, session: Option<Cookie<'static>>) -> HeaderMap {
    let mut headers = headers.clone();
    if !headers.contains_key(AUTHORIZATION)
        && !headers.contains_key(API_KEY_HEADER)
        && let Some(cookie) = session
        && let Ok(value) = HeaderValue::from_str(&format!("Bearer {}", cookie.value()))
    {
        headers.insert(AUTHORIZATION, value);
    }
    headers
}

/// Whether a request comes from another site's page: by `Sec-Fetch-Site` (anything but this
/// origin, or the user's own navigation), else by an `Origin` whose host is not this one. The
/// session cookie is same-site already; this refuses such forms outright. (`Origin` alone will not
/// do: under `Referrer-Policy: no-referrer` a browser sends `Origin: null` for its own forms.)
fn is_cross_site(headers: &HeaderMap) -> bool {
    let header = |name| headers.get(name).and_then(|value: &HeaderValue| value.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        return !matches!(site, "same-origin" | "none");
    }
    match (header("origin"), header("host")) {
        (Some("null"), _) => true,
        (Some(origin), Some(host)) => origin.split_once("://").map(|(_, rest)| rest) != Some(host),
        (Some(_), None) | (None, _) => false,
    }
}

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
    let dashboard = is_dashboard_path(path);
    if dashboard && req.method() == Method::POST && is_cross_site(req.headers()) {
        let response = ApiError::new(ProblemKind::Forbidden, "a dashboard form may only be sent from its own pages")
            .error_response();
        return Ok(req.into_response(response));
    }
    // The sign-in page is open (rate limited per peer): it is where an unidentified browser goes.
    let signed = path.starts_with(ARTIFACTS) || path == LOGIN;
    let verdict = if signed {
        None
    } else if dashboard {
        Some(state.auth.identify(&with_session(req.headers(), req.cookie(SESSION_COOKIE)), peer).await)
    } else {
        Some(state.auth.identify(req.headers(), peer).await)
    };
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
        Err(AuthError::Missing | AuthError::Expired | AuthError::InvalidToken | AuthError::InvalidApiKey)
            if dashboard =>
        {
            // A browser without (valid) credentials is sent to sign in, then back here.
            let next: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
            let response = HttpResponse::SeeOther().insert_header((LOCATION, format!("{LOGIN}?next={next}"))).finish();
            Ok(req.into_response(response))
        }
        Err(error @ (AuthError::Missing | AuthError::Expired | AuthError::InvalidToken | AuthError::InvalidApiKey)) => {
            let mut response = ApiError::new(ProblemKind::Unauthorized, error.to_string()).error_response();
            response.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            Ok(req.into_response(response))
        }
    }
}
