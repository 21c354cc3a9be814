//! Policy files in TOML and JSON: never a panic, and a policy that parses
//! reads back the same from both of its exports.
#![no_main]

use cleanreg_core::Policy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = [Policy::from_toml(text), Policy::from_json(text)];
    for policy in parsed.into_iter().flatten() {
        assert_eq!(Policy::from_toml(&policy.to_toml()).as_ref(), Ok(&policy));
        assert_eq!(
            Policy::from_json(&policy.to_json_pretty()).as_ref(),
            Ok(&policy)
        );
    }
});
