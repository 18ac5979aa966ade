//! A JWKS document (a file or an http(s) URL), fetched when first needed, kept for a while, and
//! fetched again early when a token names a key it does not hold (keys rotate).

use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey};
use tokio::sync::Mutex;

use crate::auth::config::AuthConfigError;

/// Fetching again for an unknown `kid` waits at least this long, so that tokens with made-up key
/// ids cannot make qbench hammer the identity provider.
const MIN_REFETCH: Duration = Duration::from_secs(10);

/// Where the document is.
#[derive(Debug, Clone)]
enum Location {
    File(std::path::PathBuf),
    Url(reqwest::Url),
}

/// The document as last fetched.
struct Fetched {
    at: Instant,
    keys: JwkSet,
}

/// A cached JWKS document.
pub(crate) struct Jwks {
    location: Location,
    refresh: Duration,
    client: reqwest::Client,
    fetched: Mutex<Option<Fetched>>,
}

impl Jwks {
    /// The document at `location`: an `http(s)://` URL, `file://` or a path.
    pub(crate) fn new(location: &str, refresh: Duration) -> Result<Self, AuthConfigError> {
        let at_fault = |reason: String| AuthConfigError(format!("auth.jwt_jwks_url (QBENCH_JWT_JWKS_URL): {reason}"));
        let location = if location.starts_with("http://") || location.starts_with("https://") {
            Location::Url(reqwest::Url::parse(location).map_err(|err| at_fault(format!("`{location}`: {err}")))?)
        } else {
            Location::File(location.strip_prefix("file://").unwrap_or(location).into())
        };
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|err| at_fault(format!("cannot build an HTTP client: {err}")))?;
        Ok(Self { location, refresh, client, fetched: Mutex::new(None) })
    }

    /// The key a token with `kid` is verified with, and its algorithm; a token without `kid` is
    /// verified with the document's only key.
    pub(crate) async fn key(&self, kid: Option<&str>) -> Option<(DecodingKey, Algorithm)> {
        let mut fetched = self.fetched.lock().await;
        let stale = fetched.as_ref().is_none_or(|doc| doc.at.elapsed() >= self.refresh);
        let unknown =
            fetched.as_ref().is_some_and(|doc| find(&doc.keys, kid).is_none() && doc.at.elapsed() >= MIN_REFETCH);
        if stale || unknown {
            match self.fetch().await {
                Ok(keys) => *fetched = Some(Fetched { at: Instant::now(), keys }),
                // An unreachable provider leaves the last document in use.
                Err(error) => tracing::warn!(%error, "JWKS document not fetched"),
            }
        }
        let jwk = find(&fetched.as_ref()?.keys, kid)?;
        Some((DecodingKey::from_jwk(jwk).ok()?, algorithm(jwk)?))
    }

    async fn fetch(&self) -> Result<JwkSet, String> {
        let body = match &self.location {
            Location::File(path) => tokio::fs::read(path).await.map_err(|err| format!("{}: {err}", path.display()))?,
            Location::Url(url) => {
                let response = self.client.get(url.clone()).send().await.map_err(|err| format!("{url}: {err}"))?;
                let response = response.error_for_status().map_err(|err| format!("{url}: {err}"))?;
                response.bytes().await.map_err(|err| format!("{url}: {err}"))?.to_vec()
            }
        };
        serde_json::from_slice(&body).map_err(|err| format!("not a JWKS document: {err}"))
    }
}

fn find<'a>(keys: &'a JwkSet, kid: Option<&str>) -> Option<&'a Jwk> {
    match kid {
        Some(kid) => keys.find(kid),
        None if keys.keys.len() == 1 => keys.keys.first(),
        None => None,
    }
}

/// The key's algorithm: RS256 for RSA keys, ES256 for P-256 keys; others are not accepted.
fn algorithm(jwk: &Jwk) -> Option<Algorithm> {
    match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Some(Algorithm::RS256),
        AlgorithmParameters::EllipticCurve(params) if params.curve == EllipticCurve::P256 => Some(Algorithm::ES256),
        AlgorithmParameters::EllipticCurve(_)
        | AlgorithmParameters::OctetKey(_)
        | AlgorithmParameters::OctetKeyPair(_) => None,
    }
}
