//! The identity header of an identity-aware proxy (e.g. Google IAP's
//! `X-Goog-Authenticated-User-Email: accounts.google.com:user@example.com`), believed only from a
//! trusted peer: anyone else could send it.

use std::net::IpAddr;

use actix_web::http::header::HeaderMap;
use qbench_domain::Caller;

use crate::auth::config::ProxyConfig;

/// Reads the proxy's identity header.
#[derive(Debug, Clone)]
pub(crate) struct ProxyIdentity {
    config: ProxyConfig,
}

/// What the identity header says about a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ProxyVerdict {
    /// No header.
    Absent,
    /// A header from a peer outside the trusted proxies: ignored.
    Untrusted,
    /// A header from a trusted proxy.
    Identified(Caller),
}

impl ProxyIdentity {
    pub(crate) fn new(config: ProxyConfig) -> Self {
        Self { config }
    }

    /// The user the header names, when it comes from a trusted proxy.
    pub(crate) fn identify(&self, headers: &HeaderMap, peer: Option<IpAddr>) -> ProxyVerdict {
        let Some(value) = headers.get(self.config.header.as_str()) else {
            return ProxyVerdict::Absent;
        };
        let trusted = peer.is_some_and(|peer| self.config.trusted.iter().any(|net| net.contains(&peer)));
        if !trusted {
            return ProxyVerdict::Untrusted;
        }
        // `accounts.google.com:user@example.com` names `user@example.com`.
        let user = value.to_str().ok().map(|text| text.rsplit(':').next().unwrap_or(text).trim());
        match user.filter(|user| !user.is_empty()) {
            Some(user) => ProxyVerdict::Identified(Caller::new(user, [self.config.role])),
            None => ProxyVerdict::Absent,
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};
    use qbench_domain::Role;

    use super::*;

    fn proxy() -> ProxyIdentity {
        ProxyIdentity::new(ProxyConfig {
            header: "X-Goog-Authenticated-User-Email".to_owned(),
            trusted: vec!["10.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()],
            role: Role::Editor,
        })
    }

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers
            .insert(HeaderName::from_static("x-goog-authenticated-user-email"), HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn a_trusted_proxy_names_the_user_without_the_provider_prefix() {
        let verdict = proxy().identify(&headers("accounts.google.com:ann@example.com"), "10.1.2.3".parse().ok());
        assert_eq!(verdict, ProxyVerdict::Identified(Caller::new("ann@example.com", [Role::Editor])));
        let verdict = proxy().identify(&headers("bob@example.com"), "::1".parse().ok());
        assert_eq!(verdict, ProxyVerdict::Identified(Caller::new("bob@example.com", [Role::Editor])));
    }

    #[test]
    fn the_header_from_anywhere_else_is_ignored() {
        let spoofed = headers("accounts.google.com:admin@example.com");
        assert_eq!(proxy().identify(&spoofed, "192.168.1.1".parse().ok()), ProxyVerdict::Untrusted);
        assert_eq!(proxy().identify(&spoofed, None), ProxyVerdict::Untrusted);
        assert_eq!(proxy().identify(&HeaderMap::new(), "10.0.0.1".parse().ok()), ProxyVerdict::Absent);
    }
}
