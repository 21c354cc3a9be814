//! The one seam between the protocol and the network.

use std::future::Future;

use http::{Request, Response};

/// Sends one HTTP request and returns the answer, whatever its status.
///
/// No `Send` bound: the browser's fetch futures are not `Send`. A native
/// implementation should return redirects unfollowed: the client follows them
/// and drops credentials when one leaves the origin. (Browser fetch follows
/// them itself and drops `Authorization` across origins.)
pub trait Transport {
    fn send(
        &self,
        request: Request<Vec<u8>>,
    ) -> impl Future<Output = Result<Response<Vec<u8>>, TransportError>>;
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
}
