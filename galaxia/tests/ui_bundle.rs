//! The web UI's committed bundle (galaxia/ui/dist, embedded in the binary) is what
//! galaxia/ui/build.sh makes from the committed sources: dist/SOURCES.sha256, written by the
//! build, lists the hash of every source and of every built file, and this test recomputes them.
//! A source changed without a rebuild, or a bundle edited by hand, fails here; the fix is
//! `galaxia/ui/build.sh` and committing dist/. (`build.sh --check`, run by scripts/test.sh where
//! Node.js is installed, rebuilds from scratch and compares byte for byte.)

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

fn ui_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("ui")
}

fn sha256(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The sources in build.sh's order: three files, then everything under src/ sorted by bytes.
fn sources(dir: &Path) -> Vec<String> {
    let mut src = Vec::new();
    let mut stack = vec![dir.join("src")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read src/") {
            let p = e.expect("dir entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).expect("under ui/");
                src.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    src.sort();
    let mut all: Vec<String> = ["package.json", "package-lock.json", "build.sh"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    all.extend(src);
    all
}

#[test]
fn the_committed_bundle_is_built_from_the_committed_sources() {
    let dir = ui_dir();
    let mut want = String::new();
    for f in sources(&dir) {
        want.push_str(&format!("{}  {f}\n", sha256(&dir.join(&f))));
    }
    for f in ["app.js", "app.css", "index.html", "favicon.svg"] {
        want.push_str(&format!(
            "{}  dist/{f}\n",
            sha256(&dir.join("dist").join(f))
        ));
    }
    let recorded =
        std::fs::read_to_string(dir.join("dist/SOURCES.sha256")).expect("SOURCES.sha256");
    let stale: Vec<&str> = want
        .lines()
        .filter(|l| !recorded.lines().any(|r| r == *l))
        .collect();
    assert!(
        stale.is_empty() && recorded == want,
        "galaxia/ui/dist is not the build of galaxia/ui's sources: run galaxia/ui/build.sh and commit dist/.\nchanged since the last build: {stale:#?}"
    );
    assert_eq!(
        galaxia::ui::assets::SOURCES_SHA256,
        recorded,
        "the binary embeds this bundle"
    );
}

#[test]
fn the_bundle_fetches_nothing_from_elsewhere() {
    // Everything the page loads comes from galaxia itself: no URL of another host in what it
    // serves (the SVG namespace is a name, not a fetch).
    let dist = ui_dir().join("dist");
    for f in ["app.js", "app.css", "index.html", "favicon.svg"] {
        let text = std::fs::read_to_string(dist.join(f)).expect("dist file");
        for (i, _) in text.match_indices("//") {
            let before = &text[..i];
            let scheme = before.ends_with("http:") || before.ends_with("https:");
            if scheme {
                let rest = &text[i + 2..];
                assert!(
                    rest.starts_with("www.w3.org/2000/svg"),
                    "{f} refers to another host: {}",
                    &rest[..rest.len().min(60)]
                );
            }
        }
        assert!(!text.contains("@import url("), "{f} imports from elsewhere");
    }
}
