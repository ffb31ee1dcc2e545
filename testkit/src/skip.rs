//! Skipping a test, or a part of one, that cannot run on this machine, so that it shows.
//!
//! The test harness captures what a passing test prints, so a skip said with `println!` is lost
//! in `cargo test`'s output. [`skip`] writes past the capture (to the process's stderr) and, when
//! `TESTKIT_SKIP_LOG` names a file, appends one line to it: `scripts/test.sh` reads that file to
//! list every skip, with its reason, in its summary. Under `REQUIRE_ALL=1` (CI) a skip is a
//! failure, except for [`skip_optional`]: a tool or input CI may lack and the suite can do without.

use std::io::Write;

/// True when the run demands that every test runs (`REQUIRE_ALL=1`, set by CI's scripts/test.sh).
pub fn required() -> bool {
    std::env::var("REQUIRE_ALL").is_ok_and(|v| v == "1")
}

/// Says that `what` (a test, or `test: part`) is skipped and why; under `REQUIRE_ALL=1` it panics
/// instead, naming what to install.
pub fn skip(what: &str, why: &str) {
    assert!(
        !required(),
        "{what}: REQUIRE_ALL=1 and it cannot run here: {why}"
    );
    record(what, why);
}

/// As [`skip`], but never a failure: for inputs that only exist beside a developer's checkout
/// (`../shared/`, which a clean clone in CI does not have) and tools the suite can do without.
pub fn skip_optional(what: &str, why: &str) {
    record(what, why);
}

fn record(what: &str, why: &str) {
    let line = format!("SKIP {what}: {why}");
    let _ = writeln!(std::io::stderr(), "{line}");
    if let Some(path) = std::env::var_os("TESTKIT_SKIP_LOG") {
        // One write per line with O_APPEND: tests of several binaries may skip at once.
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = f.write_all(format!("{what}\t{why}\n").as_bytes());
        }
    }
}
