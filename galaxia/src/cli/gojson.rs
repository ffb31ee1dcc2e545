//! Go's `encoding/json` output, which kubectl's `-o json` and JSONPath's values are.

use serde_json::Value;

/// JSON as Go's `encoding/json` writes it: `<`, `>`, `&`, U+2028 and U+2029 escaped; with
/// `pretty`, `MarshalIndent(v, "", "    ")`.
pub fn go_json(v: &Value, pretty: bool) -> String {
    let text = if pretty {
        let mut buf = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
        match serde::Serialize::serialize(v, &mut ser) {
            Ok(()) => String::from_utf8(buf).unwrap_or_default(),
            Err(_) => String::new(),
        }
    } else {
        v.to_string()
    };
    // These characters appear only inside strings in JSON text, so a plain replacement is exact.
    text.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}
