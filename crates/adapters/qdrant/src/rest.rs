//! Qdrant's REST endpoints for what its gRPC API lacks, with reqwest: liveness (`/healthz`),
//! readiness (`/readyz`) and the cluster (`/cluster`) in [`health`]; [`Rest`], the client the
//! snapshot download and restore upload go through, and how it reads Qdrant's error answers.

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
