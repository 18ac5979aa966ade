//! Streaming a snapshot's archive from its repository into an engine: the one way anything is
//! restored (a `restore` job, a run whose index comes from a snapshot). The size and SHA-256 are
//! checked against the snapshot's before the engine restores anything, and the restored
//! collection must hold the points the snapshot recorded.

use qbench_domain::{Snapshot, SnapshotArchive};
use qbench_storage::ArtifactChunks;
use qbench_vector_store::SnapshotWriter;
use tokio_util::sync::CancellationToken;

use crate::execution::ProgressSink;
use crate::snapshots::checksum::Tally;

/// What is handed to the engine at a time: stores read in small pieces (a local file in 8 KiB),
/// and each write to the engine costs a hop to a blocking thread.
const WRITE_BYTES: usize = 1 << 20;

/// A restore that ended well.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Restored {
    /// Points in the restored collection.
    pub(crate) points: u64,
    /// Bytes of the archive.
    pub(crate) bytes: u64,
}

/// Why a restore did not end well.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TransferError {
    /// `cancel` fired; the engine was left as it was.
    #[error("cancelled")]
    Cancelled,
    /// It failed, said how.
    #[error("{0}")]
    Failed(String),
}

fn failed(what: &str, error: &dyn std::fmt::Display) -> TransferError {
    TransferError::Failed(format!("{what}: {error}"))
}

/// Streams `reader` (the archive of `snapshot`) into `writer` (a collection called `collection`),
/// reporting bytes to `progress`; restores only once the whole archive matched the snapshot's
/// size and SHA-256.
pub(crate) async fn restore_archive(
    mut reader: Box<dyn ArtifactChunks>,
    mut writer: Box<dyn SnapshotWriter>,
    snapshot: &Snapshot,
    archive: &SnapshotArchive,
    collection: &str,
    progress: &ProgressSink,
    cancel: &CancellationToken,
) -> Result<Restored, TransferError> {
    let mut tally = Tally::default();
    let mut pending = Vec::with_capacity(WRITE_BYTES);
    loop {
        if cancel.is_cancelled() {
            writer.abort().await;
            return Err(TransferError::Cancelled);
        }
        let chunk = match reader.next_chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(error) => {
                writer.abort().await;
                return Err(failed("archive", &error));
            }
        };
        tally.add(&chunk);
        pending.extend_from_slice(&chunk);
        if pending.len() >= WRITE_BYTES {
            if let Err(error) = writer.write(&pending).await {
                writer.abort().await;
                return Err(failed("engine", &error));
            }
            progress.advance(pending.len() as u64);
            pending.clear();
        }
    }
    if !pending.is_empty() {
        if let Err(error) = writer.write(&pending).await {
            writer.abort().await;
            return Err(failed("engine", &error));
        }
        progress.advance(pending.len() as u64);
    }
    let bytes = tally.bytes();
    let sha256 = tally.sha256();
    if bytes != archive.bytes || sha256 != archive.sha256 {
        writer.abort().await;
        return Err(TransferError::Failed(format!(
            "checksum mismatch: the archive {} in the repository has {bytes} bytes with SHA-256 {sha256}, but \
             snapshot {} recorded {} bytes with SHA-256 {}; it was changed or damaged since, so nothing was restored",
            archive.object, snapshot.id, archive.bytes, archive.sha256
        )));
    }
    let points = writer.finish().await.map_err(|error| failed("restore", &error))?;
    if points != archive.points {
        return Err(TransferError::Failed(format!(
            "collection `{collection}` holds {points} points after the restore, but snapshot {} recorded {}",
            snapshot.id, archive.points
        )));
    }
    Ok(Restored { points, bytes })
}
