//! The job worker: heartbeats end with their job (panics included), pause and resume, labels and
//! lost workers, on an injected clock.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use qbench_domain::{Caller, Job, JobKind, JobStatus, NoopPayload};
use qbench_repository::{ClaimRequest, JobRepository};
use qbench_service::jobs::{
    JobContext, JobError, JobHandler, JobOutcome, JobService, JobWorker, NoopHandler, WorkerSettings,
};
use qbench_service::{Clock, ManualClock, ServiceError, SystemClock};
use qbench_testkit::in_memory_repositories_with_clock;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// A `noop` handler that panics instead.
struct Panicking;

#[async_trait]
impl JobHandler for Panicking {
    fn kind(&self) -> JobKind {
        JobKind::Noop
    }

    async fn execute(&self, _job: &Job, context: &JobContext) -> Result<JobOutcome, JobError> {
        context.progress.enter("steps", Some(3));
        tokio::time::sleep(Duration::from_millis(60)).await;
        panic!("the handler broke");
    }
}

struct Setup {
    jobs: Arc<dyn JobRepository>,
    service: JobService,
    settings: WorkerSettings,
    clock: Arc<dyn Clock>,
}

fn setup(clock: Arc<dyn Clock>) -> Setup {
    let (repositories, _database, _queue) = in_memory_repositories_with_clock(clock.clone());
    let service = JobService::new(
        repositories.jobs.clone(),
        repositories.workers.clone(),
        repositories.queue.clone(),
        clock.clone(),
    );
    let settings = WorkerSettings {
        heartbeat: Duration::from_millis(10),
        poll_interval: Duration::from_millis(10),
        ..WorkerSettings::default()
    };
    Setup { jobs: repositories.jobs.clone(), service, settings, clock }
}

fn noop(steps: u64, step_ms: u64) -> NoopPayload {
    NoopPayload { steps, step_ms }
}

#[tokio::test]
async fn a_panicking_execution_fails_its_job_and_stops_its_heartbeat() {
    let setup = setup(Arc::new(SystemClock));
    let job = setup.service.submit_noop(&Caller::development(), noop(3, 0), None).await.unwrap();
    let worker = Arc::new(
        JobWorker::new(setup.jobs.clone(), setup.settings.clone(), setup.clock.clone())
            .with_handler(Arc::new(Panicking)),
    );
    let ended = worker.run_next().await.unwrap().expect("the queued job");
    assert_eq!(ended.status(), JobStatus::Failed);
    assert_eq!(ended.error(), Some("steps: the job panicked: the handler broke"));
    // Were the heartbeat still renewing, the stored job would change again.
    let updated = ended.updated_at();
    tokio::time::sleep(setup.settings.heartbeat * 5).await;
    assert_eq!(setup.jobs.get(job.id()).await.unwrap().updated_at(), updated, "no heartbeat after the end");
}

#[tokio::test]
async fn a_paused_job_stops_at_a_safe_point_and_resumes_from_its_progress() {
    let setup = setup(Arc::new(SystemClock));
    let dev = Caller::development();
    let job = setup.service.submit_noop(&dev, noop(40, 5), None).await.unwrap();
    let worker = Arc::new(
        JobWorker::new(setup.jobs.clone(), setup.settings.clone(), setup.clock.clone())
            .with_handler(Arc::new(NoopHandler)),
    );
    let running = tokio::spawn({
        let worker = worker.clone();
        async move { worker.run_next().await }
    });
    // Pause once it has made progress.
    loop {
        let now = setup.jobs.get(job.id()).await.unwrap();
        if now.status() == JobStatus::Running && now.progress().done >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let asked = setup.service.pause(&dev, job.id()).await.unwrap();
    assert!(asked.pause_requested());
    let paused = running.await.unwrap().unwrap().expect("the job");
    assert_eq!(paused.status(), JobStatus::Paused);
    let done = paused.progress().done;
    assert!((3..40).contains(&done), "paused between steps at {done}");

    let resumed = setup.service.resume(&dev, job.id()).await.unwrap();
    assert_eq!(resumed.status(), JobStatus::Created);
    let ended = worker.run_next().await.unwrap().expect("the resumed job");
    assert_eq!(ended.status(), JobStatus::Completed);
    assert_eq!(ended.attempts(), 2);
    assert_eq!(ended.progress().done, 40, "the resumed job finished the remaining steps, not all of them again");
}

#[tokio::test]
async fn a_benchmark_refuses_to_pause_with_409_and_its_reason() {
    let setup = setup(Arc::new(SystemClock));
    let run = Job::new(
        qbench_domain::JobId::new(),
        JobKind::Benchmark,
        Caller::DEVELOPMENT_USER,
        serde_json::json!({}),
        None,
        setup.clock.now(),
    );
    setup.jobs.insert(&run).await.unwrap();
    let error = setup.service.pause(&Caller::development(), run.id()).await.unwrap_err();
    let ServiceError::Conflict(reason) = error else { panic!("expected Conflict, got {error:?}") };
    assert!(reason.contains("a benchmark cannot pause"), "{reason}");
}

#[tokio::test]
async fn a_lost_resumable_job_goes_back_to_the_queue_and_finishes_elsewhere() {
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let setup = setup(clock.clone());
    let job = setup.service.submit_noop(&Caller::development(), noop(2, 0), None).await.unwrap();
    let crashed = ClaimRequest {
        worker: "crashed".to_owned(),
        labels: Vec::new(),
        kinds: vec![JobKind::Noop],
        lease: Duration::from_secs(30),
    };
    setup.jobs.claim_next(&crashed).await.unwrap().expect("claimed");
    let worker = Arc::new(
        JobWorker::new(setup.jobs.clone(), setup.settings.clone(), setup.clock.clone())
            .with_handler(Arc::new(NoopHandler)),
    );
    assert_eq!(worker.sweep_lost().await.unwrap(), 0, "the lease holds");
    clock.advance(Duration::from_secs(31));
    assert_eq!(worker.sweep_lost().await.unwrap(), 1);
    assert_eq!(setup.jobs.get(job.id()).await.unwrap().status(), JobStatus::Created, "handed back");
    let ended = worker.run_next().await.unwrap().expect("the handed-back job");
    assert_eq!((ended.status(), ended.attempts()), (JobStatus::Completed, 2));
}

#[tokio::test]
async fn a_worker_takes_only_jobs_whose_label_it_carries() {
    let setup = setup(Arc::new(SystemClock));
    let dev = Caller::development();
    let highmem = setup.service.submit_noop(&dev, noop(0, 0), Some("highmem".parse().unwrap())).await.unwrap();
    let plain = JobWorker::new(setup.jobs.clone(), setup.settings.clone(), setup.clock.clone())
        .with_handler(Arc::new(NoopHandler));
    let plain = Arc::new(plain);
    assert!(plain.run_next().await.unwrap().is_none(), "an unlabelled worker leaves it");
    let labelled = WorkerSettings { labels: vec!["highmem".parse().unwrap()], ..setup.settings.clone() };
    let labelled =
        Arc::new(JobWorker::new(setup.jobs.clone(), labelled, setup.clock.clone()).with_handler(Arc::new(NoopHandler)));
    let ended = labelled.run_next().await.unwrap().expect("the labelled worker takes it");
    assert_eq!((ended.id(), ended.status()), (highmem.id(), JobStatus::Completed));

    // The running loop too: woken, it executes the job and goes on.
    let queued = setup.service.submit_noop(&dev, noop(1, 0), None).await.unwrap();
    let stop = CancellationToken::new();
    let task = tokio::spawn(labelled.clone().run(Arc::new(Notify::new()), stop.clone()));
    tokio::time::timeout(Duration::from_secs(5), async {
        while setup.jobs.get(queued.id()).await.unwrap().status() != JobStatus::Completed {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the loop executes queued jobs");
    stop.cancel();
    task.await.unwrap();
}
