//! Protection of the service from its clients: per-identity rate limits, a deadline per request,
//! CORS and security headers.

mod headers;
mod rate_limit;
mod timeout;

pub use headers::{cors, security_headers};
pub use rate_limit::RateLimiter;
pub use timeout::{RequestTimeout, deadline};
