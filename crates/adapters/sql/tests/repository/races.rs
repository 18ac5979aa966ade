//! Concurrent writers: unique names, conditional run updates, and a delete racing a reference to
//! what it deletes have exactly one winner.

use std::sync::Arc;

use chrono::{SubsecRound, Utc};
use qbench_domain::{
    Connection, ConnectionSpec, Dataset, DatasetSpec, Dimension, Distance, Run, RunStatus, SchemaConfig, VectorSpec,
};
use qbench_repository::{ConnectionRepository, Entity, RepositoryError, RunRepository};
use qbench_testkit::contract::RepositoryUnderTest;

use crate::backend::{Backend, FreshDatabase, cipher};

const WRITERS: usize = 8;

async fn one_winner_per_race(backend: Backend) {
    let fresh = FreshDatabase::new(backend);
    let database = Arc::new(fresh.open(cipher()).await);

    // Eight connections with the same name at once: the unique index lets one in.
    let name = format!("contested-{}", uuid::Uuid::new_v4().simple());
    let inserts = (0..WRITERS).map(|_| {
        let database = database.clone();
        let connection = Connection::new(
            ConnectionSpec { name: name.clone(), url: "http://qdrant.test:6333".to_owned(), api_key: None },
            Utc::now().trunc_subsecs(6),
        );
        tokio::spawn(async move { ConnectionRepository::insert(&*database, &connection).await })
    });
    let mut won = 0;
    for outcome in futures_join(inserts).await {
        match outcome {
            Ok(()) => won += 1,
            Err(RepositoryError::Duplicate { field: "name", value, .. }) => assert_eq!(value, name),
            Err(other) => panic!("concurrent insert: {other:?}"),
        }
    }
    assert_eq!(won, 1, "exactly one insert of a contested name wins");

    // Eight workers cancel the same CREATED run at once: one status change applies.
    let repos = RepositoryUnderTest::new(database.clone());
    let experiment = seed_experiment(&repos).await;
    let run = Run::new(experiment, "race@example.com", Utc::now().trunc_subsecs(6));
    RunRepository::insert(&*database, &run).await.unwrap();
    let cancels = (0..WRITERS).map(|_| {
        let database = database.clone();
        let mut run = run.clone();
        tokio::spawn(async move {
            run.cancel(Utc::now().trunc_subsecs(6)).unwrap();
            RunRepository::update(&*database, &run, RunStatus::Created).await
        })
    });
    let mut won = 0;
    for outcome in futures_join(cancels).await {
        match outcome {
            Ok(()) => won += 1,
            Err(RepositoryError::Conflict { .. }) => {}
            Err(other) => panic!("concurrent update: {other:?}"),
        }
    }
    assert_eq!(won, 1, "exactly one status change from CREATED wins");
    assert_eq!(RunRepository::get(&*database, run.id()).await.unwrap().status(), RunStatus::Canceled);
}

/// A stored experiment, with its connection and dataset, to run.
async fn seed_experiment(repos: &RepositoryUnderTest) -> qbench_domain::ExperimentId {
    let now = Utc::now().trunc_subsecs(6);
    let connection = Connection::new(
        ConnectionSpec {
            name: format!("seed-{}", uuid::Uuid::new_v4().simple()),
            url: "http://qdrant.test:6333".to_owned(),
            api_key: None,
        },
        now,
    );
    repos.connections.insert(&connection).await.unwrap();
    let dataset = dataset(now);
    repos.datasets.insert(&dataset).await.unwrap();
    let spec = qbench_domain::ExperimentSpec::new("race", dataset.id, connection.id);
    let experiment = qbench_domain::Experiment::new(spec, "race@example.com", now);
    repos.experiments.insert(&experiment).await.unwrap();
    experiment.id
}

fn dataset(now: chrono::DateTime<Utc>) -> Dataset {
    let vectors = [("dense", VectorSpec::new(Dimension::new(4).unwrap(), Distance::Dot))];
    let spec = DatasetSpec {
        name: format!("race-{}", uuid::Uuid::new_v4().simple()),
        source_uri: "datasets/race.parquet".parse().unwrap(),
        storage_id: None,
        schema_config: SchemaConfig::from_vectors(vectors).unwrap(),
    };
    Dataset::new(spec, "race@example.com", now)
}

/// Regression (issue 12): an experiment created while its dataset was being deleted kept a
/// dangling `dataset_id`. Each round races a delete of a dataset against an experiment that uses
/// it: one of them wins, and an experiment that was stored always has its dataset.
async fn an_experiment_created_while_its_dataset_was_deleted_kept_a_dangling_reference(backend: Backend) {
    let fresh = FreshDatabase::new(backend);
    let database = Arc::new(fresh.open(cipher()).await);
    let repos = RepositoryUnderTest::new(database.clone());
    let connection = Connection::new(
        ConnectionSpec { name: "race".to_owned(), url: "http://qdrant.test:6333".to_owned(), api_key: None },
        Utc::now().trunc_subsecs(6),
    );
    repos.connections.insert(&connection).await.unwrap();
    for _ in 0..WRITERS {
        let doomed = dataset(Utc::now().trunc_subsecs(6));
        repos.datasets.insert(&doomed).await.unwrap();
        let spec = qbench_domain::ExperimentSpec::new("user", doomed.id, connection.id);
        let user = qbench_domain::Experiment::new(spec, "race@example.com", Utc::now().trunc_subsecs(6));
        let (deleting, inserting) = (repos.clone(), repos.clone());
        let delete = tokio::spawn(async move { deleting.datasets.delete(doomed.id).await });
        let insert = {
            let user = user.clone();
            tokio::spawn(async move { inserting.experiments.insert(&user).await })
        };
        match (delete.await.unwrap(), insert.await.unwrap()) {
            (Ok(()), Err(RepositoryError::NotFound { entity: Entity::Dataset, .. })) => {
                assert!(repos.experiments.get(user.id).await.is_err(), "a refused experiment was stored");
            }
            (Err(RepositoryError::InUse { .. }), Ok(())) => {
                repos.datasets.get(doomed.id).await.unwrap();
            }
            other => panic!("the delete and the insert both won or both lost: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_an_experiment_created_while_its_dataset_was_deleted_kept_a_dangling_reference() {
    an_experiment_created_while_its_dataset_was_deleted_kept_a_dangling_reference(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_an_experiment_created_while_its_dataset_was_deleted_kept_a_dangling_reference() {
    an_experiment_created_while_its_dataset_was_deleted_kept_a_dangling_reference(Backend::Postgres).await;
}

/// Awaits every task, in order.
async fn futures_join<T: Send + 'static>(tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut results = Vec::new();
    for task in tasks.collect::<Vec<_>>() {
        results.push(task.await.unwrap());
    }
    results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_concurrent_writers_have_one_winner() {
    one_winner_per_race(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_writers_have_one_winner() {
    one_winner_per_race(Backend::Postgres).await;
}
