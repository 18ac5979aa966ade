//! RFC 7807 problem details: the one shape of every error qbench answers.

use std::collections::BTreeMap;
use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};
use apistos::paths::{MediaType, Response};
use apistos::reference_or::ReferenceOr;
use apistos::{ApiComponent, ApiErrorComponent};
use qbench_domain::Violation;
use qbench_service::ServiceError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The media type of problem details.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One field at fault.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
pub struct FieldError {
    /// Dotted path of the field, e.g. `search_config.hnsw_ef[1]`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl From<Violation> for FieldError {
    fn from(violation: Violation) -> Self {
        Self { field: violation.field, message: violation.message }
    }
}

/// An RFC 7807 problem document.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
#[schemars(example = "Problem::example")]
pub struct Problem {
    /// A stable URI naming the kind of problem.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
    /// The request path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Every field at fault (422 and some 400 answers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// Quote this id to an operator: the log line with it holds the cause (500 answers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_id: Option<String>,
}

impl Problem {
    fn example() -> Self {
        Self {
            problem_type: ProblemKind::Validation.type_uri(),
            title: ProblemKind::Validation.title().to_owned(),
            status: 422,
            detail: "the request has 1 invalid field".to_owned(),
            instance: Some("/api/v1/experiments".to_owned()),
            errors: Some(vec![FieldError {
                field: "vector_config.embedding".to_owned(),
                message:
                    "vector `embedding` (768, Cosine) is not in the dataset: the dataset has `dense` (1536, Cosine)"
                        .to_owned(),
            }]),
            error_id: None,
        }
    }

    /// A problem of `kind` with `detail`.
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Self {
        Self {
            problem_type: kind.type_uri(),
            title: kind.title().to_owned(),
            status: kind.status().as_u16(),
            detail: detail.into(),
            instance: None,
            errors: None,
            error_id: None,
        }
    }
}

/// The kinds of problem, each with a stable `type` URI and status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// 400: a request that cannot be read (malformed JSON, bad query or path parameter).
    BadRequest,
    /// 401 (reserved for authentication).
    Unauthorized,
    /// 403: the caller lacks the role the operation needs.
    Forbidden,
    /// 404: no such object or route.
    NotFound,
    /// 405: the route exists, the method does not.
    MethodNotAllowed,
    /// 409: the request clashes with the current state.
    Conflict,
    /// 413: the body is larger than allowed.
    PayloadTooLarge,
    /// 415: the body is not JSON.
    UnsupportedMediaType,
    /// 422: the body is well-formed but breaks rules.
    Validation,
    /// 429 (reserved for rate limiting).
    TooManyRequests,
    /// 500: a failure on qbench's side.
    Internal,
    /// 503: a dependency is down.
    Unavailable,
    /// 504: the request took too long.
    Timeout,
}

impl ProblemKind {
    /// Every kind, for documentation.
    pub const ALL: [ProblemKind; 13] = [
        Self::BadRequest,
        Self::Unauthorized,
        Self::Forbidden,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::Conflict,
        Self::PayloadTooLarge,
        Self::UnsupportedMediaType,
        Self::Validation,
        Self::TooManyRequests,
        Self::Internal,
        Self::Unavailable,
        Self::Timeout,
    ];

    /// The HTTP status.
    pub fn status(self) -> StatusCode {
        match self {
            Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Timeout => StatusCode::GATEWAY_TIMEOUT,
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Self::BadRequest => "bad-request",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not-found",
            Self::MethodNotAllowed => "method-not-allowed",
            Self::Conflict => "conflict",
            Self::PayloadTooLarge => "payload-too-large",
            Self::UnsupportedMediaType => "unsupported-media-type",
            Self::Validation => "validation-failed",
            Self::TooManyRequests => "too-many-requests",
            Self::Internal => "internal-error",
            Self::Unavailable => "unavailable",
            Self::Timeout => "timeout",
        }
    }

    /// The stable `type` URI.
    pub fn type_uri(self) -> String {
        format!("urn:qbench:problem:{}", self.slug())
    }

    /// The `title`.
    pub fn title(self) -> &'static str {
        match self {
            Self::BadRequest => "Bad request",
            Self::Unauthorized => "Unauthorized",
            Self::Forbidden => "Forbidden",
            Self::NotFound => "Not found",
            Self::MethodNotAllowed => "Method not allowed",
            Self::Conflict => "Conflict",
            Self::PayloadTooLarge => "Payload too large",
            Self::UnsupportedMediaType => "Unsupported media type",
            Self::Validation => "Validation failed",
            Self::TooManyRequests => "Too many requests",
            Self::Internal => "Internal error",
            Self::Unavailable => "Service unavailable",
            Self::Timeout => "Timeout",
        }
    }

    /// The kind answered for a bare status (what actix produces itself).
    pub fn from_status(status: StatusCode) -> Self {
        Self::ALL.into_iter().find(|kind| kind.status() == status).unwrap_or(if status.is_server_error() {
            Self::Internal
        } else {
            Self::BadRequest
        })
    }
}

/// Every error a handler returns; mapped to a [`Problem`] exactly here.
#[derive(Debug)]
pub struct ApiError(Box<Problem>);

impl ApiError {
    /// A problem of `kind`.
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Self {
        Self(Box::new(Problem::new(kind, detail)))
    }

    /// A 400 naming the parameter at fault.
    pub fn bad_parameter(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        let message = message.into();
        let mut problem = Problem::new(ProblemKind::BadRequest, format!("{field}: {message}"));
        problem.errors = Some(vec![FieldError { field, message }]);
        Self(Box::new(problem))
    }

    /// A 422 listing every violation.
    pub fn invalid(violations: Vec<Violation>) -> Self {
        let count = violations.len();
        let detail = match violations.as_slice() {
            [only] => format!("{}: {}", only.field, only.message),
            _ => format!("the request has {count} invalid fields"),
        };
        let mut problem = Problem::new(ProblemKind::Validation, detail);
        problem.errors = Some(violations.into_iter().map(FieldError::from).collect());
        Self(Box::new(problem))
    }

    /// A 500 whose cause goes to the log, under a fresh error id, and never to the client.
    pub fn internal(cause: &dyn fmt::Display) -> Self {
        let error_id = uuid::Uuid::new_v4().to_string();
        tracing::error!(error_id = %error_id, error = %cause, "internal error");
        let mut problem = Problem::new(
            ProblemKind::Internal,
            format!("an internal error occurred; quote error_id {error_id} to the operator"),
        );
        problem.error_id = Some(error_id);
        Self(Box::new(problem))
    }

    /// The problem document.
    pub fn problem(&self) -> &Problem {
        &self.0
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.0.title, self.0.status, self.0.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        problem_response(&self.0)
    }
}

/// The HTTP answer carrying `problem`.
pub fn problem_response(problem: &Problem) -> HttpResponse {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_string(problem).unwrap_or_else(|_| String::from("{}"));
    HttpResponse::build(status).insert_header((header::CONTENT_TYPE, PROBLEM_JSON)).body(body)
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Invalid(violations) => Self::invalid(violations),
            ServiceError::NotFound { entity, id } => {
                Self::new(ProblemKind::NotFound, format!("{entity} {id} not found"))
            }
            ServiceError::Forbidden(denied) => Self::new(ProblemKind::Forbidden, denied.to_string()),
            ServiceError::ForbiddenField(violation) => {
                let mut problem =
                    Problem::new(ProblemKind::Forbidden, format!("{}: {}", violation.field, violation.message));
                problem.errors = Some(vec![FieldError::from(violation)]);
                Self(Box::new(problem))
            }
            ServiceError::Conflict(detail) => Self::new(ProblemKind::Conflict, detail),
            ServiceError::Unavailable(reason) => {
                tracing::warn!(%reason, "dependency unavailable");
                Self::new(ProblemKind::Unavailable, "a dependency of qbench is unavailable; retry later")
            }
            ServiceError::Misconfigured(detail) => {
                tracing::error!(%detail, "qbench is misconfigured");
                Self::new(ProblemKind::Unavailable, detail)
            }
            ServiceError::Internal(cause) => Self::internal(&cause),
        }
    }
}

impl ApiErrorComponent for ApiError {
    fn schemas_by_status_code() -> BTreeMap<String, (String, ReferenceOr<apistos::Schema>)> {
        let schema = <Problem as ApiComponent>::schema();
        ProblemKind::ALL
            .iter()
            .filter_map(|kind| schema.clone().map(|schema| (kind.status().as_str().to_owned(), schema)))
            .collect()
    }

    fn error_responses() -> Vec<(String, Response)> {
        ProblemKind::ALL
            .iter()
            .map(|kind| {
                let media = MediaType {
                    schema: Some(ReferenceOr::Reference { _ref: "#/components/schemas/Problem".to_owned() }),
                    ..Default::default()
                };
                (
                    kind.status().as_str().to_owned(),
                    Response {
                        description: kind.title().to_owned(),
                        content: BTreeMap::from([(PROBLEM_JSON.to_owned(), media)]),
                        ..Default::default()
                    },
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use qbench_domain::{Caller, Role};

    use super::*;

    #[test]
    fn a_missing_role_is_a_403_problem_saying_which_role() {
        let denied = Caller::new("vera@example.com", [Role::Viewer]).require(Role::Editor).err();
        let Some(denied) = denied else { panic!("a viewer is not an editor") };
        let error = ApiError::from(ServiceError::Forbidden(denied));
        let problem = error.problem();
        assert_eq!(problem.status, 403);
        assert_eq!(problem.problem_type, "urn:qbench:problem:forbidden");
        assert_eq!(problem.title, "Forbidden");
        assert_eq!(problem.detail, "this needs the editor role; you have viewer");
        assert_eq!(error.status_code(), StatusCode::FORBIDDEN);
    }
}
