//! An in-memory vector store: exact search over stored points, with switches to make it slow,
//! unreachable or wrong, for service tests and for measuring qbench's own overhead.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use qbench_domain::neighbors::{TopK, oriented_distance};
use qbench_domain::{Connection, Distance, PointId, RunId, StorageUsage, Usage, VectorName, VectorSpec, VectorUsage};
use qbench_vector_store::{
    CollectionInfo, CollectionSpec, CollectionStats, EngineInfo, Point, ScoredPoint, SearchRequest, SearchResponse,
    VectorStore, VectorStoreError, VectorStoreProvider,
};
use tokio::sync::{Notify, watch};

#[derive(Debug, Default)]
struct Collection {
    spec: Option<CollectionSpec>,
    points: BTreeMap<PointId, Point>,
    indexed: bool,
}

/// Exact nearest-neighbour search over points kept in memory.
#[derive(Debug, Default)]
pub struct InMemoryVectorStore {
    collections: Mutex<BTreeMap<String, Collection>>,
    unreachable: AtomicBool,
    scrambled: AtomicBool,
    upsert_delay_ms: AtomicU64,
    upserts: AtomicU64,
    dropped: Mutex<Vec<String>>,
    /// Upserts still let through before the rest are held; `None` when none are held.
    hold_after: Mutex<Option<u64>>,
    /// `true` while upserts past `hold_after` wait.
    holding: watch::Sender<bool>,
    /// Told when an upsert starts waiting.
    held: Notify,
}

impl InMemoryVectorStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes every call fail with `Unreachable` (`true`) or work again.
    pub fn set_unreachable(&self, unreachable: bool) {
        self.unreachable.store(unreachable, Ordering::SeqCst);
    }

    /// Makes searches return the farthest points instead of the nearest: a store that is wrong,
    /// to prove the quality metrics can fail.
    pub fn set_scrambled(&self, scrambled: bool) {
        self.scrambled.store(scrambled, Ordering::SeqCst);
    }

    /// Delays every upsert, so a test can act while an upload is under way.
    pub fn set_upsert_delay(&self, delay: Duration) {
        self.upsert_delay_ms.store(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX), Ordering::SeqCst);
    }

    /// Lets the next `upserts` upserts through and holds every later one until
    /// [`release_upserts`](Self::release_upserts): a worker that hangs mid-load, which a test can
    /// then drop as if its process died.
    pub fn hold_upserts_after(&self, upserts: u64) {
        *self.hold_after.lock().unwrap_or_else(PoisonError::into_inner) = Some(upserts);
        self.holding.send_replace(true);
    }

    /// Resolves once an upsert is being held.
    pub async fn upsert_held(&self) {
        self.held.notified().await;
    }

    /// Lets held upserts (and every later one) through.
    pub fn release_upserts(&self) {
        *self.hold_after.lock().unwrap_or_else(PoisonError::into_inner) = None;
        self.holding.send_replace(false);
    }

    /// The ids of the points `collection` holds, in order.
    pub fn point_ids(&self, collection: &str) -> Vec<PointId> {
        self.lock().get(collection).map(|stored| stored.points.keys().copied().collect()).unwrap_or_default()
    }

    /// Upsert calls so far.
    pub fn upserts(&self) -> u64 {
        self.upserts.load(Ordering::SeqCst)
    }

    /// Names of the collections dropped so far.
    pub fn dropped(&self) -> Vec<String> {
        self.dropped.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Names of the collections that exist now.
    pub fn collections(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Collection>> {
        self.collections.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn reachable(&self) -> Result<(), VectorStoreError> {
        if self.unreachable.load(Ordering::SeqCst) {
            Err(VectorStoreError::Unreachable("the in-memory store is switched off".to_owned()))
        } else {
            Ok(())
        }
    }
}

fn score(distance: Distance, oriented: f64) -> f32 {
    // Back from "lower is closer" to the engine's score convention.
    (match distance {
        Distance::Cosine => 1.0 - oriented,
        Distance::Dot => -oriented,
        Distance::Euclid | Distance::Manhattan => oriented,
    }) as f32
}

#[async_trait]
impl VectorStore for InMemoryVectorStore {
    async fn engine(&self) -> Result<EngineInfo, VectorStoreError> {
        self.reachable()?;
        Ok(EngineInfo { engine: "in-memory".to_owned(), version: "exact".to_owned() })
    }

    async fn create_collection(&self, spec: &CollectionSpec) -> Result<(), VectorStoreError> {
        self.reachable()?;
        let mut collections = self.lock();
        if collections.contains_key(&spec.name) {
            return Err(VectorStoreError::Rejected(format!("collection `{}` already exists", spec.name)));
        }
        collections.insert(spec.name.clone(), Collection { spec: Some(spec.clone()), ..Collection::default() });
        Ok(())
    }

    async fn upsert(&self, collection: &str, points: &[Point]) -> Result<(), VectorStoreError> {
        self.reachable()?;
        let delay = self.upsert_delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        let hold = match self.hold_after.lock().unwrap_or_else(PoisonError::into_inner).as_mut() {
            Some(0) => true,
            Some(left) => {
                *left -= 1;
                false
            }
            None => false,
        };
        if hold {
            let mut holding = self.holding.subscribe();
            self.held.notify_one();
            // The sender lives as long as the store, so waiting ends only on release.
            drop(holding.wait_for(|holding| !*holding).await);
        }
        self.upserts.fetch_add(1, Ordering::SeqCst);
        let mut collections = self.lock();
        let stored = collections
            .get_mut(collection)
            .ok_or_else(|| VectorStoreError::CollectionNotFound(collection.to_owned()))?;
        for point in points {
            stored.points.insert(point.id, point.clone());
        }
        Ok(())
    }

    async fn build_index(&self, collection: &str) -> Result<(), VectorStoreError> {
        self.reachable()?;
        let mut collections = self.lock();
        let stored = collections
            .get_mut(collection)
            .ok_or_else(|| VectorStoreError::CollectionNotFound(collection.to_owned()))?;
        stored.indexed = true;
        Ok(())
    }

    async fn search(&self, collection: &str, request: SearchRequest<'_>) -> Result<SearchResponse, VectorStoreError> {
        self.reachable()?;
        let collections = self.lock();
        let stored =
            collections.get(collection).ok_or_else(|| VectorStoreError::CollectionNotFound(collection.to_owned()))?;
        let distance = stored
            .spec
            .as_ref()
            .and_then(|spec| spec.vectors.get(request.vector))
            .map(|vector| vector.distance)
            .ok_or_else(|| VectorStoreError::Rejected(format!("no vector `{}`", request.vector)))?;
        let scrambled = self.scrambled.load(Ordering::SeqCst);
        let mut top = TopK::new(request.k as usize);
        for point in stored.points.values() {
            if let Some((_, values)) = point.vectors.iter().find(|(name, _)| name == request.vector) {
                let oriented = oriented_distance(distance, request.query, values);
                top.offer(point.id, if scrambled { -oriented } else { oriented });
            }
        }
        let points = top
            .into_sorted()
            .into_iter()
            .map(|(id, oriented)| ScoredPoint {
                id,
                score: score(distance, if scrambled { -oriented } else { oriented }),
            })
            .collect();
        Ok(SearchResponse { points, server_time: None })
    }

    async fn collection_info(&self, collection: &str) -> Result<CollectionInfo, VectorStoreError> {
        self.reachable()?;
        let collections = self.lock();
        let stored =
            collections.get(collection).ok_or_else(|| VectorStoreError::CollectionNotFound(collection.to_owned()))?;
        let vectors = stored.spec.as_ref().map_or(0, |spec| spec.vectors.len()) as u64;
        let points = stored.points.len() as u64;
        Ok(CollectionInfo {
            points,
            indexed_vectors: if stored.indexed { points * vectors } else { 0 },
            segments: 1,
            config: serde_json::json!({"engine": "in-memory", "vectors": vectors}),
            storage: stored.spec.as_ref().map(|spec| StorageUsage {
                vectors: spec
                    .vectors
                    .iter()
                    .map(|(name, vector)| {
                        let vectors = points * u64::from(vector.dim.get()) * 4;
                        // A graph's links: 2·m ids of 4 bytes per point, as Qdrant's level 0 holds.
                        let index = points * u64::from(spec.hnsw(name).m) * 2 * 4;
                        let usage = VectorUsage {
                            vectors: Usage::of(vectors, true),
                            index: Usage::of(index, true),
                            ..VectorUsage::default()
                        };
                        (name.as_str().to_owned(), usage)
                    })
                    .collect(),
                other: Usage::default(),
                method: "in-memory fake: 4 bytes per component, 8·m bytes of graph per point".to_owned(),
            }),
        })
    }

    async fn collection_vectors(
        &self,
        collection: &str,
    ) -> Result<Option<BTreeMap<VectorName, VectorSpec>>, VectorStoreError> {
        self.reachable()?;
        let collections = self.lock();
        let stored =
            collections.get(collection).ok_or_else(|| VectorStoreError::CollectionNotFound(collection.to_owned()))?;
        Ok(stored.spec.as_ref().map(|spec| spec.vectors.clone()))
    }

    /// Every collection, with its figures.
    async fn collections(&self) -> Result<Vec<CollectionStats>, VectorStoreError> {
        self.reachable()?;
        let mut stats = Vec::new();
        for name in InMemoryVectorStore::collections(self) {
            let info = self.collection_info(&name).await.ok();
            stats.push(CollectionStats { name, info, disk_bytes: None, shards: None });
        }
        Ok(stats)
    }

    async fn drop_collection(&self, collection: &str) -> Result<(), VectorStoreError> {
        self.reachable()?;
        self.lock().remove(collection);
        self.dropped.lock().unwrap_or_else(PoisonError::into_inner).push(collection.to_owned());
        Ok(())
    }
}

/// Opens the same [`InMemoryVectorStore`] for every connection.
#[derive(Debug, Clone, Default)]
pub struct InMemoryStoreProvider {
    /// The store handed out.
    pub store: Arc<InMemoryVectorStore>,
}

#[async_trait]
impl VectorStoreProvider for InMemoryStoreProvider {
    async fn open(&self, _connection: &Connection, _run_id: RunId) -> Result<Arc<dyn VectorStore>, VectorStoreError> {
        self.store.reachable()?;
        Ok(self.store.clone())
    }
}

/// The names of a point's vectors, for assertions.
pub fn vector_names(point: &Point) -> Vec<VectorName> {
    point.vectors.iter().map(|(name, _)| name.clone()).collect()
}
