//! [`Authenticator`]: the configured ways of identifying a request, tried in a fixed order.

use std::net::IpAddr;

use actix_web::http::header::{AUTHORIZATION, HeaderMap};
use qbench_domain::{Caller, Role};

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
}

/// Identifies requests with the configured modes.
#[derive(Debug)]
pub struct Authenticator {
    config: AuthConfig,
    jwt: Option<JwtVerifier>,
    proxy: Option<ProxyIdentity>,
}

impl Authenticator {
    /// Development mode (`auth.mode = none`): every request is `dev@localhost`, an admin.
    pub fn development() -> Self {
        Self { config: AuthConfig::development(), jwt: None, proxy: None }
    }

    /// An authenticator for `config` (reads a PEM key file now).
    ///
    /// # Errors
    /// [`AuthConfigError`] naming the setting at fault.
    pub fn new(config: AuthConfig) -> Result<Self, AuthConfigError> {
        let jwt = config.jwt.clone().map(JwtVerifier::new).transpose()?;
        let proxy = config.proxy.clone().map(ProxyIdentity::new);
        Ok(Self { config, jwt, proxy })
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
    /// A bearer token is checked by the JWT verifier; otherwise the proxy's identity header is
    /// believed from a trusted peer. Credentials that are present but wrong are refused, never
    /// passed over for another mode.
    ///
    /// # Errors
    /// [`AuthError`] when the request carries no acceptable identity.
    pub async fn identify(&self, headers: &HeaderMap, peer: Option<IpAddr>) -> Result<Caller, AuthError> {
        if self.config.is_development() {
            return Ok(Caller::development());
        }
        let caller = if let Some(token) = bearer(headers) {
            match &self.jwt {
                Some(jwt) => jwt.verify(token).await?,
                None => return Err(AuthError::InvalidToken),
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

/// The token of `Authorization: Bearer <token>`.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|token| !token.is_empty())
}
