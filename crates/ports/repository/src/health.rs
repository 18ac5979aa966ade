//! Database liveness, for health and readiness probes.

use async_trait::async_trait;

use crate::RepositoryError;

/// Answers whether the database is usable.
#[async_trait]
pub trait DatabaseHealth: Send + Sync {
    /// Runs a trivial query (`SELECT 1`); `Unavailable` when it fails.
    async fn ping(&self) -> Result<(), RepositoryError>;
    /// The backend's name (`sqlite`, `postgres`).
    fn backend(&self) -> &'static str;
}
