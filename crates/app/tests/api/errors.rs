//! Every class of error the API answers, each as an RFC 7807 problem naming what is at fault.

use actix_web::http::Method;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::test::TestRequest;
use serde_json::json;

use crate::helpers::{TestApp, assert_problem, fields, spawn_app};

/// One bad request and what it must answer.
struct Case {
    /// What the case shows, for failure messages.
    what: &'static str,
    method: Method,
    path: String,
    /// `Content-Type` and body, when the request has one.
    body: Option<(&'static str, Vec<u8>)>,
    status: u16,
    /// A field the problem's `errors` must name.
    field: Option<&'static str>,
}

impl Case {
    fn new(what: &'static str, method: Method, path: impl Into<String>, status: u16) -> Self {
        Self { what, method, path: path.into(), body: None, status, field: None }
    }

    fn json(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(("application/json", body.into()));
        self
    }

    fn typed(mut self, content_type: &'static str, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some((content_type, body.into()));
        self
    }

    fn naming(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }
}

/// Sends every case and checks its problem, reporting all mismatches at once.
async fn check(app: &TestApp, cases: Vec<Case>) {
    let mut failures = Vec::new();
    for case in cases {
        let mut request = TestRequest::default().method(case.method.clone()).uri(&case.path);
        if let Some((content_type, body)) = case.body {
            request = request.insert_header((CONTENT_TYPE, content_type)).set_payload(body);
        }
        let reply = app.send(request).await;
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            assert_problem(&reply, case.status);
            if let Some(field) = case.field {
                let named = fields(&reply.body["errors"]);
                assert!(named.iter().any(|named| named == field), "`errors` does not name `{field}`: {named:?}");
            }
        }));
        if outcome.is_err() {
            failures.push(format!(
                "{} ({} {}): expected {} naming {:?}, got {} {}",
                case.what, case.method, case.path, case.status, case.field, reply.status, reply.text
            ));
        }
    }
    assert!(failures.is_empty(), "{} case(s) failed:\n{}", failures.len(), failures.join("\n"));
}

#[actix_web::test]
async fn every_error_class_is_a_problem_naming_its_cause() {
    let app = spawn_app().await;
    let unknown = uuid::Uuid::new_v4();
    let experiment = |extra: serde_json::Value| {
        let mut body = json!({"name": "e", "dataset_id": unknown, "connection_id": unknown});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body.to_string()
    };
    check(
        &app,
        vec![
            Case::new("malformed JSON", Method::POST, "/api/v1/connections", 400).json(r#"{"name": "a", "url":"#),
            Case::new("trailing garbage", Method::POST, "/api/v1/connections", 400)
                .json(r#"{"name": "a", "url": "http://q:6333"} x"#),
            Case::new("empty body", Method::POST, "/api/v1/connections", 400).json(""),
            Case::new("wrong type", Method::POST, "/api/v1/connections", 422)
                .json(r#"{"name": 5, "url": "http://q:6333"}"#)
                .naming("name"),
            Case::new("missing field", Method::POST, "/api/v1/connections", 422).json(r#"{"name": "a"}"#),
            Case::new("nested wrong type", Method::POST, "/api/v1/datasets", 422)
                .json(r#"{"name": "d", "source_uri": "d.parquet", "schema_config": {"vectors": {"v": {"dim": "x"}}}}"#),
            Case::new("unknown quantization kind", Method::POST, "/api/v1/experiments", 422)
                .json(experiment(json!({"optimizer_config": {"quantization": {"fancy": {}}}}))),
            Case::new("unknown quantization kind, dry run", Method::POST, "/api/v1/experiments/validate", 422)
                .json(experiment(json!({"optimizer_config": {"quantization": {"fancy": {}}}}))),
            Case::new("bad UUID in the path", Method::GET, "/api/v1/connections/not-a-uuid", 400).naming("id"),
            Case::new("bad UUID in a nested path", Method::POST, "/api/v1/runs/42/cancel", 400).naming("id"),
            Case::new("unknown connection", Method::GET, format!("/api/v1/connections/{unknown}"), 404),
            Case::new("unknown storage", Method::GET, format!("/api/v1/storage/{unknown}"), 404),
            Case::new("unknown dataset", Method::GET, format!("/api/v1/datasets/{unknown}"), 404),
            Case::new("unknown experiment", Method::GET, format!("/api/v1/experiments/{unknown}"), 404),
            Case::new("unknown run", Method::GET, format!("/api/v1/runs/{unknown}"), 404),
            Case::new("run of an unknown experiment", Method::POST, format!("/api/v1/experiments/{unknown}/runs"), 404),
            Case::new("cancel of an unknown run", Method::POST, format!("/api/v1/runs/{unknown}/cancel"), 404),
            Case::new("PATCH of an unknown dataset", Method::PATCH, format!("/api/v1/datasets/{unknown}"), 404)
                .json("{}"),
            Case::new("DELETE of an unknown storage", Method::DELETE, format!("/api/v1/storage/{unknown}"), 404),
            Case::new("unknown route", Method::GET, "/api/v1/nope", 404),
            Case::new("unknown route outside the API", Method::GET, "/nope", 404),
            Case::new("wrong method", Method::PUT, "/api/v1/runs", 405),
            Case::new("wrong method on an object", Method::POST, format!("/api/v1/runs/{unknown}"), 405),
            Case::new("text/plain body", Method::POST, "/api/v1/connections", 415)
                .typed("text/plain", r#"{"name": "a", "url": "http://q:6333"}"#),
            Case::new("form body", Method::POST, "/api/v1/storage", 415)
                .typed("application/x-www-form-urlencoded", "bucket=datasets"),
            Case::new("malformed limit", Method::GET, "/api/v1/connections?limit=abc", 400).naming("limit"),
            Case::new("limit too large", Method::GET, "/api/v1/datasets?limit=5000", 400).naming("limit"),
            Case::new("limit zero", Method::GET, "/api/v1/experiments?limit=0", 400).naming("limit"),
            Case::new("page zero", Method::GET, "/api/v1/storage?page=0&page_size=10", 400).naming("page"),
            Case::new("page_size too large", Method::GET, "/api/v1/storage?page=1&page_size=5000", 400)
                .naming("page_size"),
            Case::new("negative offset", Method::GET, "/api/v1/runs?offset=-1", 400).naming("offset"),
            Case::new("unknown status", Method::GET, "/api/v1/runs?status=DONE", 400).naming("status"),
            Case::new("malformed experiment_id", Method::GET, "/api/v1/runs?experiment_id=abc", 400)
                .naming("experiment_id"),
            Case::new("malformed cascade", Method::DELETE, format!("/api/v1/experiments/{unknown}?cascade=maybe"), 400)
                .naming("cascade"),
        ],
    )
    .await;
}

#[actix_web::test]
async fn an_unknown_field_is_refused_naming_it() {
    let app = spawn_app().await;
    for (path, body) in [
        ("/api/v1/connections", json!({"name": "a", "url": "http://q:6333", "colour": "red"})),
        ("/api/v1/storage", json!({"bucket": "datasets", "colour": "red"})),
        (
            "/api/v1/datasets",
            json!({"name": "d", "source_uri": "d.parquet", "schema_config": {"vectors": {"v": 4}}, "colour": "red"}),
        ),
    ] {
        let reply = app.post_json(path, &body).await;
        assert_problem(&reply, 422);
        let errors = reply.body["errors"].as_array().cloned().unwrap_or_default();
        assert!(
            errors.iter().any(|error| error["field"] == "colour"
                || error["message"].as_str().is_some_and(|message| message.contains("`colour`"))),
            "{path}: the unknown field is named: {:#}",
            reply.body
        );
    }
}

#[actix_web::test]
async fn a_body_over_one_mebibyte_is_refused_with_413() {
    let app = spawn_app().await;
    let padding = "x".repeat(1024 * 1024);
    let body = format!(r#"{{"name": "{padding}", "url": "http://q:6333"}}"#);
    let reply = app
        .send(
            TestRequest::post()
                .uri("/api/v1/connections")
                .insert_header((CONTENT_TYPE, "application/json"))
                .set_payload(body),
        )
        .await;
    assert_problem(&reply, 413);

    // Just under the limit is read (and refused for what it says, not for its size).
    let padding = "x".repeat(1024 * 1024 - 100);
    let body = format!(r#"{{"name": "{padding}", "url": "http://q:6333"}}"#);
    let reply = app
        .send(
            TestRequest::post()
                .uri("/api/v1/connections")
                .insert_header((CONTENT_TYPE, "application/json"))
                .set_payload(body),
        )
        .await;
    assert_problem(&reply, 422);
    assert_eq!(fields(&reply.body["errors"]), ["name"]);
}

#[actix_web::test]
async fn a_json_body_declared_with_a_structured_suffix_or_charset_is_accepted() {
    let app = spawn_app().await;
    for (index, content_type) in
        ["application/json; charset=utf-8", "application/merge-patch+json", "Application/JSON"].into_iter().enumerate()
    {
        let body = json!({"name": format!("c{index}"), "url": "http://q:6333"}).to_string();
        let reply = app
            .send(
                TestRequest::post()
                    .uri("/api/v1/connections")
                    .insert_header((CONTENT_TYPE, content_type))
                    .set_payload(body),
            )
            .await;
        reply.expect(201);
    }
}

#[actix_web::test]
async fn problems_of_the_router_carry_the_request_path_as_instance() {
    let app = spawn_app().await;
    let reply = app.get("/api/v1/nope?x=1").await;
    assert_problem(&reply, 404);
    assert_eq!(reply.body["instance"], "/api/v1/nope");
    let reply = app.send(TestRequest::put().uri("/api/v1/runs")).await;
    assert_problem(&reply, 405);
    assert_eq!(reply.body["instance"], "/api/v1/runs");
    assert_eq!(reply.header("allow"), "GET", "405 says which methods the route has");
}

/// A missing field is a shape error of the field itself, like a wrong type: `errors` names its
/// path (as `JsonBody` documents), not the whole body.
#[actix_web::test]
async fn a_missing_field_is_named_by_its_path() {
    let app = spawn_app().await;
    for (path, body, field) in [
        ("/api/v1/connections", json!({"name": "a"}), "url"),
        ("/api/v1/storage", json!({"name": "s"}), "bucket"),
        ("/api/v1/datasets", json!({"name": "d", "source_uri": "d.parquet"}), "schema_config"),
        (
            "/api/v1/datasets",
            json!({"name": "d", "source_uri": "d.parquet", "schema_config": {"vector": {"distance": "Dot"}}}),
            "schema_config.vector.dim",
        ),
    ] {
        let reply = app.post_json(path, &body).await;
        assert_problem(&reply, 422);
        assert_eq!(fields(&reply.body["errors"]), [field], "{path} {body}: {:#}", reply.body);
    }
}

/// Qdrant's `quantization_config` holds exactly one kind; a body with two is well-formed JSON of
/// the wrong shape, so it is a 422 naming the field, never "malformed JSON".
#[actix_web::test]
async fn two_quantization_kinds_at_once_are_a_validation_error_not_malformed_json() {
    let app = spawn_app().await;
    let unknown = uuid::Uuid::new_v4();
    let body = json!({
        "name": "e",
        "dataset_id": unknown,
        "connection_id": unknown,
        "optimizer_config": {"quantization": {"scalar": "int8", "binary": {}}}
    });
    for path in ["/api/v1/experiments", "/api/v1/experiments/validate"] {
        let reply = app.post_json(path, &body).await;
        assert_problem(&reply, 422);
        let named = fields(&reply.body["errors"]);
        assert!(
            named.iter().any(|field| field.starts_with("optimizer_config.quantization")),
            "{path}: {:#}",
            reply.body
        );
    }
}
