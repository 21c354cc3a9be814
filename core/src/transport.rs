//! The one seam between the protocol and the outside world: the network and
//! the clock.
//!
//! [`Transport::send`] returns a future with no `Send` bound, so the
//! dashboard can await the browser's fetch futures directly; the CLI blocks
//! on the client's futures with `futures-executor` and needs no async
//! runtime.

use std::future::Future;
use std::time::Duration;

use http::{Request, Response};
use time::OffsetDateTime;

/// Sends HTTP requests, waits, and tells the time, for the client.
///
/// No `Send` bound: the browser's fetch futures are not `Send`. A native
/// implementation should return redirects unfollowed: the client follows them
/// and drops credentials when one leaves the origin. (Browser fetch follows
/// them itself and drops `Authorization` across origins.) Several requests
/// may be in flight at once: a scan polls up to its concurrency limit of
/// `send` futures together, so they should make progress independently.
pub trait Transport {
    /// Sends one request and returns the answer, whatever its status.
    fn send(
        &self,
        request: Request<Vec<u8>>,
    ) -> impl Future<Output = Result<Response<Vec<u8>>, TransportError>>;

    /// Waits before a retry (`Retry-After`, backoff). A zero duration is
    /// core yielding between long steps (in the browser, a chance for the
    /// page to paint); a native transport may return at once.
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()>;

    /// The current time, for token lifetimes and `Retry-After` dates.
    fn now(&self) -> OffsetDateTime;
}

/// The request got no HTTP answer. In a browser this is also what a CORS
/// refusal looks like.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TransportError(pub String);

impl<T: Transport> Transport for &T {
    fn send(
        &self,
        request: Request<Vec<u8>>,
    ) -> impl Future<Output = Result<Response<Vec<u8>>, TransportError>> {
        (**self).send(request)
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> {
        (**self).sleep(duration)
    }

    fn now(&self) -> OffsetDateTime {
        (**self).now()
    }
}
