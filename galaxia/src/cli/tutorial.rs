//! `galaxia tutorial [--lang pt|en]`: the book's tutorial on a galaxy of its own.

use std::io::Write;

use super::Error;

/// Run the book's tutorial end to end, narrated; exits non-zero naming the step that misbehaved.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Narration language.
    #[arg(long, value_enum, default_value_t = crate::tutorial::Lang::Pt)]
    pub lang: crate::tutorial::Lang,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<(), Error> {
    crate::tutorial::run(args.lang, out)
}
