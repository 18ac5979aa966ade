//! The `runs` table.

use sea_orm::entity::prelude::*;

/// A stored run: its experiment and owner. Its life (status, progress, lease, metrics as the
/// job's `result`) is the `jobs` row with the same id. The columns from `status` on are from
/// before jobs: written once at insert, read only to move an older run into `jobs`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "runs")]
pub(crate) struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(indexed)]
    pub experiment_id: Uuid,
    /// Added after the first release: nullable so older rows read as owned by `dev@localhost`.
    #[sea_orm(column_type = "Text", nullable, indexed)]
    pub owner: Option<String>,
    /// The study the run is a trial of; added later, nullable.
    #[sea_orm(nullable, indexed)]
    pub study_id: Option<Uuid>,
    pub status: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    #[sea_orm(nullable)]
    pub start_time: Option<DateTimeUtc>,
    #[sea_orm(nullable)]
    pub end_time: Option<DateTimeUtc>,
    #[sea_orm(column_type = "JsonBinary")]
    pub progress: Json,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub metrics: Option<Json>,
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub claimed_by: Option<String>,
    #[sea_orm(nullable)]
    pub lease_until: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub(crate) enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
