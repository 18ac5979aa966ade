//! A shard snapshot written into the engine and restored as a collection.
//!
//! [`start`] refuses an existing collection unless it may be overwritten, then opens a scratch
//! file `<root>/.restore-<uuid>.tar` (hidden, so listings skip it) that every chunk is appended
//! to. `finish` then, on a blocking thread:
//! 1. checks that the archive ends with tar's end-of-archive marker (a cut archive could
//!    otherwise unpack into a collection missing its last files), unpacks it with
//!    `EdgeShard::unpack_snapshot` into `<root>/.restoring-<uuid>/`, loads that shard to validate
//!    it and counts its points exactly, then closes it — any failure is `Rejected` (a panic of the
//!    engine on damaged files too) and leaves the collection as it was;
//! 2. closes the collection it replaces (this engine's, once every operation inside it has
//!    ended, its slot kept locked so new ones wait), or takes the collection's lock (`Rejected`
//!    when another process has it open), deletes the old directory and renames the restored one
//!    into `<root>/<collection>/`;
//! 3. loads it into the collection's slot, so it answers searches at once.
//!
//! The scratch file and directory are deleted however the restore ends: failure, `abort`, or the
//! writer dropped without `finish`.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use qbench_vector_store::{SnapshotWriter, VectorStoreError};
use qdrant_edge::EdgeShard;
use uuid::Uuid;

use crate::catalog::{self, Catalog, Collection, Reservation, Reserved, Slot};
use crate::engine::exact_count;
use crate::error;

/// A tar archive ends with two zeroed blocks of 512 bytes.
const END_OF_ARCHIVE: usize = 1024;
const TAR_BLOCK: u64 = 512;

/// Reserving the name is retried this often while the collection is dropped and opened again.
const ATTEMPTS: usize = 4;

/// Opens the restore of `name`.
///
/// # Errors
/// `Rejected` for a name that cannot be a collection's, or, without `overwrite`, when the
/// collection exists (open in this engine or on disk).
pub(crate) async fn start(
    catalog: Catalog,
    name: &str,
    overwrite: bool,
) -> Result<Box<dyn SnapshotWriter>, VectorStoreError> {
    catalog::check_name(name)?;
    let listed = catalog.get(name).is_some();
    let (root, dir, owned_name) = (catalog.root().to_owned(), catalog.dir(name), name.to_owned());
    let (archive, file) = tokio::task::spawn_blocking(move || {
        if !overwrite && (listed || dir.exists()) {
            return Err(exists(&owned_name));
        }
        std::fs::create_dir_all(&root).map_err(|err| error::from_io(&format!("creating {}", root.display()), &err))?;
        let path = root.join(format!(".restore-{}.tar", Uuid::new_v4()));
        let file =
            File::create_new(&path).map_err(|err| error::from_io(&format!("creating {}", path.display()), &err))?;
        Ok((Scratch::new(path), file))
    })
    .await
    .map_err(error::from_join)??;
    Ok(Box::new(Restore { catalog, name: name.to_owned(), overwrite, archive, file: Some(file) }))
}

/// A restore being written.
struct Restore {
    catalog: Catalog,
    name: String,
    overwrite: bool,
    /// The archive written so far.
    archive: Scratch,
    /// Its file, open for writing; `None` once a write failed.
    file: Option<File>,
}

#[async_trait]
impl SnapshotWriter for Restore {
    async fn write(&mut self, chunk: &[u8]) -> Result<(), VectorStoreError> {
        let mut file = self.file.take().ok_or_else(interrupted)?;
        let chunk = chunk.to_vec();
        let (file, written) = tokio::task::spawn_blocking(move || {
            let written = file.write_all(&chunk);
            (file, written)
        })
        .await
        .map_err(error::from_join)?;
        written.map_err(|err| error::from_io(&format!("writing {}", self.archive.path().display()), &err))?;
        self.file = Some(file);
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(collection = %self.name, overwrite = self.overwrite))]
    async fn finish(self: Box<Self>) -> Result<u64, VectorStoreError> {
        let Restore { catalog, name, overwrite, archive, file } = *self;
        let file = file.ok_or_else(interrupted)?;
        let staging = Scratch::new(catalog.root().join(format!(".restoring-{}", Uuid::new_v4())));
        // The archive is deleted once unpacked; the unpacked shard when it fails to load.
        let (points, staging) = tokio::task::spawn_blocking(move || {
            drop(file);
            let points = unpack_and_count(archive.path(), staging.path());
            drop(archive);
            points.map(|points| (points, staging))
        })
        .await
        .map_err(error::from_join)??;

        let (slot, mut reserved) = reserve(&catalog, &name, overwrite).await?;
        // The collection replaced, if this engine has it open: its slot stays listed and
        // write-locked until the restored collection is in it, so operations on the name wait
        // and then find the restored one.
        let replaced = reserved.take();
        let (root, owned_name) = (catalog.root().to_owned(), name.clone());
        catalog.fill(&name, slot, reserved, move || install(&root, &owned_name, overwrite, replaced, staging)).await?;
        tracing::info!(points, "snapshot restored");
        Ok(points)
    }

    async fn abort(self: Box<Self>) {
        let Restore { archive, file, .. } = *self;
        // Deleting is quick, but it is file-system work: off the async threads.
        if let Err(err) = tokio::task::spawn_blocking(move || drop((file, archive))).await {
            tracing::warn!(error = %err, "discarding an aborted restore failed");
        }
    }
}

/// The slot of the collection `name`, write-locked: a new one, or with `overwrite` the one listed
/// already.
async fn reserve(catalog: &Catalog, name: &str, overwrite: bool) -> Result<(Slot, Reserved), VectorStoreError> {
    for _ in 0..ATTEMPTS {
        match catalog.reserve(name)? {
            Reservation::New(slot, reserved) => return Ok((slot, reserved)),
            Reservation::Listed(_) if !overwrite => return Err(exists(name)),
            Reservation::Listed(slot) => {
                let reserved = slot.clone().write_owned().await;
                // Dropped meanwhile: the name is free again.
                if catalog.is_listed(name, &slot) {
                    return Ok((slot, reserved));
                }
            }
        }
    }
    Err(VectorStoreError::Rejected(format!("collection `{name}` kept being dropped and opened while it was restored")))
}

/// Unpacks the shard snapshot `archive` into `staging`, loads it and counts its points.
///
/// # Errors
/// `Rejected` when the archive is incomplete, or is not a shard snapshot the engine can load.
fn unpack_and_count(archive: &Path, staging: &Path) -> Result<u64, VectorStoreError> {
    let not_a_snapshot =
        |why: String| VectorStoreError::Rejected(format!("the archive is not a Qdrant shard snapshot: {why}"));
    if !ends_with_end_of_archive(archive)? {
        return Err(not_a_snapshot("it does not end with tar's end-of-archive marker (is it incomplete?)".to_owned()));
    }
    let restored = std::panic::catch_unwind(AssertUnwindSafe(|| {
        EdgeShard::unpack_snapshot(archive, staging).map_err(|err| not_a_snapshot(err.to_string()))?;
        let shard = EdgeShard::load(staging, None).map_err(|err| not_a_snapshot(err.to_string()))?;
        let points = exact_count(&shard);
        drop(shard);
        points
    }));
    restored.unwrap_or_else(|panic| {
        Err(not_a_snapshot(format!("the engine panicked loading it: {}", error::panic_message(&*panic))))
    })
}

/// Whether `archive` is whole tar blocks ending with the two zeroed blocks `tar` ends with.
fn ends_with_end_of_archive(archive: &Path) -> Result<bool, VectorStoreError> {
    let io = |err: std::io::Error| error::from_io(&format!("reading {}", archive.display()), &err);
    let mut file = File::open(archive).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len < END_OF_ARCHIVE as u64 || !len.is_multiple_of(TAR_BLOCK) {
        return Ok(false);
    }
    let mut end = [0_u8; END_OF_ARCHIVE];
    file.seek(SeekFrom::End(-(END_OF_ARCHIVE as i64))).map_err(io)?;
    file.read_exact(&mut end).map_err(io)?;
    Ok(end.iter().all(|byte| *byte == 0))
}

/// Puts the restored shard in `staging` in place of the collection `name` and opens it: closes
/// the collection it replaces (`replaced`, open in this engine) or takes the collection's lock,
/// deletes the old directory and renames `staging` into its place.
fn install(
    root: &Path,
    name: &str,
    overwrite: bool,
    replaced: Option<Collection>,
    staging: Scratch,
) -> Result<Collection, VectorStoreError> {
    let (lock, closed) = catalog::close_or_lock(replaced, root, name)?;
    if let Err(err) = closed {
        // Its files are deleted next: a failed flush loses nothing that is kept.
        tracing::warn!(collection = name, error = %err, "the replaced collection did not close cleanly");
    }
    let dir = root.join(name);
    if dir.exists() {
        if !overwrite {
            return Err(exists(name));
        }
        std::fs::remove_dir_all(&dir).map_err(|err| error::from_io(&format!("deleting {}", dir.display()), &err))?;
    }
    std::fs::rename(staging.path(), &dir)
        .map_err(|err| error::from_io(&format!("renaming {} to {}", staging.path().display(), dir.display()), &err))?;
    staging.keep();
    catalog::open_locked(&dir, lock)
}

fn exists(name: &str) -> VectorStoreError {
    VectorStoreError::Rejected(format!("collection `{name}` already exists; pass overwrite to replace it"))
}

fn interrupted() -> VectorStoreError {
    VectorStoreError::Internal("an earlier write into this restore failed; start it again".to_owned())
}

/// A scratch file or directory under the root, deleted when dropped unless kept.
#[derive(Debug)]
struct Scratch {
    path: PathBuf,
    kept: bool,
}

impl Scratch {
    fn new(path: PathBuf) -> Self {
        Self { path, kept: false }
    }

    fn path(&self) -> &Path {
        &self.path
    }

    /// Keeps the file or directory (it has been moved to where it belongs).
    fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.kept {
            return;
        }
        let removed =
            if self.path.is_dir() { std::fs::remove_dir_all(&self.path) } else { std::fs::remove_file(&self.path) };
        if let Err(err) = removed
            && err.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.path.display(), error = %err, "could not delete a restore's scratch file");
        }
    }
}
