//! [`RemoteProvider`]: the remote Qdrant of an `http(s)://` connection.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use qbench_domain::{Connection, ConnectionId, EMBEDDED_CONNECTION_URL, RunId};
use qbench_vector_store::{
    CheckStep, ConnectionCheck, EngineHealth, VectorStore, VectorStoreError, VectorStoreProvider,
};
use secrecy::{ExposeSecret, SecretString};

use crate::{RemoteOptions, RemoteQdrant, rest_url};

/// A client built for a connection, and what it was built from.
struct Cached {
    url: String,
    api_key: Option<SecretString>,
    store: Arc<RemoteQdrant>,
}

impl Cached {
    /// Whether the connection still has the URL and API key the client was built with.
    fn serves(&self, connection: &Connection) -> bool {
        let same_key = match (&self.api_key, &connection.spec.api_key) {
            (None, None) => true,
            (Some(cached), Some(current)) => cached.expose_secret() == current.expose_secret(),
            (None, Some(_)) | (Some(_), None) => false,
        };
        self.url == connection.spec.url && same_key
    }
}

/// Opens a [`RemoteQdrant`] for `http(s)://` connections, implementing [`VectorStoreProvider`].
///
/// One client (one gRPC channel pool) is kept per connection id and shared by every run on that
/// connection; it is rebuilt when the connection's URL or API key has changed since. The built-in
/// `embedded://` connection is refused: the application combines this provider with the embedded
/// one.
pub struct RemoteProvider {
    options: RemoteOptions,
    stores: Mutex<HashMap<ConnectionId, Cached>>,
}

impl std::fmt::Debug for RemoteProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cached = self.stores.lock().unwrap_or_else(PoisonError::into_inner).len();
        f.debug_struct("RemoteProvider").field("options", &self.options).field("cached", &cached).finish()
    }
}

impl RemoteProvider {
    /// A provider whose stores use `options`.
    pub fn new(options: RemoteOptions) -> Self {
        Self { options, stores: Mutex::default() }
    }

    /// Forgets the client of a connection (for example one that was deleted).
    pub fn forget(&self, connection: ConnectionId) {
        self.stores.lock().unwrap_or_else(PoisonError::into_inner).remove(&connection);
    }
}

impl Default for RemoteProvider {
    fn default() -> Self {
        Self::new(RemoteOptions::default())
    }
}

#[async_trait]
impl VectorStoreProvider for RemoteProvider {
    /// The store of an `http(s)://` connection; `run_id` plays no part, collections are named
    /// after their run.
    ///
    /// # Errors
    /// `Rejected` for the `embedded://` connection and for any URL that is not one of a remote
    /// Qdrant (see [`grpc_url`](crate::grpc_url)).
    #[tracing::instrument(skip_all, fields(connection = %connection.spec.name, run_id = %_run_id))]
    async fn open(&self, connection: &Connection, _run_id: RunId) -> Result<Arc<dyn VectorStore>, VectorStoreError> {
        refuse_embedded(connection)?;
        let mut stores = self.stores.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(cached) = stores.get(&connection.id)
            && cached.serves(connection)
        {
            return Ok(cached.store.clone());
        }
        let store = Arc::new(RemoteQdrant::connect(connection, self.options.clone())?);
        tracing::debug!(endpoint = store.endpoint(), "remote Qdrant client built");
        stores.insert(
            connection.id,
            Cached { url: connection.spec.url.clone(), api_key: connection.spec.api_key.clone(), store: store.clone() },
        );
        Ok(store)
    }

    async fn health(&self, connection: &Connection) -> Result<EngineHealth, VectorStoreError> {
        refuse_embedded(connection)?;
        let base = rest_url(&connection.spec.url)?;
        let api_key = connection.spec.api_key.as_ref().filter(|key| !key.expose_secret().is_empty());
        crate::rest::health(&base, api_key, self.options.connect_timeout.max(Duration::from_secs(5))).await
    }

    async fn check(&self, connection: &Connection) -> ConnectionCheck {
        let tls = connection.uses_tls();
        if let Err(embedded) = refuse_embedded(connection) {
            return ConnectionCheck::from_error(&embedded, tls);
        }
        // A fresh client: a cached one may hold a channel set up before the server changed.
        match RemoteQdrant::connect(connection, self.options.clone()) {
            Ok(store) => store.check(tls).await,
            Err(error) => ConnectionCheck::failed_at(CheckStep::Reach, error.to_string(), tls),
        }
    }
}

/// `Rejected` for the `embedded://` connection: it is the in-process engine, not a remote Qdrant.
fn refuse_embedded(connection: &Connection) -> Result<(), VectorStoreError> {
    if connection.spec.url.trim().starts_with(EMBEDDED_CONNECTION_URL) {
        return Err(VectorStoreError::Rejected(format!(
            "connection `{}` is the embedded engine ({EMBEDDED_CONNECTION_URL}), not a remote Qdrant",
            connection.spec.name
        )));
    }
    Ok(())
}
