//! Contract checks of `RunRepository`.

use chrono::Duration;
use qbench_domain::{ExperimentId, Progress, Run, RunId, RunStatus};
use qbench_repository::{Entity, RepositoryError};
use serde_json::json;

use super::RepositoryUnderTest;
use super::fixtures::{OWNER, assert_not_found, err, now, ok, seed_experiment};

/// A run cannot be stored for an experiment that does not exist.
pub async fn check_run_needs_its_experiment(repos: &RepositoryUnderTest) {
    let missing = ExperimentId::new();
    let orphan = Run::new(missing, OWNER, now());
    assert_not_found(repos.runs.insert(&orphan).await, Entity::Experiment, missing, "run of a missing experiment");
    assert_not_found(repos.runs.get(orphan.id()).await, Entity::Run, orphan.id(), "refused run");
}

/// A run reads back equal through its whole life; a status change applies only from the
/// expected status (`Conflict` otherwise); unknown runs are `NotFound`.
pub async fn check_run_life_cycle_and_conditional_update(repos: &RepositoryUnderTest) {
    let (_, _, experiment) = seed_experiment(repos).await;
    let start = now();
    let mut run = Run::new(experiment.id, OWNER, start);
    ok(repos.runs.insert(&run).await, "insert run");
    assert_eq!(ok(repos.runs.get(run.id()).await, "get run"), run, "created");

    let stale = run.clone();
    ok(run.claim("worker-1", start + Duration::seconds(31), start + Duration::seconds(1)), "claim");
    run.report_progress(
        Progress { phase: "upload".to_owned(), done: 1_500, total: Some(10_000) },
        start + Duration::seconds(2),
    );
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

/// Workers claim waiting runs oldest first, each run exactly once, even when they race; a claimed
/// run is `RUNNING` with its worker and lease. Drains every waiting run of the database, so it
/// runs last.
pub async fn check_claims_take_each_waiting_run_once_oldest_first(repos: &RepositoryUnderTest) {
    let (_, _, experiment) = seed_experiment(repos).await;
    let base = now();
    let mut mine = Vec::new();
    for offset in [3, 1, 2, 5, 4, 6] {
        let run = Run::new(experiment.id, OWNER, base + Duration::seconds(offset));
        ok(repos.runs.insert(&run).await, "insert waiting run");
        mine.push((offset, run.id()));
    }
    let lease = base + Duration::seconds(60);
    let claimers: Vec<_> = (0..4)
        .map(|worker| {
            let runs = repos.runs.clone();
            tokio::spawn(async move {
                let mut claimed = Vec::new();
                while let Some(run) = ok(runs.claim_next(&format!("worker-{worker}"), lease, base).await, "claim") {
                    claimed.push(run);
                }
                claimed
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for claimer in claimers {
        claimed.extend(claimer.await.unwrap_or_else(|error| panic!("a claimer panicked: {error}")));
    }
    let mut ids: Vec<RunId> = claimed.iter().map(Run::id).collect();
    ids.sort();
    let unique = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), unique, "a run was claimed twice");
    for (_, id) in &mine {
        let stored = ok(repos.runs.get(*id).await, "get claimed run");
        assert_eq!(stored.status(), RunStatus::Running, "every waiting run is claimed");
        assert!(stored.claimed_by().is_some_and(|worker| worker.starts_with("worker-")));
        assert_eq!(stored.lease_until(), Some(lease));
    }
    assert!(ok(repos.runs.claim_next("worker-9", lease, base).await, "claim when drained").is_none());

    // One worker alone takes them oldest first.
    let mut expected = Vec::new();
    for offset in [2, 1, 3] {
        let run = Run::new(experiment.id, OWNER, base + Duration::seconds(100 + offset));
        ok(repos.runs.insert(&run).await, "insert waiting run");
        expected.push((offset, run.id()));
    }
    expected.sort();
    for (_, id) in expected {
        let Some(run) = ok(repos.runs.claim_next("worker-1", lease, base).await, "claim") else {
            panic!("claim: a waiting run was expected");
        };
        assert_eq!(run.id(), id, "claims go oldest first");
    }
}
