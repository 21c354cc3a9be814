//! `WWW-Authenticate` challenges as a registry or a hostile proxy sends them.
#![no_main]

use cleanreg_core::parse_www_authenticate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_www_authenticate(text);
    }
});
