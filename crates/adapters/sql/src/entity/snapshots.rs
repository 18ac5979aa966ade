//! The `snapshots` table.

use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{Index, IndexCreateStatement};

/// A stored snapshot record. `vault` (the domain's `SnapshotVault`) and `archive` (its
/// `SnapshotArchive`, once ready) are JSON; what lists filter and sort by (`connection_id`,
/// `collection`, `status`, `owner`, `created_at`) are columns of their own, so the filter is
/// SQL's. `connection_id` is checked by the repository, not by a foreign key (see the module
/// overview of `entity`), and indexed with `collection` by [`indexes`].
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "snapshots")]
pub(crate) struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub connection_id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub collection: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub vault: Json,
    /// The storage a storage repository names, so deleting that storage is refused while a
    /// snapshot lives in it; `NULL` for a directory.
    #[sea_orm(nullable, indexed)]
    pub vault_storage_id: Option<Uuid>,
    #[sea_orm(column_type = "Text", indexed)]
    pub owner: String,
    /// Indexed: deleting a run looks for the snapshots its collection gave.
    #[sea_orm(nullable, indexed)]
    pub built_by: Option<Uuid>,
    pub job_id: Uuid,
    #[sea_orm(column_type = "Text", indexed)]
    pub status: String,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub archive: Option<Json>,
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
    /// Indexed: lists page newest first.
    #[sea_orm(indexed)]
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub(crate) enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The indexes over several columns, which the entity's attributes cannot declare (they only
/// index one column, or make several unique together): `(connection_id, collection)`, for lists
/// of one connection's or one collection's snapshots and for the reference check of a
/// connection's delete (its leading column serves that alone). Created if missing at every start,
/// after the schema sync.
pub(crate) fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        Index::create()
            .if_not_exists()
            .name("idx-snapshots-connection_id-collection")
            .table(Entity)
            .col(Column::ConnectionId)
            .col(Column::Collection)
            .to_owned(),
    ]
}
