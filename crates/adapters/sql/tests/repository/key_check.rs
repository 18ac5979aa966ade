//! The database records the deployment's secret key at first start and refuses any other.

use qbench_repository::{ConnectionRepository, StorageRepository};
use qbench_sql::{SecretCipher, SqlDatabase};
use secrecy::ExposeSecret;

use crate::backend::{Backend, FreshDatabase, cipher, execute};
use crate::secrets::{assert_key_mismatch, store_secrets};

const KEY_CHECK: &str = "the secret-key check stored at the database's first start";

fn another_key() -> SecretCipher {
    SecretCipher::new(SecretCipher::generate_key())
}

/// Forgets the key check, as in a database written before it existed.
async fn forget_key_check(fresh: &FreshDatabase) {
    let raw = fresh.raw().await;
    execute(&raw, fresh.statement("DELETE FROM settings", vec![])).await;
    raw.close().await.unwrap();
}

/// Regression (issue 12): a process started with another key read every stored credential as
/// corrupt; now it cannot open the database at all, even one that holds no secret yet.
async fn another_key_read_credentials_as_corrupt_and_is_now_refused_at_connect(backend: Backend) {
    let fresh = FreshDatabase::new(backend);
    fresh.open(cipher()).await.close().await.unwrap();
    assert_key_mismatch(SqlDatabase::connect(&fresh.url, another_key()).await, KEY_CHECK);

    let database = fresh.open(cipher()).await;
    let (connection, storage) = store_secrets(&database).await;
    database.close().await.unwrap();
    assert_key_mismatch(SqlDatabase::connect(&fresh.url, another_key()).await, KEY_CHECK);

    // The deployment's key still opens it, and its secrets.
    let database = fresh.open(cipher()).await;
    let read = ConnectionRepository::get(&database, connection.id).await.unwrap();
    assert_eq!(read.spec.api_key.unwrap().expose_secret(), crate::secrets::API_KEY);
    StorageRepository::get(&database, storage.id).await.unwrap();
}

#[tokio::test]
async fn sqlite_another_key_read_credentials_as_corrupt_and_is_now_refused_at_connect() {
    another_key_read_credentials_as_corrupt_and_is_now_refused_at_connect(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_another_key_read_credentials_as_corrupt_and_is_now_refused_at_connect() {
    another_key_read_credentials_as_corrupt_and_is_now_refused_at_connect(Backend::Postgres).await;
}

/// A database without a key check is held to its oldest sealed secret: another key is refused
/// naming it, the right key is recorded.
async fn an_older_database_is_checked_against_a_stored_secret(backend: Backend) {
    let fresh = FreshDatabase::new(backend);
    let database = fresh.open(cipher()).await;
    let (connection, _) = store_secrets(&database).await;
    database.close().await.unwrap();
    forget_key_check(&fresh).await;

    let named = format!("connection {}", connection.id);
    assert_key_mismatch(SqlDatabase::connect(&fresh.url, another_key()).await, &named);
    fresh.open(cipher()).await.close().await.unwrap();
    // The right key was recorded: another one is now refused by the check itself.
    assert_key_mismatch(SqlDatabase::connect(&fresh.url, another_key()).await, KEY_CHECK);
}

#[tokio::test]
async fn sqlite_an_older_database_is_checked_against_a_stored_secret() {
    an_older_database_is_checked_against_a_stored_secret(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_an_older_database_is_checked_against_a_stored_secret() {
    an_older_database_is_checked_against_a_stored_secret(Backend::Postgres).await;
}

/// An older database with secrets in storages only is checked against those.
async fn an_older_database_with_storage_secrets_only_is_checked_against_them(backend: Backend) {
    let fresh = FreshDatabase::new(backend);
    let database = fresh.open(cipher()).await;
    let (connection, storage) = store_secrets(&database).await;
    ConnectionRepository::delete(&database, connection.id).await.unwrap();
    database.close().await.unwrap();
    forget_key_check(&fresh).await;

    let named = format!("storage {}", storage.id);
    assert_key_mismatch(SqlDatabase::connect(&fresh.url, another_key()).await, &named);
}

#[tokio::test]
async fn sqlite_an_older_database_with_storage_secrets_only_is_checked_against_them() {
    an_older_database_with_storage_secrets_only_is_checked_against_them(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_an_older_database_with_storage_secrets_only_is_checked_against_them() {
    an_older_database_with_storage_secrets_only_is_checked_against_them(Backend::Postgres).await;
}

/// An older database holding no secret accepts the first key it is opened with, and then only it.
async fn an_older_database_without_secrets_records_the_first_key(backend: Backend) {
    let fresh = FreshDatabase::new(backend);
    fresh.open(cipher()).await.close().await.unwrap();
    forget_key_check(&fresh).await;

    let first = SecretCipher::new([7; 32]);
    SqlDatabase::connect(&fresh.url, first).await.unwrap().close().await.unwrap();
    assert_key_mismatch(SqlDatabase::connect(&fresh.url, cipher()).await, KEY_CHECK);
}

#[tokio::test]
async fn sqlite_an_older_database_without_secrets_records_the_first_key() {
    an_older_database_without_secrets_records_the_first_key(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_an_older_database_without_secrets_records_the_first_key() {
    an_older_database_without_secrets_records_the_first_key(Backend::Postgres).await;
}
