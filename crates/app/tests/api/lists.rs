//! Lists: bare JSON arrays, `?limit=&offset=` or `?page=&page_size=`, `X-Total-Count`, and RFC 8288
//! `Link` headers that lead to the right pages; runs newest first and filtered.

use serde_json::json;

use crate::helpers::{
    Backend, TestApp, dense_dataset, dense_experiment, ids, links, on_both_backends, spawn_app, spawn_app_on,
};

on_both_backends!(
    runs_are_listed_newest_first_and_filtered,
    an_offset_too_large_for_the_database_is_answered_not_a_crash
);

/// Registers `count` connections besides the built-in one; returns every id in list order.
async fn connections(app: &TestApp, count: usize) -> Vec<String> {
    for index in 0..count {
        app.create("/api/v1/connections", json!({"name": format!("qdrant-{index}"), "url": "http://q:6333"})).await;
    }
    let all = app.get("/api/v1/connections").await;
    all.expect(200);
    ids(&all)
}

#[actix_web::test]
async fn every_list_is_a_bare_array_with_its_total() {
    let app = spawn_app().await;
    for collection in ["connections", "storage", "datasets", "experiments", "runs"] {
        let reply = app.get(&format!("/api/v1/{collection}")).await;
        reply.expect(200);
        assert_eq!(reply.media_type(), "application/json");
        assert!(reply.body.is_array(), "{collection}: {reply:#?}");
        let expected = if collection == "connections" { "1" } else { "0" };
        assert_eq!(reply.header("x-total-count"), expected, "{collection}");
        let links = links(&reply);
        assert_eq!(links.get("first"), Some(&format!("/api/v1/{collection}?limit=50&offset=0")), "{collection}");
        assert_eq!(links.get("last"), Some(&format!("/api/v1/{collection}?limit=50&offset=0")), "{collection}");
        assert!(!links.contains_key("next") && !links.contains_key("prev"), "{collection}: {links:?}");
    }
}

#[actix_web::test]
async fn limit_and_offset_page_through_a_list_with_correct_links() {
    let app = spawn_app().await;
    let all = connections(&app, 6).await;
    assert_eq!(all.len(), 7, "six and the built-in one");

    let page = app.get("/api/v1/connections?limit=2&offset=2").await;
    page.expect(200);
    assert_eq!(ids(&page), all[2..4]);
    assert_eq!(page.header("x-total-count"), "7");
    let links = links(&page);
    let expected = |offset: usize| format!("/api/v1/connections?limit=2&offset={offset}");
    assert_eq!(links.get("first"), Some(&expected(0)));
    assert_eq!(links.get("prev"), Some(&expected(0)));
    assert_eq!(links.get("next"), Some(&expected(4)));
    assert_eq!(links.get("last"), Some(&expected(6)));

    // Each link leads to the page it names.
    for (rel, range) in [("first", 0..2), ("prev", 0..2), ("next", 4..6), ("last", 6..7)] {
        let target = app.get(&links[rel]).await;
        target.expect(200);
        assert_eq!(ids(&target), all[range], "rel={rel}");
    }

    // The first page has no prev, the last no next.
    let first = crate::helpers::links(&app.get("/api/v1/connections?limit=2").await);
    assert!(!first.contains_key("prev") && first.contains_key("next"), "{first:?}");
    let last = crate::helpers::links(&app.get("/api/v1/connections?limit=2&offset=6").await);
    assert!(last.contains_key("prev") && !last.contains_key("next"), "{last:?}");
    assert_eq!(last.get("prev"), Some(&expected(4)));

    // Past the end: an empty page, the total still said.
    let beyond = app.get("/api/v1/connections?limit=2&offset=100").await;
    beyond.expect(200);
    assert_eq!(beyond.body, json!([]));
    assert_eq!(beyond.header("x-total-count"), "7");
}

#[actix_web::test]
async fn page_and_page_size_are_another_spelling_of_offset_and_limit() {
    let app = spawn_app().await;
    let all = connections(&app, 6).await;

    let page = app.get("/api/v1/connections?page=2&page_size=3").await;
    page.expect(200);
    assert_eq!(ids(&page), all[3..6]);
    assert_eq!(page.header("x-total-count"), "7");
    let links = links(&page);
    assert_eq!(links.get("prev").map(String::as_str), Some("/api/v1/connections?limit=3&offset=0"));
    assert_eq!(links.get("next").map(String::as_str), Some("/api/v1/connections?limit=3&offset=6"));
    assert_eq!(links.get("last").map(String::as_str), Some("/api/v1/connections?limit=3&offset=6"));
    let last = app.get("/api/v1/connections?page=3&page_size=3").await;
    assert_eq!(ids(&last), all[6..7]);

    // `page` alone uses the default page size.
    let default_size = app.get("/api/v1/connections?page=1").await;
    assert_eq!(ids(&default_size), all);
}

#[actix_web::test]
async fn every_collection_paginates() {
    let app = spawn_app().await;
    let builtin_id = app.builtin_connection_id().await;
    for index in 0..3 {
        app.create("/api/v1/storage", json!({"name": format!("s{index}"), "bucket": "datasets"})).await;
        let dataset = app.create("/api/v1/datasets", dense_dataset(&format!("d{index}"))).await;
        let experiment = app
            .create(
                "/api/v1/experiments",
                dense_experiment(&format!("e{index}"), dataset["id"].as_str().unwrap(), &builtin_id),
            )
            .await;
        app.start_run(experiment["id"].as_str().unwrap()).await;
    }
    for collection in ["storage", "datasets", "experiments", "runs"] {
        let all = app.get(&format!("/api/v1/{collection}")).await;
        assert_eq!(all.header("x-total-count"), "3", "{collection}");
        let all = ids(&all);
        let page = app.get(&format!("/api/v1/{collection}?limit=1&offset=1")).await;
        page.expect(200);
        assert_eq!(ids(&page), all[1..2], "{collection}");
        assert_eq!(page.header("x-total-count"), "3", "{collection}");
        let links = links(&page);
        assert_eq!(links.get("next"), Some(&format!("/api/v1/{collection}?limit=1&offset=2")), "{collection}");
    }
    // Registration order for the objects a user registers.
    let names: Vec<String> = app
        .get("/api/v1/datasets")
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["d0", "d1", "d2"]);
}

async fn runs_are_listed_newest_first_and_filtered(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let builtin_id = app.builtin_connection_id().await;
    let dataset = app.create("/api/v1/datasets", dense_dataset("dense")).await;
    let dataset_id = dataset["id"].as_str().unwrap();
    let a = app.create("/api/v1/experiments", dense_experiment("a", dataset_id, &builtin_id)).await;
    let b = app.create("/api/v1/experiments", dense_experiment("b", dataset_id, &builtin_id)).await;
    let (a, b) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());

    let mut created = Vec::new();
    for experiment in [a, b, a, a] {
        created.push(app.start_run(experiment).await);
    }
    let canceled = created[2].clone();
    app.post_empty(&format!("/api/v1/runs/{canceled}/cancel")).await.expect(200);
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();

    let all = app.get("/api/v1/runs").await;
    all.expect(200);
    assert_eq!(ids(&all), newest_first);
    assert_eq!(all.header("x-total-count"), "4");

    // Everything belongs to the development caller, an admin, who may also list every user's runs.
    assert!(all.body.as_array().unwrap().iter().all(|run| run["owner"] == "dev@localhost"), "{all:#?}");
    assert_eq!(dataset["owner"], "dev@localhost");
    assert_eq!(app.get(&format!("/api/v1/experiments/{a}")).await.body["owner"], "dev@localhost");
    let everyone = app.get("/api/v1/runs?all=true").await;
    everyone.expect(200);
    assert_eq!((ids(&everyone), everyone.header("x-total-count")), (newest_first.clone(), "4"));

    let of_a = app.get(&format!("/api/v1/runs?experiment_id={a}")).await;
    assert_eq!(ids(&of_a), [created[3].clone(), created[2].clone(), created[0].clone()]);
    assert_eq!(of_a.header("x-total-count"), "3");
    assert!(of_a.body.as_array().unwrap().iter().all(|run| run["experiment_id"] == a));

    let canceled_runs = app.get("/api/v1/runs?status=CANCELED").await;
    assert_eq!(ids(&canceled_runs), [canceled.as_str()]);
    assert_eq!(canceled_runs.body[0]["status"], "CANCELED");

    let waiting_of_a = app.get(&format!("/api/v1/runs?experiment_id={a}&status=CREATED")).await;
    assert_eq!(ids(&waiting_of_a), [created[3].clone(), created[0].clone()]);
    assert_eq!(waiting_of_a.header("x-total-count"), "2");

    let none = app.get(&format!("/api/v1/runs?experiment_id={b}&status=COMPLETED")).await;
    assert_eq!(none.body, json!([]));
    assert_eq!(none.header("x-total-count"), "0");

    // Paging keeps the filters in every link.
    let page = app.get(&format!("/api/v1/runs?experiment_id={a}&limit=1&offset=1")).await;
    assert_eq!(ids(&page), [created[2].clone()]);
    let links = links(&page);
    for rel in ["first", "prev", "next", "last"] {
        let target = links.get(rel).unwrap_or_else(|| panic!("no rel={rel}: {links:?}"));
        assert!(target.contains(&format!("experiment_id={a}")), "rel={rel}: {target}");
        let followed = app.get(target).await;
        followed.expect(200);
        assert!(followed.body.as_array().unwrap().iter().all(|run| run["experiment_id"] == a), "rel={rel}");
    }
    assert_eq!(ids(&app.get(&links["next"]).await), [created[0].clone()]);
    assert_eq!(ids(&app.get(&links["last"]).await), [created[0].clone()]);
}

/// Offsets are `u64` on the wire but the databases count in `i64`: an offset past `i64::MAX`
/// (given directly or as `page × page_size`) must be answered, either as a 400 naming the
/// parameter (like an out-of-range `limit`) or as an empty page; it must never panic the worker.
async fn an_offset_too_large_for_the_database_is_answered_not_a_crash(backend: Backend) {
    let app = spawn_app_on(backend).await;
    for (query, parameter) in [
        ("/api/v1/connections?offset=9223372036854775807", "offset"),
        ("/api/v1/connections?offset=9223372036854775808", "offset"),
        ("/api/v1/runs?offset=18446744073709551615", "offset"),
        ("/api/v1/datasets?page=18446744073709551615&page_size=1000", "page"),
    ] {
        let reply = app.get(query).await;
        match reply.status.as_u16() {
            200 => assert_eq!(reply.body, json!([]), "{query}"),
            400 => {
                crate::helpers::assert_problem(&reply, 400);
                assert_eq!(crate::helpers::fields(&reply.body["errors"]), [parameter], "{query}");
            }
            _ => panic!("{query}: expected 200 with an empty page or 400 naming `{parameter}`: {reply:#?}"),
        }
    }
}
