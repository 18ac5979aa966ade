//! Snapshot archives in their repositories (the port's `ArchiveStore`): a local directory inside
//! the data roots, or an `s3://bucket/prefix`.
//!
//! An archive is written as a stream, so it never has to fit in memory, and appears whole or not
//! at all: on S3 it is a multipart upload of [`PART_BYTES`] parts, completed by `finish` and
//! aborted otherwise; in a directory it is the hidden file `.<name>.partial`, renamed to `name` by
//! `finish` and removed otherwise. It is read back as the store sends it, like a run's artifacts
//! (`results::chunks`).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;
use object_store::path::Path;
use object_store::{Attribute, Attributes, ObjectStore, ObjectStoreExt, PutMultipartOptions, WriteMultipart};
use qbench_storage::{ArchiveSink, ArtifactChunks, DatasetSource, StorageError};

use crate::error;
use crate::location::{self, Location, Target, blocking};
use crate::results;
use crate::roots::DataRoots;
use crate::stores;

/// The size of each part of an S3 upload: S3 allows 10,000 parts, so an archive may reach
/// 160 GiB; a sink holds at most [`PARTS_IN_FLIGHT`] parts being sent and one being filled.
const PART_BYTES: usize = 16 << 20;

/// How many parts of one archive are sent at a time.
const PARTS_IN_FLIGHT: usize = 2;

/// The media type archives are stored with on S3 (a Qdrant snapshot is a tar file).
const MEDIA_TYPE: &str = "application/x-tar";

/// A repository, parsed: where its archives are and how to reach them.
enum Repository {
    /// A directory inside the data roots, not resolved yet.
    Local {
        /// The path as the user gave it (for `confine` and messages).
        given: PathBuf,
        /// The roots it must be inside: its owner's area of each, or the whole roots.
        roots: DataRoots,
    },
    /// A key prefix of a bucket.
    S3 {
        /// The store and the prefix.
        location: Location,
        /// The prefix (no trailing slash; empty for the whole bucket).
        prefix: Path,
    },
}

/// Parses `source` as a repository.
///
/// Errors: `Refused` for a scheme other than `s3://` or a local path, or an invalid S3 location.
fn repository(source: &DatasetSource, roots: &DataRoots) -> Result<Repository, StorageError> {
    let uri = source.uri.as_str();
    match source.uri.scheme() {
        Some("s3") => {
            let location = location::s3_prefix(uri, source.s3.as_ref())?;
            let Target::Prefix { path: prefix, .. } = &location.target else {
                return Err(StorageError::Internal(format!("{uri}: not a prefix")));
            };
            let prefix = prefix.clone();
            Ok(Repository::S3 { location, prefix })
        }
        Some("file") | None => {
            Ok(Repository::Local { given: location::local_path(uri)?, roots: location::area_roots(source, roots) })
        }
        Some(_) => Err(StorageError::Refused {
            location: location::redact(uri),
            reason: "archives are kept in s3:// or local directories only".to_owned(),
        }),
    }
}

/// Refuses a `name` that is not one plain object name, or that is hidden (the names of partial
/// archives are).
fn check_name(source: &DatasetSource, name: &str) -> Result<(), StorageError> {
    if location::is_plain_segment(name) && !name.starts_with('.') {
        return Ok(());
    }
    Err(StorageError::Refused {
        location: location::redact(source.uri.as_str()),
        reason: format!("`{}` is not usable as an archive name", name.escape_debug()),
    })
}

/// Whether `source` can hold archives: a local directory, created when missing, or a bucket that
/// answers a listing of the prefix with these credentials.
///
/// Errors: `Refused` for a directory outside the data roots, a file, a bucket that does not exist
/// or denies access; `Unreachable` when the store cannot be reached.
pub(crate) async fn check(source: &DatasetSource, roots: &DataRoots) -> Result<(), StorageError> {
    match repository(source, roots)? {
        Repository::Local { given, roots } => blocking(move || roots.confine_dir(&given).map(drop)).await?,
        Repository::S3 { location, prefix } => {
            // One listing request, ended at its first key: the cheapest call that needs the
            // bucket to exist and the credentials to be accepted.
            let listed = location.store.list(Some(&prefix)).next().await;
            match listed {
                None | Some(Ok(_)) => Ok(()),
                Some(Err(failure)) => match error::from_store(&location.uri, &failure) {
                    StorageError::NotFound { location } => {
                        Err(StorageError::Refused { location, reason: "the bucket does not exist".to_owned() })
                    }
                    other @ (StorageError::Refused { .. }
                    | StorageError::Unreachable { .. }
                    | StorageError::Format { .. }
                    | StorageError::Internal(_)) => Err(other),
                },
            }
        }
    }
}

/// Starts writing archive `name` into `source`.
///
/// Errors: `Refused` for a name that is not one plain object name and those of [`check`]
/// (without its listing); store errors starting the upload.
pub(crate) async fn create(
    source: &DatasetSource,
    roots: &DataRoots,
    name: &str,
) -> Result<Box<dyn ArchiveSink>, StorageError> {
    check_name(source, name)?;
    match repository(source, roots)? {
        Repository::Local { given, roots } => {
            let name = name.to_owned();
            let sink = blocking(move || LocalSink::create(&given, &roots, &name)).await??;
            Ok(Box::new(sink))
        }
        Repository::S3 { location, prefix } => {
            let path = prefix.join(name);
            let uri = location.kind.uri(&path);
            let options = PutMultipartOptions {
                attributes: Attributes::from_iter([(Attribute::ContentType, MEDIA_TYPE)]),
                ..PutMultipartOptions::default()
            };
            let upload = location
                .store
                .put_multipart_opts(&path, options)
                .await
                .map_err(|failure| error::from_store(&uri, &failure))?;
            Ok(Box::new(S3Sink { upload: Some(WriteMultipart::new_with_chunk_size(upload, PART_BYTES)), uri }))
        }
    }
}

/// Archive `name` of `source`, read piece by piece.
///
/// Errors: `NotFound` when it does not exist; `Refused` for a name that is not one plain object
/// name or a local path outside the data roots (a symlink included); store errors.
pub(crate) async fn open(
    source: &DatasetSource,
    roots: &DataRoots,
    name: &str,
) -> Result<Box<dyn ArtifactChunks>, StorageError> {
    check_name(source, name)?;
    let (store, path, uri) = object(repository(source, roots)?, name).await?;
    let found = store.get(&path).await.map_err(|failure| error::from_store(&uri, &failure))?;
    Ok(results::chunks(found, uri))
}

/// Deletes archive `name` of `source`; an archive already gone is not an error.
///
/// Errors: `Refused` for a name that is not one plain object name or a local path outside the
/// data roots; store errors.
pub(crate) async fn delete(source: &DatasetSource, roots: &DataRoots, name: &str) -> Result<(), StorageError> {
    check_name(source, name)?;
    match repository(source, roots)? {
        Repository::Local { given, roots } => {
            let name = name.to_owned();
            blocking(move || {
                // The directory is resolved, not the archive: a symlink named like it is removed
                // itself, never the file it points at.
                let file = roots.confine(&given)?.join(&name);
                match fs::remove_file(&file) {
                    Ok(()) => Ok(()),
                    Err(failure) if failure.kind() == io::ErrorKind::NotFound => Ok(()),
                    Err(failure) => Err(from_io(&roots.shown(&file), &failure)),
                }
            })
            .await?
        }
        Repository::S3 { location, prefix } => {
            let path = prefix.join(name);
            match location.store.delete(&path).await {
                Ok(()) => Ok(()),
                Err(failure) => match error::from_store(&location.kind.uri(&path), &failure) {
                    StorageError::NotFound { .. } => Ok(()),
                    other @ (StorageError::Refused { .. }
                    | StorageError::Unreachable { .. }
                    | StorageError::Format { .. }
                    | StorageError::Internal(_)) => Err(other),
                },
            }
        }
    }
}

/// The store, object path and shown name of archive `name` in `repository`; a local archive is
/// confined to the data roots after its symlinks are followed, as what is read must be.
async fn object(repository: Repository, name: &str) -> Result<(Arc<dyn ObjectStore>, Path, String), StorageError> {
    match repository {
        Repository::Local { given, roots } => {
            let given = given.join(name);
            blocking(move || {
                let file = roots.confine(&given)?;
                let path = location::object_path(&given, &file)?;
                Ok((stores::local(), path, roots.shown(&file)))
            })
            .await?
        }
        Repository::S3 { location, prefix } => {
            let path = prefix.join(name);
            let uri = location.kind.uri(&path);
            Ok((location.store, path, uri))
        }
    }
}

/// An I/O error about the file shown as `shown` (an `io::Error` names no path, so none leaks).
pub(crate) fn from_io(shown: &str, failure: &io::Error) -> StorageError {
    let kind = failure.kind();
    if kind == io::ErrorKind::NotFound {
        StorageError::NotFound { location: shown.to_owned() }
    } else if kind == io::ErrorKind::PermissionDenied || kind == io::ErrorKind::ReadOnlyFilesystem {
        StorageError::Refused { location: shown.to_owned(), reason: format!("the file system refused it: {failure}") }
    } else {
        StorageError::Internal(format!("{shown}: {failure}"))
    }
}

/// The error of a sink used after it failed mid-write.
fn broken(shown: &str) -> StorageError {
    StorageError::Internal(format!("{shown}: an earlier write of this archive was interrupted"))
}

/// An archive being written into a local directory, as `.<name>.partial` until it is finished.
struct LocalSink {
    /// The partial file; `None` once a write was interrupted.
    file: Option<File>,
    /// The partial file's path; `None` once it was renamed or removed.
    partial: Option<PathBuf>,
    /// Where the archive appears.
    target: PathBuf,
    /// The archive as shown to users: relative to its data root.
    shown: String,
}

impl LocalSink {
    /// Creates the directory `given` inside `roots` when missing and the partial file of `name`
    /// in it, replacing one left by an earlier write that never ended.
    fn create(given: &FsPath, roots: &DataRoots, name: &str) -> Result<Self, StorageError> {
        let dir = roots.confine_dir(given)?;
        let target = dir.join(name);
        let partial = dir.join(format!(".{name}.partial"));
        let shown = roots.shown(&target);
        match fs::remove_file(&partial) {
            Ok(()) => {}
            Err(failure) if failure.kind() == io::ErrorKind::NotFound => {}
            Err(failure) => return Err(from_io(&shown, &failure)),
        }
        // `create_new` never follows a symlink put in the partial file's place.
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&partial)
            .map_err(|failure| from_io(&shown, &failure))?;
        Ok(Self { file: Some(file), partial: Some(partial), target, shown })
    }
}

#[async_trait]
impl ArchiveSink for LocalSink {
    async fn write(&mut self, chunk: Vec<u8>) -> Result<(), StorageError> {
        let mut file = self.file.take().ok_or_else(|| broken(&self.shown))?;
        let (file, written) = blocking(move || {
            let written = file.write_all(&chunk);
            (file, written)
        })
        .await?;
        self.file = Some(file);
        written.map_err(|failure| from_io(&self.shown, &failure))
    }

    async fn finish(mut self: Box<Self>) -> Result<String, StorageError> {
        let file = self.file.take().ok_or_else(|| broken(&self.shown))?;
        let partial = self.partial.clone().ok_or_else(|| broken(&self.shown))?;
        let target = self.target.clone();
        blocking(move || {
            file.sync_all()?;
            drop(file);
            fs::rename(&partial, &target)?;
            // Makes the rename itself durable; best effort, as not every file system allows it.
            if let Some(dir) = target.parent() {
                let _ = File::open(dir).and_then(|dir| dir.sync_all());
            }
            io::Result::Ok(())
        })
        .await?
        .map_err(|failure| from_io(&self.shown, &failure))?;
        self.partial = None;
        Ok(std::mem::take(&mut self.shown))
    }

    async fn abort(mut self: Box<Self>) {
        drop(self.file.take());
        if let Some(partial) = self.partial.take() {
            let removed = blocking(move || fs::remove_file(partial)).await;
            if let Ok(Err(failure)) = removed {
                tracing::warn!(archive = %self.shown, error = %failure, "the partial archive could not be removed");
            }
        }
    }
}

impl Drop for LocalSink {
    /// Removes the partial file of an archive neither finished nor aborted (a cancelled task).
    fn drop(&mut self) {
        drop(self.file.take());
        if let Some(partial) = self.partial.take() {
            let _ = fs::remove_file(partial);
        }
    }
}

/// An archive being uploaded to S3 in parts.
struct S3Sink {
    /// The upload; `None` once it was completed or aborted.
    upload: Option<WriteMultipart>,
    /// `s3://bucket/key`.
    uri: String,
}

#[async_trait]
impl ArchiveSink for S3Sink {
    async fn write(&mut self, chunk: Vec<u8>) -> Result<(), StorageError> {
        let upload = self.upload.as_mut().ok_or_else(|| broken(&self.uri))?;
        // Waiting for parts in flight before buffering more keeps the memory held bounded.
        upload.wait_for_capacity(PARTS_IN_FLIGHT).await.map_err(|failure| error::from_store(&self.uri, &failure))?;
        upload.put(chunk.into());
        Ok(())
    }

    async fn finish(mut self: Box<Self>) -> Result<String, StorageError> {
        let upload = self.upload.take().ok_or_else(|| broken(&self.uri))?;
        // A failed completion aborts the upload itself.
        upload.finish().await.map_err(|failure| error::from_store(&self.uri, &failure))?;
        Ok(std::mem::take(&mut self.uri))
    }

    async fn abort(mut self: Box<Self>) {
        if let Some(upload) = self.upload.take()
            && let Err(failure) = upload.abort().await
        {
            tracing::warn!(archive = %self.uri, error = %failure, "the multipart upload could not be aborted");
        }
    }
}

impl Drop for S3Sink {
    /// Aborts the upload of an archive neither finished nor aborted (a cancelled task), in the
    /// background: the parts sent would otherwise stay in the bucket, invisible, until its
    /// lifecycle rules remove them.
    fn drop(&mut self) {
        let Some(upload) = self.upload.take() else { return };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let uri = std::mem::take(&mut self.uri);
        runtime.spawn(async move {
            if let Err(failure) = upload.abort().await {
                tracing::warn!(archive = %uri, error = %failure, "the multipart upload could not be aborted");
            }
        });
    }
}
