//! Runs the step table ([`super::steps`]): starts a galaxy of its own (in this process, on free
//! loopback ports, with a private discovery file), runs each galaxia command exactly as shown
//! through the CLI parser, checks what it gave and what the galaxy did, and shows the ships'
//! patrol counters. A failed check is remembered and named at the end; the run goes on so that one
//! run shows everything.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use frota::Outcome;

use super::lang::Lang;
use super::narration::{self, text};
use super::steps::{Action, Check, Cmd, Expect, Galaxia, STEPS, Say};
use super::timing::{
    EXPLOSION_DELAY, MUST_HAPPEN, PATROL_INTERVAL, PATROL_TIMEOUT, RESTART_BACKOFF, SETTLE,
};
use crate::cli::{Command, Error, Io, VerbLine};
use crate::control::discovery::{self, ControlArgs, Discovery};
use crate::flows::flow::{Event, TcpFlags};
use crate::galaxy::{Datapath, Options, Running, ship};
use crate::manifest::{self, book};
use crate::state::{Cluster, Role};

/// What the counters were at the last [`Action::Mark`].
#[derive(Debug, Clone, Default)]
struct Mark {
    counts: BTreeMap<String, BTreeMap<Outcome, u64>>,
    restarts: u32,
}

pub struct Runner<'o> {
    lang: Lang,
    datapath: Datapath,
    /// Holds the book's files under the names the commands use (`k8s/politica_l4.yml`).
    dir: PathBuf,
    out: &'o mut dyn std::io::Write,
    err: &'o mut dyn std::io::Write,
    rt: tokio::runtime::Runtime,
    running: Option<Running>,
    control: ControlArgs,
    failures: Vec<String>,
    step: &'static str,
    mark: Mark,
}

impl<'o> Runner<'o> {
    pub fn new(lang: Lang, datapath: Datapath, dir: PathBuf, io: Io<'o>) -> Result<Self, Error> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| Error::verb("tutorial: starting the runtime", e))?;
        let control = ControlArgs {
            control_file: Some(dir.join("control.json")),
        };
        Ok(Runner {
            lang,
            datapath,
            dir,
            out: io.out,
            err: io.err,
            rt,
            running: None,
            control,
            failures: Vec::new(),
            step: "",
            mark: Mark::default(),
        })
    }

    /// Every step, then the verdict.
    pub fn run(&mut self) -> Result<(), Error> {
        let result = self.steps();
        if let Some(running) = self.running.take() {
            self.rt.block_on(running.stop());
        }
        result?;
        let lang = self.lang;
        writeln!(self.out)?;
        if self.failures.is_empty() {
            writeln!(self.out, "{}", narration::complete(lang))?;
            return Ok(());
        }
        writeln!(self.out, "{}", narration::failed(lang))?;
        for f in &self.failures {
            writeln!(self.out, "  - {f}")?;
        }
        self.out.flush()?;
        writeln!(
            self.err,
            "galaxia tutorial: {} step(s) failed",
            self.failures.len()
        )?;
        Err(Error::Reported(1))
    }

    fn steps(&mut self) -> Result<(), Error> {
        for step in STEPS {
            self.step = text(step.title, self.lang);
            writeln!(self.out, "\n=== {} ===", self.step)?;
            if let Some(intro) = step.intro {
                let intro = match (intro, self.datapath) {
                    (Say::DeployIntro, Datapath::Ebpf) => Say::DeployIntroEbpf,
                    _ => intro,
                };
                writeln!(self.out, "{}", text(intro, self.lang))?;
            }
            for action in step.actions {
                match action {
                    Action::Run(cmd) => self.command(cmd)?,
                    Action::Mark => self.mark = self.snapshot(),
                    Action::Check(check, say) => {
                        let ok = self.wait(*check);
                        self.check(ok, text(*say, self.lang).to_string())?;
                    }
                    Action::Traffic => self.traffic()?,
                    Action::Ui(say) => self.ui(*say)?,
                }
            }
        }
        Ok(())
    }

    fn cluster(&self) -> Option<Arc<Cluster>> {
        self.running.as_ref().map(|r| r.galaxy.cluster.clone())
    }

    fn snapshot(&self) -> Mark {
        let Some(c) = self.cluster() else {
            return Mark::default();
        };
        Mark {
            counts: c
                .pods
                .iter()
                .filter(|p| p.role() == Role::Ship)
                .map(|p| (p.name().to_string(), ship::counts(p)))
                .collect(),
            restarts: restarts(&c),
        }
    }

    /// Wait (up to [`MUST_HAPPEN`]) for `check` to hold.
    fn wait(&self, check: Check) -> bool {
        // The first step starts the galaxy; before that, nothing holds.
        let Some(c) = self.cluster() else {
            return false;
        };
        let mark = &self.mark;
        let count = |pod: &str, o: Outcome| {
            c.find_pod(pod)
                .map(|p| ship::counts(p).get(&o).copied().unwrap_or(0))
                .unwrap_or(0)
        };
        let before = |pod: &str, o: Outcome| {
            mark.counts
                .get(pod)
                .and_then(|m| m.get(&o))
                .copied()
                .unwrap_or(0)
        };
        wait_until(MUST_HAPPEN, || match check {
            Check::AllReady => c.pods.iter().all(|p| p.read(|s| s.ready)),
            Check::Grows(pods, o) => pods.iter().all(|p| count(p, o) > before(p, o)),
            Check::ReplicaDown => {
                c.pods
                    .iter()
                    .any(|p| p.role() == Role::DeathStar && !p.read(|s| s.ready))
                    || restarts(&c) > mark.restarts
            }
            Check::ReplicaBack => {
                c.pods.iter().all(|p| p.read(|s| s.ready)) && restarts(&c) > mark.restarts
            }
            Check::FlowsShowDenialAndDrop => {
                let all = c.flows.snapshot();
                let l7 = all.iter().any(|f| {
                    f.is_l7_denial()
                        && f.http().is_some_and(|h| {
                            &*h.method == "PUT" && h.url.ends_with("/v1/exhaust-port")
                        })
                });
                let l4 = all.iter().any(
                    |f| matches!(f.event, Event::Drop { flags, .. } if flags == TcpFlags::SYN),
                );
                l7 && l4
            }
        })
    }

    fn command(&mut self, cmd: &Cmd) -> Result<(), Error> {
        let shown = match cmd.galaxia {
            Galaxia::Verb(line) | Galaxia::Note(line) => line,
        };
        let (prompt, book) = cmd.book_line(self.lang);
        writeln!(self.out, "  {prompt:>7}$ {book}")?;
        writeln!(self.out, "  {:>7}$ {shown}", "galaxia")?;
        self.out.flush()?;
        let Galaxia::Verb(line) = cmd.galaxia else {
            return Ok(());
        };
        let mut parsed = match VerbLine::parse_words(line.split_whitespace()) {
            Ok(p) => p.command,
            Err(e) => {
                return self.check(false, format!("{line}: {}", e.kind()));
            }
        };
        if cmd.expect == Expect::StartsGalaxy {
            return self.start();
        }
        parsed.retarget(&self.control, &self.dir);
        let pod = match &parsed {
            Command::Exec(a) => a.pod.clone(),
            _ => String::new(),
        };
        let verb = line.strip_prefix("galaxia ").unwrap_or(line);
        let Some((code, stdout, stderr)) = run_verb(parsed, MUST_HAPPEN) else {
            return self.check(false, format!("{line}: {}", "no end in sight"));
        };
        for l in String::from_utf8_lossy(&stdout)
            .lines()
            .chain(String::from_utf8_lossy(&stderr).lines())
        {
            writeln!(self.out, "    {l}")?;
        }
        let Some(what) = narration::expectation(cmd.expect, &pod, verb, self.lang) else {
            if code != 0 {
                return self.check(false, format!("{line}: exit {code}"));
            }
            return Ok(());
        };
        if cmd.expect == Expect::Hangs {
            writeln!(self.out, "    {}", narration::hung(self.lang))?;
        }
        let ok = expected(cmd.expect, code, &stdout);
        let detail = if ok {
            what
        } else {
            format!(
                "{what} (got exit {code}, body {:?})",
                String::from_utf8_lossy(&stdout)
            )
        };
        self.check(ok, detail)
    }

    /// The first step's `galaxia up`: the book's manifests, the tutorial's short timings.
    fn start(&mut self) -> Result<(), Error> {
        let manifests = manifest::load_str(book::STARWARS, "k8s/starwars.yml")?;
        let options = Options {
            patrol: true,
            restart_backoff: RESTART_BACKOFF,
            explosion_delay: EXPLOSION_DELAY,
            patrol_interval: PATROL_INTERVAL,
            patrol_timeout: PATROL_TIMEOUT,
            datapath: self.datapath,
            ..Options::default()
        };
        let running = self
            .rt
            .block_on(crate::galaxy::launch(
                &manifests,
                options,
                crate::galaxy::Ports { hubble: 0, ui: 0 },
            ))
            .map_err(|e| Error::verb("tutorial: starting the galaxy", e))?;
        discovery::write(
            &self.control.path(),
            &Discovery {
                addr: running.addr,
                pid: std::process::id(),
                hubble: Some(running.hubble),
                ui: Some(running.ui),
                token: running.token.clone(),
            },
        )
        .map_err(|e| Error::verb("tutorial: writing the discovery file", e))?;
        // As `galaxia up --datapath ebpf` says it: where each pod lives.
        for p in &running.galaxy.cluster.pods {
            if let Some(sb) = crate::ebpf::registry::sandbox(&running.galaxy.cluster, p.id) {
                writeln!(
                    self.out,
                    "    pod {:<40} {:<15} netns {}",
                    p.name(),
                    p.info.ip,
                    sb.netns.display()
                )?;
            }
        }
        self.running = Some(running);
        let ready = self.wait(Check::AllReady);
        if !ready {
            return self.check(false, text(Say::AllReady, self.lang).to_string());
        }
        Ok(())
    }

    fn check(&mut self, ok: bool, what: String) -> Result<(), Error> {
        let mark = if ok {
            "ok"
        } else {
            narration::failed_mark(self.lang)
        };
        writeln!(self.out, "  [{mark}] {what}")?;
        if !ok {
            self.failures.push(format!("{}: {what}", self.step));
        }
        self.out.flush()?;
        Ok(())
    }

    /// What the web UI shows now, and where it is.
    fn ui(&mut self, say: Say) -> Result<(), Error> {
        let Some(addr) = self.running.as_ref().map(|r| r.ui) else {
            return Ok(());
        };
        let lang = self.lang;
        writeln!(
            self.out,
            "  {} (http://{addr}): {}",
            narration::in_the_ui(lang),
            text(say, lang)
        )?;
        Ok(())
    }

    /// The ships' patrol counters, by outcome.
    fn traffic(&mut self) -> Result<(), Error> {
        std::thread::sleep(SETTLE);
        let Some(c) = self.cluster() else {
            return Ok(());
        };
        writeln!(self.out, "  {}:", narration::traffic(self.lang))?;
        for p in c.pods.iter().filter(|p| p.role() == Role::Ship) {
            let counts = ship::counts(p);
            let text = if counts.is_empty() {
                narration::no_traffic(self.lang).to_string()
            } else {
                counts
                    .iter()
                    .map(|(o, n)| format!("{o}={n}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            writeln!(self.out, "    {:<10} {text}", p.name())?;
        }
        Ok(())
    }
}

/// Did a command give what the step expects?
pub fn expected(expect: Expect, code: i32, stdout: &[u8]) -> bool {
    match expect {
        Expect::Landed => code == 0 && stdout == estrela_da_morte::wire::LANDED,
        Expect::Hangs => code == 28 && stdout.is_empty(),
        Expect::Exploded => code == 0 && stdout == estrela_da_morte::wire::EXHAUST_PORT_PANIC,
        Expect::Denied => code == 0 && stdout == frota::outcome::ACCESS_DENIED_BODY,
        Expect::Prints(text) => code == 0 && stdout == text.as_bytes(),
        Expect::Shows(text) => code == 0 && String::from_utf8_lossy(stdout).contains(text),
        Expect::Succeeds | Expect::StartsGalaxy | Expect::Nothing => code == 0,
    }
}

/// Run a verb on a thread of its own, so that one that never ends (a broken galaxy) cannot stall
/// the tutorial: its exit code, stdout and stderr, or `None` after `limit`.
fn run_verb(cmd: Command, limit: Duration) -> Option<(i32, Vec<u8>, Vec<u8>)> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let result = cmd.run(&mut Io::new(&mut out, &mut err));
        let code = match result {
            Ok(()) => 0,
            Err(Error::Reported(c)) => i32::from(c),
            Err(e) => {
                let _ = writeln!(err, "galaxia: {}", e.chain());
                i32::from(e.exit_code())
            }
        };
        let _ = tx.send((code, out, err));
    });
    rx.recv_timeout(limit).ok()
}

fn restarts(c: &Cluster) -> u32 {
    c.pods.iter().map(|p| p.read(|s| s.restarts)).sum()
}

/// Poll `f` until it returns true or `within` passes.
fn wait_until(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + within;
    loop {
        if f() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Write the book's files under `dir` by the names the commands use.
pub fn write_book_files(dir: &Path) -> std::io::Result<()> {
    let k8s = dir.join("k8s");
    std::fs::create_dir_all(&k8s)?;
    for (name, text) in [
        ("starwars.yml", book::STARWARS),
        ("politica_l4.yml", book::POLITICA_L4),
        ("politica_l7.yml", book::POLITICA_L7),
    ] {
        std::fs::write(k8s.join(name), text)?;
    }
    Ok(())
}
