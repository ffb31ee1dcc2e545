//! The byte-level contract with `quay.io/cilium/starwars:v2.1`: fixed bodies, the GET /v1 document,
//! Go-compatible JSON string escaping, `path.Clean`, and the Accept negotiation of error bodies.

use std::borrow::Cow;

use http::HeaderValue;

/// Body of a successful landing.
pub const LANDED: &[u8] = b"Ship landed\n";

/// Body of PUT /v1/exhaust-port, upstream's fake Go panic.
pub const EXHAUST_PORT_PANIC: &[u8] = b"Panic: deathstar exploded

goroutine 1 [running]:
main.HandleGarbage(0x2080c3f50, 0x2, 0x4, 0x425c0, 0x5, 0xa)
        /code/src/github.com/empire/deathstar/
        temp/main.go:9 +0x64
main.main()
        /code/src/github.com/empire/deathstar/
        temp/main.go:5 +0x85
";

/// The list GET /v1 advertises; upstream only serves three of them, the rest are decoration.
const API: [&str; 6] = [
    "GET   /v1",
    "GET   /v1/healthz",
    "POST  /v1/request-landing",
    "PUT   /v1/cargobay",
    "GET   /v1/hyper-matter-reactor/status",
    "PUT   /v1/exhaust-port",
];

/// The GET /v1 document for a station called `hostname`, as Go's tab-indented encoder writes it.
pub fn info_document(hostname: &str) -> String {
    let fields: [(&str, &str); 11] = [
        ("name", "Death Star"),
        ("hostname", hostname),
        ("model", "DS-1 Orbital Battle Station"),
        (
            "manufacturer",
            "Imperial Department of Military Research, Sienar Fleet Systems",
        ),
        ("cost_in_credits", "1000000000000"),
        ("length", "120000"),
        ("crew", "342953"),
        ("passengers", "843342"),
        ("cargo_capacity", "1000000000000"),
        ("hyperdrive_rating", "4.0"),
        ("starship_class", "Deep Space Mobile Battlestation"),
    ];
    let mut out = String::with_capacity(768);
    out.push_str("{\n");
    for (key, value) in fields {
        out.push('\t');
        push_json_string(&mut out, key);
        out.push_str(": ");
        push_json_string(&mut out, value);
        out.push_str(",\n");
    }
    out.push_str("\t\"api\": [\n");
    for (i, line) in API.iter().enumerate() {
        out.push_str("\t\t");
        push_json_string(&mut out, line);
        out.push_str(if i + 1 < API.len() { ",\n" } else { "\n" });
    }
    out.push_str("\t]\n}\n");
    out
}

/// The error body `{"code":N,"message":"..."}`, without a trailing newline (go-openapi's).
pub fn error_document(code: u16, message: &str) -> String {
    let mut out = String::with_capacity(32 + message.len());
    out.push_str("{\"code\":");
    out.push_str(&code.to_string());
    out.push_str(",\"message\":");
    push_json_string(&mut out, message);
    out.push('}');
    out
}

/// Appends `s` as a JSON string the way Go's encoding/json does, HTML-safe escapes included, so
/// that a hostname or path with `<`, `>` or `&` reads exactly as upstream would write it.
pub fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => push_unicode_escape(out, c),
            c if (c as u32) < 0x20 => push_unicode_escape(out, c),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn push_unicode_escape(out: &mut String, c: char) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let n = c as u32;
    out.push_str("\\u");
    for shift in [12, 8, 4, 0] {
        out.push(char::from(HEX[((n >> shift) & 0xf) as usize]));
    }
}

/// Go's `path.Clean`: the router matches the cleaned path, so `//v1/` is `/v1`. Borrows when the
/// path is already clean, which is every request of a well-behaved client.
pub fn clean_path(path: &str) -> Cow<'_, str> {
    if is_clean(path) {
        return Cow::Borrowed(path);
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    Cow::Owned(match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    })
}

fn is_clean(path: &str) -> bool {
    if path == "/" {
        return true;
    }
    if path.is_empty() || path.ends_with('/') {
        return false;
    }
    let body = path.strip_prefix('/').unwrap_or(path);
    body.split('/')
        .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

/// Whether an error body may be sent as `text/plain`: when the Accept header allows it
/// (`*/*`, `text/*`, `text/plain`). An absent Accept, or one that allows only JSON, gets
/// `application/json`, as upstream does.
pub fn accepts_text<'a>(accept: impl Iterator<Item = &'a HeaderValue>) -> bool {
    accept
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|range| {
            let mut params = range.split(';');
            let media = params.next().unwrap_or("").trim();
            let acceptable = ["*/*", "text/*", "text/plain"]
                .iter()
                .any(|m| media.eq_ignore_ascii_case(m));
            acceptable && !params.any(|p| is_q_zero(p.trim()))
        })
}

fn is_q_zero(param: &str) -> bool {
    let Some((name, value)) = param.split_once('=') else {
        return false;
    };
    name.trim().eq_ignore_ascii_case("q") && value.trim().parse::<f32>().is_ok_and(|q| q <= 0.0)
}

/// The media type of a request's Content-Type as Go's `mime.ParseMediaType` reports it:
/// lower case, parameters dropped; `application/octet-stream` when absent.
pub fn media_type(content_type: Option<&HeaderValue>) -> String {
    match content_type {
        None => "application/octet-stream".to_owned(),
        Some(v) => String::from_utf8_lossy(v.as_bytes())
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn clean_like_go() {
        for (input, want) in [
            ("/", "/"),
            ("/v1", "/v1"),
            ("/v1/", "/v1"),
            ("//v1//request-landing", "/v1/request-landing"),
            ("/v1/./x/../request-landing", "/v1/request-landing"),
            ("/../v1", "/v1"),
            ("/..", "/"),
            ("*", "*"),
            ("", "."),
            ("a/../..", ".."),
        ] {
            assert_eq!(clean_path(input), want, "{input}");
        }
    }

    #[test]
    fn go_escapes() {
        let mut s = String::new();
        push_json_string(&mut s, "a<b>&\"\\\u{1}");
        assert_eq!(s, r#""a\u003cb\u003e\u0026\"\\\u0001""#);
    }

    #[test]
    fn accept_negotiation() {
        let t = |v: &str| accepts_text([HeaderValue::from_str(v).unwrap()].iter());
        assert!(t("*/*"));
        assert!(t("text/*"));
        assert!(t("application/json, text/plain;q=0.5"));
        assert!(!t("application/json"));
        assert!(!t("text/plain;q=0"));
        assert!(!accepts_text([].iter()));
    }
}
