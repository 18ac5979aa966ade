//! Bearer JWTs: signature (HS256 with a secret, RS256/ES256 with a PEM key or a JWKS document),
//! `exp`/`nbf` with leeway, `iss` and `aud` when configured; the user and roles from claims.

use std::collections::BTreeSet;

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use qbench_domain::{Caller, Role};
use secrecy::ExposeSecret;
use serde_json::Value;

use crate::auth::AuthError;
use crate::auth::config::{AuthConfigError, JwtConfig, JwtKeys};
use crate::auth::jwks::Jwks;

/// Where a token's verification key is found.
enum KeySource {
    /// One key, for these algorithms.
    Fixed(DecodingKey, Vec<Algorithm>),
    /// A JWKS document, by `kid`.
    Jwks(Jwks),
}

/// Verifies bearer JWTs and reads the caller from their claims.
pub(crate) struct JwtVerifier {
    keys: KeySource,
    config: JwtConfig,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier").field("user_claim", &self.config.user_claim).finish_non_exhaustive()
    }
}

impl JwtVerifier {
    /// A verifier for `config`, reading a PEM key file now.
    ///
    /// # Errors
    /// The key file cannot be read or holds neither an RSA nor an EC public key.
    pub(crate) fn new(config: JwtConfig) -> Result<Self, AuthConfigError> {
        let keys = match &config.keys {
            JwtKeys::Secret(secret) => {
                KeySource::Fixed(DecodingKey::from_secret(secret.expose_secret().as_bytes()), vec![Algorithm::HS256])
            }
            JwtKeys::PemFile(path) => {
                let at_fault = |reason: String| {
                    AuthConfigError(format!("auth.jwt_public_key_file (QBENCH_JWT_PUBLIC_KEY_FILE): {reason}"))
                };
                let pem = std::fs::read(path).map_err(|err| at_fault(format!("{}: {err}", path.display())))?;
                match (DecodingKey::from_rsa_pem(&pem), DecodingKey::from_ec_pem(&pem)) {
                    (Ok(key), _) => KeySource::Fixed(key, vec![Algorithm::RS256]),
                    (Err(_), Ok(key)) => KeySource::Fixed(key, vec![Algorithm::ES256]),
                    (Err(_), Err(_)) => {
                        return Err(at_fault(format!("{} holds no RSA or EC public key in PEM", path.display())));
                    }
                }
            }
            JwtKeys::Jwks(location) => KeySource::Jwks(Jwks::new(location, config.jwks_refresh)?),
        };
        Ok(Self { keys, config })
    }

    /// The caller a token names.
    ///
    /// # Errors
    /// [`AuthError::Expired`] for a token past its `exp` (and leeway); [`AuthError::InvalidToken`]
    /// for everything else wrong with it.
    pub(crate) async fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        let header = decode_header(token).map_err(|_| AuthError::InvalidToken)?;
        let (key, algorithms) = match &self.keys {
            KeySource::Fixed(key, algorithms) => (key.clone(), algorithms.clone()),
            KeySource::Jwks(jwks) => {
                let (key, algorithm) = jwks.key(header.kid.as_deref()).await.ok_or(AuthError::InvalidToken)?;
                (key, vec![algorithm])
            }
        };
        if !algorithms.contains(&header.alg) {
            return Err(AuthError::InvalidToken);
        }
        let claims = decode::<Value>(token, &key, &self.validation(header.alg))
            .map_err(|err| {
                if matches!(err.kind(), jsonwebtoken::errors::ErrorKind::ExpiredSignature) {
                    AuthError::Expired
                } else {
                    AuthError::InvalidToken
                }
            })?
            .claims;
        let user = claims.get(&self.config.user_claim).and_then(Value::as_str).filter(|user| !user.is_empty());
        let user = user.ok_or(AuthError::InvalidToken)?;
        Ok(Caller::new(user, roles(claims.get(&self.config.roles_claim))))
    }

    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut validation = Validation::new(algorithm);
        validation.leeway = self.config.leeway.as_secs();
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp"]);
        match &self.config.audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        if let Some(issuer) = &self.config.issuer {
            validation.set_issuer(&[issuer]);
        }
        validation
    }
}

/// The roles a claim grants: an array of names, or one string of names separated by spaces or
/// commas. Names that are not roles grant nothing.
fn roles(claim: Option<&Value>) -> BTreeSet<Role> {
    let names: Vec<&str> = match claim {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(text)) => text.split([' ', ',']).collect(),
        Some(_) | None => Vec::new(),
    };
    names.into_iter().filter_map(|name| name.parse::<Role>().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn roles_come_from_an_array_or_a_string_and_unknown_names_grant_nothing() {
        assert_eq!(roles(Some(&json!(["viewer", "Editor", "root"]))), BTreeSet::from([Role::Viewer, Role::Editor]));
        assert_eq!(roles(Some(&json!("admin viewer"))), BTreeSet::from([Role::Viewer, Role::Admin]));
        assert!(roles(Some(&json!(7))).is_empty());
        assert!(roles(None).is_empty());
    }
}
