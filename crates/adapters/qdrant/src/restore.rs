//! A snapshot written into a Qdrant server over its REST API and recovered as a collection.
//!
//! Qdrant takes an archive to recover as one multipart upload (`POST
//! /collections/{name}/snapshots/upload?priority=snapshot&wait=true`, field `snapshot`), whose
//! length must be known before it starts; the port hands the archive over chunk by chunk, and the
//! caller verifies its checksum before deciding to [`finish`](SnapshotWriter::finish). So
//! [`start`] refuses an existing collection unless it may be overwritten, then spools every chunk
//! to a temporary file (`qbench-restore-*.snapshot` in [`RemoteOptions::spool_dir`], the OS temp
//! dir by default) while hashing it; nothing reaches the server before `finish`. `finish` then:
//! 1. checks again, without `overwrite`, that no collection of that name appeared meanwhile
//!    (Qdrant's recovery would replace it);
//! 2. uploads the file as the multipart body, streamed from disk (never held in memory), with
//!    its SHA-256 (`checksum`), which Qdrant checks before recovering. Qdrant unpacks and checks
//!    the archive before it touches the collection, so an archive it refuses (`Rejected`, with
//!    its message: a damaged archive, or one whose vectors do not fit the collection it would
//!    replace) leaves the collection as it was;
//! 3. deletes the uploaded archive, which Qdrant keeps among the collection's snapshots (best
//!    effort, logged), and counts the collection's points exactly.
//!
//! The spool file is deleted however the restore ends: `finish`, a failure, `abort`, or the
//! writer dropped.
//!
//! [`RemoteOptions::spool_dir`]: crate::RemoteOptions::spool_dir

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use qbench_vector_store::{SnapshotWriter, VectorStoreError};
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tempfile::NamedTempFile;
use uuid::Uuid;

use crate::rest::Rest;
use crate::snapshot::{ServerCopy, hex};

/// `POST /collections/{name}/points/count`'s answer.
#[derive(Debug, Deserialize)]
struct Counted {
    result: Count,
}

#[derive(Debug, Deserialize)]
struct Count {
    count: u64,
}

/// Opens the restore of `collection` on the server behind `rest`, spooling into `spool_dir`
/// (the OS temp dir when `None`); the upload may take `upload_timeout`.
///
/// Errors: without `overwrite`, `Rejected` when the collection exists; `Rejected` for a refused
/// API key; `Unreachable`; `Internal` when the spool file cannot be created.
pub(crate) async fn start(
    rest: Rest,
    collection: &str,
    overwrite: bool,
    spool_dir: Option<PathBuf>,
    upload_timeout: Duration,
) -> Result<Box<dyn SnapshotWriter>, VectorStoreError> {
    if !overwrite && exists(&rest, collection).await? {
        return Err(already_exists(collection));
    }
    let dir = spool_dir.unwrap_or_else(std::env::temp_dir);
    let file = tokio::task::spawn_blocking(move || {
        tempfile::Builder::new()
            .prefix("qbench-restore-")
            .suffix(".snapshot")
            .tempfile_in(&dir)
            .map_err(|err| VectorStoreError::Internal(format!("creating a spool file in {}: {err}", dir.display())))
    })
    .await
    .map_err(from_join)??;
    tracing::debug!(spool = %file.path().display(), "restore spooling");
    Ok(Box::new(Restore {
        rest,
        collection: collection.to_owned(),
        overwrite,
        upload_timeout,
        spool: Some(Spool { file, hasher: Sha256::new(), bytes: 0 }),
    }))
}

/// The archive written so far: its file, hash and length.
struct Spool {
    /// Deleted when dropped.
    file: NamedTempFile,
    hasher: Sha256,
    bytes: u64,
}

impl Spool {
    fn append(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.file.as_file_mut().write_all(chunk)?;
        self.hasher.update(chunk);
        self.bytes += chunk.len() as u64;
        Ok(())
    }
}

/// A restore being written.
struct Restore {
    rest: Rest,
    collection: String,
    overwrite: bool,
    upload_timeout: Duration,
    /// `None` once a write failed (the file is then gone).
    spool: Option<Spool>,
}

#[async_trait]
impl SnapshotWriter for Restore {
    async fn write(&mut self, chunk: &[u8]) -> Result<(), VectorStoreError> {
        let mut spool = self.spool.take().ok_or_else(interrupted)?;
        let chunk = chunk.to_vec();
        let (spool, written) = tokio::task::spawn_blocking(move || {
            let written = spool.append(&chunk);
            (spool, written)
        })
        .await
        .map_err(from_join)?;
        if let Err(err) = written {
            let path = spool.file.path().display().to_string();
            discard(spool.file).await;
            return Err(VectorStoreError::Internal(format!("writing the spool file {path}: {err}")));
        }
        self.spool = Some(spool);
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(collection = %self.collection, overwrite = self.overwrite))]
    async fn finish(self: Box<Self>) -> Result<u64, VectorStoreError> {
        let Restore { rest, collection, overwrite, upload_timeout, spool } = *self;
        let Spool { file, hasher, bytes } = spool.ok_or_else(interrupted)?;
        let sha256 = hex(&hasher.finalize());
        let restored = async {
            if !overwrite && exists(&rest, &collection).await? {
                return Err(already_exists(&collection));
            }
            let uploaded = upload(&rest, &collection, &file, bytes, &sha256, upload_timeout).await?;
            // Qdrant keeps the uploaded archive among the collection's snapshots.
            uploaded.delete().await;
            count(&rest, &collection).await
        }
        .await;
        discard(file).await;
        let points = restored?;
        tracing::info!(points, bytes, "snapshot restored");
        Ok(points)
    }

    async fn abort(self: Box<Self>) {
        if let Some(spool) = self.spool {
            discard(spool.file).await;
        }
    }
}

/// Uploads the archive in `file` (`bytes` long, SHA-256 `sha256`) for Qdrant to recover as
/// `collection`; the archive Qdrant keeps, which the caller deletes.
///
/// Errors: `Rejected` with Qdrant's message when it refuses the archive or the API key;
/// `Unreachable`; `Internal` for a failure on the server's side.
async fn upload(
    rest: &Rest,
    collection: &str,
    file: &NamedTempFile,
    bytes: u64,
    sha256: &str,
    timeout: Duration,
) -> Result<ServerCopy, VectorStoreError> {
    let what = format!("uploading a snapshot of {bytes} bytes into collection `{collection}`");
    let body = tokio::fs::File::open(file.path()).await.map_err(|err| {
        VectorStoreError::Internal(format!("opening the spool file {}: {err}", file.path().display()))
    })?;
    // Unique, so that concurrent restores do not meet in the server's snapshot directory.
    let name = format!("qbench-restore-{}.snapshot", Uuid::new_v4());
    let part = Part::stream_with_length(body, bytes)
        .file_name(name.clone())
        .mime_str("application/octet-stream")
        .map_err(|err| VectorStoreError::Internal(format!("{what}: {err}")))?;
    let mut url = rest.url(&["collections", collection, "snapshots", "upload"]);
    url.query_pairs_mut()
        .append_pair("priority", "snapshot")
        .append_pair("wait", "true")
        .append_pair("checksum", sha256);
    let request = rest.request(Method::POST, url).timeout(timeout).multipart(Form::new().part("snapshot", part));
    let response = rest.send(request, &what).await?;
    if !response.status().is_success() {
        return Err(rest.refusal(response, &what, None).await);
    }
    Ok(ServerCopy::new(rest.clone(), collection, &name))
}

/// Whether `collection` exists (`GET /collections/{name}`).
async fn exists(rest: &Rest, collection: &str) -> Result<bool, VectorStoreError> {
    let what = format!("looking up collection `{collection}`");
    let response = rest.send(rest.request(Method::GET, rest.url(&["collections", collection])), &what).await?;
    match response.status() {
        status if status.is_success() => Ok(true),
        reqwest::StatusCode::NOT_FOUND => Ok(false),
        _ => Err(rest.refusal(response, &what, None).await),
    }
}

/// The points of `collection`, counted exactly.
async fn count(rest: &Rest, collection: &str) -> Result<u64, VectorStoreError> {
    let what = format!("counting the points of collection `{collection}`");
    let url = rest.url(&["collections", collection, "points", "count"]);
    let request = rest
        .request(Method::POST, url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(r#"{"exact":true}"#);
    let response = rest.send(request, &what).await?;
    if !response.status().is_success() {
        return Err(rest.refusal(response, &what, Some(collection)).await);
    }
    let body = response.bytes().await.map_err(|err| rest.unreachable(&what, err))?;
    let counted: Counted = serde_json::from_slice(&body)
        .map_err(|err| VectorStoreError::Internal(format!("{what}: not Qdrant's answer: {err}")))?;
    Ok(counted.result.count)
}

/// Deletes the spool file, off the async threads; a failure is logged.
async fn discard(file: NamedTempFile) {
    let path = file.path().to_owned();
    match tokio::task::spawn_blocking(move || file.close()).await {
        Ok(Ok(())) => {}
        Ok(Err(err)) => {
            tracing::warn!(spool = %path.display(), error = %err, "could not delete a restore's spool file")
        }
        Err(err) => tracing::warn!(spool = %path.display(), error = %err, "deleting a restore's spool file failed"),
    }
}

fn already_exists(collection: &str) -> VectorStoreError {
    VectorStoreError::Rejected(format!("collection `{collection}` already exists; pass overwrite to replace it"))
}

fn interrupted() -> VectorStoreError {
    VectorStoreError::Internal("an earlier write into this restore failed; start it again".to_owned())
}

fn from_join(err: tokio::task::JoinError) -> VectorStoreError {
    VectorStoreError::Internal(format!("a blocking task failed: {err}"))
}
