//! Contract checks of `JobRepository` and `WorkerRepository`.

use std::time::Duration;

use qbench_domain::{Job, JobId, JobKind, JobStatus, NoopPayload, Progress, WorkerLabel};
use qbench_repository::{ClaimRequest, Entity, JobFilter, Page, RepositoryError, WorkerInfo};

use super::RepositoryUnderTest;
use super::fixtures::{OWNER, err, now, ok, unique};

fn noop(requires: Option<&str>, offset_seconds: i64) -> Job {
    let payload = serde_json::to_value(NoopPayload { steps: 1, step_ms: 0 }).unwrap_or_default();
    let requires = requires.map(|label| label.parse::<WorkerLabel>().unwrap_or_else(|error| panic!("{error}")));
    Job::new(JobId::new(), JobKind::Noop, OWNER, payload, requires, now() + chrono::Duration::seconds(offset_seconds))
}

fn request(worker: &str, labels: &[&str], lease: Duration) -> ClaimRequest {
    ClaimRequest {
        worker: worker.to_owned(),
        labels: labels.iter().map(|label| label.parse().unwrap_or_else(|error| panic!("{error}"))).collect(),
        kinds: vec![JobKind::Noop],
        lease,
    }
}

const MINUTE: Duration = Duration::from_secs(60);

/// A job reads back equal; updates apply only from the expected status and, for a running job,
/// only for its holder; unknown jobs are `NotFound`.
pub async fn check_job_round_trip_and_conditional_update(repos: &RepositoryUnderTest) {
    let job = noop(Some("highmem"), 0);
    ok(repos.jobs.insert(&job).await, "insert job");
    assert_eq!(ok(repos.jobs.get(job.id()).await, "get job"), job, "created");
    let unknown = JobId::new();
    assert!(matches!(repos.jobs.get(unknown).await, Err(RepositoryError::NotFound { entity: Entity::Job, .. })));

    let mut paused = job.clone();
    ok(paused.request_pause(now()), "pause a waiting job");
    ok(repos.jobs.update(&paused, JobStatus::Created).await, "CREATED -> PAUSED");
    let stale = err(repos.jobs.update(&paused, JobStatus::Created).await, "stale update");
    assert!(matches!(stale, RepositoryError::Conflict { entity: Entity::Job, .. }), "{stale:?}");
    assert_eq!(ok(repos.jobs.get(job.id()).await, "get job").status(), JobStatus::Paused);
}

/// Workers claim waiting jobs oldest first, each exactly once even when they race, and only
/// jobs of the kinds asked for whose label they carry; a claimed job is `RUNNING` with its
/// worker, one attempt and a lease on the database's clock. Drains every waiting `noop` job.
pub async fn check_claims_take_each_waiting_job_once_oldest_first(repos: &RepositoryUnderTest) {
    let mut mine = Vec::new();
    for offset in [3, 1, 2, 5, 4, 6, 7, 8] {
        let job = noop(None, offset);
        ok(repos.jobs.insert(&job).await, "insert waiting job");
        mine.push(job.id());
    }
    let before = ok(repos.jobs.now().await, "database clock");
    let claimers: Vec<_> = (0..4)
        .map(|worker| {
            let jobs = repos.jobs.clone();
            tokio::spawn(async move {
                let mut claimed = Vec::new();
                let request = request(&format!("worker-{worker}"), &[], MINUTE);
                while let Some(job) = ok(jobs.claim_next(&request).await, "claim") {
                    claimed.push(job);
                }
                claimed
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for claimer in claimers {
        claimed.extend(claimer.await.unwrap_or_else(|error| panic!("a claimer panicked: {error}")));
    }
    let mut ids: Vec<JobId> = claimed.iter().map(Job::id).collect();
    ids.sort();
    let unique_ids = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), unique_ids, "a job was claimed twice");
    for id in &mine {
        let stored = ok(repos.jobs.get(*id).await, "get claimed job");
        assert_eq!(stored.status(), JobStatus::Running, "every waiting job is claimed");
        assert_eq!(stored.attempts(), 1);
        assert!(stored.claimed_by().is_some_and(|worker| worker.starts_with("worker-")));
        let lease = stored.lease_until().unwrap_or_else(|| panic!("a claimed job has a lease"));
        assert!(lease >= before + chrono::Duration::seconds(59), "the lease runs from the database's clock");
    }

    // Kinds and labels: a benchmark-only claim takes no noop job; an unlabelled worker takes no
    // job requiring a label; a worker carrying it does.
    let labelled = noop(Some("highmem"), 20);
    ok(repos.jobs.insert(&labelled).await, "insert labelled job");
    let mut benchmarks_only = request("worker-b", &[], MINUTE);
    benchmarks_only.kinds = vec![JobKind::Benchmark];
    let taken = ok(repos.jobs.claim_next(&benchmarks_only).await, "claim other kinds");
    assert!(taken.is_none_or(|job| job.kind() == JobKind::Benchmark), "only the kinds asked for");
    assert!(ok(repos.jobs.claim_next(&request("worker-x", &[], MINUTE)).await, "unlabelled claim").is_none());
    let Some(taken) = ok(repos.jobs.claim_next(&request("worker-h", &["gpu", "highmem"], MINUTE)).await, "claim")
    else {
        panic!("a worker carrying the label takes the job");
    };
    assert_eq!(taken.id(), labelled.id());

    // One worker alone takes them oldest first.
    let mut expected = Vec::new();
    for offset in [2, 1, 3] {
        let job = noop(None, 100 + offset);
        ok(repos.jobs.insert(&job).await, "insert waiting job");
        expected.push((offset, job.id()));
    }
    expected.sort();
    for (_, id) in expected {
        let Some(job) = ok(repos.jobs.claim_next(&request("worker-1", &[], MINUTE)).await, "claim") else {
            panic!("claim: a waiting job was expected");
        };
        assert_eq!(job.id(), id, "claims go oldest first");
    }
}

/// A heartbeat renews the holder's lease and reports a pause request without touching it; a
/// worker that lost its job can neither beat nor write over the next holder's.
pub async fn check_heartbeats_and_holders(repos: &RepositoryUnderTest) {
    let job = noop(None, -1_000);
    ok(repos.jobs.insert(&job).await, "insert job");
    let worker = unique("w");
    let mut held = loop {
        let Some(claimed) = ok(repos.jobs.claim_next(&request(&worker, &[], MINUTE)).await, "claim") else {
            panic!("the waiting job is claimed");
        };
        if claimed.id() == job.id() {
            break claimed;
        }
    };
    let progress = Progress::at("steps", 3, Some(10));
    let reply = ok(repos.jobs.heartbeat(job.id(), &worker, &progress, MINUTE).await, "heartbeat");
    assert!(!reply.pause_requested);
    let error = err(repos.jobs.heartbeat(job.id(), "someone-else", &progress, MINUTE).await, "foreign beat");
    assert!(matches!(error, RepositoryError::Conflict { .. }), "{error:?}");
    assert_eq!(ok(repos.jobs.get(job.id()).await, "get").progress(), &progress, "the beat wrote progress");

    ok(repos.jobs.request_pause(job.id()).await, "ask a pause");
    let reply = ok(repos.jobs.heartbeat(job.id(), &worker, &progress, MINUTE).await, "heartbeat");
    assert!(reply.pause_requested, "the next beat sees the pause request");
    assert!(ok(repos.jobs.get(job.id()).await, "get").pause_requested(), "the beat kept the request");

    // The worker is lost: the job goes back to the queue and another worker takes it.
    let now = ok(repos.jobs.now().await, "clock");
    let mut lost = ok(repos.jobs.get(job.id()).await, "get");
    ok(lost.lose_worker(now), "lose the worker");
    ok(repos.jobs.update(&lost, JobStatus::Running).await, "hand back");
    let next = unique("w");
    let retaken = loop {
        let Some(claimed) = ok(repos.jobs.claim_next(&request(&next, &[], MINUTE)).await, "claim") else {
            panic!("the handed-back job is claimed again");
        };
        if claimed.id() == job.id() {
            break claimed;
        }
    };
    assert_eq!(retaken.attempts(), 2);
    assert_eq!(retaken.progress().done, 3, "a handed-back job keeps its progress");
    let error = err(repos.jobs.heartbeat(job.id(), &worker, &progress, MINUTE).await, "lost worker's beat");
    assert!(matches!(error, RepositoryError::Conflict { .. }), "{error:?}");
    ok(held.complete(serde_json::json!({}), now), "the lost worker finishes late");
    let error = err(repos.jobs.update(&held, JobStatus::Running).await, "lost worker's end");
    assert!(matches!(error, RepositoryError::Conflict { .. }), "{error:?}");
    assert_eq!(ok(repos.jobs.get(job.id()).await, "get").claimed_by(), Some(next.as_str()));
}

/// A running job whose lease lapsed on the database's clock is listed as expired; one whose
/// lease holds is not.
pub async fn check_expired_leases(repos: &RepositoryUnderTest) {
    let short = noop(None, -2_000);
    let long = noop(None, -1_999);
    ok(repos.jobs.insert(&short).await, "insert");
    ok(repos.jobs.insert(&long).await, "insert");
    let worker = unique("w");
    let mut claimed = Vec::new();
    for lease in [Duration::ZERO, MINUTE] {
        let Some(job) = ok(repos.jobs.claim_next(&request(&worker, &[], lease)).await, "claim") else {
            panic!("a waiting job");
        };
        claimed.push(job.id());
    }
    assert_eq!(claimed, [short.id(), long.id()]);
    // The database's clock moves on by itself; wait for it, at most a second.
    let mut expired = Vec::new();
    for _ in 0..200 {
        expired = ok(repos.jobs.expired().await, "expired").iter().map(Job::id).collect();
        if expired.contains(&short.id()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(expired.contains(&short.id()), "a lapsed lease is expired");
    assert!(!expired.contains(&long.id()), "a holding lease is not");
}

/// Stats count jobs by kind and status and running jobs per worker; announced workers are listed
/// while recent.
pub async fn check_queue_stats_and_workers(repos: &RepositoryUnderTest) {
    let before = ok(repos.jobs.stats().await, "stats");
    let count = |stats: &qbench_repository::QueueStats, status: JobStatus| {
        stats.counts.iter().find(|(kind, s, _)| *kind == JobKind::Noop && *s == status).map_or(0, |(_, _, n)| *n)
    };
    let waiting = noop(None, -3_000);
    ok(repos.jobs.insert(&waiting).await, "insert");
    let after = ok(repos.jobs.stats().await, "stats");
    assert_eq!(count(&after, JobStatus::Created), count(&before, JobStatus::Created) + 1);
    assert!(after.oldest_waiting.is_some_and(|oldest| oldest <= waiting.created_at()));
    let worker = unique("w");
    let Some(_) = ok(repos.jobs.claim_next(&request(&worker, &[], MINUTE)).await, "claim") else {
        panic!("a waiting job");
    };
    let stats = ok(repos.jobs.stats().await, "stats");
    assert_eq!(stats.running_by_worker.iter().find(|(w, _)| *w == worker).map(|(_, n)| *n), Some(1));
    let running = ok(
        repos.jobs.list(JobFilter { claimed_by: Some(worker.clone()), ..JobFilter::default() }, Page::default()).await,
        "list by worker",
    );
    assert_eq!(running.total, 1);

    let now = ok(repos.jobs.now().await, "clock");
    let info = WorkerInfo {
        id: worker.clone(),
        host: "host-a".to_owned(),
        labels: vec!["highmem".parse().unwrap_or_else(|error| panic!("{error}"))],
        max_concurrent_runs: 1,
        max_concurrent_jobs: 4,
        started_at: now,
        last_seen: now,
    };
    ok(repos.workers.announce(&info).await, "announce");
    ok(repos.workers.announce(&info).await, "announce again");
    let seen = ok(repos.workers.seen_within(MINUTE).await, "seen");
    let mine: Vec<&WorkerInfo> = seen.iter().filter(|seen| seen.id == worker).collect();
    assert_eq!(mine.len(), 1, "announcing twice lists a worker once");
    assert_eq!((mine[0].host.as_str(), mine[0].labels.len(), mine[0].max_concurrent_jobs), ("host-a", 1, 4));
}
