//! The dashboard's [`Transport`]: the browser's `fetch`.
//!
//! It calls the global `fetch(url, options)` without building a `Request`
//! first. `cache: no-store`, so a re-check right before a DELETE never comes
//! from the HTTP cache; `credentials: omit`, so the browser's own login
//! dialog and cached logins stay out (the client sends `Authorization`
//! itself). Fetch follows redirects itself, and browsers drop
//! `Authorization` on a cross-origin redirect.

use std::time::Duration;

use cleanreg_core::{MAX_BODY_BYTES, Transport, TransportError};
use http::{HeaderName, HeaderValue, Method, Request, Response};
use time::OffsetDateTime;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::{JsValue, wasm_bindgen};
use wasm_bindgen_futures::JsFuture;
use web_sys::{RequestCache, RequestCredentials, RequestInit, RequestRedirect};

use crate::platform::timer;

/// Sends requests with `fetch`. Credentials travel only in the
/// `Authorization` header the client sets, never in the URL.
#[derive(Debug, Clone, Copy, Default)]
pub struct FetchTransport;

#[wasm_bindgen]
extern "C" {
    /// The global `fetch(url, options)`. Handing it the URL and options
    /// directly builds one request object per call; building a `Request`
    /// first (as gloo-net's builder does, twice) makes the browser build and
    /// copy it again, on every one of a scan's tens of thousands of requests.
    #[wasm_bindgen(js_name = fetch, catch)]
    fn fetch_with_init(url: &str, init: &RequestInit) -> Result<js_sys::Promise, JsValue>;
}

impl Transport for FetchTransport {
    async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        let (parts, body) = request.into_parts();
        let url = parts.uri.to_string();
        let refused = |e: JsValue| {
            TransportError(format!(
                "the browser refused to build a request to {url}: {}",
                js_text(&e)
            ))
        };
        let headers = web_sys::Headers::new().map_err(refused)?;
        for (name, value) in &parts.headers {
            let value = value.to_str().map_err(|_| {
                TransportError(format!(
                    "the {name} header of a request to {url} is not text; a browser cannot send it"
                ))
            })?;
            headers.append(name.as_str(), value).map_err(refused)?;
        }
        let init = RequestInit::new();
        init.set_method(parts.method.as_str());
        // A re-check right before a DELETE must see the registry, not the HTTP cache.
        init.set_cache(RequestCache::NoStore);
        init.set_redirect(RequestRedirect::Follow);
        // The client sends Authorization itself. Omitting browser credentials keeps the
        // browser's own login dialog and its cached logins out (a 401 with a Basic challenge
        // would otherwise open it), and a
        // cross-origin registry then needs no Access-Control-Allow-Credentials.
        init.set_credentials(RequestCredentials::Omit);
        init.set_headers(&headers);
        if has_body(&parts.method, &body) {
            init.set_body(&js_sys::Uint8Array::from(body.as_slice()));
        }
        let answer = JsFuture::from(fetch_with_init(&url, &init).map_err(refused)?)
            .await
            .map_err(|e| TransportError(failure_message(&url, &page_origin(), &js_text(&e))))?;
        let response = answer.dyn_into::<web_sys::Response>().map_err(|_| {
            TransportError(format!("the browser's fetch of {url} gave no response"))
        })?;
        into_http(response, &url).await
    }

    async fn sleep(&self, duration: Duration) {
        let millis = i32::try_from(duration.as_millis()).unwrap_or(i32::MAX);
        timer::sleep_ms(millis).await;
    }

    fn now(&self) -> OffsetDateTime {
        timer::now()
    }
}

/// The refusal of an answer longer than [`MAX_BODY_BYTES`].
fn too_large(url: &str, length: u64) -> TransportError {
    TransportError(format!(
        "the answer from {url} is {length} bytes, more than the {} MiB cleanreg reads; refused",
        MAX_BODY_BYTES / (1024 * 1024)
    ))
}

/// GET and HEAD may carry no body in `fetch`; others send theirs when they have one.
fn has_body(method: &Method, body: &[u8]) -> bool {
    !body.is_empty() && method != Method::GET && method != Method::HEAD
}

async fn into_http(
    response: web_sys::Response,
    url: &str,
) -> Result<Response<Vec<u8>>, TransportError> {
    let mut builder = Response::builder().status(response.status());
    let headers = response.headers();
    // Cross-origin, only the headers the registry exposes are readable.
    if let Ok(Some(entries)) = js_sys::try_iter(&headers) {
        for entry in entries.flatten() {
            let Some(pair) = entry.dyn_ref::<js_sys::Array>() else {
                continue;
            };
            let (Some(name), Some(value)) = (pair.get(0).as_string(), pair.get(1).as_string())
            else {
                continue;
            };
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                builder = builder.header(name, value);
            }
        }
    }
    // A runaway answer is refused before it is read, where its length is
    // announced (a cross-origin registry must expose Content-Length for that).
    let announced = headers
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(length) = announced.filter(|&length| length > MAX_BODY_BYTES) {
        return Err(too_large(url, length));
    }
    let broke_off = |e: JsValue| {
        TransportError(format!(
            "the answer from {url} broke off while reading its body: {}",
            js_text(&e)
        ))
    };
    let buffer = JsFuture::from(response.array_buffer().map_err(broke_off)?)
        .await
        .map_err(broke_off)?;
    let body = js_sys::Uint8Array::new(&buffer).to_vec();
    if body.len() as u64 > MAX_BODY_BYTES {
        return Err(too_large(url, body.len() as u64));
    }
    builder
        .body(body)
        .map_err(|e| TransportError(format!("unusable answer from {url}: {e}")))
}

/// A JavaScript error as "Name: message", as gloo-net words it; other
/// thrown values as the browser prints them.
fn js_text(value: &JsValue) -> String {
    match value.dyn_ref::<js_sys::Error>() {
        Some(error) => format!(
            "{}: {}",
            String::from(error.name()),
            String::from(error.message())
        ),
        None => value.as_string().unwrap_or_else(|| format!("{value:?}")),
    }
}

/// The page's own origin, e.g. `http://127.0.0.1:8080`; empty outside a browser.
pub fn page_origin() -> String {
    web_sys::window()
        .and_then(|window| window.location().origin().ok())
        .unwrap_or_default()
}

/// What a request that got no HTTP answer means, with the fixes. The browser
/// hides the cause (a CORS refusal looks like a dead server), so name each.
pub fn failure_message(url: &str, page_origin: &str, browser_said: &str) -> String {
    let same_origin = !page_origin.is_empty()
        && url
            .strip_prefix(page_origin)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?']));
    if same_origin {
        format!(
            "the browser says \"{browser_said}\" for {url}: the registry, or the proxy that \
             serves this page and forwards /v2/ to it, is probably down; check that both run \
             and that /v2/ is forwarded"
        )
    } else {
        format!(
            "the browser says \"{browser_said}\" for {url} and gives no reason. Likely causes: \
             1. the registry is down or the URL is wrong. \
             2. the registry sends no CORS headers for this page's origin {page_origin}; it needs \
             Access-Control-Allow-Origin: {page_origin}, \
             Access-Control-Allow-Methods: HEAD, GET, OPTIONS, DELETE, POST, PUT, \
             Access-Control-Allow-Headers: Authorization, Accept, Content-Type and \
             Access-Control-Expose-Headers: Docker-Content-Digest, Link, WWW-Authenticate, Location. \
             3. authentication is on and the registry refuses the browser's CORS preflight \
             (OPTIONS) with 401, as Distribution 2.8 does; then serve this page from the \
             registry's own origin behind a proxy that forwards /v2/, or put a proxy in front \
             that answers OPTIONS itself"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_origin_failures_point_at_the_server() {
        let text = failure_message(
            "http://127.0.0.1:8080/v2/",
            "http://127.0.0.1:8080",
            "TypeError: Failed to fetch",
        );
        assert!(text.contains("TypeError: Failed to fetch"), "{text}");
        assert!(text.contains("down"), "{text}");
        assert!(!text.contains("CORS"), "{text}");
    }

    #[test]
    fn cross_origin_failures_name_cors_and_the_preflight() {
        let text = failure_message(
            "http://registry.example:5000/v2/",
            "http://127.0.0.1:8080",
            "TypeError: Failed to fetch",
        );
        for needle in ["down", "CORS", "preflight", "401", "http://127.0.0.1:8080"] {
            assert!(text.contains(needle), "{needle} missing in {text}");
        }
        // A port prefix is not the same origin.
        let text = failure_message("http://127.0.0.1:80800/v2/", "http://127.0.0.1:8080", "x");
        assert!(text.contains("CORS"), "{text}");
    }

    #[test]
    fn only_non_get_requests_carry_a_body() {
        assert!(!has_body(&Method::GET, b"x"));
        assert!(!has_body(&Method::HEAD, b"x"));
        assert!(!has_body(&Method::DELETE, b""));
        assert!(has_body(&Method::PUT, b"x"));
    }
}
