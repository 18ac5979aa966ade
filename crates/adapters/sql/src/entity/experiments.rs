//! The `experiments` table.

use sea_orm::entity::prelude::*;

/// A stored experiment; the configurations are the domain's types as JSON.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "experiments")]
pub(crate) struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    #[sea_orm(indexed)]
    pub dataset_id: Uuid,
    #[sea_orm(indexed)]
    pub connection_id: Uuid,
    #[sea_orm(column_type = "JsonBinary")]
    pub optimizer_config: Json,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub vector_config: Option<Json>,
    #[sea_orm(column_type = "JsonBinary")]
    pub search_config: Json,
    /// Added after the first release: nullable so older rows read as the defaults.
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub upload_config: Option<Json>,
    /// Added after the first release: nullable so older rows read as `false`.
    pub keep_collection: Option<bool>,
    /// Added with snapshots: where the index comes from (`IndexSource` as JSON); `NULL` builds it.
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub source: Option<Json>,
    /// Added after the first release: nullable so older rows read as owned by `dev@localhost`.
    #[sea_orm(column_type = "Text", nullable, indexed)]
    pub owner: Option<String>,
    /// Indexed: lists page in creation order.
    #[sea_orm(indexed)]
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub(crate) enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
