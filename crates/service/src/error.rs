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
    /// The caller's role does not allow what one field names (a collection qbench did not create,
    /// named by someone who is not an admin): HTTP 403 naming the field.
    #[error("{}: {}", .0.field, .0.message)]
    ForbiddenField(Violation),
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

/// The error of a write whose `references` (the kind of object each field names) were checked
/// before it: a referenced object deleted in between (the repository's `NotFound` of that kind)
/// reads like the check's own violation of the field; anything else maps as usual.
pub(crate) fn reference_gone(error: RepositoryError, references: &[(Entity, &'static str)]) -> ServiceError {
    if let RepositoryError::NotFound { entity, id } = &error
        && let Some((_, field)) = references.iter().find(|(kind, _)| kind == entity)
    {
        return ServiceError::Invalid(vec![Violation::new(*field, format!("{entity} {id} does not exist"))]);
    }
    error.into()
}

/// Turns a list of violations into `Ok` when empty, `Invalid` otherwise.
pub(crate) fn ensure_valid(violations: Vec<Violation>) -> Result<(), ServiceError> {
    if violations.is_empty() { Ok(()) } else { Err(ServiceError::Invalid(violations)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_deleted_after_validation_reads_as_the_fields_violation() {
        let gone = RepositoryError::not_found(Entity::Dataset, "d-1");
        let ServiceError::Invalid(violations) = reference_gone(gone, &[(Entity::Dataset, "dataset_id")]) else {
            panic!("expected Invalid");
        };
        assert_eq!(violations, vec![Violation::new("dataset_id", "dataset d-1 does not exist")]);
        // The written object itself missing stays NotFound.
        let missing = RepositoryError::not_found(Entity::Experiment, "e-1");
        let error = reference_gone(missing, &[(Entity::Dataset, "dataset_id")]);
        assert!(matches!(error, ServiceError::NotFound { entity: Entity::Experiment, .. }), "{error:?}");
    }
}
