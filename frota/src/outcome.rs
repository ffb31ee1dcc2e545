//! The one classification of what a request got, shared by the ships, `loadtest` and `galaxia`.
//!
//! Every request ends as exactly one [`Outcome`], named the same in logs, metrics, reports and
//! flows (DESIGN.md): `landed`, `denied`, `dropped`, `exploded`, `http_<code>`, `refused`,
//! `reset`, `error`.

use std::borrow::Cow;
use std::fmt;

/// The body of Cilium's Envoy L7 denial, CRLF included.
pub const ACCESS_DENIED_BODY: &[u8] = b"Access denied\r\n";
/// How the Death Star's exhaust-port answer begins.
pub const EXPLODED_PREFIX: &[u8] = b"Panic: deathstar exploded";
/// An answer head larger than this is [`Failure::HeadTooLarge`] (the ships' client and
/// `loadtest` use the same limits, so that one answer has one outcome in both).
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// An answer head with more header lines than this is [`Failure::HeadTooLarge`] too.
pub const MAX_HEADERS: usize = 64;

/// What a single request got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// A 2xx answer: the ship got through (landing, or the info text).
    Landed,
    /// HTTP 403 with `Access denied\r\n`: Cilium's L7 proxy refused the request.
    Denied,
    /// No answer before the timeout: what an L3/L4 policy drop looks like from the client.
    Dropped,
    /// HTTP 503 whose body starts with `Panic: deathstar exploded`.
    Exploded,
    /// Any other HTTP status.
    Http(u16),
    /// The connection was refused (nothing listens).
    Refused,
    /// The connection was reset or closed before a whole answer came back.
    Reset,
    /// Anything else: name resolution, a malformed or oversized answer, a local failure.
    Error,
}

/// Why a request got no HTTP answer; each client's transport maps its errors to one of these,
/// so that the ships, `loadtest` and `galaxia` name the same failure the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Failure {
    /// The per-request timeout passed with no complete answer.
    Timeout,
    /// ECONNREFUSED.
    Refused,
    /// ECONNRESET, EPIPE, or the peer closed the connection before answering.
    Reset,
    /// The name could not be resolved: it does not exist, or no nameserver answered in time.
    /// Never `dropped`: Cilium's policies in this demo drop the flow to the Death Star, not DNS.
    Dns,
    /// The answer was not HTTP/1.1: a bad status line, header, Content-Length or chunk framing.
    Malformed,
    /// The answer's head was larger than the client accepts.
    HeadTooLarge,
    /// Everything else.
    Other,
}

impl Failure {
    pub const ALL: [Failure; 7] = [
        Failure::Timeout,
        Failure::Refused,
        Failure::Reset,
        Failure::Dns,
        Failure::Malformed,
        Failure::HeadTooLarge,
        Failure::Other,
    ];

    /// The kind's name for logs and reports (bounded: one of seven).
    pub fn name(self) -> &'static str {
        match self {
            Failure::Timeout => "timeout",
            Failure::Refused => "refused",
            Failure::Reset => "reset",
            Failure::Dns => "dns",
            Failure::Malformed => "malformed",
            Failure::HeadTooLarge => "head_too_large",
            Failure::Other => "other",
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Outcome {
    /// The fixed outcomes, in report order; `Http(_)` stands for every other status.
    pub const NAMED: [Outcome; 7] = [
        Outcome::Landed,
        Outcome::Denied,
        Outcome::Dropped,
        Outcome::Exploded,
        Outcome::Refused,
        Outcome::Reset,
        Outcome::Error,
    ];

    /// Classify an HTTP answer from its status and (the start of) its body.
    pub fn from_response(status: u16, body: &[u8]) -> Outcome {
        match status {
            200..=299 => Outcome::Landed,
            403 if body == ACCESS_DENIED_BODY => Outcome::Denied,
            503 if body.starts_with(EXPLODED_PREFIX) => Outcome::Exploded,
            code => Outcome::Http(code),
        }
    }

    /// Classify a request that got no HTTP answer.
    pub fn from_failure(failure: Failure) -> Outcome {
        match failure {
            Failure::Timeout => Outcome::Dropped,
            Failure::Refused => Outcome::Refused,
            Failure::Reset => Outcome::Reset,
            Failure::Dns | Failure::Malformed | Failure::HeadTooLarge | Failure::Other => {
                Outcome::Error
            }
        }
    }

    /// Map an I/O error from connecting, writing or reading to the failure it stands for.
    pub fn failure_of_io(err: &std::io::Error) -> Failure {
        use std::io::ErrorKind as K;
        match err.kind() {
            K::TimedOut => Failure::Timeout,
            K::ConnectionRefused => Failure::Refused,
            K::ConnectionReset
            | K::ConnectionAborted
            | K::BrokenPipe
            | K::UnexpectedEof
            | K::NotConnected => Failure::Reset,
            _ => Failure::Other,
        }
    }

    /// The name used as a log field and a metric label (bounded: `http_<code>` has at most a few
    /// hundred values).
    pub fn name(&self) -> Cow<'static, str> {
        match self {
            Outcome::Landed => Cow::Borrowed("landed"),
            Outcome::Denied => Cow::Borrowed("denied"),
            Outcome::Dropped => Cow::Borrowed("dropped"),
            Outcome::Exploded => Cow::Borrowed("exploded"),
            Outcome::Http(code) => Cow::Owned(format!("http_{code}")),
            Outcome::Refused => Cow::Borrowed("refused"),
            Outcome::Reset => Cow::Borrowed("reset"),
            Outcome::Error => Cow::Borrowed("error"),
        }
    }

    /// Parse a name back (`landed`, `http_404`, ...), for `--fail-if` conditions and filters.
    pub fn from_name(name: &str) -> Option<Outcome> {
        if let Some(code) = name.strip_prefix("http_") {
            return code
                .parse::<u16>()
                .ok()
                .filter(|c| (100..=999).contains(c))
                .map(Outcome::Http);
        }
        Outcome::NAMED.into_iter().find(|o| o.name() == name)
    }

    /// True when the request got through to the Death Star and back with a 2xx.
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Landed)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_answers() {
        assert_eq!(
            Outcome::from_response(200, b"Ship landed\n"),
            Outcome::Landed
        );
        assert_eq!(
            Outcome::from_response(403, b"Access denied\r\n"),
            Outcome::Denied
        );
        // A 403 from somebody else is not Cilium's denial.
        assert_eq!(
            Outcome::from_response(403, b"Access denied\n"),
            Outcome::Http(403)
        );
        assert_eq!(
            Outcome::from_response(503, b"Panic: deathstar exploded\n\ngoroutine 1"),
            Outcome::Exploded
        );
        assert_eq!(
            Outcome::from_response(503, b"upstream connect error"),
            Outcome::Http(503)
        );
        assert_eq!(Outcome::from_response(404, b"{}"), Outcome::Http(404));
    }

    #[test]
    fn classifies_failures() {
        assert_eq!(Outcome::from_failure(Failure::Timeout), Outcome::Dropped);
        let e = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(
            Outcome::from_failure(Outcome::failure_of_io(&e)),
            Outcome::Refused
        );
        let e = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert_eq!(
            Outcome::from_failure(Outcome::failure_of_io(&e)),
            Outcome::Reset
        );
        // A name that does not resolve, or an answer that is not HTTP, is not a policy drop.
        for f in [Failure::Dns, Failure::Malformed, Failure::HeadTooLarge] {
            assert_eq!(Outcome::from_failure(f), Outcome::Error, "{f}");
        }
        let names: Vec<&str> = Failure::ALL.iter().map(|f| f.name()).collect();
        assert_eq!(
            names,
            [
                "timeout",
                "refused",
                "reset",
                "dns",
                "malformed",
                "head_too_large",
                "other"
            ]
        );
    }

    #[test]
    fn names_round_trip() {
        for o in Outcome::NAMED.into_iter().chain([Outcome::Http(404)]) {
            assert_eq!(Outcome::from_name(&o.name()), Some(o));
        }
        assert_eq!(Outcome::from_name("http_x"), None);
        assert_eq!(Outcome::from_name("flew"), None);
    }
}
