//! One registry client for the CLI and the dashboard, generic over the
//! [`Transport`] that carries its requests.
//!
//! Every request goes through [`Client::send`], which adds credentials (only
//! on the registry's origin; basic credentials also go to the token realm the
//! registry's own challenge names), follows redirects, answers a Bearer
//! challenge with a token for the scope asked (cached per scope until shortly
//! before it expires; one retry per request), and retries what says "try
//! again".
//!
//! Credentials: a redirect that leaves the registry's origin is followed
//! without them (at most 5 redirects, for `GET` and `HEAD` only), and a `Link`
//! page outside the origin is not followed at all (an error). A Bearer realm
//! over plain HTTP gets no password when the registry is reached over https.
//!
//! Retries, 4 attempts in all: 429 and 503 wait for `Retry-After` (capped at
//! 30 s) or a backoff doubling from 0.5 s, for every method, DELETE included,
//! since those answers say the request was not served. A 429 or 503 also
//! pauses the whole client: every request about to be sent waits until then,
//! so the requests in flight back off together, and lowers how many go at
//! once (`gate`: halved on each, raised by one again after a run of other
//! answers). Other 5xx (not 501) and lost
//! connections are retried the same way except for a DELETE, whose first
//! answer may already have acted.
//!
//! The client's shared state (token cache, pause) sits behind `Mutex`es never
//! held across an `await`, so the dashboard can keep a `Client` in `Sync` UI
//! state.
//!
//! This file holds the client and its sending; `token` gets and caches
//! tokens, `requests` holds one method per registry request, and the other
//! files here hold the client's larger jobs: `scan`, `apply` (with `untag`
//! for single tags) and `restore` (recovery files made and put back).

pub(crate) mod apply;
mod gate;
mod requests;
pub(crate) mod restore;
pub(crate) mod scan;
mod token;
pub(crate) mod untag;

#[cfg(test)]
mod tests;

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use http::{Method, Request, Response, StatusCode};
use time::OffsetDateTime;

use crate::auth::{BearerChallenge, TokenCache};
use crate::credentials::Credentials;
use crate::error::Error;
use crate::protocol::{self, RegistryUrl, same_origin};
use crate::transport::Transport;

use gate::Gate;
pub(crate) use requests::is_not_found;
use token::{bearer_challenge, challenges};

const MAX_REDIRECTS: usize = 5;

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
    /// How many attempts are on the wire at once: `concurrency`, lowered
    /// while the registry answers 429 or 503.
    gate: Gate,
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
            gate: Gate::new(DEFAULT_CONCURRENCY),
        }
    }

    /// How many requests a scan keeps in flight (at least 1).
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self.gate = Gate::new(self.concurrency);
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

    /// The basic-auth user, if any (never the password).
    pub fn username(&self) -> Option<&str> {
        self.credentials.as_ref().map(|c| c.username.as_str())
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
            let pass = self.gate.enter().await;
            let sent = self
                .send_following_redirects(copy_request(&request), &described, scope.as_deref())
                .await;
            drop(pass);
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
            self.gate.answered(status.as_u16());
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
}

/// `http::Request` is not `Clone`; retries need the same request again.
fn copy_request(request: &Request<Vec<u8>>) -> Request<Vec<u8>> {
    let mut copy = Request::new(request.body().clone());
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.headers_mut() = request.headers().clone();
    copy
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
