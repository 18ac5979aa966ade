//! The JSON body extractor: every way a body can be wrong becomes a precise problem.

use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use apistos::ApiComponent;
use apistos::reference_or::ReferenceOr;
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::api::problem::{ApiError, ProblemKind};

/// The largest body accepted, set once by the application.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON request body of type `T`.
///
/// Answers 415 when the body is not declared as JSON, 413 when it is over the limit, 400 when it
/// is not JSON at all, and 422 naming the field path when it is JSON of the wrong shape (wrong
/// type, missing or unknown field).
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T> JsonBody<T> {
    /// The parsed body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for JsonBody<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// Whether the request declares a JSON body (`application/json` or any `application/*+json`).
fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|essence| {
            let essence = essence.trim().to_ascii_lowercase();
            essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// Parses `bytes` as `T`, naming the field path of a shape error.
pub fn parse_json<T: DeserializeOwned + Serialize>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        // Some shape errors (two keys in a one-of object) surface as syntax errors mid-stream;
        // JSON that parses on its own is well-formed, so its error is about the shape.
        let well_formed = serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok();
        json_error(error, well_formed)
    })?;
    deserializer.end().map_err(|err| ApiError::new(ProblemKind::BadRequest, format!("malformed JSON: {err}")))?;
    let input: Value = serde_json::from_slice(bytes)
        .map_err(|err| ApiError::new(ProblemKind::BadRequest, format!("malformed JSON: {err}")))?;
    refuse_sequences(&input, &value)?;
    Ok(value)
}

/// Parses an already-read JSON value as `T`, naming the field path of a shape error.
pub fn from_value<T: DeserializeOwned + Serialize>(value: Value) -> Result<T, ApiError> {
    let parsed = serde_path_to_error::deserialize(&value).map_err(|error| json_error(error, true))?;
    refuse_sequences(&value, &parsed)?;
    Ok(parsed)
}

/// Refuses an object given as a JSON array.
///
/// serde's derived `Deserialize` of a struct also reads a sequence of its fields in order, so
/// `"upload_config": [null, null]` would be taken for `{}` although the document says object.
/// Whatever the struct, writing the parsed value back shows where that happened: an array in the
/// body is an object in what was understood.
fn refuse_sequences<T: Serialize>(input: &Value, parsed: &T) -> Result<(), ApiError> {
    let understood = serde_json::to_value(parsed).map_err(|err| ApiError::internal(&err))?;
    match array_read_as_object(input, &understood, String::new()) {
        None => Ok(()),
        Some(path) => {
            let field = if path.is_empty() { "body".to_owned() } else { path };
            Err(ApiError::invalid(vec![qbench_domain::Violation::new(
                field,
                "invalid type: sequence, expected an object (fields are given by name)",
            )]))
        }
    }
}

/// The path of the first array of `input` that `understood` holds as an object.
fn array_read_as_object(input: &Value, understood: &Value, path: String) -> Option<String> {
    match (input, understood) {
        (Value::Array(_), Value::Object(_)) => Some(path),
        (Value::Object(given), Value::Object(read)) => given.iter().find_map(|(key, value)| {
            let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
            read.get(key).and_then(|read| array_read_as_object(value, read, child))
        }),
        (Value::Array(given), Value::Array(read)) => given
            .iter()
            .zip(read)
            .enumerate()
            .find_map(|(index, (value, read))| array_read_as_object(value, read, format!("{path}[{index}]"))),
        _ => None,
    }
}

fn json_error(error: serde_path_to_error::Error<serde_json::Error>, well_formed: bool) -> ApiError {
    let path = error.path().to_string();
    let inner = error.into_inner();
    if !(inner.is_data() || well_formed) {
        return ApiError::new(ProblemKind::BadRequest, format!("malformed JSON: {inner}"));
    }
    // serde_json appends the position to its errors; the field path says more.
    let message = inner.to_string();
    let message = message.split(" at line ").next().unwrap_or_default().to_owned();
    let parent = if path == "." { None } else { Some(path) };
    // A missing field is reported at its parent; name the field itself.
    let missing = message.strip_prefix("missing field `").and_then(|rest| rest.strip_suffix('`'));
    let field = match (parent, missing) {
        (Some(parent), Some(missing)) => format!("{parent}.{missing}"),
        (None, Some(missing)) => missing.to_owned(),
        (Some(parent), None) => parent,
        (None, None) => "body".to_owned(),
    };
    ApiError::invalid(vec![qbench_domain::Violation::new(field, message)])
}

impl<T: DeserializeOwned + Serialize + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req.app_data::<web::Data<BodyLimit>>().map(|limit| limit.0).unwrap_or(1024 * 1024);
        let json = is_json(req);
        let declared_length = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if !json {
                return Err(ApiError::new(
                    ProblemKind::UnsupportedMediaType,
                    "the body must be JSON: send Content-Type: application/json",
                ));
            }
            let too_large = || {
                ApiError::new(
                    ProblemKind::PayloadTooLarge,
                    format!("the body is larger than the limit of {limit} bytes"),
                )
            };
            if declared_length.is_some_and(|length| length > limit) {
                return Err(too_large());
            }
            let mut bytes = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|err| {
                    ApiError::new(ProblemKind::BadRequest, format!("the body could not be read: {err}"))
                })?;
                if bytes.len() + chunk.len() > limit {
                    return Err(too_large());
                }
                bytes.extend_from_slice(&chunk);
            }
            if bytes.is_empty() {
                return Err(ApiError::new(ProblemKind::BadRequest, "the body is empty; a JSON object is expected"));
            }
            parse_json(&bytes).map(JsonBody)
        })
    }
}

impl<T: ApiComponent> ApiComponent for JsonBody<T> {
    fn required() -> bool {
        T::required()
    }

    fn child_schemas() -> Vec<(String, ReferenceOr<apistos::Schema>)> {
        T::child_schemas()
    }

    fn raw_schema() -> Option<ReferenceOr<apistos::Schema>> {
        T::raw_schema()
    }

    fn schema() -> Option<(String, ReferenceOr<apistos::Schema>)> {
        T::schema()
    }
}
