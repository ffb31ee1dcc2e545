//! kubectl's `-l/--selector`: label selector strings as `k8s.io/apimachinery/pkg/labels` parses
//! them (`a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`, `a notin (x,y)`, terms joined by commas,
//! all of which must hold).

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    Equals(String, String),
    NotEquals(String, String),
    Exists(String),
    Absent(String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

/// A parsed selector; the empty one selects everything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selector {
    terms: Vec<Term>,
}

impl Selector {
    pub fn parse(s: &str) -> Result<Selector, String> {
        let mut terms = Vec::new();
        for raw in split_terms(s) {
            let t = raw.trim();
            if t.is_empty() {
                continue;
            }
            terms.push(term(t).ok_or_else(|| {
                format!("unable to parse requirement: found '{t}', expected: key=value, key!=value, key, !key, key in (...) or key notin (...)")
            })?);
        }
        Ok(Selector { terms })
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.terms.iter().all(|t| match t {
            Term::Equals(k, v) => labels.get(k) == Some(v),
            // As Kubernetes: `a!=b` also selects objects without the label.
            Term::NotEquals(k, v) => labels.get(k) != Some(v),
            Term::Exists(k) => labels.contains_key(k),
            Term::Absent(k) => !labels.contains_key(k),
            Term::In(k, vs) => labels.get(k).is_some_and(|v| vs.contains(v)),
            Term::NotIn(k, vs) => labels.get(k).is_none_or(|v| !vs.contains(v)),
        })
    }
}

/// The terms, split at the commas outside parentheses.
fn split_terms(s: &str) -> Vec<&str> {
    let (mut out, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

fn valid_value(v: &str) -> bool {
    v.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn set(rest: &str) -> Option<Vec<String>> {
    let inner = rest.trim().strip_prefix('(')?.strip_suffix(')')?;
    let values: Vec<String> = inner.split(',').map(|v| v.trim().to_string()).collect();
    values.iter().all(|v| valid_value(v)).then_some(values)
}

fn term(t: &str) -> Option<Term> {
    if let Some(k) = t.strip_prefix('!') {
        let k = k.trim();
        return valid_key(k).then(|| Term::Absent(k.to_string()));
    }
    for (op, ctor) in [
        ("!=", Term::NotEquals as fn(String, String) -> Term),
        ("==", Term::Equals),
        ("=", Term::Equals),
    ] {
        if let Some((k, v)) = t.split_once(op) {
            let (k, v) = (k.trim(), v.trim());
            return (valid_key(k) && valid_value(v)).then(|| ctor(k.to_string(), v.to_string()));
        }
    }
    if let Some((k, rest)) = t.split_once(" notin ") {
        let k = k.trim();
        return valid_key(k).then(|| set(rest).map(|vs| Term::NotIn(k.to_string(), vs)))?;
    }
    if let Some((k, rest)) = t.split_once(" in ") {
        let k = k.trim();
        return valid_key(k).then(|| set(rest).map(|vs| Term::In(k.to_string(), vs)))?;
    }
    valid_key(t).then(|| Term::Exists(t.to_string()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test may unwrap: a panic is its failure report
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn kubectls_forms() {
        let ds = labels(&[("class", "estrela-da-morte"), ("org", "imperio")]);
        let x = labels(&[("class", "asa-x"), ("org", "alianca")]);
        let m = |s: &str, l: &BTreeMap<String, String>| Selector::parse(s).unwrap().matches(l);
        assert!(m("class=estrela-da-morte", &ds) && !m("class=estrela-da-morte", &x));
        assert!(m("class==estrela-da-morte,org=imperio", &ds));
        assert!(m("org!=alianca", &ds) && !m("org!=alianca", &x));
        assert!(m("org", &x) && !m("!org", &x) && m("!app", &x));
        assert!(m("org in (imperio, alianca)", &x) && !m("org notin (alianca)", &x));
        assert!(m("", &x), "the empty selector selects everything");
        assert!(Selector::parse("a=b=c").is_err());
        assert!(Selector::parse("org in imperio").is_err());
    }
}
