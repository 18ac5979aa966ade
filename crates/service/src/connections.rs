//! Registering Qdrant connections.

use std::sync::Arc;

use crate::clock::now;
use qbench_domain::{Connection, ConnectionId, ConnectionSpec, validate_connection};
use qbench_repository::{ConnectionRepository, Listed, Page};

use crate::ServiceError;
use crate::error::ensure_valid;

/// Use cases on connections, including the built-in `embedded` one.
#[derive(Clone)]
pub struct ConnectionService {
    connections: Arc<dyn ConnectionRepository>,
}

impl ConnectionService {
    /// A service over `connections`.
    pub fn new(connections: Arc<dyn ConnectionRepository>) -> Self {
        Self { connections }
    }

    /// Makes sure the built-in `embedded` connection exists; called at start-up.
    #[tracing::instrument(skip(self))]
    pub async fn ensure_builtin(&self) -> Result<Connection, ServiceError> {
        let builtin = Connection::embedded(now());
        if let Some(existing) = self.connections.find_by_name(&builtin.spec.name).await? {
            return Ok(existing);
        }
        self.connections.insert(&builtin).await?;
        tracing::info!(connection_id = %builtin.id, "created the built-in embedded connection");
        Ok(builtin)
    }

    /// Registers a connection.
    #[tracing::instrument(skip_all, fields(name = %spec.name))]
    pub async fn create(&self, spec: ConnectionSpec) -> Result<Connection, ServiceError> {
        ensure_valid(validate_connection(&spec))?;
        let connection = Connection::new(spec, now());
        self.connections.insert(&connection).await?;
        Ok(connection)
    }

    /// The connection with `id`.
    pub async fn get(&self, id: ConnectionId) -> Result<Connection, ServiceError> {
        Ok(self.connections.get(id).await?)
    }

    /// A page of connections.
    pub async fn list(&self, page: Page) -> Result<Listed<Connection>, ServiceError> {
        Ok(self.connections.list(page).await?)
    }

    /// Replaces a connection's settings; the built-in connection cannot change.
    #[tracing::instrument(skip(self, spec))]
    pub async fn update(&self, id: ConnectionId, spec: ConnectionSpec) -> Result<Connection, ServiceError> {
        let mut connection = self.connections.get(id).await?;
        refuse_builtin(&connection, "changed")?;
        ensure_valid(validate_connection(&spec))?;
        connection.spec = spec;
        connection.updated_at = now();
        self.connections.update(&connection).await?;
        Ok(connection)
    }

    /// Deletes a connection no experiment uses; the built-in connection cannot be deleted.
    #[tracing::instrument(skip(self))]
    pub async fn delete(&self, id: ConnectionId) -> Result<(), ServiceError> {
        let connection = self.connections.get(id).await?;
        refuse_builtin(&connection, "deleted")?;
        Ok(self.connections.delete(id).await?)
    }
}

fn refuse_builtin(connection: &Connection, action: &str) -> Result<(), ServiceError> {
    if connection.is_builtin() {
        Err(ServiceError::Conflict(format!("the built-in connection `{}` cannot be {action}", connection.spec.name)))
    } else {
        Ok(())
    }
}
