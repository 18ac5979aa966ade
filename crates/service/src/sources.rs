//! Where a dataset is read from, with which credentials.

use qbench_domain::{Dataset, LocalAccess, ObjectStorage, SourceUri, Violation};
use qbench_repository::{Page, RepositoryError, StorageRepository};
use qbench_storage::{DatasetSource, S3Credentials, StorageError};

use crate::ServiceError;

/// The dataset's source: for `s3://`, the credentials of its own storage, else of the storage
/// whose bucket matches, else `default_s3` (the `MINIO_*` settings); for a local path, the area
/// of the data roots its owner may read under `access`.
pub(crate) async fn dataset_source(
    storages: &dyn StorageRepository,
    default_s3: Option<&S3Credentials>,
    access: LocalAccess,
    dataset: &Dataset,
) -> Result<DatasetSource, RepositoryError> {
    let uri = dataset.spec.source_uri.clone();
    let Some(rest) = uri.as_str().strip_prefix("s3://") else {
        let local_area = match uri.scheme() {
            Some("file") | None => access.area_of(&dataset.owner),
            Some(_) => None,
        };
        return Ok(DatasetSource { uri, s3: None, local_area });
    };
    let bucket = rest.split('/').next().unwrap_or_default();
    let storage = match dataset.spec.storage_id {
        Some(id) => Some(storages.get(id).await?),
        None => {
            let all = storages.list(Page { limit: Page::MAX_LIMIT, offset: 0 }).await?;
            all.items.into_iter().find(|storage| storage.spec.bucket == bucket)
        }
    };
    let s3 = storage.as_ref().map(storage_credentials).or_else(|| default_s3.cloned());
    Ok(DatasetSource { uri, s3, local_area: None })
}

pub(crate) fn storage_credentials(storage: &ObjectStorage) -> S3Credentials {
    S3Credentials {
        endpoint_url: storage.spec.endpoint_url.clone(),
        region: storage.spec.region.clone(),
        access_key: storage.spec.access_key.clone(),
        secret_key: storage.spec.secret_key.clone(),
    }
}

/// A storage error met while reading a dataset, as the dataset's fault (422 naming the field),
/// a dependency being down (503) or an internal failure.
/// [`storage_error`] for the dataset at `uri`: a relative path that is not found also says where
/// relative paths are read from, since a shell user expects their working directory.
pub(crate) fn source_error(uri: &SourceUri, error: StorageError) -> ServiceError {
    let relative = uri.scheme().is_none() && !uri.as_str().starts_with('/');
    if relative && let StorageError::NotFound { .. } = &error {
        let message = format!(
            "{error} in the server's data roots (a relative source_uri is read from there, not from the client's \
             working directory: give it relative to a data root, or an absolute path under one)"
        );
        return ServiceError::Invalid(vec![Violation::new("source_uri", message)]);
    }
    storage_error(error)
}

pub(crate) fn storage_error(error: StorageError) -> ServiceError {
    match error {
        StorageError::NotFound { .. } | StorageError::Refused { .. } => {
            ServiceError::Invalid(vec![Violation::new("source_uri", error.to_string())])
        }
        StorageError::Format { .. } => ServiceError::Invalid(vec![Violation::new("schema_config", error.to_string())]),
        StorageError::Unreachable { .. } => ServiceError::Unavailable(error.to_string()),
        StorageError::Internal(_) => ServiceError::Internal(error.to_string()),
    }
}
