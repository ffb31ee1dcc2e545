//! Fuzz `--fail-if` parsing (loadtest's `Condition` via `str::parse`): no input may panic, an
//! accepted condition prints as the text it was given, and checking it against a report never
//! panics.

#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use frota::Mix;
use libfuzzer_sys::fuzz_target;
use loadtest::collector::Tally;
use loadtest::plan::{Flags, Plan};
use loadtest::{Condition, Report};

/// A report of an empty run: every figure 0, the case where a share divides by nothing.
fn report() -> &'static Report {
    static REPORT: OnceLock<Report> = OnceLock::new();
    REPORT.get_or_init(|| {
        let plan = Plan::new(&Flags {
            url: "http://127.0.0.1:1",
            connections: 1,
            rate: None,
            duration: None,
            requests: Some(1),
            warmup: Duration::ZERO,
            mix: &Mix::default(),
            timeout: Duration::from_secs(1),
            host: None,
            proxy: None,
            keepalive: true,
            threads: None,
        })
        .expect("constant flags make a plan");
        Report::new(&plan, &Tally::new(), Duration::ZERO, 0)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(condition) = text.parse::<Condition>() else {
        return;
    };
    assert_eq!(condition.to_string(), text);
    let _ = condition.value(report());
    let _ = condition.holds(report());
});
