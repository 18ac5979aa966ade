//! The authentication settings, checked: which ways of identifying a request are on, and theirs.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;
use qbench_domain::Role;
use secrecy::{ExposeSecret, SecretString};

use crate::settings::AuthSettings;

/// A way of identifying requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mode {
    /// `Authorization: Bearer <JWT>`.
    Jwt,
    /// The identity header of a trusted identity-aware proxy.
    ProxyHeader,
    /// `Authorization: Bearer qb_…` or `X-Api-Key`.
    ApiKey,
}

impl Mode {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "jwt" => Some(Self::Jwt),
            "proxy-header" => Some(Self::ProxyHeader),
            "api-key" => Some(Self::ApiKey),
            _ => None,
        }
    }
}

/// Where the keys that verify JWT signatures come from.
#[derive(Debug, Clone)]
pub enum JwtKeys {
    /// HS256 with a shared secret.
    Secret(SecretString),
    /// RS256 or ES256 with the public key in this PEM file.
    PemFile(PathBuf),
    /// RS256 or ES256 with the keys of this JWKS document (a file path or an http(s) URL).
    Jwks(String),
}

/// JWT validation settings.
#[derive(Debug, Clone)]
pub struct JwtConfig {
    /// The verification keys.
    pub keys: JwtKeys,
    /// Required issuer.
    pub issuer: Option<String>,
    /// Required audience.
    pub audience: Option<String>,
    /// Claim naming the user.
    pub user_claim: String,
    /// Claim holding the role names.
    pub roles_claim: String,
    /// Clock skew tolerated.
    pub leeway: Duration,
    /// Lifetime of a fetched JWKS document.
    pub jwks_refresh: Duration,
}

/// Identity-aware proxy settings.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    /// The header the proxy sets.
    pub header: String,
    /// Peers the header is believed from.
    pub trusted: Vec<IpNet>,
    /// The role of the users it names.
    pub role: Role,
}

/// How requests are identified; `modes` empty means development mode.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// The ways on.
    pub modes: BTreeSet<Mode>,
    /// JWT settings, when `jwt` is on.
    pub jwt: Option<JwtConfig>,
    /// Proxy settings, when `proxy-header` is on.
    pub proxy: Option<ProxyConfig>,
    /// Users who are always admins.
    pub admins: BTreeSet<String>,
    /// Whether `/metrics` needs credentials.
    pub protect_metrics: bool,
    /// Whether the API docs need credentials.
    pub protect_docs: bool,
}

/// A setting that cannot be used; the message names the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AuthConfigError(pub String);

fn list(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|item| !item.is_empty())
}

fn non_empty(value: &str) -> Option<String> {
    Some(value.trim().to_owned()).filter(|value| !value.is_empty())
}

impl AuthConfig {
    /// Development mode: no credentials, everyone is the development admin.
    pub fn development() -> Self {
        Self {
            modes: BTreeSet::new(),
            jwt: None,
            proxy: None,
            admins: BTreeSet::new(),
            protect_metrics: false,
            protect_docs: false,
        }
    }

    /// Checks `settings`.
    ///
    /// # Errors
    /// [`AuthConfigError`] naming the key at fault.
    pub fn from_settings(settings: &AuthSettings) -> Result<Self, AuthConfigError> {
        let mut modes = BTreeSet::new();
        if settings.mode.trim() != "none" {
            for name in list(&settings.mode) {
                let mode = Mode::parse(name).ok_or_else(|| {
                    AuthConfigError(format!(
                        "auth.mode (QBENCH_AUTH_MODE): `{name}` is not one of none, jwt, proxy-header, api-key"
                    ))
                })?;
                modes.insert(mode);
            }
            if modes.is_empty() {
                return Err(AuthConfigError("auth.mode (QBENCH_AUTH_MODE): name at least one mode, or none".into()));
            }
        }
        let jwt = modes.contains(&Mode::Jwt).then(|| jwt_config(settings)).transpose()?;
        let proxy = modes.contains(&Mode::ProxyHeader).then(|| proxy_config(settings)).transpose()?;
        Ok(Self {
            modes,
            jwt,
            proxy,
            admins: list(&settings.admins).map(str::to_owned).collect(),
            protect_metrics: settings.protect_metrics,
            protect_docs: settings.protect_docs,
        })
    }

    /// Whether every request is the development admin.
    pub fn is_development(&self) -> bool {
        self.modes.is_empty()
    }
}

fn jwt_config(settings: &AuthSettings) -> Result<JwtConfig, AuthConfigError> {
    let secret = settings.jwt_secret.expose_secret();
    let sources = [
        (!secret.is_empty()).then(|| JwtKeys::Secret(settings.jwt_secret.clone())),
        non_empty(&settings.jwt_public_key_file).map(|file| JwtKeys::PemFile(PathBuf::from(file))),
        non_empty(&settings.jwt_jwks_url).map(JwtKeys::Jwks),
    ];
    let mut given = sources.into_iter().flatten();
    let (Some(keys), None) = (given.next(), given.next()) else {
        return Err(AuthConfigError(
            "auth.jwt_secret, auth.jwt_public_key_file, auth.jwt_jwks_url (QBENCH_JWT_SECRET, \
             QBENCH_JWT_PUBLIC_KEY_FILE, QBENCH_JWT_JWKS_URL): set exactly one when auth.mode has jwt"
                .into(),
        ));
    };
    if let JwtKeys::Secret(secret) = &keys
        && secret.expose_secret().len() < 32
    {
        return Err(AuthConfigError(
            "auth.jwt_secret (QBENCH_JWT_SECRET): use at least 32 characters for an HS256 secret".into(),
        ));
    }
    let claim = |name: &str, value: &str| {
        non_empty(value).ok_or_else(|| AuthConfigError(format!("auth.{name}: must name a claim")))
    };
    Ok(JwtConfig {
        keys,
        issuer: non_empty(&settings.jwt_issuer),
        audience: non_empty(&settings.jwt_audience),
        user_claim: claim("jwt_user_claim", &settings.jwt_user_claim)?,
        roles_claim: claim("jwt_roles_claim", &settings.jwt_roles_claim)?,
        leeway: Duration::from_secs(settings.jwt_leeway_seconds),
        jwks_refresh: Duration::from_secs(settings.jwks_refresh_seconds.max(1)),
    })
}

fn proxy_config(settings: &AuthSettings) -> Result<ProxyConfig, AuthConfigError> {
    let header = settings.identity_header.trim();
    if actix_web::http::header::HeaderName::from_bytes(header.as_bytes()).is_err() {
        return Err(AuthConfigError(format!(
            "auth.identity_header (QBENCH_IDENTITY_HEADER): `{header}` is not a header name"
        )));
    }
    let trusted = list(&settings.trusted_proxies)
        .map(|cidr| {
            cidr.parse::<IpNet>().or_else(|_| cidr.parse::<std::net::IpAddr>().map(IpNet::from)).map_err(|_| {
                AuthConfigError(format!(
                    "auth.trusted_proxies (QBENCH_TRUSTED_PROXIES): `{cidr}` is not a CIDR or an address"
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let role = settings.proxy_role.parse::<Role>().map_err(|err| AuthConfigError(format!("auth.proxy_role: {err}")))?;
    Ok(ProxyConfig { header: header.to_owned(), trusted, role })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use crate::settings::Settings;

    fn load(pairs: &[(&str, &str)]) -> Result<Settings, String> {
        let env: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Settings::load(None, &env).map_err(|err| err.to_string())
    }

    #[test]
    fn none_is_the_default_and_every_mistake_names_its_key() {
        let settings = load(&[]).unwrap();
        assert!(super::AuthConfig::from_settings(&settings.auth).unwrap().is_development());
        for (env, needle) in [
            (vec![("QBENCH_AUTH_MODE", "jwt,ldap")], "auth.mode (QBENCH_AUTH_MODE): `ldap` is not one of"),
            (vec![("QBENCH_AUTH_MODE", "jwt")], "set exactly one when auth.mode has jwt"),
            (
                vec![
                    ("QBENCH_AUTH_MODE", "jwt"),
                    ("QBENCH_JWT_SECRET", "x".repeat(40).leak()),
                    ("QBENCH_JWT_JWKS_URL", "k"),
                ],
                "set exactly one",
            ),
            (vec![("QBENCH_AUTH_MODE", "jwt"), ("QBENCH_JWT_SECRET", "short")], "at least 32 characters"),
            (
                vec![("QBENCH_AUTH_MODE", "proxy-header"), ("QBENCH_TRUSTED_PROXIES", "10.0.0.0/8,not-an-ip")],
                "auth.trusted_proxies (QBENCH_TRUSTED_PROXIES): `not-an-ip`",
            ),
            (vec![("QBENCH_AUTH_MODE", "proxy-header"), ("QBENCH_AUTH__PROXY_ROLE", "root")], "auth.proxy_role"),
        ] {
            let error = load(&env).unwrap_err();
            assert!(error.contains(needle), "{env:?}: {error}");
        }
    }

    #[test]
    fn modes_combine() {
        let settings = load(&[
            ("QBENCH_AUTH_MODE", "jwt, proxy-header,api-key"),
            ("QBENCH_JWT_SECRET", "a-test-secret-of-at-least-32-characters!"),
            ("QBENCH_TRUSTED_PROXIES", "10.0.0.0/8"),
        ])
        .unwrap();
        let config = super::AuthConfig::from_settings(&settings.auth).unwrap();
        assert_eq!(config.modes.len(), 3);
        assert!(config.modes.contains(&super::Mode::ApiKey));
        assert_eq!(config.proxy.unwrap().trusted.len(), 1);
    }
}
