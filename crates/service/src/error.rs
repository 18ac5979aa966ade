//! The service layer's error type.

use qbench_domain::{AccessDenied, TransitionError, Violation};
use qbench_repository::{Entity, QueueError, RepositoryError};

/// Why a use case did not complete.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The input breaks one or more rules; every violation is listed.
    #[error("invalid input: {}", summary(.0))]
    Invalid(Vec<Violation>),
    /// The object does not exist.
    #[error("{entity} {id} not found")]
    NotFound {
        /// Kind of object.
        entity: Entity,
        /// The id asked for.
        id: String,
    },
    /// The caller lacks the role the operation needs. Checked before anything is looked up, so
    /// it reveals nothing about the objects asked for.
    #[error("{0}")]
    Forbidden(AccessDenied),
    /// The request clashes with the current state (a duplicate name, an object in use, a run that
    /// already ended, the built-in connection).
    #[error("{0}")]
    Conflict(String),
    /// A dependency is down; retrying later may work.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The server is configured wrongly for what is stored (e.g. another secret key); the message
    /// names the setting and holds no secret, so clients may see it.
    #[error("misconfigured: {0}")]
    Misconfigured(String),
    /// Anything else; the message is for logs, not for clients.
    #[error("internal error: {0}")]
    Internal(String),
}

fn summary(violations: &[Violation]) -> String {
    violations.iter().map(|v| format!("{}: {}", v.field, v.message)).collect::<Vec<_>>().join("; ")
}

impl From<RepositoryError> for ServiceError {
    fn from(error: RepositoryError) -> Self {
        match error {
            RepositoryError::NotFound { entity, id } => Self::NotFound { entity, id },
            RepositoryError::Duplicate { .. } | RepositoryError::InUse { .. } | RepositoryError::Conflict { .. } => {
                Self::Conflict(error.to_string())
            }
            RepositoryError::Unavailable(reason) => Self::Unavailable(reason),
            RepositoryError::SecretKeyMismatch { stored } => Self::Misconfigured(format!(
                "the stored secrets (first met: {stored}) do not open with this server's QBENCH_SECRET_KEY: \
                 start qbench with the key they were stored with"
            )),
            RepositoryError::Corrupt { .. } | RepositoryError::Internal(_) => Self::Internal(error.to_string()),
        }
    }
}

impl From<AccessDenied> for ServiceError {
    fn from(denied: AccessDenied) -> Self {
        Self::Forbidden(denied)
    }
}

impl From<TransitionError> for ServiceError {
    fn from(error: TransitionError) -> Self {
        Self::Conflict(error.to_string())
    }
}

impl From<QueueError> for ServiceError {
    fn from(error: QueueError) -> Self {
        Self::Unavailable(error.to_string())
    }
}

/// Turns a list of violations into `Ok` when empty, `Invalid` otherwise.
pub(crate) fn ensure_valid(violations: Vec<Violation>) -> Result<(), ServiceError> {
    if violations.is_empty() { Ok(()) } else { Err(ServiceError::Invalid(violations)) }
}
