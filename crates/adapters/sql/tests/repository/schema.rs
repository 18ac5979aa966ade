//! Schema sync only ever adds: reopening keeps data, and tables of older versions gain columns.

use chrono::{Duration, SubsecRound, Utc};
use qbench_domain::{
    BenchmarkPayload, Caller, Connection, ConnectionSpec, Dataset, DatasetSpec, Dimension, Distance, Experiment,
    ExperimentSpec, Job, JobKind, JobRecord, JobStatus, Progress, Run, RunStatus, SchemaConfig, Secret, VectorSpec,
};
use qbench_repository::{ConnectionRepository, DatasetRepository, ExperimentRepository, RunFilter, RunRepository};
use sea_orm::Value;
use secrecy::ExposeSecret;
use serde_json::json;

use crate::backend::{Backend, FreshDatabase, cipher, execute};

async fn reopening_keeps_data(backend: Backend) {
    let fresh = FreshDatabase::new(backend);
    let now = Utc::now().trunc_subsecs(6);
    let connection = Connection::new(
        ConnectionSpec {
            name: "kept".to_owned(),
            url: "http://qdrant.test:6333".to_owned(),
            api_key: Some(Secret::from("kept-key".to_owned())),
        },
        now,
    );
    let schema = SchemaConfig::from_vectors([("dense", VectorSpec::new(Dimension::new(4).unwrap(), Distance::Dot))]);
    let dataset = Dataset::new(
        DatasetSpec {
            name: "kept".to_owned(),
            source_uri: "datasets/kept.parquet".parse().unwrap(),
            storage_id: None,
            schema_config: schema.unwrap(),
        },
        "ann@example.com",
        now,
    );
    let experiment = Experiment::new(ExperimentSpec::new("kept", dataset.id, connection.id), "ann@example.com", now);
    let run = Run::new(experiment.id, "bob@example.com", now);

    let database = fresh.open(cipher()).await;
    ConnectionRepository::insert(&database, &connection).await.unwrap();
    DatasetRepository::insert(&database, &dataset).await.unwrap();
    ExperimentRepository::insert(&database, &experiment).await.unwrap();
    RunRepository::insert(&database, &run).await.unwrap();
    database.close().await.unwrap();

    // Every open syncs the schema again; twice more for good measure.
    for _ in 0..2 {
        let database = fresh.open(cipher()).await;
        let read = ConnectionRepository::get(&database, connection.id).await.unwrap();
        assert_eq!(read.spec.api_key.as_ref().map(ExposeSecret::expose_secret), Some("kept-key"));
        assert_eq!(DatasetRepository::get(&database, dataset.id).await.unwrap(), dataset);
        assert_eq!(ExperimentRepository::get(&database, experiment.id).await.unwrap(), experiment);
        assert_eq!(RunRepository::get(&database, run.id()).await.unwrap(), run);
        database.close().await.unwrap();
    }
}

#[tokio::test]
async fn sqlite_reopening_syncs_again_and_keeps_data() {
    reopening_keeps_data(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_reopening_syncs_again_and_keeps_data() {
    reopening_keeps_data(Backend::Postgres).await;
}

/// The `runs` table as a version without `metrics` and `error` created it.
fn old_runs_table(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "CREATE TABLE runs (id uuid_text NOT NULL PRIMARY KEY, experiment_id uuid_text NOT NULL, \
             status varchar NOT NULL, created_at timestamp_with_timezone_text NOT NULL, \
             updated_at timestamp_with_timezone_text NOT NULL, start_time timestamp_with_timezone_text, \
             end_time timestamp_with_timezone_text, progress jsonb_text NOT NULL)"
        }
        Backend::Postgres => {
            "CREATE TABLE runs (id uuid NOT NULL PRIMARY KEY, experiment_id uuid NOT NULL, \
             status varchar NOT NULL, created_at timestamp with time zone NOT NULL, \
             updated_at timestamp with time zone NOT NULL, start_time timestamp with time zone, \
             end_time timestamp with time zone, progress jsonb NOT NULL)"
        }
    }
}

async fn sync_adds_a_missing_column_and_keeps_rows(backend: Backend) {
    let fresh = FreshDatabase::new(backend);
    let created = Utc::now().trunc_subsecs(6);
    let started = created + Duration::seconds(1);
    let progress = Progress::at("upload", 10, Some(100));
    let experiment_id = qbench_domain::ExperimentId::new();
    let old = JobRecord {
        id: qbench_domain::JobId::new(),
        kind: JobKind::Benchmark,
        owner: Caller::DEVELOPMENT_USER.to_owned(),
        status: JobStatus::Running,
        payload: serde_json::to_value(BenchmarkPayload { experiment_id, settings: None, study_id: None }).unwrap(),
        requires: None,
        progress: progress.clone(),
        attempts: 1,
        claimed_by: None,
        lease_until: None,
        pause_requested: false,
        result: None,
        error: None,
        created_at: created,
        updated_at: started,
        start_time: Some(started),
        end_time: None,
    };
    let run_id = qbench_domain::RunId::from(old.id.as_uuid());

    let raw = fresh.raw().await;
    execute(&raw, fresh.statement(old_runs_table(backend), Vec::new())).await;
    let insert = "INSERT INTO runs (id, experiment_id, status, created_at, updated_at, start_time, end_time, progress) \
                  VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
    let values: Vec<Value> = vec![
        old.id.as_uuid().into(),
        experiment_id.as_uuid().into(),
        "RUNNING".into(),
        created.into(),
        started.into(),
        Some(started).into(),
        Option::<chrono::DateTime<Utc>>::None.into(),
        serde_json::to_value(&progress).unwrap().into(),
    ];
    execute(&raw, fresh.statement(insert, values)).await;
    raw.close().await.unwrap();

    let database = fresh.open(cipher()).await;
    let mut run = RunRepository::get(&database, run_id).await.unwrap();
    let expected = Run::from_job(experiment_id, Job::restore(old.clone())).unwrap();
    assert_eq!(run, expected, "the old row moved into jobs reads back, without metrics and error, owned by dev");

    // The added columns work: the run completes with metrics.
    run.complete(json!({"recall": 0.98}), started + Duration::seconds(5)).unwrap();
    RunRepository::update(&database, &run, RunStatus::Running).await.unwrap();
    assert_eq!(RunRepository::get(&database, run_id).await.unwrap(), run);
    let listed = RunRepository::list(&database, RunFilter::default(), Default::default()).await.unwrap();
    assert_eq!((listed.items, listed.total), (vec![run.clone()], 1));
    let of_dev = RunFilter { owner: Some(Caller::DEVELOPMENT_USER.to_owned()), ..RunFilter::default() };
    let listed = RunRepository::list(&database, of_dev, Default::default()).await.unwrap();
    assert_eq!((listed.items, listed.total), (vec![run], 1), "the development user lists the old run");
}

#[tokio::test]
async fn sqlite_sync_adds_a_column_missing_from_an_older_table_and_keeps_its_rows() {
    sync_adds_a_missing_column_and_keeps_rows(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_sync_adds_a_column_missing_from_an_older_table_and_keeps_its_rows() {
    sync_adds_a_missing_column_and_keeps_rows(Backend::Postgres).await;
}

/// Rows written before owners were recorded (a NULL `owner`) read as the development user's,
/// and lists of that user include them, totals too; nobody else's lists do.
async fn rows_without_an_owner_belong_to_the_development_user(backend: Backend) {
    let fresh = FreshDatabase::new(backend);
    let now = Utc::now().trunc_subsecs(6);
    let connection =
        Connection::new(ConnectionSpec { name: "old".to_owned(), url: "http://q:6333".to_owned(), api_key: None }, now);
    let schema = SchemaConfig::from_vectors([("dense", VectorSpec::new(Dimension::new(4).unwrap(), Distance::Dot))]);
    let spec = DatasetSpec {
        name: "old".to_owned(),
        source_uri: "datasets/old.parquet".parse().unwrap(),
        storage_id: None,
        schema_config: schema.unwrap(),
    };
    let dev = Caller::DEVELOPMENT_USER;
    let old_dataset = Dataset::new(spec.clone(), dev, now);
    let old_experiment = Experiment::new(ExperimentSpec::new("old", old_dataset.id, connection.id), dev, now);
    let old_run = Run::new(old_experiment.id, dev, now);
    let later = now + Duration::seconds(1);
    let new_dataset = Dataset::new(spec, "ann@example.com", later);
    let new_experiment =
        Experiment::new(ExperimentSpec::new("new", new_dataset.id, connection.id), "ann@example.com", later);
    let new_run = Run::new(new_experiment.id, "ann@example.com", later);

    let database = fresh.open(cipher()).await;
    ConnectionRepository::insert(&database, &connection).await.unwrap();
    DatasetRepository::insert(&database, &old_dataset).await.unwrap();
    DatasetRepository::insert(&database, &new_dataset).await.unwrap();
    ExperimentRepository::insert(&database, &old_experiment).await.unwrap();
    ExperimentRepository::insert(&database, &new_experiment).await.unwrap();
    RunRepository::insert(&database, &old_run).await.unwrap();
    RunRepository::insert(&database, &new_run).await.unwrap();
    database.close().await.unwrap();
    // What a version without owners left: the column the sync added is NULL.
    let raw = fresh.raw().await;
    for (table, id) in [
        ("datasets", old_dataset.id.as_uuid()),
        ("experiments", old_experiment.id.as_uuid()),
        ("runs", old_run.id().as_uuid()),
    ] {
        let sql = format!("UPDATE {table} SET owner = NULL WHERE id = ?");
        execute(&raw, fresh.statement(&sql, vec![id.into()])).await;
    }
    raw.close().await.unwrap();

    let database = fresh.open(cipher()).await;
    assert_eq!(DatasetRepository::get(&database, old_dataset.id).await.unwrap(), old_dataset);
    assert_eq!(ExperimentRepository::get(&database, old_experiment.id).await.unwrap(), old_experiment);
    assert_eq!(RunRepository::get(&database, old_run.id()).await.unwrap(), old_run);
    for (owner, dataset, experiment, run) in
        [(dev, &old_dataset, &old_experiment, &old_run), ("ann@example.com", &new_dataset, &new_experiment, &new_run)]
    {
        let listed = DatasetRepository::list(&database, Some(owner), Default::default()).await.unwrap();
        assert_eq!((listed.items, listed.total), (vec![dataset.clone()], 1), "datasets of {owner}");
        let listed = ExperimentRepository::list(&database, Some(owner), Default::default()).await.unwrap();
        assert_eq!((listed.items, listed.total), (vec![experiment.clone()], 1), "experiments of {owner}");
        let filter = RunFilter { owner: Some(owner.to_owned()), ..RunFilter::default() };
        let listed = RunRepository::list(&database, filter, Default::default()).await.unwrap();
        assert_eq!((listed.items, listed.total), (vec![run.clone()], 1), "runs of {owner}");
    }
    assert_eq!(DatasetRepository::list(&database, None, Default::default()).await.unwrap().total, 2);
}

#[tokio::test]
async fn sqlite_rows_without_an_owner_belong_to_the_development_user() {
    rows_without_an_owner_belong_to_the_development_user(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_rows_without_an_owner_belong_to_the_development_user() {
    rows_without_an_owner_belong_to_the_development_user(Backend::Postgres).await;
}

/// Regression (`schema_sync_race_on_concurrent_start`): servers and workers started together on an
/// empty PostgreSQL database raced to create the same tables, and all but one failed to start.
#[tokio::test]
async fn postgres_processes_starting_together_on_an_empty_database_all_start() {
    let fresh = FreshDatabase::new(Backend::Postgres);
    let connect = || qbench_sql::SqlDatabase::connect(&fresh.url, cipher());
    let started = tokio::join!(connect(), connect(), connect(), connect());
    for result in [started.0, started.1, started.2, started.3] {
        if let Err(error) = result {
            panic!("a concurrent start failed: {error}");
        }
    }
}
