//! From a connection's URL to the gRPC endpoint `qdrant-client` talks to, and to the REST one.

use qbench_vector_store::VectorStoreError;

/// Qdrant's REST port: a connection may name it, as users copy it from the dashboard.
pub const REST_PORT: u16 = 6333;

/// Qdrant's gRPC port, used when the URL names the REST port or no port at all.
pub const GRPC_PORT: u16 = 6334;

/// The gRPC endpoint of the Qdrant a connection URL points at.
///
/// - `http(s)://host:6333` (the REST port) becomes `http(s)://host:6334`, the gRPC port of the
///   same server; a URL without a port gets 6334 too, Qdrant's default.
/// - Any other explicit port (`:6334`, or a proxy's port such as `:443`) is used as it is.
/// - The scheme is kept: `https` means TLS to the same host.
///
/// The result is `scheme://host:port` with no path.
///
/// # Errors
/// `Rejected` when the URL does not parse, is not `http` or `https` (`embedded://` is the
/// embedded engine's), has no host, carries credentials (the API key is the connection's
/// `api_key`, and a password in a URL would end up in messages), or has a path, query or
/// fragment, which gRPC has no use for.
pub fn grpc_url(url: &str) -> Result<String, VectorStoreError> {
    let (scheme, host, port) = parts(url)?;
    let port = match port {
        None | Some(REST_PORT) => GRPC_PORT,
        Some(port) => port,
    };
    Ok(format!("{scheme}://{host}:{port}"))
}

/// The REST endpoint of the same server, for what the gRPC API lacks (health, readiness,
/// cluster): the gRPC port or no port means 6333; any other explicit port (a proxy's) is kept.
///
/// # Errors
/// Those of [`grpc_url`].
pub fn rest_url(url: &str) -> Result<String, VectorStoreError> {
    let (scheme, host, port) = parts(url)?;
    let port = match port {
        None | Some(GRPC_PORT) => REST_PORT,
        Some(port) => port,
    };
    Ok(format!("{scheme}://{host}:{port}"))
}

/// Scheme, host and explicit port of a connection URL, refused as [`grpc_url`] says.
fn parts(url: &str) -> Result<(String, String, Option<u16>), VectorStoreError> {
    let parsed = ::url::Url::parse(url.trim())
        .map_err(|err| VectorStoreError::Rejected(format!("the connection URL is not a valid URL: {err}")))?;
    // Checked before anything echoes the URL, so a password in it never reaches a message.
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(VectorStoreError::Rejected(
            "the connection URL must not carry credentials; give the API key as the connection's api_key".to_owned(),
        ));
    }
    let scheme = parsed.scheme();
    if scheme != "http" && scheme != "https" {
        return Err(VectorStoreError::Rejected(format!(
            "the connection URL `{url}` is not http(s)://host:port; a remote Qdrant is reached over http or https"
        )));
    }
    let Some(host) = parsed.host_str().filter(|host| !host.is_empty()) else {
        return Err(VectorStoreError::Rejected(format!("the connection URL `{url}` has no host")));
    };
    if parsed.path() != "/" || parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(VectorStoreError::Rejected(format!(
            "the connection URL `{url}` has a path, query or fragment; give only http(s)://host:port"
        )));
    }
    Ok((scheme.to_owned(), host.to_owned(), explicit_port(url)?))
}

/// The port written in `url`, if any.
///
/// `url::Url` forgets a port equal to the scheme's default (`https://host:443` has no port), so
/// the authority is read from the text itself: a URL naming port 443 means a proxy on 443, not
/// Qdrant's default gRPC port.
fn explicit_port(url: &str) -> Result<Option<u16>, VectorStoreError> {
    let url = url.trim();
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = after_scheme.split(['/', '?', '#']).next().unwrap_or_default();
    // An IPv6 host is bracketed: the port, if any, follows the closing bracket.
    let after_host = match authority.rfind(']') {
        Some(end) => &authority[end + 1..],
        None => authority,
    };
    let Some((_, port)) = after_host.rsplit_once(':') else {
        return Ok(None);
    };
    if port.is_empty() {
        return Ok(None);
    }
    port.parse()
        .map(Some)
        .map_err(|_| VectorStoreError::Rejected(format!("the connection URL `{url}` has an invalid port `{port}`")))
}
