//! Secrets are stored encrypted only, and a ciphertext moved to another row does not open there.

use chrono::{SubsecRound, Utc};
use qbench_domain::{Connection, ConnectionSpec, ObjectStorage, Secret, StorageSpec};
use qbench_repository::{ConnectionRepository, RepositoryError, StorageRepository};
use qbench_sql::SqlDatabase;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::backend::{Backend, FreshDatabase, cipher};

pub(crate) const API_KEY: &str = "qdrant-api-key-PLAINTEXT-123";
const ACCESS_KEY: &str = "minio-access-PLAINTEXT-456";
const SECRET_KEY: &str = "minio-secret-PLAINTEXT-789";
const SECRETS: [&str; 3] = [API_KEY, ACCESS_KEY, SECRET_KEY];

pub(crate) fn new_connection(api_key: Option<&str>) -> Connection {
    let name = format!("prod-{}", uuid::Uuid::new_v4().simple());
    Connection::new(
        ConnectionSpec {
            name,
            url: "https://qdrant.test:6333".to_owned(),
            api_key: api_key.map(|key| Secret::from(key.to_owned())),
        },
        Utc::now().trunc_subsecs(6),
    )
}

fn storage() -> ObjectStorage {
    ObjectStorage::new(
        StorageSpec {
            name: Some(format!("minio-{}", uuid::Uuid::new_v4().simple())),
            bucket: "datasets".to_owned(),
            region: "us-east-1".to_owned(),
            endpoint_url: Some("http://minio.test:9000".to_owned()),
            access_key: Some(Secret::from(ACCESS_KEY.to_owned())),
            secret_key: Some(Secret::from(SECRET_KEY.to_owned())),
        },
        Utc::now().trunc_subsecs(6),
    )
}

pub(crate) async fn store_secrets(database: &SqlDatabase) -> (Connection, ObjectStorage) {
    let connection = new_connection(Some(API_KEY));
    ConnectionRepository::insert(database, &connection).await.unwrap();
    let storage = storage();
    StorageRepository::insert(database, &storage).await.unwrap();
    (connection, storage)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Every byte the SQLite database keeps: the file and, if still there, its write-ahead log.
fn sqlite_bytes(fresh: &FreshDatabase) -> Vec<u8> {
    let file = fresh.sqlite_file.clone().unwrap();
    let mut bytes = std::fs::read(&file).unwrap();
    for suffix in ["-wal", "-journal"] {
        let mut side = file.clone().into_os_string();
        side.push(suffix);
        if let Ok(more) = std::fs::read(&side) {
            bytes.extend(more);
        }
    }
    bytes
}

/// Every stored row of the two tables, as PostgreSQL prints them (`bytea` in hex).
async fn postgres_rows(fresh: &FreshDatabase) -> String {
    let raw = fresh.raw().await;
    let mut text = String::new();
    for table in ["connections", "storages"] {
        let sql = format!("SELECT t::text FROM {table} t");
        for row in raw.query_all_raw(Statement::from_string(DbBackend::Postgres, sql)).await.unwrap() {
            text.push_str(&row.try_get_by_index::<String>(0).unwrap());
            text.push('\n');
        }
    }
    raw.close().await.unwrap();
    text
}

async fn secrets_are_stored_encrypted_only(backend: Backend) {
    let fresh = FreshDatabase::new(backend);
    let database = fresh.open(cipher()).await;
    let (connection, storage) = store_secrets(&database).await;
    // Read back through the adapter, the secrets are intact.
    let read = ConnectionRepository::get(&database, connection.id).await.unwrap();
    assert_eq!(read.spec.api_key.as_ref().map(secrecy::ExposeSecret::expose_secret), Some(API_KEY));
    database.close().await.unwrap();

    let stored = match backend {
        Backend::Sqlite => String::from_utf8_lossy(&sqlite_bytes(&fresh)).into_owned(),
        Backend::Postgres => postgres_rows(&fresh).await,
    };
    // The rows are really there (so the check below looks at the right bytes)...
    assert!(stored.contains(&connection.spec.name), "the connection row is missing from what was read");
    assert!(stored.contains(storage.spec.name.as_deref().unwrap()), "the storage row is missing");
    // ...and no secret appears in them, neither as text nor hex-encoded.
    for secret in SECRETS {
        assert!(!stored.contains(secret), "`{secret}` is stored in clear");
        assert!(!stored.contains(&hex(secret.as_bytes())), "`{secret}` is stored in clear (as hex)");
    }
}

#[tokio::test]
async fn sqlite_stores_secrets_encrypted_only() {
    secrets_are_stored_encrypted_only(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_stores_secrets_encrypted_only() {
    secrets_are_stored_encrypted_only(Backend::Postgres).await;
}

#[track_caller]
pub(crate) fn assert_key_mismatch<T>(result: Result<T, RepositoryError>, stored: &str) {
    match result {
        Err(RepositoryError::SecretKeyMismatch { stored: found }) => assert_eq!(found, stored),
        Err(other) => panic!("expected SecretKeyMismatch, got {other:?}"),
        Ok(_) => panic!("expected SecretKeyMismatch, got Ok"),
    }
}

/// Ciphertext copied into another row does not decrypt there: it is bound to its row.
async fn swapped_ciphertexts_do_not_open(backend: Backend) {
    let fresh = FreshDatabase::new(backend);
    let database = fresh.open(cipher()).await;
    let victim = new_connection(Some(API_KEY));
    ConnectionRepository::insert(&database, &victim).await.unwrap();
    let attacker = new_connection(Some("attacker-key"));
    ConnectionRepository::insert(&database, &attacker).await.unwrap();

    let raw = fresh.raw().await;
    let sql = "UPDATE connections SET api_key = (SELECT api_key FROM connections WHERE id = ?) WHERE id = ?";
    let values = vec![victim.id.as_uuid().into(), attacker.id.as_uuid().into()];
    raw.execute_raw(fresh.statement(sql, values)).await.unwrap();
    raw.close().await.unwrap();

    assert_key_mismatch(
        ConnectionRepository::get(&database, attacker.id).await,
        &format!("connection {}", attacker.id),
    );
}

#[tokio::test]
async fn sqlite_ciphertexts_are_bound_to_their_row() {
    swapped_ciphertexts_do_not_open(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_ciphertexts_are_bound_to_their_row() {
    swapped_ciphertexts_do_not_open(Backend::Postgres).await;
}
