//! The book's tutorial, scripted and narrated: it starts a galaxy of its own (in this process, on
//! free loopback ports, with a private discovery file), runs each step's command as the book does
//! (through the same verbs and frota's curl), checks that the galaxy behaved as the book says, and
//! shows the ships' patrol counters after every step.
//!
//! The galaxy runs on its own multi-threaded runtime; the script runs on the calling thread and
//! drives the verbs exactly as a user's shell would. The explosion delay and the restart back-off
//! are shortened (1 s each) so that the exhaust-port step takes seconds, and the narration says so.

pub mod book;
mod script;

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use crate::cli::Error;

/// The narration's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// Português (the book's language).
    Pt,
    /// English.
    En,
}

impl Lang {
    /// Pick the text in this language.
    pub fn t<'a>(self, pt: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Pt => pt,
            Lang::En => en,
        }
    }
}

/// Timings of the tutorial's galaxy: short enough to keep it moving, generous enough for a loaded
/// 2-core CI machine.
pub mod timing {
    use std::time::Duration;

    /// Patrol requests of each ship.
    pub const PATROL_INTERVAL: Duration = Duration::from_millis(300);
    /// A patrol request dropped by policy counts as `dropped` after this long.
    pub const PATROL_TIMEOUT: Duration = Duration::from_secs(1);
    /// From the exhaust-port hit to the explosion (upstream: 2 s).
    pub const EXPLOSION_DELAY: Duration = Duration::from_secs(1);
    /// Restart back-off base (Kubernetes: 10 s).
    pub const RESTART_BACKOFF: Duration = Duration::from_secs(1);
    /// The longest the tutorial waits for something that must happen (pods ready, a restart).
    pub const MUST_HAPPEN: Duration = Duration::from_secs(90);
    /// How long the tutorial lets traffic flow between steps, so the counters move.
    pub const SETTLE: Duration = Duration::from_millis(1500);
}

/// Run the whole tutorial, writing the narration and every command's output to `out`.
pub fn run(lang: Lang, out: &mut dyn Write) -> Result<(), Error> {
    let dir = scratch_dir().map_err(|e| Error::Verb {
        verb: "tutorial: preparing a scratch directory",
        source: Box::new(e),
    })?;
    let result = script::Tutorial::new(lang, dir.clone(), out).and_then(|mut t| t.run());
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// A private directory for the policy files and the discovery file.
fn scratch_dir() -> std::io::Result<PathBuf> {
    let base = std::env::temp_dir();
    for i in 0..100u32 {
        let dir = base.join(format!("galaxia-tutorial-{}-{i}", std::process::id()));
        match std::fs::create_dir(&dir) {
            Ok(()) => {
                std::fs::write(dir.join("politica_l4.yml"), book::POLITICA_L4)?;
                std::fs::write(dir.join("politica_l7.yml"), book::POLITICA_L7)?;
                return Ok(dir);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("no free scratch directory name"))
}

/// Poll `f` until it returns true or `within` passes.
pub(crate) fn wait_until(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + within;
    loop {
        if f() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
