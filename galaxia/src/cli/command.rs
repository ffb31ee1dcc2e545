//! The verbs: one [`Command`] variant per verb, each verb in its own module `cli/<verb>.rs` holding
//! its clap args and `run(args, io)`.
//!
//! Adding a verb: create `cli/<verb>.rs` with `pub struct Args` (clap `Args`; its doc comment is
//! the help) and `pub fn run(args: Args, io: &mut Io<'_>) -> Result<(), Error>`, then add
//! `pub mod <verb>;` in `cli/mod.rs`, one variant to [`Command`] and one arm to [`Command::run`].
//! Output and messages go to the injected [`Io`] so that tests and the tutorial read them; logs go
//! to the process's stderr.

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use super::error::Error;
use super::print::Io;
use super::{
    apply, create, delete, describe, exec, get, hubble, logs, observe, policy, rollout, scale, up,
    watch,
};
use crate::control::discovery::ControlArgs;

/// One variant per verb; the variant's doc comment (or the args' own) is its help line.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ask the policy engine: trace one connection or request, or print the truth table.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Run the galaxy in the foreground: Death Star replicas, ships, proxies, control API.
    Up(up::Args),
    /// List pods, svc, deploy, rs, ep or cnp of the running galaxy, as kubectl get.
    Get(get::Args),
    /// Create or update CiliumNetworkPolicies in the running galaxy.
    Apply(apply::Args),
    /// Create CiliumNetworkPolicies; an existing name is an error.
    Create(create::Args),
    /// Delete CiliumNetworkPolicies by file or name.
    Delete(delete::Args),
    /// Show pods, svc, deploy, rs, ep or cnp in detail, as kubectl describe.
    Describe(describe::Args),
    /// Print the logs of a pod's container (`--previous` after an explosion).
    Logs(logs::Args),
    /// Manage a Deployment's rollout: `rollout restart deployment/NAME`.
    #[command(subcommand)]
    Rollout(rollout::RolloutCommand),
    /// Set a Deployment's replicas: `scale deployment NAME --replicas=N`.
    Scale(scale::Args),
    /// Run a command with a pod's identity (its traffic goes through the pod's proxy).
    Exec(exec::Args),
    /// Hubble-like flows of the running galaxy.
    Observe(observe::Args),
    /// Hubble's own verbs: `hubble ui` opens the web UI (as `cilium hubble ui`).
    #[command(subcommand)]
    Hubble(hubble::HubbleCommand),
    /// The eBPF datapath's maps, as `cilium bpf` prints them (`galaxia up --datapath ebpf`).
    #[command(subcommand)]
    Bpf(super::bpf::BpfCommand),
    /// Remove what eBPF galaxies killed with `kill -9` left behind (root).
    Cleanup(super::bpf::CleanupArgs),
    /// The galaxy's status as `cilium status` shows a cluster's (`--wait` until ready).
    Status(super::status::Args),
}

impl Command {
    pub fn run(self, io: &mut Io<'_>) -> Result<(), Error> {
        match self {
            Command::Policy(cmd) => policy::run(cmd, io),
            Command::Up(args) => up::run(args, io),
            Command::Get(args) if args.watch => watch::run(args, io),
            Command::Get(args) => get::run(args, io),
            Command::Apply(args) => apply::run(args, io),
            Command::Create(args) => create::run(args, io),
            Command::Delete(args) => delete::run(args, io),
            Command::Describe(args) => describe::run(args, io),
            Command::Exec(args) => exec::run(args, io),
            Command::Logs(args) => logs::run(args, io),
            Command::Rollout(cmd) => rollout::run(cmd, io),
            Command::Scale(args) => scale::run(args, io),
            Command::Observe(args) => observe::run(args, io),
            Command::Hubble(cmd) => hubble::run(cmd, io),
            Command::Bpf(cmd) => super::bpf::run_bpf(cmd, io),
            Command::Cleanup(args) => super::bpf::run_cleanup(args, io),
            Command::Status(args) => super::status::run(args, io),
        }
    }
}

impl Command {
    /// Point this command at the galaxy of `control` and read its relative `-f` paths from `base`
    /// (the tutorial runs the book's commands as shown, on a galaxy and files of its own).
    pub fn retarget(&mut self, control: &ControlArgs, base: &Path) {
        let rebase = |files: &mut Vec<PathBuf>| {
            for f in files
                .iter_mut()
                .filter(|f| f.is_relative() && *f != Path::new("-"))
            {
                *f = base.join(&*f);
            }
        };
        match self {
            Command::Policy(policy::PolicyCommand::Trace(a)) => rebase(&mut a.files),
            Command::Policy(policy::PolicyCommand::Table(a)) => rebase(&mut a.files),
            Command::Up(a) => {
                rebase(&mut a.files);
                a.control = control.clone();
            }
            Command::Get(a) => a.control = control.clone(),
            Command::Apply(a) => {
                rebase(&mut a.files);
                a.control = control.clone();
            }
            Command::Create(a) => {
                rebase(&mut a.files);
                a.control = control.clone();
            }
            Command::Delete(a) => {
                rebase(&mut a.files);
                a.control = control.clone();
            }
            Command::Describe(a) => a.control = control.clone(),
            Command::Exec(a) => a.control = control.clone(),
            Command::Logs(a) => a.control = control.clone(),
            Command::Rollout(cmd) => *cmd.control_mut() = control.clone(),
            Command::Scale(a) => a.control = control.clone(),
            Command::Observe(a) => a.control = control.clone(),
            Command::Hubble(hubble::HubbleCommand::Ui(a)) => a.control = control.clone(),
            Command::Bpf(cmd) => *cmd.control_mut() = control.clone(),
            Command::Cleanup(_) => {}
            Command::Status(a) => a.control = control.clone(),
        }
    }
}

/// One verb's command line, `galaxia VERB ARGS...`, as a shell (or the tutorial) types it.
#[derive(Debug, Parser)]
#[command(name = "galaxia")]
pub struct VerbLine {
    #[command(subcommand)]
    pub command: Command,
}

impl VerbLine {
    /// Parse `galaxia VERB ARGS...` split into words (the first is the program name).
    pub fn parse_words<I, T>(words: I) -> Result<VerbLine, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        VerbLine::try_parse_from(words)
    }
}
