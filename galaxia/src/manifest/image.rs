//! Which local implementation runs a container image: ours (`jornada/estrela-da-morte:0.1.0`, ...)
//! and upstream's (`quay.io/cilium/starwars`, `quay.io/cilium/json-mock`, `docker.io/tgraf/netperf`)
//! map to the Death Star or a ship, so that Cilium's English manifests work like the book's.

use std::fmt;

/// What galaxia runs for a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImageKind {
    /// The `estrela-da-morte` HTTP server, listening on 80.
    DeathStar,
    /// A ship (`caca-tie`, `asa-x`, or upstream's client images): serves nothing.
    Ship,
}

impl ImageKind {
    /// The port the implementation listens on when the manifest declares none (the book's
    /// `starwars.yml` declares no `containerPort`, yet the Death Star answers on 80).
    pub fn default_port(self) -> Option<(&'static str, u16)> {
        match self {
            ImageKind::DeathStar => Some(("http", 80)),
            ImageKind::Ship => None,
        }
    }
}

impl fmt::Display for ImageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ImageKind::DeathStar => "death-star",
            ImageKind::Ship => "ship",
        })
    }
}

/// The repositories galaxia knows, matched on the image name without registry host, tag or digest.
/// Ours match on their last path component, so any registry or organisation works.
const OURS: [(&str, ImageKind); 3] = [
    ("estrela-da-morte", ImageKind::DeathStar),
    ("caca-tie", ImageKind::Ship),
    ("asa-x", ImageKind::Ship),
];
const UPSTREAM: [(&str, ImageKind); 3] = [
    ("cilium/starwars", ImageKind::DeathStar),
    ("cilium/json-mock", ImageKind::Ship),
    ("tgraf/netperf", ImageKind::Ship),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown image {image:?}: galaxia runs only <any registry>/estrela-da-morte, caca-tie and asa-x \
     (ours), quay.io/cilium/starwars, quay.io/cilium/json-mock and docker.io/tgraf/netperf \
     (upstream's), with any tag or digest"
)]
pub struct UnknownImage {
    pub image: String,
}

/// Map an image reference (`registry/repo:tag@sha256:...`) to what galaxia runs for it.
pub fn image_kind(image: &str) -> Result<ImageKind, UnknownImage> {
    let unknown = || UnknownImage {
        image: image.to_string(),
    };
    let name = repository(image.trim());
    let last = name.rsplit('/').next().unwrap_or(name);
    if let Some((_, kind)) = OURS.iter().find(|(n, _)| *n == last) {
        return Ok(*kind);
    }
    UPSTREAM
        .iter()
        .find(|(n, _)| name == *n || name.strip_suffix(n).is_some_and(|host| host.ends_with('/')))
        .map(|(_, kind)| *kind)
        .ok_or_else(unknown)
}

/// The repository path: without digest, tag, and (for upstream matching) with the registry kept;
/// the caller compares suffixes so that `quay.io/cilium/starwars` and `cilium/starwars` both match.
fn repository(image: &str) -> &str {
    let without_digest = image.split('@').next().unwrap_or(image);
    // A tag is after the last ':' only when no '/' follows it (else it is a registry port).
    match without_digest.rfind(':') {
        Some(i) if !without_digest[i..].contains('/') => &without_digest[..i],
        _ => without_digest,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test may unwrap: a panic is its failure report
mod tests {
    use super::*;

    #[test]
    fn maps_ours_and_upstreams() {
        for (image, kind) in [
            ("jornada/estrela-da-morte:0.1.0", ImageKind::DeathStar),
            ("ghcr.io/x/y/estrela-da-morte", ImageKind::DeathStar),
            ("localhost:5000/caca-tie:dev", ImageKind::Ship),
            ("asa-x", ImageKind::Ship),
            (
                "quay.io/cilium/starwars:v2.1@sha256:833d915ec68fca3ce83668fc5dae97c455b2134d8f23ef96586f55b894cfb1e8",
                ImageKind::DeathStar,
            ),
            ("cilium/starwars", ImageKind::DeathStar),
            (
                "quay.io/cilium/json-mock:v1.3.8@sha256:5aad04835eda9025fe4561ad31be77fd55309af8158ca8663a72f6abb78c2603",
                ImageKind::Ship,
            ),
            ("docker.io/tgraf/netperf", ImageKind::Ship),
            ("tgraf/netperf:latest", ImageKind::Ship),
        ] {
            assert_eq!(image_kind(image), Ok(kind), "{image}");
        }
    }

    #[test]
    fn refuses_others_listing_the_known_ones() {
        for image in [
            "nginx",
            "quay.io/cilium/starwarsx",
            "evilcilium/starwars",
            "",
        ] {
            let err = image_kind(image).unwrap_err();
            assert!(err.to_string().contains("quay.io/cilium/starwars"), "{err}");
        }
    }
}
