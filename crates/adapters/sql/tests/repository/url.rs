//! What `SqlDatabase::connect` accepts and how it fails.

use qbench_repository::RepositoryError;
use qbench_sql::SqlDatabase;

use crate::backend::cipher;

#[tokio::test]
async fn an_unsupported_scheme_is_named_without_the_password() {
    let error = SqlDatabase::connect("mysql://root:hunter2@db.test/qbench", cipher()).await.unwrap_err();
    let message = error.to_string();
    assert!(message.contains("`mysql`"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
}

#[tokio::test]
async fn an_unreachable_postgres_is_unavailable_and_keeps_the_password_out() {
    // Nothing listens on port 1, so the connection is refused at once.
    let error = SqlDatabase::connect("postgres://qbench:hunter2@127.0.0.1:1/qbench", cipher()).await.unwrap_err();
    assert!(matches!(error, RepositoryError::Unavailable(_)), "{error:?}");
    assert!(!error.to_string().contains("hunter2"), "{error}");
}

#[tokio::test]
async fn sqlite_creates_the_file_and_its_directories() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nested/deeper/qbench.db");
    let database = SqlDatabase::connect(&format!("sqlite://{}", file.display()), cipher()).await.unwrap();
    assert!(file.exists(), "{} was not created", file.display());
    database.close().await.unwrap();
}

/// Regression (issue 11): `qbench.db` was world-readable (0644). It is created 0600, and an
/// existing world-readable file (and its write-ahead log) is narrowed to 0600 when opened.
#[tokio::test]
async fn qbench_db_was_world_readable_and_is_now_0600() {
    use std::os::unix::fs::PermissionsExt;

    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("qbench.db");
    let url = format!("sqlite://{}", file.display());
    let database = SqlDatabase::connect(&url, cipher()).await.unwrap();
    assert_eq!(mode(&file), 0o600, "a new database");
    database.close().await.unwrap();

    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let database = SqlDatabase::connect(&url, cipher()).await.unwrap();
    assert_eq!(mode(&file), 0o600, "an existing world-readable database");
    let wal = dir.path().join("qbench.db-wal");
    if wal.exists() {
        assert_eq!(mode(&wal), 0o600, "its write-ahead log");
    }
    database.close().await.unwrap();
}
