//! The original's repository file, both formats: never a panic; a file that
//! parses becomes a policy or a message, with and without `-re`.
#![no_main]

use cleanreg_core::{Rule, parse_reposfile, reposfile_policy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_reposfile(text) {
        Ok(file) => {
            for regex in [false, true] {
                let _ = reposfile_policy("fuzz", &file, &Rule::keep_newest(3), regex);
            }
        }
        Err(error) => assert!(error.line >= 1, "an error names a line: {error}"),
    }
});
