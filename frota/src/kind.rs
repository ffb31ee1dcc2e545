//! The demo's three requests and a weighted mix of them (`land=8,info=1,exhaust=1`).

use std::fmt;
use std::str::FromStr;

/// One of the requests a ship makes to the Death Star.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RequestKind {
    /// `POST /v1/request-landing`
    Land,
    /// `PUT /v1/exhaust-port`
    Exhaust,
    /// `GET /v1`
    Info,
}

impl RequestKind {
    pub const ALL: [RequestKind; 3] = [RequestKind::Land, RequestKind::Exhaust, RequestKind::Info];

    pub fn method(self) -> http::Method {
        match self {
            RequestKind::Land => http::Method::POST,
            RequestKind::Exhaust => http::Method::PUT,
            RequestKind::Info => http::Method::GET,
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            RequestKind::Land => "/v1/request-landing",
            RequestKind::Exhaust => "/v1/exhaust-port",
            RequestKind::Info => "/v1",
        }
    }

    /// The name used on the command line, in logs and as a metric label.
    pub fn name(self) -> &'static str {
        match self {
            RequestKind::Land => "land",
            RequestKind::Exhaust => "exhaust",
            RequestKind::Info => "info",
        }
    }
}

impl fmt::Display for RequestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for RequestKind {
    type Err = MixError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "land" => Ok(RequestKind::Land),
            "exhaust" => Ok(RequestKind::Exhaust),
            "info" => Ok(RequestKind::Info),
            other => Err(MixError::UnknownKind(other.to_string())),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MixError {
    #[error("unknown request kind {0:?}: use land, exhaust or info")]
    UnknownKind(String),
    #[error("bad weight in {0:?}: want KIND=N with N a whole number, e.g. land=8")]
    BadWeight(String),
    #[error("the mix has no request with a weight above 0: e.g. land=8,info=1,exhaust=1")]
    Empty,
}

/// Weighted choice among request kinds. `land` alone is `land=1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mix {
    entries: Vec<(RequestKind, u32)>,
    total: u32,
}

impl Mix {
    pub fn only(kind: RequestKind) -> Self {
        Mix {
            entries: vec![(kind, 1)],
            total: 1,
        }
    }

    /// The kinds with their weights, in the order given.
    pub fn entries(&self) -> &[(RequestKind, u32)] {
        &self.entries
    }

    pub fn total_weight(&self) -> u32 {
        self.total
    }

    /// The kind for a number in `0..total_weight()`; callers draw the number (randomly, or
    /// round-robin for a deterministic sequence).
    pub fn pick(&self, n: u32) -> RequestKind {
        let mut n = n % self.total;
        for &(kind, w) in &self.entries {
            if n < w {
                return kind;
            }
            n -= w;
        }
        // Unreachable while total is the sum of the weights; the first kind is a safe answer.
        self.entries[0].0
    }

    /// The expected share of `kind` in a long run.
    pub fn share(&self, kind: RequestKind) -> f64 {
        let w: u32 = self
            .entries
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, w)| w)
            .sum();
        f64::from(w) / f64::from(self.total)
    }
}

impl Default for Mix {
    fn default() -> Self {
        Mix::only(RequestKind::Land)
    }
}

impl FromStr for Mix {
    type Err = MixError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut entries: Vec<(RequestKind, u32)> = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (kind, weight) = match part.split_once('=') {
                Some((k, w)) => (
                    k.parse::<RequestKind>()?,
                    w.trim()
                        .parse::<u32>()
                        .map_err(|_| MixError::BadWeight(part.to_string()))?,
                ),
                None => (part.parse::<RequestKind>()?, 1),
            };
            match entries.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, w)) => *w = w.saturating_add(weight),
                None => entries.push((kind, weight)),
            }
        }
        entries.retain(|(_, w)| *w > 0);
        let total = entries
            .iter()
            .map(|(_, w)| *w)
            .fold(0u32, u32::saturating_add);
        if total == 0 {
            return Err(MixError::Empty);
        }
        Ok(Mix { entries, total })
    }
}

impl fmt::Display for Mix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (k, w)) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{k}={w}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_weights_and_bare_kinds() {
        let m: Mix = "land=8,info=1,exhaust=1".parse().unwrap();
        assert_eq!(m.total_weight(), 10);
        assert_eq!(m.to_string(), "land=8,info=1,exhaust=1");
        let m: Mix = "land".parse().unwrap();
        assert_eq!(m, Mix::only(RequestKind::Land));
        assert!((m.share(RequestKind::Land) - 1.0).abs() < f64::EPSILON);
    }

    #[test]
    fn pick_follows_weights() {
        let m: Mix = "land=2,info=1".parse().unwrap();
        let picks: Vec<_> = (0..3).map(|n| m.pick(n)).collect();
        assert_eq!(
            picks,
            [RequestKind::Land, RequestKind::Land, RequestKind::Info]
        );
    }

    #[test]
    fn rejects_bad_mixes() {
        assert_eq!(
            "fly=1".parse::<Mix>(),
            Err(MixError::UnknownKind("fly".into()))
        );
        assert_eq!(
            "land=x".parse::<Mix>(),
            Err(MixError::BadWeight("land=x".into()))
        );
        assert_eq!("land=0".parse::<Mix>(), Err(MixError::Empty));
        assert_eq!("".parse::<Mix>(), Err(MixError::Empty));
    }
}
