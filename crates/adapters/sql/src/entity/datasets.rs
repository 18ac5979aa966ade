//! The `datasets` table.

use sea_orm::entity::prelude::*;

/// A stored dataset; `schema_config` is the domain's `SchemaConfig` as JSON.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "datasets")]
pub(crate) struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub source_uri: String,
    #[sea_orm(indexed, nullable)]
    pub storage_id: Option<Uuid>,
    #[sea_orm(column_type = "JsonBinary")]
    pub schema_config: Json,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub inspection: Option<Json>,
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
