//! A collection's snapshot crossing the port as a stream of chunks, in the archive format Qdrant
//! itself uses for what the engine holds: the embedded engine's is a shard snapshot (a tar of the
//! WAL, the configuration and every segment), a Qdrant server's a collection snapshot. Each
//! restores into an engine of its own kind; the other refuses it as not its format.

use async_trait::async_trait;

use crate::VectorStoreError;

/// A snapshot being read out of the engine, chunk by chunk. Memory stays bounded: the engine
/// produces the next chunk only when the previous one has been taken.
#[async_trait]
pub trait SnapshotReader: Send {
    /// The next chunk; `None` at the end of the archive.
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, VectorStoreError>;
}

/// A snapshot being written into the engine. Nothing is restored until [`finish`](Self::finish):
/// the caller verifies the archive's checksum first and calls [`abort`](Self::abort) when it
/// does not match, which leaves the engine as it was.
#[async_trait]
pub trait SnapshotWriter: Send {
    /// Appends a chunk of the archive.
    async fn write(&mut self, chunk: &[u8]) -> Result<(), VectorStoreError>;

    /// Restores the archive written into the collection and returns the points it holds.
    ///
    /// Errors: `Rejected` when the archive is not a Qdrant shard snapshot; the collection is then
    /// left as it was.
    async fn finish(self: Box<Self>) -> Result<u64, VectorStoreError>;

    /// Discards what was written.
    async fn abort(self: Box<Self>);
}
