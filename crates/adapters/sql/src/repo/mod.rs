//! The repository ports implemented on [`crate::SqlDatabase`], one file per table.
//!
//! Each file converts between the domain type and its row and implements the port. Deletes that
//! check references ([`in_use`]), writes that check what they reference exists ([`hold`]), and
//! conditional run updates do their reads and writes in one transaction, locking the rows they depend on (`FOR UPDATE` /
//! `FOR SHARE` on PostgreSQL; on SQLite, `BEGIN IMMEDIATE` already excludes other writers).

mod api_keys;
mod backfill_items;
mod connections;
mod datasets;
mod experiments;
mod jobs;
mod runs;
mod snapshots;
mod storages;

use std::fmt;

use qbench_domain::Caller;
use qbench_repository::{Entity, Listed, Page, RepositoryError};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, PrimaryKeyTrait,
    QueryOrder, QuerySelect, QueryTrait, Select,
};
use uuid::Uuid;

use crate::error::db_error;

/// One page of `select` (already filtered and ordered) and the size of the whole filtered set.
async fn page_of<E, C>(select: Select<E>, page: Page, db: &C) -> Result<Listed<E::Model>, RepositoryError>
where
    E: EntityTrait,
    E::Model: Send + Sync,
    C: ConnectionTrait,
{
    // The total does not depend on the order: counting without it spares the database a sort of
    // the whole filtered set on every page.
    let mut unordered = select.clone();
    QueryTrait::query(&mut unordered).clear_order_by();
    let total = unordered.count(db).await.map_err(db_error)?;
    let items = select.offset(page.offset).limit(page.limit).all(db).await.map_err(db_error)?;
    Ok(Listed { items, total })
}

/// Converts every row of a page, stopping at the first unreadable one.
fn convert<T, U>(
    listed: Listed<T>,
    mut f: impl FnMut(T) -> Result<U, RepositoryError>,
) -> Result<Listed<U>, RepositoryError> {
    let items = listed.items.into_iter().map(&mut f).collect::<Result<_, _>>()?;
    Ok(Listed { items, total: listed.total })
}

/// The owner of a row: rows written before owners were recorded have none and belong to the
/// development user, who was everyone's identity then.
fn owner_of(stored: Option<String>) -> String {
    stored.unwrap_or_else(|| Caller::DEVELOPMENT_USER.to_owned())
}

/// The rows of `owner` in an `owner` column, the unowned older rows counting as the
/// development user's (see [`owner_of`]).
fn owned_by(column: impl ColumnTrait, owner: &str) -> Condition {
    let mine = Condition::any().add(column.eq(owner));
    if owner == Caller::DEVELOPMENT_USER { mine.add(column.is_null()) } else { mine }
}

/// How a transaction holds a row it depends on.
#[derive(Debug, Clone, Copy)]
enum Hold {
    /// The row is referenced by what the transaction writes: it must not vanish meanwhile.
    Shared,
    /// The row is about to be deleted: nothing may start referencing it meanwhile.
    Exclusive,
}

/// Locks the row of `E` with `id` until `txn` ends and says whether it exists.
///
/// On PostgreSQL this is `SELECT … FOR SHARE` / `FOR UPDATE`: a delete that checks references
/// and an insert that adds one are serialised on the referenced row, so the check cannot miss a
/// reference committed concurrently. SQLite has no row locks; its `BEGIN IMMEDIATE` transactions
/// already run one writer at a time.
async fn hold<E>(txn: &DatabaseTransaction, id: Uuid, hold: Hold) -> Result<bool, RepositoryError>
where
    E: EntityTrait,
    E::Model: Send + Sync,
    Uuid: Into<<E::PrimaryKey as PrimaryKeyTrait>::ValueType>,
{
    let select = E::find_by_id(id);
    let select = match hold {
        Hold::Shared => select.lock_shared(),
        Hold::Exclusive => select.lock_exclusive(),
    };
    Ok(select.one(txn).await.map_err(db_error)?.is_some())
}

/// `InUse` of `entity` `id` when `users` (rows of kind `by`, already filtered to those that
/// reference it) is not empty, naming the oldest of them; `None` when nothing refers to it.
async fn in_use<E>(
    txn: &DatabaseTransaction,
    users: Select<E>,
    (created_at, id_column): (E::Column, E::Column),
    (entity, id): (Entity, impl fmt::Display),
    by: Entity,
) -> Result<Option<RepositoryError>, RepositoryError>
where
    E: EntityTrait,
    E::Model: Send + Sync,
{
    let count = users.clone().count(txn).await.map_err(db_error)?;
    if count == 0 {
        return Ok(None);
    }
    let first: Option<Uuid> = users
        .order_by_asc(created_at)
        .order_by_asc(id_column)
        .select_only()
        .column(id_column)
        .into_tuple()
        .one(txn)
        .await
        .map_err(db_error)?;
    let first = first.map(|first| first.to_string()).unwrap_or_default();
    Ok(Some(RepositoryError::InUse { entity, id: id.to_string(), by, count, first }))
}
