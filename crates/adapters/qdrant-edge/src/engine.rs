//! [`EmbeddedEngine`]: one `EdgeShard` per collection, behind the `VectorStore` port.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use async_trait::async_trait;
use qbench_domain::{VectorName, VectorSpec};
use qbench_vector_store::{
    CollectionInfo, CollectionSpec, CollectionStats, EngineInfo, Point, SearchRequest, SearchResponse, SnapshotReader,
    SnapshotWriter, VectorStore, VectorStoreError,
};
use qdrant_edge::{
    CountRequest, EdgeShard, PointInsertOperations, PointOperations, PointStructPersisted, UpdateOperation,
};
use tokio::runtime::RuntimeFlavor;
use tokio::sync::OwnedRwLockReadGuard;

use crate::catalog::{self, Catalog, Collection, Reservation};
use crate::config::{self, INDEXING_ON_KB};
use crate::{ENGINE_NAME, ENGINE_VERSION, convert, error, restore, snapshot, storage_usage};

/// `optimize` returns once no optimizer plans anything; it should need one call after indexing
/// is switched on, and a second that finds nothing to do. More rounds than this mean the engine
/// keeps finding work, which is reported rather than waited on forever.
const MAX_OPTIMIZE_ROUNDS: usize = 16;

/// The in-process Qdrant engine (`qdrant-edge`), implementing [`VectorStore`].
///
/// Each collection is an `EdgeShard` in `<root>/<collection name>/`, created on
/// [`create_collection`](VectorStore::create_collection) or
/// [`restore`](VectorStore::restore), loaded from its directory the first time an operation names
/// a collection this engine has not opened (one a previous process left), and deleted with its
/// directory on [`drop_collection`](VectorStore::drop_collection). Collections are independent:
/// several runs can use one engine at the same time. Collection names must be usable as
/// directory names (ASCII letters, digits, `-`, `_` and `.`, not starting with `.` nor ending with
/// `.lock`).
///
/// An open collection holds the lock `<root>/<collection name>.lock`, so no other engine, in this
/// process or another, opens it meanwhile (that is `Rejected` as in use).
///
/// Dropping the engine closes every open collection (the engine flushes it to disk) and releases
/// its lock but keeps the files; drop the collections first to delete them.
#[derive(Debug)]
pub struct EmbeddedEngine {
    catalog: Catalog,
}

impl EmbeddedEngine {
    /// An engine keeping its collections under `root` (for example `<data dir>/engine`), which
    /// is created with the first collection.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { catalog: Catalog::new(root.into()) }
    }

    /// The directory holding the collections.
    pub fn root(&self) -> &Path {
        self.catalog.root()
    }

    /// The directory of the collection called `name`.
    pub fn collection_dir(&self, name: &str) -> PathBuf {
        self.catalog.dir(name)
    }

    /// The open collection `name` (loaded from its directory if need be), read-locked: it stays
    /// open while the guard lives.
    async fn open(&self, name: &str) -> Result<OpenCollection, VectorStoreError> {
        let slot = self.catalog.get_or_load(name).await?;
        OwnedRwLockReadGuard::try_map(slot.read_owned().await, Option::as_ref)
            .map_err(|_| VectorStoreError::CollectionNotFound(name.to_owned()))
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
pub(crate) type OpenCollection = OwnedRwLockReadGuard<Option<Collection>, Collection>;

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
        catalog::check_name(&spec.name)?;
        let (config, layout) = config::edge_config(spec)?;
        // Listing the name before the shard exists makes every other call on it wait until the
        // shard exists (or failed to).
        let Reservation::New(slot, reserved) = self.catalog.reserve(&spec.name)? else {
            return Err(VectorStoreError::Rejected(format!("collection `{}` already exists", spec.name)));
        };
        let (root, name) = (self.root().to_owned(), spec.name.clone());
        self.catalog.fill(&spec.name, slot, reserved, move || catalog::create(&root, &name, config, layout)).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(collection = collection, points = points.len()))]
    async fn upsert(&self, collection: &str, points: &[Point]) -> Result<(), VectorStoreError> {
        let open = self.open(collection).await?;
        // The points must be copied to leave this task; converting them here is that copy.
        let points = convert::to_engine_points(&open.layout, points)?;
        // Waits while a snapshot is being archived.
        let writing = open.writes.clone().lock_owned().await;
        run_blocking(open, move |open| {
            let _writing = writing;
            upsert_points(&open.shard, points)
        })
        .await
    }

    #[tracing::instrument(skip(self))]
    async fn build_index(&self, collection: &str) -> Result<(), VectorStoreError> {
        let open = self.open(collection).await?;
        // Indexing rewrites segments: it waits while a snapshot is being archived.
        let writing = open.writes.clone().lock_owned().await;
        run_blocking(open, move |open| {
            let _writing = writing;
            build_index(open)
        })
        .await
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
        self.with_collection(collection, describe(self.collection_dir(collection))).await
    }

    /// Each collection directory of the root: its files' bytes, and its figures when it is open
    /// in this process. A collection on disk but not open here may be a run's, written by that
    /// run's process: it is not loaded.
    async fn collections(&self) -> Result<Vec<CollectionStats>, VectorStoreError> {
        let root = self.root().to_owned();
        let names =
            tokio::task::spawn_blocking(move || catalog::collection_dirs(&root)).await.map_err(error::from_join)??;
        let mut collections = Vec::with_capacity(names.len());
        for name in names {
            let dir = self.collection_dir(&name);
            // The slot, not `open`: a collection this engine has not opened is not loaded.
            let open = match self.catalog.get(&name) {
                Some(slot) => OwnedRwLockReadGuard::try_map(slot.read_owned().await, Option::as_ref).ok(),
                None => None,
            };
            let info = match open {
                Some(open) => run_blocking(open, describe(dir.clone())).await.ok(),
                None => None,
            };
            let disk_bytes =
                tokio::task::spawn_blocking(move || storage_usage::size(&dir).ok()).await.map_err(error::from_join)?;
            collections.push(CollectionStats { name, info, disk_bytes, shards: None });
        }
        Ok(collections)
    }

    #[tracing::instrument(skip(self))]
    async fn collection_vectors(
        &self,
        collection: &str,
    ) -> Result<Option<BTreeMap<VectorName, VectorSpec>>, VectorStoreError> {
        self.with_collection(collection, |open| config::vectors_of(&open.shard.config()).map(Some)).await
    }

    #[tracing::instrument(skip(self))]
    async fn drop_collection(&self, collection: &str) -> Result<(), VectorStoreError> {
        self.catalog.delete(collection).await
    }

    /// The collection's shard, flushed, as Qdrant's streamable shard snapshot; see `snapshot`.
    #[tracing::instrument(skip(self))]
    async fn snapshot(&self, collection: &str) -> Result<Box<dyn SnapshotReader>, VectorStoreError> {
        snapshot::start(&self.catalog, collection).await
    }

    /// See `restore`.
    #[tracing::instrument(skip(self))]
    async fn restore(&self, collection: &str, overwrite: bool) -> Result<Box<dyn SnapshotWriter>, VectorStoreError> {
        restore::start(self.catalog.clone(), collection, overwrite).await
    }
}

/// What the open collection in `dir` holds, for `collection_info`.
fn describe(dir: PathBuf) -> impl FnOnce(&Collection) -> Result<CollectionInfo, VectorStoreError> + Send + 'static {
    move |open| {
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
pub(crate) fn exact_count(shard: &EdgeShard) -> Result<u64, VectorStoreError> {
    shard.count(CountRequest { filter: None, exact: true }).map(|count| count as u64).map_err(error::from_engine)
}
