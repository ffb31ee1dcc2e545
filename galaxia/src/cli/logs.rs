//! `galaxia logs POD`: what a pod's container wrote, as `kubectl logs` prints it (the Death Star
//! replica's log lines and access log, and how it died; a ship's patrol), with `--previous`,
//! `--follow` and `--tail`.

use std::time::Duration;

use super::error::Error;
use super::print::Io;
use super::session::connect;
use crate::control::ControlError;
use crate::control::api::LogQuery;
use crate::control::discovery::ControlArgs;

/// How often `-f` asks for new lines.
const FOLLOW_PERIOD: Duration = Duration::from_millis(200);

/// Print the logs of a pod's container.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The pod (`name`, or `pod/name`).
    pub pod: String,
    /// The container (each pod of the galaxy has one).
    #[arg(short = 'c', long)]
    pub container: Option<String>,
    /// Print the logs of the previous instance of the container (before it exploded).
    #[arg(short = 'p', long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub previous: Option<bool>,
    /// Keep printing new lines until the container ends.
    #[arg(short = 'f', long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub follow: Option<bool>,
    /// Lines of the most recent log to show; -1 shows all.
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    pub tail: i64,
    #[arg(short = 'n', long, default_value = "default")]
    pub namespace: String,
    #[command(flatten)]
    pub control: ControlArgs,
}

pub fn run(args: Args, io: &mut Io<'_>) -> Result<(), Error> {
    let name = args
        .pod
        .strip_prefix("pod/")
        .or_else(|| args.pod.strip_prefix("pods/"))
        .or_else(|| args.pod.strip_prefix("po/"))
        .unwrap_or(&args.pod)
        .to_string();
    let (control, rt) = connect(&args.control)?;
    let previous = args.previous.unwrap_or(false);
    let follow = args.follow.unwrap_or(false) && !previous;
    let mut q = LogQuery {
        pod: format!("{}/{name}", args.namespace),
        previous,
        since: 0,
        tail: usize::try_from(args.tail).ok(),
    };
    let mut generation = None;
    loop {
        let chunk = match rt.block_on(control.logs(&q)) {
            Ok(c) => c,
            // Pod gone while following: kubectl's stream ends.
            Err(ControlError::Refused(_)) if generation.is_some() => return Ok(()),
            Err(ControlError::Refused(msg)) => {
                writeln!(io.err, "{msg}")?;
                return Err(Error::Reported(1));
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(g) = generation
            && g != chunk.generation
        {
            // The container restarted: the stream of the one followed has ended.
            return Ok(());
        }
        for line in &chunk.lines {
            writeln!(io.out, "{line}")?;
        }
        io.out.flush()?;
        if !follow || chunk.ended {
            return Ok(());
        }
        generation = Some(chunk.generation);
        q.since = chunk.next;
        q.tail = None;
        std::thread::sleep(FOLLOW_PERIOD);
    }
}
