//! `galaxia exec POD -- CMD ARGS...`: run a command with a pod's identity. Its HTTP traffic goes
//! through the pod's egress proxy (`http_proxy`, with `no_proxy` cleared), so policies see it as
//! the pod's.
//!
//! On this datapath `curl` is always the ships' own curl (frota's, what `kubectl exec caca-tie --
//! curl` runs in the demo's images), as the pod runs it: names resolve through the pod's cluster
//! DNS (the galaxy's Services, with a pod's search list), so a name no Service has is curl's exit
//! 6, and each connection is taken to the egress proxy without curl knowing of a proxy. A system
//! curl behind `http_proxy` cannot do that: it would print the proxy's answer and exit 0.

use std::ffi::OsString;
use std::io::Read;
use std::process::{Command, Stdio};

use super::error::Error;
use super::kubectl::not_found;
use super::print::Io;
use super::session::connect;
use crate::control::discovery::ControlArgs;
use crate::control::views::{PodView, ServiceView};
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
    /// Use the built-in curl even when the system has one (on the eBPF datapath; on the
    /// userspace datapath `curl` is always the built-in one).
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
    let code = if program == "curl" {
        let services = rt.block_on(control.services())?;
        let dns = ClusterDns::write(pod, &services)?;
        let egress = pod
            .egress
            .trim_start_matches("http://")
            .parse()
            .map_err(|_| Error::Usage(format!("the pod's egress proxy {:?}", pod.egress)))?;
        let lookup = |k: &str| match k {
            frota::resolve::ENV_RESOLV_CONF => Some(dns.resolv_conf()),
            frota::resolve::ENV_HOSTS => Some(dns.hosts()),
            "HOSTNAME" => Some(pod.name.clone()),
            // The pod's environment has no proxy: the egress proxy is the datapath.
            k if k.eq_ignore_ascii_case("http_proxy")
                || k.eq_ignore_ascii_case("all_proxy")
                || k.eq_ignore_ascii_case("no_proxy")
                || k == frota::resolve::ENV_DNS_PORT =>
            {
                None
            }
            other => std::env::var(other).ok(),
        };
        let mut stdout = Vec::new();
        let mut stderr = Vec::new();
        let code = rt.block_on(frota::curl::run_with(
            rest.to_vec(),
            &lookup,
            Some(frota::curl::Intercept { egress }),
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

/// A pod's view of cluster DNS as the files frota's resolver reads: every Service's
/// `name.namespace.svc.cluster.local` in a hosts file, and the resolv.conf Kubernetes gives a pod
/// (its namespace's search list, `ndots:5`) without a nameserver, so that nothing else answers
/// and no query leaves the machine. Pod names do not resolve, as in a cluster. Removed on drop.
struct ClusterDns {
    dir: std::path::PathBuf,
}

impl ClusterDns {
    fn write(pod: &PodView, services: &[ServiceView]) -> Result<ClusterDns, Error> {
        use std::os::unix::fs::DirBuilderExt;
        let base = std::env::temp_dir();
        let mut n = 0u32;
        let dir = loop {
            let dir = base.join(format!("galaxia-exec-{}-{n}", std::process::id()));
            match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => break dir,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => n += 1,
                Err(e) => return Err(Error::verb("writing the pod's DNS files", e)),
            }
        };
        let dns = ClusterDns { dir };
        let mut hosts = String::new();
        for s in services {
            hosts.push_str(&format!(
                "{} {}.{}.svc.cluster.local\n",
                s.cluster_ip, s.name, s.namespace
            ));
        }
        let ns = &pod.namespace;
        let resolv = format!(
            "search {ns}.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n"
        );
        std::fs::write(dns.dir.join("hosts"), hosts)
            .and_then(|()| std::fs::write(dns.dir.join("resolv.conf"), resolv))
            .map_err(|e| Error::verb("writing the pod's DNS files", e))?;
        Ok(dns)
    }

    fn hosts(&self) -> String {
        self.dir.join("hosts").to_string_lossy().into_owned()
    }

    fn resolv_conf(&self) -> String {
        self.dir.join("resolv.conf").to_string_lossy().into_owned()
    }
}

impl Drop for ClusterDns {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
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
