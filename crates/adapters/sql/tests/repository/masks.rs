//! Lists show secrets as the masks stored beside them, filled at start-up for older rows.

use qbench_domain::{ConnectionSummary, StorageSummary};
use qbench_repository::{ConnectionRepository, Page, StorageRepository};
use sea_orm::{ConnectionTrait, Value};

use crate::backend::{Backend, FreshDatabase, cipher, execute};
use crate::secrets::store_secrets;

const ALL: Page = Page { limit: Page::MAX_LIMIT, offset: 0 };

/// Regression (issue 12): `GET /connections` opened every row's secret just to mask it. The
/// masked lists now read the stored masks: they answer even when every ciphertext is damaged,
/// which the full lists (and reads of one object) report.
async fn lists_opened_every_secret_to_mask_it_and_now_read_the_stored_masks(backend: Backend) {
    let fresh = FreshDatabase::new(backend);
    let database = fresh.open(cipher()).await;
    let (connection, storage) = store_secrets(&database).await;

    let raw = fresh.raw().await;
    let damaged = || Value::from(vec![1_u8; 48]);
    execute(&raw, fresh.statement("UPDATE connections SET api_key = ?", vec![damaged()])).await;
    execute(&raw, fresh.statement("UPDATE storages SET access_key = ?, secret_key = ?", vec![damaged(), damaged()]))
        .await;
    raw.close().await.unwrap();

    let connections = ConnectionRepository::list_masked(&database, ALL).await.unwrap();
    assert_eq!(connections.items, vec![ConnectionSummary::from(&connection)]);
    let storages = StorageRepository::list_masked(&database, ALL).await.unwrap();
    assert_eq!(storages.items, vec![StorageSummary::from(&storage)]);
    assert!(ConnectionRepository::list(&database, ALL).await.is_err(), "the full list opens the damaged secret");
}

#[tokio::test]
async fn sqlite_lists_opened_every_secret_to_mask_it_and_now_read_the_stored_masks() {
    lists_opened_every_secret_to_mask_it_and_now_read_the_stored_masks(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_lists_opened_every_secret_to_mask_it_and_now_read_the_stored_masks() {
    lists_opened_every_secret_to_mask_it_and_now_read_the_stored_masks(Backend::Postgres).await;
}

/// Rows stored before the masks were (NULL masks) list right at once, by opening their secrets,
/// and get their masks stored at the next start.
async fn rows_from_before_masks_get_them_at_start_up(backend: Backend) {
    let fresh = FreshDatabase::new(backend);
    let database = fresh.open(cipher()).await;
    let (connection, storage) = store_secrets(&database).await;
    let raw = fresh.raw().await;
    execute(&raw, fresh.statement("UPDATE connections SET api_key_mask = NULL", vec![])).await;
    execute(&raw, fresh.statement("UPDATE storages SET access_key_mask = NULL, secret_key_mask = NULL", vec![])).await;

    let connections = ConnectionRepository::list_masked(&database, ALL).await.unwrap();
    assert_eq!(connections.items, vec![ConnectionSummary::from(&connection)]);
    let storages = StorageRepository::list_masked(&database, ALL).await.unwrap();
    assert_eq!(storages.items, vec![StorageSummary::from(&storage)]);
    database.close().await.unwrap();

    fresh.open(cipher()).await.close().await.unwrap();
    let masks = "SELECT (SELECT api_key_mask FROM connections) || ' ' || (SELECT access_key_mask FROM storages) \
                 || ' ' || (SELECT secret_key_mask FROM storages)";
    let row = raw.query_one_raw(fresh.statement(masks, vec![])).await.unwrap().unwrap();
    let summary = StorageSummary::from(&storage);
    let expected = format!(
        "{} {} {}",
        ConnectionSummary::from(&connection).api_key.unwrap(),
        summary.access_key.unwrap(),
        summary.secret_key.unwrap()
    );
    assert_eq!(row.try_get_by_index::<String>(0).unwrap(), expected);
    raw.close().await.unwrap();
}

#[tokio::test]
async fn sqlite_rows_from_before_masks_get_them_at_start_up() {
    rows_from_before_masks_get_them_at_start_up(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_rows_from_before_masks_get_them_at_start_up() {
    rows_from_before_masks_get_them_at_start_up(Backend::Postgres).await;
}
