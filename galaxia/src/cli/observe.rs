//! `galaxia observe`: Hubble-like flows of the running galaxy (`hubble observe`), filtered by pod and
//! verdict, once or following new flows.

use std::io::Write;

use super::error::Error;
use super::print::{Format, Io, OutputArgs};
use super::session::connect;
use crate::control::discovery::ControlArgs;
use crate::control::views::FlowsQuery;
use crate::flows::{Flow, Verdict};

/// How long one long poll of `--follow` asks the galaxy to wait for a flow.
const FOLLOW_WAIT_MS: u64 = 10_000;

/// The flag's spelling of a flow verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VerdictArg {
    Forwarded,
    Dropped,
}

impl From<VerdictArg> for Verdict {
    fn from(v: VerdictArg) -> Verdict {
        match v {
            VerdictArg::Forwarded => Verdict::Forwarded,
            VerdictArg::Dropped => Verdict::Dropped,
        }
    }
}

/// Show flows: time, source pod:port, destination pod:port, verdict and what was seen.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only flows from or to this pod (`name` or `namespace/name`).
    #[arg(long)]
    pub pod: Option<String>,
    /// Only FORWARDED or DROPPED flows.
    #[arg(long, value_enum, ignore_case = true)]
    pub verdict: Option<VerdictArg>,
    /// Keep printing new flows until interrupted.
    #[arg(short, long)]
    pub follow: bool,
    /// How many of the most recent flows to print first (Hubble's default: 20).
    #[arg(long, default_value_t = 20)]
    pub last: usize,
    /// `json`: one JSON object a line.
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub control: ControlArgs,
}

pub fn run(args: Args, io: &mut Io<'_>) -> Result<(), Error> {
    let json = args.output.format(&[Format::Json])? == Format::Json;
    let (control, rt) = connect(&args.control)?;
    let query = FlowsQuery {
        pod: args.pod.clone(),
        verdict: args.verdict.map(Verdict::from),
        ..FlowsQuery::default()
    };
    let first = rt.block_on(control.flows(&FlowsQuery {
        last: Some(args.last),
        ..query.clone()
    }))?;
    if first.flows.is_empty() && !args.follow {
        writeln!(io.out, "No flows yet: is traffic going through the galaxy?")?;
        return Ok(());
    }
    print(io.out, &first.flows, json)?;
    if !args.follow {
        return Ok(());
    }
    let mut after = first.last_seq;
    loop {
        let next = rt.block_on(control.flows(&FlowsQuery {
            after: Some(after),
            wait_ms: Some(FOLLOW_WAIT_MS),
            ..query.clone()
        }))?;
        print(io.out, &next.flows, json)?;
        after = next.flows.last().map_or(after, |f| f.seq);
        io.out.flush()?;
    }
}

fn print(out: &mut dyn Write, flows: &[Flow], json: bool) -> Result<(), Error> {
    for f in flows {
        if json {
            serde_json::to_writer(&mut *out, f).map_err(std::io::Error::from)?;
            writeln!(out)?;
        } else {
            writeln!(out, "{}", f.line())?;
        }
    }
    Ok(())
}
