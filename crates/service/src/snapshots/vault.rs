//! A snapshot repository as the storage port addresses it.

use qbench_domain::{LocalAccess, SnapshotVault, SourceUri, Violation};
use qbench_repository::{RepositoryError, StorageRepository};
use qbench_storage::DatasetSource;

use crate::ServiceError;
use crate::sources::storage_credentials;

/// `vault` of a snapshot owned by `owner`, resolved: a directory as a local source (in the owner's
/// area of the data roots when users do not share local files), a storage as `s3://bucket/prefix`
/// with its credentials. Errors are violations naming `repository.path` or
/// `repository.storage_id`.
pub(crate) async fn resolve(
    storages: &dyn StorageRepository,
    access: LocalAccess,
    owner: &str,
    vault: &SnapshotVault,
) -> Result<DatasetSource, ServiceError> {
    resolve_as(storages, access, owner, vault, "repository").await
}

/// [`resolve`], its violations naming the parts of `field`.
async fn resolve_as(
    storages: &dyn StorageRepository,
    access: LocalAccess,
    owner: &str,
    vault: &SnapshotVault,
    field: &str,
) -> Result<DatasetSource, ServiceError> {
    match vault {
        SnapshotVault::Directory { path } => {
            let uri = if path.starts_with('/') { format!("file://{path}") } else { path.clone() };
            let uri: SourceUri = uri.parse().map_err(|error: qbench_domain::DomainError| {
                invalid(&format!("{field}.path"), error.to_string().replace("source_uri: ", ""))
            })?;
            if !matches!(uri.scheme(), None | Some("file")) {
                return Err(invalid(
                    &format!("{field}.path"),
                    format!("`{path}` is not a directory; name a storage with `storage_id` for an S3 bucket"),
                ));
            }
            Ok(DatasetSource { uri, s3: None, local_area: access.area_of(owner) })
        }
        SnapshotVault::Storage { storage_id, prefix } => {
            let storage = match storages.get(*storage_id).await {
                Ok(storage) => storage,
                Err(RepositoryError::NotFound { .. }) => {
                    return Err(invalid(
                        &format!("{field}.storage_id"),
                        format!("storage {storage_id} does not exist"),
                    ));
                }
                Err(other) => return Err(other.into()),
            };
            let prefix = prefix.trim_matches('/');
            let prefix = if prefix.is_empty() { DEFAULT_PREFIX } else { prefix };
            let uri = format!("s3://{}/{prefix}", storage.spec.bucket);
            let uri: SourceUri = uri
                .parse()
                .map_err(|error: qbench_domain::DomainError| invalid(&format!("{field}.prefix"), error.to_string()))?;
            Ok(DatasetSource { uri, s3: Some(storage_credentials(&storage)), local_area: None })
        }
    }
}

/// The key prefix of a storage repository that names none.
pub(crate) const DEFAULT_PREFIX: &str = "snapshots";

pub(crate) fn invalid(field: &str, message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid(vec![Violation::new(field, message)])
}

/// `vault` resolved and checked able to hold archives by `archives`, every fault a violation of
/// `field` (`repository`, `keep_snapshots`) and its parts.
pub(crate) async fn check(
    storages: &dyn StorageRepository,
    archives: &dyn qbench_storage::ArchiveStore,
    access: LocalAccess,
    owner: &str,
    vault: &SnapshotVault,
    field: &str,
) -> Result<DatasetSource, ServiceError> {
    let repository = resolve_as(storages, access, owner, vault, field).await?;
    let part = match vault {
        SnapshotVault::Directory { .. } => "path",
        SnapshotVault::Storage { .. } => "storage_id",
    };
    archives.check_repository(&repository).await.map_err(|error| match error {
        qbench_storage::StorageError::Refused { .. }
        | qbench_storage::StorageError::NotFound { .. }
        | qbench_storage::StorageError::Format { .. } => invalid(&format!("{field}.{part}"), error.to_string()),
        qbench_storage::StorageError::Unreachable { .. } => ServiceError::Unavailable(error.to_string()),
        qbench_storage::StorageError::Internal(_) => ServiceError::Internal(error.to_string()),
    })?;
    Ok(repository)
}
