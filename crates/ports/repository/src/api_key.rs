//! Storage of API keys (their digests, never the keys).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use qbench_domain::{ApiKey, ApiKeyId};

use crate::RepositoryError;

/// Stores API keys by the SHA-256 digest of the key; the key itself never reaches this port.
///
/// # Errors
/// Every method returns `Unavailable` when the database cannot be reached. `insert` MUST return
/// `Duplicate { field: "hash" }` when another key has the same digest (and `Duplicate { field:
/// "id" }` for a taken id); `revoke` MUST return `NotFound` for an unknown id.
#[async_trait]
pub trait ApiKeyRepository: Send + Sync {
    /// Stores a new key.
    async fn insert(&self, key: &ApiKey) -> Result<(), RepositoryError>;
    /// The key whose digest is `hash`, if any, revoked and expired ones included.
    async fn find_by_hash(&self, hash: &str) -> Result<Option<ApiKey>, RepositoryError>;
    /// Every key, oldest first (ties broken by id).
    async fn list(&self) -> Result<Vec<ApiKey>, RepositoryError>;
    /// Marks the key revoked at `now` and answers it; a key revoked before keeps its first
    /// revocation time.
    async fn revoke(&self, id: ApiKeyId, now: DateTime<Utc>) -> Result<ApiKey, RepositoryError>;
}
