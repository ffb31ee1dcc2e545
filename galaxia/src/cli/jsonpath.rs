//! kubectl's `-o jsonpath=TEMPLATE` (client-go's `util/jsonpath`, with missing keys allowed as
//! kubectl allows them): text with `{...}` actions; an action is a path (`.items[*].metadata.name`,
//! `['a.b']`, `[0]`, `[-1]`, `[1:3]`, `[*]`, `..name`, `[?(@.a=="b")]`), a string literal
//! (`{"\n"}`), or `{range PATH}...{end}`. Several results of one path print separated by a space;
//! strings print bare, maps and lists as compact JSON.
//!
//! Own code rather than a crate: the JSONPath crates implement RFC 9535 (results as a JSON list,
//! no templates, no `range`), not this template language.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    All,
    Index(i64),
    Slice(Option<i64>, Option<i64>),
    Recursive(String),
    Filter(Vec<Step>, Option<(String, Literal)>),
}

#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Text(String),
    Number(f64),
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    Path(Vec<Step>),
    Range(Vec<Step>, Vec<Node>),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    nodes: Vec<Node>,
}

impl Template {
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut stack: Vec<(Vec<Step>, Vec<Node>)> = Vec::new();
        let mut nodes = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let Some(open) = rest.find('{') else {
                nodes.push(Node::Text(rest.to_string()));
                break;
            };
            if open > 0 {
                nodes.push(Node::Text(rest[..open].to_string()));
            }
            let close = action_end(&rest[open..]).ok_or("unclosed action")?;
            let inner = rest[open + 1..open + close].trim();
            rest = &rest[open + close + 1..];
            if let Some(path) = inner.strip_prefix("range ") {
                stack.push((steps(path.trim())?, std::mem::take(&mut nodes)));
            } else if inner == "end" {
                let (path, outer) = stack.pop().ok_or("not in range, nothing to end")?;
                let body = std::mem::replace(&mut nodes, outer);
                nodes.push(Node::Range(path, body));
            } else if inner.starts_with('"') {
                nodes.push(Node::Text(string_literal(inner)?));
            } else {
                nodes.push(Node::Path(steps(inner)?));
            }
        }
        if !stack.is_empty() {
            return Err("unclosed range".into());
        }
        Ok(Template { nodes })
    }

    /// The template's text for `root`.
    pub fn render(&self, root: &Value) -> Result<String, String> {
        let mut out = String::new();
        render(&self.nodes, root, root, &mut out)?;
        Ok(out)
    }
}

/// Where the action that starts `s` (at its `{`) ends: the `}` outside quotes.
fn action_end(s: &str) -> Option<usize> {
    let mut quoted: Option<char> = None;
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        match quoted {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quoted = None;
                }
            }
            None if c == '"' || c == '\'' => quoted = Some(c),
            None if c == '}' => return Some(i),
            None => {}
        }
    }
    None
}

fn string_literal(s: &str) -> Result<String, String> {
    let inner = s
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .ok_or_else(|| format!("unterminated string {s}"))?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    Ok(out)
}

fn steps(path: &str) -> Result<Vec<Step>, String> {
    let mut out = Vec::new();
    let p = path.trim();
    let mut rest = p
        .strip_prefix('$')
        .or_else(|| p.strip_prefix('@'))
        .unwrap_or(p);
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("..") {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            out.push(Step::Recursive(r[..end].to_string()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end > 0 {
                out.push(Step::Field(r[..end].to_string()));
            }
            rest = &r[end..];
        } else if rest.starts_with('[') {
            let close = bracket_end(rest).ok_or_else(|| format!("unterminated array in {path}"))?;
            out.push(bracket(&rest[1..close], path)?);
            rest = &rest[close + 1..];
        } else {
            // A bare first name (`{metadata.name}`) is a field, as client-go reads it.
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            out.push(Step::Field(rest[..end].to_string()));
            rest = &rest[end..];
        }
    }
    Ok(out)
}

fn bracket_end(s: &str) -> Option<usize> {
    let mut depth = 0;
    let mut quoted: Option<char> = None;
    for (i, c) in s.char_indices() {
        match quoted {
            Some(q) if c == q => quoted = None,
            Some(_) => {}
            None => match c {
                '"' | '\'' => quoted = Some(c),
                '[' => depth += 1,
                ']' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            },
        }
    }
    None
}

fn bracket(inner: &str, path: &str) -> Result<Step, String> {
    let inner = inner.trim();
    if inner == "*" {
        return Ok(Step::All);
    }
    if let Some(q) = inner
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .or_else(|| inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')))
    {
        return Ok(Step::Field(q.to_string()));
    }
    if let Some(f) = inner.strip_prefix("?(").and_then(|s| s.strip_suffix(')')) {
        for op in ["==", "="] {
            if let Some((l, r)) = f.split_once(op) {
                let r = r.trim();
                let lit = if r.starts_with('"') || r.starts_with('\'') {
                    Literal::Text(r[1..r.len().saturating_sub(1)].to_string())
                } else {
                    Literal::Number(r.parse().map_err(|_| format!("bad filter {f}"))?)
                };
                return Ok(Step::Filter(steps(l.trim())?, Some(("==".into(), lit))));
            }
        }
        return Ok(Step::Filter(steps(f.trim())?, None));
    }
    if let Some((a, b)) = inner.split_once(':') {
        let n = |s: &str| -> Result<Option<i64>, String> {
            let s = s.trim();
            if s.is_empty() {
                Ok(None)
            } else {
                s.parse()
                    .map(Some)
                    .map_err(|_| format!("bad index {s} in {path}"))
            }
        };
        return Ok(Step::Slice(n(a)?, n(b.split(':').next().unwrap_or(""))?));
    }
    inner
        .parse()
        .map(Step::Index)
        .map_err(|_| format!("bad index {inner} in {path}"))
}

fn render(nodes: &[Node], root: &Value, current: &Value, out: &mut String) -> Result<(), String> {
    for n in nodes {
        match n {
            Node::Text(t) => out.push_str(t),
            Node::Path(p) => {
                let found = eval(p, root, current);
                for (i, v) in found.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    out.push_str(&text(v));
                }
            }
            Node::Range(p, body) => {
                // Each result of the path is the current object once (`.items[*]`: each item).
                for v in eval(p, root, current) {
                    render(body, root, v, out)?;
                }
            }
        }
    }
    Ok(())
}

fn eval<'a>(steps: &[Step], _root: &'a Value, current: &'a Value) -> Vec<&'a Value> {
    let mut values = vec![current];
    for step in steps {
        let mut next = Vec::new();
        for v in values {
            match step {
                Step::Field(name) => {
                    if let Some(x) = v.get(name.as_str()) {
                        next.push(x);
                    }
                }
                Step::All => match v {
                    Value::Array(a) => next.extend(a.iter()),
                    Value::Object(m) => next.extend(m.values()),
                    _ => {}
                },
                Step::Index(i) => {
                    if let Value::Array(a) = v {
                        let len = a.len() as i64;
                        let at = if *i < 0 { len + i } else { *i };
                        if let Some(x) = usize::try_from(at).ok().and_then(|u| a.get(u)) {
                            next.push(x);
                        }
                    }
                }
                Step::Slice(from, to) => {
                    if let Value::Array(a) = v {
                        let len = a.len() as i64;
                        let fix = |x: i64| if x < 0 { (len + x).max(0) } else { x.min(len) };
                        let f = fix(from.unwrap_or(0));
                        let t = fix(to.unwrap_or(len));
                        for u in f..t.max(f) {
                            if let Some(x) = usize::try_from(u).ok().and_then(|u| a.get(u)) {
                                next.push(x);
                            }
                        }
                    }
                }
                Step::Recursive(name) => descend(v, name, &mut next),
                Step::Filter(path, cond) => {
                    let items: Vec<&Value> = match v {
                        Value::Array(a) => a.iter().collect(),
                        other => vec![other],
                    };
                    for item in items {
                        let got = eval(path, _root, item);
                        let keep = match cond {
                            None => !got.is_empty(),
                            Some((_, Literal::Text(t))) => {
                                got.iter().any(|g| g.as_str() == Some(t.as_str()))
                            }
                            Some((_, Literal::Number(n))) => {
                                got.iter().any(|g| g.as_f64() == Some(*n))
                            }
                        };
                        if keep {
                            next.push(item);
                        }
                    }
                }
            }
        }
        values = next;
    }
    values
}

fn descend<'a>(v: &'a Value, name: &str, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(m) => {
            if let Some(x) = m.get(name) {
                out.push(x);
            }
            for x in m.values() {
                descend(x, name, out);
            }
        }
        Value::Array(a) => {
            for x in a {
                descend(x, name, out);
            }
        }
        _ => {}
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => super::gojson::go_json(other, false),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test may unwrap: a panic is its failure report
mod tests {
    use super::*;

    #[test]
    fn kubectls_templates() {
        let list = serde_json::json!({"items": [
            {"metadata": {"name": "a", "labels": {"app.kubernetes.io/name": "x"}}, "spec": {"n": 1}},
            {"metadata": {"name": "b"}, "spec": {"n": 2}}
        ]});
        let t = |s: &str| Template::parse(s).unwrap().render(&list).unwrap();
        assert_eq!(t("{.items[*].metadata.name}"), "a b");
        assert_eq!(
            t("{range .items[*]}{.metadata.name}{\"\\n\"}{end}"),
            "a\nb\n"
        );
        assert_eq!(
            t("{.items[0].metadata.labels['app.kubernetes.io/name']}"),
            "x"
        );
        assert_eq!(t("{.items[-1].spec}"), "{\"n\":2}");
        assert_eq!(t("{.items[?(@.metadata.name==\"b\")].spec.n}"), "2");
        assert_eq!(t("n={.items[*].nope}."), "n=.");
        assert_eq!(t("{..name}"), "a b");
        assert!(Template::parse("{range .items[*]}x").is_err());
    }
}
