//! [`EmbeddedEngine`]: one `EdgeShard` per collection, behind the `VectorStore` port.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use async_trait::async_trait;
use qbench_vector_store::{
    CollectionInfo, CollectionSpec, CollectionStats, EngineInfo, Point, SearchRequest, SearchResponse, VectorStore,
    VectorStoreError,
};
use qdrant_edge::{
    CountRequest, EdgeConfig, EdgeShard, PointInsertOperations, PointOperations, PointStructPersisted, UpdateOperation,
};
use tokio::runtime::RuntimeFlavor;
use tokio::sync::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock};

use crate::config::{self, INDEXING_ON_KB, Layout};
use crate::{ENGINE_NAME, ENGINE_VERSION, convert, error, storage_usage};

/// `optimize` returns once no optimizer plans anything; it should need one call after indexing
/// is switched on, and a second that finds nothing to do. More rounds than this mean the engine
/// keeps finding work, which is reported rather than waited on forever.
const MAX_OPTIMIZE_ROUNDS: usize = 16;

/// An open collection: its shard and its layout.
#[derive(Debug)]
struct Collection {
    shard: EdgeShard,
    layout: Layout,
}

/// A collection's place in the engine. Operations hold its read lock until their blocking work
/// ends; `drop_collection` takes the write lock and empties it. `None` means the collection is
/// being created and failed, or has been dropped.
type Slot = Arc<RwLock<Option<Collection>>>;

/// The in-process Qdrant engine (`qdrant-edge`), implementing [`VectorStore`].
///
/// Each collection is an `EdgeShard` in `<root>/<collection name>/`, created on
/// [`create_collection`](VectorStore::create_collection) and deleted with its directory on
/// [`drop_collection`](VectorStore::drop_collection). Collections are independent: several runs
/// can use one engine at the same time. Collection names must be usable as directory names
/// (ASCII letters, digits, `-`, `_` and `.`, not starting with `.`).
///
/// Dropping the engine closes every open collection (the engine flushes it to disk) but keeps the
/// files; drop the collections first to delete them.
#[derive(Debug)]
pub struct EmbeddedEngine {
    root: PathBuf,
    collections: Arc<Mutex<HashMap<String, Slot>>>,
}

impl EmbeddedEngine {
    /// An engine keeping its collections under `root` (for example `<data dir>/engine`), which
    /// is created with the first collection.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into(), collections: Arc::default() }
    }

    /// The directory holding the collections.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory of the collection called `name`.
    pub fn collection_dir(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    fn slot(&self, name: &str) -> Option<Slot> {
        lock(&self.collections).get(name).cloned()
    }

    /// The open collection `name`, read-locked: it stays open while the guard lives.
    async fn open(&self, name: &str) -> Result<OpenCollection, VectorStoreError> {
        let not_found = || VectorStoreError::CollectionNotFound(name.to_owned());
        let slot = self.slot(name).ok_or_else(not_found)?;
        OwnedRwLockReadGuard::try_map(slot.read_owned().await, Option::as_ref).map_err(|_| not_found())
    }

    /// Runs `work` on a blocking thread with the open collection `name`.
    async fn with_collection<T, F>(&self, name: &str, work: F) -> Result<T, VectorStoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Collection) -> Result<T, VectorStoreError> + Send + 'static,
    {
        run_blocking(self.open(name).await?, work).await
    }
}

/// A collection held open by its read lock.
type OpenCollection = OwnedRwLockReadGuard<Option<Collection>, Collection>;

/// Runs `work` on a blocking thread; the collection stays read-locked until `work` returns, even
/// if the caller stops waiting, so `drop_collection` never closes it under `work`.
async fn run_blocking<T, F>(open: OpenCollection, work: F) -> Result<T, VectorStoreError>
where
    T: Send + 'static,
    F: FnOnce(&Collection) -> Result<T, VectorStoreError> + Send + 'static,
{
    tokio::task::spawn_blocking(move || work(&open)).await.map_err(error::from_join)?
}

#[async_trait]
impl VectorStore for EmbeddedEngine {
    #[tracing::instrument(skip(self))]
    async fn engine(&self) -> Result<EngineInfo, VectorStoreError> {
        Ok(EngineInfo { engine: ENGINE_NAME.to_owned(), version: ENGINE_VERSION.to_owned() })
    }

    #[tracing::instrument(skip_all, fields(collection = %spec.name))]
    async fn create_collection(&self, spec: &CollectionSpec) -> Result<(), VectorStoreError> {
        check_name(&spec.name)?;
        let (config, layout) = config::edge_config(spec)?;
        let slot: Slot = Arc::default();
        // The lock is new, so it is free; holding it from before the collection is listed makes
        // every other call on this name wait until the shard exists (or failed to).
        let guard = slot.clone().try_write_owned().map_err(|err| VectorStoreError::Internal(err.to_string()))?;
        {
            let mut collections = lock(&self.collections);
            if collections.contains_key(&spec.name) {
                return Err(VectorStoreError::Rejected(format!("collection `{}` already exists", spec.name)));
            }
            collections.insert(spec.name.clone(), slot.clone());
        }
        let dir = self.collection_dir(&spec.name);
        let (name, listed, collections) = (spec.name.clone(), slot.clone(), self.collections.clone());
        // A failed creation unlists the name inside the task, so it happens even if the caller
        // stops waiting.
        let created = tokio::task::spawn_blocking(move || {
            let created = open_new(guard, dir, config, layout);
            if created.is_err() {
                forget(&collections, &name, &listed);
            }
            created
        })
        .await;
        created.unwrap_or_else(|panicked| {
            forget(&self.collections, &spec.name, &slot);
            Err(error::from_join(panicked))
        })
    }

    #[tracing::instrument(level = "debug", skip_all, fields(collection = collection, points = points.len()))]
    async fn upsert(&self, collection: &str, points: &[Point]) -> Result<(), VectorStoreError> {
        let open = self.open(collection).await?;
        // The points must be copied to leave this task; converting them here is that copy.
        let points = convert::to_engine_points(&open.layout, points)?;
        run_blocking(open, move |open| upsert_points(&open.shard, points)).await
    }

    #[tracing::instrument(skip(self))]
    async fn build_index(&self, collection: &str) -> Result<(), VectorStoreError> {
        self.with_collection(collection, build_index).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(collection = collection, vector = %request.vector))]
    async fn search(&self, collection: &str, request: SearchRequest<'_>) -> Result<SearchResponse, VectorStoreError> {
        let open = self.open(collection).await?;
        let request = convert::to_engine_search(&open.layout, &request)?;
        let search = move |open: &Collection| {
            // The engine's own time: the search alone, without any hand-over between threads.
            let started = Instant::now();
            let hits = open.shard.search(request);
            let server_time = started.elapsed();
            let points = hits.map_err(error::from_engine)?.iter().map(convert::from_engine_hit).collect();
            Ok(SearchResponse { points, server_time: Some(server_time) })
        };
        // A search takes a fraction of a millisecond: handing it to the blocking pool and back
        // would cost a benchmark client two thread switches per query. On the multi-threaded
        // runtime it runs on the caller's thread instead (a no-op switch when that thread is a
        // client's own, outside the async workers).
        if tokio::runtime::Handle::current().runtime_flavor() == RuntimeFlavor::MultiThread {
            tokio::task::block_in_place(|| search(&open))
        } else {
            run_blocking(open, search).await
        }
    }

    #[tracing::instrument(skip(self))]
    async fn collection_info(&self, collection: &str) -> Result<CollectionInfo, VectorStoreError> {
        let dir = self.collection_dir(collection);
        self.with_collection(collection, move |open| {
            let points = exact_count(&open.shard)?;
            let info = open.shard.info();
            let config = serde_json::to_value(&*open.shard.config())
                .map_err(|err| VectorStoreError::Internal(format!("the engine's configuration as JSON: {err}")))?;
            Ok(CollectionInfo {
                points,
                indexed_vectors: info.indexed_vectors_count as u64,
                segments: info.segments_count as u64,
                config,
                // Files the optimizer replaces while they are read make the measure fail: the
                // collection's info is still worth answering without it.
                storage: storage_usage::measure(&dir, &open.layout)
                    .inspect_err(|err| tracing::warn!(dir = %dir.display(), %err, "collection files not measured"))
                    .ok(),
            })
        })
        .await
    }

    /// Each collection directory of the root: its files' bytes, and its figures when it is open
    /// in this process. A collection on disk but not open here may be a run's, written by that
    /// run's process: it is not loaded.
    async fn collections(&self) -> Result<Vec<CollectionStats>, VectorStoreError> {
        let root = self.root.clone();
        let names = tokio::task::spawn_blocking(move || collection_dirs(&root)).await.map_err(error::from_join)??;
        let mut collections = Vec::with_capacity(names.len());
        for name in names {
            let info = if self.slot(&name).is_some() { self.collection_info(&name).await.ok() } else { None };
            let dir = self.collection_dir(&name);
            let disk_bytes =
                tokio::task::spawn_blocking(move || storage_usage::size(&dir).ok()).await.map_err(error::from_join)?;
            collections.push(CollectionStats { name, info, disk_bytes });
        }
        Ok(collections)
    }

    #[tracing::instrument(skip(self))]
    async fn drop_collection(&self, collection: &str) -> Result<(), VectorStoreError> {
        // A name that cannot be a directory was never created: it is already gone.
        if check_name(collection).is_err() {
            return Ok(());
        }
        let dir = self.collection_dir(collection);
        let open = match self.slot(collection) {
            Some(slot) => {
                // Waits for every operation inside the shard to end: closing a shard during an
                // update makes the engine panic.
                let mut guard = slot.clone().write_owned().await;
                let open = guard.take();
                forget(&self.collections, collection, &slot);
                open
            }
            None => None,
        };
        // Spawned, so the shard is closed and its files deleted even if the caller stops waiting.
        tokio::task::spawn_blocking(move || close_and_delete(open, &dir)).await.map_err(error::from_join)?
    }
}

/// Creates the shard of a new collection in `dir` and puts it in the slot `guard` holds.
fn open_new(
    mut guard: OwnedRwLockWriteGuard<Option<Collection>>,
    dir: PathBuf,
    config: EdgeConfig,
    layout: Layout,
) -> Result<(), VectorStoreError> {
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
        Ok(shard) => {
            *guard = Some(Collection { shard, layout });
            Ok(())
        }
        Err(err) => {
            // The directory is this call's own (it was empty), so nothing else is lost.
            if let Err(cleanup) = std::fs::remove_dir_all(&dir) {
                tracing::warn!(dir = %dir.display(), error = %cleanup, "could not delete a failed collection's directory");
            }
            Err(error::from_engine(err))
        }
    }
}

fn upsert_points(shard: &EdgeShard, points: Vec<PointStructPersisted>) -> Result<(), VectorStoreError> {
    shard
        .update(UpdateOperation::PointOperation(PointOperations::UpsertPoints(PointInsertOperations::PointsList(
            points,
        ))))
        .map_err(error::from_engine)
}

/// Switches indexing on, optimizes until the engine has nothing left to do, and checks that
/// every vector of every point is indexed (see `Layout::expected_indexed`).
fn build_index(open: &Collection) -> Result<(), VectorStoreError> {
    let mut optimizers = open.shard.config().optimizers.clone();
    optimizers.indexing_threshold = Some(INDEXING_ON_KB);
    open.shard.set_optimizers_config(optimizers).map_err(error::from_engine)?;
    let mut idle = false;
    for _ in 0..MAX_OPTIMIZE_ROUNDS {
        if !open.shard.optimize().map_err(error::from_engine)? {
            idle = true;
            break;
        }
    }
    if !idle {
        return Err(VectorStoreError::Internal(format!(
            "the engine was still optimizing after {MAX_OPTIMIZE_ROUNDS} rounds"
        )));
    }
    let points = exact_count(&open.shard)?;
    let expected = open.layout.expected_indexed(points);
    let indexed = open.shard.info().indexed_vectors_count as u64;
    if indexed < expected {
        return Err(VectorStoreError::Internal(format!(
            "the index is incomplete: {indexed} of {expected} vectors indexed ({points} points)"
        )));
    }
    Ok(())
}

/// Points stored, counted exactly (the engine's `info` only estimates).
fn exact_count(shard: &EdgeShard) -> Result<u64, VectorStoreError> {
    shard.count(CountRequest { filter: None, exact: true }).map(|count| count as u64).map_err(error::from_engine)
}

/// Closes a dropped collection's shard, then deletes its directory (also a directory left by a
/// previous process, when `open` is `None`).
fn close_and_delete(open: Option<Collection>, dir: &Path) -> Result<(), VectorStoreError> {
    let mut closed = Ok(());
    if let Some(Collection { shard, .. }) = open {
        // Closing flushes the shard, and the engine panics when a flush fails; the directory is
        // deleted anyway, so a failed flush does not leave the files behind.
        if let Err(panic) = std::panic::catch_unwind(AssertUnwindSafe(|| drop(shard))) {
            closed = Err(VectorStoreError::Internal(format!(
                "the embedded engine panicked closing the collection: {}",
                error::panic_message(&*panic)
            )));
        }
    }
    match std::fs::remove_dir_all(dir) {
        Ok(()) => closed,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => closed,
        Err(err) => Err(error::from_io(&format!("deleting {}", dir.display()), &err)),
    }
}

/// Removes `name` from the engine if it still names `slot` (and not a collection created since).
fn forget(collections: &Mutex<HashMap<String, Slot>>, name: &str, slot: &Slot) {
    let mut collections = lock(collections);
    if collections.get(name).is_some_and(|listed| Arc::ptr_eq(listed, slot)) {
        collections.remove(name);
    }
}

/// The map of collections; a panic elsewhere while it was locked leaves it consistent (every
/// change is a single insert or remove), so a poisoned lock is used as it is.
fn lock(collections: &Mutex<HashMap<String, Slot>>) -> MutexGuard<'_, HashMap<String, Slot>> {
    collections.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A collection name is a directory name under the root: no separator, no `..`, nothing hidden.
/// The names of the collection directories under `root`, sorted (none before the first).
fn collection_dirs(root: &Path) -> Result<Vec<String>, VectorStoreError> {
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

fn check_name(name: &str) -> Result<(), VectorStoreError> {
    let valid = !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(())
    } else {
        Err(VectorStoreError::Rejected(format!(
            "collection name `{}` is not usable as a directory name (use ASCII letters, digits, `-`, `_` and `.`, \
             not starting with `.`)",
            name.escape_debug()
        )))
    }
}
