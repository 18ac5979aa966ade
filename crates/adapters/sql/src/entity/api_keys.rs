//! The `api_keys` table.

use sea_orm::entity::prelude::*;

/// A stored API key: the SHA-256 digest of the key (unique: it is what a request is looked up
/// by) and its display prefix, never the key.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub(crate) struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub hash: String,
    pub prefix: String,
    #[sea_orm(column_type = "Text")]
    pub user: String,
    pub role: String,
    pub created_at: DateTimeUtc,
    #[sea_orm(nullable)]
    pub expires_at: Option<DateTimeUtc>,
    #[sea_orm(nullable)]
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub(crate) enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
