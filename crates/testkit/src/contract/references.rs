//! Contract checks of deletes that references forbid, and of the experiment cascade.

use qbench_domain::Run;
use qbench_repository::Entity;

use super::RepositoryUnderTest;
use super::fixtures::{
    OWNER, assert_in_use, assert_not_found, connection, dataset, experiment, now, ok, seed_experiment, storage,
};

/// A connection or dataset used by experiments, and a storage used by a dataset, cannot be
/// deleted (`InUse` counts the users); once the users are gone, they can.
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

    let (by, count) = (Entity::Experiment, 2);
    assert_in_use(repos.connections.delete(target.id).await, Entity::Connection, target.id, by, count, "connection");
    assert_in_use(repos.datasets.delete(data.id).await, Entity::Dataset, data.id, by, count, "dataset");
    assert_in_use(repos.storages.delete(source.id).await, Entity::Storage, source.id, Entity::Dataset, 1, "storage");
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
        Entity::Experiment,
        doomed.id,
        Entity::Run,
        2,
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
