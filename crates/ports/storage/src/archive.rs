//! Snapshot archives in their repositories: written and read as streams of chunks, so an archive
//! never has to fit in memory.

use async_trait::async_trait;

use crate::{ArtifactChunks, DatasetSource, StorageError};

/// An archive being written. The object appears (complete) only on [`finish`](Self::finish);
/// [`abort`](Self::abort), or dropping it unfinished, leaves nothing behind.
#[async_trait]
pub trait ArchiveSink: Send {
    /// Appends a chunk.
    async fn write(&mut self, chunk: Vec<u8>) -> Result<(), StorageError>;

    /// Completes the object; returns its location as shown to users.
    async fn finish(self: Box<Self>) -> Result<String, StorageError>;

    /// Discards what was written.
    async fn abort(self: Box<Self>);
}

/// Stores snapshot archives. A repository is addressed like a dataset's source: a local
/// directory (confined to the data roots) or an `s3://bucket/prefix` with its storage's
/// credentials; `name` is the object's name inside it (no `/`).
///
/// # Errors
/// `Refused` for a repository outside the data roots or a store that denies access; `NotFound`
/// for an archive that does not exist; `Unreachable` when the store cannot be reached.
#[async_trait]
pub trait ArchiveStore: Send + Sync {
    /// Whether `repository` can hold archives: a local directory inside the data roots (created
    /// when missing), a bucket that answers. Checked before a snapshot is queued.
    async fn check_repository(&self, repository: &DatasetSource) -> Result<(), StorageError>;

    /// Starts writing archive `name` into `repository`.
    async fn create_archive(
        &self,
        repository: &DatasetSource,
        name: &str,
    ) -> Result<Box<dyn ArchiveSink>, StorageError>;

    /// Reads archive `name` of `repository`, piece by piece.
    async fn open_archive(
        &self,
        repository: &DatasetSource,
        name: &str,
    ) -> Result<Box<dyn ArtifactChunks>, StorageError>;

    /// Deletes archive `name`; succeeds when it is already gone.
    async fn delete_archive(&self, repository: &DatasetSource, name: &str) -> Result<(), StorageError>;
}
