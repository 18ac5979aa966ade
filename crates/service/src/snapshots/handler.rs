//! The `snapshot` job: streams a collection's archive from its engine into the repository,
//! tallying its size and SHA-256 on the way, and marks the snapshot `READY` (or `FAILED`).

use std::sync::Arc;

use async_trait::async_trait;
use qbench_domain::{
    ConnectionId, Job, JobKind, LocalAccess, RunId, Snapshot, SnapshotArchive, SnapshotPayload, SnapshotStatus,
};
use qbench_repository::{ConnectionRepository, SnapshotRepository, StorageRepository};
use qbench_storage::{ArchiveStore, ArtifactChunks, DatasetSource};
use qbench_vector_store::{VectorStore, VectorStoreProvider};

use tokio_util::sync::CancellationToken;

use crate::execution::ProgressSink;
use crate::jobs::{JobContext, JobError, JobHandler, JobOutcome};
use crate::snapshots::checksum::Tally;
use crate::snapshots::vault;
use crate::{Clock, Repositories};

/// Archives collections for `snapshot` jobs.
pub struct SnapshotHandler {
    snapshots: Arc<dyn SnapshotRepository>,
    clock: Arc<dyn Clock>,
    archiver: Archiver,
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
            clock: repositories.clock.clone(),
            archiver: Archiver::new(repositories, archives, stores, access),
        }
    }
}

/// Streams collections into repositories: a `snapshot` job's work, and a study's keeping its builds.
#[derive(Clone)]
pub(crate) struct Archiver {
    connections: Arc<dyn ConnectionRepository>,
    storages: Arc<dyn StorageRepository>,
    archives: Arc<dyn ArchiveStore>,
    stores: Arc<dyn VectorStoreProvider>,
    access: LocalAccess,
}

impl Archiver {
    /// An archiver reading engines through `stores` and writing archives through `archives`.
    pub(crate) fn new(
        repositories: &Repositories,
        archives: Arc<dyn ArchiveStore>,
        stores: Arc<dyn VectorStoreProvider>,
        access: LocalAccess,
    ) -> Self {
        Self {
            connections: repositories.connections.clone(),
            storages: repositories.storages.clone(),
            archives,
            stores,
            access,
        }
    }

    /// The engine of the connection `connection_id`.
    pub(crate) async fn store_of(&self, connection_id: ConnectionId) -> Result<Arc<dyn VectorStore>, JobError> {
        let connection = self.connections.get(connection_id).await.map_err(|error| failed("connection", &error))?;
        self.stores.open(&connection, RunId::new()).await.map_err(|error| failed("engine", &error))
    }

    /// The repository `snapshot` lives in, as the storage port addresses it.
    pub(crate) async fn repository_of(&self, snapshot: &Snapshot) -> Result<DatasetSource, JobError> {
        vault::resolve(self.storages.as_ref(), self.access, &snapshot.owner, &snapshot.spec.vault)
            .await
            .map_err(|error| failed("repository", &error))
    }

    /// Reads archive `object` of `repository`.
    pub(crate) async fn open_archive(
        &self,
        repository: &DatasetSource,
        object: &str,
    ) -> Result<Box<dyn ArtifactChunks>, JobError> {
        self.archives.open_archive(repository, object).await.map_err(|error| failed("archive", &error))
    }

    /// Streams `snapshot`'s collection into its repository, reporting bytes to `progress`.
    pub(crate) async fn archive(
        &self,
        snapshot: &Snapshot,
        progress: &ProgressSink,
        cancel: &CancellationToken,
    ) -> Result<SnapshotArchive, JobError> {
        let spec = &snapshot.spec;
        let store = self.store_of(spec.connection_id).await?;
        progress.enter("read", None);
        let info = store.collection_info(&spec.collection).await.map_err(|error| failed("collection", &error))?;
        let repository = self.repository_of(snapshot).await?;
        let object = snapshot.object_name();
        let mut reader = store.snapshot(&spec.collection).await.map_err(|error| failed("snapshot", &error))?;
        let mut sink =
            self.archives.create_archive(&repository, &object).await.map_err(|error| failed("repository", &error))?;
        progress.enter("archive", None);
        let mut tally = Tally::default();
        loop {
            if cancel.is_cancelled() {
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
            progress.advance(written);
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

    /// Drops `collection` of the engine of `connection_id`.
    pub(crate) async fn drop_collection(&self, connection_id: ConnectionId, collection: &str) -> Result<(), String> {
        let store = self.store_of(connection_id).await.map_err(|error| error.to_string())?;
        store.drop_collection(collection).await.map_err(|error| error.to_string())
    }

    /// Archives `snapshot` and records how it ended (`READY` or `FAILED`) in `snapshots`.
    pub(crate) async fn archive_and_record(
        &self,
        snapshots: &dyn SnapshotRepository,
        clock: &dyn Clock,
        snapshot: &mut Snapshot,
        progress: &ProgressSink,
        cancel: &CancellationToken,
    ) -> Result<SnapshotArchive, JobError> {
        let outcome = self.archive(snapshot, progress, cancel).await;
        let now = clock.now();
        match &outcome {
            Ok(archive) => snapshot.ready(archive.clone(), now),
            Err(JobError::Cancelled) => {
                snapshot.fail("cancelled before its archive was complete; nothing was kept", now)
            }
            Err(JobError::Failed(message)) => snapshot.fail(message.clone(), now),
        }
        snapshots.update(snapshot).await.map_err(|error| failed("snapshot record", &error))?;
        outcome
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
        let archive = self
            .archiver
            .archive_and_record(
                self.snapshots.as_ref(),
                self.clock.as_ref(),
                &mut snapshot,
                &context.progress,
                &context.cancel,
            )
            .await?;
        Ok(JobOutcome::Completed(serde_json::json!({
            "snapshot_id": snapshot.id,
            "bytes": archive.bytes,
            "sha256": archive.sha256,
            "points": archive.points,
        })))
    }
}
