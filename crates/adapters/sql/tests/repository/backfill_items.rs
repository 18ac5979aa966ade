//! Backfill work items below the contract: the index incremental backfills use, and rows that no
//! longer read.

use chrono::{SubsecRound, Utc};
use qbench_domain::backfill::{PlanFile, plan_items};
use qbench_domain::{ConnectionId, JobId};
use qbench_repository::{BackfillRepository, Entity, Page, RepositoryError};
use sea_orm::ConnectionTrait;

use crate::backend::{Backend, FreshDatabase, cipher, execute};

/// What an incremental backfill finds loaded is filtered by connection, collection and status:
/// one index over the three, in that order, created once however often the database starts.
async fn backfill_items_have_an_index_on_connection_collection_and_status(backend: Backend) {
    let fresh = FreshDatabase::new(backend);
    for _ in 0..2 {
        fresh.open(cipher()).await.close().await.unwrap();
    }
    let sql = match backend {
        Backend::Sqlite => "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?",
        Backend::Postgres => "SELECT indexdef FROM pg_indexes WHERE indexname = ?",
    };
    let raw = fresh.raw().await;
    let name = "idx-backfill_items-connection_id-collection-status";
    let found = raw.query_all_raw(fresh.statement(sql, vec![name.into()])).await.unwrap();
    assert_eq!(found.len(), 1, "one index");
    let definition: String = found[0].try_get_by_index(0).unwrap();
    let columns = definition.replace('"', "");
    assert!(
        columns.contains("backfill_items") && columns.contains("(connection_id, collection, status)"),
        "{definition}"
    );
    raw.close().await.unwrap();
}

#[tokio::test]
async fn sqlite_backfill_items_have_an_index_on_connection_collection_and_status() {
    backfill_items_have_an_index_on_connection_collection_and_status(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_backfill_items_have_an_index_on_connection_collection_and_status() {
    backfill_items_have_an_index_on_connection_collection_and_status(Backend::Postgres).await;
}

/// An item whose status no longer fits the domain, or whose counter went negative, reads as
/// `Corrupt` naming the backfill, the item and the column.
async fn a_corrupt_work_item_reads_as_corrupt(backend: Backend) {
    let fresh = FreshDatabase::new(backend);
    let database = fresh.open(cipher()).await;
    let file = PlanFile { location: "train.parquet".to_owned(), bytes: 40, version: None, row_group_rows: vec![10] };
    let backfill = JobId::new();
    let now = Utc::now().trunc_subsecs(6);
    let items = plan_items(backfill, (ConnectionId::new(), "qbench-docs"), &[file], &Default::default(), 100, now);
    database.plan(backfill, &items).await.unwrap();
    let raw = fresh.raw().await;
    let id = backfill.as_uuid();
    let corrupt = |result: Result<_, RepositoryError>, column: &str| match result {
        Err(RepositoryError::Corrupt { entity: Entity::Backfill, id: found, reason }) => {
            assert_eq!(found, backfill.to_string());
            assert!(reason.contains(&format!("`{column}` of item 0")), "{reason}");
        }
        other => panic!("expected Corrupt naming `{column}`, got {other:?}"),
    };

    let sql = "UPDATE backfill_items SET status = ? WHERE backfill_id = ?";
    execute(&raw, fresh.statement(sql, vec!["LOADING".into(), id.into()])).await;
    corrupt(database.items(backfill, None, Page::default()).await.map(drop), "status");
    let sql = "UPDATE backfill_items SET status = ?, points = ? WHERE backfill_id = ?";
    execute(&raw, fresh.statement(sql, vec!["DONE".into(), (-1_i64).into(), id.into()])).await;
    corrupt(database.items(backfill, None, Page::default()).await.map(drop), "points");
    raw.close().await.unwrap();
}

#[tokio::test]
async fn sqlite_a_corrupt_work_item_reads_as_corrupt() {
    a_corrupt_work_item_reads_as_corrupt(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_a_corrupt_work_item_reads_as_corrupt() {
    a_corrupt_work_item_reads_as_corrupt(Backend::Postgres).await;
}
