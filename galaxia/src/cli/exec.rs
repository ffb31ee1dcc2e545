//! `galaxia exec POD -- CMD ARGS...`: run a command with a pod's identity. Its HTTP traffic goes
//! through the pod's egress proxy (`http_proxy`, with `no_proxy` cleared), so policies see it as
//! the pod's. `curl` is the system's curl when there is one, else frota's built-in front end.

use std::ffi::OsString;
use std::io::Read;
use std::process::{Command, Stdio};

use super::error::Error;
use super::kubectl::not_found;
use super::print::Io;
use super::session::connect;
use crate::control::discovery::ControlArgs;
use crate::control::views::PodView;
use crate::manifest::{ObjectKind, split_namespaced};

/// Run a command as if inside a pod (kubectl exec).
#[derive(Debug, clap::Args)]
#[command(trailing_var_arg = true)]
pub struct Args {
    /// The pod (`name` or `namespace/name`).
    pub pod: String,
    /// The command and its arguments, after `--`.
    #[arg(required = true, allow_hyphen_values = true)]
    pub command: Vec<OsString>,
    /// Accepted for kubectl compatibility (stdin is always passed through).
    #[arg(short = 'i', long)]
    pub stdin: bool,
    /// Accepted for kubectl compatibility.
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Use the built-in curl even when the system has one.
    #[arg(long, env = "GALAXIA_BUILTIN_CURL")]
    pub builtin_curl: bool,
    #[command(flatten)]
    pub control: ControlArgs,
}

pub fn run(args: Args, io: &mut Io<'_>) -> Result<(), Error> {
    let (control, rt) = connect(&args.control)?;
    let pods = rt.block_on(control.pods())?;
    let (ns, name) = split_namespaced(&args.pod);
    let Some(pod) = pods
        .iter()
        .find(|p| p.name == name && ns.is_none_or(|ns| ns == p.namespace))
    else {
        writeln!(io.err, "{}", not_found(ObjectKind::Pod, name))?;
        return Err(Error::Reported(1));
    };
    // On the eBPF datapath the pod is a set of namespaces: run the command inside them.
    if let Some(sandbox) = &pod.sandbox {
        let code = super::exec_pod::run(pod, sandbox, &args.command, args.builtin_curl, io)?;
        io.out.flush()?;
        return match code {
            0 => Ok(()),
            c => Err(Error::Reported(u8::try_from(c).unwrap_or(1))),
        };
    }
    let env = pod_env(pod);
    let (program, rest) = args
        .command
        .split_first()
        .ok_or_else(|| Error::Usage("no command given after --".into()))?;
    let code =
        if program == "curl" && (args.builtin_curl || super::exec_pod::system_curl().is_none()) {
            let lookup = |k: &str| {
                env.iter()
                    .find(|(n, _)| n == k)
                    .map(|(_, v)| v.clone())
                    .or_else(|| match k {
                        "no_proxy" | "NO_PROXY" => None,
                        other => std::env::var(other).ok(),
                    })
            };
            let mut stdout = Vec::new();
            let mut stderr = Vec::new();
            let code = rt.block_on(frota::curl::run(
                rest.to_vec(),
                &lookup,
                &mut stdout,
                &mut stderr,
            ));
            io.out.write_all(&stdout)?;
            io.err.write_all(&stderr)?;
            code
        } else {
            spawn(program, rest, &env, io)?
        };
    io.out.flush()?;
    match code {
        0 => Ok(()),
        c => Err(Error::Reported(u8::try_from(c).unwrap_or(1))),
    }
}

/// The environment a pod's process sees: its proxy, its name, no proxy exclusions.
pub fn pod_env(pod: &PodView) -> Vec<(String, String)> {
    vec![
        ("http_proxy".into(), pod.egress.clone()),
        ("HTTP_PROXY".into(), pod.egress.clone()),
        ("HOSTNAME".into(), pod.name.clone()),
    ]
}

fn spawn(
    program: &OsString,
    rest: &[OsString],
    env: &[(String, String)],
    io: &mut Io<'_>,
) -> Result<i32, Error> {
    let mut cmd = Command::new(program);
    cmd.args(rest)
        .env_remove("no_proxy")
        .env_remove("NO_PROXY")
        .env_remove("all_proxy")
        .env_remove("ALL_PROXY")
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            // kubectl's wording for a command the container does not have.
            writeln!(
                io.err,
                "error: exec: \"{}\": {e}",
                program.to_string_lossy()
            )?;
            return Ok(127);
        }
    };
    if let Some(mut stdout) = child.stdout.take() {
        let mut buf = [0u8; 8192];
        loop {
            let n = stdout.read(&mut buf)?;
            if n == 0 {
                break;
            }
            io.out.write_all(&buf[..n])?;
            io.out.flush()?;
        }
    }
    let status = child.wait()?;
    Ok(status.code().unwrap_or(128))
}
