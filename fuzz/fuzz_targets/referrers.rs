//! A referrers API answer (an OCI index of descriptors, or anything else)
//! with a `Link` header: the descriptors or an error, never a panic.
#![no_main]

use cleanreg_core::protocol::parse_referrers;
use http::Response;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let response = Response::builder()
        .status(200)
        .header("content-type", "application/vnd.oci.image.index.v1+json")
        .header("link", "</v2/team/app/referrers/x?n=1&last=y>; rel=\"next\"")
        .body(data.to_vec())
        .expect("a valid response");
    if let Err(error) = parse_referrers("GET fuzz", &response) {
        let _ = error.to_string();
    }
});
