//! Contract checks of the masked lists (`list_masked`), which show secrets as their masks.

use qbench_domain::{ConnectionSummary, Secret, StorageSummary};
use qbench_repository::{Listed, Page};

use super::RepositoryUnderTest;
use super::fixtures::{connection, now, ok, storage};

fn summaries<T, S: for<'a> From<&'a T>>(listed: Listed<T>) -> Listed<S> {
    Listed { items: listed.items.iter().map(S::from).collect(), total: listed.total }
}

/// A masked list is the full list's page with each secret as its mask (none without a secret),
/// with the same total (also past the end), also after a secret changed or was removed.
pub async fn check_masked_lists_show_the_masks_of_the_full_lists(repos: &RepositoryUnderTest) {
    let mut keyed = connection();
    ok(repos.connections.insert(&keyed).await, "insert connection");
    let mut keyless = connection();
    keyless.spec.api_key = None;
    ok(repos.connections.insert(&keyless).await, "insert connection without a key");
    let mut stored = storage(true);
    ok(repos.storages.insert(&stored).await, "insert storage");
    let mut anonymous = storage(false);
    anonymous.spec.access_key = None;
    anonymous.spec.secret_key = None;
    ok(repos.storages.insert(&anonymous).await, "insert storage without keys");

    let same_pages = async |what: &str| {
        let pages = [
            Page { limit: Page::MAX_LIMIT, offset: 0 },
            Page { limit: 2, offset: 1 },
            Page { limit: 2, offset: 1 << 40 },
        ];
        for page in pages {
            let full = ok(repos.connections.list(page).await, "list connections");
            let masked = ok(repos.connections.list_masked(page).await, "list masked connections");
            assert_eq!(masked, summaries::<_, ConnectionSummary>(full), "{what}: connections {page:?}");
            let full = ok(repos.storages.list(page).await, "list storages");
            let masked = ok(repos.storages.list_masked(page).await, "list masked storages");
            assert_eq!(masked, summaries::<_, StorageSummary>(full), "{what}: storages {page:?}");
        }
    };
    same_pages("as inserted").await;

    keyed.spec.api_key = Some(Secret::from("a-new-key-ending-in-zz".to_owned()));
    keyed.updated_at = now();
    ok(repos.connections.update(&keyed).await, "update connection");
    keyless.spec.api_key = Some(Secret::from("short".to_owned()));
    ok(repos.connections.update(&keyless).await, "update connection");
    stored.spec.access_key = None;
    stored.spec.secret_key = Some(Secret::from("another-secret-key-yy".to_owned()));
    ok(repos.storages.update(&stored).await, "update storage");
    same_pages("after updates").await;

    let listed = ok(repos.connections.list_masked(Page { limit: Page::MAX_LIMIT, offset: 0 }).await, "list");
    let shown = listed.items.iter().find(|c| c.id == keyed.id).map(|c| c.api_key.clone());
    assert_eq!(shown, Some(Some("****zz".to_owned())), "the new key's mask is shown");
}
