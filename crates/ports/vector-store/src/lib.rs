//! The vector-database port: what a run asks of the Qdrant under test.
//!
//! [`VectorStore`] creates a collection from a [`CollectionSpec`] (named vectors, per-vector HNSW
//! settings, quantization), takes [`Point`] batches, builds the index, answers
//! [`SearchRequest`]s and drops the collection. Two adapters implement it: the embedded engine
//! (`qdrant-edge`, in process) and a remote Qdrant (`qdrant-client`). Nothing here names either.
#![deny(missing_docs)]

mod check;
mod collection;
mod error;
mod health;
mod point;
mod search;
mod snapshot;
mod store;

pub use check::{CheckStep, ConnectionCheck, StepOutcome};
pub use collection::{
    CollectionInfo, CollectionSpec, CollectionStats, EngineInfo, HnswSettings, ShardLayout, ShardPlacement,
    ShardTransfer,
};
pub use error::VectorStoreError;
pub use health::{EngineHealth, EngineMemory, PeerHealth};
pub use point::Point;
pub use qbench_domain::PointId;
pub use search::{ScoredPoint, SearchParams, SearchRequest, SearchResponse};
pub use snapshot::{SnapshotReader, SnapshotWriter};
pub use store::{VectorStore, VectorStoreProvider};
