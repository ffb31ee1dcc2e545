//! Bounds a manifest must keep before it is parsed: the YAML parser's cost grows faster than
//! linearly with nesting (200,000 nested `[` kept a core busy for minutes), and no Kubernetes
//! object nests more than a few levels, so depth is measured first, in one cheap pass.

/// The largest manifest text galaxia reads: the Kubernetes API server's request limit.
pub const MAX_BYTES: usize = 3 << 20;
/// Deeper than any Kubernetes or Cilium object (a CNP's HTTP rule is about 10 levels down).
pub const MAX_DEPTH: usize = 64;

/// Why a text is refused before parsing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TooBig {
    #[error(
        "{0} bytes is more than the {MAX_BYTES} a manifest may have (the Kubernetes API server's request limit): split it into smaller files"
    )]
    Bytes(usize),
    #[error(
        "nests deeper than {MAX_DEPTH} levels (at line {0}): no Kubernetes object does; check that this is the file you meant"
    )]
    Depth(usize),
}

/// Check `text` against the bounds. Depth counts flow collections (`[`, `{` outside quotes and
/// comments) and block nesting (indentation and `- ` items); it is an upper estimate, which is
/// what a bound needs.
pub fn check(text: &str) -> Result<(), TooBig> {
    if text.len() > MAX_BYTES {
        return Err(TooBig::Bytes(text.len()));
    }
    let mut flow = 0usize;
    let mut blocks: Vec<usize> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let lineno = n + 1;
        let trimmed = line.trim_start_matches(' ');
        if flow == 0 && !trimmed.is_empty() && !trimmed.starts_with('#') {
            let mut col = line.len() - trimmed.len();
            while blocks.last().is_some_and(|&c| c >= col) {
                blocks.pop();
            }
            blocks.push(col);
            // `- - - x`: each dash opens a sequence one level further in.
            let mut rest = trimmed;
            while let Some(r) = rest.strip_prefix("- ") {
                col += 2;
                blocks.push(col);
                rest = r.trim_start_matches(' ');
            }
            if blocks.len() > MAX_DEPTH {
                return Err(TooBig::Depth(lineno));
            }
        }
        let mut quote: Option<char> = None;
        for c in line.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '#') => break,
                (None, '[' | '{') => {
                    flow += 1;
                    if flow + blocks.len() > MAX_DEPTH {
                        return Err(TooBig::Depth(lineno));
                    }
                }
                (None, ']' | '}') => flow = flow.saturating_sub(1),
                _ => {}
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_manifests_pass_and_hostile_nesting_does_not() {
        for m in [
            super::super::book::STARWARS,
            super::super::book::POLITICA_L7,
        ] {
            assert_eq!(check(m), Ok(()));
        }
        let brackets = "[".repeat(200_000);
        assert!(matches!(check(&brackets), Err(TooBig::Depth(1))));
        let dashes = "- ".repeat(100);
        assert!(matches!(check(&dashes), Err(TooBig::Depth(1))));
        let mut indented = String::new();
        for i in 0..100 {
            indented.push_str(&" ".repeat(i));
            indented.push_str("k:\n");
        }
        assert!(matches!(check(&indented), Err(TooBig::Depth(65))));
        assert!(matches!(
            check(&"x".repeat(MAX_BYTES + 1)),
            Err(TooBig::Bytes(_))
        ));
        assert_eq!(check("a: \"[[[[[[\" # [[[[\n"), Ok(()));
    }
}
