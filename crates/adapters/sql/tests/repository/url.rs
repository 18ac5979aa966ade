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
