//! Storage of Qdrant connections.

use async_trait::async_trait;
use qbench_domain::{Connection, ConnectionId, ConnectionSummary};

use crate::{Listed, Page, RepositoryError};

/// Stores connections, secrets included (adapters keep secrets encrypted at rest).
///
/// # Errors
/// Every method returns `Unavailable` when the database cannot be reached. `insert` and `update`
/// MUST return `Duplicate { field: "name" }` when another connection has the same name; `get`,
/// `update` and `delete` MUST return `NotFound` for an unknown id.
#[async_trait]
pub trait ConnectionRepository: Send + Sync {
    /// Stores a new connection.
    async fn insert(&self, connection: &Connection) -> Result<(), RepositoryError>;
    /// The connection with `id`.
    async fn get(&self, id: ConnectionId) -> Result<Connection, RepositoryError>;
    /// The connection named `name`, if any.
    async fn find_by_name(&self, name: &str) -> Result<Option<Connection>, RepositoryError>;
    /// Connections in creation order.
    async fn list(&self, page: Page) -> Result<Listed<Connection>, RepositoryError>;
    /// The same page as [`Self::list`], each API key as its mask only: read without opening
    /// the secrets, so it costs no decryption per row.
    async fn list_masked(&self, page: Page) -> Result<Listed<ConnectionSummary>, RepositoryError>;
    /// Replaces a stored connection.
    async fn update(&self, connection: &Connection) -> Result<(), RepositoryError>;
    /// Deletes a connection. MUST return `InUse` when an experiment references it.
    async fn delete(&self, id: ConnectionId) -> Result<(), RepositoryError>;
}
