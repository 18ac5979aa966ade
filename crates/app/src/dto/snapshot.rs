//! Wire types of `/api/v1/snapshots`: asking for a snapshot, reading it, restoring it.

use apistos::ApiComponent;
use chrono::{DateTime, Utc};
use qbench_domain::{ConnectionId, Snapshot, SnapshotSpec, SnapshotStatus, SnapshotVault, StorageId, Violation};
use qbench_service::snapshots::RestoreSpec;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::dto::job::JobResponse;

/// Where a snapshot's archive goes: a directory under the server's data roots (`path`), or a
/// registered object storage's bucket under a key prefix (`storage_id`, `prefix`). Exactly one of
/// `path` and `storage_id`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
#[serde(deny_unknown_fields)]
pub struct RepositoryBody {
    /// A directory relative to a data root, or absolute inside one; created when missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1024))]
    pub path: Option<String>,
    /// A registered object storage (`/api/v1/storage`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_id: Option<Uuid>,
    /// The key prefix inside the storage's bucket; `snapshots` by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 512))]
    pub prefix: Option<String>,
}

impl RepositoryBody {
    /// The repository, or the violations naming `field`'s parts.
    pub(crate) fn into_vault(self, field: &str, violations: &mut Vec<Violation>) -> Option<SnapshotVault> {
        match (self.path, self.storage_id, self.prefix) {
            (Some(path), None, None) => {
                if path.trim().is_empty() {
                    violations.push(Violation::new(format!("{field}.path"), "must not be empty"));
                    return None;
                }
                Some(SnapshotVault::Directory { path })
            }
            (None, Some(storage_id), prefix) => {
                let prefix = prefix.unwrap_or_default();
                if prefix.split('/').any(|segment| segment == "..") || prefix.chars().any(char::is_control) {
                    violations
                        .push(Violation::new(format!("{field}.prefix"), "must not hold `..` or control characters"));
                    return None;
                }
                Some(SnapshotVault::Storage { storage_id: StorageId::from(storage_id), prefix })
            }
            (Some(_), None, Some(_)) => {
                violations
                    .push(Violation::new(format!("{field}.prefix"), "a prefix goes with a storage_id, not a path"));
                None
            }
            (Some(_), Some(_), _) => {
                violations.push(Violation::new(field, "give either path or storage_id, not both"));
                None
            }
            (None, None, _) => {
                violations.push(Violation::new(field, "give a path (a directory) or a storage_id"));
                None
            }
        }
    }
}

impl From<&SnapshotVault> for RepositoryBody {
    fn from(vault: &SnapshotVault) -> Self {
        match vault {
            SnapshotVault::Directory { path } => Self { path: Some(path.clone()), storage_id: None, prefix: None },
            SnapshotVault::Storage { storage_id, prefix } => {
                Self { path: None, storage_id: Some(storage_id.as_uuid()), prefix: Some(prefix.clone()) }
            }
        }
    }
}

/// A snapshot to take.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
#[serde(deny_unknown_fields)]
#[schemars(example = "SnapshotRequest::example")]
pub struct SnapshotRequest {
    /// The connection whose engine holds the collection.
    pub connection_id: Uuid,
    /// The collection. qbench's own (`qbench-…`, e.g. a run's kept collection) for anyone with
    /// the editor role; any other only for an admin (403).
    #[schemars(regex(pattern = r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$"))]
    pub collection: String,
    /// Where the archive goes.
    pub repository: RepositoryBody,
}

impl SnapshotRequest {
    fn example() -> Self {
        Self {
            connection_id: Uuid::nil(),
            collection: "qbench-0193c2de-7c1a-7f00-8000-000000000000".to_owned(),
            repository: RepositoryBody { path: Some("snapshots".to_owned()), storage_id: None, prefix: None },
        }
    }
}

impl TryFrom<SnapshotRequest> for SnapshotSpec {
    type Error = Vec<Violation>;

    fn try_from(request: SnapshotRequest) -> Result<Self, Self::Error> {
        let mut violations = Vec::new();
        check_collection("collection", &request.collection, &mut violations);
        let vault = request.repository.into_vault("repository", &mut violations);
        match vault {
            Some(vault) if violations.is_empty() => Ok(Self {
                connection_id: ConnectionId::from(request.connection_id),
                collection: request.collection,
                vault,
            }),
            _ => Err(violations),
        }
    }
}

/// A collection name both engines accept: 1 to 255 ASCII letters, digits, `-`, `_` or `.`, not
/// starting with `.` (the schemas' pattern).
pub(crate) fn check_collection(field: &str, collection: &str, violations: &mut Vec<Violation>) {
    let valid = !collection.is_empty()
        && collection.len() <= 255
        && !collection.starts_with('.')
        && collection.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !valid {
        violations.push(Violation::new(
            field,
            "a collection name is 1 to 255 ASCII letters, digits, `-`, `_` or `.`, not starting with `.`",
        ));
    }
}

/// Where a snapshot is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ApiComponent)]
#[serde(rename_all = "UPPERCASE")]
pub enum SnapshotStatusBody {
    /// Its job is archiving the collection.
    Creating,
    /// Archived: size and checksum known, restorable.
    Ready,
    /// Archiving failed or was cancelled; `error` says why.
    Failed,
}

impl From<SnapshotStatus> for SnapshotStatusBody {
    fn from(status: SnapshotStatus) -> Self {
        match status {
            SnapshotStatus::Creating => Self::Creating,
            SnapshotStatus::Ready => Self::Ready,
            SnapshotStatus::Failed => Self::Failed,
        }
    }
}

impl From<SnapshotStatusBody> for SnapshotStatus {
    fn from(status: SnapshotStatusBody) -> Self {
        match status {
            SnapshotStatusBody::Creating => Self::Creating,
            SnapshotStatusBody::Ready => Self::Ready,
            SnapshotStatusBody::Failed => Self::Failed,
        }
    }
}

/// A snapshot.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
pub struct SnapshotResponse {
    /// Identifier.
    pub id: Uuid,
    /// Who asked for it.
    pub owner: String,
    /// The connection whose collection it holds.
    pub connection_id: Uuid,
    /// The collection.
    pub collection: String,
    /// The run whose kept collection it is: that run's settings built the index it holds.
    pub built_by_run_id: Option<Uuid>,
    /// Where its archive is.
    pub repository: RepositoryBody,
    /// Where it is in its life.
    pub status: SnapshotStatusBody,
    /// The job archiving it (`/api/v1/jobs/{job_id}`: progress in bytes).
    pub job_id: Uuid,
    /// The archive's name inside the repository, once `READY`.
    pub object: Option<String>,
    /// The archive's size in bytes.
    pub bytes: Option<u64>,
    /// The archive's SHA-256 (hex), computed while it was stored and verified before every
    /// restore.
    pub sha256: Option<String>,
    /// The points the collection held.
    pub points: Option<u64>,
    /// The collection's configuration as its engine reported it (Qdrant's own JSON).
    pub collection_config: Option<serde_json::Value>,
    /// Why it failed.
    pub error: Option<String>,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// The job doing the work (id, kind, status, progress, links), on the `202` that queued it:
    /// every asynchronous operation answers its task the same way (`/api/v1/jobs/{id}` follows it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<JobResponse>,
}

impl From<&Snapshot> for SnapshotResponse {
    fn from(snapshot: &Snapshot) -> Self {
        let archive = snapshot.archive.as_ref();
        Self {
            id: snapshot.id.as_uuid(),
            owner: snapshot.owner.clone(),
            connection_id: snapshot.spec.connection_id.as_uuid(),
            collection: snapshot.spec.collection.clone(),
            built_by_run_id: snapshot.built_by.map(|run| run.as_uuid()),
            repository: RepositoryBody::from(&snapshot.spec.vault),
            status: snapshot.status.into(),
            job_id: snapshot.job_id.as_uuid(),
            object: archive.map(|archive| archive.object.clone()),
            bytes: archive.map(|archive| archive.bytes),
            sha256: archive.map(|archive| archive.sha256.clone()),
            points: archive.map(|archive| archive.points),
            collection_config: archive.map(|archive| archive.collection_config.clone()),
            error: snapshot.error.clone(),
            created_at: snapshot.created_at,
            updated_at: snapshot.updated_at,
            task: None,
        }
    }
}

/// Where to restore a snapshot.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
#[serde(deny_unknown_fields)]
#[schemars(example = "RestoreRequest::example")]
pub struct RestoreRequest {
    /// The connection whose engine receives the collection.
    pub connection_id: Uuid,
    /// The collection it becomes. qbench's own (`qbench-…`) for anyone with the editor role; any
    /// other only for an admin (403).
    #[schemars(regex(pattern = r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$"))]
    pub collection: String,
    /// Replace the collection if it exists (409 otherwise). The old one is replaced only once
    /// the archive's checksum is verified and the new one is restored beside it.
    #[serde(default)]
    pub overwrite: bool,
}

impl RestoreRequest {
    fn example() -> Self {
        Self { connection_id: Uuid::nil(), collection: "qbench-restored".to_owned(), overwrite: false }
    }
}

impl TryFrom<RestoreRequest> for RestoreSpec {
    type Error = Vec<Violation>;

    fn try_from(request: RestoreRequest) -> Result<Self, Self::Error> {
        let mut violations = Vec::new();
        check_collection("collection", &request.collection, &mut violations);
        if !violations.is_empty() {
            return Err(violations);
        }
        Ok(Self {
            connection_id: ConnectionId::from(request.connection_id),
            collection: request.collection,
            overwrite: request.overwrite,
        })
    }
}
