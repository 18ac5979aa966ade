//! Contract checks of deletes that references forbid, and of the experiment cascade.

use qbench_domain::{ConnectionId, DatasetId, Run, StorageId};
use qbench_repository::Entity;

use super::RepositoryUnderTest;
use super::fixtures::{
    OWNER, assert_in_use, assert_not_found, connection, dataset, experiment, now, ok, seed_experiment, storage,
};

/// A connection or dataset used by experiments, and a storage used by a dataset, cannot be
/// deleted (`InUse` counts the users and names the oldest); once the users are gone, they can.
pub async fn check_references_block_deletes(repos: &RepositoryUnderTest) {
    let source = storage(true);
    ok(repos.storages.insert(&source).await, "insert storage");
    let data = dataset(Some(source.id));
    ok(repos.datasets.insert(&data).await, "insert dataset");
    let target = connection();
    ok(repos.connections.insert(&target).await, "insert connection");
    let users = [experiment(&data, target.id), experiment(&data, target.id)];
    for user in &users {
        ok(repos.experiments.insert(user).await, "insert experiment");
    }

    let (by, count, first) = (Entity::Experiment, 2, users[0].id);
    let connection_delete = repos.connections.delete(target.id).await;
    assert_in_use(connection_delete, (Entity::Connection, target.id), by, count, first, "connection");
    assert_in_use(repos.datasets.delete(data.id).await, (Entity::Dataset, data.id), by, count, first, "dataset");
    let storage_delete = repos.storages.delete(source.id).await;
    assert_in_use(storage_delete, (Entity::Storage, source.id), Entity::Dataset, 1, data.id, "storage");
    ok(repos.connections.get(target.id).await, "a refused delete keeps the connection");
    ok(repos.datasets.get(data.id).await, "a refused delete keeps the dataset");
    ok(repos.storages.get(source.id).await, "a refused delete keeps the storage");

    for user in &users {
        ok(repos.experiments.delete(user.id, false).await, "delete experiment");
    }
    ok(repos.connections.delete(target.id).await, "delete the connection no one uses");
    ok(repos.datasets.delete(data.id).await, "delete the dataset no one uses");
    ok(repos.storages.delete(source.id).await, "delete the storage no one uses");
}

/// An experiment with runs is `InUse` unless the delete cascades; a cascade removes its runs,
/// and only its runs.
pub async fn check_experiment_delete_cascades_to_runs(repos: &RepositoryUnderTest) {
    let (connection, data, doomed) = seed_experiment(repos).await;
    let runs = [Run::new(doomed.id, OWNER, now()), Run::new(doomed.id, OWNER, now())];
    for run in &runs {
        ok(repos.runs.insert(run).await, "insert run");
    }
    let bystander = experiment(&data, connection.id);
    ok(repos.experiments.insert(&bystander).await, "insert another experiment");
    let bystander_run = Run::new(bystander.id, OWNER, now());
    ok(repos.runs.insert(&bystander_run).await, "insert another experiment's run");

    assert_in_use(
        repos.experiments.delete(doomed.id, false).await,
        (Entity::Experiment, doomed.id),
        Entity::Run,
        2,
        runs[0].id(),
        "no cascade",
    );
    ok(repos.experiments.get(doomed.id).await, "a refused delete keeps the experiment");
    for run in &runs {
        ok(repos.runs.get(run.id()).await, "a refused delete keeps the runs");
    }

    ok(repos.experiments.delete(doomed.id, true).await, "cascading delete");
    assert_not_found(repos.experiments.get(doomed.id).await, Entity::Experiment, doomed.id, "deleted experiment");
    for run in &runs {
        assert_not_found(repos.runs.get(run.id()).await, Entity::Run, run.id(), "run of the deleted experiment");
    }
    assert_eq!(ok(repos.runs.get(bystander_run.id()).await, "other run"), bystander_run, "other runs stay");
    assert_not_found(repos.experiments.delete(doomed.id, true).await, Entity::Experiment, doomed.id, "delete twice");
}

/// Regression (issue 12): an experiment created while its dataset was being deleted kept a
/// dangling `dataset_id`, because the write did not look at whether the row it held was there.
/// Now an experiment (insert or update) naming a missing dataset or connection, and a dataset
/// naming a missing storage, is `NotFound` naming the missing object, and nothing is written.
pub async fn check_an_experiment_of_a_deleted_dataset_kept_a_dangling_reference(repos: &RepositoryUnderTest) {
    let (connection, data, mut stored) = seed_experiment(repos).await;

    let gone = dataset(None);
    ok(repos.datasets.insert(&gone).await, "insert dataset");
    ok(repos.datasets.delete(gone.id).await, "delete dataset");
    let orphan = experiment(&gone, connection.id);
    assert_not_found(repos.experiments.insert(&orphan).await, Entity::Dataset, gone.id, "dataset deleted before");
    assert_not_found(repos.experiments.get(orphan.id).await, Entity::Experiment, orphan.id, "refused experiment");

    let missing_connection = ConnectionId::new();
    let orphan = experiment(&data, missing_connection);
    let refused = repos.experiments.insert(&orphan).await;
    assert_not_found(refused, Entity::Connection, missing_connection, "missing connection");
    assert_not_found(repos.experiments.get(orphan.id).await, Entity::Experiment, orphan.id, "refused experiment");

    let before = stored.clone();
    stored.spec.dataset_id = DatasetId::new();
    let refused = repos.experiments.update(&stored).await;
    assert_not_found(refused, Entity::Dataset, stored.spec.dataset_id, "update onto a missing dataset");
    stored.spec.dataset_id = before.spec.dataset_id;
    stored.spec.connection_id = missing_connection;
    let refused = repos.experiments.update(&stored).await;
    assert_not_found(refused, Entity::Connection, missing_connection, "update onto a missing connection");
    assert_eq!(
        ok(repos.experiments.get(stored.id).await, "get experiment"),
        before,
        "a refused update changes nothing"
    );

    let missing_storage = StorageId::new();
    let orphan = dataset(Some(missing_storage));
    assert_not_found(repos.datasets.insert(&orphan).await, Entity::Storage, missing_storage, "missing storage");
    assert_not_found(repos.datasets.get(orphan.id).await, Entity::Dataset, orphan.id, "refused dataset");
    let mut moved = data.clone();
    moved.spec.storage_id = Some(missing_storage);
    let refused = repos.datasets.update(&moved).await;
    assert_not_found(refused, Entity::Storage, missing_storage, "update onto a missing storage");
    assert_eq!(ok(repos.datasets.get(data.id).await, "get dataset"), data, "a refused update changes nothing");
}
