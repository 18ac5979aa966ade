//! A collection's snapshot read out of a Qdrant server over its REST API, chunk by chunk.
//!
//! [`start`] asks the server to create a collection snapshot (`POST
//! /collections/{name}/snapshots?wait=true`, which answers once the archive is complete on the
//! server's disk, with its name, size and SHA-256) and opens its download (`GET
//! /collections/{name}/snapshots/{snapshot}`). The reader hands the body on in chunks of
//! [`SNAPSHOT_CHUNK_BYTES`]: it holds the chunk being filled and at most one piece the connection
//! delivered, whatever the archive's size, and the server sends more only as the reader asks.
//!
//! # Consistency
//! The server takes the snapshot at once, on its side: the archive is the collection as it was
//! then, and neither searches nor writes wait for the download.
//!
//! # Checks
//! At the end of the body the bytes read are checked against the size and SHA-256 the server
//! announced; a difference is an error (`Internal`) rather than an archive that would be found
//! damaged only when restored. A piece that takes longer than the request timeout to arrive is
//! `Unreachable`.
//!
//! # The server's copy
//! The archive occupies the server's disk until it is deleted (`DELETE
//! /collections/{name}/snapshots/{snapshot}`): when the body has been read to its end, when the
//! download fails, and when the reader is dropped before either (then from a task spawned on the
//! runtime). Deleting is best effort: a failure is logged, not returned.

use async_trait::async_trait;
use bytes::Bytes;
use qbench_vector_store::{SnapshotReader, VectorStoreError};
use reqwest::Method;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::SNAPSHOT_CHUNK_BYTES;
use crate::rest::Rest;

/// `POST /collections/{name}/snapshots`'s answer.
#[derive(Debug, Deserialize)]
struct Created {
    result: SnapshotDescription,
}

#[derive(Debug, Deserialize)]
struct SnapshotDescription {
    name: String,
    #[serde(default)]
    size: Option<u64>,
    /// SHA-256, lower-case hex.
    #[serde(default)]
    checksum: Option<String>,
}

/// Creates a snapshot of `collection` on the server and opens its download.
///
/// Errors: `CollectionNotFound`; `Rejected` when the server refuses (the API key among others);
/// `Unreachable`.
pub(crate) async fn start(
    rest: Rest,
    collection: &str,
    create_timeout: std::time::Duration,
) -> Result<Box<dyn SnapshotReader>, VectorStoreError> {
    let what = format!("creating a snapshot of collection `{collection}`");
    let mut url = rest.url(&["collections", collection, "snapshots"]);
    url.query_pairs_mut().append_pair("wait", "true");
    let response = rest.send(rest.request(Method::POST, url).timeout(create_timeout), &what).await?;
    if !response.status().is_success() {
        return Err(rest.refusal(response, &what, Some(collection)).await);
    }
    let body = response.bytes().await.map_err(|err| rest.unreachable(&what, err))?;
    let created: Created = serde_json::from_slice(&body)
        .map_err(|err| VectorStoreError::Internal(format!("{what}: not Qdrant's answer: {err}")))?;
    let description = created.result;
    let copy = ServerCopy::new(rest.clone(), collection, &description.name);
    tracing::debug!(snapshot = %copy.name, bytes = ?description.size, "snapshot created on the server");

    let what = format!("downloading snapshot `{}` of collection `{collection}`", copy.name);
    // No timeout for the whole body, which may be large: each piece has one instead.
    let url = rest.url(&["collections", collection, "snapshots", &copy.name]);
    let response = match rest.get_streamed(url, &what).await {
        Ok(response) if response.status().is_success() => response,
        Ok(response) => {
            let err = rest.refusal(response, &what, None).await;
            copy.delete().await;
            return Err(err);
        }
        Err(err) => {
            copy.delete().await;
            return Err(err);
        }
    };
    Ok(Box::new(Download {
        rest,
        what,
        state: State::Reading(response),
        copy: Some(copy),
        pending: Bytes::new(),
        read: 0,
        hasher: Sha256::new(),
        size: description.size,
        checksum: description.checksum,
    }))
}

/// Where the download stands.
enum State {
    Reading(reqwest::Response),
    /// The body was read to its end and checked.
    Ended,
    Failed,
}

/// A snapshot being downloaded.
struct Download {
    rest: Rest,
    /// What the download is, for messages.
    what: String,
    state: State,
    /// The archive on the server's disk, until it is deleted.
    copy: Option<ServerCopy>,
    /// The rest of the last piece the connection delivered.
    pending: Bytes,
    /// Bytes handed on so far.
    read: u64,
    hasher: Sha256,
    /// What the server announced.
    size: Option<u64>,
    checksum: Option<String>,
}

#[async_trait]
impl SnapshotReader for Download {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, VectorStoreError> {
        let response = match &mut self.state {
            State::Reading(response) => response,
            State::Ended => return Ok(None),
            State::Failed => {
                return Err(VectorStoreError::Internal(format!("{} failed earlier; start it again", self.what)));
            }
        };
        let mut chunk = Vec::with_capacity(SNAPSHOT_CHUNK_BYTES);
        loop {
            if self.pending.is_empty() {
                let piece = tokio::time::timeout(self.rest.request_timeout(), response.chunk()).await;
                match piece {
                    Ok(Ok(Some(piece))) => self.pending = piece,
                    Ok(Ok(None)) => break,
                    Ok(Err(err)) => {
                        let err = self.rest.unreachable(&self.what, err);
                        return Err(self.fail(err).await);
                    }
                    Err(_) => {
                        let err = VectorStoreError::Unreachable(format!(
                            "{}: no data for {:?}",
                            self.what,
                            self.rest.request_timeout()
                        ));
                        return Err(self.fail(err).await);
                    }
                }
                continue;
            }
            let taken = self.pending.len().min(SNAPSHOT_CHUNK_BYTES - chunk.len());
            let piece = self.pending.split_to(taken);
            self.hasher.update(&piece);
            chunk.extend_from_slice(&piece);
            self.read += taken as u64;
            if chunk.len() == SNAPSHOT_CHUNK_BYTES {
                return Ok(Some(chunk));
            }
        }
        // The end of the body: the archive is complete if it is what the server announced.
        if let Err(err) = self.verify() {
            return Err(self.fail(err).await);
        }
        self.state = State::Ended;
        if let Some(copy) = self.copy.take() {
            copy.delete().await;
        }
        tracing::debug!(bytes = self.read, "snapshot downloaded");
        Ok((!chunk.is_empty()).then_some(chunk))
    }
}

impl Download {
    /// Ends the download with `err`, deleting the server's copy.
    async fn fail(&mut self, err: VectorStoreError) -> VectorStoreError {
        self.state = State::Failed;
        if let Some(copy) = self.copy.take() {
            copy.delete().await;
        }
        err
    }

    /// Whether the bytes read are the size and SHA-256 the server announced.
    fn verify(&mut self) -> Result<(), VectorStoreError> {
        if let Some(size) = self.size
            && size != self.read
        {
            return Err(VectorStoreError::Internal(format!(
                "{}: the download ended after {} bytes, but the server announced {size}",
                self.what, self.read
            )));
        }
        let sha256 = hex(&std::mem::take(&mut self.hasher).finalize());
        if let Some(checksum) = &self.checksum
            && !checksum.eq_ignore_ascii_case(&sha256)
        {
            return Err(VectorStoreError::Internal(format!(
                "{}: the bytes downloaded have SHA-256 {sha256}, but the server announced {checksum}",
                self.what
            )));
        }
        Ok(())
    }
}

/// A snapshot on the server's disk, deleted by [`delete`](Self::delete), or when dropped.
pub(crate) struct ServerCopy {
    rest: Rest,
    collection: String,
    name: String,
    armed: bool,
}

impl ServerCopy {
    /// The snapshot `name` of `collection`.
    pub(crate) fn new(rest: Rest, collection: &str, name: &str) -> Self {
        Self { rest, collection: collection.to_owned(), name: name.to_owned(), armed: true }
    }

    /// Deletes it now; a failure is logged.
    pub(crate) async fn delete(mut self) {
        self.armed = false;
        delete(&self.rest, &self.collection, &self.name).await;
    }
}

impl Drop for ServerCopy {
    /// Deletes it from a task of its own; outside a runtime it stays, logged.
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let (rest, collection, name) = (self.rest.clone(), self.collection.clone(), self.name.clone());
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                drop(runtime.spawn(async move { delete(&rest, &collection, &name).await }));
            }
            Err(_) => tracing::warn!(
                collection,
                snapshot = name,
                "no runtime to delete the snapshot from the server: it stays on the server's disk"
            ),
        }
    }
}

/// `DELETE /collections/{collection}/snapshots/{name}`; one already gone is fine, a failure is
/// logged.
async fn delete(rest: &Rest, collection: &str, name: &str) {
    let what = format!("deleting snapshot `{name}` of collection `{collection}` from the server");
    let mut url = rest.url(&["collections", collection, "snapshots", name]);
    url.query_pairs_mut().append_pair("wait", "true");
    let outcome = match rest.send(rest.request(Method::DELETE, url), &what).await {
        Ok(response) if response.status().is_success() || response.status() == reqwest::StatusCode::NOT_FOUND => Ok(()),
        Ok(response) => Err(rest.refusal(response, &what, None).await),
        Err(err) => Err(err),
    };
    match outcome {
        Ok(()) => tracing::debug!(collection, snapshot = name, "snapshot deleted from the server"),
        Err(err) => tracing::warn!(
            collection,
            snapshot = name,
            error = %err,
            "the snapshot could not be deleted from the server: it stays on the server's disk"
        ),
    }
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(text, "{byte:02x}");
    }
    text
}
