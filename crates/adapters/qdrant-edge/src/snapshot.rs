//! A collection read out as Qdrant's shard snapshot, chunk by chunk.
//!
//! `qdrant-edge` can unpack a shard snapshot (`EdgeShard::unpack_snapshot`) but not make one, so
//! the archive is written here, in the format it unpacks (Qdrant's "streamable" shard snapshot): a
//! tar of every file of the shard directory as it is (`wal/`, `edge_config.json`, the payload
//! index configuration…), except that the content of each segment directory `segments/<id>/`
//! goes under `segments/<id>/files/`, which unpacking moves back. Sparse files (the engine
//! preallocates its storage) are archived as GNU sparse entries.
//!
//! # Consistency
//! The snapshot takes the collection's write lock, so every operation inside the shard has ended,
//! and flushes the shard (the write-ahead log is not replayed on load: the segments on disk are
//! the collection). It then takes the collection's write mutex (`Collection::writes`, which
//! upserts and indexing hold while they run) and downgrades to the read lock for the archiving:
//! searches go on, writes wait until the archive is read to its end or the reader is dropped, and
//! so does `drop_collection`, which needs the write lock. A second snapshot of the same collection
//! waits for the first.
//!
//! # Bounded memory
//! A blocking thread writes the tar into chunks of [`SNAPSHOT_CHUNK_BYTES`] and sends each into a
//! channel of [`CHANNEL_CHUNKS`]; the reader takes them one by one. At most that many chunks, one
//! being filled and the one the reader holds exist at a time, whatever the collection's size.
//! When the reader is dropped the next send fails and the thread stops, releasing the collection.

use std::io::{self, Write};
use std::panic::AssertUnwindSafe;
use std::path::Path;

use async_trait::async_trait;
use qbench_vector_store::{SnapshotReader, VectorStoreError};
use tokio::sync::{OwnedRwLockWriteGuard, mpsc};

use crate::SNAPSHOT_CHUNK_BYTES;
use crate::catalog::Catalog;
use crate::error;

/// Chunks waiting in the channel for the reader.
const CHANNEL_CHUNKS: usize = 2;

/// Where a shard keeps its segments (qdrant-edge's `SEGMENTS_PATH`).
const SEGMENTS: &str = "segments";
/// Where a segment's files go in a streamable snapshot (qdrant-edge's `SNAPSHOT_FILES_PATH`).
const SEGMENT_FILES: &str = "files";
/// The shard's write-ahead log (qdrant-edge's `WAL_PATH`).
const WAL: &str = "wal";
/// The prefix of a log segment being prepared: the log deletes such files when it opens, and its
/// segment creator thread may be writing one (then renaming it) while the archive is written.
const WAL_SCRATCH_PREFIX: &str = "tmp-";

/// What the archiving thread sends.
enum Piece {
    Chunk(Vec<u8>),
    /// The archive is complete.
    End,
    Failed(VectorStoreError),
}

/// Starts the snapshot of the collection `name` (loaded from its directory if need be).
///
/// # Errors
/// `CollectionNotFound`; `Rejected` when another process has the collection open; `Internal`
/// when the shard cannot be flushed.
pub(crate) async fn start(catalog: &Catalog, name: &str) -> Result<Box<dyn SnapshotReader>, VectorStoreError> {
    let not_found = || VectorStoreError::CollectionNotFound(name.to_owned());
    let slot = catalog.get_or_load(name).await?;
    let exclusive = slot.write_owned().await;
    // Flushing while an update runs makes the engine panic: the write lock rules that out.
    let (exclusive, flushed) = tokio::task::spawn_blocking(move || {
        let flushed = exclusive.as_ref().map(|open| open.shard.flush());
        (exclusive, flushed)
    })
    .await
    .map_err(error::from_join)?;
    if flushed.is_none() {
        return Err(not_found());
    }
    // No write holds the mutex: writes hold it inside the read lock, which the write lock excludes.
    let writes = exclusive.as_ref().map(|open| open.writes.clone()).ok_or_else(not_found)?;
    let writing = writes.try_lock_owned().map_err(|err| VectorStoreError::Internal(err.to_string()))?;
    let open = OwnedRwLockWriteGuard::try_downgrade_map(exclusive, Option::as_ref).map_err(|_| not_found())?;
    let (sender, receiver) = mpsc::channel(CHANNEL_CHUNKS);
    let dir = catalog.dir(name);
    let name = name.to_owned();
    // Detached: it ends with the archive or when the reader is dropped, releasing the collection.
    drop(tokio::task::spawn_blocking(move || {
        archive(&dir, &name, &sender);
        drop((writing, open));
    }));
    Ok(Box::new(ChunkReader { receiver, ended: false }))
}

/// Writes the archive of the shard in `dir` into `sender`, then its end, or why it failed. Stops
/// silently when the reader is gone.
fn archive(dir: &Path, name: &str, sender: &mpsc::Sender<Piece>) {
    let mut chunks = Chunks { sender, chunk: Vec::with_capacity(SNAPSHOT_CHUNK_BYTES) };
    let written = std::panic::catch_unwind(AssertUnwindSafe(|| write_archive(dir, &mut chunks)));
    let failure = match written {
        Ok(Ok(())) => match chunks.send() {
            Ok(()) => {
                // The reader may be gone: nothing is waiting for the end then.
                let _ = sender.blocking_send(Piece::End);
                return;
            }
            Err(err) => err.to_string(),
        },
        Ok(Err(err)) => err.to_string(),
        Err(panic) => format!("the archiving thread panicked: {}", error::panic_message(&*panic)),
    };
    if sender.is_closed() {
        return;
    }
    tracing::warn!(collection = name, error = %failure, "snapshot failed");
    let _ = sender
        .blocking_send(Piece::Failed(VectorStoreError::Internal(format!("archiving collection `{name}`: {failure}"))));
}

/// The tar of the shard in `dir`, segments in the streamable layout, entries sorted by name so
/// an unchanged collection archives to the same bytes.
fn write_archive(dir: &Path, out: impl Write) -> io::Result<()> {
    let mut tar = tar::Builder::new(out);
    tar.mode(tar::HeaderMode::Deterministic);
    tar.follow_symlinks(false);
    for (name, path) in entries(dir)? {
        let archived = Path::new(&name);
        if name == SEGMENTS && path.is_dir() {
            tar.append_dir(archived, &path)?;
            for (segment, path) in entries(&path)? {
                // Unpacking restores every entry of `segments/` but hidden ones as a segment, and
                // a name with a dot as a segment archive: only segment directories go in.
                if segment.starts_with('.') || segment.contains('.') || !is_dir(&path)? {
                    tracing::debug!(entry = %path.display(), "not a segment: left out of the snapshot");
                    continue;
                }
                let archived = archived.join(&segment);
                tar.append_dir(&archived, &path)?;
                append_tree(&mut tar, &path, &archived.join(SEGMENT_FILES))?;
            }
        } else if name == WAL {
            append_wal(&mut tar, &path, archived)?;
        } else {
            append_tree(&mut tar, &path, archived)?;
        }
    }
    tar.into_inner()?.flush()
}

/// The directory or file `path` as `archived`, with everything under it. Anything else (a
/// symbolic link) is left out: unpacking refuses it.
fn append_tree<W: Write>(tar: &mut tar::Builder<W>, path: &Path, archived: &Path) -> io::Result<()> {
    let kind = std::fs::symlink_metadata(path)?.file_type();
    if kind.is_dir() {
        tar.append_dir(archived, path)?;
        for (name, child) in entries(path)? {
            append_tree(tar, &child, &archived.join(name))?;
        }
    } else if kind.is_file() {
        tar.append_path_with_name(path, archived)?;
    } else {
        tracing::debug!(entry = %path.display(), "not a file nor a directory: left out of the snapshot");
    }
    Ok(())
}

/// The write-ahead log, without the segments its creator thread is preparing.
fn append_wal<W: Write>(tar: &mut tar::Builder<W>, path: &Path, archived: &Path) -> io::Result<()> {
    if !is_dir(path)? {
        return append_tree(tar, path, archived);
    }
    tar.append_dir(archived, path)?;
    for (name, child) in entries(path)? {
        if name.starts_with(WAL_SCRATCH_PREFIX) {
            continue;
        }
        append_tree(tar, &child, &archived.join(name))?;
    }
    Ok(())
}

fn is_dir(path: &Path) -> io::Result<bool> {
    Ok(std::fs::symlink_metadata(path)?.file_type().is_dir())
}

/// The entries of the directory `dir`, sorted by name. Names that are not UTF-8 are not the
/// engine's and are left out.
fn entries(dir: &Path) -> io::Result<Vec<(String, std::path::PathBuf)>> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        match entry.file_name().into_string() {
            Ok(name) => entries.push((name, entry.path())),
            Err(name) => tracing::debug!(?name, "not a UTF-8 name: left out of the snapshot"),
        }
    }
    entries.sort();
    Ok(entries)
}

/// The archive cut into chunks of [`SNAPSHOT_CHUNK_BYTES`], each sent when full.
struct Chunks<'a> {
    sender: &'a mpsc::Sender<Piece>,
    chunk: Vec<u8>,
}

impl Chunks<'_> {
    /// Sends the chunk being filled, if it holds anything.
    fn send(&mut self) -> io::Result<()> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(SNAPSHOT_CHUNK_BYTES));
        self.sender
            .blocking_send(Piece::Chunk(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the snapshot's reader is gone"))
    }
}

impl Write for Chunks<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let taken = data.len().min(SNAPSHOT_CHUNK_BYTES - self.chunk.len());
        self.chunk.extend_from_slice(data.get(..taken).unwrap_or_default());
        if self.chunk.len() == SNAPSHOT_CHUNK_BYTES {
            self.send()?;
        }
        Ok(taken)
    }

    /// Chunks leave when full; the last one when the archive is complete.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The reader's end of the channel.
struct ChunkReader {
    receiver: mpsc::Receiver<Piece>,
    ended: bool,
}

#[async_trait]
impl SnapshotReader for ChunkReader {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, VectorStoreError> {
        if self.ended {
            return Ok(None);
        }
        match self.receiver.recv().await {
            Some(Piece::Chunk(chunk)) => Ok(Some(chunk)),
            Some(Piece::End) => {
                self.ended = true;
                Ok(None)
            }
            Some(Piece::Failed(err)) => {
                self.ended = true;
                Err(err)
            }
            // The thread ended without saying so: the archive is incomplete.
            None => {
                self.ended = true;
                Err(VectorStoreError::Internal("the snapshot stopped before the end of its archive".to_owned()))
            }
        }
    }
}
