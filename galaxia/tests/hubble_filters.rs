//! Hubble's flow filters and `hubble observe`'s request building against the real Hubble CLI
//! v0.13.6: `testdata/hubble/filters.golden` holds what it printed for each command line of
//! `filters.args` on the fixture flows (its own filter code runs on `--input-file`), and
//! `raw-filters.golden` the filters it builds (`--print-raw-filters`) for `raw-filters.args`.
//! Then the filter API itself: each field, AND inside a filter, OR across filters, the
//! blacklist, and Cilium's messages for filters that cannot be built.

mod hubble_golden;

use clap::{Args as _, FromArgMatches as _};
use galaxia::hubble::filter::{self, FilterError};
use galaxia::hubble::json;
use galaxia::hubble::proto::flow::{EventTypeFilter, Flow, FlowFilter, HttpHeader, TcpFlags};
use galaxia::hubble::proto::observer::get_flows_response::ResponseTypes;
use galaxia::hubble::request::{FilterArg, FilterFlag, ObserveFlags, RequestError};
use hubble_golden::{check_golden, fixture_lines, input_file_prefix, words};

#[test]
fn observe_filters_and_selectors_match_the_oracle() {
    check_golden("filters.golden", &input_file_prefix());
}

#[test]
fn raw_filters_match_the_oracle() {
    check_golden("raw-filters.golden", &["--print-raw-filters".to_string()]);
}

/// The fixture's flows (lost events left out).
fn flows() -> Vec<Flow> {
    fixture_lines()
        .iter()
        .filter_map(|l| {
            match json::parse_get_flows_response(l)
                .expect("fixture")
                .response_types
            {
                Some(ResponseTypes::Flow(f)) => Some(f),
                _ => None,
            }
        })
        .collect()
}

/// The uuids' last digits (the fixture numbers its flows) of the flows passing the filters.
fn passing(white: &[FlowFilter], black: &[FlowFilter]) -> Vec<u32> {
    let f = filter::compile(white, black).expect("filters build");
    flows()
        .iter()
        .filter(|fl| f.matches(fl))
        .map(|fl| u32::from_str_radix(&fl.uuid[4..8], 16).expect("fixture uuid"))
        .collect()
}

fn ff() -> FlowFilter {
    FlowFilter::default()
}

#[test]
fn each_field_alone() {
    let all = passing(&[], &[]);
    assert_eq!(all.len(), 32);
    assert_eq!(
        passing(
            &[FlowFilter {
                uuid: vec!["5f0c0003-7d3e-4b8a-9c21-a0b1c2d30003".into()],
                ..ff()
            }],
            &[]
        ),
        [3]
    );
    assert_eq!(
        passing(
            &[FlowFilter {
                verdict: vec![5],
                ..ff()
            }],
            &[]
        ),
        [12]
    );
    assert_eq!(
        passing(
            &[FlowFilter {
                source_ip: vec!["203.0.113.0/24".into()],
                ..ff()
            }],
            &[]
        ),
        [22]
    );
    assert_eq!(
        passing(
            &[FlowFilter {
                destination_pod: vec!["imperio/hangar".into()],
                ..ff()
            }],
            &[]
        ),
        [26]
    );
    // A name without a namespace is in `default`.
    assert_eq!(
        passing(
            &[FlowFilter {
                destination_pod: vec!["hangar".into()],
                ..ff()
            }],
            &[]
        ),
        Vec::<u32>::new()
    );
    assert_eq!(
        passing(
            &[FlowFilter {
                destination_service: vec!["docas/hangar".into()],
                ..ff()
            }],
            &[]
        ),
        [26]
    );
    assert_eq!(
        passing(
            &[FlowFilter {
                source_label: vec!["reserved:host".into()],
                ..ff()
            }],
            &[]
        ),
        [23]
    );
    assert_eq!(
        passing(
            &[FlowFilter {
                destination_identity: vec![102],
                ..ff()
            }],
            &[]
        ),
        [29]
    );
    assert_eq!(
        passing(
            &[FlowFilter {
                protocol: vec!["UDP".into()],
                ..ff()
            }],
            &[]
        ),
        [29]
    );
    assert_eq!(
        passing(
            &[FlowFilter {
                http_status_code: vec!["5+".into()],
                ..ff()
            }],
            &[]
        ),
        [18]
    );
    assert_eq!(
        passing(
            &[FlowFilter {
                http_method: vec!["get".into()],
                ..ff()
            }],
            &[]
        ),
        [19, 20]
    );
    assert_eq!(
        passing(
            &[FlowFilter {
                http_path: vec!["^/v1/$".into()],
                ..ff()
            }],
            &[]
        ),
        [19, 20]
    );
    assert_eq!(
        passing(
            &[FlowFilter {
                http_header: vec![HttpHeader {
                    key: "x-ship".into(),
                    value: "asa-x".into()
                }],
                ..ff()
            }],
            &[]
        ),
        [19]
    );
    assert_eq!(
        passing(
            &[FlowFilter {
                tcp_flags: vec![TcpFlags {
                    rst: true,
                    ..TcpFlags::default()
                }],
                ..ff()
            }],
            &[]
        ),
        [255]
    );
    assert_eq!(
        passing(
            &[FlowFilter {
                node_name: vec!["outra/".into()],
                ..ff()
            }],
            &[]
        ),
        [26]
    );
    assert_eq!(
        passing(
            &[FlowFilter {
                ip_version: vec![2],
                ..ff()
            }],
            &[]
        ),
        [27, 28]
    );
    assert_eq!(
        passing(
            &[FlowFilter {
                destination_fqdn: vec!["*.example".into()],
                ..ff()
            }],
            &[]
        ),
        [21]
    );
    assert_eq!(
        passing(
            &[FlowFilter {
                event_type: vec![EventTypeFilter {
                    r#type: 4,
                    match_sub_type: true,
                    sub_type: 1
                }],
                ..ff()
            }],
            &[]
        ),
        [13]
    );
    // Drops have no reply flag: they count as not replies.
    let not_replies = passing(
        &[FlowFilter {
            reply: vec![false],
            ..ff()
        }],
        &[],
    );
    assert!(
        not_replies.contains(&11) && !not_replies.contains(&2),
        "{not_replies:?}"
    );
}

#[test]
fn fields_and_inside_a_filter_or_across_filters_and_the_blacklist() {
    let tie_to_80 = FlowFilter {
        source_pod: vec!["caca-tie".into()],
        destination_port: vec!["80".into()],
        verdict: vec![2],
        ..ff()
    };
    assert_eq!(passing(std::slice::from_ref(&tie_to_80), &[]), [16, 24]);
    let asa_x = FlowFilter {
        source_pod: vec!["asa-x".into()],
        ..ff()
    };
    assert_eq!(
        passing(&[tie_to_80, asa_x.clone()], &[]),
        [10, 11, 16, 19, 24, 27, 30]
    );
    // Values of one field OR.
    assert_eq!(
        passing(
            &[FlowFilter {
                verdict: vec![5, 2],
                source_pod: vec!["caca".into()],
                ..ff()
            }],
            &[]
        ),
        [12, 16, 24]
    );
    // The blacklist removes what any of its filters matches.
    let drops = FlowFilter {
        verdict: vec![2],
        ..ff()
    };
    let l7 = FlowFilter {
        event_type: vec![EventTypeFilter {
            r#type: 129,
            ..EventTypeFilter::default()
        }],
        ..ff()
    };
    assert_eq!(passing(&[asa_x], &[drops, l7]), [27]);
}

#[test]
fn invalid_filters_have_ciliums_messages() {
    let err = |f: FlowFilter| filter::compile(&[f], &[]).expect_err("refused").to_string();
    assert_eq!(
        err(FlowFilter {
            source_ip: vec!["10.0.0.0/33".into()],
            ..ff()
        }),
        "invalid CIDR in filter: \"10.0.0.0/33\""
    );
    assert_eq!(
        err(FlowFilter {
            destination_ip: vec!["nope".into()],
            ..ff()
        }),
        "invalid IP address in filter: \"nope\""
    );
    assert_eq!(
        err(FlowFilter {
            source_pod: vec![String::new()],
            ..ff()
        }),
        "invalid filter, name must not be empty"
    );
    assert_eq!(
        err(FlowFilter {
            destination_service: vec![String::new()],
            ..ff()
        }),
        "invalid destination service filter: invalid filter, name must not be empty"
    );
    assert_eq!(
        err(FlowFilter {
            source_port: vec!["99999".into()],
            ..ff()
        }),
        "invalid source port filter: invalid port \"99999\": strconv.ParseUint: parsing \"99999\": value out of range"
    );
    assert_eq!(
        err(FlowFilter {
            protocol: vec!["foo".into()],
            ..ff()
        }),
        "invalid protocol filter: unknown protocol: \"foo\""
    );
    assert_eq!(
        err(FlowFilter {
            http_method: vec!["get".into()],
            event_type: vec![EventTypeFilter {
                r#type: 4,
                ..EventTypeFilter::default()
            }],
            ..ff()
        }),
        "filtering by http method requires the event type filter to only match 'l7' events"
    );
    assert_eq!(
        err(FlowFilter {
            http_path: vec!["(".into()],
            ..ff()
        }),
        "invalid http path filter: (: error parsing regexp: missing closing ): `(`"
    );
    assert_eq!(
        err(FlowFilter {
            node_name: vec!["a/b/c".into()],
            ..ff()
        }),
        "too many slashes in pattern"
    );
    assert_eq!(
        err(FlowFilter {
            source_fqdn: vec!["a$".into()],
            ..ff()
        }),
        "'$': invalid rune in pattern"
    );
    assert!(matches!(
        filter::compile(
            &[],
            &[FlowFilter {
                destination_label: vec!["a b".into()],
                ..ff()
            }]
        ),
        Err(FilterError::Label { .. })
    ));
    // The first problem in Cilium's field order is the one reported.
    assert_eq!(
        err(FlowFilter {
            source_port: vec!["x".into()],
            protocol: vec!["nope".into()],
            ..ff()
        }),
        "invalid protocol filter: unknown protocol: \"nope\""
    );
}

/// `hubble observe`'s flags as clap parses them for `galaxia observe` (order recovered).
fn flags(line: &str) -> ObserveFlags {
    let cmd = ObserveFlags::augment_args(clap::Command::new("observe").no_binary_name(true));
    let m = cmd
        .try_get_matches_from(words(line))
        .expect("the flags parse");
    ObserveFlags::from_arg_matches(&m).expect("the flags read")
}

#[test]
fn filter_flags_keep_their_command_line_order() {
    let f = flags(
        "--pod a --not --to-port 80 -4 --not=true -l org=imperio -n default --verdict DROPPED",
    );
    let got: Vec<(FilterFlag, &str)> = f
        .filters
        .iter()
        .map(|a| (a.flag, a.value.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (FilterFlag::Pod, "a"),
            (FilterFlag::Not, "true"),
            (FilterFlag::ToPort, "80"),
            (FilterFlag::Ipv4, "v4"),
            (FilterFlag::Not, "true"),
            (FilterFlag::Label, "org=imperio"),
            (FilterFlag::Namespace, "default"),
            (FilterFlag::Verdict, "DROPPED"),
        ]
    );
    let p = f.parse().expect("valid");
    let json: Vec<String> = p.blacklist.iter().map(json::flow_filter).collect();
    assert_eq!(
        json,
        [
            "{\"source_label\":[\"org=imperio\"],\"destination_port\":[\"80\"]}",
            "{\"destination_label\":[\"org=imperio\"],\"destination_port\":[\"80\"]}"
        ]
    );
    // pflag takes the next word as a value, whatever it looks like.
    assert_eq!(
        flags("--pod --verdict").filters,
        [FilterArg::new(FilterFlag::Pod, "--verdict")]
    );
}

#[test]
fn not_errors() {
    let e = |line: &str| {
        flags(line)
            .request(std::time::SystemTime::now(), false)
            .expect_err("refused")
    };
    assert_eq!(e("--pod a --not"), RequestError::TrailingNot);
    assert_eq!(
        e("--not --not --pod a").to_string(),
        "invalid argument \"true\" for \"--not\" flag: consecutive --not statements"
    );
}

#[test]
fn the_request_carries_selectors_and_filters() {
    let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_732_597_900);
    let r = flags("--since 1h43m --until 2024-11-26T05:11:40Z --last 5 --pod caca-tie")
        .request(now, false)
        .expect("valid");
    assert_eq!(
        json::get_flows_request(&r),
        "{\"number\":\"5\",\"whitelist\":[{\"source_pod\":[\"caca-tie\"]},{\"destination_pod\":[\"caca-tie\"]}],\"since\":\"2024-11-26T03:28:40Z\",\"until\":\"2024-11-26T05:11:40Z\"}"
    );
    let r = flags("-f --until 1s").request(now, false).expect("valid");
    assert_eq!(json::get_flows_request(&r), "{\"follow\":true}");
    let r = flags("").request(now, false).expect("valid");
    assert_eq!(json::get_flows_request(&r), "{\"number\":\"20\"}");
    let r = flags("--first 3").request(now, false).expect("valid");
    assert_eq!(
        json::get_flows_request(&r),
        "{\"number\":\"3\",\"first\":true}"
    );
    let r = flags("--all").request(now, false).expect("valid");
    assert_eq!(r.number, u64::MAX);
}
