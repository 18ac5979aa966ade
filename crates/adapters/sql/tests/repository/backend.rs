//! Fresh databases on either backend, and raw access to them for checks below the adapter.

use std::sync::OnceLock;

use qbench_sql::{SecretCipher, SqlDatabase};
use qbench_testkit::postgres::PostgresCluster;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement, Value};
use tempfile::TempDir;

/// The backends every scenario runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

/// The one PostgreSQL cluster of this test binary, started on first use.
fn cluster() -> &'static PostgresCluster {
    static CLUSTER: OnceLock<Result<PostgresCluster, String>> = OnceLock::new();
    match CLUSTER.get_or_init(|| PostgresCluster::start().map_err(|error| error.to_string())) {
        Ok(cluster) => cluster,
        Err(error) => panic!("cannot start the PostgreSQL test cluster: {error}"),
    }
}

/// An empty database of its own; a SQLite file lives as long as this value.
pub(crate) struct FreshDatabase {
    pub(crate) backend: Backend,
    pub(crate) url: String,
    /// The SQLite file, for tests that read it byte by byte.
    pub(crate) sqlite_file: Option<std::path::PathBuf>,
    _dir: Option<TempDir>,
}

impl FreshDatabase {
    pub(crate) fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let file = dir.path().join("qbench.db");
                Self { backend, url: format!("sqlite://{}", file.display()), sqlite_file: Some(file), _dir: Some(dir) }
            }
            Backend::Postgres => {
                let name = format!("qbench_{}", uuid::Uuid::new_v4().simple());
                let url = cluster().create_database(&name).expect("create a PostgreSQL database");
                Self { backend, url, sqlite_file: None, _dir: None }
            }
        }
    }

    /// The adapter on this database.
    pub(crate) async fn open(&self, cipher: SecretCipher) -> SqlDatabase {
        SqlDatabase::connect(&self.url, cipher).await.expect("connect")
    }

    /// A plain sea-orm connection, to look below the adapter (it creates the SQLite file too).
    pub(crate) async fn raw(&self) -> DatabaseConnection {
        let url = match self.backend {
            Backend::Sqlite => format!("{}?mode=rwc", self.url),
            Backend::Postgres => self.url.clone(),
        };
        Database::connect(url).await.expect("raw connection")
    }

    /// `sql` with `?` placeholders written for this backend (`$1`, `$2`, … on PostgreSQL).
    pub(crate) fn statement(&self, sql: &str, values: Vec<Value>) -> Statement {
        match self.backend {
            Backend::Sqlite => Statement::from_sql_and_values(DbBackend::Sqlite, sql, values),
            Backend::Postgres => {
                let mut numbered = String::new();
                let mut next = 1;
                for c in sql.chars() {
                    if c == '?' {
                        numbered.push_str(&format!("${next}"));
                        next += 1;
                    } else {
                        numbered.push(c);
                    }
                }
                Statement::from_sql_and_values(DbBackend::Postgres, numbered, values)
            }
        }
    }
}

/// Runs `sql` on `db`.
pub(crate) async fn execute(db: &DatabaseConnection, statement: Statement) {
    db.execute_raw(statement).await.expect("raw statement");
}

/// The key most tests use.
pub(crate) fn cipher() -> SecretCipher {
    SecretCipher::new([42; 32])
}
