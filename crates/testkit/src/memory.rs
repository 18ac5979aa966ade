//! An in-memory database that honours every repository contract, for service and app tests.

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use qbench_domain::{
    ApiKey, ApiKeyId, Connection, ConnectionId, ConnectionSummary, Dataset, DatasetId, Experiment, ExperimentId, Job,
    JobId, JobStatus, ObjectStorage, Run, RunId, RunStatus, Snapshot, SnapshotId, SnapshotVault, StorageId,
    StorageSummary,
};
use qbench_repository::{
    ApiKeyRepository, ConnectionRepository, DatabaseHealth, DatasetRepository, Entity, ExperimentRepository, Listed,
    Page, RepositoryError, RunFilter, RunRepository, StorageRepository, WorkerInfo,
};
use qbench_service::{Clock, Repositories, SystemClock};

pub use crate::queue::RecordingJobQueue;

mod backfills;
mod jobs;
mod snapshots;

/// Every repository port and [`DatabaseHealth`] over maps in memory.
///
/// It returns exactly the errors the port contracts promise (`Duplicate`, `NotFound`, `InUse`,
/// `Conflict`), lists in the same orders as the SQL adapter, and can be switched to answer
/// `Unavailable` everywhere with [`InMemoryDatabase::set_unavailable`]. Each call runs under one
/// lock, so each call is atomic like a transaction.
#[derive(Debug)]
pub struct InMemoryDatabase {
    tables: Mutex<Tables>,
    unavailable: AtomicBool,
    clock: Arc<dyn Clock>,
}

impl Default for InMemoryDatabase {
    fn default() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }
}

#[derive(Debug, Default)]
struct Tables {
    connections: BTreeMap<ConnectionId, Connection>,
    storages: BTreeMap<StorageId, ObjectStorage>,
    datasets: BTreeMap<DatasetId, Dataset>,
    experiments: BTreeMap<ExperimentId, Experiment>,
    /// Every job; a run is a benchmark job plus the experiment recorded here.
    jobs: BTreeMap<JobId, Job>,
    run_experiments: BTreeMap<RunId, ExperimentId>,
    workers: BTreeMap<String, WorkerInfo>,
    api_keys: BTreeMap<ApiKeyId, ApiKey>,
    snapshots: BTreeMap<SnapshotId, Snapshot>,
    /// Backfills' work items by backfill and ordinal.
    backfill_items: BTreeMap<(JobId, u32), qbench_domain::backfill::WorkItem>,
}

impl Tables {
    /// `NotFound` naming the storage `dataset` references when it is not stored.
    fn check_storage_of(&self, dataset: &Dataset) -> Result<(), RepositoryError> {
        match dataset.spec.storage_id {
            Some(storage_id) if !self.storages.contains_key(&storage_id) => {
                Err(RepositoryError::not_found(Entity::Storage, storage_id))
            }
            Some(_) | None => Ok(()),
        }
    }

    /// `NotFound` naming the dataset or connection `experiment` references when it is not stored.
    fn check_references_of(&self, experiment: &Experiment) -> Result<(), RepositoryError> {
        let spec = &experiment.spec;
        if !self.datasets.contains_key(&spec.dataset_id) {
            return Err(RepositoryError::not_found(Entity::Dataset, spec.dataset_id));
        }
        if !self.connections.contains_key(&spec.connection_id) {
            return Err(RepositoryError::not_found(Entity::Connection, spec.connection_id));
        }
        Ok(())
    }
}

impl InMemoryDatabase {
    /// An empty database.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty database whose own clock (the "database clock" of leases) is `clock`.
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self { tables: Mutex::default(), unavailable: AtomicBool::new(false), clock }
    }

    /// The database's clock.
    fn clock_now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Makes every later call fail with `Unavailable` (`true`) or work again (`false`).
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::SeqCst);
    }

    /// The tables, or `Unavailable` when switched off.
    fn tables(&self) -> Result<MutexGuard<'_, Tables>, RepositoryError> {
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(RepositoryError::Unavailable("the in-memory database is switched off".to_owned()));
        }
        // A panic in another test thread must not hide this test's own outcome.
        Ok(self.tables.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// The [`Repositories`] of a fresh [`InMemoryDatabase`] and [`RecordingJobQueue`], with handles on
/// both so a test can seed data, switch the database off or make the queue fail.
pub fn in_memory_repositories() -> (Repositories, Arc<InMemoryDatabase>, Arc<RecordingJobQueue>) {
    in_memory_repositories_with_clock(Arc::new(SystemClock))
}

/// [`in_memory_repositories`] whose services and database read `clock`.
pub fn in_memory_repositories_with_clock(
    clock: Arc<dyn Clock>,
) -> (Repositories, Arc<InMemoryDatabase>, Arc<RecordingJobQueue>) {
    let database = Arc::new(InMemoryDatabase::with_clock(clock.clone()));
    let queue = Arc::new(RecordingJobQueue::new());
    let repositories = Repositories {
        connections: database.clone(),
        storages: database.clone(),
        datasets: database.clone(),
        experiments: database.clone(),
        runs: database.clone(),
        jobs: database.clone(),
        workers: database.clone(),
        api_keys: database.clone(),
        snapshots: database.clone(),
        backfills: database.clone(),
        queue: queue.clone(),
        health: database.clone(),
        clock,
    };
    (repositories, database, queue)
}

/// One page of `items`, already in list order.
fn page_of<T: Clone>(items: Vec<&T>, page: Page) -> Listed<T> {
    let total = items.len() as u64;
    let offset = usize::try_from(page.offset).unwrap_or(usize::MAX);
    let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
    Listed { items: items.into_iter().skip(offset).take(limit).cloned().collect(), total }
}

/// Items in creation order: oldest first, ties broken by id.
fn in_creation_order<'a, K: Ord + Copy + 'a, T: Clone + 'a>(
    items: impl Iterator<Item = (&'a K, &'a T)>,
    created_at: impl Fn(&T) -> DateTime<Utc>,
    page: Page,
) -> Listed<T> {
    let mut sorted: Vec<(DateTime<Utc>, K, &T)> = items.map(|(id, item)| (created_at(item), *id, item)).collect();
    sorted.sort_by_key(|&(created_at, id, _)| (created_at, id));
    page_of(sorted.into_iter().map(|(_, _, item)| item).collect(), page)
}

/// `InUse` of `entity` `id` by `users` (each with its creation time), naming the oldest; `None`
/// when there are none.
fn in_use(
    (entity, id): (Entity, impl ToString),
    by: Entity,
    users: impl Iterator<Item = (DateTime<Utc>, String)>,
) -> Option<RepositoryError> {
    let users: Vec<_> = users.collect();
    let first = users.iter().min()?.1.clone();
    Some(RepositoryError::InUse { entity, id: id.to_string(), by, count: users.len() as u64, first })
}

fn duplicate_name(entity: Entity, name: &str) -> RepositoryError {
    RepositoryError::Duplicate { entity, field: "name", value: name.to_owned() }
}

fn duplicate_id(entity: Entity, id: impl ToString) -> RepositoryError {
    RepositoryError::Duplicate { entity, field: "id", value: id.to_string() }
}

#[async_trait]
impl ConnectionRepository for InMemoryDatabase {
    async fn insert(&self, connection: &Connection) -> Result<(), RepositoryError> {
        let mut tables = self.tables()?;
        if tables.connections.values().any(|other| other.spec.name == connection.spec.name) {
            return Err(duplicate_name(Entity::Connection, &connection.spec.name));
        }
        if tables.connections.contains_key(&connection.id) {
            return Err(duplicate_id(Entity::Connection, connection.id));
        }
        tables.connections.insert(connection.id, connection.clone());
        Ok(())
    }

    async fn get(&self, id: ConnectionId) -> Result<Connection, RepositoryError> {
        self.tables()?.connections.get(&id).cloned().ok_or_else(|| RepositoryError::not_found(Entity::Connection, id))
    }

    async fn find_by_name(&self, name: &str) -> Result<Option<Connection>, RepositoryError> {
        Ok(self.tables()?.connections.values().find(|connection| connection.spec.name == name).cloned())
    }

    async fn list(&self, page: Page) -> Result<Listed<Connection>, RepositoryError> {
        Ok(in_creation_order(self.tables()?.connections.iter(), |c| c.created_at, page))
    }

    async fn list_masked(&self, page: Page) -> Result<Listed<ConnectionSummary>, RepositoryError> {
        let listed = ConnectionRepository::list(self, page).await?;
        Ok(Listed { items: listed.items.iter().map(ConnectionSummary::from).collect(), total: listed.total })
    }

    async fn update(&self, connection: &Connection) -> Result<(), RepositoryError> {
        let mut tables = self.tables()?;
        if !tables.connections.contains_key(&connection.id) {
            return Err(RepositoryError::not_found(Entity::Connection, connection.id));
        }
        if tables.connections.values().any(|other| other.id != connection.id && other.spec.name == connection.spec.name)
        {
            return Err(duplicate_name(Entity::Connection, &connection.spec.name));
        }
        tables.connections.insert(connection.id, connection.clone());
        Ok(())
    }

    async fn delete(&self, id: ConnectionId) -> Result<(), RepositoryError> {
        let mut tables = self.tables()?;
        if !tables.connections.contains_key(&id) {
            return Err(RepositoryError::not_found(Entity::Connection, id));
        }
        let users = tables.experiments.values().filter(|e| e.spec.connection_id == id);
        let users = users.map(|e| (e.created_at, e.id.to_string()));
        if let Some(in_use) = in_use((Entity::Connection, id), Entity::Experiment, users) {
            return Err(in_use);
        }
        let users = tables.snapshots.values().filter(|s| s.spec.connection_id == id);
        let users = users.map(|s| (s.created_at, s.id.to_string()));
        if let Some(in_use) = in_use((Entity::Connection, id), Entity::Snapshot, users) {
            return Err(in_use);
        }
        tables.connections.remove(&id);
        Ok(())
    }
}

#[async_trait]
impl StorageRepository for InMemoryDatabase {
    async fn insert(&self, storage: &ObjectStorage) -> Result<(), RepositoryError> {
        let mut tables = self.tables()?;
        if let Some(name) = &storage.spec.name
            && tables.storages.values().any(|other| other.spec.name.as_ref() == Some(name))
        {
            return Err(duplicate_name(Entity::Storage, name));
        }
        if tables.storages.contains_key(&storage.id) {
            return Err(duplicate_id(Entity::Storage, storage.id));
        }
        tables.storages.insert(storage.id, storage.clone());
        Ok(())
    }

    async fn get(&self, id: StorageId) -> Result<ObjectStorage, RepositoryError> {
        self.tables()?.storages.get(&id).cloned().ok_or_else(|| RepositoryError::not_found(Entity::Storage, id))
    }

    async fn list(&self, page: Page) -> Result<Listed<ObjectStorage>, RepositoryError> {
        Ok(in_creation_order(self.tables()?.storages.iter(), |s| s.created_at, page))
    }

    async fn list_masked(&self, page: Page) -> Result<Listed<StorageSummary>, RepositoryError> {
        let listed = StorageRepository::list(self, page).await?;
        Ok(Listed { items: listed.items.iter().map(StorageSummary::from).collect(), total: listed.total })
    }

    async fn update(&self, storage: &ObjectStorage) -> Result<(), RepositoryError> {
        let mut tables = self.tables()?;
        if !tables.storages.contains_key(&storage.id) {
            return Err(RepositoryError::not_found(Entity::Storage, storage.id));
        }
        if let Some(name) = &storage.spec.name
            && tables.storages.values().any(|other| other.id != storage.id && other.spec.name.as_ref() == Some(name))
        {
            return Err(duplicate_name(Entity::Storage, name));
        }
        tables.storages.insert(storage.id, storage.clone());
        Ok(())
    }

    async fn delete(&self, id: StorageId) -> Result<(), RepositoryError> {
        let mut tables = self.tables()?;
        if !tables.storages.contains_key(&id) {
            return Err(RepositoryError::not_found(Entity::Storage, id));
        }
        let users = tables.datasets.values().filter(|d| d.spec.storage_id == Some(id));
        let users = users.map(|d| (d.created_at, d.id.to_string()));
        if let Some(in_use) = in_use((Entity::Storage, id), Entity::Dataset, users) {
            return Err(in_use);
        }
        let kept = tables
            .snapshots
            .values()
            .filter(|s| matches!(&s.spec.vault, SnapshotVault::Storage { storage_id, .. } if *storage_id == id));
        let kept = kept.map(|s| (s.created_at, s.id.to_string()));
        if let Some(in_use) = in_use((Entity::Storage, id), Entity::Snapshot, kept) {
            return Err(in_use);
        }
        tables.storages.remove(&id);
        Ok(())
    }
}

#[async_trait]
impl DatasetRepository for InMemoryDatabase {
    async fn insert(&self, dataset: &Dataset) -> Result<(), RepositoryError> {
        let mut tables = self.tables()?;
        if tables.datasets.contains_key(&dataset.id) {
            return Err(duplicate_id(Entity::Dataset, dataset.id));
        }
        tables.check_storage_of(dataset)?;
        tables.datasets.insert(dataset.id, dataset.clone());
        Ok(())
    }

    async fn get(&self, id: DatasetId) -> Result<Dataset, RepositoryError> {
        self.tables()?.datasets.get(&id).cloned().ok_or_else(|| RepositoryError::not_found(Entity::Dataset, id))
    }

    async fn list(&self, owner: Option<&str>, page: Page) -> Result<Listed<Dataset>, RepositoryError> {
        let tables = self.tables()?;
        let owned = tables.datasets.iter().filter(|(_, d)| owner.is_none_or(|owner| d.owner == owner));
        Ok(in_creation_order(owned, |d| d.created_at, page))
    }

    async fn update(&self, dataset: &Dataset) -> Result<(), RepositoryError> {
        let mut tables = self.tables()?;
        if tables.datasets.contains_key(&dataset.id) {
            tables.check_storage_of(dataset)?;
        }
        match tables.datasets.get_mut(&dataset.id) {
            Some(stored) => {
                *stored = dataset.clone();
                Ok(())
            }
            None => Err(RepositoryError::not_found(Entity::Dataset, dataset.id)),
        }
    }

    async fn delete(&self, id: DatasetId) -> Result<(), RepositoryError> {
        let mut tables = self.tables()?;
        if !tables.datasets.contains_key(&id) {
            return Err(RepositoryError::not_found(Entity::Dataset, id));
        }
        let users = tables.experiments.values().filter(|e| e.spec.dataset_id == id);
        let users = users.map(|e| (e.created_at, e.id.to_string()));
        if let Some(in_use) = in_use((Entity::Dataset, id), Entity::Experiment, users) {
            return Err(in_use);
        }
        tables.datasets.remove(&id);
        Ok(())
    }
}

#[async_trait]
impl ExperimentRepository for InMemoryDatabase {
    async fn insert(&self, experiment: &Experiment) -> Result<(), RepositoryError> {
        let mut tables = self.tables()?;
        if tables.experiments.contains_key(&experiment.id) {
            return Err(duplicate_id(Entity::Experiment, experiment.id));
        }
        tables.check_references_of(experiment)?;
        tables.experiments.insert(experiment.id, experiment.clone());
        Ok(())
    }

    async fn get(&self, id: ExperimentId) -> Result<Experiment, RepositoryError> {
        self.tables()?.experiments.get(&id).cloned().ok_or_else(|| RepositoryError::not_found(Entity::Experiment, id))
    }

    async fn list(&self, owner: Option<&str>, page: Page) -> Result<Listed<Experiment>, RepositoryError> {
        let tables = self.tables()?;
        let owned = tables.experiments.iter().filter(|(_, e)| owner.is_none_or(|owner| e.owner == owner));
        Ok(in_creation_order(owned, |e| e.created_at, page))
    }

    async fn update(&self, experiment: &Experiment) -> Result<(), RepositoryError> {
        let mut tables = self.tables()?;
        if tables.experiments.contains_key(&experiment.id) {
            tables.check_references_of(experiment)?;
        }
        match tables.experiments.get_mut(&experiment.id) {
            Some(stored) => {
                *stored = experiment.clone();
                Ok(())
            }
            None => Err(RepositoryError::not_found(Entity::Experiment, experiment.id)),
        }
    }

    async fn delete(&self, id: ExperimentId, cascade: bool) -> Result<(), RepositoryError> {
        let mut tables = self.tables()?;
        if !tables.experiments.contains_key(&id) {
            return Err(RepositoryError::not_found(Entity::Experiment, id));
        }
        if !cascade {
            let runs: Vec<(DateTime<Utc>, String)> = tables
                .run_experiments
                .iter()
                .filter(|(_, experiment)| **experiment == id)
                .filter_map(|(run, _)| tables.jobs.get(&JobId::from(run.as_uuid())))
                .map(|job| (job.created_at(), job.id().to_string()))
                .collect();
            if let Some(in_use) = in_use((Entity::Experiment, id), Entity::Run, runs.into_iter()) {
                return Err(in_use);
            }
        }
        let gone: Vec<RunId> =
            tables.run_experiments.iter().filter(|(_, experiment)| **experiment == id).map(|(run, _)| *run).collect();
        for run in gone {
            tables.run_experiments.remove(&run);
            tables.jobs.remove(&JobId::from(run.as_uuid()));
        }
        tables.experiments.remove(&id);
        Ok(())
    }
}

impl Tables {
    /// The run `id`: its job and experiment.
    fn run(&self, id: RunId) -> Option<Run> {
        let experiment_id = *self.run_experiments.get(&id)?;
        let job = self.jobs.get(&JobId::from(id.as_uuid()))?.clone();
        Run::from_job(experiment_id, job).ok()
    }
}

#[async_trait]
impl RunRepository for InMemoryDatabase {
    async fn insert(&self, run: &Run) -> Result<(), RepositoryError> {
        let mut tables = self.tables()?;
        if !tables.experiments.contains_key(&run.experiment_id()) {
            return Err(RepositoryError::not_found(Entity::Experiment, run.experiment_id()));
        }
        if tables.run_experiments.contains_key(&run.id()) || tables.jobs.contains_key(&run.job().id()) {
            return Err(duplicate_id(Entity::Run, run.id()));
        }
        tables.run_experiments.insert(run.id(), run.experiment_id());
        tables.jobs.insert(run.job().id(), run.job().clone());
        Ok(())
    }

    async fn get(&self, id: RunId) -> Result<Run, RepositoryError> {
        self.tables()?.run(id).ok_or_else(|| RepositoryError::not_found(Entity::Run, id))
    }

    async fn list(&self, filter: RunFilter, page: Page) -> Result<Listed<Run>, RepositoryError> {
        let tables = self.tables()?;
        let all: Vec<Run> = tables.run_experiments.keys().filter_map(|id| tables.run(*id)).collect();
        let mut runs: Vec<&Run> = all
            .iter()
            .filter(|run| filter.experiment_id.is_none_or(|id| run.experiment_id() == id))
            .filter(|run| filter.status.is_none_or(|status| run.status() == status))
            .filter(|run| filter.owner.as_deref().is_none_or(|owner| run.owner() == owner))
            .filter(|run| filter.study_id.is_none_or(|id| run.study_id() == Some(id)))
            .collect();
        // Newest first, ties broken by id, also descending.
        runs.sort_by_key(|run| Reverse((run.created_at(), run.id())));
        Ok(page_of(runs, page))
    }

    async fn update(&self, run: &Run, expected: RunStatus) -> Result<(), RepositoryError> {
        let mut tables = self.tables()?;
        let id = run.job().id();
        match tables.jobs.get_mut(&id) {
            None => Err(RepositoryError::not_found(Entity::Run, run.id())),
            Some(stored)
                if stored.status() != JobStatus::from(expected)
                    || (expected == RunStatus::Running && stored.claimed_by() != run.claimed_by()) =>
            {
                Err(RepositoryError::Conflict { entity: Entity::Run, id: run.id().to_string() })
            }
            Some(stored) => {
                *stored = run.job().clone();
                Ok(())
            }
        }
    }

    async fn delete(&self, id: RunId) -> Result<(), RepositoryError> {
        let mut tables = self.tables()?;
        if !tables.run_experiments.contains_key(&id) {
            return Err(RepositoryError::not_found(Entity::Run, id));
        }
        let users = tables.snapshots.values().filter(|s| s.built_by == Some(id));
        let users = users.map(|s| (s.created_at, s.id.to_string()));
        if let Some(in_use) = in_use((Entity::Run, id), Entity::Snapshot, users) {
            return Err(in_use);
        }
        tables.run_experiments.remove(&id);
        tables.jobs.remove(&JobId::from(id.as_uuid()));
        Ok(())
    }
}

#[async_trait]
impl ApiKeyRepository for InMemoryDatabase {
    async fn insert(&self, key: &ApiKey) -> Result<(), RepositoryError> {
        let mut tables = self.tables()?;
        if tables.api_keys.values().any(|other| other.hash == key.hash) {
            return Err(RepositoryError::Duplicate {
                entity: Entity::ApiKey,
                field: "hash",
                value: key.prefix.clone(),
            });
        }
        if tables.api_keys.contains_key(&key.id) {
            return Err(duplicate_id(Entity::ApiKey, key.id));
        }
        tables.api_keys.insert(key.id, key.clone());
        Ok(())
    }

    async fn find_by_hash(&self, hash: &str) -> Result<Option<ApiKey>, RepositoryError> {
        Ok(self.tables()?.api_keys.values().find(|key| key.hash == hash).cloned())
    }

    async fn list(&self) -> Result<Vec<ApiKey>, RepositoryError> {
        Ok(in_creation_order(self.tables()?.api_keys.iter(), |key| key.created_at, Page { limit: u64::MAX, offset: 0 })
            .items)
    }

    async fn revoke(&self, id: ApiKeyId, now: DateTime<Utc>) -> Result<ApiKey, RepositoryError> {
        let mut tables = self.tables()?;
        let key = tables.api_keys.get_mut(&id).ok_or_else(|| RepositoryError::not_found(Entity::ApiKey, id))?;
        key.revoked_at.get_or_insert(now);
        Ok(key.clone())
    }
}

#[async_trait]
impl DatabaseHealth for InMemoryDatabase {
    async fn ping(&self) -> Result<(), RepositoryError> {
        self.tables().map(drop)
    }

    fn backend(&self) -> &'static str {
        "memory"
    }
}
