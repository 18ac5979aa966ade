//! Qdrant's REST endpoints for what its gRPC API lacks: liveness (`/healthz`), readiness
//! (`/readyz`) and the cluster (`/cluster`), read with reqwest.

use std::collections::BTreeMap;
use std::time::Duration;

use qbench_vector_store::{EngineHealth, PeerHealth, VectorStoreError};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// `GET /cluster`'s answer.
#[derive(Debug, Deserialize)]
struct ClusterAnswer {
    result: ClusterResult,
}

#[derive(Debug, Deserialize)]
struct ClusterResult {
    /// `enabled` in distributed mode, else `disabled`.
    status: String,
    #[serde(default)]
    peer_id: Option<u64>,
    #[serde(default)]
    peers: BTreeMap<String, PeerAnswer>,
}

#[derive(Debug, Deserialize)]
struct PeerAnswer {
    uri: String,
}

/// The health of the Qdrant whose REST API is at `base` (`scheme://host:port`).
///
/// Errors: `Unreachable` when it does not answer; `Rejected` when it refuses the API key (the key
/// never appears in a message); `Internal` for an answer that is not Qdrant's.
pub async fn health(
    base: &str,
    api_key: Option<&SecretString>,
    timeout: Duration,
) -> Result<EngineHealth, VectorStoreError> {
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .map_err(|err| VectorStoreError::Internal(format!("an HTTP client: {err}")))?;
    let get = |path: &str| {
        let mut request = client.get(format!("{base}{path}"));
        if let Some(key) = api_key {
            request = request.header("api-key", key.expose_secret());
        }
        request.send()
    };
    let unreachable =
        |path: &str, err: reqwest::Error| VectorStoreError::Unreachable(format!("{base}{path}: {}", err.without_url()));
    let live = get("/healthz").await.map_err(|err| unreachable("/healthz", err))?;
    refused(live.status())?;
    let ready = get("/readyz").await.map_err(|err| unreachable("/readyz", err))?;
    let cluster = get("/cluster").await.map_err(|err| unreachable("/cluster", err))?;
    refused(cluster.status())?;
    let body = cluster.bytes().await.map_err(|err| unreachable("/cluster", err))?;
    let answer: ClusterAnswer = serde_json::from_slice(&body)
        .map_err(|err| VectorStoreError::Internal(format!("{base}/cluster is not Qdrant's answer: {err}")))?;
    let this = answer.result.peer_id;
    let peers = answer
        .result
        .peers
        .into_iter()
        .filter_map(|(id, peer)| {
            let id = id.parse::<u64>().ok()?;
            Some(PeerHealth { id, uri: peer.uri, this: Some(id) == this })
        })
        .collect();
    Ok(EngineHealth {
        live: live.status().is_success(),
        ready: ready.status().is_success(),
        distributed: answer.result.status == "enabled",
        peers,
    })
}

fn refused(status: reqwest::StatusCode) -> Result<(), VectorStoreError> {
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        return Err(VectorStoreError::Rejected(format!("the API key was refused ({status})")));
    }
    Ok(())
}
