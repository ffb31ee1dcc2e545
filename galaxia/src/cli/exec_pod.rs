//! `galaxia exec POD -- CMD` on the eBPF datapath: CMD runs inside the pod, as `kubectl exec`
//! runs it inside the container, so any tool behaves as it would there (Debian's curl with its
//! own timeouts and resolver, nc, tcpdump, `ip addr`). `curl` without a system curl (or with
//! `--builtin-curl`) is the ships' own curl front end, run inside the pod the same way.

use std::ffi::OsString;
use std::io::Read;
use std::path::PathBuf;
use std::process::Stdio;

use super::{Error, Io};
use crate::control::views::PodView;
use crate::ebpf::enter::{self, Sandbox, Tie};
use crate::ebpf::pods::Binaries;

/// Run `command` inside the pod of `sandbox`; its exit code.
pub fn run(
    pod: &PodView,
    sandbox: &Sandbox,
    command: &[OsString],
    builtin_curl: bool,
    io: &mut Io<'_>,
) -> Result<i32, Error> {
    let (program, rest) = command
        .split_first()
        .ok_or_else(|| Error::Usage("no command given after --".into()))?;
    let (program, args): (PathBuf, Vec<OsString>) =
        if program == "curl" && (builtin_curl || system_curl().is_none()) {
            let bins = Binaries::locate().map_err(Error::Usage)?;
            let ship = if pod.labels.get("org").is_some_and(|o| o == "alianca") {
                bins.asa_x
            } else {
                bins.caca_tie
            };
            let mut args = vec![OsString::from("curl")];
            args.extend(rest.iter().cloned());
            (ship, args)
        } else {
            (PathBuf::from(program), rest.to_vec())
        };
    let mut cmd = enter::command(sandbox, &program, &args, Tie::Free)
        .map_err(|e| Error::verb("entering the pod", e))?;
    // There is no egress proxy on this datapath: a proxy from the caller's environment would
    // send the pod's traffic nowhere.
    for var in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
        "no_proxy",
        "NO_PROXY",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("HOSTNAME", &pod.name)
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // kubectl's wording for a command the container does not have.
            writeln!(
                io.err,
                "error: exec: \"{}\": executable file not found in $PATH",
                program.display()
            )?;
            return Ok(127);
        }
        Err(e) => return Err(Error::verb("starting the command inside the pod", e)),
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

/// The system's curl, if it is on the PATH.
pub fn system_curl() -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("curl"))
            .find(|p| p.is_file())
    })
}
