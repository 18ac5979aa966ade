//! Translating `object_store`, Parquet and Arrow errors into the port's [`StorageError`].
//!
//! Every message names the location (a URI as the user wrote it, never with credentials). The
//! store's own error text is kept: it carries the HTTP status and the server's error code
//! (`SignatureDoesNotMatch`, `NoSuchBucket`), which is what a user needs to fix a registration.

use std::error::Error as StdError;

use arrow::error::ArrowError;
use object_store::client::{HttpError, HttpErrorKind};
use parquet::errors::ParquetError;
use qbench_storage::StorageError;

use crate::egress::EgressRefused;

/// Maps an `object_store` error about `location`: not found, refused (denied or unauthenticated,
/// a host the egress policy refuses, a server that ignores range requests), unreachable
/// (connection failures and timeouts), or internal.
pub(crate) fn from_store(location: &str, error: &object_store::Error) -> StorageError {
    let location = location.to_owned();
    if let Some(refused) = find_in_chain::<EgressRefused>(error) {
        return StorageError::Refused { location, reason: refused.to_string() };
    }
    if IGNORED_RANGE.iter().any(|marker| chain_mentions(error, marker)) {
        return StorageError::Refused {
            location,
            reason: "the server does not support range requests (it answered a byte range with the whole file)"
                .to_owned(),
        };
    }
    if let object_store::Error::NotFound { .. } = error {
        return StorageError::NotFound { location };
    }
    if let object_store::Error::PermissionDenied { source, .. } | object_store::Error::Unauthenticated { source, .. } =
        error
    {
        return StorageError::Refused { location, reason: format!("access denied by the store: {source}") };
    }
    // `object_store` reports failed list and multipart requests as `Generic`, whatever the HTTP
    // status; its retry error, which knows the status, is private, so the status is read from
    // the message it documents ("Server returned non-2xx status code: 403 Forbidden: …").
    match http_status(error) {
        Some(401 | 403) => {
            return StorageError::Refused { location, reason: format!("access denied by the store: {error}") };
        }
        Some(404) => return StorageError::NotFound { location },
        Some(_) | None => {}
    }
    if is_unreachable(error) {
        return StorageError::Unreachable { location, reason: error.to_string() };
    }
    StorageError::Internal(format!("{location}: {error}"))
}

/// Maps a Parquet error while reading `file`: an `object_store` error inside it is mapped by
/// [`from_store`]; anything else means the file is not valid Parquet (or not what the schema
/// says) and becomes a `Format` error, naming the row group when one was being read.
pub(crate) fn from_parquet(file: &str, row_group: Option<usize>, error: &ParquetError) -> StorageError {
    if let Some(store_error) = find_in_chain::<object_store::Error>(error) {
        return from_store(file, store_error);
    }
    if let Some(io_error) = find_in_chain::<std::io::Error>(error)
        && matches!(io_error.kind(), std::io::ErrorKind::NotFound)
    {
        return StorageError::NotFound { location: file.to_owned() };
    }
    format(file, None, row_group, error.to_string())
}

/// Maps an Arrow error while decoding a row group of `file` (corrupt pages surface here).
pub(crate) fn from_arrow(file: &str, row_group: Option<usize>, error: &ArrowError) -> StorageError {
    if let Some(store_error) = find_in_chain::<object_store::Error>(error) {
        return from_store(file, store_error);
    }
    format(file, None, row_group, error.to_string())
}

/// Maps a Parquet error while writing `file`: store errors as above, anything else is internal
/// (we built the data, so a writer error is ours).
pub(crate) fn from_parquet_write(file: &str, error: &ParquetError) -> StorageError {
    if let Some(store_error) = find_in_chain::<object_store::Error>(error) {
        return from_store(file, store_error);
    }
    StorageError::Internal(format!("writing {file}: {error}"))
}

/// A `Format` error.
pub(crate) fn format(
    file: &str,
    column: Option<&str>,
    row_group: Option<usize>,
    reason: impl Into<String>,
) -> StorageError {
    StorageError::Format { file: file.to_owned(), column: column.map(str::to_owned), row_group, reason: reason.into() }
}

/// Whether the store could not be reached: a connection, request or timeout failure of the HTTP
/// client, after `object_store`'s own retries.
fn is_unreachable(error: &object_store::Error) -> bool {
    find_in_chain::<HttpError>(error).is_some_and(|http| {
        matches!(
            http.kind(),
            HttpErrorKind::Connect | HttpErrorKind::Request | HttpErrorKind::Timeout | HttpErrorKind::Interrupted
        )
    })
}

/// `object_store`'s messages (its error types are private) for a server that answered a range
/// request with the whole object (the HTTP store's, then the generic one): a reader that needs
/// footers and row groups one at a time cannot use such a server.
const IGNORED_RANGE: [&str; 2] = ["Range request not supported", "Received non-partial response when range requested"];

/// Whether the message of `error` or of an error in its chain contains `needle`.
fn chain_mentions(error: &(dyn StdError + 'static), needle: &str) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.to_string().contains(needle) {
            return true;
        }
        current = error.source();
    }
    false
}

/// The HTTP status of a failed request, from the message of `object_store`'s retry error.
fn http_status(error: &object_store::Error) -> Option<u16> {
    const MARKER: &str = "non-2xx status code: ";
    let mut current: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(error) = current {
        let message = error.to_string();
        if let Some((_, rest)) = message.split_once(MARKER)
            && let Some(code) = rest.get(..3).and_then(|code| code.parse().ok())
        {
            return Some(code);
        }
        current = error.source();
    }
    None
}

/// The first error of type `T` in the chain of `error`, looking inside `std::io::Error`s too
/// (their `source()` skips the wrapped error itself, and `object_store`'s buffered writer wraps
/// its errors in them).
pub(crate) fn find_in_chain<'a, T: StdError + 'static>(error: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(found) = error.downcast_ref::<T>() {
            return Some(found);
        }
        current = match error.downcast_ref::<std::io::Error>().and_then(std::io::Error::get_ref) {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => error.source(),
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_inside_io_and_parquet_errors_are_found() {
        let store_error = object_store::Error::NotFound { path: "a/b".to_owned(), source: "gone".into() };
        let wrapped = ParquetError::External(Box::new(std::io::Error::other(store_error)));
        assert!(matches!(
            from_parquet("s3://bucket/a/b", None, &wrapped),
            StorageError::NotFound { location } if location == "s3://bucket/a/b"
        ));
    }

    #[test]
    fn denied_is_refused_and_other_failures_are_internal() {
        let denied = object_store::Error::PermissionDenied { path: "k".to_owned(), source: "403".into() };
        assert!(matches!(from_store("s3://b/k", &denied), StorageError::Refused { .. }));
        let other = object_store::Error::Generic { store: "S3", source: "boom".into() };
        assert!(
            matches!(from_store("s3://b/k", &other), StorageError::Internal(message) if message.contains("s3://b/k"))
        );
    }

    #[test]
    fn generic_errors_with_a_denied_status_are_refused() {
        let listing = object_store::Error::Generic {
            store: "S3",
            source: "Error performing list request: Error performing GET http://h/b?list-type=2 in 2ms - Server returned non-2xx status code: 403 Forbidden: <Error/>".into(),
        };
        assert!(matches!(from_store("s3://b/p/", &listing), StorageError::Refused { .. }));
    }

    #[test]
    fn undecodable_parquet_is_a_format_error_naming_the_row_group() {
        let error = ParquetError::General("bad page header".to_owned());
        let mapped = from_parquet("file:///data/x.parquet", Some(3), &error);
        assert_eq!(mapped.to_string(), "file:///data/x.parquet, row group 3: Parquet error: bad page header");
    }
}
