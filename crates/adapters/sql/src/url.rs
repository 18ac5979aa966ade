//! Which database a URL names, and how to open it.

use std::path::Path;
use std::time::Duration;

use qbench_repository::RepositoryError;
use sea_orm::ConnectOptions;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};

/// How long a call waits for a pooled connection before the database counts as unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long SQLite waits for another connection's write lock before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections to a PostgreSQL server: enough for a control plane's concurrent requests.
const POSTGRES_POOL_SIZE: u32 = 10;
/// Connections to a SQLite file. WAL lets readers run beside the single writer; more
/// connections would only queue on the write lock.
const SQLITE_POOL_SIZE: u32 = 4;
/// Rows a SQLite connection's worker thread may hand over before the reader takes them: a whole
/// page of the longest list (`Page::MAX_LIMIT`), so reading one never stalls the worker every
/// 50 rows (the driver's default).
const SQLITE_ROW_BUFFER: usize = 1024;

/// The database backends this adapter speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    /// A SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    /// The backend's name, as health probes report it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// A parsed database URL, ready to connect.
pub(crate) struct DatabaseUrl {
    backend: Backend,
    options: ConnectOptions,
}

impl DatabaseUrl {
    /// Parses `url`; a SQLite file's parent directory is created here so that the file can be.
    ///
    /// Errors never repeat the URL, which may hold a password.
    pub(crate) fn parse(url: &str) -> Result<Self, RepositoryError> {
        let scheme = url.split_once(':').map(|(scheme, _)| scheme.to_ascii_lowercase()).ok_or_else(|| {
            RepositoryError::Internal(
                "the database URL has no scheme; use postgres://, postgresql:// or sqlite://".to_owned(),
            )
        })?;
        let backend = match scheme.as_str() {
            "postgres" | "postgresql" => Backend::Postgres,
            "sqlite" => Backend::Sqlite,
            other => {
                return Err(RepositoryError::Internal(format!(
                    "unsupported database URL scheme `{}`; use postgres://, postgresql:// or sqlite://",
                    other.escape_debug()
                )));
            }
        };
        let mut options = ConnectOptions::new(url);
        options
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // Statements carry no secrets (those are encrypted before binding), but they are
            // noise at the default level; sea-orm's own spans still trace them.
            .sqlx_logging(false);
        match backend {
            Backend::Postgres => {
                options.max_connections(POSTGRES_POOL_SIZE);
            }
            Backend::Sqlite => {
                create_private_file(url)?;
                options.max_connections(SQLITE_POOL_SIZE).map_sqlx_sqlite_opts(|sqlite| {
                    // `create_if_missing` is what `?mode=rwc` sets.
                    sqlite
                        .create_if_missing(true)
                        .journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Normal)
                        .foreign_keys(true)
                        .busy_timeout(SQLITE_BUSY_TIMEOUT)
                        .row_buffer_size(SQLITE_ROW_BUFFER)
                });
            }
        }
        Ok(Self { backend, options })
    }

    /// The backend the URL names.
    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool options for sea-orm.
    pub(crate) fn into_options(self) -> ConnectOptions {
        self.options
    }
}

/// Creates the directory of the SQLite file named by `url` when it is missing, and the file itself
/// readable by its owner only (0600): it holds every registered credential, encrypted, and who
/// owns what. An existing file and its write-ahead log are narrowed to 0600 too.
fn create_private_file(url: &str) -> Result<(), RepositoryError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};

    let sqlite: SqliteConnectOptions =
        url.parse().map_err(|error| RepositoryError::Internal(format!("invalid SQLite URL: {error}")))?;
    let file = sqlite.get_filename();
    if file == Path::new(":memory:") || file.as_os_str().is_empty() || file.to_string_lossy().starts_with("file:") {
        return Ok(());
    }
    let unavailable = |what: &str, path: &Path, error: std::io::Error| {
        RepositoryError::Unavailable(format!("cannot {what} {}: {error}", path.display()))
    };
    if let Some(parent) = file.parent()
        && !parent.as_os_str().is_empty()
        && parent != Path::new("/")
    {
        std::fs::create_dir_all(parent).map_err(|error| unavailable("create the SQLite directory", parent, error))?;
    }
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(file)
        .map_err(|error| unavailable("create the SQLite file", file, error))?;
    for suffix in ["", "-wal", "-shm"] {
        let path = std::path::PathBuf::from(format!("{}{suffix}", file.display()));
        if path.exists() {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .map_err(|error| unavailable("restrict the permissions of", &path, error))?;
        }
    }
    Ok(())
}

/// `message` with the password of `url`, if any, masked; for errors from connecting.
pub(crate) fn redact(message: &str, url: &str) -> String {
    match url::Url::parse(url) {
        Ok(parsed) => match parsed.password() {
            Some(password) if !password.is_empty() => {
                let decoded = url::form_urlencoded::parse(format!("p={password}").as_bytes())
                    .next()
                    .map(|(_, value)| value.into_owned())
                    .unwrap_or_default();
                let masked = message.replace(password, "***");
                if decoded.is_empty() { masked } else { masked.replace(&decoded, "***") }
            }
            Some(_) | None => message.to_owned(),
        },
        Err(_) => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsupported_schemes_are_named_without_the_rest_of_the_url() {
        let Err(error) = DatabaseUrl::parse("mysql://root:hunter2@db/qbench") else {
            panic!("mysql must be refused");
        };
        let message = error.to_string();
        assert!(message.contains("`mysql`"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[test]
    fn passwords_are_masked_in_connection_errors() {
        let url = "postgres://qbench:p%40ss@localhost/qbench";
        let message = "password authentication failed for p@ss (p%40ss)";
        assert_eq!(redact(message, url), "password authentication failed for *** (***)");
    }

    #[test]
    fn backends_are_told_apart_by_scheme() {
        for (url, backend) in [
            ("postgres://localhost/q", Backend::Postgres),
            ("postgresql://localhost/q", Backend::Postgres),
            ("sqlite::memory:", Backend::Sqlite),
        ] {
            assert_eq!(DatabaseUrl::parse(url).map(|url| url.backend()).ok(), Some(backend), "{url}");
        }
    }
}
