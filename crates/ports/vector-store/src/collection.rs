//! Collections: what is created for a run, and what the engine reports about it.

use std::collections::BTreeMap;

use qbench_domain::{
    IndexConfig, IndexKind, Limits, OptimizerConfig, Quantization, StorageUsage, VectorName, VectorSpec,
};

/// A collection to create for one run.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionSpec {
    /// Collection name (`qbench-<run id>`); qbench never touches a collection it did not create.
    pub name: String,
    /// The named vectors, with dimension and distance.
    pub vectors: BTreeMap<VectorName, VectorSpec>,
    /// Index settings per vector; a vector not listed gets the engine's defaults.
    pub indexing: BTreeMap<VectorName, IndexConfig>,
    /// Quantization of every vector.
    pub quantization: Option<Quantization>,
}

/// The HNSW settings one vector is built with, every default resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HnswSettings {
    /// Edges per node; 0 for a plain (unindexed) vector.
    pub m: u32,
    /// Neighbours considered while building.
    pub ef_construct: u32,
    /// KB of vectors below which a segment is scanned instead of searched through the graph.
    pub full_scan_threshold: u32,
    /// Keep the graph on disk; `None` leaves it to the engine.
    pub on_disk: Option<bool>,
}

impl CollectionSpec {
    /// The collection `name` with `vectors`, indexed and quantized as `optimizer` says.
    pub fn new(
        name: impl Into<String>,
        vectors: BTreeMap<VectorName, VectorSpec>,
        optimizer: &OptimizerConfig,
    ) -> Self {
        Self {
            name: name.into(),
            vectors,
            indexing: optimizer.indexing.clone(),
            quantization: optimizer.quantization.clone(),
        }
    }

    /// The HNSW settings of vector `name`: the experiment's values, Qdrant's defaults for `m` and
    /// `ef_construct`, and the lowest accepted full-scan threshold unless one is given, so that a
    /// benchmark searches the graph it describes. `Plain` is a graph with `m = 0`, which Qdrant
    /// neither builds nor searches.
    pub fn hnsw(&self, name: &VectorName) -> HnswSettings {
        let index = self.indexing.get(name);
        let m = match index {
            None => IndexConfig::DEFAULT_M,
            Some(index) => match index.kind {
                IndexKind::Hnsw => index.m.unwrap_or(IndexConfig::DEFAULT_M),
                IndexKind::Plain => 0,
            },
        };
        HnswSettings {
            m,
            ef_construct: index.and_then(|index| index.ef_construct).unwrap_or(IndexConfig::DEFAULT_EF_CONSTRUCT),
            full_scan_threshold: index
                .and_then(|index| index.full_scan_threshold)
                .unwrap_or(Limits::MIN_FULL_SCAN_THRESHOLD),
            on_disk: index.and_then(|index| index.on_disk),
        }
    }

    /// Everything that makes the spec unusable by any Qdrant: no vector, indexing of a vector the
    /// collection lacks, `m`, `ef_construct` or `full_scan_threshold` outside [`Limits`]. Adapters
    /// refuse such a spec as `Rejected` with all of these at once.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.vectors.is_empty() {
            problems.push("a collection needs at least one vector".to_owned());
        }
        for (name, index) in &self.indexing {
            if !self.vectors.contains_key(name) {
                problems.push(format!("indexing names vector `{name}`, which the collection does not have"));
            }
            let ranges = [
                ("m", index.m, Limits::M),
                ("ef_construct", index.ef_construct, Limits::EF_CONSTRUCT),
                ("full_scan_threshold", index.full_scan_threshold, Limits::FULL_SCAN_THRESHOLD),
            ];
            for (setting, value, range) in ranges {
                if let Some(value) = value
                    && !range.contains(&value)
                {
                    problems.push(format!(
                        "vector `{name}`: {setting} {value} is outside {}..={}",
                        range.start(),
                        range.end()
                    ));
                }
            }
        }
        problems
    }
}

/// What the engine reports about a collection.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionInfo {
    /// Points stored.
    pub points: u64,
    /// Vectors covered by an index (all named vectors together).
    pub indexed_vectors: u64,
    /// Segments.
    pub segments: u64,
    /// The collection configuration as the engine reports it, for the run's provenance.
    pub config: serde_json::Value,
    /// What its vectors, index and quantized data occupy in RAM and on disk; `None` when the
    /// engine does not say.
    pub storage: Option<StorageUsage>,
}

/// One collection of an engine, as much as the engine can say without disturbing it.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionStats {
    /// Its name.
    pub name: String,
    /// Its figures, when they can be read safely (a remote engine's `qbench-` collections; the
    /// embedded engine's collections open in this process).
    pub info: Option<CollectionInfo>,
    /// The bytes its files hold on this machine's disk (the embedded engine).
    pub disk_bytes: Option<u64>,
    /// Where its shards are and the transfers between peers under way, when the engine says (a
    /// remote Qdrant's `qbench-` collections; `None` for an engine without shards or an answer
    /// without them).
    pub shards: Option<ShardLayout>,
}

/// How a collection is spread over a Qdrant's peers, as the peer that answered sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShardLayout {
    /// The shards the collection is cut into.
    pub shard_count: u32,
    /// Every replica of every shard: the answering peer's own, then the other peers'.
    pub placement: Vec<ShardPlacement>,
    /// Shard transfers between peers in flight (a replication, a move, a recovery).
    pub transfers: Vec<ShardTransfer>,
}

/// One replica of a shard, on one peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardPlacement {
    /// The shard.
    pub shard_id: u32,
    /// The peer holding it; `None` when the engine does not say.
    pub peer_id: Option<u64>,
    /// Its replica state as the engine names it (Qdrant: `Active`, `Partial`, `Dead`,
    /// `Initializing`, `Listener`, `Recovery`, …); kept as text, as new states appear.
    pub state: String,
    /// Points it holds, when the engine counts them (the answering peer's replicas only).
    pub points: Option<u64>,
    /// Whether it is on the peer that answered.
    pub local: bool,
}

/// A shard being copied from one peer to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardTransfer {
    /// The shard.
    pub shard_id: u32,
    /// The peer it comes from.
    pub from: u64,
    /// The peer it goes to.
    pub to: u64,
    /// Whether the source keeps its replica (a replication) rather than dropping it (a move).
    pub sync: bool,
    /// How it is copied, as the engine names it (Qdrant: `stream_records`, `snapshot`,
    /// `wal_delta`, …), when it says.
    pub method: Option<String>,
}

/// Which engine answers, for the run's provenance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineInfo {
    /// `qdrant-edge` (embedded) or `qdrant` (remote).
    pub engine: String,
    /// The engine's version.
    pub version: String,
}
