//! Contract checks of `RunRepository`.

use chrono::Duration;
use qbench_domain::{
    ExperimentId, JobId, Progress, Run, RunId, RunStatus, Snapshot, SnapshotSpec, SnapshotVault, run_collection,
};
use qbench_repository::{Entity, RepositoryError};
use serde_json::json;

use super::RepositoryUnderTest;
use super::fixtures::{OWNER, assert_in_use, assert_not_found, err, now, ok, seed_experiment, unique};

/// A run cannot be stored for an experiment that does not exist.
pub async fn check_run_needs_its_experiment(repos: &RepositoryUnderTest) {
    let missing = ExperimentId::new();
    let orphan = Run::new(missing, OWNER, now());
    assert_not_found(repos.runs.insert(&orphan).await, Entity::Experiment, missing, "run of a missing experiment");
    assert_not_found(repos.runs.get(orphan.id()).await, Entity::Run, orphan.id(), "refused run");
}

/// A run reads back equal through its whole life, with the experiment settings it kept; a status
/// change applies only from the expected status (`Conflict` otherwise); unknown runs are `NotFound`.
pub async fn check_run_life_cycle_and_conditional_update(repos: &RepositoryUnderTest) {
    let (_, _, experiment) = seed_experiment(repos).await;
    let start = now();
    let mut run = Run::of(&experiment, OWNER, None, start);
    ok(repos.runs.insert(&run).await, "insert run");
    let stored = ok(repos.runs.get(run.id()).await, "get run");
    assert_eq!(stored, run, "created");
    assert_eq!(stored.settings(), Some(&experiment.spec), "the settings the run keeps");

    let stale = run.clone();
    ok(run.claim("worker-1", start + Duration::seconds(31), start + Duration::seconds(1)), "claim");
    run.report_progress(Progress::at("upload", 1_500, Some(10_000)), start + Duration::seconds(2));
    ok(repos.runs.update(&run, RunStatus::Created).await, "CREATED -> RUNNING");
    assert_eq!(ok(repos.runs.get(run.id()).await, "get run"), run, "running");

    // A second writer that still believes the run is CREATED loses.
    let mut late = stale.clone();
    ok(late.cancel(start + Duration::seconds(3)), "cancel the stale copy");
    let error = err(repos.runs.update(&late, RunStatus::Created).await, "stale update");
    let RepositoryError::Conflict { entity, id } = error else {
        panic!("stale update: expected Conflict, got {error:?}");
    };
    assert_eq!((entity, id), (Entity::Run, run.id().to_string()), "stale update");
    assert_eq!(ok(repos.runs.get(run.id()).await, "get run"), run, "a conflict changes nothing");

    let metrics = json!({
        "precision": {"p@10": 0.9734, "p@100": 0.5},
        "latency_ms": {"p50": 1.25, "p99": 17.0},
        "rps": 1843,
        "per_ef": [{"hnsw_ef": 64, "recall": 0.91}, {"hnsw_ef": 128, "recall": 0.97}],
        "note": null
    });
    ok(run.complete(metrics, start + Duration::seconds(10)), "complete");
    ok(repos.runs.update(&run, RunStatus::Running).await, "RUNNING -> COMPLETED");
    assert_eq!(ok(repos.runs.get(run.id()).await, "get run"), run, "completed");

    let mut failing = Run::new(experiment.id, OWNER, start);
    ok(repos.runs.insert(&failing).await, "insert second run");
    ok(failing.fail("qdrant answered 503: overloaded", start + Duration::seconds(1)), "fail");
    ok(repos.runs.update(&failing, RunStatus::Created).await, "CREATED -> FAILED");
    assert_eq!(ok(repos.runs.get(failing.id()).await, "get run"), failing, "failed");

    let unknown = RunId::new();
    assert_not_found(repos.runs.get(unknown).await, Entity::Run, unknown, "get unknown");
    let ghost = Run::new(experiment.id, OWNER, start);
    assert_not_found(repos.runs.update(&ghost, RunStatus::Created).await, Entity::Run, ghost.id(), "update unknown");
}

/// Deleting a run removes it and its job together; an unknown run is `NotFound`; a run whose
/// collection a snapshot holds is `InUse` by that snapshot (restoring it relies on the settings
/// the run kept), and stays, job included, until the snapshot goes.
pub async fn check_run_delete_removes_its_job_unless_a_snapshot_was_built_by_it(repos: &RepositoryUnderTest) {
    let (connection, _, experiment) = seed_experiment(repos).await;
    let start = now();
    let mut ended = Run::of(&experiment, OWNER, None, start);
    ok(repos.runs.insert(&ended).await, "insert run");
    ok(ended.cancel(start + Duration::seconds(1)), "cancel");
    ok(repos.runs.update(&ended, RunStatus::Created).await, "CREATED -> CANCELED");
    let job_id = ended.job().id();
    ok(repos.runs.delete(ended.id()).await, "delete run");
    assert_not_found(repos.runs.get(ended.id()).await, Entity::Run, ended.id(), "deleted run");
    assert!(
        matches!(repos.jobs.get(job_id).await, Err(RepositoryError::NotFound { entity: Entity::Job, .. })),
        "the deleted run's job is gone too"
    );
    assert_not_found(repos.runs.delete(ended.id()).await, Entity::Run, ended.id(), "delete twice");
    let unknown = RunId::new();
    assert_not_found(repos.runs.delete(unknown).await, Entity::Run, unknown, "delete unknown");

    let built = Run::of(&experiment, OWNER, None, start);
    ok(repos.runs.insert(&built).await, "insert run");
    let spec = SnapshotSpec {
        connection_id: connection.id,
        collection: run_collection(built.id()),
        vault: SnapshotVault::Directory { path: format!("snapshots/{}", unique("dir")) },
    };
    let snapshot = Snapshot::new(spec, OWNER, JobId::new(), start);
    assert_eq!(snapshot.built_by, Some(built.id()), "a run's collection names the run");
    ok(repos.snapshots.insert(&snapshot).await, "insert snapshot");
    let refused = repos.runs.delete(built.id()).await;
    assert_in_use(refused, (Entity::Run, built.id()), Entity::Snapshot, 1, snapshot.id, "run");
    assert_eq!(ok(repos.runs.get(built.id()).await, "get run"), built, "a refused delete keeps the run");
    ok(repos.jobs.get(built.job().id()).await, "a refused delete keeps the job");

    ok(repos.snapshots.delete(snapshot.id).await, "delete snapshot");
    ok(repos.runs.delete(built.id()).await, "delete the run no snapshot names");
    assert_not_found(repos.runs.get(built.id()).await, Entity::Run, built.id(), "deleted run");
}
