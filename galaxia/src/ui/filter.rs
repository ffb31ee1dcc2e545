//! The page's filters, applied on the server to every flow a browser follows (Hubble UI sends
//! its filters to Hubble Relay the same way): the namespace (a flow from or to it), the verdict,
//! and the text filter, whose entries all must hold:
//!
//! ```text
//! [!][from:|to:]pod=NAME|NAMESPACE/NAME   a pod name prefix (a Deployment's name matches its replicas)
//! [!][from:|to:]label=KEY[=VALUE]         an identity label; KEY may carry a source, k8s:org
//! [!][from:|to:]identity=NUMBER           a security identity
//! [!][from:|to:]ip=ADDRESS                a pod IP
//! [!][from:|to:]port=NUMBER               a port of that end
//! [!]WORD                                 the same as pod=WORD
//! ```
//!
//! Without `from:` or `to:` an entry holds when either end matches; `!` negates it.

use std::net::Ipv4Addr;

use crate::flows::flow::{EndpointInfo, Flow, Peer, Verdict};

/// The verdict filter's choices (Hubble UI's: any, forwarded, dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VerdictChoice {
    #[default]
    Any,
    Forwarded,
    Dropped,
}

impl VerdictChoice {
    pub fn parse(s: &str) -> Result<VerdictChoice, FilterError> {
        match s.to_ascii_lowercase().as_str() {
            "" | "any" => Ok(VerdictChoice::Any),
            "forwarded" => Ok(VerdictChoice::Forwarded),
            "dropped" => Ok(VerdictChoice::Dropped),
            _ => Err(FilterError::Verdict(s.to_string())),
        }
    }
}

/// Which end of a flow an entry looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Either,
    From,
    To,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Pod {
        namespace: Option<String>,
        prefix: String,
    },
    Label {
        /// With its source (`k8s:org`) or without (any source).
        key: String,
        value: Option<String>,
    },
    Identity(u32),
    Ip(Ipv4Addr),
    Port(u16),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub negate: bool,
    pub side: Side,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("unknown verdict {0:?}: want any, forwarded or dropped")]
    Verdict(String),
    #[error("{entry:?}: unknown filter {kind:?}; want pod=, label=, identity=, ip= or port=")]
    Kind { entry: String, kind: String },
    #[error("{0:?}: an empty value matches nothing")]
    Empty(String),
    #[error("{entry:?}: {what}")]
    Value { entry: String, what: &'static str },
}

/// Everything a browser asked to see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UiFilter {
    pub namespace: Option<String>,
    pub verdict: VerdictChoice,
    pub entries: Vec<Entry>,
}

impl UiFilter {
    pub fn new(
        namespace: Option<&str>,
        verdict: Option<&str>,
        text: Option<&str>,
    ) -> Result<UiFilter, FilterError> {
        Ok(UiFilter {
            namespace: namespace
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_string),
            verdict: VerdictChoice::parse(verdict.unwrap_or_default().trim())?,
            entries: text
                .unwrap_or_default()
                .split_whitespace()
                .map(parse_entry)
                .collect::<Result<_, _>>()?,
        })
    }

    pub fn matches(&self, f: &Flow) -> bool {
        if let Some(ns) = &self.namespace
            && *f.source.endpoint.namespace != **ns
            && *f.destination.endpoint.namespace != **ns
        {
            return false;
        }
        let verdict_ok = match self.verdict {
            VerdictChoice::Any => true,
            VerdictChoice::Forwarded => f.verdict == Verdict::Forwarded,
            VerdictChoice::Dropped => f.verdict == Verdict::Dropped,
        };
        verdict_ok && self.entries.iter().all(|e| e.matches(f))
    }
}

fn parse_entry(text: &str) -> Result<Entry, FilterError> {
    let (negate, rest) = match text.strip_prefix('!') {
        Some(r) => (true, r),
        None => (false, text),
    };
    let (side, rest) = if let Some(r) = rest.strip_prefix("from:") {
        (Side::From, r)
    } else if let Some(r) = rest.strip_prefix("to:") {
        (Side::To, r)
    } else {
        (Side::Either, rest)
    };
    let (kind, value) = rest.split_once('=').unwrap_or(("pod", rest));
    if value.is_empty() {
        return Err(FilterError::Empty(text.to_string()));
    }
    let bad = |what| FilterError::Value {
        entry: text.to_string(),
        what,
    };
    let kind = match kind {
        "pod" => match value.split_once('/') {
            Some((ns, name)) => Kind::Pod {
                namespace: Some(ns.to_string()),
                prefix: name.to_string(),
            },
            None => Kind::Pod {
                namespace: None,
                prefix: value.to_string(),
            },
        },
        "label" => match value.split_once('=') {
            Some((k, v)) => Kind::Label {
                key: k.to_string(),
                value: Some(v.to_string()),
            },
            None => Kind::Label {
                key: value.to_string(),
                value: None,
            },
        },
        "identity" => Kind::Identity(
            value
                .parse()
                .map_err(|_| bad("an identity is a number, like 12345"))?,
        ),
        "ip" => Kind::Ip(
            value
                .parse()
                .map_err(|_| bad("not an IPv4 address, like 10.244.1.23"))?,
        ),
        "port" => Kind::Port(
            value
                .parse()
                .map_err(|_| bad("a port is a number from 0 to 65535"))?,
        ),
        other => {
            return Err(FilterError::Kind {
                entry: text.to_string(),
                kind: other.to_string(),
            });
        }
    };
    Ok(Entry { negate, side, kind })
}

impl Entry {
    fn matches(&self, f: &Flow) -> bool {
        let hit = match self.side {
            Side::Either => self.kind.matches(&f.source) || self.kind.matches(&f.destination),
            Side::From => self.kind.matches(&f.source),
            Side::To => self.kind.matches(&f.destination),
        };
        hit != self.negate
    }
}

impl Kind {
    fn matches(&self, peer: &Peer) -> bool {
        let e: &EndpointInfo = &peer.endpoint;
        match self {
            Kind::Pod { namespace, prefix } => {
                namespace.as_deref().is_none_or(|ns| *e.namespace == *ns)
                    && e.pod.starts_with(prefix.as_str())
            }
            Kind::Label { key, value } => e.labels.iter().any(|l| label_matches(l, key, value)),
            Kind::Identity(id) => e.identity.0 == *id,
            Kind::Ip(ip) => e.ip == *ip,
            Kind::Port(p) => peer.port == *p,
        }
    }
}

/// `k8s:org=alianca` against `org` (any source) or `k8s:org`, and the value when one is asked.
fn label_matches(label: &str, key: &str, value: &Option<String>) -> bool {
    let (lkey, lvalue) = label.split_once('=').unwrap_or((label, ""));
    let key_ok = if key.contains(':') {
        lkey == key
    } else {
        lkey.split_once(':').map_or(lkey, |(_, k)| k) == key
    };
    key_ok && value.as_deref().is_none_or(|v| v == lvalue)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test may unwrap: a panic is its failure report
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::SystemTime;

    use crate::flows::flow::{Direction, Event, ObservationPoint, TcpFlags};

    fn peer(ns: &str, pod: &str, labels: &[&str], identity: u32, ip: [u8; 4], port: u16) -> Peer {
        Peer {
            endpoint: Arc::new(EndpointInfo {
                id: 1,
                identity: politica::NumericIdentity(identity),
                namespace: Arc::from(ns),
                pod: Arc::from(pod),
                labels: labels.iter().map(|l| l.to_string()).collect(),
                workload: None,
                ip: Ipv4Addr::from(ip),
                node: Arc::from("n"),
            }),
            port,
        }
    }

    fn flow(verdict: Verdict) -> Flow {
        Flow {
            seq: 0,
            time: SystemTime::now(),
            uuid: 0,
            verdict,
            event: Event::Trace {
                point: ObservationPoint::ToEndpoint,
                flags: TcpFlags::SYN,
            },
            source: peer(
                "default",
                "asa-x",
                &["k8s:class=asa-x", "k8s:org=alianca"],
                1001,
                [10, 244, 1, 20],
                40000,
            ),
            destination: peer(
                "default",
                "estrela-da-morte-6c8f-x1",
                &["k8s:class=estrela-da-morte", "k8s:org=imperio"],
                1002,
                [10, 244, 2, 30],
                80,
            ),
            direction: Direction::Ingress,
            is_reply: Some(false),
            node: Arc::from("n"),
            destination_service: None,
            allowed_by: None,
            reason: None,
        }
    }

    fn passes(ns: Option<&str>, verdict: &str, text: &str, f: &Flow) -> bool {
        UiFilter::new(ns, Some(verdict), Some(text))
            .unwrap()
            .matches(f)
    }

    #[test]
    fn entries_match_either_end_unless_told() {
        let f = flow(Verdict::Forwarded);
        assert!(passes(None, "any", "", &f));
        assert!(passes(None, "any", "pod=asa-x", &f));
        assert!(
            passes(None, "any", "estrela-da-morte", &f),
            "a bare word is a pod prefix"
        );
        assert!(passes(None, "any", "to:pod=default/estrela-da-morte", &f));
        assert!(!passes(None, "any", "from:pod=estrela-da-morte", &f));
        assert!(passes(None, "any", "from:label=org=alianca", &f));
        assert!(passes(None, "any", "label=k8s:org=imperio", &f));
        assert!(!passes(None, "any", "label=any2:org=imperio", &f));
        assert!(passes(None, "any", "label=class", &f));
        assert!(passes(None, "any", "identity=1002 ip=10.244.1.20", &f));
        assert!(
            !passes(None, "any", "identity=1002 ip=10.244.9.9", &f),
            "entries AND"
        );
        assert!(passes(None, "any", "to:port=80", &f));
        assert!(!passes(None, "any", "!from:label=org=alianca", &f));
        assert!(passes(None, "any", "!pod=caca-tie", &f));
    }

    #[test]
    fn namespace_and_verdict_narrow() {
        let f = flow(Verdict::Dropped);
        assert!(passes(Some("default"), "dropped", "", &f));
        assert!(!passes(Some("kube-system"), "any", "", &f));
        assert!(!passes(None, "forwarded", "", &f));
        assert!(passes(Some(""), "", "", &f), "empty means all");
    }

    #[test]
    fn bad_entries_are_named() {
        for (text, want) in [
            ("colour=red", "unknown filter \"colour\""),
            ("identity=abc", "an identity is a number"),
            ("ip=10.0.0", "not an IPv4 address"),
            ("pod=", "an empty value"),
        ] {
            let e = UiFilter::new(None, None, Some(text)).unwrap_err();
            assert!(e.to_string().contains(want), "{text}: {e}");
        }
        assert!(UiFilter::new(None, Some("maybe"), None).is_err());
    }
}
