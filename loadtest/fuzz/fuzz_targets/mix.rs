//! Fuzz `--mix` parsing (`frota::Mix` via `str::parse`): no input may panic, and an accepted mix
//! prints as text that parses back to the same mix, with every pick one of its kinds.

#![no_main]

use frota::Mix;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(mix) = text.parse::<Mix>() else {
        return;
    };
    let shown = mix.to_string();
    let again: Mix = shown.parse().expect("a mix's text parses back");
    assert_eq!(again, mix, "{text:?} -> {shown:?}");
    let total = mix.total_weight();
    assert!(total > 0);
    for n in [0, 1, total / 2, total - 1, total, u32::MAX] {
        let kind = mix.pick(n);
        assert!(
            mix.share(kind) > 0.0,
            "{text:?}: pick({n}) = {kind} has no weight"
        );
    }
});
