//! [`Authenticator`]: the configured ways of identifying a request, tried in a fixed order.

use std::fmt;
use std::net::IpAddr;

use actix_web::http::header::{AUTHORIZATION, HeaderMap};
use qbench_domain::{ApiKey, Caller, Role};
use qbench_service::{ApiKeyService, ServiceError};

use crate::auth::config::{AuthConfig, AuthConfigError, Mode};
use crate::auth::jwt::JwtVerifier;
use crate::auth::proxy::{ProxyIdentity, ProxyVerdict};

/// Why a request has no identity (HTTP 401); the message is the problem's `detail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No credentials were sent, or only an identity header from an untrusted peer.
    #[error("authentication required")]
    Missing,
    /// A JWT past its `exp`.
    #[error("token expired")]
    Expired,
    /// A JWT that is malformed, badly signed, or for another issuer or audience.
    #[error("invalid token")]
    InvalidToken,
    /// An API key that is unknown, revoked or expired.
    #[error("invalid API key")]
    InvalidApiKey,
    /// The credentials could not be checked now (the API key store is down): 503, not 401.
    #[error("authentication is unavailable; try again later")]
    Unavailable,
}

/// The header an API key may be sent in, instead of `Authorization: Bearer`.
pub const API_KEY_HEADER: &str = "x-api-key";

/// Identifies requests with the configured modes.
pub struct Authenticator {
    config: AuthConfig,
    jwt: Option<JwtVerifier>,
    proxy: Option<ProxyIdentity>,
    api_keys: Option<ApiKeyService>,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("config", &self.config)
            .field("jwt", &self.jwt)
            .field("proxy", &self.proxy)
            .field("api_keys", &self.api_keys.is_some())
            .finish()
    }
}

impl Authenticator {
    /// Development mode (`auth.mode = none`): every request is `dev@localhost`, an admin.
    pub fn development() -> Self {
        Self { config: AuthConfig::development(), jwt: None, proxy: None, api_keys: None }
    }

    /// An authenticator for `config` (reads a PEM key file now); `api_keys` checks API keys when
    /// `api-key` is on.
    ///
    /// # Errors
    /// [`AuthConfigError`] naming the setting at fault, or when `api-key` is on without a key
    /// store.
    pub fn new(config: AuthConfig, api_keys: Option<ApiKeyService>) -> Result<Self, AuthConfigError> {
        let jwt = config.jwt.clone().map(JwtVerifier::new).transpose()?;
        let proxy = config.proxy.clone().map(ProxyIdentity::new);
        let api_keys = if config.modes.contains(&Mode::ApiKey) {
            Some(api_keys.ok_or_else(|| {
                AuthConfigError("auth.mode (QBENCH_AUTH_MODE): api-key needs the API key store".to_owned())
            })?)
        } else {
            None
        };
        Ok(Self { config, jwt, proxy, api_keys })
    }

    /// Whether every request is the development admin.
    pub fn is_development(&self) -> bool {
        self.config.is_development()
    }

    /// Whether `/metrics` needs credentials.
    pub fn protects_metrics(&self) -> bool {
        self.config.protect_metrics
    }

    /// Whether the API docs need credentials.
    pub fn protects_docs(&self) -> bool {
        self.config.protect_docs
    }

    /// The caller of a request with `headers` from `peer`.
    ///
    /// With API keys on, an `X-Api-Key` header, or a bearer token starting with `qb_`, is an API
    /// key; any other bearer token is checked by the JWT verifier; otherwise the proxy's identity
    /// header is believed from a trusted peer. Credentials that are present but wrong are
    /// refused, never passed over for another mode.
    ///
    /// # Errors
    /// [`AuthError`] when the request carries no acceptable identity.
    pub async fn identify(&self, headers: &HeaderMap, peer: Option<IpAddr>) -> Result<Caller, AuthError> {
        if self.config.is_development() {
            return Ok(Caller::development());
        }
        let api_key_header = || headers.get(API_KEY_HEADER).map(|value| value.to_str().map(str::trim).unwrap_or(""));
        let caller = if let (Some(api_keys), Some(key)) = (&self.api_keys, api_key_header()) {
            identify_key(api_keys, key).await?
        } else if let Some(token) = bearer(headers) {
            match (&self.api_keys, &self.jwt) {
                (Some(api_keys), _) if ApiKey::looks_like(token) => identify_key(api_keys, token).await?,
                (_, Some(jwt)) => jwt.verify(token).await?,
                (Some(_), None) => return Err(AuthError::InvalidApiKey),
                (None, None) => return Err(AuthError::InvalidToken),
            }
        } else {
            match self.proxy.as_ref().map(|proxy| proxy.identify(headers, peer)) {
                Some(ProxyVerdict::Identified(caller)) => caller,
                Some(ProxyVerdict::Untrusted) => {
                    tracing::warn!(target: "audit", peer = ?peer, "identity header from an untrusted peer ignored");
                    return Err(AuthError::Missing);
                }
                Some(ProxyVerdict::Absent) | None => return Err(AuthError::Missing),
            }
        };
        Ok(self.with_admins(caller))
    }

    /// `caller`, an admin when listed in `auth.admins`.
    fn with_admins(&self, caller: Caller) -> Caller {
        if self.config.admins.contains(caller.user()) { Caller::new(caller.user(), [Role::Admin]) } else { caller }
    }

    /// Whether `mode` is on.
    pub fn has(&self, mode: Mode) -> bool {
        self.config.modes.contains(&mode)
    }
}

/// The caller `key` acts as.
async fn identify_key(api_keys: &ApiKeyService, key: &str) -> Result<Caller, AuthError> {
    match api_keys.authenticate(key).await {
        Ok(Some(caller)) => Ok(caller),
        Ok(None) => {
            tracing::warn!(target: "audit", "invalid API key refused");
            Err(AuthError::InvalidApiKey)
        }
        Err(error @ (ServiceError::Unavailable(_) | ServiceError::Misconfigured(_) | ServiceError::Internal(_))) => {
            tracing::error!(error = %error, "API keys cannot be checked");
            Err(AuthError::Unavailable)
        }
        Err(
            error @ (ServiceError::Invalid(_)
            | ServiceError::NotFound { .. }
            | ServiceError::Forbidden(_)
            | ServiceError::ForbiddenField(_)
            | ServiceError::Conflict(_)),
        ) => {
            tracing::error!(error = %error, "unexpected answer checking an API key");
            Err(AuthError::Unavailable)
        }
    }
}

/// The token of `Authorization: Bearer <token>`.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|token| !token.is_empty())
}
