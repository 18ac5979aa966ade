//! Wire types of a connection seen as a cluster: `POST /api/v1/connections/{id}/test` (each step
//! of the test and how it went), `GET /api/v1/connections/{id}/health` and `…/stats` (collections
//! with their shard placement and transfers, peers, memory).

use apistos::ApiComponent;
use qbench_domain::Connection;
use qbench_service::EngineStats;
use qbench_vector_store::{
    ConnectionCheck, EngineHealth, EngineMemory, PeerHealth, ShardLayout, ShardPlacement, ShardTransfer, StepOutcome,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A step's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    /// It succeeded.
    Passed,
    /// It failed (`detail` says why).
    Failed,
    /// It did not happen: an earlier step failed, or it does not apply (TLS over `http://`).
    Skipped,
}

/// One step of the test.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StepBody {
    /// `reachable`, `tls`, `authentication` or `qdrant`.
    pub step: String,
    /// How it went.
    pub status: StepStatus,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The result of testing a connection.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
pub struct ConnectionTestResponse {
    /// The connection tested.
    pub connection_id: Uuid,
    /// Whether every step passed.
    pub ok: bool,
    /// The first step that failed, and why (`authentication: the API key was refused (…)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// `qdrant` (a server) or `qdrant-edge` (the embedded engine), when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// Its version, when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The round trip of the request that identified it, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    /// Every step, in order.
    pub steps: Vec<StepBody>,
}

impl ConnectionTestResponse {
    /// The test `check` of `connection`.
    pub fn new(connection: &Connection, check: &ConnectionCheck) -> Self {
        let steps = check
            .steps
            .iter()
            .map(|(step, outcome)| {
                let (status, detail) = match outcome {
                    StepOutcome::Passed => (StepStatus::Passed, None),
                    StepOutcome::Failed(why) => (StepStatus::Failed, Some(why.clone())),
                    StepOutcome::Skipped => (StepStatus::Skipped, None),
                };
                StepBody { step: step.as_str().to_owned(), status, detail }
            })
            .collect();
        Self {
            connection_id: connection.id.as_uuid(),
            ok: check.is_ok(),
            failure: check.failure().map(|(step, why)| format!("{}: {why}", step.as_str())),
            engine: check.engine.as_ref().map(|engine| engine.engine.clone()),
            version: check.engine.as_ref().map(|engine| engine.version.clone()),
            latency_ms: check.round_trip.map(|rtt| rtt.as_secs_f64() * 1000.0),
            steps,
        }
    }
}

/// A peer of a distributed Qdrant.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PeerBody {
    /// Its id.
    pub id: u64,
    /// Its URI within the cluster.
    pub uri: String,
    /// Whether it is the peer that answered.
    pub this: bool,
}

impl From<&PeerHealth> for PeerBody {
    fn from(peer: &PeerHealth) -> Self {
        Self { id: peer.id, uri: peer.uri.clone(), this: peer.this }
    }
}

/// Whether a connection's engine is alive and ready.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
pub struct ConnectionHealthResponse {
    /// The connection.
    pub connection_id: Uuid,
    /// It answers (Qdrant's `/healthz`).
    pub live: bool,
    /// It is ready to serve (Qdrant's `/readyz`: in a cluster, caught up with its peers).
    pub ready: bool,
    /// `single` or `distributed`, when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// The cluster's peers, when distributed.
    pub peers: Vec<PeerBody>,
    /// Why it could not be asked (unreachable, its API key refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ConnectionHealthResponse {
    /// `health` of `connection`, or why it could not be read.
    pub fn new(connection: &Connection, health: &Result<EngineHealth, String>) -> Self {
        match health {
            Ok(health) => Self {
                connection_id: connection.id.as_uuid(),
                live: health.live,
                ready: health.ready,
                mode: Some(if health.distributed { "distributed" } else { "single" }.to_owned()),
                peers: health.peers.iter().map(PeerBody::from).collect(),
                error: None,
            },
            Err(error) => Self {
                connection_id: connection.id.as_uuid(),
                live: false,
                ready: false,
                mode: None,
                peers: Vec::new(),
                error: Some(error.clone()),
            },
        }
    }
}

/// One collection of a connection's engine.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CollectionStatsBody {
    /// Its name.
    pub name: String,
    /// Whether qbench created it (`qbench-<run id>`).
    pub qbench: bool,
    /// Points stored, when read (a remote engine's qbench collections; the embedded engine's
    /// collections open in this process).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u64>,
    /// Vectors covered by an index, when read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indexed_vectors: Option<u64>,
    /// Segments, when read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments: Option<u64>,
    /// Bytes its files hold on disk (the embedded engine: the blocks allocated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_bytes: Option<u64>,
    /// Where its shards are and the transfers in flight, as the peer that answered sees them (a
    /// remote Qdrant's qbench collections, when it answers `/collections/{name}/cluster`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shards: Option<ShardLayoutBody>,
}

/// How a collection is spread over the peers of a Qdrant.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ShardLayoutBody {
    /// The shards the collection is cut into.
    pub shard_count: u32,
    /// Every replica of every shard, by shard: the answering peer's first.
    pub placement: Vec<ShardPlacementBody>,
    /// Shard transfers between peers in flight; empty when none.
    pub transfers: Vec<ShardTransferBody>,
}

/// One replica of a shard, on one peer.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ShardPlacementBody {
    /// The shard.
    pub shard_id: u32,
    /// The peer holding it, when said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_id: Option<u64>,
    /// Its replica state as Qdrant names it (`Active`, `Partial`, `Dead`, `Initializing`,
    /// `Listener`, `Recovery`, …).
    pub state: String,
    /// Points it holds (counted for the answering peer's replicas only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u64>,
    /// Whether it is on the peer that answered.
    pub local: bool,
}

/// A shard being copied from one peer to another.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ShardTransferBody {
    /// The shard.
    pub shard_id: u32,
    /// The peer it comes from.
    pub from: u64,
    /// The peer it goes to.
    pub to: u64,
    /// Whether the source keeps its replica (a replication) rather than dropping it (a move).
    pub sync: bool,
    /// How it is copied (`stream_records`, `snapshot`, `wal_delta`, …), when said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
}

impl From<&ShardLayout> for ShardLayoutBody {
    fn from(layout: &ShardLayout) -> Self {
        Self {
            shard_count: layout.shard_count,
            placement: layout.placement.iter().map(ShardPlacementBody::from).collect(),
            transfers: layout.transfers.iter().map(ShardTransferBody::from).collect(),
        }
    }
}

impl From<&ShardPlacement> for ShardPlacementBody {
    fn from(shard: &ShardPlacement) -> Self {
        Self {
            shard_id: shard.shard_id,
            peer_id: shard.peer_id,
            state: shard.state.clone(),
            points: shard.points,
            local: shard.local,
        }
    }
}

impl From<&ShardTransfer> for ShardTransferBody {
    fn from(transfer: &ShardTransfer) -> Self {
        Self {
            shard_id: transfer.shard_id,
            from: transfer.from,
            to: transfer.to,
            sync: transfer.sync,
            method: transfer.method.clone(),
        }
    }
}

/// What the engine process holds in memory, as its allocator counts it. A Qdrant reports it only
/// when it runs jemalloc (its official Linux builds) and to a key that may see the whole server;
/// the embedded engine does not report it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct EngineMemoryBody {
    /// Bytes in physically resident pages the allocator maps (jemalloc's `resident`).
    pub resident_bytes: u64,
    /// Bytes the engine has allocated (jemalloc's `allocated`).
    pub allocated_bytes: u64,
}

impl From<&EngineMemory> for EngineMemoryBody {
    fn from(memory: &EngineMemory) -> Self {
        Self { resident_bytes: memory.resident_bytes, allocated_bytes: memory.allocated_bytes }
    }
}

/// What a connection's engine holds.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
pub struct ConnectionStatsResponse {
    /// The connection.
    pub connection_id: Uuid,
    /// `qdrant` or `qdrant-edge`, when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// Its version, when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Every collection, by name.
    pub collections: Vec<CollectionStatsBody>,
    /// The cluster's peers (empty for a single node), when its health could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peers: Option<Vec<PeerBody>>,
    /// What the engine process holds in memory, when it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<EngineMemoryBody>,
    /// Why the engine could not be asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ConnectionStatsResponse {
    /// `stats` of `connection`, or why they could not be read.
    pub fn new(connection: &Connection, stats: &Result<EngineStats, String>) -> Self {
        let connection_id = connection.id.as_uuid();
        match stats {
            Ok(stats) => Self {
                connection_id,
                engine: Some(stats.engine.engine.clone()),
                version: Some(stats.engine.version.clone()),
                collections: stats
                    .collections
                    .iter()
                    .map(|collection| {
                        let info = collection.info.as_ref();
                        let stored =
                            info.and_then(|info| info.storage.as_ref()).map(|storage| storage.total().disk_bytes);
                        CollectionStatsBody {
                            name: collection.name.clone(),
                            qbench: collection.name.starts_with("qbench-"),
                            points: info.map(|info| info.points),
                            indexed_vectors: info.map(|info| info.indexed_vectors),
                            segments: info.map(|info| info.segments),
                            disk_bytes: collection.disk_bytes.or(stored),
                            shards: collection.shards.as_ref().map(ShardLayoutBody::from),
                        }
                    })
                    .collect(),
                peers: stats.peers.as_ref().map(|peers| peers.iter().map(PeerBody::from).collect()),
                memory: stats.memory.as_ref().map(EngineMemoryBody::from),
                error: None,
            },
            Err(error) => Self {
                connection_id,
                engine: None,
                version: None,
                collections: Vec::new(),
                peers: None,
                memory: None,
                error: Some(error.clone()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::Utc;
    use qbench_domain::ConnectionSpec;
    use qbench_vector_store::{CollectionStats, EngineInfo};
    use serde_json::json;

    use super::*;

    #[test]
    fn stats_render_shard_placement_transfers_peers_and_memory() {
        let connection = Connection::new(
            ConnectionSpec { name: "cluster".to_owned(), url: "http://qdrant:6333".to_owned(), api_key: None },
            Utc::now(),
        );
        let shards = ShardLayout {
            shard_count: 1,
            placement: vec![
                ShardPlacement { shard_id: 0, peer_id: Some(7), state: "Active".into(), points: Some(12), local: true },
                ShardPlacement { shard_id: 0, peer_id: Some(9), state: "Partial".into(), points: None, local: false },
            ],
            transfers: vec![ShardTransfer { shard_id: 0, from: 7, to: 9, sync: true, method: None }],
        };
        let stats = EngineStats {
            engine: EngineInfo { engine: "qdrant".into(), version: "1.16.0".into() },
            collections: vec![CollectionStats {
                name: "qbench-run".into(),
                info: None,
                disk_bytes: None,
                shards: Some(shards),
            }],
            peers: Some(vec![PeerHealth { id: 7, uri: "http://a:6335/".into(), this: true }]),
            memory: Some(EngineMemory { resident_bytes: 2048, allocated_bytes: 1024 }),
        };
        let body = serde_json::to_value(ConnectionStatsResponse::new(&connection, &Ok(stats))).unwrap();
        assert_eq!(
            body["collections"][0]["shards"],
            json!({
                "shard_count": 1,
                "placement": [
                    { "shard_id": 0, "peer_id": 7, "state": "Active", "points": 12, "local": true },
                    { "shard_id": 0, "peer_id": 9, "state": "Partial", "local": false }
                ],
                "transfers": [{ "shard_id": 0, "from": 7, "to": 9, "sync": true }]
            })
        );
        assert_eq!(body["peers"], json!([{ "id": 7, "uri": "http://a:6335/", "this": true }]));
        assert_eq!(body["memory"], json!({ "resident_bytes": 2048, "allocated_bytes": 1024 }));
    }
}
