//! [`Authenticator`]: the configured ways of identifying a request.

use actix_web::dev::ServiceRequest;
use qbench_domain::Caller;

/// Why a request has no identity (HTTP 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No credentials were sent (or only ones from an untrusted source).
    #[error("authentication required")]
    Missing,
}

/// Identifies requests.
#[derive(Debug, Clone, Default)]
pub struct Authenticator {}

impl Authenticator {
    /// Development mode (`auth.mode = none`): every request is `dev@localhost`, an admin.
    pub fn development() -> Self {
        Self {}
    }

    /// The caller of `req`.
    ///
    /// # Errors
    /// [`AuthError`] when the request carries no acceptable identity.
    pub fn identify(&self, _req: &ServiceRequest) -> Result<Caller, AuthError> {
        Ok(Caller::development())
    }
}
