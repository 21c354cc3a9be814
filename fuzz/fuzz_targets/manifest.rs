//! Manifests and indexes under every content type a registry may send, as
//! parsed and as fetched (digest checks included): never a panic.
#![no_main]

use cleanreg_core::parse_manifest;
use cleanreg_core::protocol::{Reference, parse_manifest_response};
use http::Response;
use libfuzzer_sys::fuzz_target;

const TYPES: [&str; 8] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/json",
    "text/html",
    "",
];

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    let content_type = TYPES[usize::from(which) % TYPES.len()];
    let _ = parse_manifest((!content_type.is_empty()).then_some(content_type), body);
    let mut response = Response::builder().status(200);
    if !content_type.is_empty() {
        response = response.header("content-type", content_type);
    }
    let response = response.body(body.to_vec()).expect("a valid response");
    let reference = Reference::Tag("v1".parse().expect("a tag"));
    let _ = parse_manifest_response("GET fuzz", &reference, &response);
});
