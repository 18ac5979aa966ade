//! Snapshots: a collection's built index archived in a repository (a directory under the data
//! roots, or a registered S3 storage), restorable into any engine qbench reaches.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::{ConnectionId, DomainError, JobId, RunId, SnapshotId, StorageId};

/// Where snapshots are kept.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SnapshotVault {
    /// A directory under the data roots (relative to a root, or absolute inside one).
    Directory {
        /// The directory.
        path: String,
    },
    /// A registered object storage's bucket, under a key prefix.
    Storage {
        /// The storage.
        storage_id: StorageId,
        /// The key prefix inside its bucket (no leading `/`; empty for the bucket's root).
        prefix: String,
    },
}

/// Where a snapshot is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SnapshotStatus {
    /// Its job is archiving the collection.
    Creating,
    /// Archived: size and checksum known, restorable.
    Ready,
    /// Archiving failed or was cancelled; `error` says why and nothing is kept.
    Failed,
}

impl SnapshotStatus {
    /// Every status.
    pub const ALL: [Self; 3] = [Self::Creating, Self::Ready, Self::Failed];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "CREATING",
            Self::Ready => "READY",
            Self::Failed => "FAILED",
        }
    }
}

impl fmt::Display for SnapshotStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SnapshotStatus {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|status| status.as_str() == s).ok_or_else(|| {
            DomainError::invalid("status", format!("unknown snapshot status `{s}`; expected CREATING, READY or FAILED"))
        })
    }
}

/// The archive a ready snapshot is: where, how big, and its SHA-256 (computed while it was
/// stored, verified before every restore).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SnapshotArchive {
    /// The object's name inside its repository.
    pub object: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its SHA-256, lower-case hex.
    pub sha256: String,
    /// The points the collection held.
    pub points: u64,
    /// The collection's configuration as the engine reported it when archived (Qdrant's own
    /// JSON, passed through: it is the engine's schema, not qbench's).
    pub collection_config: serde_json::Value,
}

/// What a user asks to snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotSpec {
    /// The engine holding the collection.
    pub connection_id: ConnectionId,
    /// The collection.
    pub collection: String,
    /// Where the archive goes.
    pub vault: SnapshotVault,
}

/// A snapshot of one collection.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// Identifier.
    pub id: SnapshotId,
    /// Who asked for it.
    pub owner: String,
    /// What was snapshotted, and where to.
    pub spec: SnapshotSpec,
    /// The run whose collection this is (a `qbench-<run id>` collection), whose settings built
    /// the index it holds.
    pub built_by: Option<RunId>,
    /// The job archiving it.
    pub job_id: JobId,
    /// Where it is in its life.
    pub status: SnapshotStatus,
    /// The archive, once `READY`.
    pub archive: Option<SnapshotArchive>,
    /// Why it failed.
    pub error: Option<String>,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl Snapshot {
    /// A new `CREATING` snapshot of `spec` by `owner`, archived by job `job_id`.
    pub fn new(spec: SnapshotSpec, owner: impl Into<String>, job_id: JobId, now: DateTime<Utc>) -> Self {
        Self {
            id: SnapshotId::new(),
            owner: owner.into(),
            built_by: run_of_collection(&spec.collection),
            spec,
            job_id,
            status: SnapshotStatus::Creating,
            archive: None,
            error: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// Marks it `READY` with its archive.
    pub fn ready(&mut self, archive: SnapshotArchive, now: DateTime<Utc>) {
        self.status = SnapshotStatus::Ready;
        self.archive = Some(archive);
        self.error = None;
        self.updated_at = now;
    }

    /// Marks it `FAILED` with `error`.
    pub fn fail(&mut self, error: impl Into<String>, now: DateTime<Utc>) {
        self.status = SnapshotStatus::Failed;
        self.archive = None;
        self.error = Some(error.into());
        self.updated_at = now;
    }

    /// The name its archive gets inside the repository: one object per snapshot, named after it
    /// and its collection so a listing of the repository reads on its own.
    pub fn object_name(&self) -> String {
        format!("{}-{}.snapshot", self.spec.collection, self.id)
    }
}

/// What a `snapshot` job carries.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SnapshotPayload {
    /// The snapshot it archives.
    pub snapshot_id: SnapshotId,
}

/// What a `restore` job carries: restore a snapshot into a collection of an engine.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RestorePayload {
    /// The snapshot restored.
    pub snapshot_id: SnapshotId,
    /// The engine it is restored into.
    pub connection_id: ConnectionId,
    /// The collection it becomes.
    pub collection: String,
    /// Whether an existing collection of that name is replaced.
    pub overwrite: bool,
}

/// Whether qbench may touch `collection` on its own authority: the collections it created
/// (`qbench-` and the name of a run or a restore). Others need an admin naming them explicitly.
pub fn is_qbench_collection(collection: &str) -> bool {
    collection.starts_with(COLLECTION_PREFIX)
}

/// The prefix of every collection qbench creates.
pub const COLLECTION_PREFIX: &str = "qbench-";

/// The collection a run creates: `qbench-<run id>`.
pub fn run_collection(run_id: RunId) -> String {
    format!("{COLLECTION_PREFIX}{run_id}")
}

/// The run whose collection `collection` is, when it is named like one.
pub fn run_of_collection(collection: &str) -> Option<RunId> {
    let id = collection.strip_prefix(COLLECTION_PREFIX)?;
    uuid::Uuid::parse_str(id).ok().filter(|uuid| uuid.hyphenated().to_string() == id).map(RunId::from)
}
