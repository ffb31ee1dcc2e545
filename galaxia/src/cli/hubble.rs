//! `galaxia hubble ui`: what `cilium hubble ui` does on a cluster, for the running galaxy: print
//! the address of its web UI and open it in the user's browser where one can be opened (a
//! terminal session with a desktop), and otherwise say to open it.

use std::io::IsTerminal;
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

use clap::Subcommand;

use super::error::Error;
use super::print::Io;
use crate::control::discovery::{self, ControlArgs};

/// How long to wait for the UI's port to answer before saying the galaxy is gone.
const REACH_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Subcommand)]
pub enum HubbleCommand {
    /// Open the running galaxy's web UI (Hubble UI's picture: service map and live flows).
    Ui(UiArgs),
}

#[derive(Debug, clap::Args)]
pub struct UiArgs {
    /// Open the page in the browser (`$BROWSER`, else xdg-open) when there is a desktop to show
    /// it on; `--open-browser=false` only prints the address.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub open_browser: bool,
    #[command(flatten)]
    pub control: ControlArgs,
}

pub fn run(cmd: HubbleCommand, io: &mut Io<'_>) -> Result<(), Error> {
    match cmd {
        HubbleCommand::Ui(args) => ui(args, io),
    }
}

fn ui(args: UiArgs, io: &mut Io<'_>) -> Result<(), Error> {
    let path = args.control.path();
    let d = discovery::read(&path).map_err(|e| Error::verb("finding the galaxy", e))?;
    let Some(addr) = d.ui else {
        return Err(Error::Usage(format!(
            "the galaxy of {} announces no web UI (it was started by a galaxia without one): restart it with `galaxia up`",
            path.display()
        )));
    };
    if TcpStream::connect_timeout(&addr, REACH_TIMEOUT).is_err() {
        return Err(Error::Usage(format!(
            "nothing answers at {addr}: is `galaxia up` still running? (discovery file {})",
            path.display()
        )));
    }
    let url = format!("http://{addr}");
    let opened = if args.open_browser {
        open(&url, addr)
    } else {
        Err("--open-browser=false")
    };
    match opened {
        Ok(how) => writeln!(io.out, "Opening {url} in your browser ({how})...")?,
        Err(why) => writeln!(
            io.out,
            "Hubble UI of the galaxy: {url} (open it in your browser; not opened: {why})"
        )?,
    }
    Ok(())
}

/// Start the user's browser on `url`, or say why not.
fn open(url: &str, addr: SocketAddr) -> Result<String, &'static str> {
    if !addr.ip().is_loopback() {
        return Err("not a loopback address");
    }
    if !std::io::stdout().is_terminal() {
        return Err("not run from a terminal");
    }
    let browser = std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.trim().is_empty());
    let desktop = ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()));
    let program = match (browser, desktop) {
        (Some(b), _) => b,
        (None, true) => "xdg-open".to_string(),
        (None, false) => return Err("no desktop here ($DISPLAY and $BROWSER are unset)"),
    };
    let child = Command::new(&program)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match child {
        Ok(mut c) => {
            // Reaped in the background: a browser may keep running long after we are done.
            std::thread::spawn(move || c.wait());
            Ok(program)
        }
        Err(_) => Err("the browser could not be started"),
    }
}
