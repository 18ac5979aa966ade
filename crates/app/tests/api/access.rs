//! Authorization over HTTP, on a JWT deployment: every route against every kind of credential
//! (none, expired, bad signature, wrong audience, wrong issuer, too small a role, the right role),
//! and users who cannot see, change, cancel or delete each other's objects through any route.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::auth::{AUDIENCE, ISSUER, claims, hs256, jwt_app};
use crate::helpers::{Reply, TestApp};

/// A request as `token` (none when `None`) with an optional JSON body.
async fn call(app: &TestApp, method: Method, path: &str, token: Option<&str>, body: Option<&Value>) -> Reply {
    let mut request = TestRequest::default().method(method).uri(path);
    if let Some(token) = token {
        request = request.insert_header(("Authorization", format!("Bearer {token}")));
    }
    if let Some(body) = body {
        request = request.insert_header(("Content-Type", "application/json")).set_payload(body.to_string());
    }
    app.send(request).await
}

fn token(user: &str, role: Option<&str>) -> String {
    hs256(&claims(user, role.as_slice()))
}

/// Objects owned by `ann` (an editor) and managed by `root` (an admin), plus spares to delete.
struct World {
    connection: String,
    spare_connection: String,
    storage: String,
    spare_storage: String,
    dataset: String,
    spare_dataset: String,
    experiment: String,
    spare_experiment: String,
    run: String,
    embedded: String,
}

async fn created(app: &TestApp, path: &str, token: &str, body: Value) -> String {
    let reply = call(app, Method::POST, path, Some(token), Some(&body)).await;
    assert!(reply.status.is_success(), "POST {path}: {reply:#?}");
    reply.body["id"].as_str().or(reply.body["run_id"].as_str()).unwrap().to_owned()
}

fn dataset_body(name: &str) -> Value {
    json!({"name": name, "source_uri": format!("{name}.parquet"),
           "schema_config": {"vectors": {"v": {"dim": 4, "distance": "Cosine"}}}})
}

async fn world(app: &TestApp) -> World {
    let (root, ann) = (token("root", Some("admin")), token("ann", Some("editor")));
    let connection = |name: &str| json!({"name": name, "url": format!("http://{name}.test:6333")});
    let connections = call(app, Method::GET, "/api/v1/connections", Some(&root), None).await;
    let embedded = connections.body.as_array().unwrap().iter().find(|c| c["builtin"] == true).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let dataset = created(app, "/api/v1/datasets", &ann, dataset_body("ann-set")).await;
    let experiment_body =
        |name: &str| json!({"name": name, "dataset_id": dataset, "connection_id": embedded, "search_config": {"k": 2}});
    let experiment = created(app, "/api/v1/experiments", &ann, experiment_body("ann-exp")).await;
    World {
        connection: created(app, "/api/v1/connections", &root, connection("kept")).await,
        spare_connection: created(app, "/api/v1/connections", &root, connection("spare")).await,
        storage: created(app, "/api/v1/storage", &root, json!({"bucket": "kept"})).await,
        spare_storage: created(app, "/api/v1/storage", &root, json!({"bucket": "spare"})).await,
        spare_dataset: created(app, "/api/v1/datasets", &ann, dataset_body("ann-spare")).await,
        spare_experiment: created(app, "/api/v1/experiments", &ann, experiment_body("ann-spare")).await,
        run: created(app, &format!("/api/v1/experiments/{experiment}/runs"), &ann, Value::Null).await,
        dataset,
        experiment,
        embedded,
    }
}

/// Every route behind authentication: method, path, body, and the least role that may use it
/// (`None`: any identified caller).
fn routes(w: &World) -> Vec<(Method, String, Option<Value>, Option<&'static str>)> {
    let experiment = json!({"name": "new-exp", "dataset_id": w.dataset, "connection_id": w.embedded});
    vec![
        (Method::GET, "/api/v1/metadata/version".into(), None, None),
        (Method::GET, "/api/v1/metadata/capabilities".into(), None, None),
        (Method::GET, "/api/v1/connections".into(), None, Some("viewer")),
        (
            Method::POST,
            "/api/v1/connections".into(),
            Some(json!({"name": "new", "url": "http://n.test:6333"})),
            Some("admin"),
        ),
        (Method::GET, format!("/api/v1/connections/{}", w.connection), None, Some("viewer")),
        (
            Method::PATCH,
            format!("/api/v1/connections/{}", w.connection),
            Some(json!({"name": "renamed"})),
            Some("admin"),
        ),
        (Method::DELETE, format!("/api/v1/connections/{}", w.spare_connection), None, Some("admin")),
        (Method::GET, "/api/v1/storage".into(), None, Some("viewer")),
        (Method::POST, "/api/v1/storage".into(), Some(json!({"bucket": "new"})), Some("admin")),
        (Method::GET, format!("/api/v1/storage/{}", w.storage), None, Some("viewer")),
        (Method::PATCH, format!("/api/v1/storage/{}", w.storage), Some(json!({"region": "eu-west-1"})), Some("admin")),
        (Method::DELETE, format!("/api/v1/storage/{}", w.spare_storage), None, Some("admin")),
        (Method::GET, "/api/v1/datasets".into(), None, Some("viewer")),
        (Method::POST, "/api/v1/datasets".into(), Some(dataset_body("new-set")), Some("editor")),
        (Method::GET, format!("/api/v1/datasets/{}", w.dataset), None, Some("viewer")),
        (
            Method::PATCH,
            format!("/api/v1/datasets/{}", w.dataset),
            Some(json!({"name": "renamed-set"})),
            Some("editor"),
        ),
        (Method::POST, format!("/api/v1/datasets/{}/inspect", w.dataset), None, Some("editor")),
        (Method::DELETE, format!("/api/v1/datasets/{}", w.spare_dataset), None, Some("editor")),
        (Method::GET, "/api/v1/experiments".into(), None, Some("viewer")),
        (Method::POST, "/api/v1/experiments".into(), Some(experiment.clone()), Some("editor")),
        (Method::POST, "/api/v1/experiments/validate".into(), Some(experiment), Some("viewer")),
        (Method::GET, format!("/api/v1/experiments/{}", w.experiment), None, Some("viewer")),
        (
            Method::PATCH,
            format!("/api/v1/experiments/{}", w.experiment),
            Some(json!({"name": "renamed-exp"})),
            Some("editor"),
        ),
        (Method::POST, format!("/api/v1/experiments/{}/runs", w.experiment), None, Some("editor")),
        (Method::DELETE, format!("/api/v1/experiments/{}", w.spare_experiment), None, Some("editor")),
        (Method::GET, "/api/v1/runs".into(), None, Some("viewer")),
        (Method::GET, format!("/api/v1/runs/{}", w.run), None, Some("viewer")),
        (Method::GET, format!("/api/v1/runs/{}/result", w.run), None, Some("viewer")),
        (Method::POST, format!("/api/v1/runs/{}/cancel", w.run), None, Some("editor")),
    ]
}

/// The role just below `role`, and the detail its refusal carries.
fn too_small(role: &str) -> (Option<&'static str>, String) {
    match role {
        "admin" => (Some("editor"), "this needs the admin role; you have editor".to_owned()),
        "editor" => (Some("viewer"), "this needs the editor role; you have viewer".to_owned()),
        _ => (None, format!("this needs the {role} role; you have no role")),
    }
}

#[actix_web::test]
async fn every_route_refuses_every_bad_credential_and_serves_the_right_role() {
    let app = jwt_app(&[]).await;
    let w = world(&app).await;
    let now = chrono::Utc::now().timestamp();
    let mut expired = claims("ann", &["admin"]);
    expired["exp"] = json!(now - 3600);
    let mut wrong_audience = claims("ann", &["admin"]);
    wrong_audience["aud"] = json!("other");
    let mut wrong_issuer = claims("ann", &["admin"]);
    wrong_issuer["iss"] = json!("https://other.test");
    let forged = encode(
        &Header::new(Algorithm::HS256),
        &claims("ann", &["admin"]),
        &EncodingKey::from_secret(b"not-the-secret-but-just-as-long-as-it!!!"),
    )
    .unwrap();
    let refusals = [
        ("no credentials", None, "authentication required"),
        ("expired token", Some(hs256(&expired)), "token expired"),
        ("bad signature", Some(forged), "invalid token"),
        ("wrong audience", Some(hs256(&wrong_audience)), "invalid token"),
        ("wrong issuer", Some(hs256(&wrong_issuer)), "invalid token"),
    ];
    assert_eq!((AUDIENCE, ISSUER), ("qbench", "https://issuer.test"));

    for (method, path, body, role) in routes(&w) {
        let route = format!("{method} {path}");
        for (case, bad, detail) in &refusals {
            let reply = call(&app, method.clone(), &path, bad.as_deref(), body.as_ref()).await;
            assert_eq!(reply.status.as_u16(), 401, "{route}, {case}: {reply:#?}");
            assert_eq!(reply.body["detail"], *detail, "{route}, {case}");
            assert_eq!(reply.header("www-authenticate"), "Bearer", "{route}, {case}");
        }
        if let Some(role) = role {
            let (below, detail) = too_small(role);
            let reply = call(&app, method.clone(), &path, Some(&token("ann", below)), body.as_ref()).await;
            assert_eq!(reply.status.as_u16(), 403, "{route} as {below:?}: {reply:#?}");
            assert_eq!(reply.body["detail"], detail, "{route}");
        }
        // The right role: ann owns the datasets, experiments and runs; root manages the rest.
        let user = if role == Some("admin") { "root" } else { "ann" };
        let reply =
            call(&app, method.clone(), &path, Some(&token(user, Some(role.unwrap_or("viewer")))), body.as_ref()).await;
        let status = reply.status.as_u16();
        assert!(![401, 403, 404].contains(&status), "{route} as {user} ({role:?}): {reply:#?}");
    }
}

#[actix_web::test]
async fn users_see_and_touch_only_their_own_objects_and_admins_see_all_when_asking() {
    let app = jwt_app(&[]).await;
    let w = world(&app).await;
    let (bob, root) = (token("bob", Some("editor")), token("root", Some("admin")));
    let missing = "00000000-0000-7000-8000-000000000000";

    // Bob's view of ann's objects is the view of objects that do not exist, route by route.
    for (method, template, body) in [
        (Method::GET, "/api/v1/datasets/{}", None),
        (Method::PATCH, "/api/v1/datasets/{}", Some(json!({"name": "mine-now"}))),
        (Method::POST, "/api/v1/datasets/{}/inspect", None),
        (Method::DELETE, "/api/v1/datasets/{}", None),
        (Method::GET, "/api/v1/experiments/{}", None),
        (Method::PATCH, "/api/v1/experiments/{}", Some(json!({"name": "mine-now"}))),
        (Method::POST, "/api/v1/experiments/{}/runs", None),
        (Method::DELETE, "/api/v1/experiments/{}", None),
        (Method::GET, "/api/v1/runs/{}", None),
        (Method::GET, "/api/v1/runs/{}/result", None),
        (Method::POST, "/api/v1/runs/{}/cancel", None),
    ] {
        let id = if template.starts_with("/api/v1/datasets") {
            &w.dataset
        } else if template.starts_with("/api/v1/experiments") {
            &w.experiment
        } else {
            &w.run
        };
        let theirs = call(&app, method.clone(), &template.replace("{}", id), Some(&bob), body.as_ref()).await;
        let absent = call(&app, method.clone(), &template.replace("{}", missing), Some(&bob), body.as_ref()).await;
        assert_eq!(theirs.status.as_u16(), 404, "{method} {template}: {theirs:#?}");
        assert_eq!(absent.status.as_u16(), 404, "{method} {template}: {absent:#?}");
        let detail = |reply: &Reply, id: &str| reply.body["detail"].as_str().unwrap().replace(id, "<id>");
        assert_eq!(detail(&theirs, id), detail(&absent, missing), "{method} {template}: no existence leak");
    }
    // Nor can bob build on ann's dataset.
    let on_theirs = json!({"name": "bobs", "dataset_id": w.dataset, "connection_id": w.embedded});
    let reply = call(&app, Method::POST, "/api/v1/experiments", Some(&bob), Some(&on_theirs)).await;
    assert!(matches!(reply.status.as_u16(), 404 | 422), "{reply:#?}");

    // Lists are per user, totals included.
    for path in ["/api/v1/datasets", "/api/v1/experiments", "/api/v1/runs"] {
        let reply = call(&app, Method::GET, path, Some(&bob), None).await;
        reply.expect(200);
        assert_eq!(reply.body, json!([]), "{path}");
        assert_eq!(reply.header("x-total-count"), "0", "{path}");
    }
    // Ann's own objects are hers, with her name on them.
    let ann = token("ann", Some("viewer"));
    let reply = call(&app, Method::GET, &format!("/api/v1/runs/{}", w.run), Some(&ann), None).await;
    reply.expect(200);
    assert_eq!(reply.body["owner"], "ann");
    let runs = call(&app, Method::GET, "/api/v1/runs", Some(&ann), None).await;
    assert_eq!(runs.body.as_array().unwrap().len(), 1);

    // An admin sees their own runs by default and everyone's on request; nobody else may ask.
    let own = call(&app, Method::GET, "/api/v1/runs", Some(&root), None).await;
    assert_eq!(own.body, json!([]));
    let all = call(&app, Method::GET, "/api/v1/runs?all=true", Some(&root), None).await;
    assert_eq!(all.body.as_array().unwrap().len(), 1, "{all:#?}");
    let refused = call(&app, Method::GET, "/api/v1/runs?all=true", Some(&bob), None).await;
    assert_eq!(refused.status.as_u16(), 403, "{refused:#?}");
    // And may act on anyone's objects.
    let cancel = call(&app, Method::POST, &format!("/api/v1/runs/{}/cancel", w.run), Some(&root), None).await;
    assert!(cancel.status.is_success(), "{cancel:#?}");
}
