//! Cilium's own English getting-started manifests (deathstar, tiefighter, xwing, rule1) give the
//! same results as the book's Portuguese ones, under their own names.

mod galaxy_util;

use galaxy_util::{Galaxy, describe};

#[test]
fn cilium_english_manifests_behave_like_the_book() {
    let g = Galaxy::up(
        &["galaxia/testdata/cilium/http-sw-app.yaml"],
        &["--no-patrol"],
    );
    let land = "deathstar.default.svc.cluster.local/v1/request-landing";
    let exhaust = "deathstar.default.svc.cluster.local/v1/exhaust-port";
    let check = |pod: &str, args: &[&str], code: i32, body: &[u8]| {
        let out = g.curl(true, pod, args);
        assert_eq!(out.status.code(), Some(code), "{}", describe(args, &out));
        assert_eq!(out.stdout, body, "{}", describe(args, &out));
    };
    check("tiefighter", &["-s", "-XPOST", land], 0, b"Ship landed\n");
    check("xwing", &["-s", "-XPOST", land], 0, b"Ship landed\n");

    assert_eq!(
        g.ok(&[
            "create",
            "-f",
            "galaxia/testdata/cilium/sw_l3_l4_policy.yaml"
        ]),
        "ciliumnetworkpolicy.cilium.io/rule1 created\n"
    );
    check("tiefighter", &["-s", "-XPOST", land], 0, b"Ship landed\n");
    check("xwing", &["-s", "-m", "2", "-XPOST", land], 28, b"");

    assert_eq!(
        g.ok(&[
            "apply",
            "-f",
            "galaxia/testdata/cilium/sw_l3_l4_l7_policy.yaml"
        ]),
        "ciliumnetworkpolicy.cilium.io/rule1 configured\n"
    );
    check(
        "tiefighter",
        &["-s", "-XPUT", exhaust],
        0,
        b"Access denied\r\n",
    );
    check("tiefighter", &["-s", "-XPOST", land], 0, b"Ship landed\n");
    check("xwing", &["-s", "-m", "2", "-XPOST", land], 28, b"");

    // The header example: the exhaust port only for those who have the Force.
    assert_eq!(
        g.ok(&[
            "apply",
            "-f",
            "galaxia/testdata/cilium/sw_header_policy.yaml"
        ]),
        "ciliumnetworkpolicy.cilium.io/rule1 configured\n"
    );
    check(
        "tiefighter",
        &["-s", "-XPUT", exhaust],
        0,
        b"Access denied\r\n",
    );
    let flows = g.ok(&[
        "observe",
        "--pod",
        "tiefighter",
        "--verdict",
        "DROPPED",
        "--last",
        "100",
    ]);
    assert!(
        flows.contains("http-request DROPPED (HTTP/1.1 PUT http://deathstar.default.svc.cluster.local/v1/exhaust-port)"),
        "{flows}"
    );
    assert!(flows.contains("default/tiefighter:"), "{flows}");
}
