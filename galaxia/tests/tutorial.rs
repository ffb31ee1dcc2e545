//! `galaxia tutorial` runs the book's tutorial end to end and passes, in both languages' narration
//! (the checks are the same; one run in English keeps CI time down, the Portuguese texts are
//! checked for presence).

use std::process::Command;

#[test]
fn the_tutorial_passes() {
    let out = Command::new(env!("CARGO_BIN_EXE_galaxia"))
        .args(["tutorial", "--lang", "en"])
        .env("GALAXIA_LOG_FORMAT", "human")
        .env_remove("RUST_LOG")
        // From a directory without k8s/: the book's files are built in.
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run galaxia tutorial");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "tutorial failed: {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    assert!(
        stdout.contains("Tutorial complete: every step behaved as the book says."),
        "{stdout}"
    );
    assert!(!stdout.contains("FAILED"), "{stdout}");
    for step in [
        "Both ships land",
        "L3/L4 policy",
        "The exhaust port",
        "L7 policy",
        "Cleanup",
    ] {
        assert!(stdout.contains(step), "missing step {step}: {stdout}");
    }
    assert!(stdout.contains("Access denied"), "{stdout}");
    // Every step points to the web UI, at the galaxy's own address.
    let ui_lines = stdout
        .lines()
        .filter(|l| {
            l.trim_start()
                .starts_with("In the Hubble UI (http://127.0.0.1:")
        })
        .count();
    assert_eq!(ui_lines, 6, "one pointer to the web UI a step: {stdout}");
    assert!(
        stdout.contains("ciliumnetworkpolicy.cilium.io/regra1 configured"),
        "{stdout}"
    );
    // The galaxy's log lines go to the file the first line names, never into the narration.
    assert!(
        stdout.lines().next().is_some_and(|l| l.starts_with(
            "The galaxy's logs (warnings, the explosion, the restarts) go to the file "
        )),
        "{stdout}"
    );
    for l in stdout.lines().chain(stderr.lines()) {
        assert!(!l.trim_start().starts_with('{'), "a JSON line: {l}");
    }
    assert!(
        !stderr.contains(" WARN ") && !stderr.contains(" INFO "),
        "log lines on stderr: {stderr}"
    );
}
