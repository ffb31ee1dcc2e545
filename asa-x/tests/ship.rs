//! The `asa-x` binary: its identity on the wire and in its output, over the shared frota command
//! line (which `caca-tie`'s tests cover in depth).
#![allow(clippy::unwrap_used)]

use testkit::{consts, servers};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_asa-x");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lands_as_the_rebel_x_wing() {
    let mut ds = servers::death_star().await;
    let o = Command::new(BIN)
        .args(["land", "--target", &ds.url()])
        .env_clear()
        .output()
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(o.stdout, b"Ship landed\n");
    ds.stop().await;

    let (envoy, seen) = servers::canned(consts::ENVOY_403).await;
    let o = Command::new(BIN)
        .args(["exhaust", "--name", "asa-x-1"])
        .env_clear()
        .env("DEATH_STAR_URL", format!("http://{envoy}"))
        .output()
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    let req = String::from_utf8(seen.lock().unwrap()[0].clone()).unwrap();
    assert!(req.contains("User-Agent: asa-x/"), "{req}");
    assert!(
        req.contains("(name=asa-x-1; org=alianca; class=asa-x)"),
        "{req}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_names_the_ship() {
    let o = Command::new(BIN).arg("--help").output().await.unwrap();
    assert_eq!(o.status.code(), Some(0));
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(help.contains("asa-x") && help.contains("alianca"), "{help}");
    for sub in ["land", "exhaust", "info", "patrol", "curl"] {
        assert!(help.contains(sub), "{sub} missing from {help}");
    }
    // The exit codes of a one-shot request, one line each.
    for line in [
        "  0  landed",
        "  3  denied",
        "  4  dropped",
        "  5  exploded",
        "  6  refused",
        "  7  reset",
        "  8  http_<code>",
        "  9  error",
    ] {
        assert!(help.contains(line), "{line:?} missing from {help}");
    }
    let o = Command::new(BIN)
        .args(["land", "--help"])
        .output()
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("  4  dropped"));
}
