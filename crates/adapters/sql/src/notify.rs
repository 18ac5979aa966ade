//! Cross-process wake-ups on PostgreSQL: `NOTIFY` when a job is queued, `LISTEN` in every worker.

use std::sync::Arc;
use std::time::Duration;

use qbench_domain::JobId;
use qbench_repository::RepositoryError;
use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{ConnectionTrait, Statement};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::SqlDatabase;
use crate::error::db_error;
use crate::url::Backend;

/// The channel queued jobs are announced on.
pub const JOBS_CHANNEL: &str = "qbench_jobs";

/// How long a lost listener waits before it connects again (jobs still start at the next poll).
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

impl SqlDatabase {
    /// Announces a queued job to every listening process (PostgreSQL `NOTIFY`); nothing on SQLite,
    /// whose workers share this process or poll.
    pub async fn announce_job(&self, id: JobId) -> Result<(), RepositoryError> {
        if self.backend != Backend::Postgres {
            return Ok(());
        }
        let statement = Statement::from_sql_and_values(
            self.db.get_database_backend(),
            "SELECT pg_notify($1, $2)",
            [JOBS_CHANNEL.into(), id.to_string().into()],
        );
        self.db.execute_raw(statement).await.map(drop).map_err(db_error)
    }

    /// On PostgreSQL, a task that wakes `wake` whenever any process announces a job, reconnecting
    /// when its connection drops; `None` on SQLite.
    pub fn listen_for_jobs(&self, wake: Arc<Notify>) -> Option<JoinHandle<()>> {
        if self.backend != Backend::Postgres {
            return None;
        }
        let pool = self.db.get_postgres_connection_pool().clone();
        Some(tokio::spawn(async move {
            loop {
                match PgListener::connect_with(&pool).await {
                    Ok(mut listener) => match listener.listen(JOBS_CHANNEL).await {
                        Ok(()) => {
                            tracing::debug!(channel = JOBS_CHANNEL, "listening for queued jobs");
                            // A wake-up may have been missed while not listening: look now.
                            wake.notify_one();
                            loop {
                                match listener.recv().await {
                                    Ok(_) => wake.notify_one(),
                                    Err(error) => {
                                        tracing::warn!(%error, "job notifications lost; reconnecting");
                                        break;
                                    }
                                }
                            }
                        }
                        Err(error) => tracing::warn!(%error, "could not LISTEN for queued jobs"),
                    },
                    Err(error) => tracing::warn!(%error, "could not connect to LISTEN for queued jobs"),
                }
                tokio::time::sleep(RECONNECT_AFTER).await;
            }
        }))
    }
}
