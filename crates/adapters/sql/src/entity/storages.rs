//! The `storages` table.

use sea_orm::entity::prelude::*;

/// A stored object storage; `access_key` and `secret_key` hold ciphertext only, the `_mask`
/// columns what lists show of them (`mask_secret`), so a list opens no secret. Rows written
/// before the masks were stored have them filled at start-up (`masks`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "storages")]
pub(crate) struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Unique when set; any number of storages may have no name (NULLs never clash).
    #[sea_orm(unique, nullable)]
    pub name: Option<String>,
    pub bucket: String,
    pub region: String,
    #[sea_orm(nullable)]
    pub endpoint_url: Option<String>,
    #[sea_orm(column_type = "Blob", nullable)]
    pub access_key: Option<Vec<u8>>,
    #[sea_orm(column_type = "Blob", nullable)]
    pub secret_key: Option<Vec<u8>>,
    #[sea_orm(nullable)]
    pub access_key_mask: Option<String>,
    #[sea_orm(nullable)]
    pub secret_key_mask: Option<String>,
    /// Indexed: lists page in creation order.
    #[sea_orm(indexed)]
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub(crate) enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
