//! `galaxia policy trace|table`: ask the policy engine without running anything.

use std::io::Write;

use clap::Subcommand;

use super::Error;

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Trace one connection (and optionally one HTTP request) through the policies.
    Trace,
    /// Print the truth table: every pod to every Death Star, for the demo's three requests.
    Table,
}

pub fn run(cmd: PolicyCommand, out: &mut dyn Write) -> Result<(), Error> {
    writeln!(out, "{cmd:?}: not implemented yet")?;
    Ok(())
}
