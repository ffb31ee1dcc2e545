//! `galaxia tutorial [--lang pt|en]`: the book's tutorial, scripted and narrated, on a galaxy of its
//! own. The steps are data ([`steps`]), the texts apart ([`narration`]), and [`runner`] runs them:
//! each galaxia command exactly as shown, through the same CLI parser as a shell's.
//!
//! `--datapath ebpf` (root) runs the same steps on the eBPF datapath: the pods are processes in
//! network namespaces, the book's `kubectl exec ... curl` is Debian's curl inside them, and the
//! ships' counters are read from their own `/metrics` there.
//!
//! The galaxy runs on its own multi-threaded runtime in this process; the explosion delay and the
//! restart back-off are shortened (1 s each) so that the exhaust-port step takes seconds, and the
//! narration says so.

pub mod lang;
pub mod narration;
pub mod runner;
pub mod steps;

use std::path::PathBuf;

use crate::cli::{Error, Io};

pub use lang::Lang;

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

/// Run the book's tutorial end to end, narrated; exits non-zero naming the step that misbehaved.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Narration language.
    #[arg(long, value_enum, default_value_t = Lang::Pt)]
    pub lang: Lang,
    /// The datapath of the tutorial's galaxy: `userspace` (the default, no root) or `ebpf`
    /// (pods in network namespaces, policies in eBPF programs, Debian's curl inside the pods;
    /// root).
    #[arg(long, value_enum, default_value = "userspace")]
    pub datapath: crate::cli::up::DatapathArg,
}

/// Run the whole tutorial, writing the narration and every command's output to `io`.
pub fn run(args: Args, io: Io<'_>) -> Result<(), Error> {
    // Refuse before the first narrated line when root, the programs or a binary is missing:
    // the same words as `galaxia up --datapath ebpf`.
    if args.datapath == crate::cli::up::DatapathArg::Ebpf {
        crate::ebpf::preflight().map_err(|e| Error::Usage(e.to_string()))?;
    }
    let dir =
        scratch_dir().map_err(|e| Error::verb("tutorial: preparing a scratch directory", e))?;
    let result = runner::Runner::new(args.lang, args.datapath.into(), dir.clone(), io)
        .and_then(|mut t| t.run());
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// A private directory for the book's files and the discovery file.
fn scratch_dir() -> std::io::Result<PathBuf> {
    let base = std::env::temp_dir();
    for i in 0..100u32 {
        let dir = base.join(format!("galaxia-tutorial-{}-{i}", std::process::id()));
        match std::fs::create_dir(&dir) {
            Ok(()) => {
                runner::write_book_files(&dir)?;
                return Ok(dir);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("no free scratch directory name"))
}
