//! Translation of `qdrant-client` errors into the port's `VectorStoreError`: the only place that
//! knows `QdrantError` and gRPC status codes.

use qbench_vector_store::{CheckStep, VectorStoreError};
use qdrant_client::QdrantError;
use secrecy::{ExposeSecret, SecretString};
use tonic::{Code, Status};

/// Sorts a client error for the port; `collection` is the collection the call was about, if any,
/// named in `CollectionNotFound`.
///
/// Messages are built from the status code and the server's message only, never from the
/// status metadata, which `QdrantError`'s own text includes.
pub fn from_qdrant(err: &QdrantError, collection: Option<&str>) -> VectorStoreError {
    // `QdrantError`'s variants depend on qdrant-client's features, which any crate of the
    // workspace could enable: the variants qbench does not expect are internal errors.
    #[allow(clippy::wildcard_enum_match_arm)]
    match err {
        QdrantError::ResponseError { status } => from_status(status, collection),
        QdrantError::ResourceExhaustedError { status, retry_after_seconds } => {
            VectorStoreError::Internal(format!("{}; retry after {retry_after_seconds} s", describe(status)))
        }
        QdrantError::InvalidUri(err) => VectorStoreError::Rejected(format!("invalid endpoint URI: {err}")),
        QdrantError::JsonToPayload(_) => VectorStoreError::Rejected("a payload must be a JSON object".to_owned()),
        other => VectorStoreError::Internal(other.to_string()),
    }
}

/// Sorts a gRPC status:
///
/// - `Unavailable`, `DeadlineExceeded` and `Cancelled` (tonic's code for a request timeout), a
///   failed connection or TLS set-up (which `qdrant-client` reports as `Internal`) and a broken
///   transport are `Unreachable`;
/// - `NotFound` is `CollectionNotFound` for a call about a collection;
/// - `InvalidArgument`, `PermissionDenied`, `Unauthenticated`, `AlreadyExists` (a collection that
///   exists), `FailedPrecondition` and `OutOfRange` are `Rejected`;
/// - everything else is `Internal`.
pub fn from_status(status: &Status, collection: Option<&str>) -> VectorStoreError {
    let message = describe(status);
    match status.code() {
        Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => VectorStoreError::Unreachable(message),
        Code::Internal | Code::Unknown if is_transport_failure(status.message()) => {
            VectorStoreError::Unreachable(message)
        }
        Code::NotFound => match collection {
            Some(name) => VectorStoreError::CollectionNotFound(name.to_owned()),
            None => VectorStoreError::Internal(message),
        },
        Code::InvalidArgument
        | Code::PermissionDenied
        | Code::Unauthenticated
        | Code::AlreadyExists
        | Code::FailedPrecondition
        | Code::OutOfRange => VectorStoreError::Rejected(message),
        Code::Ok
        | Code::Unknown
        | Code::ResourceExhausted
        | Code::Aborted
        | Code::Unimplemented
        | Code::Internal
        | Code::DataLoss => VectorStoreError::Internal(message),
    }
}

/// Whether a status message is the client's own report of a connection it could not make:
/// `qdrant-client` wraps connect and TLS failures as `Internal`, tonic a broken connection as
/// `Unknown` ("transport error").
fn is_transport_failure(message: &str) -> bool {
    message.starts_with("Failed to connect to")
        || message.starts_with("Failed to create TLS config")
        || message.contains("transport error")
}

/// The step of a connection test a failed health check belongs to, and why, for a person: the
/// API key refused (`Unauthenticated`, `PermissionDenied`: Qdrant's 401/403), a TLS handshake that
/// failed, a server that is not Qdrant (no such gRPC service, or not HTTP/2 at all), or nothing
/// reached.
pub fn check_step(err: &QdrantError) -> (CheckStep, String) {
    #[allow(clippy::wildcard_enum_match_arm)]
    let status = match err {
        QdrantError::ResponseError { status } => status,
        QdrantError::InvalidUri(err) => return (CheckStep::Reach, format!("invalid endpoint URI: {err}")),
        other => return (CheckStep::Identify, other.to_string()),
    };
    let message = describe(status);
    let lower = status.message().to_ascii_lowercase();
    let tls = ["tls", "certificate", "handshake", "corrupt message", "invalidcontenttype", "ssl"];
    let not_grpc =
        ["h2 protocol error", "http2 error", "frame with invalid size", "invalid http version", "not http/2"];
    match status.code() {
        Code::Unauthenticated | Code::PermissionDenied => {
            (CheckStep::Authenticate, format!("the API key was refused ({message})"))
        }
        Code::Unimplemented => {
            (CheckStep::Identify, format!("the server does not answer Qdrant's gRPC API ({message})"))
        }
        _ if tls.iter().any(|word| lower.contains(word)) => (CheckStep::Tls, message),
        // tonic's word for a connection made that then carried no gRPC answer: an HTTP/1 server
        // (Qdrant's REST port, a proxy's page), or one that dropped the connection.
        _ if not_grpc.iter().any(|word| lower.contains(word)) || lower.contains("transport error") => (
            CheckStep::Identify,
            format!("the server answered but not in gRPC: is this Qdrant's gRPC port (6334)? ({message})"),
        ),
        Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => (CheckStep::Reach, message),
        Code::Internal | Code::Unknown if is_transport_failure(status.message()) => (CheckStep::Reach, message),
        Code::Ok
        | Code::Unknown
        | Code::InvalidArgument
        | Code::NotFound
        | Code::AlreadyExists
        | Code::ResourceExhausted
        | Code::FailedPrecondition
        | Code::Aborted
        | Code::OutOfRange
        | Code::Internal
        | Code::DataLoss => (CheckStep::Identify, message),
    }
}

fn describe(status: &Status) -> String {
    let message = status.message();
    if is_transport_failure(message) {
        return transport_summary(message);
    }
    if message.is_empty() { format!("{:?}", status.code()) } else { format!("{message} ({:?})", status.code()) }
}

/// A transport failure in one line a user can act on: the client's own sentence (which names the
/// server) and the root cause, instead of tonic's debug rendering of its error chain.
fn transport_summary(message: &str) -> String {
    const CAUSES: [(&str, &str); 7] = [
        ("ConnectionRefused", "connection refused"),
        ("Connection refused", "connection refused"),
        ("dns error", "the host name does not resolve"),
        ("TimedOut", "timed out"),
        ("timed out", "timed out"),
        ("certificate", "TLS certificate not accepted"),
        ("ConnectionReset", "connection reset by the server"),
    ];
    let (sentence, detail) = message.split_once(": ").unwrap_or((message, ""));
    let cause = CAUSES.iter().find(|(marker, _)| detail.contains(marker)).map(|(_, cause)| *cause);
    match cause {
        Some(cause) => format!("{sentence}: {cause}"),
        None if detail.is_empty() => sentence.to_owned(),
        None => format!("{sentence}: {}", detail.chars().take(200).collect::<String>()),
    }
}

/// `err` with every occurrence of `secret` replaced by `****`.
///
/// The adapter never puts the API key into a message, and the server should not echo it; this is
/// the guarantee for the case where a server or proxy does.
pub fn redact(err: VectorStoreError, secret: &SecretString) -> VectorStoreError {
    let secret = secret.expose_secret();
    if secret.is_empty() {
        return err;
    }
    let clean = |message: String| message.replace(secret, "****");
    match err {
        VectorStoreError::Unreachable(message) => VectorStoreError::Unreachable(clean(message)),
        VectorStoreError::CollectionNotFound(message) => VectorStoreError::CollectionNotFound(clean(message)),
        VectorStoreError::Rejected(message) => VectorStoreError::Rejected(clean(message)),
        VectorStoreError::Internal(message) => VectorStoreError::Internal(clean(message)),
    }
}
