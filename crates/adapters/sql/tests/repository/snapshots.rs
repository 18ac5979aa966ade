//! Snapshot records below the contract: the index their lists use, and rows that no longer read.

use chrono::{SubsecRound, Utc};
use qbench_domain::{Connection, ConnectionSpec, JobId, Snapshot, SnapshotSpec, SnapshotVault};
use qbench_repository::{ConnectionRepository, Entity, RepositoryError, SnapshotFilter, SnapshotRepository};
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::backend::{Backend, FreshDatabase, cipher, execute};

/// Lists filter snapshots by connection and collection, and a connection's delete looks for its
/// snapshots: one index over both columns, in that order, serves all three.
async fn snapshots_have_an_index_on_connection_and_collection(backend: Backend) {
    let fresh = FreshDatabase::new(backend);
    // Opening twice: the second start finds the index and keeps it.
    for _ in 0..2 {
        fresh.open(cipher()).await.close().await.unwrap();
    }
    let sql = match backend {
        Backend::Sqlite => "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?",
        Backend::Postgres => "SELECT indexdef FROM pg_indexes WHERE indexname = ?",
    };
    let raw = fresh.raw().await;
    let found =
        raw.query_all_raw(fresh.statement(sql, vec!["idx-snapshots-connection_id-collection".into()])).await.unwrap();
    assert_eq!(found.len(), 1, "one index");
    let definition: String = found[0].try_get_by_index(0).unwrap();
    let columns = definition.replace('"', "");
    assert!(columns.contains("snapshots") && columns.contains("(connection_id, collection)"), "{definition}");
    raw.close().await.unwrap();
}

#[tokio::test]
async fn sqlite_snapshots_have_an_index_on_connection_and_collection() {
    snapshots_have_an_index_on_connection_and_collection(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_snapshots_have_an_index_on_connection_and_collection() {
    snapshots_have_an_index_on_connection_and_collection(Backend::Postgres).await;
}

/// A row whose status or vault no longer fits the domain reads as `Corrupt`, naming the
/// snapshot and the column, from `get` and from a list that meets it.
async fn a_corrupt_snapshot_row_reads_as_corrupt(backend: Backend) {
    let fresh = FreshDatabase::new(backend);
    let database = fresh.open(cipher()).await;
    let now = Utc::now().trunc_subsecs(6);
    let connection = Connection::new(
        ConnectionSpec { name: "engine".to_owned(), url: "http://q:6333".to_owned(), api_key: None },
        now,
    );
    ConnectionRepository::insert(&database, &connection).await.unwrap();
    let spec = SnapshotSpec {
        connection_id: connection.id,
        collection: "docs".to_owned(),
        vault: SnapshotVault::Directory { path: "snapshots".to_owned() },
    };
    let snapshot = Snapshot::new(spec, "ann@example.com", JobId::new(), now);
    SnapshotRepository::insert(&database, &snapshot).await.unwrap();
    let raw = fresh.raw().await;
    let id = snapshot.id.as_uuid();
    let of_connection = SnapshotFilter { connection_id: Some(connection.id), ..SnapshotFilter::default() };

    let corrupt = |result: Result<_, RepositoryError>, column: &str| match result {
        Err(RepositoryError::Corrupt { entity: Entity::Snapshot, id: found, reason }) => {
            assert_eq!(found, snapshot.id.to_string());
            assert!(reason.contains(&format!("`{column}`")), "{reason}");
        }
        other => panic!("expected Corrupt naming `{column}`, got {other:?}"),
    };

    execute(&raw, fresh.statement("UPDATE snapshots SET status = ? WHERE id = ?", vec!["ARCHIVING".into(), id.into()]))
        .await;
    corrupt(SnapshotRepository::get(&database, snapshot.id).await.map(drop), "status");
    corrupt(SnapshotRepository::list(&database, of_connection.clone(), Default::default()).await.map(drop), "status");

    let vault = json!({"ftp": {"host": "archive.test"}});
    let values = vec!["CREATING".into(), vault.into(), id.into()];
    execute(&raw, fresh.statement("UPDATE snapshots SET status = ?, vault = ? WHERE id = ?", values)).await;
    corrupt(SnapshotRepository::get(&database, snapshot.id).await.map(drop), "vault");
    corrupt(SnapshotRepository::list(&database, of_connection, Default::default()).await.map(drop), "vault");
    raw.close().await.unwrap();
}

#[tokio::test]
async fn sqlite_a_corrupt_snapshot_row_reads_as_corrupt() {
    a_corrupt_snapshot_row_reads_as_corrupt(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_a_corrupt_snapshot_row_reads_as_corrupt() {
    a_corrupt_snapshot_row_reads_as_corrupt(Backend::Postgres).await;
}
