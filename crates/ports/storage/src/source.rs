//! Where a dataset is and how to reach it.

use qbench_domain::{Secret, SourceUri};

/// Credentials and endpoint of an S3-compatible store.
#[derive(Debug, Clone)]
pub struct S3Credentials {
    /// Endpoint of an S3-compatible server (MinIO, SeaweedFS), reached with path-style requests;
    /// `None` means AWS.
    pub endpoint_url: Option<String>,
    /// Region.
    pub region: String,
    /// Access key id.
    pub access_key: Option<Secret>,
    /// Secret access key.
    pub secret_key: Option<Secret>,
}

/// A dataset's location, resolved by the service (which storage's credentials apply).
#[derive(Debug, Clone)]
pub struct DatasetSource {
    /// The URI as registered.
    pub uri: SourceUri,
    /// Credentials for an `s3://` URI.
    pub s3: Option<S3Credentials>,
    /// For a local URI, the directory inside each data root that it is confined to (its owner's
    /// area, when users do not share local files): relative paths resolve inside it and nothing
    /// outside it is read. `None` means the whole roots.
    pub local_area: Option<String>,
}
