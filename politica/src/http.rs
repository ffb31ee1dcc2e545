//! HTTP rules as Envoy applies them for Cilium: `method`, `path` and `host` are RE2 regexes that
//! must match the whole value, `headers` entries require a header (with an exact value when
//! given). Regexes are compiled once here, never per request.

use http::HeaderName;
use regex::{Regex, RegexBuilder};

use crate::cnp::HttpRule;
use crate::problem::Problem;

/// Bounds a hostile pattern's compile time and memory (the loader is fuzzed).
const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// The longest pattern compiled: Cilium's own examples are a few dozen bytes, and parsing a huge
/// one costs memory before any size limit applies.
pub(crate) const MAX_PATTERN: usize = 4096;

/// One HTTP request as the L7 proxy sees it.
#[derive(Debug, Clone, Copy)]
pub struct HttpRequest<'a> {
    pub method: &'a str,
    /// The path with its query string (Envoy's `:path`).
    pub path: &'a str,
    /// The `Host` header (`:authority`), empty when absent.
    pub host: &'a str,
    pub headers: &'a http::HeaderMap,
}

#[derive(Debug, Clone)]
enum Header {
    Present(HeaderName),
    Exact(HeaderName, String),
}

/// A compiled HTTP rule: every part set must match.
#[derive(Debug, Clone)]
pub(crate) struct CompiledHttpRule {
    method: Option<Regex>,
    path: Option<Regex>,
    host: Option<Regex>,
    headers: Vec<Header>,
}

impl CompiledHttpRule {
    pub(crate) fn compile(
        rule: &HttpRule,
        field: &str,
        problems: &mut Vec<Problem>,
    ) -> Option<Self> {
        let before = problems.len();
        if rule.header_matches.is_some() {
            problems.push(Problem::not_emulated(&format!("{field}.headerMatches")));
        }
        let method = anchored(rule.method.as_deref(), &format!("{field}.method"), problems);
        let path = anchored(rule.path.as_deref(), &format!("{field}.path"), problems);
        let host = anchored(rule.host.as_deref(), &format!("{field}.host"), problems);
        let mut headers = Vec::new();
        for (i, h) in rule.headers.iter().flatten().enumerate() {
            let f = format!("{field}.headers[{i}]");
            // Cilium splits on the first space and trims the name's ':' ("X-Has-Force: True").
            let (name, value) = match h.split_once(' ') {
                Some((n, v)) => (n.trim_end_matches(':'), Some(v)),
                None => (h.trim_end_matches(':'), None),
            };
            match HeaderName::from_bytes(name.as_bytes()) {
                Ok(name) => headers.push(match value {
                    Some(v) => Header::Exact(name, v.to_string()),
                    None => Header::Present(name),
                }),
                Err(_) => problems.push(Problem::new(
                    &f,
                    format!("{h:?} does not start with a valid header name: want \"Name: value\" or \"Name\""),
                )),
            }
        }
        (problems.len() == before).then_some(CompiledHttpRule {
            method,
            path,
            host,
            headers,
        })
    }

    pub(crate) fn matches(&self, req: &HttpRequest<'_>) -> bool {
        let re = |r: &Option<Regex>, v: &str| r.as_ref().is_none_or(|r| r.is_match(v));
        re(&self.method, req.method)
            && re(&self.path, req.path)
            && re(&self.host, req.host)
            && self.headers.iter().all(|h| match h {
                Header::Present(name) => req.headers.contains_key(name),
                Header::Exact(name, value) => req
                    .headers
                    .get_all(name)
                    .iter()
                    .any(|v| v.as_bytes() == value.as_bytes()),
            })
    }
}

/// Compile a full-match regex; an empty pattern means "any value", as in Cilium.
fn anchored(pattern: Option<&str>, field: &str, problems: &mut Vec<Problem>) -> Option<Regex> {
    let pattern = pattern.filter(|p| !p.is_empty())?;
    if pattern.len() > MAX_PATTERN {
        problems.push(Problem::new(
            field,
            format!(
                "{} is a {}-byte regular expression: at most {MAX_PATTERN} bytes are accepted",
                preview(pattern),
                pattern.len()
            ),
        ));
        return None;
    }
    match RegexBuilder::new(&format!("^(?:{pattern})$"))
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
    {
        Ok(re) => Some(re),
        Err(e) => {
            let detail = e.to_string();
            // The regex crate's message spans several lines with a caret; keep its last line.
            let detail = detail
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid")
                .trim();
            problems.push(Problem::new(
                field,
                format!(
                    "{} is not a valid RE2 regular expression: {detail}",
                    preview(pattern)
                ),
            ));
            None
        }
    }
}

/// A pattern as a message quotes it: whole when short, its start otherwise (a message must not be
/// as long as a hostile input).
pub(crate) fn preview(pattern: &str) -> String {
    const SHOWN: usize = 60;
    if pattern.len() <= SHOWN {
        return format!("{pattern:?}");
    }
    let mut end = SHOWN;
    while !pattern.is_char_boundary(end) {
        end -= 1;
    }
    format!("{:?}...", &pattern[..end])
}
