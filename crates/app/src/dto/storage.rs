//! Object storages on the wire.

use apistos::ApiComponent;
use chrono::{DateTime, Utc};
use qbench_domain::{ObjectStorage, Secret, StorageSpec, StorageSummary, Violation};
use schemars::JsonSchema;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::dto::bounds;

/// An S3-compatible storage to register (also the shape a PATCH merges into).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
#[serde(deny_unknown_fields)]
#[schemars(example = "StorageRequest::example")]
pub struct StorageRequest {
    /// Optional name, unique when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = "bounds::NAME_LENGTH"))]
    pub name: Option<String>,
    /// Bucket: 3 to 63 lowercase letters, digits, dots or hyphens, starting and ending with a letter
    /// or digit, no `..`.
    #[schemars(length(min = 3, max = 63), regex = "bounds::BUCKET_PATTERN")]
    pub bucket: String,
    /// Region (lowercase letters, digits and hyphens); default `us-east-1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = "bounds::REGION_LENGTH"), regex = "bounds::REGION_PATTERN")]
    pub region: Option<String>,
    /// Endpoint of an S3-compatible server (MinIO); omit for AWS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = "bounds::URL_LENGTH"))]
    pub endpoint_url: Option<String>,
    /// Access key id (with `secret_key`); stored encrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = "bounds::SECRET_LENGTH"))]
    pub access_key: Option<String>,
    /// Secret access key (with `access_key`); stored encrypted, never shown again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = "bounds::SECRET_LENGTH"))]
    pub secret_key: Option<String>,
}

impl StorageRequest {
    fn example() -> Self {
        Self {
            name: Some("minio".to_owned()),
            bucket: "datasets".to_owned(),
            region: Some("us-east-1".to_owned()),
            endpoint_url: Some("http://localhost:9000".to_owned()),
            access_key: Some("minioadmin".to_owned()),
            secret_key: Some("minioadmin".to_owned()),
        }
    }

    /// The write form of a stored storage, for merging a PATCH (never sent to clients).
    pub fn from_domain(storage: &ObjectStorage) -> Self {
        let expose = |secret: &Option<Secret>| secret.as_ref().map(|s| s.expose_secret().to_owned());
        Self {
            name: storage.spec.name.clone(),
            bucket: storage.spec.bucket.clone(),
            region: Some(storage.spec.region.clone()),
            endpoint_url: storage.spec.endpoint_url.clone(),
            access_key: expose(&storage.spec.access_key),
            secret_key: expose(&storage.spec.secret_key),
        }
    }
}

impl TryFrom<StorageRequest> for StorageSpec {
    type Error = Vec<Violation>;

    fn try_from(request: StorageRequest) -> Result<Self, Self::Error> {
        Ok(Self {
            name: request.name,
            bucket: request.bucket,
            region: request.region.unwrap_or_else(|| StorageSpec::DEFAULT_REGION.to_owned()),
            endpoint_url: request.endpoint_url,
            access_key: request.access_key.map(Secret::from),
            secret_key: request.secret_key.map(Secret::from),
        })
    }
}

/// A registered storage; keys are masked.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
#[schemars(example = "StorageResponse::example")]
pub struct StorageResponse {
    /// Identifier.
    pub id: Uuid,
    /// Name, if given.
    pub name: Option<String>,
    /// Bucket.
    pub bucket: String,
    /// Region.
    pub region: String,
    /// Endpoint, if not AWS.
    pub endpoint_url: Option<String>,
    /// Access key, masked.
    pub access_key: Option<String>,
    /// Secret key, masked.
    pub secret_key: Option<String>,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl StorageResponse {
    fn example() -> Self {
        Self {
            id: Uuid::nil(),
            name: Some("minio".to_owned()),
            bucket: "datasets".to_owned(),
            region: "us-east-1".to_owned(),
            endpoint_url: Some("http://localhost:9000".to_owned()),
            access_key: Some("****in".to_owned()),
            secret_key: Some("****in".to_owned()),
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }
}

impl From<StorageSummary> for StorageResponse {
    fn from(storage: StorageSummary) -> Self {
        Self {
            id: storage.id.as_uuid(),
            name: storage.name,
            bucket: storage.bucket,
            region: storage.region,
            endpoint_url: storage.endpoint_url,
            access_key: storage.access_key,
            secret_key: storage.secret_key,
            created_at: storage.created_at,
            updated_at: storage.updated_at,
        }
    }
}

impl From<&ObjectStorage> for StorageResponse {
    fn from(storage: &ObjectStorage) -> Self {
        StorageSummary::from(storage).into()
    }
}
