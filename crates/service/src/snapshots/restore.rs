//! The `restore` job: streams a snapshot's archive from its repository into an engine, verifies
//! its size and SHA-256 against the snapshot's before the engine restores anything, and checks
//! the restored collection holds the points the snapshot recorded.

use std::sync::Arc;

use async_trait::async_trait;
use qbench_domain::{Job, JobKind, LocalAccess, RestorePayload, RunId, SnapshotStatus};
use qbench_repository::{ConnectionRepository, SnapshotRepository, StorageRepository};
use qbench_storage::ArchiveStore;
use qbench_vector_store::VectorStoreProvider;

use crate::Repositories;
use crate::jobs::{JobContext, JobError, JobHandler, JobOutcome};
use crate::snapshots::checksum::Tally;
use crate::snapshots::handler::failed;
use crate::snapshots::vault;

/// What is handed to the engine at a time: stores read in small pieces (a local file in 8 KiB),
/// and each write to the engine costs a hop to a blocking thread.
const WRITE_BYTES: usize = 1 << 20;

/// Restores snapshots for `restore` jobs.
pub struct RestoreHandler {
    snapshots: Arc<dyn SnapshotRepository>,
    connections: Arc<dyn ConnectionRepository>,
    storages: Arc<dyn StorageRepository>,
    archives: Arc<dyn ArchiveStore>,
    stores: Arc<dyn VectorStoreProvider>,
    access: LocalAccess,
}

impl RestoreHandler {
    /// A handler reading archives through `archives` and writing engines through `stores`.
    pub fn new(
        repositories: &Repositories,
        archives: Arc<dyn ArchiveStore>,
        stores: Arc<dyn VectorStoreProvider>,
        access: LocalAccess,
    ) -> Self {
        Self {
            snapshots: repositories.snapshots.clone(),
            connections: repositories.connections.clone(),
            storages: repositories.storages.clone(),
            archives,
            stores,
            access,
        }
    }
}

#[async_trait]
impl JobHandler for RestoreHandler {
    fn kind(&self) -> JobKind {
        JobKind::Restore
    }

    async fn execute(&self, job: &Job, context: &JobContext) -> Result<JobOutcome, JobError> {
        let payload: RestorePayload =
            serde_json::from_value(job.payload().clone()).map_err(|error| failed("restore payload", &error))?;
        let snapshot = self.snapshots.get(payload.snapshot_id).await.map_err(|error| failed("snapshot", &error))?;
        let archive = match (&snapshot.archive, snapshot.status) {
            (Some(archive), SnapshotStatus::Ready) => archive,
            (_, status) => return Err(JobError::Failed(format!("snapshot {} is {status}, not READY", snapshot.id))),
        };
        let connection =
            self.connections.get(payload.connection_id).await.map_err(|error| failed("connection", &error))?;
        let store = self.stores.open(&connection, RunId::new()).await.map_err(|error| failed("engine", &error))?;
        let repository = vault::resolve(self.storages.as_ref(), self.access, &snapshot.owner, &snapshot.spec.vault)
            .await
            .map_err(|error| failed("repository", &error))?;
        let mut reader = self
            .archives
            .open_archive(&repository, &archive.object)
            .await
            .map_err(|error| failed("archive", &error))?;
        let mut writer = store
            .restore(&payload.collection, payload.overwrite)
            .await
            .map_err(|error| failed("collection", &error))?;
        context.progress.enter("transfer", Some(archive.bytes));
        let mut tally = Tally::default();
        let mut pending = Vec::with_capacity(WRITE_BYTES);
        loop {
            if context.cancel.is_cancelled() {
                writer.abort().await;
                return Err(JobError::Cancelled);
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
                context.progress.advance(pending.len() as u64);
                pending.clear();
            }
        }
        if !pending.is_empty() {
            if let Err(error) = writer.write(&pending).await {
                writer.abort().await;
                return Err(failed("engine", &error));
            }
            context.progress.advance(pending.len() as u64);
        }
        let bytes = tally.bytes();
        let sha256 = tally.sha256();
        if bytes != archive.bytes || sha256 != archive.sha256 {
            writer.abort().await;
            return Err(JobError::Failed(format!(
                "checksum mismatch: the archive {} in the repository has {bytes} bytes with SHA-256 {sha256}, \
                 but snapshot {} recorded {} bytes with SHA-256 {}; it was changed or damaged since, so nothing \
                 was restored",
                archive.object, snapshot.id, archive.bytes, archive.sha256
            )));
        }
        context.progress.enter("restore", None);
        let points = writer.finish().await.map_err(|error| failed("restore", &error))?;
        if points != archive.points {
            return Err(JobError::Failed(format!(
                "collection `{}` holds {points} points after the restore, but snapshot {} recorded {}",
                payload.collection, snapshot.id, archive.points
            )));
        }
        Ok(JobOutcome::Completed(serde_json::json!({
            "snapshot_id": snapshot.id,
            "connection_id": payload.connection_id,
            "collection": payload.collection,
            "points": points,
            "bytes": bytes,
            "sha256": sha256,
        })))
    }
}
