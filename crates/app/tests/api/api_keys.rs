//! API keys end to end: `qbench admin api-key create|list|revoke` on the app's own database, and
//! the app (in `jwt,api-key` mode) identifying requests by `Authorization: Bearer qb_…` or
//! `X-Api-Key` as the key's user with the key's role, until the key is revoked or expires.

use std::time::Duration;

use actix_web::test::TestRequest;
use qbench_domain::ApiKey;

use crate::auth::{AUDIENCE, ISSUER, SECRET, claims, get_as, hs256};
use crate::helpers::{Backend, Reply, TestApp, seed_connection, spawn_app_with};

/// An app identifying requests by API keys and by HS256 JWTs.
async fn api_key_app(modes: &str) -> TestApp {
    spawn_app_with(
        Backend::Sqlite,
        &[
            ("QBENCH_AUTH_MODE", modes),
            ("QBENCH_JWT_SECRET", SECRET),
            ("QBENCH_JWT_ISSUER", ISSUER),
            ("QBENCH_JWT_AUDIENCE", AUDIENCE),
        ],
    )
    .await
}

/// `qbench admin api-key create …`: the key and its id.
fn create_key(app: &TestApp, user: &str, role: &str, expires: Option<&str>) -> (String, String) {
    let mut args = vec!["admin", "api-key", "create", "--user", user, "--role", role];
    if let Some(expires) = expires {
        args.extend(["--expires", expires]);
    }
    let (code, stdout, stderr) = app.cli(&args);
    assert_eq!(code, Some(0), "create failed:\n{stdout}\n{stderr}");
    let key = stdout.split_whitespace().find(|word| word.starts_with("qb_") && word.len() > 20).expect("a key");
    let id = stdout.lines().find_map(|line| line.strip_prefix("id")).expect("an id line").trim().to_owned();
    assert!(stdout.contains(&format!("prefix   {}", &key[..7])), "{stdout}");
    assert!(!stderr.contains(key), "the key is printed once, on stdout only:\n{stderr}");
    assert!(stderr.contains("\"action\":\"create\"") && stderr.contains(&id), "an audit event:\n{stderr}");
    (key.to_owned(), id)
}

async fn with_api_key_header(app: &TestApp, path: &str, key: &str) -> Reply {
    app.send(TestRequest::get().uri(path).insert_header(("X-Api-Key", key))).await
}

fn assert_invalid_api_key(reply: &Reply) {
    assert_eq!(reply.status.as_u16(), 401, "{reply:#?}");
    assert_eq!(reply.header("www-authenticate"), "Bearer");
    assert_eq!(reply.media_type(), "application/problem+json");
    assert_eq!(reply.body["detail"], "invalid API key", "{reply:#?}");
}

#[actix_web::test]
async fn a_key_made_by_the_cli_identifies_its_user_with_its_role_until_revoked() {
    let app = api_key_app("jwt,api-key").await;
    let (key, id) = create_key(&app, "ci@example.com", "editor", Some("30d"));

    let (code, listed, _) = app.cli(&["admin", "api-key", "list"]);
    assert_eq!(code, Some(0));
    let row = listed.lines().find(|line| line.starts_with(&id)).unwrap_or_else(|| panic!("{listed}"));
    for field in ["ci@example.com", "editor", &key[..7]] {
        assert!(row.contains(field), "`{field}` in {listed}");
    }
    assert!(!listed.contains(&key) && !listed.contains(&ApiKey::digest(&key)), "no secret listed:\n{listed}");

    // Both ways of sending it; an editor reads, but may not register a connection (admin).
    get_as(&app, "/api/v1/connections", &key).await.expect(200);
    with_api_key_header(&app, "/api/v1/connections", &key).await.expect(200);
    let request = TestRequest::post()
        .uri("/api/v1/connections")
        .insert_header(("X-Api-Key", key.as_str()))
        .insert_header(actix_web::http::header::ContentType::json())
        .set_payload(seed_connection().to_string());
    let reply = app.send(request).await;
    assert_eq!(
        (reply.status.as_u16(), reply.body["detail"].as_str()),
        (403, Some("this needs the admin role; you have editor"))
    );
    // JWTs still work beside keys.
    get_as(&app, "/api/v1/connections", &hs256(&claims("ann", &["viewer"]))).await.expect(200);

    let mut wrong = key.clone();
    wrong.pop();
    wrong.push(if key.ends_with('A') { 'B' } else { 'A' });
    assert_invalid_api_key(&get_as(&app, "/api/v1/connections", &wrong).await);
    assert_invalid_api_key(&with_api_key_header(&app, "/api/v1/connections", &wrong).await);
    assert_invalid_api_key(&with_api_key_header(&app, "/api/v1/connections", "not-a-key").await);

    let (code, stdout, stderr) = app.cli(&["admin", "api-key", "revoke", &id]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stderr.contains("\"action\":\"revoke\""), "an audit event:\n{stderr}");
    assert_invalid_api_key(&get_as(&app, "/api/v1/connections", &key).await);
    assert_invalid_api_key(&with_api_key_header(&app, "/api/v1/connections", &key).await);
    let (_, listed, _) = app.cli(&["admin", "api-key", "list"]);
    let row = listed.lines().find(|line| line.starts_with(&id)).unwrap_or_else(|| panic!("{listed}"));
    assert!(!row.trim_end().ends_with('-'), "the revocation time is listed: {row}");
    app.assert_never_shown(&key);
}

#[actix_web::test]
async fn expired_keys_are_refused_and_api_key_mode_alone_refuses_jwts() {
    let app = api_key_app("api-key").await;
    let (expiring, _) = create_key(&app, "nightly@example.com", "viewer", Some("1s"));
    let (lasting, _) = create_key(&app, "nightly@example.com", "viewer", None);
    actix_web::rt::time::sleep(Duration::from_millis(1100)).await;
    assert_invalid_api_key(&get_as(&app, "/api/v1/datasets", &expiring).await);
    get_as(&app, "/api/v1/datasets", &lasting).await.expect(200);
    assert_invalid_api_key(&get_as(&app, "/api/v1/datasets", &hs256(&claims("ann", &["admin"]))).await);
    let missing = app.get("/api/v1/datasets").await;
    assert_eq!((missing.status.as_u16(), missing.body["detail"].as_str()), (401, Some("authentication required")));
}

#[actix_web::test]
async fn the_dashboard_asks_for_a_token_keeps_it_in_a_same_site_cookie_and_refuses_other_sites_forms() {
    let app = api_key_app("jwt,api-key").await;
    let (key, _) = create_key(&app, "viewer@example.com", "viewer", None);

    // No credential: the browser is sent to sign in, and back.
    let reply = app.send(TestRequest::get().uri("/ui/studies")).await;
    assert_eq!(reply.status.as_u16(), 303);
    assert_eq!(reply.header("location"), "/ui/login?next=%2Fui%2Fstudies");
    // The API itself still answers 401.
    assert_eq!(app.send(TestRequest::get().uri("/api/v1/runs")).await.status.as_u16(), 401);

    let login =
        |token: &str, next: &str| TestRequest::post().uri("/ui/login").set_form([("token", token), ("next", next)]);
    let refused = app.send(login("qb_not-a-key", "/")).await;
    assert_eq!(refused.status.as_u16(), 401);
    assert!(refused.text.contains("field-error"), "{}", refused.text);
    // Only paths of this server are followed after signing in.
    let signed_in = app.send(login(&key, "//evil.example/")).await;
    assert_eq!(signed_in.status.as_u16(), 303);
    assert_eq!(signed_in.header("location"), "/");
    let cookie = signed_in.header("set-cookie").to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let session = cookie.split(';').next().unwrap().to_owned();

    let page = app.send(TestRequest::get().uri("/ui/studies").insert_header(("cookie", session.as_str()))).await;
    assert_eq!(page.status.as_u16(), 200);
    assert!(page.text.contains("viewer@example.com"));
    assert!(page.header("content-security-policy").contains("default-src 'none'"));
    // The cookie opens pages, not the API.
    let api = app.send(TestRequest::get().uri("/api/v1/runs").insert_header(("cookie", session.as_str()))).await;
    assert_eq!(api.status.as_u16(), 401);
    // A form sent from another site's page is refused before anything else.
    let forged = TestRequest::post()
        .uri("/ui/experiments")
        .insert_header(("cookie", session.as_str()))
        .insert_header(("sec-fetch-site", "cross-site"))
        .set_form([("name", "x")]);
    assert_eq!(app.send(forged).await.status.as_u16(), 403);
    // A viewer may look but not create: the form says why, as a page.
    let create = TestRequest::post()
        .uri("/ui/experiments")
        .insert_header(("cookie", session.as_str()))
        .insert_header(("sec-fetch-site", "same-origin"))
        .set_form([
            ("name", "x"),
            ("dataset_id", &uuid::Uuid::nil().to_string()),
            ("connection_id", &uuid::Uuid::nil().to_string()),
            ("k", "10"),
        ]);
    let reply = app.send(create).await;
    assert_eq!(reply.status.as_u16(), 403, "{}", reply.text);
    assert_eq!(reply.media_type(), "text/html");
}
