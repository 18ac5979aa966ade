//! [`EmbeddedProvider`]: the `embedded://` connection's engine.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use qbench_domain::{Connection, EMBEDDED_CONNECTION_URL, RunId};
use qbench_vector_store::{VectorStore, VectorStoreError, VectorStoreProvider};

use crate::EmbeddedEngine;

/// Opens the embedded engine for `embedded://` connections, implementing [`VectorStoreProvider`].
///
/// Every [`open`](VectorStoreProvider::open) returns the same engine: one [`EmbeddedEngine`] per
/// provider, so the application should build one provider. Runs share the engine but not files,
/// since each collection (named after its run) has its own directory under the root. Any other
/// connection is refused; the application combines this provider with the remote one.
#[derive(Debug, Clone)]
pub struct EmbeddedProvider {
    engine: Arc<EmbeddedEngine>,
}

impl EmbeddedProvider {
    /// A provider whose engine keeps its collections under `root` (for example
    /// `<data dir>/engine`).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { engine: Arc::new(EmbeddedEngine::new(root)) }
    }

    /// The shared engine.
    pub fn engine(&self) -> &Arc<EmbeddedEngine> {
        &self.engine
    }
}

#[async_trait]
impl VectorStoreProvider for EmbeddedProvider {
    /// The shared engine, for an `embedded://` connection.
    ///
    /// # Errors
    /// `Rejected` for any other connection: it is not an embedded connection.
    #[tracing::instrument(skip_all, fields(connection = %connection.spec.name, run_id = %run_id))]
    async fn open(&self, connection: &Connection, run_id: RunId) -> Result<Arc<dyn VectorStore>, VectorStoreError> {
        // Collections are named after their run, so runs sharing the engine keep their files
        // apart without the run id.
        let _ = run_id;
        if !connection.is_embedded() {
            return Err(VectorStoreError::Rejected(format!(
                "connection `{}` is not an embedded connection (its URL is not {EMBEDDED_CONNECTION_URL})",
                connection.spec.name
            )));
        }
        Ok(self.engine.clone())
    }
}
