//! Parsing a source URI into a store, a way to name its objects, and what the URI points at.

use std::fmt;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use object_store::ObjectStore;
use object_store::path::Path;
use qbench_storage::{DatasetSource, S3Credentials, StorageError};

use crate::glob;
use crate::http_source::HttpSourceClient;
use crate::roots::DataRoots;
use crate::stores;

/// A parsed source: the store, how its objects are named in messages, and the target.
#[derive(Clone)]
pub(crate) struct Location {
    /// The client.
    pub(crate) store: Arc<dyn ObjectStore>,
    /// Where the store is, to turn object paths back into URIs.
    pub(crate) kind: StoreKind,
    /// What the URI names.
    pub(crate) target: Target,
    /// The URI as given (without credentials), for messages.
    pub(crate) uri: String,
}

impl fmt::Debug for Location {
    /// Leaves the store out: its configuration holds the access key id.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Location")
            .field("kind", &self.kind)
            .field("target", &self.target)
            .field("uri", &self.uri)
            .finish_non_exhaustive()
    }
}

/// Which kind of store a location is in.
#[derive(Debug, Clone)]
pub(crate) enum StoreKind {
    /// An S3 bucket.
    S3 {
        /// The bucket.
        bucket: String,
    },
    /// An HTTP(S) server.
    Http {
        /// `scheme://host[:port]`.
        origin: String,
    },
    /// The local file system, confined to the data roots.
    Local(DataRoots),
}

impl StoreKind {
    /// The URI of an object of this store.
    pub(crate) fn uri(&self, path: &Path) -> String {
        match self {
            Self::S3 { bucket } => format!("s3://{bucket}/{path}"),
            Self::Http { origin } => format!("{origin}/{path}"),
            Self::Local(_) => format!("file:///{path}"),
        }
    }

    /// How an object of this store is named to users: its URI, but a local file by its path
    /// relative to the data root it lies in, so that no server path reaches a message or an
    /// inspection.
    pub(crate) fn shown(&self, path: &Path) -> String {
        match self {
            Self::S3 { .. } | Self::Http { .. } => self.uri(path),
            Self::Local(roots) => roots.shown(FsPath::new(&format!("/{path}"))),
        }
    }
}

/// What a URI names.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// One object (a `.parquet` key, a local file).
    File(Path),
    /// A directory or key prefix; `explicit` when the URI ended with `/` or names a local
    /// directory, so it must hold the directory layout.
    Prefix {
        /// The prefix (no trailing slash).
        path: Path,
        /// Whether the URI said "directory".
        explicit: bool,
    },
    /// The files of `parent` whose names match `pattern`.
    Glob {
        /// The directory or prefix listed.
        parent: Path,
        /// The last segment of the URI, with `*`.
        pattern: String,
    },
}

/// Parses a dataset source for reading.
///
/// Errors: `Refused` for an unsupported scheme, credentials inside an HTTP URL, a host the
/// egress policy refuses (an IP literal; names are checked when they are resolved), a pattern
/// outside the last segment, or a local path outside the data roots; `NotFound` for a local path
/// that does not exist.
pub(crate) async fn for_reading(
    source: &DatasetSource,
    roots: &DataRoots,
    http: &HttpSourceClient,
) -> Result<Location, StorageError> {
    let uri = source.uri.as_str();
    let roots = &area_roots(source, roots);
    match source.uri.scheme() {
        Some("s3") => {
            let (bucket, key) = split_s3(uri)?;
            let store = stores::s3(bucket, source.s3.as_ref(), uri)?;
            let target = remote_target(uri, key, false)?;
            Ok(Location { store, kind: StoreKind::S3 { bucket: bucket.to_owned() }, target, uri: uri.to_owned() })
        }
        Some("http" | "https") => {
            let url = parse_http(uri)?;
            // Refused hosts fail here, before a client exists; names are checked again, with
            // their addresses, when a connection is made.
            http.policy
                .check_url(&url)
                .map_err(|refused| StorageError::Refused { location: uri.to_owned(), reason: refused.to_string() })?;
            let origin = url.origin().ascii_serialization();
            let store = stores::http(&origin, uri, http)?;
            let target = remote_target(uri, url.path().trim_start_matches('/'), true)?;
            Ok(Location { store, kind: StoreKind::Http { origin }, target, uri: uri.to_owned() })
        }
        Some("file") | None => {
            let path = local_path(uri)?;
            let roots = roots.clone();
            let uri = uri.to_owned();
            blocking(move || local_target(&uri, &path, roots)).await?
        }
        Some(scheme) => Err(StorageError::Refused {
            location: uri.to_owned(),
            reason: format!("unsupported scheme `{scheme}`; use s3://, https://, http://, file:// or a relative path"),
        }),
    }
}

/// Parses a target directory or prefix for writing a dataset: `s3://bucket/prefix/` or a local
/// directory under a data root (created on write). HTTP is read-only.
pub(crate) async fn for_writing(target: &DatasetSource, roots: &DataRoots) -> Result<Location, StorageError> {
    let uri = target.uri.as_str();
    let roots = &area_roots(target, roots);
    let not_a_directory = || StorageError::Refused {
        location: uri.to_owned(),
        reason: "a dataset is written to a directory or prefix, not to a file or pattern".to_owned(),
    };
    match target.uri.scheme() {
        Some("s3") => {
            let (bucket, key) = split_s3(uri)?;
            let store = stores::s3(bucket, target.s3.as_ref(), uri)?;
            let path = match remote_target(uri, key, false)? {
                Target::Prefix { path, .. } => path,
                Target::File(_) | Target::Glob { .. } => return Err(not_a_directory()),
            };
            Ok(Location {
                store,
                kind: StoreKind::S3 { bucket: bucket.to_owned() },
                target: Target::Prefix { path, explicit: true },
                uri: uri.to_owned(),
            })
        }
        Some("file") | None => {
            let given = local_path(uri)?;
            if given.file_name().and_then(|name| name.to_str()).is_some_and(glob::is_pattern) {
                return Err(not_a_directory());
            }
            let roots_for_check = roots.clone();
            let uri_owned = uri.to_owned();
            blocking(move || {
                let resolved = roots_for_check.confine(&given)?;
                if resolved.is_file() {
                    return Err(StorageError::Refused {
                        location: uri_owned,
                        reason: "a dataset is written to a directory, and this is a file".to_owned(),
                    });
                }
                Ok(Location {
                    store: stores::local(),
                    kind: StoreKind::Local(roots_for_check),
                    target: Target::Prefix { path: object_path(&given, &resolved)?, explicit: true },
                    uri: uri_owned,
                })
            })
            .await?
        }
        Some(_) => Err(StorageError::Refused {
            location: redact(uri),
            reason: "datasets can be written to s3:// or local directories only".to_owned(),
        }),
    }
}

/// Parses an `s3://bucket/prefix` to write under (the results location, an archive repository).
pub(crate) fn s3_prefix(uri: &str, credentials: Option<&S3Credentials>) -> Result<Location, StorageError> {
    let (bucket, key) = split_s3(uri)?;
    let store = stores::s3(bucket, credentials, uri)?;
    let path = parse_key(uri, key.trim_end_matches('/'), false)?;
    Ok(Location {
        store,
        kind: StoreKind::S3 { bucket: bucket.to_owned() },
        target: Target::Prefix { path, explicit: true },
        uri: uri.to_owned(),
    })
}

/// The roots a source may read or write under: its owner's area of each root, or all of them.
pub(crate) fn area_roots(source: &DatasetSource, roots: &DataRoots) -> DataRoots {
    match &source.local_area {
        Some(area) => roots.within(area),
        None => roots.clone(),
    }
}

/// Runs blocking file-system work off the async threads.
pub(crate) async fn blocking<T, F>(work: F) -> Result<T, StorageError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| StorageError::Internal(format!("file-system task failed: {error}")))
}

/// The object path of a resolved local path; `given` is for messages.
pub(crate) fn object_path(given: &FsPath, resolved: &FsPath) -> Result<Path, StorageError> {
    Path::from_absolute_path(resolved).map_err(|error| StorageError::Refused {
        location: given.display().to_string(),
        reason: format!("not a usable file name: {error}"),
    })
}

/// Whether `name` can name one object inside a folder or prefix: not empty, not `.` or `..`, and
/// without a `/`, a `\` or a control character, so that it can never reach outside it.
pub(crate) fn is_plain_segment(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.chars().any(|c| c == '/' || c == '\\' || c.is_control())
}

/// Splits `s3://bucket/key` (the domain guarantees both parts are there).
pub(crate) fn split_s3(uri: &str) -> Result<(&str, &str), StorageError> {
    uri.strip_prefix("s3://").and_then(|rest| rest.split_once('/')).filter(|(bucket, _)| !bucket.is_empty()).ok_or_else(
        || StorageError::Refused { location: uri.to_owned(), reason: "expected s3://bucket/key".to_owned() },
    )
}

/// Reads a key, or a percent-encoded URL path when `url_encoded`, as a file, prefix or glob.
fn remote_target(uri: &str, key: &str, url_encoded: bool) -> Result<Target, StorageError> {
    let explicit = key.ends_with('/') || key.is_empty();
    let key = key.trim_end_matches('/');
    let (parent, last) = key.rsplit_once('/').unwrap_or(("", key));
    if glob::is_pattern(parent) {
        return Err(StorageError::Refused {
            location: uri.to_owned(),
            reason: "only the last segment of a URI may hold a `*` pattern".to_owned(),
        });
    }
    if glob::is_pattern(last) && !explicit {
        let pattern = if url_encoded { decode(last) } else { last.to_owned() };
        return Ok(Target::Glob { parent: parse_key(uri, parent, url_encoded)?, pattern });
    }
    let path = parse_key(uri, key, url_encoded)?;
    if !explicit && last.to_ascii_lowercase().ends_with(".parquet") {
        return Ok(Target::File(path));
    }
    Ok(Target::Prefix { path, explicit })
}

/// An object path from a key, or from a percent-encoded URL path when `url_encoded`.
fn parse_key(uri: &str, key: &str, url_encoded: bool) -> Result<Path, StorageError> {
    let parsed = if url_encoded { Path::from_url_path(key) } else { Path::parse(key) };
    parsed.map_err(|error| StorageError::Refused {
        location: uri.to_owned(),
        reason: format!("not a valid object key: {error}"),
    })
}

/// Percent-decodes one URL segment (a glob pattern), keeping it as is when it is not UTF-8.
fn decode(segment: &str) -> String {
    Path::from_url_path(segment).map(|path| path.to_string()).unwrap_or_else(|_| segment.to_owned())
}

/// Parses an HTTP(S) URL, refusing credentials, queries and fragments (they cannot be kept
/// across the range requests the reader makes, and credentials would end up in messages).
fn parse_http(uri: &str) -> Result<url::Url, StorageError> {
    let url = url::Url::parse(uri).map_err(|error| StorageError::Refused {
        location: redact(uri),
        reason: format!("not a valid URL: {error}"),
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(StorageError::Refused {
            location: redact(uri),
            reason: "credentials inside a URL are not supported".to_owned(),
        });
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(StorageError::Refused {
            location: uri.to_owned(),
            reason: "URLs with a query or fragment are not supported".to_owned(),
        });
    }
    Ok(url)
}

/// A URI with any `user:password@` removed, for messages and logs.
pub(crate) fn redact(uri: &str) -> String {
    match url::Url::parse(uri) {
        Ok(mut url) if !url.username().is_empty() || url.password().is_some() => {
            // Both setters only fail for URLs that cannot have credentials at all.
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.to_string()
        }
        Ok(_) | Err(_) => uri.to_owned(),
    }
}

/// The file-system path of a `file://` URI or relative path: `file:///abs` is absolute (and
/// percent-decoded), `file://rel` and `rel` are relative to the first data root.
pub(crate) fn local_path(uri: &str) -> Result<PathBuf, StorageError> {
    let Some(rest) = uri.strip_prefix("file://") else {
        return Ok(PathBuf::from(uri));
    };
    if !rest.starts_with('/') {
        return Ok(PathBuf::from(rest));
    }
    url::Url::parse(uri)
        .ok()
        .and_then(|url| url.to_file_path().ok())
        .ok_or_else(|| StorageError::Refused { location: uri.to_owned(), reason: "not a valid file URI".to_owned() })
}

/// Resolves a local path inside the roots and finds out what it is.
fn local_target(uri: &str, given: &FsPath, roots: DataRoots) -> Result<Location, StorageError> {
    let name = given.file_name().and_then(|name| name.to_str()).unwrap_or_default();
    let target = if glob::is_pattern(name) {
        let pattern = name.to_owned();
        let parent_given = given.parent().unwrap_or_else(|| FsPath::new(""));
        let parent = roots.confine(parent_given)?;
        if !parent.is_dir() {
            return Err(StorageError::NotFound { location: parent_given.display().to_string() });
        }
        Target::Glob { parent: object_path(parent_given, &parent)?, pattern }
    } else {
        let resolved = roots.confine(given)?;
        let metadata = std::fs::metadata(&resolved)
            .map_err(|_| StorageError::NotFound { location: given.display().to_string() })?;
        let path = object_path(given, &resolved)?;
        if metadata.is_dir() { Target::Prefix { path, explicit: true } } else { Target::File(path) }
    };
    Ok(Location { store: stores::local(), kind: StoreKind::Local(roots), target, uri: uri.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(key: &str) -> String {
        match remote_target("s3://b/x", key, false).unwrap() {
            Target::File(path) => format!("file {path}"),
            Target::Prefix { path, explicit } => format!("prefix {path} explicit={explicit}"),
            Target::Glob { parent, pattern } => format!("glob {parent} {pattern}"),
        }
    }

    #[test]
    fn keys_are_files_prefixes_or_globs() {
        assert_eq!(target("data/train.parquet"), "file data/train.parquet");
        assert_eq!(target("data/openai/"), "prefix data/openai explicit=true");
        assert_eq!(target("data/openai"), "prefix data/openai explicit=false");
        assert_eq!(target("data/*.parquet"), "glob data *.parquet");
        assert_eq!(target("*.parquet"), "glob  *.parquet");
        assert!(remote_target("s3://b/x", "da*ta/x.parquet", false).is_err());
    }

    #[test]
    fn http_credentials_are_refused_without_being_repeated() {
        let error = parse_http("https://user:hunter2@example.org/x.parquet").unwrap_err().to_string();
        assert!(!error.contains("hunter2"), "{error}");
        assert!(error.contains("credentials"), "{error}");
    }
}
