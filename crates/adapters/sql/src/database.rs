//! The database handle: connecting, schema sync, transactions and health.

use std::fmt;

use async_trait::async_trait;
use qbench_repository::{DatabaseHealth, RepositoryError};
use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, SqliteTransactionMode, Statement,
    TransactionOptions, TransactionTrait,
};

use crate::SecretCipher;
use crate::entity::{
    api_keys, backfill_items, connections, datasets, experiments, jobs, runs, settings, snapshots, storages, workers,
};
use crate::error::{db_error, db_error_with};
use crate::url::{Backend, DatabaseUrl, redact};

/// The PostgreSQL advisory lock held while the schema is brought up to date ("qbench" in ASCII).
const SCHEMA_LOCK: i64 = 0x7162_656e_6368;

/// Every repository port on one SQLite or PostgreSQL database; cheap to clone (a pool handle and
/// a key).
///
/// Secrets are sealed with the [`SecretCipher`] before they are bound to a statement, so neither
/// the database nor its logs ever see them in clear.
#[derive(Clone)]
pub struct SqlDatabase {
    pub(crate) db: DatabaseConnection,
    pub(crate) cipher: SecretCipher,
    pub(crate) backend: Backend,
}

impl SqlDatabase {
    /// Opens the database at `url` and brings its schema up to date.
    ///
    /// `url` is `postgres://…`, `postgresql://…` or `sqlite://path` (the file and its directory
    /// are created when missing; SQLite runs in WAL mode with foreign keys on). Missing tables,
    /// columns and indexes are created; nothing is ever dropped or altered.
    ///
    /// # Errors
    /// `Internal` naming the scheme for an unsupported URL, `Unavailable` when the database
    /// cannot be reached, `Internal` when the schema cannot be brought up to date,
    /// `SecretKeyMismatch` when `cipher` is not the key the database's secrets are sealed with
    /// (see `key_check`). Secrets stored without their mask get it (see `masks`). No error
    /// repeats the URL's password.
    #[tracing::instrument(skip_all)]
    pub async fn connect(url: &str, cipher: SecretCipher) -> Result<Self, RepositoryError> {
        let target = DatabaseUrl::parse(url)?;
        let backend = target.backend();
        let db = Database::connect(target.into_options())
            .await
            .map_err(|error| db_error_with(error, |message| redact(&message, url)))?;
        let database = Self { db, cipher, backend };
        database.sync_schema().await?;
        database.verify_secret_key().await?;
        database.fill_masks().await?;
        tracing::info!(backend = backend.as_str(), "database ready");
        Ok(database)
    }

    /// Closes every pooled connection (SQLite checkpoints its write-ahead log on the last one).
    ///
    /// # Errors
    /// `Internal` when the pool cannot be closed cleanly.
    pub async fn close(self) -> Result<(), RepositoryError> {
        self.db.close().await.map_err(db_error)
    }

    /// Creates what is missing of the schema and moves older runs into `jobs`; never drops or
    /// alters anything. One transaction, on PostgreSQL under an advisory lock: servers and workers
    /// starting together on an empty database take turns instead of racing to create the same
    /// tables.
    async fn sync_schema(&self) -> Result<(), RepositoryError> {
        let txn = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            let lock = Statement::from_string(
                self.db.get_database_backend(),
                format!("SELECT pg_advisory_xact_lock({SCHEMA_LOCK})"),
            );
            txn.execute_raw(lock).await.map_err(db_error)?;
        }
        self.db
            .get_schema_builder()
            .register(connections::Entity)
            .register(storages::Entity)
            .register(datasets::Entity)
            .register(experiments::Entity)
            .register(runs::Entity)
            .register(jobs::Entity)
            .register(workers::Entity)
            .register(api_keys::Entity)
            .register(settings::Entity)
            .register(snapshots::Entity)
            .register(backfill_items::Entity)
            .sync(&txn)
            .await
            .map_err(|error| db_error_with(error, |message| format!("schema sync failed: {message}")))?;
        for index in snapshots::indexes().into_iter().chain(backfill_items::indexes()) {
            txn.execute(&index)
                .await
                .map_err(|error| db_error_with(error, |message| format!("schema sync failed: {message}")))?;
        }
        self.move_runs_into_jobs(&txn).await?;
        txn.commit().await.map_err(db_error)
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a read-then-write transaction waits for other writers instead of
    /// failing when its snapshot turns stale.
    pub(crate) async fn begin_write(&self) -> Result<DatabaseTransaction, RepositoryError> {
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        self.db.begin_with_options(options).await.map_err(db_error)
    }
}

impl fmt::Debug for SqlDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlDatabase").field("backend", &self.backend.as_str()).finish_non_exhaustive()
    }
}

#[async_trait]
impl DatabaseHealth for SqlDatabase {
    #[tracing::instrument(skip(self))]
    async fn ping(&self) -> Result<(), RepositoryError> {
        let statement = Statement::from_string(self.db.get_database_backend(), "SELECT 1");
        self.db
            .execute_raw(statement)
            .await
            .map(|_| ())
            .map_err(|error| RepositoryError::Unavailable(error.to_string()))
    }

    fn backend(&self) -> &'static str {
        self.backend.as_str()
    }
}
