//! The provider: only `embedded://`, always the same engine.

use std::sync::Arc;

use chrono::Utc;
use qbench_domain::{Connection, ConnectionSpec, RunId};
use qbench_qdrant_edge::EmbeddedProvider;
use qbench_vector_store::{VectorStoreError, VectorStoreProvider};

#[tokio::test]
async fn the_provider_refuses_a_connection_that_is_not_embedded() {
    let dir = tempfile::tempdir().unwrap();
    let provider = EmbeddedProvider::new(dir.path());
    let remote = Connection::new(
        ConnectionSpec { name: "remote".to_owned(), url: "http://localhost:6334".to_owned(), api_key: None },
        Utc::now(),
    );
    let refused = provider.open(&remote, RunId::new()).await.map(drop);
    assert!(
        matches!(refused, Err(VectorStoreError::Rejected(ref message)) if message.contains("not an embedded connection")),
        "{refused:?}"
    );
}

#[tokio::test]
async fn the_provider_shares_one_engine_between_runs() {
    let dir = tempfile::tempdir().unwrap();
    let provider = EmbeddedProvider::new(dir.path());
    let embedded = Connection::embedded(Utc::now());
    let first = provider.open(&embedded, RunId::new()).await.unwrap();
    let second = provider.open(&embedded, RunId::new()).await.unwrap();
    assert!(Arc::ptr_eq(&first, &second));
    assert_eq!(first.engine().await.unwrap().engine, "qdrant-edge");
}
