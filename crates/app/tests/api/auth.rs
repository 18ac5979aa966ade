//! Authentication over HTTP: bearer JWTs (HS256 with a secret; RS256 and ES256 with a PEM key or a
//! JWKS document), a trusted proxy's identity header, 401s with the exact `detail`, open probes,
//! and the per-identity rate limit. Tokens are minted here with the test keys of
//! `tests/fixtures/jwt`.

use std::path::PathBuf;

use actix_web::test::TestRequest;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::helpers::{Backend, Reply, TestApp, spawn_app_with};

/// The HS256 secret of these tests (32+ characters, as the configuration demands).
pub(crate) const SECRET: &str = "a-test-secret-of-at-least-32-characters!";
pub(crate) const ISSUER: &str = "https://issuer.test";
pub(crate) const AUDIENCE: &str = "qbench";

pub(crate) fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/jwt").join(name)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Claims of a valid token for `user` with `roles`, expiring in an hour.
pub(crate) fn claims(user: &str, roles: &[&str]) -> Value {
    json!({"sub": user, "roles": roles, "iss": ISSUER, "aud": AUDIENCE, "iat": now(), "exp": now() + 3600})
}

/// `claims` signed with the HS256 test secret.
pub(crate) fn hs256(claims: &Value) -> String {
    encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(SECRET.as_bytes())).unwrap()
}

/// `claims` signed with the private key in `fixture(key)`, with `kid`.
fn signed(algorithm: Algorithm, key: &str, kid: Option<&str>, claims: &Value) -> String {
    let pem = std::fs::read(fixture(key)).unwrap();
    let key = if algorithm == Algorithm::ES256 {
        EncodingKey::from_ec_pem(&pem).unwrap()
    } else {
        EncodingKey::from_rsa_pem(&pem).unwrap()
    };
    let mut header = Header::new(algorithm);
    header.kid = kid.map(str::to_owned);
    encode(&header, claims, &key).unwrap()
}

/// An app that identifies requests by HS256 JWTs, with issuer and audience checked.
pub(crate) async fn jwt_app(extra: &[(&str, &str)]) -> TestApp {
    let mut env = vec![
        ("QBENCH_AUTH_MODE", "jwt"),
        ("QBENCH_JWT_SECRET", SECRET),
        ("QBENCH_JWT_ISSUER", ISSUER),
        ("QBENCH_JWT_AUDIENCE", AUDIENCE),
    ];
    env.extend_from_slice(extra);
    spawn_app_with(Backend::Sqlite, &env).await
}

pub(crate) async fn get_as(app: &TestApp, path: &str, token: &str) -> Reply {
    app.send(TestRequest::get().uri(path).insert_header(("Authorization", format!("Bearer {token}")))).await
}

fn assert_unauthorized(reply: &Reply, detail: &str) {
    assert_eq!(reply.status.as_u16(), 401, "{reply:#?}");
    assert_eq!(reply.header("www-authenticate"), "Bearer");
    assert_eq!(reply.media_type(), "application/problem+json");
    assert_eq!(reply.body["detail"], detail, "{reply:#?}");
}

#[actix_web::test]
async fn without_auth_every_request_is_the_development_admin() {
    let app = spawn_app_with(Backend::Sqlite, &[]).await;
    app.get("/api/v1/connections").await.expect(200);
}

#[actix_web::test]
async fn jwt_mode_answers_401_with_the_exact_detail_for_each_bad_token() {
    let app = jwt_app(&[]).await;
    assert_unauthorized(&app.get("/api/v1/connections").await, "authentication required");

    let expired = json!({"sub": "ann", "roles": ["admin"], "iss": ISSUER, "aud": AUDIENCE, "exp": now() - 3600});
    assert_unauthorized(&get_as(&app, "/api/v1/connections", &hs256(&expired)).await, "token expired");

    let wrong_secret = encode(
        &Header::new(Algorithm::HS256),
        &claims("ann", &["admin"]),
        &EncodingKey::from_secret(b"another-secret-of-at-least-32-characters"),
    )
    .unwrap();
    let mut wrong_audience = claims("ann", &["admin"]);
    wrong_audience["aud"] = json!("someone-else");
    let mut wrong_issuer = claims("ann", &["admin"]);
    wrong_issuer["iss"] = json!("https://evil.test");
    let mut not_yet = claims("ann", &["admin"]);
    not_yet["nbf"] = json!(now() + 3600);
    let mut no_user = claims("ann", &["admin"]);
    no_user.as_object_mut().unwrap().remove("sub");
    let rs256_for_an_hs256_app = signed(Algorithm::RS256, "rsa-private.pem", None, &claims("ann", &["admin"]));
    for (case, token) in [
        ("bad signature", wrong_secret),
        ("wrong audience", hs256(&wrong_audience)),
        ("wrong issuer", hs256(&wrong_issuer)),
        ("not yet valid", hs256(&not_yet)),
        ("no user claim", hs256(&no_user)),
        ("another algorithm", rs256_for_an_hs256_app),
        ("malformed", "not.a.jwt".to_owned()),
    ] {
        let reply = get_as(&app, "/api/v1/connections", &token).await;
        assert_eq!(reply.body["detail"], "invalid token", "{case}: {reply:#?}");
        assert_unauthorized(&reply, "invalid token");
    }
    get_as(&app, "/api/v1/connections", &hs256(&claims("ann", &["admin"]))).await.expect(200);
    // A token that expired within the leeway is still good.
    let mut just_expired = claims("ann", &["admin"]);
    just_expired["exp"] = json!(now() - 5);
    get_as(&app, "/api/v1/connections", &hs256(&just_expired)).await.expect(200);
}

#[actix_web::test]
async fn probes_always_answer_and_metrics_and_docs_are_open_unless_protected() {
    let app = jwt_app(&[]).await;
    for path in ["/health", "/ready", "/api/v1/health", "/api/v1/health/ready", "/metrics", "/openapi.json"] {
        assert!(app.get(path).await.status.is_success(), "{path} answers without credentials");
    }
    let protected = jwt_app(&[("QBENCH_AUTH__PROTECT_METRICS", "true"), ("QBENCH_AUTH__PROTECT_DOCS", "true")]).await;
    for path in ["/health", "/ready"] {
        assert!(protected.get(path).await.status.is_success(), "{path} is a probe");
    }
    for path in ["/metrics", "/openapi.json"] {
        assert_unauthorized(&protected.get(path).await, "authentication required");
        let viewer = hs256(&claims("ann", &["viewer"]));
        assert!(get_as(&protected, path, &viewer).await.status.is_success(), "{path} with a token");
        let nobody = hs256(&claims("ann", &[]));
        assert_eq!(get_as(&protected, path, &nobody).await.status.as_u16(), 403, "{path} needs a role");
    }
}

#[actix_web::test]
async fn rs256_and_es256_tokens_verify_against_a_pem_key_or_a_jwks_document() {
    let rsa_pem = fixture("rsa-public.pem").display().to_string();
    let ec_pem = fixture("ec-public.pem").display().to_string();
    let jwks = fixture("jwks.json").display().to_string();
    let admin = claims("ann", &["admin"]);

    let rsa = spawn_app_with(
        Backend::Sqlite,
        &[("QBENCH_AUTH_MODE", "jwt"), ("QBENCH_JWT_PUBLIC_KEY_FILE", &rsa_pem), ("QBENCH_JWT_AUDIENCE", AUDIENCE)],
    )
    .await;
    get_as(&rsa, "/api/v1/connections", &signed(Algorithm::RS256, "rsa-private.pem", None, &admin)).await.expect(200);
    let forged = signed(Algorithm::RS256, "other-rsa-private.pem", None, &admin);
    assert_unauthorized(&get_as(&rsa, "/api/v1/connections", &forged).await, "invalid token");
    // The classic confusion attack: HS256 keyed with the public key's text.
    let confused =
        encode(&Header::new(Algorithm::HS256), &admin, &EncodingKey::from_secret(&std::fs::read(&rsa_pem).unwrap()))
            .unwrap();
    assert_unauthorized(&get_as(&rsa, "/api/v1/connections", &confused).await, "invalid token");

    let ec =
        spawn_app_with(Backend::Sqlite, &[("QBENCH_AUTH_MODE", "jwt"), ("QBENCH_JWT_PUBLIC_KEY_FILE", &ec_pem)]).await;
    get_as(&ec, "/api/v1/connections", &signed(Algorithm::ES256, "ec-private.pem", None, &admin)).await.expect(200);

    let by_jwks = spawn_app_with(Backend::Sqlite, &[("QBENCH_AUTH_MODE", "jwt"), ("QBENCH_JWT_JWKS_URL", &jwks)]).await;
    for token in [
        signed(Algorithm::RS256, "rsa-private.pem", Some("test-rsa"), &admin),
        signed(Algorithm::ES256, "ec-private.pem", Some("test-ec"), &admin),
    ] {
        get_as(&by_jwks, "/api/v1/connections", &token).await.expect(200);
    }
    for token in [
        signed(Algorithm::RS256, "other-rsa-private.pem", Some("test-rsa"), &admin),
        signed(Algorithm::RS256, "rsa-private.pem", Some("unknown-kid"), &admin),
        signed(Algorithm::RS256, "rsa-private.pem", None, &admin),
    ] {
        assert_unauthorized(&get_as(&by_jwks, "/api/v1/connections", &token).await, "invalid token");
    }
}

/// An app behind an identity-aware proxy at 10.0.0.0/8.
async fn proxy_app() -> TestApp {
    spawn_app_with(
        Backend::Sqlite,
        &[("QBENCH_AUTH_MODE", "proxy-header"), ("QBENCH_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7")],
    )
    .await
}

fn from_peer(peer: &str, email: &str) -> TestRequest {
    TestRequest::get()
        .uri("/api/v1/connections")
        .peer_addr(format!("{peer}:40000").parse().unwrap())
        .insert_header(("X-Goog-Authenticated-User-Email", email))
}

#[actix_web::test]
async fn the_identity_header_is_believed_only_from_a_trusted_proxy() {
    let app = proxy_app().await;
    app.send(from_peer("10.20.30.40", "accounts.google.com:ann@example.com")).await.expect(200);
    app.send(from_peer("192.0.2.7", "ann@example.com")).await.expect(200);
    for untrusted in ["192.0.2.8", "127.0.0.1", "11.0.0.1"] {
        let spoofed = app.send(from_peer(untrusted, "accounts.google.com:admin@example.com")).await;
        assert_unauthorized(&spoofed, "authentication required");
    }
    assert_unauthorized(&app.get("/api/v1/connections").await, "authentication required");
}

#[actix_web::test]
async fn the_rate_limit_answers_429_with_retry_after_per_identity_and_recovers() {
    let app = jwt_app(&[("QBENCH_RATE_LIMIT_PER_MINUTE", "60")]).await;
    let ann = hs256(&claims("ann", &["admin"]));
    let bob = hs256(&claims("bob", &["admin"]));
    for _ in 0..60 {
        get_as(&app, "/api/v1/connections", &ann).await.expect(200);
    }
    let limited = get_as(&app, "/api/v1/connections", &ann).await;
    assert_eq!(limited.status.as_u16(), 429, "{limited:#?}");
    assert_eq!(limited.media_type(), "application/problem+json");
    let retry_after: u64 = limited.header("retry-after").parse().unwrap();
    assert!((1..=2).contains(&retry_after), "a token comes back every second: {retry_after}");
    get_as(&app, "/api/v1/connections", &bob).await.expect(200);
    for _ in 0..5 {
        assert!(app.get("/health").await.status.is_success(), "probes are exempt");
    }
    tokio::time::sleep(std::time::Duration::from_millis(1_100 * retry_after)).await;
    get_as(&app, "/api/v1/connections", &ann).await.expect(200);
}

#[actix_web::test]
async fn security_headers_are_on_every_answer_including_the_docs() {
    let app = spawn_app_with(Backend::Sqlite, &[]).await;
    for path in ["/docs", "/openapi.json", "/api/v1/connections"] {
        let reply = app.get(path).await;
        assert_eq!(reply.header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(reply.header("x-frame-options"), "DENY", "{path}");
    }
}

/// Serves `body` as JSON to every request on a local port; answers the port and a request count.
fn serve_json(body: String) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let served = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = served.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0_u8; 4096];
            let _ = stream.read(&mut request);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body.as_bytes()));
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    (port, served)
}

#[actix_web::test]
async fn a_jwks_url_is_fetched_once_and_cached() {
    let (port, served) = serve_json(std::fs::read_to_string(fixture("jwks.json")).unwrap());
    let url = format!("http://127.0.0.1:{port}/.well-known/jwks.json");
    let app = spawn_app_with(Backend::Sqlite, &[("QBENCH_AUTH_MODE", "jwt"), ("QBENCH_JWT_JWKS_URL", &url)]).await;
    let admin = claims("ann", &["admin"]);
    for _ in 0..3 {
        let token = signed(Algorithm::RS256, "rsa-private.pem", Some("test-rsa"), &admin);
        get_as(&app, "/api/v1/connections", &token).await.expect(200);
    }
    let es256 = signed(Algorithm::ES256, "ec-private.pem", Some("test-ec"), &admin);
    get_as(&app, "/api/v1/connections", &es256).await.expect(200);
    // A made-up key id right after a fetch does not send qbench back to the provider.
    let unknown = signed(Algorithm::RS256, "rsa-private.pem", Some("made-up"), &admin);
    assert_unauthorized(&get_as(&app, "/api/v1/connections", &unknown).await, "invalid token");
    assert_eq!(served.load(std::sync::atomic::Ordering::SeqCst), 1, "one fetch served every token");
}

#[actix_web::test]
async fn the_user_and_roles_come_from_the_configured_claims() {
    let app = jwt_app(&[("QBENCH_JWT_USER_CLAIM", "email"), ("QBENCH_JWT_ROLES_CLAIM", "groups")]).await;
    let mut by_email = claims("subject-id-17", &[]);
    by_email["email"] = json!("ann@example.com");
    by_email["groups"] = json!(["editor"]);
    let token = hs256(&by_email);
    let reply = app
        .send(
            TestRequest::post()
                .uri("/api/v1/datasets")
                .insert_header(("Authorization", format!("Bearer {token}")))
                .insert_header(("Content-Type", "application/json"))
                .set_payload(
                    json!({"name": "mine", "source_uri": "mine.parquet",
                           "schema_config": {"vectors": {"v": {"dim": 4, "distance": "Cosine"}}}})
                    .to_string(),
                ),
        )
        .await;
    reply.expect(201);
    assert_eq!(reply.body["owner"], "ann@example.com", "{reply:#?}");
    // The default `roles` claim is not read any more: without `groups` the token grants nothing.
    let mut roles_only = claims("x", &["admin"]);
    roles_only["email"] = json!("bob@example.com");
    let reply = get_as(&app, "/api/v1/datasets", &hs256(&roles_only)).await;
    assert_eq!(reply.status.as_u16(), 403, "{reply:#?}");
}
