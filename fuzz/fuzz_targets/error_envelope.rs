//! Error answers (the registry's `{"errors": [...]}` envelope, HTML pages,
//! garbage) under any status: the message is built, never a panic.
#![no_main]

use cleanreg_core::protocol::parse_delete;
use http::Response;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&status, body)) = data.split_first() else {
        return;
    };
    let status = 400 + u16::from(status) % 200;
    let response = Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body.to_vec())
        .expect("a valid response");
    if let Err(error) = parse_delete("DELETE fuzz", &response) {
        let _ = error.to_string();
    }
});
