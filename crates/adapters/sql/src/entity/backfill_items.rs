//! The `backfill_items` table: the work items of backfills (a backfill itself is its job's row).

use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{Index, IndexCreateStatement};

/// A stored work item, keyed by its backfill (job) and its place in the plan. What it loads
/// (`connection_id`, `collection`, the file and its row groups) is written once, when planned;
/// its life (`status`, `attempts`, `points`, `last_error`, `updated_at`) changes. Counters are
/// `BIGINT` (rows and bytes pass 32 bits); `connection_id` carries no foreign key (see the module
/// overview of `entity`): work items are history, kept when a connection goes.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "backfill_items")]
pub(crate) struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub backfill_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub ordinal: i32,
    pub connection_id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub collection: String,
    #[sea_orm(column_type = "Text")]
    pub location: String,
    pub bytes: i64,
    #[sea_orm(column_type = "Text", nullable)]
    pub version: Option<String>,
    pub row_group_start: i32,
    pub row_group_end: i32,
    pub first_row: i64,
    pub rows: i64,
    #[sea_orm(column_type = "Text")]
    pub status: String,
    pub attempts: i32,
    pub points: i64,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub(crate) enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The indexes over several columns: `(connection_id, collection, status)`, for what an
/// incremental backfill finds loaded in its collection. (A backfill's own items are found by the
/// primary key, whose leading column is the backfill.) Created if missing at every start, after
/// the schema sync.
pub(crate) fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        Index::create()
            .if_not_exists()
            .name("idx-backfill_items-connection_id-collection-status")
            .table(Entity)
            .col(Column::ConnectionId)
            .col(Column::Collection)
            .col(Column::Status)
            .to_owned(),
    ]
}
