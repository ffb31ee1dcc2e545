//! Fuzz the manifest loader and the policy compiler with arbitrary text, and then the engine with
//! whatever loaded: no input may panic, hang or exhaust memory.

#![no_main]

use galaxia::manifest::load_str;
use libfuzzer_sys::fuzz_target;
use politica::{HttpRequest, Protocol};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(manifests) = load_str(text, "fuzz") else {
        return;
    };
    let policies = manifests.policy_set();
    let endpoints: Vec<_> = manifests
        .pods()
        .iter()
        .take(8)
        .map(|p| p.endpoint())
        .collect();
    let headers = http::HeaderMap::new();
    let request = HttpRequest {
        method: "POST",
        path: "/v1/request-landing",
        host: "estrela-da-morte",
        headers: &headers,
    };
    for src in &endpoints {
        for dst in &endpoints {
            for port in [80, 8080] {
                let verdict = policies.connection(src, dst, port, Protocol::Tcp);
                let _ = verdict.explain(src, dst, port, Protocol::Tcp);
                if let Some(http) = verdict.http(&request) {
                    let _ = http.explain(&request);
                }
            }
        }
    }
});
