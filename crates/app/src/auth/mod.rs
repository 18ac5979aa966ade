//! Authentication: every request to the API is turned into a [`Caller`](qbench_domain::Caller)
//! (who, with which role) before a handler runs, or refused with 401.
//!
//! [`Authenticator`] holds the configured ways to identify a request; the [`authenticate`]
//! middleware runs it and stores the caller in the request, where the [`Authenticated`] extractor
//! hands it to handlers. Probes (`/health`, `/ready`) never need credentials.

mod authenticated;
mod authenticator;
mod middleware;

pub use authenticated::Authenticated;
pub use authenticator::{AuthError, Authenticator};
pub use middleware::authenticate;
