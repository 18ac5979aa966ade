//! Wire types of a connection seen as a cluster: `POST /api/v1/connections/{id}/test` (each step
//! of the test and how it went), `GET /api/v1/connections/{id}/health` and `…/stats`.

use apistos::ApiComponent;
use qbench_domain::Connection;
use qbench_service::EngineStats;
use qbench_vector_store::{ConnectionCheck, EngineHealth, StepOutcome};
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
                peers: health
                    .peers
                    .iter()
                    .map(|peer| PeerBody { id: peer.id, uri: peer.uri.clone(), this: peer.this })
                    .collect(),
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
                        }
                    })
                    .collect(),
                error: None,
            },
            Err(error) => {
                Self { connection_id, engine: None, version: None, collections: Vec::new(), error: Some(error.clone()) }
            }
        }
    }
}
