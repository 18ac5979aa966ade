//! Qdrant's REST endpoints for what its gRPC API lacks, with reqwest: liveness (`/healthz`),
//! readiness (`/readyz`) and the cluster (`/cluster`) in [`health`]; [`Rest`], the client the
//! snapshot download and restore upload go through, and how it reads Qdrant's error answers; a
//! collection's shard placement and transfers (`/collections/{name}/cluster`) and the server's
//! memory (`/telemetry`) with it.

use std::collections::BTreeMap;
use std::time::Duration;

use qbench_vector_store::{
    EngineHealth, EngineMemory, PeerHealth, ShardLayout, ShardPlacement, ShardTransfer, VectorStoreError,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;

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

/// `GET /collections/{name}/cluster`'s answer.
#[derive(Debug, Deserialize)]
struct CollectionClusterAnswer {
    result: CollectionClusterResult,
}

#[derive(Debug, Deserialize)]
struct CollectionClusterResult {
    /// The peer that answered.
    #[serde(default)]
    peer_id: Option<u64>,
    #[serde(default)]
    shard_count: u32,
    #[serde(default)]
    local_shards: Vec<LocalShardAnswer>,
    #[serde(default)]
    remote_shards: Vec<RemoteShardAnswer>,
    #[serde(default)]
    shard_transfers: Vec<TransferAnswer>,
}

#[derive(Debug, Deserialize)]
struct LocalShardAnswer {
    shard_id: u32,
    #[serde(default)]
    points_count: Option<u64>,
    state: String,
}

#[derive(Debug, Deserialize)]
struct RemoteShardAnswer {
    shard_id: u32,
    peer_id: u64,
    state: String,
}

#[derive(Debug, Deserialize)]
struct TransferAnswer {
    shard_id: u32,
    from: u64,
    to: u64,
    sync: bool,
    #[serde(default)]
    method: Option<String>,
}

impl From<CollectionClusterResult> for ShardLayout {
    fn from(answer: CollectionClusterResult) -> Self {
        let this = answer.peer_id;
        let local = answer.local_shards.into_iter().map(|shard| ShardPlacement {
            shard_id: shard.shard_id,
            peer_id: this,
            state: shard.state,
            points: shard.points_count,
            local: true,
        });
        let remote = answer.remote_shards.into_iter().map(|shard| ShardPlacement {
            shard_id: shard.shard_id,
            peer_id: Some(shard.peer_id),
            state: shard.state,
            points: None,
            local: false,
        });
        let mut placement: Vec<ShardPlacement> = local.chain(remote).collect();
        placement.sort_by_key(|shard| (shard.shard_id, !shard.local, shard.peer_id));
        let transfers = answer
            .shard_transfers
            .into_iter()
            .map(|transfer| ShardTransfer {
                shard_id: transfer.shard_id,
                from: transfer.from,
                to: transfer.to,
                sync: transfer.sync,
                method: transfer.method,
            })
            .collect();
        Self { shard_count: answer.shard_count, placement, transfers }
    }
}

/// `GET /telemetry`'s answer: only its `memory`, present when the server runs jemalloc and the
/// key may see the whole server.
#[derive(Debug, Deserialize)]
struct TelemetryAnswer {
    result: TelemetryResult,
}

#[derive(Debug, Deserialize)]
struct TelemetryResult {
    #[serde(default)]
    memory: Option<MemoryAnswer>,
}

#[derive(Debug, Deserialize)]
struct MemoryAnswer {
    allocated_bytes: u64,
    resident_bytes: u64,
}

/// The telemetry level at which Qdrant reports its memory (level 0 leaves it out). Level 1 adds
/// only aggregate figures of the collections, none of their data.
const MEMORY_DETAILS_LEVEL: &str = "1";

/// The health of the Qdrant whose REST API is at `base` (`scheme://host:port`).
///
/// Errors: `Unreachable` when it does not answer; `Rejected` when it refuses the API key (the key
/// never appears in a message); `Internal` for an answer that is not Qdrant's.
pub async fn health(
    base: &str,
    api_key: Option<&SecretString>,
    timeout: Duration,
) -> Result<EngineHealth, VectorStoreError> {
    let rest = Rest::new(base, api_key, timeout, timeout)?;
    let get = |path: &str| rest.request(reqwest::Method::GET, rest.url(&[path.trim_start_matches('/')])).send();
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

/// Qdrant's REST API on one server, for what gRPC does not carry (a snapshot's archive): a
/// client whose every request carries the connection's API key as a sensitive header, so it shows
/// in no `Debug` output.
#[derive(Clone)]
pub(crate) struct Rest {
    client: reqwest::Client,
    /// `scheme://host:port`.
    base: ::url::Url,
    /// Kept only to scrub it from error messages.
    api_key: Option<SecretString>,
    /// The longest a request waits for its answer, unless it says otherwise.
    request_timeout: Duration,
}

impl Rest {
    /// A client for the REST API at `base`.
    ///
    /// Errors: `Rejected` for a key a header cannot carry; `Internal` when no HTTP client can be
    /// built.
    pub(crate) fn new(
        base: &str,
        api_key: Option<&SecretString>,
        connect_timeout: Duration,
        request_timeout: Duration,
    ) -> Result<Self, VectorStoreError> {
        let parsed = ::url::Url::parse(base)
            .map_err(|err| VectorStoreError::Rejected(format!("the REST URL `{base}` is not a valid URL: {err}")))?;
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(key) = api_key {
            let mut value = reqwest::header::HeaderValue::from_str(key.expose_secret()).map_err(|_| {
                VectorStoreError::Rejected(
                    "the API key has characters a request header cannot carry (only visible ASCII is allowed)"
                        .to_owned(),
                )
            })?;
            value.set_sensitive(true);
            headers.insert("api-key", value);
        }
        let client = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .default_headers(headers)
            .build()
            .map_err(|err| VectorStoreError::Internal(format!("an HTTP client: {err}")))?;
        Ok(Self { client, base: parsed, api_key: api_key.cloned(), request_timeout })
    }

    /// The URL of the path made of `segments`, each percent-encoded as one segment (a collection
    /// or snapshot name cannot reach another path).
    pub(crate) fn url(&self, segments: &[&str]) -> ::url::Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.clear().extend(segments);
        }
        url
    }

    /// A request to `url` that waits the request timeout at most for its answer.
    pub(crate) fn request(&self, method: reqwest::Method, url: ::url::Url) -> reqwest::RequestBuilder {
        self.client.request(method, url).timeout(self.request_timeout)
    }

    /// Sends a `GET` of `url` whose body may be large: the answer's head must come within the
    /// request timeout, while the body has no deadline as a whole (the caller bounds each piece).
    ///
    /// Errors: `Unreachable` when no answer comes.
    pub(crate) async fn get_streamed(
        &self,
        url: ::url::Url,
        what: &str,
    ) -> Result<reqwest::Response, VectorStoreError> {
        match tokio::time::timeout(self.request_timeout, self.send(self.client.get(url), what)).await {
            Ok(answer) => answer,
            Err(_) => Err(self.clean(VectorStoreError::Unreachable(format!(
                "{what} at {}: no answer within {:?}",
                self.base.as_str().trim_end_matches('/'),
                self.request_timeout
            )))),
        }
    }

    /// The longest a request waits for its answer, and a download for its next piece.
    pub(crate) fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// Sends `request`; what it is for (`what`) names it in an error.
    ///
    /// Errors: `Unreachable` when no answer comes (refused, timed out, cut off).
    pub(crate) async fn send(
        &self,
        request: reqwest::RequestBuilder,
        what: &str,
    ) -> Result<reqwest::Response, VectorStoreError> {
        request.send().await.map_err(|err| self.unreachable(what, err))
    }

    /// A transport error for the port: the server (and the path) named, the key scrubbed.
    pub(crate) fn unreachable(&self, what: &str, err: reqwest::Error) -> VectorStoreError {
        let cause = if err.is_timeout() { "timed out".to_owned() } else { error_chain(&err.without_url()) };
        self.clean(VectorStoreError::Unreachable(format!(
            "{what} at {}: {cause}",
            self.base.as_str().trim_end_matches('/')
        )))
    }

    /// What an unsuccessful answer means for the port, read from its status and Qdrant's message:
    /// 401/403 is a refused key (`Rejected`, the key never shown); 404 about `collection` is
    /// `CollectionNotFound`; any other 4xx is `Rejected` and a 5xx `Internal`, with Qdrant's
    /// message.
    pub(crate) async fn refusal(
        &self,
        response: reqwest::Response,
        what: &str,
        collection: Option<&str>,
    ) -> VectorStoreError {
        let status = response.status();
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return VectorStoreError::Rejected(format!("{what}: the API key was refused ({status})"));
        }
        if let (reqwest::StatusCode::NOT_FOUND, Some(collection)) = (status, collection) {
            return VectorStoreError::CollectionNotFound(collection.to_owned());
        }
        let body = response.bytes().await.unwrap_or_default();
        let message = qdrant_message(&body);
        let message = format!("{what}: Qdrant answered {status}: {message}");
        self.clean(if status.is_client_error() {
            VectorStoreError::Rejected(message)
        } else {
            VectorStoreError::Internal(message)
        })
    }

    /// Where `collection`'s shards are and the transfers in flight
    /// (`GET /collections/{name}/cluster`); `Ok(None)` when the server has no such endpoint or
    /// no such collection (404).
    ///
    /// Errors: as [`Rest::get_json`].
    pub(crate) async fn shard_layout(&self, collection: &str) -> Result<Option<ShardLayout>, VectorStoreError> {
        let url = self.url(&["collections", collection, "cluster"]);
        let what = format!("the shards of collection `{collection}`");
        let answer: Option<CollectionClusterAnswer> = self.get_json(url, &what).await?;
        Ok(answer.map(|answer| answer.result.into()))
    }

    /// What the server process holds in memory (`GET /telemetry?details_level=1`, its `memory`);
    /// `Ok(None)` when the server does not say: no jemalloc, a key limited to some collections, or
    /// no telemetry endpoint (404).
    ///
    /// Errors: as [`Rest::get_json`].
    pub(crate) async fn memory(&self) -> Result<Option<EngineMemory>, VectorStoreError> {
        let mut url = self.url(&["telemetry"]);
        url.query_pairs_mut().append_pair("details_level", MEMORY_DETAILS_LEVEL);
        let answer: Option<TelemetryAnswer> = self.get_json(url, "the server's telemetry").await?;
        Ok(answer.and_then(|answer| answer.result.memory).map(|memory| EngineMemory {
            resident_bytes: memory.resident_bytes,
            allocated_bytes: memory.allocated_bytes,
        }))
    }

    /// `GET url` read as JSON; `Ok(None)` for a 404, so a server without the endpoint answers
    /// nothing rather than an error.
    ///
    /// Errors: `Unreachable` when no answer comes; those of [`Rest::refusal`] for any other
    /// unsuccessful answer (no collection named: a 404 is handled above); `Internal` for a body
    /// that is not Qdrant's answer.
    async fn get_json<T: DeserializeOwned>(&self, url: ::url::Url, what: &str) -> Result<Option<T>, VectorStoreError> {
        let response = self.send(self.request(reqwest::Method::GET, url), what).await?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(self.refusal(response, what, None).await);
        }
        let body = response.bytes().await.map_err(|err| self.unreachable(what, err))?;
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|err| self.clean(VectorStoreError::Internal(format!("{what}: not Qdrant's answer: {err}"))))
    }

    /// `err` with the API key scrubbed from its message.
    pub(crate) fn clean(&self, err: VectorStoreError) -> VectorStoreError {
        match &self.api_key {
            Some(key) => crate::redact(err, key),
            None => err,
        }
    }
}

/// Qdrant's own words in an error answer (`{"status": {"error": "…"}}`), else the start of the
/// body as text.
fn qdrant_message(body: &[u8]) -> String {
    const LONGEST: usize = 500;
    let error = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|answer| answer.pointer("/status/error").and_then(serde_json::Value::as_str).map(str::to_owned));
    match error {
        Some(error) => error,
        None if body.is_empty() => "no message".to_owned(),
        None => String::from_utf8_lossy(body).chars().take(LONGEST).collect(),
    }
}

/// An error and its causes in one line, without the URL (the caller names the server).
fn error_chain(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
