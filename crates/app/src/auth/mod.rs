//! Authentication: every request to the API is turned into a [`Caller`](qbench_domain::Caller)
//! (who, with which role) before a handler runs, or refused with 401.
//!
//! [`AuthConfig`] is the checked `[auth]` configuration; [`Authenticator`] holds the configured
//! ways to identify a request (bearer JWTs, API keys, a trusted proxy's identity header); the
//! [`authenticate`] middleware runs it, stores the caller in the request (where the
//! [`Authenticated`] extractor hands it to handlers) and applies the per-identity rate limit.
//! Probes (`/health`, `/ready`) never need credentials.

mod authenticated;
mod authenticator;
mod config;
mod jwks;
mod jwt;
mod middleware;
mod proxy;

pub use authenticated::Authenticated;
pub use authenticator::{API_KEY_HEADER, AuthError, Authenticator};
pub use config::{AuthConfig, AuthConfigError, JwtConfig, JwtKeys, Mode, ProxyConfig};
pub use middleware::authenticate;
