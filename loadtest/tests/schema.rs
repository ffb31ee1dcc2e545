//! `loadtest/report.schema.json` pins the shape of the `--json` report: it is a valid JSON Schema
//! (draft 2020-12), real reports of the binary match it (the harness checks every report any test
//! makes), and it is strict: a field more, a field less or an unknown name fails.
#![allow(clippy::unwrap_used)] // tests may unwrap: a failure is the test failing

mod util;

use serde_json::{Value, json};
use testkit::consts::{ENVOY_403, LANDED_200};
use util::{loadtest_async, schema_problems, stub};

#[test]
fn the_schema_is_a_valid_draft_2020_12_schema() {
    let schema: Value = serde_json::from_str(include_str!("../report.schema.json")).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    jsonschema::meta::validate(&schema).unwrap();
}

/// A report with every map filled: outcomes of several kinds, a 404, an Envoy denial, errors.
async fn varied_report() -> Value {
    let url = stub(|head| {
        if head.starts_with("PUT ") {
            ENVOY_403.to_vec()
        } else if head.starts_with("GET ") {
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n".to_vec()
        } else {
            LANDED_200.to_vec()
        }
    })
    .await;
    let run = loadtest_async(
        [
            url.as_str(),
            "-c",
            "2",
            "-n",
            "300",
            "--mix",
            "land=1,info=1,exhaust=1",
            "--warmup",
            "50ms",
        ]
        .map(String::from)
        .to_vec(),
    )
    .await;
    run.expect_code(0);
    let report = run.json().clone();
    for outcome in ["landed", "denied", "http_404"] {
        assert!(
            run.outcome(outcome) > 0,
            "no {outcome} in\n{}",
            run.describe()
        );
    }
    report
}

#[tokio::test]
async fn a_real_report_matches_and_any_change_of_shape_does_not() {
    let report = varied_report().await;
    assert_eq!(schema_problems(&report), Vec::<String>::new());

    type Edit = fn(&mut Value);
    let edits: [(&str, Edit); 12] = [
        ("a field more", |r| {
            r["colour"] = json!("red");
        }),
        ("a field less", |r| {
            r.as_object_mut().unwrap().remove("histogram");
        }),
        ("a latency field more", |r| {
            r["latency"]["p75_ms"] = json!(1.0);
        }),
        ("an unknown outcome", |r| {
            r["outcomes"]["flew"] = json!({"count": 1, "per_second": 1.0, "share": 0.1});
        }),
        ("an outcome field more", |r| {
            r["outcomes"]["landed"]["median"] = json!(1);
        }),
        ("an unknown request kind", |r| {
            r["by_kind"]["fly"] = json!({"landed": 1});
        }),
        ("an unknown outcome in a kind", |r| {
            r["by_kind"]["land"]["flew"] = json!(1);
        }),
        ("an unknown error kind", |r| {
            r["errors"]["dns"] = json!(1);
        }),
        ("a count that is not a whole number", |r| {
            r["requests"] = json!(1.5);
        }),
        ("an unknown model", |r| {
            r["model"] = json!("half-open");
        }),
        ("a bucket field more", |r| {
            r["histogram"]["buckets"][0]["ge_us"] = json!(1);
        }),
        ("a share above 1", |r| {
            r["outcomes"]["landed"]["share"] = json!(1.5);
        }),
    ];
    for (what, edit) in edits {
        let mut changed = report.clone();
        edit(&mut changed);
        assert!(
            !schema_problems(&changed).is_empty(),
            "the schema accepts {what}"
        );
    }
}
