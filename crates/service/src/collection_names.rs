//! The names of the collections an engine holds, read without loading any: what the ops use
//! cases check a named collection against.

use std::sync::Arc;

use qbench_domain::{Connection, RunId};
use qbench_vector_store::{VectorStoreError, VectorStoreProvider};

use crate::ServiceError;

/// The names of the collections `connection`'s engine holds; `Misconfigured` when this process
/// has no `stores`, `Unavailable` when the engine does not answer.
pub(crate) async fn collection_names(
    stores: Option<&Arc<dyn VectorStoreProvider>>,
    connection: &Connection,
) -> Result<Vec<String>, ServiceError> {
    let stores =
        stores.ok_or_else(|| ServiceError::Misconfigured("this process cannot reach vector databases".to_owned()))?;
    let unreachable =
        |error: VectorStoreError| ServiceError::Unavailable(format!("connection `{}`: {error}", connection.spec.name));
    let store = stores.open(connection, RunId::new()).await.map_err(unreachable)?;
    let collections = store.collections().await.map_err(unreachable)?;
    Ok(collections.into_iter().map(|collection| collection.name).collect())
}
