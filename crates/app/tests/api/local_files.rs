//! Local dataset files belong to someone: qbench's own state is never read as a dataset, and with
//! `engine.local_access = "per-user"` a dataset reads only its owner's area of the data roots.

use qbench_domain::synthetic::SyntheticSpec;
use qbench_domain::{Dimension, Distance, SchemaConfig, VectorSpec};
use qbench_service::synthetic::synthetic_dataset;
use serde_json::{Value, json};

use crate::auth::{claims, hs256, jwt_app};
use crate::helpers::{self, Reply, TestApp, spawn_app};

async fn write_small_dataset(app: &TestApp, relative: &str) {
    let vectors = SchemaConfig::from_vectors([("v", VectorSpec::new(Dimension::new(4).unwrap(), Distance::Cosine))])
        .unwrap()
        .vectors;
    let spec = SyntheticSpec { rows: 50, queries: 5, vectors, clusters: 2, seed: 3 };
    helpers::write_dataset(app.data_dir(), relative, &synthetic_dataset(&spec, 1)).await;
}

fn dataset(name: &str, source_uri: &str) -> Value {
    json!({"name": name, "source_uri": source_uri, "schema_config": {"vectors": {"v": {"dim": 4, "distance": "Cosine"}}}})
}

async fn register_as(app: &TestApp, token: &str, body: &Value) -> Reply {
    app.send(
        actix_web::test::TestRequest::post()
            .uri("/api/v1/datasets?inspect=true")
            .insert_header(("Authorization", format!("Bearer {token}")))
            .insert_header(("Content-Type", "application/json"))
            .set_payload(body.to_string()),
    )
    .await
}

/// Regression (issue 11): the reader opened the server's own `qbench.db` and `secret.key`, and a
/// run's results directory, refused only as a corrupt footer (after reading them).
#[actix_web::test]
async fn the_server_database_key_and_results_were_readable_as_datasets() {
    let app = spawn_app().await;
    std::fs::create_dir_all(app.data_dir().join("results/some-run")).unwrap();
    std::fs::write(app.data_dir().join("results/some-run/queries.parquet"), b"PAR1").unwrap();
    let secret_key = app.data_dir().join("secret.key");
    std::fs::write(&secret_key, b"not the real key, but where the generated one lives").unwrap();
    for source in ["qbench.db", "file://qbench.db", "secret.key", "results/", "results/some-run/queries.parquet"] {
        let reply = app.post_json("/api/v1/datasets?inspect=true", &dataset("state", source)).await;
        reply.expect(422);
        let text = reply.body.to_string();
        assert!(text.contains("qbench's own state"), "{source}: {text}");
        assert!(!text.contains(&app.data_dir().display().to_string()), "no server path: {text}");
    }
}

/// Regression (issue 11): with JWT on, editor bob registered, inspected and benchmarked alice's
/// dataset directory. Under `per-user`, each dataset reads its owner's area only.
#[actix_web::test]
async fn bob_read_alices_dataset_directory_and_per_user_areas_now_refuse_it() {
    let app = jwt_app(&[("QBENCH_ENGINE__LOCAL_ACCESS", "per-user")]).await;
    let (alice, bob) = (hs256(&claims("alice", &["editor"])), hs256(&claims("bob", &["editor"])));
    write_small_dataset(&app, "alice/mine").await;

    // Alice's relative path resolves inside her own area.
    let hers = register_as(&app, &alice, &dataset("hers", "mine/")).await;
    hers.expect(201);
    assert_eq!(hers.body["inspection"]["train_rows"], 50, "{:#}", hers.body);

    let root = app.data_dir().display().to_string();
    for source in ["../alice/mine/", "mine/", &format!("file://{root}/alice/mine/"), "file://../alice/mine/"] {
        let reply = register_as(&app, &bob, &dataset("not-his", source)).await;
        reply.expect(422);
        let text = reply.body.to_string();
        // A path is only ever shown as the caller wrote it.
        assert!(source.contains(&root) || !text.contains(&root), "{source}: no server path in {text}");
        assert!(!text.contains("train_rows"), "{source}: {text}");
    }
    let escaped = register_as(&app, &bob, &dataset("escape", "../alice/mine/")).await;
    assert!(escaped.body.to_string().contains("`bob/`, the dataset owner's own area"), "{:#}", escaped.body);
}

/// Regression (issue 14): a relative `source_uri` that does not exist answered "not found" without
/// saying that relative paths are read from the server's data roots (the CLI reads them from the
/// working directory), so `./data/synth` from a shell's point of view looked like a bug.
#[actix_web::test]
async fn a_missing_relative_source_says_it_was_looked_for_in_the_data_roots() {
    let app = spawn_app().await;
    write_small_dataset(&app, "present").await;
    let reply = app.post_json("/api/v1/datasets?inspect=true", &dataset("missing", "./data/synth")).await;
    reply.expect(422);
    let text = reply.body.to_string();
    assert!(text.contains("data/synth") && text.contains("data root"), "{text}");
    assert!(!text.contains(&app.data_dir().display().to_string()), "no server path: {text}");
}
