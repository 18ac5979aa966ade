//! The `jobs` table: every job, the queue among them (`status = 'CREATED'`).

use sea_orm::entity::prelude::*;

/// A stored job; `kind` and `status` are wire names, `payload`, `progress` and `result` JSON.
/// Lease times are the database's clock.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub(crate) struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(column_type = "Text", indexed)]
    pub kind: String,
    #[sea_orm(column_type = "Text", indexed)]
    pub owner: String,
    #[sea_orm(column_type = "Text", indexed)]
    pub status: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub payload: Json,
    #[sea_orm(column_type = "Text", nullable)]
    pub requires: Option<String>,
    #[sea_orm(column_type = "JsonBinary")]
    pub progress: Json,
    pub attempts: i32,
    #[sea_orm(column_type = "Text", nullable, indexed)]
    pub claimed_by: Option<String>,
    #[sea_orm(nullable)]
    pub lease_until: Option<DateTimeUtc>,
    pub pause_requested: bool,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub result: Option<Json>,
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
    #[sea_orm(indexed)]
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    #[sea_orm(nullable)]
    pub start_time: Option<DateTimeUtc>,
    #[sea_orm(nullable)]
    pub end_time: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub(crate) enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
