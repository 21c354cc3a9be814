//! Token server answers: never a panic, whatever the JSON says.
#![no_main]

use cleanreg_core::parse_token_response;
use http::Response;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let response = Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(data.to_vec())
        .expect("a valid response");
    let now = time::macros::datetime!(2026-11-27 12:00 UTC);
    let _ = parse_token_response("https://auth.example/token", &response, now);
});
