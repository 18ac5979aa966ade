//! Object storage: S3-compatible buckets that hold datasets.

use chrono::{DateTime, Utc};

use crate::{Secret, StorageId};

/// What a user says about an object storage.
#[derive(Clone, Debug)]
pub struct StorageSpec {
    /// Optional name, unique when given.
    pub name: Option<String>,
    /// Bucket name.
    pub bucket: String,
    /// Region; `us-east-1` unless said otherwise (MinIO ignores it).
    pub region: String,
    /// Endpoint of an S3-compatible server (MinIO, SeaweedFS); `None` means AWS.
    pub endpoint_url: Option<String>,
    /// Access key id.
    pub access_key: Option<Secret>,
    /// Secret access key.
    pub secret_key: Option<Secret>,
}

impl StorageSpec {
    /// The region used when none is given.
    pub const DEFAULT_REGION: &'static str = "us-east-1";
}

/// Whether `bucket` follows S3's naming rules: 3 to 63 lowercase letters, digits, dots or hyphens,
/// starting and ending with a letter or digit, with no `..` (which would reach the endpoint's root).
pub fn is_bucket_name(bucket: &str) -> bool {
    let valid_chars = bucket.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    let valid_ends = bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
    (3..=63).contains(&bucket.len()) && valid_chars && valid_ends && !bucket.contains("..")
}

/// A registered object storage.
#[derive(Clone, Debug)]
pub struct ObjectStorage {
    /// Identifier.
    pub id: StorageId,
    /// The user's description of it.
    pub spec: StorageSpec,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl ObjectStorage {
    /// A new storage, registered at `now`.
    pub fn new(spec: StorageSpec, now: DateTime<Utc>) -> Self {
        Self { id: StorageId::new(), spec, created_at: now, updated_at: now }
    }
}
