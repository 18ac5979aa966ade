//! The HTTP client of HTTP(S) dataset sources: the [`EgressPolicy`] applied to the URL's host,
//! at connect time to every address a name resolves to, and to every redirect; and timeouts so
//! a server that accepts a connection and never answers cannot hold a run.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use object_store::ClientOptions;
use object_store::client::{
    HttpClient, HttpConnector, HttpError, HttpErrorKind, HttpRequest, HttpResponse, HttpService,
};

use crate::egress::{EgressPolicy, EgressRefused, EgressResolver};
use crate::error::find_in_chain;

/// Redirects followed at most, each one checked against the policy.
const MAX_REDIRECTS: usize = 10;

/// How HTTP(S) dataset sources are reached.
#[derive(Debug, Clone)]
pub(crate) struct HttpSourceClient {
    /// Which addresses may be reached.
    pub(crate) policy: Arc<EgressPolicy>,
    /// How long establishing a connection may take.
    pub(crate) connect_timeout: Duration,
    /// How long the server may stay silent while a request waits for (more of) its answer.
    pub(crate) idle_timeout: Duration,
    /// How long one request, body included, may take.
    pub(crate) request_timeout: Duration,
    /// Whether only HTTPS may be used (an `https://` source may not be redirected to `http://`).
    pub(crate) https_only: bool,
}

impl HttpConnector for HttpSourceClient {
    /// A reqwest client of our own rather than `object_store`'s: its resolver, redirect policy
    /// and idle timeout are what the policy needs. No proxy is used, since a proxy would resolve
    /// and connect to names on our behalf, unchecked.
    fn connect(&self, _options: &ClientOptions) -> object_store::Result<HttpClient> {
        let redirect_policy = Arc::clone(&self.policy);
        let client = reqwest::Client::builder()
            .user_agent(concat!("qbench/", env!("CARGO_PKG_VERSION")))
            .no_proxy()
            .dns_resolver(Arc::new(EgressResolver { policy: Arc::clone(&self.policy) }))
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() > MAX_REDIRECTS {
                    return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
                }
                match redirect_policy.check_url(attempt.url()) {
                    Ok(_) => attempt.follow(),
                    Err(refused) => attempt.error(refused),
                }
            }))
            .connect_timeout(self.connect_timeout)
            .read_timeout(self.idle_timeout)
            .timeout(self.request_timeout)
            .https_only(self.https_only)
            // Compression would change the `Content-Length` object_store reads sizes from.
            .no_gzip()
            .no_brotli()
            .no_zstd()
            .no_deflate()
            .build()
            .map_err(|error| object_store::Error::Generic { store: "HTTP", source: Box::new(error) })?;
        Ok(HttpClient::new(PolicedService { client, policy: Arc::clone(&self.policy) }))
    }
}

/// Sends requests whose host the policy allows, and reports a refusal (by the resolver or a
/// redirect) as an error `object_store` does not retry: retrying cannot change the answer.
struct PolicedService {
    /// The client, with the policy's resolver and redirect policy.
    client: reqwest::Client,
    /// The policy, for hosts that are IP literals (which reqwest never resolves).
    policy: Arc<EgressPolicy>,
}

impl fmt::Debug for PolicedService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicedService").field("policy", &self.policy).finish_non_exhaustive()
    }
}

#[async_trait]
impl HttpService for PolicedService {
    async fn call(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let url = url::Url::parse(&request.uri().to_string())
            .map_err(|error| HttpError::new(HttpErrorKind::Unknown, error))?;
        self.policy.check_url(&url).map_err(|refused| HttpError::new(HttpErrorKind::Unknown, refused))?;
        HttpService::call(&self.client, request).await.map_err(|error| {
            match find_in_chain::<EgressRefused>(&error as &(dyn StdError + 'static)) {
                Some(refused) => HttpError::new(HttpErrorKind::Unknown, refused.clone()),
                None => error,
            }
        })
    }
}
