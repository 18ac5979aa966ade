//! The `workers` table: the worker processes that announced themselves.

use sea_orm::entity::prelude::*;

/// A worker as last announced; `labels` is a JSON array of label names; times are the database's
/// clock.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "workers")]
pub(crate) struct Model {
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub id: String,
    #[sea_orm(column_type = "Text")]
    pub host: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub labels: Json,
    pub max_concurrent_runs: i32,
    pub max_concurrent_jobs: i32,
    pub started_at: DateTimeUtc,
    #[sea_orm(indexed)]
    pub last_seen: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub(crate) enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
