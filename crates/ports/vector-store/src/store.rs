//! The port itself.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use qbench_domain::{Connection, RunId, VectorName, VectorSpec};

use crate::{
    CollectionInfo, CollectionSpec, CollectionStats, ConnectionCheck, EngineHealth, EngineInfo, EngineMemory, Point,
    SearchRequest, SearchResponse, SnapshotReader, SnapshotWriter, VectorStoreError,
};

/// A Qdrant under test.
///
/// # Errors
/// Every method returns `Unreachable` when the database cannot be reached and
/// `CollectionNotFound` for a collection that does not exist (except `create_collection`, which
/// MUST return `Rejected` when the collection already exists, and `drop_collection`, which
/// succeeds when it is already gone).
#[async_trait]
pub trait VectorStore: Send + Sync {
    /// The engine and its version.
    async fn engine(&self) -> Result<EngineInfo, VectorStoreError>;

    /// Creates a collection with indexing deferred, so uploads are measured apart from indexing.
    async fn create_collection(&self, spec: &CollectionSpec) -> Result<(), VectorStoreError>;

    /// Stores a batch of points, waiting until they are persisted.
    async fn upsert(&self, collection: &str, points: &[Point]) -> Result<(), VectorStoreError>;

    /// Switches indexing on and returns once every vector is indexed and the optimizers are idle.
    async fn build_index(&self, collection: &str) -> Result<(), VectorStoreError>;

    /// Answers one query.
    async fn search(&self, collection: &str, request: SearchRequest<'_>) -> Result<SearchResponse, VectorStoreError>;

    /// Points, indexed vectors, segments and configuration of a collection.
    async fn collection_info(&self, collection: &str) -> Result<CollectionInfo, VectorStoreError>;

    /// The named vectors of `collection` (dimension and distance), so a load into an existing
    /// collection can be checked before a point is sent. `Ok(None)` when the engine cannot say,
    /// the default.
    async fn collection_vectors(
        &self,
        collection: &str,
    ) -> Result<Option<BTreeMap<VectorName, VectorSpec>>, VectorStoreError> {
        let _ = collection;
        Ok(None)
    }

    /// Deletes a collection.
    async fn drop_collection(&self, collection: &str) -> Result<(), VectorStoreError>;

    /// Every collection the engine holds, qbench's or not, by name, with what can be read of it
    /// without touching another's data or a collection another process is writing. By default
    /// `Internal`: a store that cannot list says so.
    async fn collections(&self) -> Result<Vec<CollectionStats>, VectorStoreError> {
        Err(VectorStoreError::Internal("this store cannot list its collections".to_owned()))
    }

    /// What the engine process holds in memory, when it says (see [`EngineMemory`]). `Ok(None)`
    /// when it does not, the default.
    async fn memory(&self) -> Result<Option<EngineMemory>, VectorStoreError> {
        Ok(None)
    }

    /// Starts a consistent snapshot of `collection`, read out as Qdrant's snapshot archive of what
    /// this engine holds (see [`crate::SnapshotReader`]'s module).
    /// The collection keeps answering searches meanwhile; writes to it wait until the archive
    /// is read to the end or the reader is dropped.
    ///
    /// Errors: `CollectionNotFound`; `Rejected` when the collection is in use by another process
    /// (which may be writing it). By default `Rejected`: a store that cannot snapshot says so.
    async fn snapshot(&self, collection: &str) -> Result<Box<dyn SnapshotReader>, VectorStoreError> {
        Err(VectorStoreError::Rejected(format!("this engine cannot snapshot collection `{collection}`")))
    }

    /// Opens `collection` for a restore: the archive is written into the returned writer and
    /// restored on [`SnapshotWriter::finish`]. Without `overwrite`, an existing collection of
    /// that name is refused (`Rejected`) before anything is written; with it, the collection is
    /// replaced only once the archive has been restored beside it.
    ///
    /// By default `Rejected`: a store that cannot restore says so.
    async fn restore(&self, collection: &str, overwrite: bool) -> Result<Box<dyn SnapshotWriter>, VectorStoreError> {
        let _ = overwrite;
        Err(VectorStoreError::Rejected(format!("this engine cannot restore a snapshot into `{collection}`")))
    }
}

/// Opens the [`VectorStore`] a connection points at: the embedded engine for `embedded://`, a
/// remote Qdrant otherwise.
#[async_trait]
pub trait VectorStoreProvider: Send + Sync {
    /// The store behind `connection` (its API key decrypted), for the run `run_id` (an embedded
    /// engine keeps that run's files apart).
    async fn open(&self, connection: &Connection, run_id: RunId) -> Result<Arc<dyn VectorStore>, VectorStoreError>;

    /// Whether the engine behind `connection` is alive and ready, and its peers when it is
    /// distributed. By default (an engine without a cluster): alive and ready when it answers.
    ///
    /// Errors: `Unreachable` when it does not answer, `Rejected` when it refuses the API key.
    async fn health(&self, connection: &Connection) -> Result<EngineHealth, VectorStoreError> {
        self.open(connection, RunId::new()).await?.engine().await?;
        Ok(EngineHealth { live: true, ready: true, distributed: false, peers: Vec::new() })
    }

    /// Tests `connection` step by step (reached, TLS, authenticated, answered as Qdrant) and times
    /// the request that identified the engine. Never an error: a failure is a failed step.
    ///
    /// By default: [`open`](Self::open) and [`VectorStore::engine`], a failure sorted by its error
    /// kind ([`ConnectionCheck::from_error`]); an adapter that can tell the steps apart does.
    async fn check(&self, connection: &Connection) -> ConnectionCheck {
        let tls = connection.uses_tls();
        let store = match self.open(connection, RunId::new()).await {
            Ok(store) => store,
            Err(error) => return ConnectionCheck::from_error(&error, tls),
        };
        let started = std::time::Instant::now();
        match store.engine().await {
            Ok(engine) => ConnectionCheck::passed(engine, started.elapsed(), tls),
            Err(error) => ConnectionCheck::from_error(&error, tls),
        }
    }
}
