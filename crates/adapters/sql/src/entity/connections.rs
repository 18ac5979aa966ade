//! The `connections` table.

use sea_orm::entity::prelude::*;

/// A stored Qdrant connection; `api_key` holds ciphertext only, `api_key_mask` what lists show of
/// it (`mask_secret`), so a list opens no secret. Rows written before the mask was stored have
/// it filled at start-up (`masks`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "connections")]
pub(crate) struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub name: String,
    pub url: String,
    #[sea_orm(column_type = "Blob", nullable)]
    pub api_key: Option<Vec<u8>>,
    #[sea_orm(nullable)]
    pub api_key_mask: Option<String>,
    /// Indexed: lists page in creation order.
    #[sea_orm(indexed)]
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub(crate) enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
