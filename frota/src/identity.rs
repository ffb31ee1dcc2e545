//! Who a ship is: a name (the pod), an organisation and a class. The identity travels in the
//! User-Agent of every request, in every log line and as constant labels on every metric, so that
//! Hubble flows, Death Star logs and dashboards all say which ship did what.

use std::fmt;

/// A ship's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// This ship's own name: the pod name under Kubernetes (`HOSTNAME`), else the class.
    pub name: String,
    /// `imperio` or `alianca`, the label the book's policies select on.
    pub org: String,
    /// `caca-tie` or `asa-x`, the book's `class` label.
    pub class: String,
}

impl Identity {
    pub fn new(name: impl Into<String>, org: impl Into<String>, class: impl Into<String>) -> Self {
        Identity {
            name: name.into(),
            org: org.into(),
            class: class.into(),
        }
    }

    /// The imperial TIE fighter (org=imperio, class=caca-tie), named after the class.
    pub fn caca_tie() -> Self {
        Identity::new("caca-tie", "imperio", "caca-tie")
    }

    /// The rebel X-wing (org=alianca, class=asa-x), named after the class.
    pub fn asa_x() -> Self {
        Identity::new("asa-x", "alianca", "asa-x")
    }

    /// The same identity with another name (the pod name, or `--name`).
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// `caca-tie/0.1.0 (name=caca-tie-7d9f; org=imperio; class=caca-tie)`.
    pub fn user_agent(&self) -> String {
        format!(
            "{}/{} (name={}; org={}; class={})",
            self.class,
            env!("CARGO_PKG_VERSION"),
            self.name,
            self.org,
            self.class
        )
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (org={}, class={})", self.name, self.org, self.class)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn user_agent_names_the_ship() {
        let id = Identity::asa_x().named("asa-x-1");
        assert_eq!(
            id.user_agent(),
            format!(
                "asa-x/{} (name=asa-x-1; org=alianca; class=asa-x)",
                env!("CARGO_PKG_VERSION")
            )
        );
        assert_eq!(Identity::caca_tie().org, "imperio");
    }
}
