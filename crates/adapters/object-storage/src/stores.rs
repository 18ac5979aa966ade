//! Building `object_store` clients for S3, HTTP and the local file system.

use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::http::HttpBuilder;
use object_store::local::LocalFileSystem;
use object_store::signer::Signer;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, RetryConfig};
use qbench_domain::StorageSpec;
use qbench_storage::{S3Credentials, StorageError};
use secrecy::ExposeSecret;

use crate::http_source::HttpSourceClient;

/// How long establishing a connection may take.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one request, body included, may take: a row group of a wide dataset is large.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
/// Retries of a failed request (connection errors, 5xx, throttling), with exponential backoff.
const MAX_RETRIES: usize = 3;
/// Upper bound for one request including its retries.
const RETRY_TIMEOUT: Duration = Duration::from_secs(60);

/// An S3 client for `bucket`: path-style requests against `endpoint_url` when one is given
/// (MinIO-like servers), plain HTTP allowed only for an `http://` endpoint, `us-east-1` unless a
/// region is given. Without keys requests are unsigned (public buckets); `object_store` never
/// falls back to the environment or instance metadata.
pub(crate) fn s3(
    bucket: &str,
    credentials: Option<&S3Credentials>,
    location: &str,
) -> Result<Arc<dyn ObjectStore>, StorageError> {
    Ok(s3_client(bucket, credentials, location)?)
}

/// A signer of URLs to `bucket` with `credentials`; `None` without keys (nothing to sign with).
pub(crate) fn s3_signer(
    bucket: &str,
    credentials: &S3Credentials,
    location: &str,
) -> Result<Option<Arc<dyn Signer>>, StorageError> {
    if credentials.access_key.is_none() {
        return Ok(None);
    }
    let signer: Arc<dyn Signer> = s3_client(bucket, Some(credentials), location)?;
    Ok(Some(signer))
}

/// The S3 client of [`s3`].
fn s3_client(bucket: &str, credentials: Option<&S3Credentials>, location: &str) -> Result<Arc<AmazonS3>, StorageError> {
    let endpoint = credentials.and_then(|c| c.endpoint_url.as_deref()).map(str::trim).filter(|e| !e.is_empty());
    let region =
        credentials.map(|c| c.region.trim()).filter(|region| !region.is_empty()).unwrap_or(StorageSpec::DEFAULT_REGION);
    let allow_http = endpoint.is_some_and(|endpoint| endpoint.starts_with("http://"));
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_region(region)
        .with_client_options(client_options(allow_http))
        .with_retry(retry());
    if let Some(endpoint) = endpoint {
        builder = builder.with_endpoint(endpoint).with_virtual_hosted_style_request(false);
    }
    let keys = credentials.map(|c| (c.access_key.as_ref(), c.secret_key.as_ref()));
    builder = match keys {
        Some((Some(access_key), Some(secret_key))) => {
            builder.with_access_key_id(access_key.expose_secret()).with_secret_access_key(secret_key.expose_secret())
        }
        Some((None, None)) | None => builder.with_skip_signature(true),
        Some((Some(_), None) | (None, Some(_))) => {
            return Err(StorageError::Refused {
                location: location.to_owned(),
                reason: "the storage has only one of access key and secret key; give both or neither".to_owned(),
            });
        }
    };
    let store = builder.build().map_err(|error| StorageError::Refused {
        location: location.to_owned(),
        reason: format!("invalid S3 configuration: {error}"),
    })?;
    Ok(Arc::new(store))
}

/// A read-only HTTP client for the server at `origin` (`scheme://host[:port]`), reaching only
/// what `client`'s egress policy allows.
pub(crate) fn http(
    origin: &str,
    location: &str,
    client: &HttpSourceClient,
) -> Result<Arc<dyn ObjectStore>, StorageError> {
    let allow_http = origin.starts_with("http://");
    let store = HttpBuilder::new()
        .with_url(origin)
        .with_client_options(client_options(allow_http))
        .with_http_connector(HttpSourceClient { https_only: !allow_http, ..client.clone() })
        .with_retry(retry())
        .build()
        .map_err(|error| StorageError::Refused {
            location: location.to_owned(),
            reason: format!("invalid HTTP location: {error}"),
        })?;
    Ok(Arc::new(store))
}

/// The local file system; paths are absolute, checked against the data roots beforehand.
pub(crate) fn local() -> Arc<dyn ObjectStore> {
    Arc::new(LocalFileSystem::new())
}

/// Timeouts shared by every S3 store: connecting, staying silent mid-answer (a server that
/// accepts and never answers fails the read instead of holding a run), and a whole request.
fn client_options(allow_http: bool) -> ClientOptions {
    ClientOptions::new()
        .with_allow_http(allow_http)
        .with_connect_timeout(CONNECT_TIMEOUT)
        .with_read_timeout(crate::config::DEFAULT_HTTP_IDLE_TIMEOUT)
        .with_timeout(REQUEST_TIMEOUT)
}

/// Few, quick retries: a benchmark would rather report an unreachable store than wait minutes.
fn retry() -> RetryConfig {
    RetryConfig { backoff: BackoffConfig::default(), max_retries: MAX_RETRIES, retry_timeout: RETRY_TIMEOUT }
}
