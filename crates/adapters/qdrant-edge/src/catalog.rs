//! [`Catalog`]: the collections open in an engine, by name, and how one is opened (created,
//! loaded from its directory, restored) and closed, each holding its [`CollectionLock`].

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use qbench_vector_store::VectorStoreError;
use qdrant_edge::{EdgeConfig, EdgeShard};
use tokio::sync::{OwnedRwLockWriteGuard, RwLock};

use crate::config::Layout;
use crate::error;
use crate::lock::{CollectionLock, LOCK_SUFFIX};

/// An open collection: its shard, its layout and its lock.
#[derive(Debug)]
pub(crate) struct Collection {
    pub(crate) shard: EdgeShard,
    pub(crate) layout: Layout,
    /// Taken by every write (upsert, indexing) for as long as it runs, and by a snapshot for as
    /// long as it is archived, so an archive sees no write; searches do not take it.
    pub(crate) writes: Arc<tokio::sync::Mutex<()>>,
    /// Declared after the shard, so it is released only once the shard is closed.
    lock: CollectionLock,
}

impl Collection {
    fn new(shard: EdgeShard, layout: Layout, lock: CollectionLock) -> Self {
        Self { shard, layout, writes: Arc::default(), lock }
    }

    /// Closes the shard (the engine flushes it) and returns the lock, still held, with the
    /// outcome of the close: the engine panics when a flush fails.
    fn close(self) -> (CollectionLock, Result<(), VectorStoreError>) {
        let Self { shard, lock, .. } = self;
        let closed = std::panic::catch_unwind(AssertUnwindSafe(|| drop(shard))).map_err(|panic| {
            VectorStoreError::Internal(format!(
                "the embedded engine panicked closing the collection: {}",
                error::panic_message(&*panic)
            ))
        });
        (lock, closed)
    }
}

/// A collection's place in the engine. Operations hold its read lock until their blocking work
/// ends; closing takes the write lock and empties it. `None` means the collection is being opened
/// and failed to, or has been closed.
pub(crate) type Slot = Arc<RwLock<Option<Collection>>>;

/// The write lock of a slot just listed, held until its collection is opened.
pub(crate) type Reserved = OwnedRwLockWriteGuard<Option<Collection>>;

/// What [`Catalog::reserve`] found.
pub(crate) enum Reservation {
    /// The name was free: its new slot, write-locked until the collection is opened in it.
    New(Slot, Reserved),
    /// The slot of a collection this engine has open or is opening.
    Listed(Slot),
}

/// The collections an engine has open, and the root their directories are in. Cloned by the
/// snapshots being restored, which register their collection when they finish.
#[derive(Debug, Clone)]
pub(crate) struct Catalog {
    root: PathBuf,
    slots: Arc<Mutex<HashMap<String, Slot>>>,
}

impl Catalog {
    pub(crate) fn new(root: PathBuf) -> Self {
        Self { root, slots: Arc::default() }
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// The directory of the collection called `name`.
    pub(crate) fn dir(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// The slot of `name`, if this engine has it open (or is opening it).
    pub(crate) fn get(&self, name: &str) -> Option<Slot> {
        lock(&self.slots).get(name).cloned()
    }

    /// Lists `name` with a new, empty slot whose write lock is returned, so every other call on
    /// this name waits until the collection is opened (or failed to); or the slot listed already.
    pub(crate) fn reserve(&self, name: &str) -> Result<Reservation, VectorStoreError> {
        let slot: Slot = Arc::default();
        // The lock is new, so it is free.
        let reserved = slot.clone().try_write_owned().map_err(|err| VectorStoreError::Internal(err.to_string()))?;
        let mut slots = lock(&self.slots);
        if let Some(listed) = slots.get(name) {
            return Ok(Reservation::Listed(listed.clone()));
        }
        slots.insert(name.to_owned(), slot.clone());
        Ok(Reservation::New(slot, reserved))
    }

    /// Opens the collection of a reserved slot (or one taken out of its slot) with `open` on a
    /// blocking thread. A failure unlists the name, inside the task, so it happens even if the
    /// caller stops waiting.
    pub(crate) async fn fill<F>(
        &self,
        name: &str,
        slot: Slot,
        mut reserved: Reserved,
        open: F,
    ) -> Result<(), VectorStoreError>
    where
        F: FnOnce() -> Result<Collection, VectorStoreError> + Send + 'static,
    {
        let (catalog, owned_name, listed) = (self.clone(), name.to_owned(), slot.clone());
        let filled = tokio::task::spawn_blocking(move || {
            let opened = std::panic::catch_unwind(AssertUnwindSafe(open)).unwrap_or_else(|panic| {
                Err(VectorStoreError::Internal(format!(
                    "the embedded engine panicked: {}",
                    error::panic_message(&*panic)
                )))
            });
            match opened {
                Ok(collection) => {
                    *reserved = Some(collection);
                    Ok(())
                }
                Err(err) => {
                    // Unlisted before the lock is released: whoever takes the lock next can
                    // tell that this slot is no longer the collection's.
                    catalog.forget(&owned_name, &listed);
                    drop(reserved);
                    Err(err)
                }
            }
        })
        .await;
        filled.unwrap_or_else(|panicked| {
            self.forget(name, &slot);
            Err(error::from_join(panicked))
        })
    }

    /// The slot of `name`; when this engine does not have it open but its directory exists, the
    /// collection is loaded from it (a collection a previous process left, or a run's child
    /// process wrote and closed).
    ///
    /// # Errors
    /// `CollectionNotFound` when there is no such directory; `Rejected` when another process
    /// has the collection open.
    pub(crate) async fn get_or_load(&self, name: &str) -> Result<Slot, VectorStoreError> {
        if let Some(slot) = self.get(name) {
            return Ok(slot);
        }
        if check_name(name).is_err() {
            return Err(VectorStoreError::CollectionNotFound(name.to_owned()));
        }
        let (slot, reserved) = match self.reserve(name)? {
            Reservation::New(slot, reserved) => (slot, reserved),
            Reservation::Listed(listed) => return Ok(listed),
        };
        let (root, owned_name) = (self.root.clone(), name.to_owned());
        self.fill(name, slot.clone(), reserved, move || load(&root, &owned_name)).await?;
        Ok(slot)
    }

    /// Takes the collection `name` out of the engine, once every operation inside it has ended,
    /// still open: the caller closes it (on a blocking thread, `Collection::close`).
    async fn evict(&self, name: &str) -> Option<Collection> {
        let slot = self.get(name)?;
        // Waits for every operation inside the shard to end: closing a shard during an update
        // makes the engine panic.
        let mut guard = slot.clone().write_owned().await;
        let open = guard.take();
        self.forget(name, &slot);
        open
    }

    /// Closes the collection `name` and deletes its directory and lock file: the collection this
    /// engine has open, or one left on disk, which is not loaded (its files may be damaged).
    ///
    /// # Errors
    /// `Rejected` when another process has the collection open.
    pub(crate) async fn delete(&self, name: &str) -> Result<(), VectorStoreError> {
        // A name that cannot be a directory was never created: it is already gone.
        if check_name(name).is_err() {
            return Ok(());
        }
        let open = self.evict(name).await;
        let (root, name) = (self.root.clone(), name.to_owned());
        // Spawned, so the shard is closed and its files deleted even if the caller stops waiting.
        tokio::task::spawn_blocking(move || close_and_delete(open, &root, &name)).await.map_err(error::from_join)?
    }

    /// Whether `name` still names `slot`.
    pub(crate) fn is_listed(&self, name: &str, slot: &Slot) -> bool {
        lock(&self.slots).get(name).is_some_and(|listed| Arc::ptr_eq(listed, slot))
    }

    /// Removes `name` if it still names `slot` (and not a collection opened since).
    pub(crate) fn forget(&self, name: &str, slot: &Slot) {
        let mut slots = lock(&self.slots);
        if slots.get(name).is_some_and(|listed| Arc::ptr_eq(listed, slot)) {
            slots.remove(name);
        }
    }
}

/// Creates the shard of a new collection `name` under `root`, with its lock.
pub(crate) fn create(
    root: &Path,
    name: &str,
    config: EdgeConfig,
    layout: Layout,
) -> Result<Collection, VectorStoreError> {
    let dir = root.join(name);
    let lock = CollectionLock::acquire(root, name)?;
    let occupied = std::fs::read_dir(&dir).map(|mut entries| entries.next().is_some()).unwrap_or(false);
    if occupied {
        return Err(VectorStoreError::Rejected(format!(
            "the directory of the collection, {}, is not empty: a previous run's collection of that name was not \
             dropped",
            dir.display()
        )));
    }
    std::fs::create_dir_all(&dir).map_err(|err| error::from_io(&format!("creating {}", dir.display()), &err))?;
    match EdgeShard::new(&dir, config) {
        Ok(shard) => Ok(Collection::new(shard, layout, lock)),
        Err(err) => {
            // The directory is this call's own (it was empty), so nothing else is lost.
            if let Err(cleanup) = std::fs::remove_dir_all(&dir) {
                tracing::warn!(dir = %dir.display(), error = %cleanup, "could not delete a failed collection's directory");
            }
            lock.remove();
            Err(error::from_engine(err))
        }
    }
}

/// Loads the collection `name` from its directory under `root`, taking its lock.
fn load(root: &Path, name: &str) -> Result<Collection, VectorStoreError> {
    let not_found = || VectorStoreError::CollectionNotFound(name.to_owned());
    let dir = root.join(name);
    if !dir.is_dir() {
        return Err(not_found());
    }
    let lock = CollectionLock::acquire(root, name)?;
    // Another engine may have dropped the collection between the look and the lock.
    if !dir.is_dir() {
        lock.remove();
        return Err(not_found());
    }
    open_locked(&dir, lock)
}

/// Loads the shard in `dir`, whose lock is held, with the layout its configuration describes.
pub(crate) fn open_locked(dir: &Path, lock: CollectionLock) -> Result<Collection, VectorStoreError> {
    let shard = EdgeShard::load(dir, None).map_err(|err| {
        VectorStoreError::Internal(format!("loading the collection in {}: {}", dir.display(), error::from_engine(err)))
    })?;
    let layout = Layout::from_edge_config(&shard.config());
    Ok(Collection::new(shard, layout, lock))
}

/// The lock of the collection `name`: the one `open` holds, else taken now.
pub(crate) fn close_or_lock(
    open: Option<Collection>,
    root: &Path,
    name: &str,
) -> Result<(CollectionLock, Result<(), VectorStoreError>), VectorStoreError> {
    match open {
        Some(open) => Ok(open.close()),
        None => Ok((CollectionLock::acquire(root, name)?, Ok(()))),
    }
}

/// Closes a dropped collection's shard, then deletes its directory (also a directory left by a
/// previous process, when `open` is `None`, once its lock is taken) and its lock file.
fn close_and_delete(open: Option<Collection>, root: &Path, name: &str) -> Result<(), VectorStoreError> {
    let dir = root.join(name);
    if open.is_none() && !dir.exists() && !CollectionLock::file(root, name).exists() {
        return Ok(());
    }
    // Closing flushes the shard, and the engine panics when a flush fails; the directory is
    // deleted anyway, so a failed flush does not leave the files behind.
    let (lock, closed) = close_or_lock(open, root, name)?;
    let deleted = match std::fs::remove_dir_all(&dir) {
        Ok(()) => closed,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => closed,
        Err(err) => Err(error::from_io(&format!("deleting {}", dir.display()), &err)),
    };
    lock.remove();
    deleted
}

/// The names of the collection directories under `root`, sorted (none before the first). Lock
/// files and the hidden scratch entries of restores are not collections.
pub(crate) fn collection_dirs(root: &Path) -> Result<Vec<String>, VectorStoreError> {
    let entries = match std::fs::read_dir(root) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(error::from_io(&format!("listing {}", root.display()), &err)),
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| check_name(name).is_ok())
        .collect();
    names.sort();
    Ok(names)
}

/// A collection name is a directory name under the root: no separator, no `..`, nothing hidden
/// (scratch entries are), and not the name of a lock file.
pub(crate) fn check_name(name: &str) -> Result<(), VectorStoreError> {
    let valid = !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && !name.ends_with(LOCK_SUFFIX)
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(())
    } else {
        Err(VectorStoreError::Rejected(format!(
            "collection name `{}` is not usable as a directory name (use ASCII letters, digits, `-`, `_` and `.`, \
             not starting with `.` nor ending with `{LOCK_SUFFIX}`)",
            name.escape_debug()
        )))
    }
}

/// The map of collections; a panic elsewhere while it was locked leaves it consistent (every
/// change is a single insert or remove), so a poisoned lock is used as it is.
fn lock(slots: &Mutex<HashMap<String, Slot>>) -> MutexGuard<'_, HashMap<String, Slot>> {
    slots.lock().unwrap_or_else(PoisonError::into_inner)
}
