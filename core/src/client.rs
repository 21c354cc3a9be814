//! One registry client for the CLI and the dashboard, generic over the
//! [`Transport`] that carries its requests.
//!
//! Every request goes through [`Client::send`], which adds credentials (only
//! on the registry's origin; basic credentials also go to the token realm the
//! registry's own challenge names), follows redirects, answers a Bearer
//! challenge with a token for the scope asked (cached per scope until it
//! expires; one retry per request), and retries 429/503 after `Retry-After` or
//! a bounded backoff, other 5xx and lost connections a bounded number of
//! times (never a DELETE, whose first answer may already have acted).

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use http::{Method, Request, Response, StatusCode};
use time::OffsetDateTime;

use crate::auth::{self, BearerChallenge, Challenge, TokenCache};
use crate::credentials::Credentials;
use crate::digest::Digest;
use crate::error::{Error, ErrorCode};
use crate::manifest::{Descriptor, parse_config_created};
use crate::name::{RepositoryName, Tag};
use crate::protocol::{self, FetchedManifest, Reference, RegistryUrl, same_origin};
use crate::transport::Transport;

const MAX_REDIRECTS: usize = 5;
/// Stops a registry whose `Link` headers never end.
const MAX_PAGES: usize = 100_000;
/// Requests a scan keeps in flight unless told otherwise.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// How often and how long to retry answers that say "try again".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The first backoff; it doubles with every retry.
    pub first_delay: Duration,
    /// No wait is longer than this, whatever `Retry-After` says.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            first_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        }
    }
}

#[derive(Default)]
struct AuthState {
    /// The registry's Bearer challenge, once it sent one.
    bearer: Option<BearerChallenge>,
    tokens: TokenCache,
}

pub struct Client<T> {
    transport: T,
    registry: RegistryUrl,
    credentials: Option<Credentials>,
    /// A mutex only so the client stays `Sync` for UI state; it is never
    /// held across an `await`.
    auth: Mutex<AuthState>,
    concurrency: usize,
    retry: RetryPolicy,
    /// Until when the registry asked to be left alone (a 429 or 503): a
    /// request about to be sent waits for it, so requests in flight side by
    /// side back off together instead of each finding out on its own.
    paused_until: Mutex<Option<OffsetDateTime>>,
}

/// The answers to a referrers request of a registry without the API: 404
/// (which a registry serving it never gives), 405 or 501.
fn lacks_referrers_api(status: u16) -> bool {
    matches!(status, 404 | 405 | 501)
}

impl<T: Transport> Client<T> {
    pub fn new(transport: T, registry: RegistryUrl, credentials: Option<Credentials>) -> Self {
        Client {
            transport,
            registry,
            credentials,
            auth: Mutex::new(AuthState::default()),
            concurrency: DEFAULT_CONCURRENCY,
            retry: RetryPolicy::default(),
            paused_until: Mutex::new(None),
        }
    }

    /// How many requests a scan keeps in flight (at least 1).
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    fn auth(&self) -> MutexGuard<'_, AuthState> {
        self.auth
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    pub fn registry(&self) -> &RegistryUrl {
        &self.registry
    }

    /// The token realm the registry's Bearer challenge named, once it sent
    /// one: the registry uses token authentication.
    pub fn token_realm(&self) -> Option<String> {
        self.auth()
            .bearer
            .as_ref()
            .map(|bearer| bearer.realm.clone())
    }

    /// Sends a request: authentication, redirects and retries as described
    /// in the module documentation. Returns the request's description (for
    /// messages) and the final answer, whatever its status.
    pub(crate) async fn send(
        &self,
        request: Request<Vec<u8>>,
    ) -> Result<(String, Response<Vec<u8>>), Error> {
        self.send_retrying(request, true).await
    }

    /// [`Client::send`]; a lost connection is tried again only with
    /// `network_retries`.
    async fn send_retrying(
        &self,
        request: Request<Vec<u8>>,
        network_retries: bool,
    ) -> Result<(String, Response<Vec<u8>>), Error> {
        let described = protocol::describe(&request);
        let scope = self.scope_of(&request);
        let retries_allowed = request.method() != Method::DELETE;
        let mut token_retried = false;
        let mut attempt: u32 = 0;
        let mut waited = false;
        loop {
            attempt += 1;
            let last_attempt = attempt >= self.retry.attempts;
            if !std::mem::take(&mut waited) {
                self.wait_out_pause().await;
            }
            let sent = self
                .send_following_redirects(copy_request(&request), &described, scope.as_deref())
                .await;
            let (final_url, response) = match sent {
                Ok(answer) => answer,
                Err(Error::Network { .. })
                    if retries_allowed && network_retries && !last_attempt =>
                {
                    self.transport.sleep(self.backoff(attempt)).await;
                    continue;
                }
                Err(error) => return Err(error),
            };
            let status = response.status();
            if status == StatusCode::UNAUTHORIZED
                && !token_retried
                && same_origin(&final_url, self.registry.origin())
                && let Some(challenge) = bearer_challenge(&challenges(&response))
            {
                token_retried = true;
                let wanted = challenge.scope.clone().or_else(|| scope.clone());
                self.auth().bearer = Some(challenge.clone());
                self.fetch_token(&challenge, wanted.as_deref(), scope.as_deref())
                    .await?;
                attempt -= 1;
                continue;
            }
            let again = matches!(status.as_u16(), 429 | 503)
                || (retries_allowed && status.is_server_error() && status != 501);
            if again && !last_attempt {
                let wait = protocol::retry_after(&response, self.transport.now())
                    .map(|wait| wait.min(self.retry.max_delay))
                    .unwrap_or_else(|| self.backoff(attempt));
                if matches!(status.as_u16(), 429 | 503) {
                    self.pause(wait);
                }
                self.transport.sleep(wait).await;
                waited = true;
                continue;
            }
            if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                return Ok((
                    format!(
                        "{described}{}",
                        self.auth_context(&response, scope.as_deref())
                    ),
                    response,
                ));
            }
            return Ok((described, response));
        }
    }

    /// Lets the caller's event loop run: in the browser a zero wait goes
    /// through the timer queue, so the page can paint between long steps.
    /// The transport's clock.
    pub(crate) fn now(&self) -> OffsetDateTime {
        self.transport.now()
    }

    pub(crate) async fn yield_now(&self) {
        self.transport.sleep(Duration::ZERO).await;
    }

    /// Everyone waits `wait` from now before sending (see `paused_until`).
    fn pause(&self, wait: Duration) {
        let until = self.transport.now() + wait;
        *self
            .paused_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(until);
    }

    async fn wait_out_pause(&self) {
        let until = *self
            .paused_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(until) = until {
            let left = until - self.transport.now();
            if left.is_positive() {
                self.transport.sleep(left.unsigned_abs()).await;
            }
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.retry
            .first_delay
            .saturating_mul(factor)
            .min(self.retry.max_delay)
    }

    /// What a 401/403 should name: the realm and the scope asked for.
    fn auth_context(&self, response: &Response<Vec<u8>>, scope: Option<&str>) -> String {
        let challenges = challenges(response);
        let known = self.auth().bearer.clone();
        let bearer = bearer_challenge(&challenges).or(known);
        if let Some(bearer) = bearer {
            let scope = bearer.scope.as_deref().or(scope).unwrap_or("none");
            return format!(" (token realm {}, scope {scope})", bearer.realm);
        }
        match challenges.iter().find_map(|c| match c {
            Challenge::Basic { realm } => Some(realm.clone()),
            _ => None,
        }) {
            Some(realm) => format!(
                " (basic auth realm {:?}{})",
                realm.unwrap_or_default(),
                if self.credentials.is_some() {
                    ", credentials were sent"
                } else {
                    ", no credentials given"
                }
            ),
            None => String::new(),
        }
    }

    /// The token scope a request needs, from its path below the registry base.
    fn scope_of(&self, request: &Request<Vec<u8>>) -> Option<String> {
        let prefix = &self.registry.as_str()[self.registry.origin().len()..];
        let path = request.uri().path();
        let path = path.strip_prefix(prefix).unwrap_or(path);
        auth::scope_for(request.method(), path)
    }

    /// Gets a token for `wanted` from the challenge's realm, caches it under
    /// `key` (the scope later requests of the same kind look up) and returns
    /// its `Authorization` value.
    async fn fetch_token(
        &self,
        challenge: &BearerChallenge,
        wanted: Option<&str>,
        key: Option<&str>,
    ) -> Result<String, Error> {
        // The password goes to the token server the registry names; never
        // in clear text when the registry itself is reached over TLS.
        if self.credentials.is_some()
            && self.registry.origin().starts_with("https://")
            && !challenge.realm.starts_with("https://")
        {
            return Err(Error::Protocol {
                request: format!("token request to {}", challenge.realm),
                detail: format!(
                    "the registry names a token server over plain HTTP ({}); sending the \
                     password there would expose it, so cleanreg refuses. Give the token \
                     server an https:// realm",
                    challenge.realm
                ),
            });
        }
        let request =
            auth::token_request(challenge, wanted, self.credentials.as_ref()).map_err(|error| {
                Error::Protocol {
                    request: format!("token request to {}", challenge.realm),
                    detail: error.to_string(),
                }
            })?;
        let described = protocol::describe(&request);
        let response = self
            .transport
            .send(request)
            .await
            .map_err(|error| Error::Network {
                request: described.clone(),
                detail: error.0,
            })?;
        let token = auth::parse_token_response(&challenge.realm, &response, self.transport.now())
            .map_err(|error| Error::Protocol {
            request: described,
            detail: error.to_string(),
        })?;
        let header = token.bearer_header();
        self.auth().tokens.insert(key.map(str::to_owned), token);
        Ok(header)
    }

    /// The token for `scope` (from the cache, else from the token server,
    /// then cached under `scope`, where a request needing that scope finds
    /// it); `None` when the registry has sent no Bearer challenge (basic
    /// auth or none).
    pub(crate) async fn token_for(&self, scope: &str) -> Option<Result<auth::Token, Error>> {
        let challenge = self.auth().bearer.clone()?;
        let key = Some(scope.to_owned());
        let cached = self.auth().tokens.get(&key, self.transport.now()).cloned();
        if let Some(token) = cached {
            return Some(Ok(token));
        }
        if let Err(error) = self.fetch_token(&challenge, Some(scope), Some(scope)).await {
            return Some(Err(error));
        }
        let token = self.auth().tokens.get(&key, self.transport.now()).cloned();
        token.map(Ok)
    }

    /// The `Authorization` value for a request to the registry's origin.
    async fn authorization(&self, scope: Option<&str>) -> Result<Option<String>, Error> {
        let bearer = self.auth().bearer.clone();
        let Some(challenge) = bearer else {
            return Ok(self.credentials.as_ref().map(Credentials::basic_header));
        };
        let key = scope.map(str::to_owned);
        let cached = {
            let auth = self.auth();
            auth.tokens
                .get(&key, self.transport.now())
                .map(|token| token.bearer_header())
        };
        match cached {
            Some(header) => Ok(Some(header)),
            None => Ok(Some(self.fetch_token(&challenge, scope, scope).await?)),
        }
    }

    /// One attempt: sends, following redirects itself; credentials go only
    /// to the registry's own origin. Returns the final URL and answer.
    async fn send_following_redirects(
        &self,
        request: Request<Vec<u8>>,
        described: &str,
        scope: Option<&str>,
    ) -> Result<(String, Response<Vec<u8>>), Error> {
        let mut request = request;
        for _ in 0..=MAX_REDIRECTS {
            let url = request.uri().to_string();
            if same_origin(&url, self.registry.origin())
                && let Some(value) = self.authorization(scope).await?
            {
                let value = value.parse().map_err(|_| Error::Protocol {
                    request: described.to_owned(),
                    detail: "the credentials cannot go into an HTTP header".into(),
                })?;
                request
                    .headers_mut()
                    .insert(http::header::AUTHORIZATION, value);
            }
            let method = request.method().clone();
            let accept = request.headers().get(http::header::ACCEPT).cloned();
            let response = self
                .transport
                .send(request)
                .await
                .map_err(|error| Error::Network {
                    request: described.to_owned(),
                    detail: error.0,
                })?;
            let location = response
                .headers()
                .get(http::header::LOCATION)
                .and_then(|v| v.to_str().ok());
            match location {
                Some(location)
                    if response.status().is_redirection()
                        && (method == Method::GET || method == Method::HEAD) =>
                {
                    let next = resolve_redirect(&url, location);
                    let mut builder = Request::builder().method(method).uri(next);
                    if let Some(accept) = accept {
                        builder = builder.header(http::header::ACCEPT, accept);
                    }
                    request = builder.body(Vec::new()).map_err(|e| Error::Protocol {
                        request: described.to_owned(),
                        detail: format!("unusable redirect to {location}: {e}"),
                    })?;
                }
                _ => return Ok((url, response)),
            }
        }
        Err(Error::Protocol {
            request: described.to_owned(),
            detail: format!("more than {MAX_REDIRECTS} redirects"),
        })
    }

    /// Checks that the URL is a registry and the credentials are accepted.
    pub async fn ping(&self) -> Result<(), Error> {
        let (described, response) = self.send(protocol::ping(&self.registry)).await?;
        protocol::parse_ping(&described, &response)
    }

    /// Every repository of the catalog, following pagination.
    pub async fn catalog(&self) -> Result<Vec<RepositoryName>, Error> {
        self.every_page(protocol::catalog(&self.registry), protocol::parse_catalog)
            .await
    }

    /// Every tag of a repository, following pagination. Pages ask for
    /// [`protocol::TAG_PAGE`] tags; a registry whose maximum is lower and
    /// says so (`PAGINATION_NUMBER_INVALID`, as Distribution 3.1.0 does with a
    /// smaller `tags.maxtags`) is asked again without a size.
    pub async fn tags(&self, repository: &RepositoryName) -> Result<Vec<Tag>, Error> {
        let sized = self
            .every_page(
                protocol::tags(&self.registry, repository),
                protocol::parse_tags,
            )
            .await;
        match sized {
            Err(error) if error.registry_code() == Some(&ErrorCode::PaginationNumberInvalid) => {
                self.every_page(
                    protocol::tags_unsized(&self.registry, repository),
                    protocol::parse_tags,
                )
                .await
            }
            other => other,
        }
    }

    /// Whether the registry serves the OCI 1.1 referrers API, asked with
    /// the referrers of `digest`, a manifest of `repository` it has: an
    /// answer is yes, a 404 (or 405, 501) no. A registry without the API may
    /// answer that path without the CORS headers of its other answers
    /// (Distribution adds its configured headers only on its own routes),
    /// which a browser reports as a failed request: then, when a `HEAD` of
    /// `digest` is answered, the registry is there and the answer is no;
    /// when it is not, the scan stops with the failure. That request is
    /// sent once, not retried.
    pub async fn serves_referrers(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<bool, Error> {
        let request = protocol::referrers(&self.registry, repository, digest);
        match self.send_retrying(request, false).await {
            Ok((_, response)) if lacks_referrers_api(response.status().as_u16()) => Ok(false),
            Ok((described, response)) => protocol::check(&described, &response).map(|()| true),
            Err(lost @ Error::Network { .. }) => {
                match self.manifest_exists(repository, digest).await {
                    Ok(_) => Ok(false),
                    Err(_) => Err(lost),
                }
            }
            Err(error) => Err(error),
        }
    }

    /// The manifests attached to `digest` through the OCI 1.1 referrers API,
    /// every page; `None` when the registry does not serve the API (a 404,
    /// which a registry that serves it never answers, or a 405 or 501).
    pub async fn referrers(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<Option<Vec<Descriptor>>, Error> {
        match self
            .every_page(
                protocol::referrers(&self.registry, repository, digest),
                protocol::parse_referrers,
            )
            .await
        {
            Ok(referrers) => Ok(Some(referrers)),
            Err(error) if error.status().is_some_and(lacks_referrers_api) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The items of a paged list: each page read (again if damaged), then
    /// its `Link` followed, until a page has none.
    async fn every_page<Item>(
        &self,
        first: Request<Vec<u8>>,
        parse: PageParser<Item>,
    ) -> Result<Vec<Item>, Error> {
        let mut items = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        let mut request = first;
        for _ in 0..MAX_PAGES {
            let (described, (page, next)) = self
                .read_parsed(
                    || copy_request(&request),
                    |described: &str, response| {
                        Ok((described.to_owned(), parse(described, response)?))
                    },
                )
                .await?;
            items.extend(page);
            match self.next_page(&described, next, &mut seen)? {
                Some(next) => request = next,
                None => return Ok(items),
            }
        }
        Err(too_many_pages())
    }

    fn next_page(
        &self,
        described: &str,
        link: Option<String>,
        seen: &mut std::collections::BTreeSet<String>,
    ) -> Result<Option<Request<Vec<u8>>>, Error> {
        let Some(link) = link else { return Ok(None) };
        let url = self
            .registry
            .resolve(&link)
            .ok_or_else(|| Error::Protocol {
                request: described.to_owned(),
                detail: format!("the next page {link} lies outside the registry; not followed"),
            })?;
        if !seen.insert(url.clone()) {
            return Err(Error::Protocol {
                request: described.to_owned(),
                detail: format!(
                    "the Link header leads back to {url}, a page already read; the registry's pagination loops"
                ),
            });
        }
        Ok(Some(protocol::next_page(url)))
    }

    pub async fn manifest(
        &self,
        repository: &RepositoryName,
        reference: &Reference,
    ) -> Result<FetchedManifest, Error> {
        self.read_parsed(
            || protocol::manifest(&self.registry, repository, reference),
            |described, response| protocol::parse_manifest_response(described, reference, response),
        )
        .await
    }

    /// [`Client::manifest`] with the exact bytes the registry sent, for a
    /// cache.
    pub(crate) async fn manifest_and_bytes(
        &self,
        repository: &RepositoryName,
        reference: &Reference,
    ) -> Result<(FetchedManifest, Vec<u8>), Error> {
        self.read_parsed(
            || protocol::manifest(&self.registry, repository, reference),
            |described, response| {
                protocol::parse_manifest_response(described, reference, response)
                    .map(|fetched| (fetched, response.body().clone()))
            },
        )
        .await
    }

    /// Sends a read and parses the answer. A successful answer that does not
    /// parse or does not match its digest may have been damaged on the way
    /// (a proxy cutting or rewriting it), so it is read again, up to the
    /// retry attempts; a registry that sends the same garbage every time
    /// still gets its error reported.
    pub(crate) async fn read_parsed<R>(
        &self,
        request: impl Fn() -> Request<Vec<u8>>,
        parse: impl Fn(&str, &Response<Vec<u8>>) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let (described, response) = self.send(request()).await?;
            match parse(&described, &response) {
                Err(Error::Protocol { .. })
                    if response.status().is_success() && attempt < self.retry.attempts =>
                {
                    self.transport.sleep(self.backoff(attempt)).await;
                }
                parsed => return parsed,
            }
        }
    }

    /// Where a tag points now; `None` when the tag no longer exists.
    pub async fn resolve_tag(
        &self,
        repository: &RepositoryName,
        tag: &Tag,
    ) -> Result<Option<Digest>, Error> {
        match self
            .manifest(repository, &Reference::Tag(tag.clone()))
            .await
        {
            Ok(fetched) => Ok(Some(fetched.digest)),
            Err(error) if is_not_found(&error) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Where a tag points now, as cheaply as the registry allows: a `HEAD`
    /// whose `Docker-Content-Digest` says it, else (a browser across origins
    /// may not see the header) the manifest itself. `None`: the tag is gone.
    pub async fn tag_digest(
        &self,
        repository: &RepositoryName,
        tag: &Tag,
    ) -> Result<Option<Digest>, Error> {
        let request = protocol::tag_head(&self.registry, repository, tag);
        let (described, response) = self.send(request).await?;
        match protocol::parse_tag_head(&described, &response)? {
            None => Ok(None),
            Some(Some(digest)) => Ok(Some(digest)),
            Some(None) => self.resolve_tag(repository, tag).await,
        }
    }

    /// The build date in an image config blob, when it has a usable one.
    pub async fn config_created(
        &self,
        repository: &RepositoryName,
        config: &Digest,
    ) -> Result<Option<OffsetDateTime>, Error> {
        self.read_parsed(
            || protocol::blob(&self.registry, repository, config),
            |described, response| {
                protocol::parse_blob(described, config, response).map(parse_config_created)
            },
        )
        .await
    }

    /// The exact bytes of a blob, checked against its digest.
    pub(crate) async fn blob_bytes(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<Vec<u8>, Error> {
        self.read_parsed(
            || protocol::blob(&self.registry, repository, digest),
            |described, response| {
                protocol::parse_blob(described, digest, response).map(<[u8]>::to_vec)
            },
        )
        .await
    }

    /// Whether the registry still serves a manifest (`HEAD` by digest).
    pub async fn manifest_exists(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<bool, Error> {
        let request = protocol::manifest_head(&self.registry, repository, digest);
        let (described, response) = self.send(request).await?;
        protocol::parse_manifest_head(&described, &response)
    }

    pub async fn delete_manifest(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<(), Error> {
        let request = protocol::delete_manifest(&self.registry, repository, digest);
        let (described, response) = self.send(request).await?;
        protocol::parse_delete(&described, &response)
    }
}

/// Reads one page of a paged list: its items and the next page's link.
type PageParser<Item> = fn(&str, &Response<Vec<u8>>) -> Result<(Vec<Item>, Option<String>), Error>;

/// 404 with `MANIFEST_UNKNOWN` (or no code at all) means "not there".
pub(crate) fn is_not_found(error: &Error) -> bool {
    error.status() == Some(404)
        && matches!(
            error.registry_code(),
            None | Some(ErrorCode::ManifestUnknown)
        )
}

/// The registry's Bearer challenge on a 401, if it sent one.
fn bearer_challenge(challenges: &[Challenge]) -> Option<BearerChallenge> {
    challenges.iter().find_map(|challenge| match challenge {
        Challenge::Bearer(bearer) => Some(bearer.clone()),
        _ => None,
    })
}

/// Every challenge of a response's `WWW-Authenticate` headers that parses.
fn challenges(response: &Response<Vec<u8>>) -> Vec<Challenge> {
    response
        .headers()
        .get_all(http::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| auth::parse_www_authenticate(v).ok())
        .flatten()
        .collect()
}

/// `http::Request` is not `Clone`; retries need the same request again.
fn copy_request(request: &Request<Vec<u8>>) -> Request<Vec<u8>> {
    let mut copy = Request::new(request.body().clone());
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.headers_mut() = request.headers().clone();
    copy
}

fn too_many_pages() -> Error {
    Error::Protocol {
        request: "pagination".into(),
        detail: format!("more than {MAX_PAGES} pages; the registry's Link headers do not end"),
    }
}

fn resolve_redirect(current: &str, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        return location.to_owned();
    }
    if let Some(rest) = location.strip_prefix("//") {
        let scheme = current.split("://").next().unwrap_or("https");
        return format!("{scheme}://{rest}");
    }
    let after_scheme = current.find("://").map_or(0, |i| i + 3);
    let origin_end = current[after_scheme..]
        .find('/')
        .map_or(current.len(), |i| after_scheme + i);
    format!("{}{location}", &current[..origin_end])
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::VecDeque;

    use super::*;
    use crate::transport::TransportError;

    /// A scripted "answer" that is a lost connection instead.
    const LOST: u16 = 599;

    /// A hostile server: answers from a script and records what it was sent.
    #[derive(Default)]
    struct Scripted {
        answers: RefCell<VecDeque<Response<Vec<u8>>>>,
        seen: RefCell<Vec<(String, Option<String>)>>,
        slept: RefCell<Vec<Duration>>,
    }

    impl Scripted {
        fn answer(self, status: u16, headers: &[(&str, &str)], body: &str) -> Self {
            let mut builder = Response::builder().status(status);
            for (name, value) in headers {
                builder = builder.header(*name, *value);
            }
            self.answers
                .borrow_mut()
                .push_back(builder.body(body.as_bytes().to_vec()).unwrap());
            self
        }
    }

    impl Transport for Scripted {
        async fn send(
            &self,
            request: Request<Vec<u8>>,
        ) -> Result<Response<Vec<u8>>, TransportError> {
            let auth = request
                .headers()
                .get(http::header::AUTHORIZATION)
                .map(|v| v.to_str().unwrap().to_owned());
            self.seen
                .borrow_mut()
                .push((request.uri().to_string(), auth));
            match self.answers.borrow_mut().pop_front() {
                // Scripted as a request that got no answer (in a browser:
                // also one blocked by CORS).
                Some(answer) if answer.status().as_u16() == LOST => {
                    Err(TransportError("connection lost".into()))
                }
                Some(answer) => Ok(answer),
                None => Err(TransportError("no more answers".into())),
            }
        }

        async fn sleep(&self, duration: Duration) {
            self.slept.borrow_mut().push(duration);
        }

        fn now(&self) -> OffsetDateTime {
            time::macros::datetime!(2026-11-27 12:00 UTC)
        }
    }

    fn client(transport: Scripted) -> Client<Scripted> {
        Client::new(
            transport,
            RegistryUrl::parse("http://registry.test:5000").unwrap(),
            Some(Credentials::new("admin", "secret")),
        )
    }

    fn run<F: std::future::Future>(future: F) -> F::Output {
        futures_executor::block_on(future)
    }

    #[test]
    fn credentials_do_not_follow_a_redirect_to_another_origin() {
        let config = br#"{"created":"2026-01-02T03:04:05Z"}"#;
        let digest = Digest::sha256_of(config);
        let client = client(
            Scripted::default()
                .answer(307, &[("location", "https://storage.test/blob?sig=1")], "")
                .answer(200, &[], std::str::from_utf8(config).unwrap()),
        );
        let created = run(client.config_created(&"a".parse().unwrap(), &digest)).unwrap();
        assert!(created.is_some());
        let seen = client.transport.seen.borrow();
        assert!(seen[0].1.as_deref().unwrap().starts_with("Basic "));
        assert_eq!(
            seen[1],
            ("https://storage.test/blob?sig=1".to_owned(), None)
        );
    }

    #[test]
    fn a_next_page_on_another_origin_is_refused() {
        let client = client(Scripted::default().answer(
            200,
            &[(
                "link",
                "<http://elsewhere.test/v2/_catalog?last=a>; rel=\"next\"",
            )],
            r#"{"repositories":["a"]}"#,
        ));
        let error = run(client.catalog()).unwrap_err().to_string();
        assert!(error.contains("outside the registry"), "{error}");
        assert_eq!(client.transport.seen.borrow().len(), 1);
    }

    #[test]
    fn a_refused_page_size_is_asked_again_without_one_and_an_empty_last_page_ends_the_list() {
        let client = client(
            Scripted::default()
                .answer(
                    400,
                    &[("content-type", "application/json")],
                    r#"{"errors":[{"code":"PAGINATION_NUMBER_INVALID","message":"invalid number of results requested","detail":{"n":1000}}]}"#,
                )
                .answer(
                    200,
                    &[("link", "</v2/t/tags/list?last=b&n=2>; rel=\"next\"")],
                    r#"{"name":"t","tags":["a","b"]}"#,
                )
                .answer(200, &[], r#"{"name":"t","tags":null}"#),
        );
        let tags = run(client.tags(&"t".parse().unwrap())).unwrap();
        assert_eq!(tags, ["a".parse().unwrap(), "b".parse().unwrap()]);
        let seen: Vec<String> = client
            .transport
            .seen
            .borrow()
            .iter()
            .map(|(url, _)| url.clone())
            .collect();
        assert_eq!(
            seen,
            [
                "http://registry.test:5000/v2/t/tags/list?n=1000",
                "http://registry.test:5000/v2/t/tags/list",
                "http://registry.test:5000/v2/t/tags/list?last=b&n=2",
            ]
        );
    }

    #[test]
    fn tag_pages_are_followed_and_joined_in_order() {
        let client = client(
            Scripted::default()
                .answer(
                    200,
                    &[("link", "</v2/t/tags/list?last=a&n=1>; rel=\"next\"")],
                    r#"{"tags":["a"]}"#,
                )
                .answer(200, &[], r#"{"tags":["b"]}"#),
        );
        let tags = run(client.tags(&"t".parse().unwrap())).unwrap();
        assert_eq!(tags, ["a".parse().unwrap(), "b".parse().unwrap()]);
        assert_eq!(
            client.transport.seen.borrow()[1].0,
            "http://registry.test:5000/v2/t/tags/list?last=a&n=1"
        );
    }

    const DENIED_BEARER: &str = r#"Bearer realm="http://auth.test/token",service="registry.test",scope="repository:team/app:pull""#;

    #[test]
    fn a_bearer_challenge_gets_a_token_once_per_scope_with_credentials_only_to_the_realm() {
        let client = client(
            Scripted::default()
                .answer(401, &[("www-authenticate", DENIED_BEARER)], "")
                .answer(200, &[], r#"{"token":"tok-1","expires_in":300}"#)
                .answer(200, &[], r#"{"tags":["a"]}"#)
                .answer(200, &[], r#"{"tags":["a"]}"#),
        );
        let repo: RepositoryName = "team/app".parse().unwrap();
        run(client.tags(&repo)).unwrap();
        run(client.tags(&repo)).unwrap();
        let seen = client.transport.seen.borrow();
        assert_eq!(seen.len(), 4, "{seen:?}");
        assert!(seen[0].1.as_deref().unwrap().starts_with("Basic "));
        assert_eq!(
            seen[1].0,
            "http://auth.test/token?service=registry.test&scope=repository%3Ateam%2Fapp%3Apull"
        );
        assert!(seen[1].1.as_deref().unwrap().starts_with("Basic "));
        assert_eq!(seen[2].1.as_deref(), Some("Bearer tok-1"));
        assert_eq!(seen[3].1.as_deref(), Some("Bearer tok-1"), "cached");
    }

    #[test]
    fn a_second_401_names_the_realm_and_scope() {
        let client = client(
            Scripted::default()
                .answer(401, &[("www-authenticate", DENIED_BEARER)], "")
                .answer(200, &[], r#"{"token":"tok-1"}"#)
                .answer(
                    401,
                    &[("www-authenticate", DENIED_BEARER)],
                    r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
                ),
        );
        let error = run(client.tags(&"team/app".parse().unwrap()))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("token realm http://auth.test/token, scope repository:team/app:pull"),
            "{error}"
        );
        assert!(error.contains("HTTP 401 UNAUTHORIZED"), "{error}");
    }

    #[test]
    fn a_refused_token_request_says_so() {
        let client = client(
            Scripted::default()
                .answer(401, &[("www-authenticate", DENIED_BEARER)], "")
                .answer(401, &[], r#"{"details":"wrong password"}"#),
        );
        let error = run(client.tags(&"team/app".parse().unwrap()))
            .unwrap_err()
            .to_string();
        assert!(error.contains("http://auth.test/token"), "{error}");
        assert!(error.contains("401"), "{error}");
    }

    #[test]
    fn basic_401_names_the_realm() {
        let client = client(Scripted::default().answer(
            401,
            &[("www-authenticate", r#"Basic realm="Registry Realm""#)],
            r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
        ));
        let error = run(client.ping()).unwrap_err().to_string();
        assert!(
            error.contains(r#"basic auth realm "Registry Realm", credentials were sent"#),
            "{error}"
        );
    }

    #[test]
    fn rate_limits_and_unavailability_are_retried_after_the_asked_wait() {
        let client = client(
            Scripted::default()
                .answer(429, &[("retry-after", "3")], "")
                .answer(503, &[], "")
                .answer(503, &[("retry-after", "Fri, 27 Nov 2026 12:00:05 GMT")], "")
                .answer(200, &[], r#"{"repositories":[]}"#),
        );
        run(client.catalog()).unwrap();
        assert_eq!(
            *client.transport.slept.borrow(),
            [
                Duration::from_secs(3),
                Duration::from_secs(1),
                Duration::from_secs(5)
            ]
        );
    }

    #[test]
    fn a_rate_limit_makes_every_later_request_wait_too() {
        let client = client(
            Scripted::default()
                .answer(429, &[("retry-after", "4")], "")
                .answer(200, &[], r#"{"repositories":[]}"#)
                .answer(200, &[], r#"{"name":"a","tags":[]}"#),
        );
        run(client.catalog()).unwrap();
        // The clock here stands still, so the pause is still on: a request
        // that starts now waits out what is left of it before it is sent.
        run(client.tags(&"a".parse().unwrap())).unwrap();
        assert_eq!(
            *client.transport.slept.borrow(),
            [Duration::from_secs(4), Duration::from_secs(4)]
        );
        assert_eq!(client.transport.seen.borrow().len(), 3);
    }

    #[test]
    fn server_errors_are_retried_a_bounded_number_of_times_but_never_a_delete() {
        let mut script = Scripted::default();
        for _ in 0..10 {
            script = script.answer(500, &[], "boom");
        }
        let client = client(script);
        let error = run(client.catalog()).unwrap_err();
        assert_eq!(error.status(), Some(500));
        assert_eq!(client.transport.seen.borrow().len(), 4);
        assert!(error.to_string().contains("kept failing"), "{error}");

        let deleter = self::client(Scripted::default().answer(500, &[], ""));
        let digest = Digest::sha256_of(b"x");
        assert!(run(deleter.delete_manifest(&"a".parse().unwrap(), &digest)).is_err());
        assert_eq!(deleter.transport.seen.borrow().len(), 1);
    }

    #[test]
    fn lost_connections_are_retried_then_reported() {
        let client = client(Scripted::default());
        let error = run(client.ping()).unwrap_err().to_string();
        assert_eq!(client.transport.seen.borrow().len(), 4);
        assert!(error.contains("no answer"), "{error}");
        assert!(error.contains("http://registry.test:5000/v2/"), "{error}");
    }

    #[test]
    fn answers_that_are_not_registry_json_say_what_came_back_from_where() {
        // A damaged answer is read again (RetryPolicy::default().attempts in
        // all); one that stays wrong is reported.
        let attempts = RetryPolicy::default().attempts;
        let mut script = Scripted::default();
        for _ in 0..attempts {
            script = script.answer(
                200,
                &[("content-type", "text/html")],
                "<html><body>Sign in to the proxy</body></html>",
            );
        }
        for _ in 0..attempts {
            script = script.answer(
                200,
                &[("content-type", "application/json")],
                r#"{"tags":["a","#,
            );
        }
        let client = client(script);
        let repo: RepositoryName = "team/app".parse().unwrap();
        let html = run(client.tags(&repo)).unwrap_err().to_string();
        assert!(
            html.contains("GET http://registry.test:5000/v2/team/app/tags/list"),
            "{html}"
        );
        assert!(
            html.contains("text/html instead of registry JSON"),
            "{html}"
        );
        assert!(html.contains("Sign in to the proxy"), "{html}");
        let cut = run(client.tags(&repo)).unwrap_err().to_string();
        assert!(cut.contains("cut off after 13 bytes"), "{cut}");
        assert_eq!(client.transport.seen.borrow().len(), 2 * attempts as usize);
    }

    #[test]
    fn a_plain_http_realm_of_an_https_registry_gets_no_password() {
        let transport = Scripted::default().answer(
            401,
            &[(
                "www-authenticate",
                r#"Bearer realm="http://auth.elsewhere.test/token",service="registry""#,
            )],
            r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
        );
        let client = Client::new(
            transport,
            RegistryUrl::parse("https://registry.test").unwrap(),
            Some(Credentials::new("admin", "secret")),
        );
        let error = run(client.ping()).unwrap_err().to_string();
        assert!(error.contains("over plain HTTP"), "{error}");
        let seen = client.transport.seen.borrow();
        assert_eq!(seen.len(), 1, "nothing went to the realm: {seen:?}");
        assert!(seen[0].0.starts_with("https://registry.test/"));
    }

    #[test]
    fn a_damaged_answer_is_read_again() {
        let client = client(
            Scripted::default()
                .answer(
                    200,
                    &[("content-type", "text/html")],
                    "<html>maintenance</html>",
                )
                .answer(
                    200,
                    &[("content-type", "application/json")],
                    r#"{"tags":["a","b"]}"#,
                ),
        );
        let tags = run(client.tags(&"t".parse().unwrap())).unwrap();
        assert_eq!(tags.len(), 2);
    }

    #[test]
    fn a_link_that_loops_is_detected() {
        let page = r#"{"tags":["a"]}"#;
        let link = "</v2/t/tags/list?last=a>; rel=\"next\"";
        let client = client(
            Scripted::default()
                .answer(200, &[("link", link)], page)
                .answer(200, &[("link", link)], page),
        );
        let error = run(client.tags(&"t".parse().unwrap()))
            .unwrap_err()
            .to_string();
        assert!(error.contains("pagination loops"), "{error}");
        assert_eq!(client.transport.seen.borrow().len(), 2);
    }

    #[test]
    fn a_challenge_from_another_origin_gets_no_credentials() {
        let digest = Digest::sha256_of(b"config");
        let client = client(
            Scripted::default()
                .answer(307, &[("location", "https://storage.test/blob")], "")
                .answer(
                    401,
                    &[(
                        "www-authenticate",
                        r#"Bearer realm="https://evil.test/token",service="x""#,
                    )],
                    "",
                ),
        );
        assert!(run(client.config_created(&"a".parse().unwrap(), &digest)).is_err());
        let seen = client.transport.seen.borrow();
        assert_eq!(
            seen.len(),
            2,
            "no token request to the foreign realm: {seen:?}"
        );
        assert_eq!(seen[1], ("https://storage.test/blob".to_owned(), None));
    }

    #[test]
    fn the_referrers_api_is_served_when_it_answers_and_not_when_the_path_is_unknown() {
        let name: RepositoryName = "app".parse().unwrap();
        let digest = Digest::sha256_of(b"image");
        let index = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
        let ask = |client: &Client<Scripted>| {
            futures_executor::block_on(client.serves_referrers(&name, &digest))
        };

        let served = client(Scripted::default().answer(200, &[], index));
        assert!(ask(&served).unwrap());
        for status in [404, 405, 501] {
            let none = client(Scripted::default().answer(status, &[], "404 page not found"));
            assert!(!ask(&none).unwrap(), "{status}");
            assert_eq!(none.transport.seen.borrow().len(), 1, "asked once");
        }
        // A registry that answers everything else but not this path (a
        // browser blocked by the missing CORS headers of its 404): no API,
        // after one try and a HEAD that shows the registry is there.
        let blocked = client(
            Scripted::default()
                .answer(LOST, &[], "")
                .answer(200, &[], ""),
        );
        assert!(!ask(&blocked).unwrap());
        let seen = blocked.transport.seen.borrow();
        assert_eq!(seen.len(), 2);
        assert!(seen[0].0.ends_with(&format!("/v2/app/referrers/{digest}")));
        assert!(seen[1].0.ends_with(&format!("/v2/app/manifests/{digest}")));
        assert!(
            blocked.transport.slept.borrow().is_empty(),
            "no retry, no wait"
        );
        // A registry that answers nothing: the scan stops.
        let gone = client(Scripted::default());
        assert!(matches!(ask(&gone), Err(Error::Network { .. })));
        // Any other error is the registry's, as for any request.
        let denied = client(Scripted::default().answer(403, &[], ""));
        assert_eq!(ask(&denied).unwrap_err().status(), Some(403));
    }
}
