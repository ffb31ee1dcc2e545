//! `galaxia observe`: Hubble-like flows of the running galaxy (`hubble observe`), filtered by pod and
//! verdict, once or following new flows.

use std::io::Write;

use super::Error;
use super::get::{runtime, verb};
use crate::control::client::{Control, encode};
use crate::control::discovery::ControlArgs;
use crate::control::views::FlowsResponse;
use crate::flows::{Flow, Verdict};

/// Show flows: time, source pod:port, destination pod:port, verdict and what was seen.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only flows from or to this pod (`name` or `namespace/name`).
    #[arg(long)]
    pub pod: Option<String>,
    /// Only FORWARDED or DROPPED flows.
    #[arg(long, value_enum, ignore_case = true)]
    pub verdict: Option<Verdict>,
    /// Keep printing new flows until interrupted.
    #[arg(short, long)]
    pub follow: bool,
    /// How many of the most recent flows to print first (Hubble's default: 20).
    #[arg(long, default_value_t = 20)]
    pub last: usize,
    /// `json`: one JSON object a line.
    #[arg(short, long, value_parser = ["json"])]
    pub output: Option<String>,
    #[command(flatten)]
    pub control: ControlArgs,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<(), Error> {
    let control = Control::connect(&args.control).map_err(verb)?;
    let rt = runtime()?;
    let json = args.output.is_some();
    let mut query = String::new();
    if let Some(p) = &args.pod {
        query.push_str(&format!("&pod={}", encode(p)));
    }
    if let Some(v) = args.verdict {
        query.push_str(&format!("&verdict={}", v.as_str()));
    }
    let first: FlowsResponse = rt
        .block_on(control.get(&format!("/v1/flows?last={}{query}", args.last)))
        .map_err(verb)?;
    if first.flows.is_empty() && !args.follow {
        writeln!(out, "No flows yet: is traffic going through the galaxy?")?;
        return Ok(());
    }
    print(out, &first.flows, json)?;
    if !args.follow {
        return Ok(());
    }
    let mut after = first.last_seq;
    loop {
        let path = format!("/v1/flows?after={after}&wait_ms=10000{query}");
        let next: FlowsResponse = rt.block_on(control.get(&path)).map_err(verb)?;
        print(out, &next.flows, json)?;
        after = next.flows.last().map_or(after, |f| f.seq);
        out.flush()?;
    }
}

fn print(out: &mut dyn Write, flows: &[Flow], json: bool) -> Result<(), Error> {
    for f in flows {
        if json {
            let line = serde_json::to_string(f).map_err(|e| Error::Verb {
                verb: "json",
                source: Box::new(e),
            })?;
            writeln!(out, "{line}")?;
        } else {
            writeln!(out, "{}", f.line())?;
        }
    }
    Ok(())
}
