//! One middleware for what every request gets: a request id, a log line, metrics, and errors
//! normalised to problem details (including the ones actix answers itself, like 404 and 405).

use std::time::Instant;

use actix_web::body::{BodySize, BoxBody, MessageBody, to_bytes};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse};
use qbench_domain::Caller;

use crate::api::problem::{PROBLEM_JSON, Problem, ProblemKind, problem_response};

/// The request-id header, echoed when the client sends a sane one.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Largest problem body re-read to add its `instance`.
const MAX_PROBLEM_BYTES: usize = 64 * 1024;

fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|value| !value.is_empty() && value.len() <= 128 && value.chars().all(|c| c.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// Logs, measures and normalises one request.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let request_id = request_id(&req);
    let method = req.method().to_string();
    let path = req.path().to_owned();

    // Handlers and extractors turn their errors into responses; an `Err` here comes from the
    // server's own plumbing and is passed on after being logged.
    let response = match next.call(req).await {
        Ok(response) => response.map_into_boxed_body(),
        Err(error) => {
            tracing::error!(target: "qbench::http", method = %method, path = %path, request_id = %request_id, %error, "request failed");
            return Err(error);
        }
    };
    let mut response = normalise(response, &method, &path).await;

    let status = response.status().as_u16();
    let route = response.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let user = response.request().extensions().get::<Caller>().map(|caller| caller.user().to_owned());
    if let Some(user) = &user {
        crate::audit::record(&response, user);
    }
    let elapsed = started.elapsed();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    metrics::counter!("http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status.to_string())
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method.clone(), "route" => route)
        .record(elapsed.as_secs_f64());
    tracing::info!(
        target: "qbench::http",
        method = %method,
        path = %path,
        status,
        latency_ms = elapsed.as_secs_f64() * 1000.0,
        user = user.as_deref().unwrap_or("anonymous"),
        request_id = %request_id,
        "request"
    );
    Ok(response)
}

/// Makes every error answer a problem document whose `instance` is the request path.
async fn normalise(response: ServiceResponse<BoxBody>, method: &str, path: &str) -> ServiceResponse<BoxBody> {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type = response.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok());
    let is_problem = content_type.is_some_and(|value| value.starts_with(PROBLEM_JSON));
    // A handler that answers an error status with a JSON document of its own (the health probes'
    // 503) means that document; only what is neither is rewritten.
    // Likewise a dashboard page answering an error (a form's field errors, a missing run) in HTML.
    if content_type.is_some_and(|value| value.starts_with("application/json") || value.starts_with("text/html")) {
        return response;
    }
    let (request, body_response) = response.into_parts();
    let (head, body) = body_response.into_parts();
    let body = to_bytes_limited(body).await;
    let parsed =
        if is_problem { body.as_deref().and_then(|bytes| serde_json::from_slice::<Problem>(bytes).ok()) } else { None };
    let mut problem = parsed.unwrap_or_else(|| fallback_problem(status, method, path, body.as_deref()));
    if problem.instance.is_none() {
        problem.instance = Some(path.to_owned());
    }
    let mut fresh: HttpResponse = problem_response(&problem);
    for (name, value) in head.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            fresh.headers_mut().insert(name.clone(), value.clone());
        }
    }
    ServiceResponse::new(request, fresh)
}

/// The problem for an error answer that is not one already (actix's own 404, 405, …).
fn fallback_problem(status: StatusCode, method: &str, path: &str, body: Option<&[u8]>) -> Problem {
    let kind = ProblemKind::from_status(status);
    let detail = if kind == ProblemKind::NotFound {
        format!("no route for {method} {path}")
    } else if kind == ProblemKind::MethodNotAllowed {
        format!("method {method} is not allowed on {path}")
    } else {
        body.and_then(|bytes| std::str::from_utf8(bytes).ok())
            .filter(|text| !text.is_empty())
            .map_or_else(|| kind.title().to_owned(), str::to_owned)
    };
    let mut problem = Problem::new(kind, detail);
    problem.status = status.as_u16();
    problem
}

async fn to_bytes_limited(body: BoxBody) -> Option<actix_web::web::Bytes> {
    if let BodySize::Sized(size) = body.size()
        && size > MAX_PROBLEM_BYTES as u64
    {
        return None;
    }
    to_bytes(body).await.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_kinds_cover_what_actix_answers_itself() {
        for status in [404, 405, 413, 415] {
            let status = actix_web::http::StatusCode::from_u16(status).unwrap();
            assert_eq!(ProblemKind::from_status(status).status(), status);
        }
    }
}
