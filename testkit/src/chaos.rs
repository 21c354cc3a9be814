//! A proxy in front of a real registry that injects faults, chosen from a
//! seed: server errors, rate limits with and without `Retry-After`,
//! connection resets (before the registry saw the request, and after it
//! acted on it), slow answers, cut-off bodies, a wrong
//! `Docker-Content-Digest`, and HTML error pages. The same seed and rate
//! give the same decision for the n-th request.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use crate::faulty::{FaultyServer, Reply, SeenRequest, lock};
use crate::proxy::Upstream;

/// A fault the proxy can inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// 500 with a registry error body; the registry never saw the request.
    Status500,
    /// 502 from "a proxy"; not forwarded.
    Status502,
    /// 503; not forwarded.
    Status503,
    /// 429 with `Retry-After: 1`; not forwarded.
    RateLimitedRetryAfter,
    /// 429 without `Retry-After`; not forwarded.
    RateLimited,
    /// The connection is reset before forwarding.
    Reset,
    /// Forwarded (the registry acted on it), then the connection is reset:
    /// the client never learns the answer.
    ResetAfterForward,
    /// Forwarded, then a 502 HTML page: a proxy that gave up waiting.
    GatewayErrorAfterForward,
    /// Forwarded, answered late.
    Slow,
    /// Forwarded, the body cut off halfway (a body-less answer is reset).
    TruncatedBody,
    /// Forwarded, with another `Docker-Content-Digest` (where there is one).
    WrongDigest,
    /// A 503 HTML maintenance page; not forwarded.
    HtmlErrorPage,
    /// A 200 HTML page instead of the answer (a captive portal) for a GET;
    /// other methods get the 503 HTML page. Not forwarded.
    HtmlOk,
}

impl Fault {
    pub const ALL: [Fault; 13] = [
        Fault::Status500,
        Fault::Status502,
        Fault::Status503,
        Fault::RateLimitedRetryAfter,
        Fault::RateLimited,
        Fault::Reset,
        Fault::ResetAfterForward,
        Fault::GatewayErrorAfterForward,
        Fault::Slow,
        Fault::TruncatedBody,
        Fault::WrongDigest,
        Fault::HtmlErrorPage,
        Fault::HtmlOk,
    ];
}

/// How often and how the proxy fails.
#[derive(Debug, Clone, Copy)]
pub struct ChaosOptions {
    pub seed: u64,
    /// Share of requests that get a fault, in percent (0 to 100).
    pub rate_percent: u32,
    /// How late a [`Fault::Slow`] answer comes.
    pub slow: Duration,
    /// Every DELETE waits this long before it is forwarded, so it is still
    /// in flight when a test presses Stop.
    pub delete_delay: Duration,
}

struct State {
    upstream: Upstream,
    options: Mutex<ChaosOptions>,
    counter: AtomicU64,
    injected: Mutex<BTreeMap<Fault, usize>>,
}

/// A running chaos proxy on a free loopback port; dropping it stops it.
pub struct ChaosProxy {
    state: Arc<State>,
    server: FaultyServer,
}

impl fmt::Debug for ChaosProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChaosProxy")
            .field("url", &self.server.url())
            .field("upstream", &self.state.upstream.base)
            .finish_non_exhaustive()
    }
}

impl ChaosProxy {
    /// Forwards to `upstream` (a registry base URL), injecting faults.
    pub fn start(upstream: &str, options: ChaosOptions) -> io::Result<ChaosProxy> {
        let state = Arc::new(State {
            upstream: Upstream::new(upstream),
            options: Mutex::new(options),
            counter: AtomicU64::new(0),
            injected: Mutex::new(BTreeMap::new()),
        });
        let server = {
            let state = Arc::clone(&state);
            FaultyServer::start(move |request| state.handle(request))?
        };
        Ok(ChaosProxy { state, server })
    }

    /// Base URL without trailing slash.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Changes the fault rate from now on (0 turns the faults off).
    pub fn set_rate(&self, rate_percent: u32) {
        lock(&self.state.options).rate_percent = rate_percent;
    }

    /// How many faults of each kind were injected so far.
    pub fn injected(&self) -> BTreeMap<Fault, usize> {
        lock(&self.state.injected).clone()
    }

    /// Every request that reached the proxy.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.server.requests()
    }
}

/// splitmix64: a well-mixed 64-bit value from a counter.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The fault, if any, for the `n`-th request under this seed and rate.
fn decide(seed: u64, rate_percent: u32, n: u64) -> Option<Fault> {
    let roll = mix(seed ^ mix(n));
    if roll % 100 >= u64::from(rate_percent) {
        return None;
    }
    Some(Fault::ALL[((roll >> 32) % Fault::ALL.len() as u64) as usize])
}

fn error_json(status: u16, code: &str) -> Reply {
    Reply::json(
        status,
        &json!({"errors": [{"code": code, "message": "injected by the chaos proxy", "detail": null}]}),
    )
}

fn html(status: u16, title: &str) -> Reply {
    Reply::new(status)
        .header("Content-Type", "text/html")
        .body(format!(
            "<html><head><title>{title}</title></head><body><h1>{title}</h1><hr>chaos proxy</body></html>"
        ))
}

impl State {
    fn choose(&self) -> Option<Fault> {
        let options = *lock(&self.options);
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        decide(options.seed, options.rate_percent, n)
    }

    fn handle(&self, request: &SeenRequest) -> Reply {
        if request.method == "DELETE" {
            let delay = lock(&self.options).delete_delay;
            std::thread::sleep(delay);
        }
        let Some(fault) = self.choose() else {
            return self.upstream.forward_or_502(request);
        };
        *lock(&self.injected).entry(fault).or_default() += 1;
        let slow = lock(&self.options).slow;
        match fault {
            Fault::Status500 => error_json(500, "UNKNOWN"),
            Fault::Status502 => html(502, "502 Bad Gateway"),
            Fault::Status503 => error_json(503, "UNAVAILABLE"),
            Fault::RateLimitedRetryAfter => {
                error_json(429, "TOOMANYREQUESTS").header("Retry-After", "1")
            }
            Fault::RateLimited => error_json(429, "TOOMANYREQUESTS"),
            Fault::Reset => Reply::reset(),
            Fault::ResetAfterForward => {
                let _ = self.upstream.forward_or_502(request);
                Reply::reset()
            }
            Fault::GatewayErrorAfterForward => {
                let _ = self.upstream.forward_or_502(request);
                html(502, "502 Bad Gateway")
            }
            Fault::Slow => self.upstream.forward_or_502(request).delay(slow),
            Fault::TruncatedBody => {
                let reply = self.upstream.forward_or_502(request);
                match reply.body_len() {
                    0 => Reply::reset(),
                    n => reply.truncate_body_at(n / 2),
                }
            }
            Fault::WrongDigest => {
                let reply = self.upstream.forward_or_502(request);
                if reply.header_value("Docker-Content-Digest").is_some() {
                    reply.replace_header(
                        "Docker-Content-Digest",
                        format!("sha256:{}", "0".repeat(64)),
                    )
                } else {
                    error_json(500, "UNKNOWN")
                }
            }
            Fault::HtmlErrorPage => html(503, "Down for maintenance"),
            Fault::HtmlOk if request.method == "GET" => html(200, "Please sign in"),
            Fault::HtmlOk => html(503, "Down for maintenance"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_kept_and_every_fault_comes_up() {
        let mut faults = 0;
        let mut kinds = std::collections::BTreeSet::new();
        for n in 0..10_000u64 {
            if let Some(fault) = decide(7, 20, n) {
                faults += 1;
                kinds.insert(fault);
            }
        }
        assert!((1_800..2_200).contains(&faults), "{faults}");
        assert_eq!(kinds.len(), Fault::ALL.len());
    }
}
