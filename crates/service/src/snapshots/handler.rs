//! The `snapshot` job: streams a collection's archive from its engine into the repository,
//! tallying its size and SHA-256 on the way, and marks the snapshot `READY` (or `FAILED`).

use std::sync::Arc;

use async_trait::async_trait;
use qbench_domain::{Job, JobKind, LocalAccess, RunId, Snapshot, SnapshotArchive, SnapshotPayload, SnapshotStatus};
use qbench_repository::{ConnectionRepository, SnapshotRepository, StorageRepository};
use qbench_storage::ArchiveStore;
use qbench_vector_store::VectorStoreProvider;

use crate::jobs::{JobContext, JobError, JobHandler, JobOutcome};
use crate::snapshots::checksum::Tally;
use crate::snapshots::vault;
use crate::{Clock, Repositories};

/// Archives collections for `snapshot` jobs.
pub struct SnapshotHandler {
    snapshots: Arc<dyn SnapshotRepository>,
    connections: Arc<dyn ConnectionRepository>,
    storages: Arc<dyn StorageRepository>,
    clock: Arc<dyn Clock>,
    archives: Arc<dyn ArchiveStore>,
    stores: Arc<dyn VectorStoreProvider>,
    access: LocalAccess,
}

impl SnapshotHandler {
    /// A handler reading engines through `stores` and writing archives through `archives`.
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
            clock: repositories.clock.clone(),
            archives,
            stores,
            access,
        }
    }

    /// Streams `snapshot`'s collection into its repository.
    async fn archive(&self, snapshot: &Snapshot, context: &JobContext) -> Result<SnapshotArchive, JobError> {
        let spec = &snapshot.spec;
        let connection =
            self.connections.get(spec.connection_id).await.map_err(|error| failed("connection", &error))?;
        let store = self.stores.open(&connection, RunId::new()).await.map_err(|error| failed("engine", &error))?;
        context.progress.enter("read", None);
        let info = store.collection_info(&spec.collection).await.map_err(|error| failed("collection", &error))?;
        let repository = vault::resolve(self.storages.as_ref(), self.access, &snapshot.owner, &spec.vault)
            .await
            .map_err(|error| failed("repository", &error))?;
        let object = snapshot.object_name();
        let mut reader = store.snapshot(&spec.collection).await.map_err(|error| failed("snapshot", &error))?;
        let mut sink =
            self.archives.create_archive(&repository, &object).await.map_err(|error| failed("repository", &error))?;
        context.progress.enter("archive", None);
        let mut tally = Tally::default();
        loop {
            if context.cancel.is_cancelled() {
                sink.abort().await;
                return Err(JobError::Cancelled);
            }
            let chunk = match reader.next_chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(error) => {
                    sink.abort().await;
                    return Err(failed("snapshot", &error));
                }
            };
            tally.add(&chunk);
            let written = chunk.len() as u64;
            if let Err(error) = sink.write(chunk).await {
                sink.abort().await;
                return Err(failed("repository", &error));
            }
            context.progress.advance(written);
        }
        let location = sink.finish().await.map_err(|error| failed("repository", &error))?;
        tracing::info!(snapshot_id = %snapshot.id, %location, bytes = tally.bytes(), "snapshot archived");
        Ok(SnapshotArchive {
            object,
            bytes: tally.bytes(),
            sha256: tally.sha256(),
            points: info.points,
            collection_config: info.config,
        })
    }
}

pub(crate) fn failed(what: &str, error: &dyn std::fmt::Display) -> JobError {
    JobError::Failed(format!("{what}: {error}"))
}

#[async_trait]
impl JobHandler for SnapshotHandler {
    fn kind(&self) -> JobKind {
        JobKind::Snapshot
    }

    async fn execute(&self, job: &Job, context: &JobContext) -> Result<JobOutcome, JobError> {
        let payload: SnapshotPayload =
            serde_json::from_value(job.payload().clone()).map_err(|error| failed("snapshot payload", &error))?;
        let mut snapshot = self.snapshots.get(payload.snapshot_id).await.map_err(|error| failed("snapshot", &error))?;
        if snapshot.status != SnapshotStatus::Creating {
            return Err(JobError::Failed(format!("snapshot {} is already {}", snapshot.id, snapshot.status)));
        }
        let outcome = self.archive(&snapshot, context).await;
        let now = self.clock.now();
        match &outcome {
            Ok(archive) => snapshot.ready(archive.clone(), now),
            Err(JobError::Cancelled) => {
                snapshot.fail("cancelled before its archive was complete; nothing was kept", now)
            }
            Err(JobError::Failed(message)) => snapshot.fail(message.clone(), now),
        }
        self.snapshots.update(&snapshot).await.map_err(|error| failed("snapshot record", &error))?;
        let archive = outcome?;
        Ok(JobOutcome::Completed(serde_json::json!({
            "snapshot_id": snapshot.id,
            "bytes": archive.bytes,
            "sha256": archive.sha256,
            "points": archive.points,
        })))
    }
}
