//! A tag page with an arbitrary `Link` header (pagination): never a panic.
#![no_main]

use cleanreg_core::protocol::parse_tags;
use http::{HeaderValue, Response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(link) = HeaderValue::from_bytes(data) else {
        return;
    };
    let response = Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .header("link", link)
        .body(br#"{"name":"team/app","tags":["v1"]}"#.to_vec())
        .expect("a valid response");
    let _ = parse_tags("GET fuzz", &response);
});
