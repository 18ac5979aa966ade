//! Asking for snapshots, reading them, deleting them, and asking for restores.

use std::sync::Arc;

use qbench_domain::{
    Caller, Connection, ConnectionId, Job, JobId, JobKind, LocalAccess, RestorePayload, Role, Snapshot, SnapshotId,
    SnapshotPayload, SnapshotSpec, SnapshotStatus,
};
use qbench_repository::{
    ConnectionRepository, Entity, JobQueue, JobRepository, Listed, Page, RepositoryError, SnapshotFilter,
    SnapshotRepository, StorageRepository,
};
use qbench_storage::ArchiveStore;
use qbench_vector_store::VectorStoreProvider;

use crate::access::{ensure_may_touch, ensure_seen};
use crate::collection_names::collection_names;
use crate::jobs::submit;
use crate::snapshots::vault::{self, invalid};
use crate::{Clock, Repositories, ServiceError};

/// Where a snapshot is restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreSpec {
    /// The engine.
    pub connection_id: ConnectionId,
    /// The collection it becomes.
    pub collection: String,
    /// Whether an existing collection of that name is replaced.
    pub overwrite: bool,
}

/// Use cases on snapshots. A snapshot belongs to who asked for it (editor); qbench snapshots,
/// replaces and restores into only the collections it created (`qbench-…`) unless an admin names
/// another explicitly.
#[derive(Clone)]
pub struct SnapshotService {
    snapshots: Arc<dyn SnapshotRepository>,
    connections: Arc<dyn ConnectionRepository>,
    storages: Arc<dyn StorageRepository>,
    jobs: Arc<dyn JobRepository>,
    queue: Arc<dyn JobQueue>,
    clock: Arc<dyn Clock>,
    archives: Option<Arc<dyn ArchiveStore>>,
    stores: Option<Arc<dyn VectorStoreProvider>>,
    access: LocalAccess,
}

impl SnapshotService {
    /// A service over `repositories`; it reads and checks repositories and engines once given
    /// them ([`Self::with_engines`]).
    pub fn new(repositories: &Repositories) -> Self {
        Self {
            snapshots: repositories.snapshots.clone(),
            connections: repositories.connections.clone(),
            storages: repositories.storages.clone(),
            jobs: repositories.jobs.clone(),
            queue: repositories.queue.clone(),
            clock: repositories.clock.clone(),
            archives: None,
            stores: None,
            access: LocalAccess::default(),
        }
    }

    /// The service storing archives through `archives` and reaching engines through `stores`;
    /// a directory repository lies in its owner's area of the data roots under `access`.
    pub fn with_engines(
        mut self,
        archives: Arc<dyn ArchiveStore>,
        stores: Arc<dyn VectorStoreProvider>,
        access: LocalAccess,
    ) -> Self {
        self.archives = Some(archives);
        self.stores = Some(stores);
        self.access = access;
        self
    }

    /// Asks for a snapshot of `spec` (editor): the connection exists, holds the collection, the
    /// caller may touch it, and the repository can hold archives; then a `snapshot` job is queued.
    /// Answers the snapshot and the job archiving it.
    pub async fn create(&self, caller: &Caller, spec: SnapshotSpec) -> Result<(Snapshot, Job), ServiceError> {
        caller.require(Role::Editor)?;
        let connection = self.connection(spec.connection_id).await?;
        ensure_may_touch(caller, "collection", &spec.collection)?;
        if !self.collections(&connection).await?.contains(&spec.collection) {
            return Err(invalid(
                "collection",
                format!("connection `{}` has no collection `{}`", connection.spec.name, spec.collection),
            ));
        }
        vault::check(
            self.storages.as_ref(),
            self.archives()?.as_ref(),
            self.access,
            caller.user(),
            &spec.vault,
            "repository",
        )
        .await?;
        let now = self.clock.now();
        let job_id = JobId::new();
        let snapshot = Snapshot::new(spec, caller.user(), job_id, now);
        let payload = serde_json::to_value(SnapshotPayload { snapshot_id: snapshot.id })
            .map_err(|error| ServiceError::Internal(format!("snapshot payload: {error}")))?;
        let job = Job::new(job_id, JobKind::Snapshot, caller.user(), payload, None, now);
        self.snapshots.insert(&snapshot).await?;
        submit(self.jobs.as_ref(), self.queue.as_ref(), &job).await?;
        Ok((snapshot, job))
    }

    /// The snapshot `id` (viewer, one the caller sees).
    pub async fn get(&self, caller: &Caller, id: SnapshotId) -> Result<Snapshot, ServiceError> {
        caller.require(Role::Viewer)?;
        let snapshot = self.snapshots.get(id).await?;
        ensure_seen(caller, &snapshot.owner, Entity::Snapshot, id)?;
        Ok(snapshot)
    }

    /// Snapshots matching `filter` (viewer): the caller's own, or everyone's for an admin.
    pub async fn list(
        &self,
        caller: &Caller,
        mut filter: SnapshotFilter,
        page: Page,
    ) -> Result<Listed<Snapshot>, ServiceError> {
        caller.require(Role::Viewer)?;
        filter.owner = (!caller.is_admin()).then(|| caller.user().to_owned());
        Ok(self.snapshots.list(filter, page).await?)
    }

    /// Deletes snapshot `id` and its archive (editor, one the caller sees). A snapshot still
    /// being archived is a conflict: cancel its job first.
    pub async fn delete(&self, caller: &Caller, id: SnapshotId) -> Result<(), ServiceError> {
        caller.require(Role::Editor)?;
        let snapshot = self.get(caller, id).await?;
        if snapshot.status == SnapshotStatus::Creating {
            return Err(ServiceError::Conflict(format!(
                "snapshot {id} is still being archived by job {}: cancel the job first",
                snapshot.job_id
            )));
        }
        if snapshot.archive.is_some() {
            let repository =
                vault::resolve(self.storages.as_ref(), self.access, &snapshot.owner, &snapshot.spec.vault).await?;
            self.archives()?
                .delete_archive(&repository, &snapshot.object_name())
                .await
                .map_err(|error| ServiceError::Unavailable(format!("deleting snapshot {id}'s archive: {error}")))?;
        }
        Ok(self.snapshots.delete(id).await?)
    }

    /// Asks to restore snapshot `id` into `target` (editor): the snapshot is `READY`, the
    /// connection exists, the caller may touch the collection, and without `overwrite` it does
    /// not exist yet; then a `restore` job is queued.
    pub async fn restore(&self, caller: &Caller, id: SnapshotId, target: RestoreSpec) -> Result<Job, ServiceError> {
        caller.require(Role::Editor)?;
        let snapshot = self.get(caller, id).await?;
        if snapshot.status != SnapshotStatus::Ready {
            return Err(ServiceError::Conflict(format!(
                "snapshot {id} is {}: only a READY snapshot can be restored",
                snapshot.status
            )));
        }
        let connection = self.connection(target.connection_id).await?;
        let origin = self.connections.get(snapshot.spec.connection_id).await?;
        if origin.is_embedded() != connection.is_embedded() {
            return Err(invalid("connection_id", same_engine_kind(&snapshot, &origin)));
        }
        ensure_may_touch(caller, "collection", &target.collection)?;
        if !target.overwrite && self.collections(&connection).await?.contains(&target.collection) {
            return Err(ServiceError::Conflict(format!(
                "connection `{}` already has a collection `{}`: restore under another name, or pass \
                 overwrite: true to replace it",
                connection.spec.name, target.collection
            )));
        }
        let payload = RestorePayload {
            snapshot_id: id,
            connection_id: target.connection_id,
            collection: target.collection,
            overwrite: target.overwrite,
        };
        let payload = serde_json::to_value(payload)
            .map_err(|error| ServiceError::Internal(format!("restore payload: {error}")))?;
        let job = Job::new(JobId::new(), JobKind::Restore, caller.user(), payload, None, self.clock.now());
        submit(self.jobs.as_ref(), self.queue.as_ref(), &job).await?;
        Ok(job)
    }

    async fn connection(&self, id: ConnectionId) -> Result<Connection, ServiceError> {
        match self.connections.get(id).await {
            Ok(connection) => Ok(connection),
            Err(RepositoryError::NotFound { .. }) => {
                Err(invalid("connection_id", format!("connection {id} does not exist")))
            }
            Err(other) => Err(other.into()),
        }
    }

    /// The names of the collections `connection`'s engine holds, read without loading any.
    async fn collections(&self, connection: &Connection) -> Result<Vec<String>, ServiceError> {
        collection_names(self.stores.as_ref(), connection).await
    }

    fn archives(&self) -> Result<&Arc<dyn ArchiveStore>, ServiceError> {
        self.archives
            .as_ref()
            .ok_or_else(|| ServiceError::Misconfigured("this process cannot reach snapshot repositories".to_owned()))
    }
}

/// Why `snapshot`, taken on `origin`, cannot go elsewhere: each engine archives in its own format
/// (the embedded engine a shard, a Qdrant server a whole collection).
pub(crate) fn same_engine_kind(snapshot: &Snapshot, origin: &Connection) -> String {
    let kind = if origin.is_embedded() { "the embedded engine" } else { "a Qdrant server" };
    format!(
        "snapshot {} was taken on {kind} (connection `{}`), whose archive format only {kind} restores",
        snapshot.id, origin.spec.name
    )
}
