//! The collection a backfill loads: created with indexing deferred (like a run's), or found and
//! checked against the dataset's vectors.

use std::collections::BTreeMap;

use qbench_domain::{OptimizerConfig, SchemaConfig, VectorName, VectorSpec};
use qbench_vector_store::{CollectionSpec, VectorStore, VectorStoreError};

use crate::jobs::JobError;

/// The collection `name` with the dataset's vectors, indexed and quantized as `optimizer` says.
pub(super) fn collection_spec(name: &str, schema: &SchemaConfig, optimizer: &OptimizerConfig) -> CollectionSpec {
    CollectionSpec::new(name, schema.vectors.clone(), optimizer)
}

/// Whether the engine holds `collection`.
pub(super) async fn exists(store: &dyn VectorStore, collection: &str) -> Result<bool, JobError> {
    match store.collection_info(collection).await {
        Ok(_) => Ok(true),
        Err(VectorStoreError::CollectionNotFound(_)) => Ok(false),
        Err(error) => Err(JobError::Failed(format!("collection `{collection}`: {error}"))),
    }
}

/// Fails naming the difference when the existing collection's vectors (as far as the engine
/// says) are not `wanted`: points of another shape would be refused one batch at a time.
pub(super) async fn check_vectors(
    store: &dyn VectorStore,
    collection: &str,
    wanted: &BTreeMap<VectorName, VectorSpec>,
) -> Result<(), JobError> {
    let found = store
        .collection_vectors(collection)
        .await
        .map_err(|error| JobError::Failed(format!("collection `{collection}`: {error}")))?;
    let Some(found) = found else { return Ok(()) };
    let shape = |vectors: &BTreeMap<VectorName, VectorSpec>| -> Vec<String> {
        vectors.iter().map(|(name, spec)| format!("`{name}` ({}, {})", spec.dim, spec.distance)).collect()
    };
    if shape(&found) == shape(wanted) {
        return Ok(());
    }
    Err(JobError::Failed(format!(
        "collection `{collection}` has the vectors {}, the dataset {}: an INCREMENTAL backfill loads only a \
         collection with the dataset's vectors",
        shape(&found).join(", "),
        shape(wanted).join(", ")
    )))
}
