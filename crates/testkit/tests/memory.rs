//! The in-memory fake passes the repository contract suite, like the SQL adapters.

use std::sync::Arc;

use qbench_domain::JobId;
use qbench_repository::{ConnectionRepository, JobQueue, Page, RepositoryError};
use qbench_testkit::contract::{RepositoryUnderTest, check_repository_contract};
use qbench_testkit::memory::{InMemoryDatabase, RecordingJobQueue, in_memory_repositories};

#[tokio::test]
async fn in_memory_database_honours_the_repository_contract() {
    let repos = RepositoryUnderTest::new(Arc::new(InMemoryDatabase::new()));
    check_repository_contract(&repos).await;
    // The checks share one database and must tolerate what earlier runs left behind.
    check_repository_contract(&repos).await;
}

#[tokio::test]
async fn a_switched_off_database_is_unavailable_everywhere() {
    let (repositories, database, _) = in_memory_repositories();
    database.set_unavailable(true);
    assert!(matches!(repositories.health.ping().await, Err(RepositoryError::Unavailable(_))));
    assert!(matches!(repositories.connections.list(Page::default()).await, Err(RepositoryError::Unavailable(_))));
    database.set_unavailable(false);
    assert!(repositories.health.ping().await.is_ok());
    assert!(database.list(Page::default()).await.is_ok_and(|listed| listed.total == 0));
}

#[tokio::test]
async fn the_recording_queue_records_until_told_to_fail() {
    let queue = RecordingJobQueue::new();
    let first = JobId::new();
    assert!(queue.enqueue(first).await.is_ok());
    queue.fail_with("broker down");
    let refused = queue.enqueue(JobId::new()).await;
    assert!(refused.is_err_and(|error| error.to_string().contains("broker down")));
    queue.succeed();
    let second = JobId::new();
    assert!(queue.enqueue(second).await.is_ok());
    assert_eq!(queue.enqueued(), vec![first, second]);
}
