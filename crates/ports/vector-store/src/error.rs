//! The error contract of vector-store adapters.

/// What went wrong talking to the vector database.
#[derive(Debug, thiserror::Error)]
pub enum VectorStoreError {
    /// The database cannot be reached (connection refused, timeout, TLS); retrying may help.
    #[error("vector database unreachable: {0}")]
    Unreachable(String),
    /// The collection does not exist.
    #[error("collection `{0}` not found")]
    CollectionNotFound(String),
    /// The database refused the request (bad parameters, wrong dimension, unauthorized).
    #[error("vector database refused the request: {0}")]
    Rejected(String),
    /// Anything else.
    #[error("vector database error: {0}")]
    Internal(String),
}

impl VectorStoreError {
    /// Whether retrying the same call may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unreachable(_))
    }
}
