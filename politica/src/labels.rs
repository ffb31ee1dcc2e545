//! Kubernetes label syntax (the API server's rules), shared by pods, services and policy selectors.

/// Longest label value and key name part.
pub const MAX_NAME: usize = 63;
/// Longest key prefix (a DNS subdomain).
pub const MAX_PREFIX: usize = 253;

/// A label value: empty, or at most 63 characters `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`.
pub fn check_value(value: &str) -> Result<(), String> {
    if value.len() > MAX_NAME {
        return Err(format!(
            "label value {value:?} is {} characters long: at most {MAX_NAME} are allowed",
            value.len()
        ));
    }
    if value.is_empty() || is_name(value) {
        Ok(())
    } else {
        Err(format!(
            "label value {value:?} is not valid: use letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
        ))
    }
}

/// A label key: `[prefix/]name`, the prefix a DNS subdomain (at most 253), the name as a value but
/// not empty.
pub fn check_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(prefix) = prefix
        && !is_dns_subdomain(prefix)
    {
        return Err(format!(
            "label key {key:?} has an invalid prefix {prefix:?}: want a lowercase DNS name of at most {MAX_PREFIX} characters"
        ));
    }
    if name.is_empty() || name.len() > MAX_NAME || !is_name(name) {
        return Err(format!(
            "label key {key:?} is not valid: the name part must have 1 to {MAX_NAME} letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
        ));
    }
    Ok(())
}

fn is_name(s: &str) -> bool {
    let b = s.as_bytes();
    let edge = |c: &u8| c.is_ascii_alphanumeric();
    b.first().is_some_and(edge)
        && b.last().is_some_and(edge)
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// RFC 1123 subdomain, as Kubernetes checks object names and label prefixes.
pub fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_PREFIX
        && s.split('.').all(|part| {
            let b = part.as_bytes();
            let edge = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
            b.first().is_some_and(edge)
                && b.last().is_some_and(edge)
                && b.iter().all(|c| edge(c) || *c == b'-')
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test may unwrap: a panic is its failure report
mod tests {
    use super::*;

    #[test]
    fn values_and_keys() {
        assert!(check_value("").is_ok());
        assert!(check_value("estrela-da-morte").is_ok());
        assert!(check_value(&"a".repeat(63)).is_ok());
        assert!(
            check_value(&"a".repeat(64))
                .unwrap_err()
                .contains("64 characters")
        );
        assert!(check_value("-x").is_err());
        assert!(check_value("a b").is_err());
        assert!(check_key("org").is_ok());
        assert!(check_key("app.kubernetes.io/name").is_ok());
        assert!(check_key("io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name").is_ok());
        assert!(check_key("").is_err());
        assert!(check_key("Bad_/x").is_err());
        assert!(check_key("x/").is_err());
    }
}
