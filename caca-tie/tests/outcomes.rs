//! One outcome model: the same answer gets the same outcome, and the same failure kind, in a
//! ship (`caca-tie land`) and in `loadtest` (`-n 1 --json`). A malformed answer and an
//! oversized head used to be `reset` in the ships and `error` in loadtest.
//!
//! The loadtest binary is the one cargo built beside this package's (`cargo test -p caca-tie -p
//! loadtest`, or the whole workspace); without it that half is skipped (testkit::skip).
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use testkit::{consts, servers};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_caca-tie");

fn loadtest() -> Option<PathBuf> {
    let p = PathBuf::from(BIN).parent()?.join("loadtest");
    if p.exists() {
        Some(p)
    } else {
        testkit::skip::skip(
            "caca-tie outcomes: loadtest's half",
            &format!(
                "{} not built (cargo test -p caca-tie -p loadtest)",
                p.display()
            ),
        );
        None
    }
}

/// What `caca-tie land` makes of the answer: exit code and the `outcome (failure)` it names.
async fn ship(url: &str) -> (i32, String) {
    let o = Command::new(BIN)
        .args(["land", "--timeout", "5s", "--target", url])
        .env_clear()
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    // "caca-tie: land: error (malformed): ..."
    let named = stderr
        .strip_prefix("caca-tie: land: ")
        .and_then(|r| r.split(':').next())
        .unwrap_or_default()
        .to_string();
    (o.status.code().unwrap_or(-1), named)
}

/// `loadtest URL -n 1 --json`: the outcome counts and the error kinds of the report.
async fn load(lt: &PathBuf, url: &str) -> (serde_json::Value, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let o = Command::new(lt)
        .args([url, "-n", "1", "--timeout", "5s", "--json"])
        .arg(&json)
        .env_clear()
        .output()
        .await
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let outcomes: serde_json::Map<String, serde_json::Value> = report["outcomes"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v["count"].clone()))
        .collect();
    (outcomes.into(), report["errors"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_or_oversized_answer_is_the_same_error_in_a_ship_and_in_loadtest() {
    // Well above the outcome model's 64 KiB (frota::outcome::MAX_HEAD_BYTES), below hyper's
    // own 400 KiB: the ships apply the shared limit, not their HTTP library's. (loadtest
    // checks its limit only while a head is incomplete, so its cut lies somewhere between
    // 64 and 128 KiB; 200 KiB is over it however the reads fall.)
    let oversized = consts::landed_with_big_header(200 * 1024);
    let cases: [(&'static [u8], &str); 3] = [
        (consts::BAD_STATUS, "malformed"),
        (b"hello there\r\n\r\n", "malformed"),
        (oversized, "head_too_large"),
    ];
    for (answer, kind) in cases {
        let (addr, _) = servers::canned(answer).await;
        let url = format!("http://{addr}");
        let (code, named) = ship(&url).await;
        assert_eq!(
            (code, named.as_str()),
            (9, format!("error ({kind})").as_str()),
            "{kind}"
        );
        if let Some(lt) = loadtest() {
            let (outcomes, errors) = load(&lt, &url).await;
            assert_eq!(outcomes, serde_json::json!({"error": 1}), "{kind}");
            assert_eq!(errors[kind], 1, "{kind}: {errors}");
        }
    }
    // The line between `reset` and `error`: a body cut short is `reset` in both.
    let (addr, _) = servers::canned(consts::BODY_CUT_SHORT).await;
    let url = format!("http://{addr}");
    assert_eq!(ship(&url).await, (7, "reset".to_string()));
    if let Some(lt) = loadtest() {
        let (outcomes, _) = load(&lt, &url).await;
        assert_eq!(outcomes, serde_json::json!({"reset": 1}));
    }
}
