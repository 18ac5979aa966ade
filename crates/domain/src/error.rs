//! The domain's error type.

/// An invalid value, named by the field path that carries it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A value outside what qbench or Qdrant accepts.
    #[error("{field}: {message}")]
    Invalid {
        /// Dotted path of the field at fault, e.g. `search_config.k`.
        field: String,
        /// What is wrong and what is accepted.
        message: String,
    },
}

impl DomainError {
    /// An `Invalid` error for `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid { field: field.into(), message: message.into() }
    }
}
