//! `galaxia status` as `cilium status`, through the real binary: the logo block and the table
//! of a real galaxy, `--wait` until one is ready (and cilium-cli's timeout), and a non-zero exit
//! that says how to start a galaxy when none runs.

mod galaxy_util;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use galaxy_util::{Galaxy, MUST_HAPPEN, bin, describe};

fn status(control: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(bin())
        .arg("status")
        .args(args)
        .arg("--control-file")
        .arg(control)
        .env("GALAXIA_LOG_FORMAT", "human")
        .env_remove("GALAXIA_CONTROL_FILE")
        .stdin(Stdio::null())
        .output()
        .expect("run galaxia status")
}

#[test]
fn status_of_a_running_galaxy_reads_as_cilium_status() {
    let g = Galaxy::up(&["k8s/starwars.yml"], &["--no-patrol"]);
    let out = g.run(&["status"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", describe(&["status"], &out));
    let want_head = "    /¯¯\\\n /¯¯\\__/¯¯\\    Cilium:             OK\n \\__/¯¯\\__/    Operator:           disabled\n /¯¯\\__/¯¯\\    Envoy DaemonSet:    disabled (using embedded mode)\n \\__/¯¯\\__/    Hubble Relay:       OK\n    \\__/       ClusterMesh:        disabled\n\n";
    assert!(stdout.starts_with(want_head), "{stdout}");
    // The book's kind cluster: a control plane and three workers, one agent each.
    for line in [
        "DaemonSet              cilium          Desired: 4, Ready: 4/4, Available: 4/4\n",
        "Deployment             hubble-relay    Desired: 1, Ready: 1/1, Available: 1/1\n",
        "Deployment             hubble-ui       Desired: 1, Ready: 1/1, Available: 1/1\n",
        "Containers:            cilium          Running: 4\n",
        "Cluster Pods:          4/4 managed by Cilium\n",
        "Helm chart version:    \n",
        "Image versions         cilium          galaxia: 4\n",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
    assert!(
        !stdout.contains('\x1b'),
        "no colors off a terminal: {stdout:?}"
    );
    assert!(!stdout.contains("Warnings:"), "{stdout}");
    assert!(
        stdout.contains(&format!("one galaxia process (pid {})", g.pid())),
        "{stdout}"
    );

    // A replica that exploded is a warning until it is back.
    let panic = g.curl(
        true,
        "caca-tie",
        &[
            "-s",
            "-XPUT",
            &format!("{}/v1/exhaust-port", galaxy_util::SVC),
        ],
    );
    assert!(panic.status.success());
    let mut seen = false;
    galaxy_util::eventually("status warns of the exploded replica", || {
        let o = g.run(&["status"]);
        let s = String::from_utf8_lossy(&o.stdout).into_owned();
        seen = s.contains("Warnings:") && s.contains("pod is not ready");
        seen
    });
    // --wait: back to no warnings once the replica has restarted.
    let out = g.run(&["status", "--wait", "--wait-duration", "90s"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        describe(&["status", "--wait"], &out)
    );
    assert!(!stdout.contains("Warnings:"), "{stdout}");
}

#[test]
fn no_galaxy_is_an_error_that_says_how_to_start_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = status(&dir.path().join("control.json"), &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        describe(&["status"], &out)
    );
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no galaxy is running") && err.contains("galaxia up"),
        "{err}"
    );

    // --wait gives up after --wait-duration with cilium-cli's words.
    let start = Instant::now();
    let out = status(
        &dir.path().join("control.json"),
        &["--wait", "--wait-duration", "1s"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Error: Unable to determine status:  timeout while waiting for status to become successful: context deadline exceeded"),
        "{err}"
    );
    assert!(start.elapsed() < Duration::from_secs(30));
}

#[test]
fn a_galaxy_killed_with_kill_9_is_no_galaxy() {
    let mut g = Galaxy::up(&["k8s/starwars.yml"], &["--no-patrol"]);
    g.crash();
    assert!(
        g.control_file().exists(),
        "kill -9 leaves the discovery file"
    );
    let out = status(&g.control_file(), &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        describe(&["status"], &out)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no galaxy answers") && err.contains("galaxia up"),
        "{err}"
    );
}

#[test]
fn wait_waits_for_a_galaxy_to_start_and_be_ready() {
    let dir = tempfile::tempdir().expect("temp dir");
    let control = dir.path().join("control.json");
    let mut waiting = Command::new(bin())
        .args([
            "status",
            "--wait",
            "--wait-duration",
            "120s",
            "--control-file",
        ])
        .arg(&control)
        .env_remove("GALAXIA_CONTROL_FILE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn galaxia status --wait");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        waiting.try_wait().expect("try_wait").is_none(),
        "status --wait returned before any galaxy ran"
    );
    let g = Galaxy::up_in(dir, &["k8s/starwars.yml"], &["--no-patrol"]);
    let start = Instant::now();
    while waiting.try_wait().expect("try_wait").is_none() {
        assert!(
            start.elapsed() < MUST_HAPPEN,
            "status --wait never returned\n{}",
            g.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = waiting.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Cilium:             OK"), "{stdout}");
    assert!(
        stdout.contains("Cluster Pods:          4/4 managed by Cilium"),
        "{stdout}"
    );
    assert!(!stdout.contains("Warnings:"), "{stdout}");
}
