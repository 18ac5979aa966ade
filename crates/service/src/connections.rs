//! Registering Qdrant connections.

use std::sync::Arc;

use crate::clock::now;
use qbench_domain::{
    Caller, Connection, ConnectionId, ConnectionSpec, ConnectionSummary, Role, RunId, Violation, validate_connection,
};
use qbench_repository::{ConnectionRepository, Listed, Page};
use qbench_vector_store::{
    CheckStep, CollectionStats, ConnectionCheck, EngineHealth, EngineInfo, EngineMemory, PeerHealth,
    VectorStoreProvider,
};

use crate::ServiceError;
use crate::error::ensure_valid;

/// An engine's version and collections, and what it says of its cluster and memory.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineStats {
    /// The engine and its version.
    pub engine: EngineInfo,
    /// Its collections, by name (with their shard layout where the engine gives it).
    pub collections: Vec<CollectionStats>,
    /// The cluster's peers as its health reads them (empty for a single node); `None` when the
    /// health could not be read.
    pub peers: Option<Vec<PeerHealth>>,
    /// What the engine process holds in memory, when it says.
    pub memory: Option<EngineMemory>,
}

/// Use cases on connections, including the built-in `embedded` one.
///
/// Connections hold secrets: any viewer may read them (masked by the edge), only admins may
/// register, change or delete them.
#[derive(Clone)]
pub struct ConnectionService {
    connections: Arc<dyn ConnectionRepository>,
    stores: Option<Arc<dyn VectorStoreProvider>>,
}

impl ConnectionService {
    /// A service over `connections`.
    pub fn new(connections: Arc<dyn ConnectionRepository>) -> Self {
        Self { connections, stores: None }
    }

    /// The service testing connections through `stores`.
    pub fn with_stores(mut self, stores: Arc<dyn VectorStoreProvider>) -> Self {
        self.stores = Some(stores);
        self
    }

    /// Tests connection `id` (editor: whoever runs on it): reached, TLS, authenticated, answered
    /// as Qdrant, with its version and round trip.
    #[tracing::instrument(skip(self, caller), fields(user = caller.user()))]
    pub async fn test(&self, caller: &Caller, id: ConnectionId) -> Result<(Connection, ConnectionCheck), ServiceError> {
        caller.require(Role::Editor)?;
        let connection = self.connections.get(id).await?;
        let check = self.check(&connection).await?;
        Ok((connection, check))
    }

    /// Whether connection `id`'s engine is alive and ready, and its peers when distributed
    /// (viewer); an engine that does not answer, or refuses the key, is the error said.
    pub async fn health(
        &self,
        caller: &Caller,
        id: ConnectionId,
    ) -> Result<(Connection, Result<EngineHealth, String>), ServiceError> {
        caller.require(Role::Viewer)?;
        let connection = self.connections.get(id).await?;
        let health = self.stores()?.health(&connection).await.map_err(|error| error.to_string());
        Ok((connection, health))
    }

    /// What connection `id`'s engine holds (viewer): its version and every collection, with the
    /// figures (and shard layout) the engine can give without touching another's data, its peers
    /// and its memory; an engine that cannot be asked is the error said. Peers and memory are
    /// extras: when they cannot be read, the stats answer without them.
    pub async fn stats(
        &self,
        caller: &Caller,
        id: ConnectionId,
    ) -> Result<(Connection, Result<EngineStats, String>), ServiceError> {
        caller.require(Role::Viewer)?;
        let connection = self.connections.get(id).await?;
        let stores = self.stores()?;
        let stats = async {
            let store = stores.open(&connection, RunId::new()).await.map_err(|error| error.to_string())?;
            let engine = store.engine().await.map_err(|error| error.to_string())?;
            let collections = store.collections().await.map_err(|error| error.to_string())?;
            let peers = stores
                .health(&connection)
                .await
                .inspect_err(|error| tracing::debug!(%error, "stats without peers"))
                .ok()
                .map(|health| health.peers);
            let memory = store
                .memory()
                .await
                .inspect_err(|error| tracing::debug!(%error, "stats without memory"))
                .ok()
                .flatten();
            Ok::<_, String>(EngineStats { engine, collections, peers, memory })
        }
        .await;
        Ok((connection, stats))
    }

    /// Registers a connection (admin) once a test of it passes; a failed step is a violation of
    /// the field to fix: `api_key` when authentication failed, `url` otherwise.
    #[tracing::instrument(skip_all, fields(user = caller.user(), name = %spec.name))]
    pub async fn create_tested(&self, caller: &Caller, spec: ConnectionSpec) -> Result<Connection, ServiceError> {
        caller.require(Role::Admin)?;
        ensure_valid(validate_connection(&spec))?;
        let candidate = Connection::new(spec.clone(), now());
        let check = self.check(&candidate).await?;
        if let Some((step, why)) = check.failure() {
            let field = if step == CheckStep::Authenticate { "api_key" } else { "url" };
            return Err(ServiceError::Invalid(vec![Violation::new(
                field,
                format!("the connection test failed at `{}`: {why}", step.as_str()),
            )]));
        }
        self.create(caller, spec).await
    }

    fn stores(&self) -> Result<&Arc<dyn VectorStoreProvider>, ServiceError> {
        self.stores
            .as_ref()
            .ok_or_else(|| ServiceError::Misconfigured("this process cannot reach vector databases".to_owned()))
    }

    async fn check(&self, connection: &Connection) -> Result<ConnectionCheck, ServiceError> {
        Ok(self.stores()?.check(connection).await)
    }

    /// Makes sure the built-in `embedded` connection exists; called at start-up by the service
    /// itself, not on behalf of a caller.
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

    /// Registers a connection (admin).
    #[tracing::instrument(skip_all, fields(user = caller.user(), name = %spec.name))]
    pub async fn create(&self, caller: &Caller, spec: ConnectionSpec) -> Result<Connection, ServiceError> {
        caller.require(Role::Admin)?;
        ensure_valid(validate_connection(&spec))?;
        let connection = Connection::new(spec, now());
        self.connections.insert(&connection).await?;
        Ok(connection)
    }

    /// The connection with `id` (viewer).
    pub async fn get(&self, caller: &Caller, id: ConnectionId) -> Result<Connection, ServiceError> {
        caller.require(Role::Viewer)?;
        Ok(self.connections.get(id).await?)
    }

    /// The connection with `id`, read to be changed (a merge patch starts from it): needs what
    /// [`Self::update`] needs (admin), so a caller without it is refused before any lookup.
    pub async fn get_for_update(&self, caller: &Caller, id: ConnectionId) -> Result<Connection, ServiceError> {
        caller.require(Role::Admin)?;
        Ok(self.connections.get(id).await?)
    }

    /// A page of connections (viewer), API keys masked: no secret is opened to list them.
    pub async fn list(&self, caller: &Caller, page: Page) -> Result<Listed<ConnectionSummary>, ServiceError> {
        caller.require(Role::Viewer)?;
        Ok(self.connections.list_masked(page).await?)
    }

    /// Replaces a connection's settings (admin); the built-in connection cannot change.
    #[tracing::instrument(skip(self, caller, spec), fields(user = caller.user()))]
    pub async fn update(
        &self,
        caller: &Caller,
        id: ConnectionId,
        spec: ConnectionSpec,
    ) -> Result<Connection, ServiceError> {
        caller.require(Role::Admin)?;
        let mut connection = self.connections.get(id).await?;
        refuse_builtin(&connection, "changed")?;
        ensure_valid(validate_connection(&spec))?;
        connection.spec = spec;
        connection.updated_at = now();
        self.connections.update(&connection).await?;
        Ok(connection)
    }

    /// Deletes a connection no experiment uses (admin); the built-in connection cannot be deleted.
    #[tracing::instrument(skip(self, caller), fields(user = caller.user()))]
    pub async fn delete(&self, caller: &Caller, id: ConnectionId) -> Result<(), ServiceError> {
        caller.require(Role::Admin)?;
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
