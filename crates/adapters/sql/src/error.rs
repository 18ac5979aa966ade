//! Translation of driver errors into [`RepositoryError`], so no sea-orm or sqlx type leaks out.

use std::fmt;

use qbench_repository::{Entity, RepositoryError};
use sea_orm::sqlx;
use sea_orm::{DbErr, RuntimeErr, SqlErr};

/// Any driver error that no caller gave a meaning to: `Unavailable` when the database cannot be
/// reached or is busy (the same call may succeed later), `Internal` with the driver's message
/// otherwise.
pub(crate) fn db_error(error: DbErr) -> RepositoryError {
    db_error_with(error, |message| message)
}

/// [`db_error`] with the driver's message passed through `describe` (to add context, or to mask
/// what must not be repeated).
pub(crate) fn db_error_with(error: DbErr, describe: impl FnOnce(String) -> String) -> RepositoryError {
    let unavailable = is_unavailable(&error);
    let message = describe(error.to_string());
    if unavailable { RepositoryError::Unavailable(message) } else { RepositoryError::Internal(message) }
}

/// The error of an `INSERT` or `UPDATE` of `entity` `id`: a unique violation on the name becomes
/// `Duplicate { field: "name" }` (the unique index is the race-safe check), one on the primary
/// key `Duplicate { field: "id" }`, anything else goes through [`db_error`].
pub(crate) fn write_error(error: DbErr, entity: Entity, id: impl fmt::Display, name: Option<&str>) -> RepositoryError {
    let Some(SqlErr::UniqueConstraintViolation(message)) = error.sql_err() else {
        return db_error(error);
    };
    // Both backends name the violated constraint or column: `storages_name_key` or
    // `idx-connections-name` on PostgreSQL, `connections.name` on SQLite. Primary keys are
    // `connections_pkey` and `connections.id`.
    match name {
        Some(name) if message.contains("name") => {
            RepositoryError::Duplicate { entity, field: "name", value: name.to_owned() }
        }
        Some(_) | None => RepositoryError::Duplicate { entity, field: "id", value: id.to_string() },
    }
}

fn is_unavailable(error: &DbErr) -> bool {
    if matches!(error, DbErr::ConnectionAcquire(_) | DbErr::Conn(_)) {
        return true;
    }
    let (DbErr::Exec(RuntimeErr::SqlxError(error)) | DbErr::Query(RuntimeErr::SqlxError(error))) = error else {
        return false;
    };
    if matches!(
        **error,
        sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
    ) {
        return true;
    }
    let sqlx::Error::Database(database) = &**error else {
        return false;
    };
    let Some(code) = database.code() else {
        return false;
    };
    if database.try_downcast_ref::<sqlx::postgres::PgDatabaseError>().is_some() {
        // Class 08: connection exceptions; 57P0x: the server is shutting down or starting;
        // 53300: too many connections; 40001/40P01: serialization failure and deadlock, which
        // a retry resolves.
        return code.starts_with("08") || code.starts_with("57P0") || matches!(&*code, "53300" | "40001" | "40P01");
    }
    // SQLite reports extended result codes; the primary code is the low byte.
    // 5 is SQLITE_BUSY, 6 is SQLITE_LOCKED: another connection holds the lock.
    code.parse::<u32>().is_ok_and(|extended| matches!(extended & 0xff, 5 | 6))
}
