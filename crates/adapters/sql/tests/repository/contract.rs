//! Both backends pass the repository contract suite the in-memory fake passes.

use std::sync::Arc;

use qbench_repository::DatabaseHealth;
use qbench_testkit::contract::{RepositoryUnderTest, check_repository_contract};

use crate::backend::{Backend, FreshDatabase, cipher};

async fn honours_the_contract(backend: Backend, name: &str) {
    let fresh = FreshDatabase::new(backend);
    let database = Arc::new(fresh.open(cipher()).await);
    assert_eq!(database.backend(), name);
    check_repository_contract(&RepositoryUnderTest::new(database)).await;
}

#[tokio::test]
async fn sqlite_honours_the_repository_contract() {
    honours_the_contract(Backend::Sqlite, "sqlite").await;
}

#[tokio::test]
async fn postgres_honours_the_repository_contract() {
    honours_the_contract(Backend::Postgres, "postgres").await;
}
