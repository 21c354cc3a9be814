//! A forwarding proxy in front of a real registry that fails on purpose: it
//! answers `500` to the first `DELETE` of chosen manifest digests (later
//! ones are forwarded), so a client sees one failed delete it can retry.

use std::collections::BTreeSet;
use std::fmt;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use crate::faulty::{FaultyServer, Reply, SeenRequest, lock};

/// Request headers not forwarded: hop-by-hop ones, and the ones the proxy's
/// own client sets (the body length, the upstream's `Host`).
const SKIP_REQUEST: [&str; 7] = [
    "host",
    "connection",
    "content-length",
    "transfer-encoding",
    "accept-encoding",
    "keep-alive",
    "expect",
];
/// Response headers not passed back: the faulty server sets its own length
/// and connection handling.
const SKIP_RESPONSE: [&str; 4] = [
    "connection",
    "transfer-encoding",
    "keep-alive",
    "content-encoding",
];

/// A registry the proxies forward to.
pub(crate) struct Upstream {
    pub(crate) base: String,
    agent: ureq::Agent,
}

struct State {
    upstream: Upstream,
    /// Digests whose next DELETE fails; each is removed when it fails once.
    fail_next_delete: Mutex<BTreeSet<String>>,
    /// The DELETEs answered 500, as `(path)`.
    failed: Mutex<Vec<String>>,
}

/// A running proxy on a free loopback port; dropping it stops it.
pub struct FailingProxy {
    state: Arc<State>,
    server: FaultyServer,
}

impl fmt::Debug for FailingProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FailingProxy")
            .field("url", &self.server.url())
            .field("upstream", &self.state.upstream.base)
            .finish_non_exhaustive()
    }
}

impl FailingProxy {
    /// Forwards everything to `upstream` (a registry base URL), except the
    /// first `DELETE /v2/<name>/manifests/<digest>` of each of
    /// `fail_first_delete_of`, which gets `500` with a registry error body.
    pub fn start(upstream: &str, fail_first_delete_of: &[&str]) -> io::Result<FailingProxy> {
        let state = Arc::new(State {
            upstream: Upstream::new(upstream),
            fail_next_delete: Mutex::new(
                fail_first_delete_of.iter().map(|&d| d.to_owned()).collect(),
            ),
            failed: Mutex::new(Vec::new()),
        });
        let server = {
            let state = Arc::clone(&state);
            FaultyServer::start(move |request| state.handle(request))?
        };
        Ok(FailingProxy { state, server })
    }

    /// Base URL without trailing slash.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Paths of the DELETEs answered with the injected 500, in order.
    pub fn failed_deletes(&self) -> Vec<String> {
        lock(&self.state.failed).clone()
    }

    /// Paths of every DELETE that reached the proxy, in order (failed or
    /// forwarded).
    pub fn deletes(&self) -> Vec<String> {
        self.server
            .requests()
            .into_iter()
            .filter(|request| request.method == "DELETE")
            .map(|request| request.path().to_owned())
            .collect()
    }

    /// Every request that reached the proxy.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.server.requests()
    }
}

impl State {
    fn handle(&self, request: &SeenRequest) -> Reply {
        if request.method == "DELETE"
            && let Some(digest) = deleted_digest(request.path())
            && lock(&self.fail_next_delete).remove(digest)
        {
            lock(&self.failed).push(request.path().to_owned());
            return Reply::json(
                500,
                &json!({"errors": [{
                    "code": "UNKNOWN",
                    "message": "injected failure: the test proxy refused this delete once",
                    "detail": digest,
                }]}),
            );
        }
        self.upstream.forward_or_502(request)
    }
}

impl Upstream {
    pub(crate) fn new(base: &str) -> Upstream {
        Upstream {
            base: base.trim_end_matches('/').to_owned(),
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .timeout_global(Some(Duration::from_secs(60)))
                .build()
                .into(),
        }
    }

    /// The upstream's answer, or a plain 502 when it cannot be reached.
    pub(crate) fn forward_or_502(&self, request: &SeenRequest) -> Reply {
        match self.forward(request) {
            Ok(reply) => reply,
            Err(error) => Reply::new(502).body(format!("test proxy: upstream failed: {error}")),
        }
    }

    pub(crate) fn forward(&self, request: &SeenRequest) -> Result<Reply, ureq::Error> {
        let url = format!("{}{}", self.base, request.path_and_query);
        let mut builder = ureq::http::Request::builder()
            .method(request.method.as_str())
            .uri(url.as_str());
        for (name, value) in &request.headers {
            if !SKIP_REQUEST.contains(&name.to_ascii_lowercase().as_str()) {
                builder = builder.header(name.as_str(), value.as_str());
            }
        }
        // GET, HEAD and DELETE must go without a body, not even an empty one.
        let mut response = if request.body.is_empty() {
            self.agent.run(builder.body(())?)?
        } else {
            self.agent.run(builder.body(request.body.clone())?)?
        };
        let head = request.method == "HEAD";
        let mut reply = Reply::new(response.status().as_u16());
        for (name, value) in response.headers() {
            let lower = name.as_str().to_ascii_lowercase();
            // A HEAD answer keeps the upstream's length; others are re-measured.
            if SKIP_RESPONSE.contains(&lower.as_str()) || (lower == "content-length" && !head) {
                continue;
            }
            reply = reply.header(name.as_str(), String::from_utf8_lossy(value.as_bytes()));
        }
        if !head {
            let body = response
                .body_mut()
                .with_config()
                .limit(u64::MAX)
                .read_to_vec()?;
            reply = reply.body(body);
        }
        Ok(reply)
    }
}

/// `sha256:…` from `/v2/<name>/manifests/sha256:…`.
pub(crate) fn deleted_digest(path: &str) -> Option<&str> {
    let (_, reference) = path.strip_prefix("/v2/")?.rsplit_once("/manifests/")?;
    reference.starts_with("sha256:").then_some(reference)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_comes_from_a_manifest_path() {
        assert_eq!(
            deleted_digest("/v2/team/app/manifests/sha256:abc"),
            Some("sha256:abc")
        );
        assert_eq!(deleted_digest("/v2/team/app/manifests/v1"), None);
        assert_eq!(deleted_digest("/v2/team/app/blobs/sha256:abc"), None);
    }
}
