//! [`BackfillRepository`] on the `backfill_items` table.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use qbench_domain::backfill::{ItemKey, WorkItem, WorkItemCounts, WorkItemStatus};
use qbench_domain::{ConnectionId, JobId};
use qbench_repository::{BackfillRepository, Entity, Listed, Page, RepositoryError};
use sea_orm::sea_query::{Alias, Expr, Func, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::SqlDatabase;
use crate::codec::{RowRef, stored_time};
use crate::entity::backfill_items::{self, Column};
use crate::error::db_error;

use super::{convert, page_of};

/// Rows per `INSERT` of a plan: well below SQLite's limit of bound parameters per statement.
const INSERT_CHUNK: usize = 500;

fn row_ref(backfill_id: Uuid) -> RowRef {
    RowRef { entity: Entity::Backfill, table: "backfill_items", id: backfill_id }
}

fn signed(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn small(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

fn item_row(item: &WorkItem) -> backfill_items::Model {
    backfill_items::Model {
        backfill_id: item.backfill_id.as_uuid(),
        ordinal: small(item.ordinal),
        connection_id: item.connection_id.as_uuid(),
        collection: item.collection.clone(),
        location: item.location.clone(),
        bytes: signed(item.bytes),
        version: item.version.clone(),
        row_group_start: small(item.row_groups.start),
        row_group_end: small(item.row_groups.end),
        first_row: signed(item.first_row),
        rows: signed(item.rows),
        status: item.status.as_str().to_owned(),
        attempts: small(item.attempts),
        points: signed(item.points),
        last_error: item.last_error.clone(),
        updated_at: stored_time(item.updated_at),
    }
}

fn item_from_row(row: backfill_items::Model) -> Result<WorkItem, RepositoryError> {
    let stored = row_ref(row.backfill_id);
    let status = row
        .status
        .parse::<WorkItemStatus>()
        .map_err(|error| stored.corrupt(format!("column `status` of item {} is not valid: {error}", row.ordinal)))?;
    let unsigned = |column: &str, value: i64| {
        u64::try_from(value)
            .map_err(|_| stored.corrupt(format!("column `{column}` of item {} is negative: {value}", row.ordinal)))
    };
    let small = |column: &str, value: i32| {
        u32::try_from(value)
            .map_err(|_| stored.corrupt(format!("column `{column}` of item {} is negative: {value}", row.ordinal)))
    };
    Ok(WorkItem {
        backfill_id: row.backfill_id.into(),
        ordinal: small("ordinal", row.ordinal)?,
        connection_id: row.connection_id.into(),
        collection: row.collection,
        location: row.location,
        bytes: unsigned("bytes", row.bytes)?,
        version: row.version,
        row_groups: small("row_group_start", row.row_group_start)?..small("row_group_end", row.row_group_end)?,
        first_row: unsigned("first_row", row.first_row)?,
        rows: unsigned("rows", row.rows)?,
        status,
        attempts: small("attempts", row.attempts)?,
        points: unsigned("points", row.points)?,
        last_error: row.last_error,
        updated_at: row.updated_at,
    })
}

#[async_trait]
impl BackfillRepository for SqlDatabase {
    #[tracing::instrument(skip(self, items), fields(items = items.len()))]
    async fn plan(&self, backfill_id: JobId, items: &[WorkItem]) -> Result<(), RepositoryError> {
        let txn = self.begin_write().await?;
        let planned = backfill_items::Entity::find()
            .filter(Column::BackfillId.eq(backfill_id.as_uuid()))
            .count(&txn)
            .await
            .map_err(db_error)?;
        if planned > 0 {
            return Err(RepositoryError::Duplicate {
                entity: Entity::Backfill,
                field: "backfill_id",
                value: backfill_id.to_string(),
            });
        }
        for chunk in items.chunks(INSERT_CHUNK) {
            let rows = chunk.iter().map(|item| {
                let item = WorkItem { backfill_id, ..item.clone() };
                item_row(&item).into_active_model().reset_all()
            });
            backfill_items::Entity::insert_many(rows).exec_without_returning(&txn).await.map_err(db_error)?;
        }
        txn.commit().await.map_err(db_error)
    }

    #[tracing::instrument(skip(self))]
    async fn items(
        &self,
        backfill_id: JobId,
        status: Option<WorkItemStatus>,
        page: Page,
    ) -> Result<Listed<WorkItem>, RepositoryError> {
        let mut select = backfill_items::Entity::find().filter(Column::BackfillId.eq(backfill_id.as_uuid()));
        if let Some(status) = status {
            select = select.filter(Column::Status.eq(status.as_str()));
        }
        let select = select.order_by_asc(Column::Ordinal);
        convert(page_of(select, page, &self.db).await?, item_from_row)
    }

    #[tracing::instrument(skip(self))]
    async fn counts(&self, backfill_id: JobId) -> Result<WorkItemCounts, RepositoryError> {
        // SUM of a BIGINT is NUMERIC on PostgreSQL: cast back, so both backends answer integers.
        let sum = |column: Column| SimpleExpr::from(Func::cast_as(Func::sum(Expr::col(column)), Alias::new("BIGINT")));
        let grouped: Vec<(String, i64, i64, i64)> = backfill_items::Entity::find()
            .select_only()
            .column(Column::Status)
            .column_as(Column::Ordinal.count(), "count")
            .column_as(sum(Column::Rows), "rows")
            .column_as(sum(Column::Points), "points")
            .filter(Column::BackfillId.eq(backfill_id.as_uuid()))
            .group_by(Column::Status)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(db_error)?;
        let mut counts = WorkItemCounts::default();
        for (status, count, rows, points) in grouped {
            let status = status.parse::<WorkItemStatus>().map_err(|error| {
                row_ref(backfill_id.as_uuid()).corrupt(format!("column `status` is not valid: {error}"))
            })?;
            let count = u64::try_from(count).unwrap_or(0);
            match status {
                WorkItemStatus::Pending => counts.pending = count,
                WorkItemStatus::Running => counts.running = count,
                WorkItemStatus::Done => {
                    counts.done = count;
                    counts.points = u64::try_from(points).unwrap_or(0);
                }
                WorkItemStatus::Failed => counts.failed = count,
            }
            counts.rows += u64::try_from(rows).unwrap_or(0);
        }
        Ok(counts)
    }

    /// Writes only what changes in an item's life; what it loads stays as planned.
    #[tracing::instrument(skip_all, fields(backfill_id = %item.backfill_id, ordinal = item.ordinal, status = %item.status))]
    async fn update(&self, item: &WorkItem) -> Result<(), RepositoryError> {
        let row = item_row(item);
        let updated = backfill_items::Entity::update_many()
            .col_expr(Column::Status, Expr::value(row.status))
            .col_expr(Column::Attempts, Expr::value(row.attempts))
            .col_expr(Column::Points, Expr::value(row.points))
            .col_expr(Column::LastError, Expr::value(row.last_error))
            .col_expr(Column::UpdatedAt, Expr::value(row.updated_at))
            .filter(Column::BackfillId.eq(row.backfill_id))
            .filter(Column::Ordinal.eq(row.ordinal))
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        if updated.rows_affected == 0 {
            return Err(RepositoryError::not_found(
                Entity::Backfill,
                format!("{} item {}", item.backfill_id, item.ordinal),
            ));
        }
        Ok(())
    }

    #[tracing::instrument(skip(self))]
    async fn requeue_running(&self, backfill_id: JobId, now: DateTime<Utc>) -> Result<u64, RepositoryError> {
        let updated = backfill_items::Entity::update_many()
            .col_expr(Column::Status, Expr::value(WorkItemStatus::Pending.as_str()))
            .col_expr(Column::UpdatedAt, Expr::value(stored_time(now)))
            .filter(Column::BackfillId.eq(backfill_id.as_uuid()))
            .filter(Column::Status.eq(WorkItemStatus::Running.as_str()))
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        Ok(updated.rows_affected)
    }

    #[tracing::instrument(skip(self))]
    async fn loaded(&self, connection_id: ConnectionId, collection: &str) -> Result<Vec<ItemKey>, RepositoryError> {
        let rows: Vec<(String, i64, Option<String>, i32, i32)> = backfill_items::Entity::find()
            .select_only()
            .column(Column::Location)
            .column(Column::Bytes)
            .column(Column::Version)
            .column(Column::RowGroupStart)
            .column(Column::RowGroupEnd)
            .filter(Column::ConnectionId.eq(connection_id.as_uuid()))
            .filter(Column::Collection.eq(collection))
            .filter(Column::Status.eq(WorkItemStatus::Done.as_str()))
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|(location, bytes, version, start, end)| ItemKey {
                location,
                bytes: u64::try_from(bytes).unwrap_or(0),
                version,
                row_groups: u32::try_from(start).unwrap_or(0)..u32::try_from(end).unwrap_or(0),
            })
            .collect())
    }
}
