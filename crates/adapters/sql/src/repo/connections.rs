//! [`ConnectionRepository`] on the `connections` table.

use async_trait::async_trait;
use qbench_domain::{Connection, ConnectionId, ConnectionSpec, ConnectionSummary, mask_secret};
use qbench_repository::{ConnectionRepository, Entity, Listed, Page, RepositoryError};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::SqlDatabase;
use crate::codec::{RowRef, stored_time};
use crate::entity::{connections, experiments, snapshots};
use crate::error::{db_error, write_error};

use super::{Hold, convert, hold, in_use, page_of};

fn row_ref(id: Uuid) -> RowRef {
    RowRef { entity: Entity::Connection, table: "connections", id }
}

impl SqlDatabase {
    fn connection_row(&self, connection: &Connection) -> Result<connections::Model, RepositoryError> {
        let id = connection.id.as_uuid();
        Ok(connections::Model {
            id,
            name: connection.spec.name.clone(),
            url: connection.spec.url.clone(),
            api_key: row_ref(id).seal(&self.cipher, "api_key", connection.spec.api_key.as_ref())?,
            api_key_mask: connection.spec.api_key.as_ref().map(mask_secret),
            created_at: stored_time(connection.created_at),
            updated_at: stored_time(connection.updated_at),
        })
    }

    /// A row as lists show it: the stored mask, else (a row from before masks were stored, not
    /// yet filled) the mask of the opened secret.
    fn connection_summary(&self, row: connections::Model) -> Result<ConnectionSummary, RepositoryError> {
        let api_key = match (row.api_key, row.api_key_mask) {
            (None, _) => None,
            (Some(_), Some(mask)) => Some(mask),
            (Some(sealed), None) => {
                row_ref(row.id).open(&self.cipher, "api_key", Some(&sealed))?.as_ref().map(mask_secret)
            }
        };
        Ok(ConnectionSummary {
            id: row.id.into(),
            name: row.name,
            url: row.url,
            api_key,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }

    pub(crate) fn connection_from_row(&self, row: connections::Model) -> Result<Connection, RepositoryError> {
        let api_key = row_ref(row.id).open(&self.cipher, "api_key", row.api_key.as_deref())?;
        Ok(Connection {
            id: row.id.into(),
            spec: ConnectionSpec { name: row.name, url: row.url, api_key },
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[async_trait]
impl ConnectionRepository for SqlDatabase {
    #[tracing::instrument(skip_all, fields(connection_id = %connection.id))]
    async fn insert(&self, connection: &Connection) -> Result<(), RepositoryError> {
        let row = self.connection_row(connection)?;
        connections::Entity::insert(row.into_active_model().reset_all())
            .exec_without_returning(&self.db)
            .await
            .map_err(|error| write_error(error, Entity::Connection, connection.id, Some(&connection.spec.name)))?;
        Ok(())
    }

    #[tracing::instrument(skip(self))]
    async fn get(&self, id: ConnectionId) -> Result<Connection, RepositoryError> {
        let row = connections::Entity::find_by_id(id.as_uuid())
            .one(&self.db)
            .await
            .map_err(db_error)?
            .ok_or_else(|| RepositoryError::not_found(Entity::Connection, id))?;
        self.connection_from_row(row)
    }

    #[tracing::instrument(skip(self))]
    async fn find_by_name(&self, name: &str) -> Result<Option<Connection>, RepositoryError> {
        connections::Entity::find()
            .filter(connections::Column::Name.eq(name))
            .one(&self.db)
            .await
            .map_err(db_error)?
            .map(|row| self.connection_from_row(row))
            .transpose()
    }

    #[tracing::instrument(skip(self))]
    async fn list(&self, page: Page) -> Result<Listed<Connection>, RepositoryError> {
        let select = connections::Entity::find()
            .order_by_asc(connections::Column::CreatedAt)
            .order_by_asc(connections::Column::Id);
        convert(page_of(select, page, &self.db).await?, |row| self.connection_from_row(row))
    }

    #[tracing::instrument(skip(self))]
    async fn list_masked(&self, page: Page) -> Result<Listed<ConnectionSummary>, RepositoryError> {
        let select = connections::Entity::find()
            .order_by_asc(connections::Column::CreatedAt)
            .order_by_asc(connections::Column::Id);
        convert(page_of(select, page, &self.db).await?, |row| self.connection_summary(row))
    }

    #[tracing::instrument(skip_all, fields(connection_id = %connection.id))]
    async fn update(&self, connection: &Connection) -> Result<(), RepositoryError> {
        let row = self.connection_row(connection)?;
        let updated = connections::Entity::update_many()
            .set(row.into_active_model().reset_all())
            .filter(connections::Column::Id.eq(connection.id.as_uuid()))
            .exec(&self.db)
            .await
            .map_err(|error| write_error(error, Entity::Connection, connection.id, Some(&connection.spec.name)))?;
        if updated.rows_affected == 0 {
            return Err(RepositoryError::not_found(Entity::Connection, connection.id));
        }
        Ok(())
    }

    #[tracing::instrument(skip(self))]
    async fn delete(&self, id: ConnectionId) -> Result<(), RepositoryError> {
        let txn = self.begin_write().await?;
        if !hold::<connections::Entity>(&txn, id.as_uuid(), Hold::Exclusive).await? {
            return Err(RepositoryError::not_found(Entity::Connection, id));
        }
        let users = experiments::Entity::find().filter(experiments::Column::ConnectionId.eq(id.as_uuid()));
        let order = (experiments::Column::CreatedAt, experiments::Column::Id);
        if let Some(in_use) = in_use(&txn, users, order, (Entity::Connection, id), Entity::Experiment).await? {
            return Err(in_use);
        }
        let users = snapshots::Entity::find().filter(snapshots::Column::ConnectionId.eq(id.as_uuid()));
        let order = (snapshots::Column::CreatedAt, snapshots::Column::Id);
        if let Some(in_use) = in_use(&txn, users, order, (Entity::Connection, id), Entity::Snapshot).await? {
            return Err(in_use);
        }
        connections::Entity::delete_by_id(id.as_uuid()).exec(&txn).await.map_err(db_error)?;
        txn.commit().await.map_err(db_error)
    }
}
