//! Fuzz the ships' curl front end's command line: arbitrary arguments (NUL-separated in the
//! input) through `frota::curl::plan`, which parses them, reads every URL and proxy the way
//! `curl` would and builds each request head, without any I/O. No input may panic or hang.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let args: Vec<String> = data
        .split(|b| *b == 0)
        .take(64)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    for a in &args {
        // Every word as a URL and as a proxy: a port, when accepted, fits in a u16 by type;
        // what matters is that no string makes either panic.
        let _ = frota::transport::HttpTarget::parse(a);
        let _ = frota::proxy::parse_proxy(a);
    }
    if let Ok(plans) = frota::curl::plan(&args) {
        for head in plans.into_iter().flatten() {
            // A planned request is always a request line first, as `-v` shows it.
            assert!(head.starts_with(b"> "), "{}", String::from_utf8_lossy(&head));
        }
    }
});
