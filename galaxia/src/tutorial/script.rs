//! The tutorial's steps, in the book's order. Each step prints the book's command, the galaxia
//! command that does the same here, the output, and a check; a failed check is remembered and
//! named at the end, and the script goes on so that one run shows everything.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use frota::Outcome;

use super::timing::{
    EXPLOSION_DELAY, MUST_HAPPEN, PATROL_INTERVAL, PATROL_TIMEOUT, RESTART_BACKOFF, SETTLE,
};
use super::{Lang, book, wait_until};
use crate::cli::Error;
use crate::cli::get::Resource;
use crate::control::Running;
use crate::control::discovery::{self, ControlArgs, Discovery};
use crate::galaxy::{Options, Role, Upstream, ship};

const SVC: &str = "estrela-da-morte.default.svc.cluster.local";

pub struct Tutorial<'o> {
    lang: Lang,
    dir: PathBuf,
    out: &'o mut dyn Write,
    rt: tokio::runtime::Runtime,
    running: Option<Running>,
    control: ControlArgs,
    failures: Vec<String>,
    step: String,
}

fn verb_err(what: &'static str, e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Verb {
        verb: what,
        source: Box::new(e),
    }
}

impl<'o> Tutorial<'o> {
    pub fn new(lang: Lang, dir: PathBuf, out: &'o mut dyn Write) -> Result<Self, Error> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| verb_err("tutorial: starting the runtime", e))?;
        let control = ControlArgs {
            control_file: Some(dir.join("control.json")),
        };
        Ok(Tutorial {
            lang,
            dir,
            out,
            rt,
            running: None,
            control,
            failures: Vec::new(),
            step: String::new(),
        })
    }

    pub fn run(&mut self) -> Result<(), Error> {
        let result = self.steps();
        if let Some(running) = self.running.take() {
            self.rt.block_on(running.stop());
        }
        result?;
        let lang = self.lang;
        writeln!(self.out)?;
        if self.failures.is_empty() {
            writeln!(
                self.out,
                "{}",
                lang.t(
                    "Tutorial concluído: cada passo se comportou como o livro descreve.",
                    "Tutorial complete: every step behaved as the book says."
                )
            )?;
            Ok(())
        } else {
            writeln!(
                self.out,
                "{}",
                lang.t(
                    "Tutorial com falhas; estes passos não se comportaram como o livro descreve:",
                    "Tutorial failed; these steps did not behave as the book says:"
                )
            )?;
            for f in &self.failures {
                writeln!(self.out, "  - {f}")?;
            }
            self.out.flush()?;
            eprintln!("galaxia tutorial: {} step(s) failed", self.failures.len());
            Err(Error::Reported(1))
        }
    }

    fn steps(&mut self) -> Result<(), Error> {
        let l = self.lang;
        // 1. The galaxy.
        self.header(l.t("Implantando a galáxia", "Deploying the galaxy"))?;
        self.say(l.t(
            "No livro: um cluster kind com Cilium. Aqui: a mesma starwars.yml, cada pod um processo leve no 127.0.0.1, cada um atrás do seu proxy de saída (a sua \"veth\"), onde as políticas do Cilium são aplicadas. Para o tutorial andar depressa, a Estrela da Morte explode 1 s após o ataque (no original, 2 s) e volta após 1 s de back-off (no Kubernetes, 10 s).",
            "In the book: a kind cluster with Cilium. Here: the same starwars.yml, each pod a light process on 127.0.0.1, each behind its own egress proxy (its \"veth\"), where Cilium's policies are enforced. To keep the tutorial moving, the Death Star explodes 1 s after the hit (upstream: 2 s) and comes back after a 1 s back-off (Kubernetes: 10 s).",
        ))?;
        self.cmd(
            "kubectl create -f starwars.yml",
            "galaxia up -f k8s/starwars.yml",
        )?;
        self.start()?;
        let ready = {
            let g = self.galaxy();
            wait_until(MUST_HAPPEN, || g.pods.iter().all(|p| p.state().ready))
        };
        self.cmd("kubectl get pods", "galaxia get pods")?;
        self.show_get(Resource::Pods)?;
        self.check(
            ready,
            l.t(
                "todos os pods estão Running e prontos",
                "every pod is Running and ready",
            )
            .into(),
        )?;

        // 2. Both ships land.
        self.header(l.t("Os dois navios pousam", "Both ships land"))?;
        self.say(l.t(
            "Sem política nenhuma, tudo é permitido: o caça TIE e a asa-X pousam.",
            "With no policy at all, everything is allowed: the TIE fighter and the X-wing both land.",
        ))?;
        self.land("caca-tie", Expect::Landed)?;
        self.land("asa-x", Expect::Landed)?;
        let landed = {
            let g = self.galaxy();
            wait_until(MUST_HAPPEN, || {
                counts(&g, "caca-tie", Outcome::Landed) > 0
                    && counts(&g, "asa-x", Outcome::Landed) > 0
            })
        };
        self.check(
            landed,
            l.t(
                "as patrulhas dos dois navios pousam",
                "both ships' patrols land",
            )
            .into(),
        )?;
        self.traffic()?;

        // 3. L3/L4 policy.
        self.header(l.t(
            "Política L3/L4: só o Império pousa",
            "L3/L4 policy: only the Empire lands",
        ))?;
        self.say(l.t(
            "A regra1 só deixa pods com org=imperio chegarem à porta 80 da Estrela da Morte. Os pacotes da asa-X são descartados em silêncio: o curl fica pendurado (no livro, CTRL+C; aqui, -m 2).",
            "regra1 lets only pods with org=imperio reach the Death Star's port 80. The X-wing's packets are dropped silently: curl hangs (the book says CTRL+C; here, -m 2).",
        ))?;
        let before_drop = counts(&self.galaxy(), "asa-x", Outcome::Dropped);
        self.policy(
            "create",
            "politica_l4.yml",
            "ciliumnetworkpolicy.cilium.io/regra1 created\n",
        )?;
        self.land("caca-tie", Expect::Landed)?;
        self.land("asa-x", Expect::Hangs)?;
        let dropped = {
            let g = self.galaxy();
            wait_until(MUST_HAPPEN, || {
                counts(&g, "asa-x", Outcome::Dropped) > before_drop
            })
        };
        self.check(
            dropped,
            l.t(
                "a patrulha da asa-x é descartada pela regra1 (L4)",
                "asa-x's patrol is dropped under regra1 (L4)",
            )
            .into(),
        )?;
        self.cmd("kubectl get cnp", "galaxia get cnp")?;
        let listed = self.show_get(Resource::Policies)?;
        self.check(
            listed.contains("regra1"),
            l.t("get cnp lista a regra1", "get cnp lists regra1").into(),
        )?;
        self.traffic()?;

        // 4. The exhaust port.
        self.header(l.t("O porto de exaustão", "The exhaust port"))?;
        self.say(l.t(
            "A política L4 não olha o HTTP: um caça TIE pode pedir PUT /v1/exhaust-port, e uma réplica da Estrela da Morte explode. O Kubernetes a reinicia (RESTARTS sobe) e o Service manda o tráfego para a outra réplica enquanto isso.",
            "The L4 policy does not look at HTTP: a TIE fighter may PUT /v1/exhaust-port, and a Death Star replica explodes. Kubernetes restarts it (RESTARTS goes up) and the Service sends traffic to the other replica meanwhile.",
        ))?;
        let restarts_before = self.restarts();
        let landed_before = counts(&self.galaxy(), "caca-tie", Outcome::Landed);
        self.exhaust(Expect::Exploded)?;
        let went_down = {
            let g = self.galaxy();
            wait_until(MUST_HAPPEN, || {
                g.pods
                    .iter()
                    .any(|p| p.spec.role == Role::DeathStar && !p.state().ready)
                    || g.pods.iter().map(|p| p.state().restarts).sum::<u32>() > restarts_before
            })
        };
        self.check(
            went_down,
            l.t(
                "uma réplica explode e sai do Service",
                "a replica explodes and leaves the Service",
            )
            .into(),
        )?;
        self.cmd("kubectl get pods", "galaxia get pods")?;
        self.show_get(Resource::Pods)?;
        let back = {
            let g = self.galaxy();
            wait_until(MUST_HAPPEN, || {
                g.pods.iter().all(|p| p.state().ready)
                    && g.pods.iter().map(|p| p.state().restarts).sum::<u32>() > restarts_before
            })
        };
        self.check(
            back,
            l.t(
                "a réplica explodida volta, RESTARTS sobe",
                "the exploded replica comes back, RESTARTS goes up",
            )
            .into(),
        )?;
        self.show_get(Resource::Pods)?;
        let kept_landing = counts(&self.galaxy(), "caca-tie", Outcome::Landed) > landed_before;
        self.check(
            kept_landing,
            l.t(
                "o caca-tie continuou pousando durante a explosão",
                "caca-tie kept landing during the explosion",
            )
            .into(),
        )?;
        self.traffic()?;

        // 5. L7 policy.
        self.header(l.t("Política L7: só pousar", "L7 policy: landing only"))?;
        self.say(l.t(
            "A nova regra1 acrescenta uma regra HTTP: o Império só pode fazer POST /v1/request-landing. O Envoy do Cilium responde 403 Access denied ao resto; a asa-X continua descartada.",
            "The new regra1 adds an HTTP rule: the Empire may only POST /v1/request-landing. Cilium's Envoy answers 403 Access denied to anything else; the X-wing is still dropped.",
        ))?;
        self.policy(
            "apply",
            "politica_l7.yml",
            "ciliumnetworkpolicy.cilium.io/regra1 configured\n",
        )?;
        self.exhaust(Expect::Denied)?;
        self.land("caca-tie", Expect::Landed)?;
        self.land("asa-x", Expect::Hangs)?;
        let g = self.galaxy();
        let (tie0, x0) = (
            counts(&g, "caca-tie", Outcome::Landed),
            counts(&g, "asa-x", Outcome::Dropped),
        );
        let moving = wait_until(MUST_HAPPEN, || {
            counts(&g, "caca-tie", Outcome::Landed) > tie0
                && counts(&g, "asa-x", Outcome::Dropped) > x0
        });
        self.check(
            moving,
            l.t(
                "com a regra1 (L7) a patrulha do caca-tie pousa e a da asa-x é descartada",
                "under regra1 (L7) caca-tie's patrol lands and asa-x's is dropped",
            )
            .into(),
        )?;
        self.cmd(
            "hubble observe --verdict DROPPED",
            "galaxia observe --verdict DROPPED --last 4",
        )?;
        let flows = self.show_verb(|out, c| {
            crate::cli::observe::run(
                crate::cli::observe::Args {
                    pod: None,
                    verdict: Some(crate::flows::Verdict::Dropped),
                    follow: false,
                    last: 4,
                    output: None,
                    control: c,
                },
                out,
            )
        })?;
        let g = self.galaxy();
        let all = g.flows.query(&crate::flows::FlowFilter::default());
        let l7_drop = all.iter().any(|f| f.line().contains("http-request DROPPED (HTTP/1.1 PUT http://estrela-da-morte.default.svc.cluster.local/v1/exhaust-port)"));
        let l4_drop = all
            .iter()
            .any(|f| f.line().contains("Policy denied DROPPED (TCP Flags: SYN)"));
        self.check(
            l7_drop && l4_drop && !flows.is_empty(),
            l.t(
                "observe mostra a negação L7 e os descartes L3/L4",
                "observe shows the L7 denial and the L3/L4 drops",
            )
            .into(),
        )?;
        self.traffic()?;

        // 6. Cleanup.
        self.header(l.t("Limpeza", "Cleanup"))?;
        let x_landed = counts(&self.galaxy(), "asa-x", Outcome::Landed);
        self.cmd("kubectl delete cnp regra1", "galaxia delete cnp regra1")?;
        let deleted = self.show_verb(|out, c| {
            crate::cli::delete::run(
                crate::cli::delete::Args {
                    resource: Some(Resource::Policies),
                    names: vec!["regra1".into()],
                    files: Vec::new(),
                    control: c,
                },
                out,
            )
        })?;
        self.check(
            deleted == "ciliumnetworkpolicy.cilium.io \"regra1\" deleted\n",
            "delete cnp regra1".into(),
        )?;
        let g = self.galaxy();
        let free = wait_until(MUST_HAPPEN, || {
            counts(&g, "asa-x", Outcome::Landed) > x_landed
        });
        self.check(
            free,
            l.t(
                "sem a regra1 a patrulha da asa-x volta a pousar",
                "without regra1 asa-x's patrol lands again",
            )
            .into(),
        )?;
        self.traffic()?;
        self.cmd("kind delete cluster", "Ctrl-C (galaxia up)")?;
        Ok(())
    }

    fn start(&mut self) -> Result<(), Error> {
        let manifests = crate::manifest::load_str(book::STARWARS, "starwars.yml")?;
        let blueprint = crate::galaxy::engine::blueprint(&manifests);
        let options = Options {
            patrol: true,
            restart_backoff: RESTART_BACKOFF,
            explosion_delay: EXPLOSION_DELAY,
            patrol_interval: PATROL_INTERVAL,
            patrol_timeout: PATROL_TIMEOUT,
            upstream: Upstream::default(),
        };
        let running = self
            .rt
            .block_on(crate::control::launch(blueprint, options))
            .map_err(|e| verb_err("tutorial: starting the galaxy", e))?;
        let path = self.control.path();
        discovery::write(
            &path,
            &Discovery {
                addr: running.addr,
                pid: std::process::id(),
            },
        )
        .map_err(|e| verb_err("tutorial: writing the discovery file", e))?;
        self.running = Some(running);
        let _ = &self.dir;
        Ok(())
    }

    fn galaxy(&self) -> std::sync::Arc<crate::galaxy::Shared> {
        match &self.running {
            Some(r) => r.galaxy.shared.clone(),
            // start() runs first; an empty galaxy keeps the checks total anyway.
            None => std::sync::Arc::new(crate::galaxy::Shared::empty()),
        }
    }

    fn restarts(&self) -> u32 {
        self.galaxy().pods.iter().map(|p| p.state().restarts).sum()
    }

    fn header(&mut self, title: &str) -> Result<(), Error> {
        self.step = title.to_string();
        writeln!(self.out, "\n=== {title} ===")?;
        Ok(())
    }

    fn say(&mut self, text: &str) -> Result<(), Error> {
        writeln!(self.out, "{text}")?;
        Ok(())
    }

    fn cmd(&mut self, book: &str, galaxia: &str) -> Result<(), Error> {
        let (b, g) = (self.lang.t("livro", "book"), "galaxia");
        writeln!(self.out, "  {b:>7}$ {book}")?;
        writeln!(self.out, "  {g:>7}$ {galaxia}")?;
        self.out.flush()?;
        Ok(())
    }

    fn check(&mut self, ok: bool, what: String) -> Result<(), Error> {
        let mark = if ok {
            "ok"
        } else {
            self.lang.t("FALHOU", "FAILED")
        };
        writeln!(self.out, "  [{mark}] {what}")?;
        if !ok {
            self.failures.push(format!("{}: {what}", self.step));
        }
        self.out.flush()?;
        Ok(())
    }

    /// Run a verb in-process; print its output indented and return it.
    fn show_verb(
        &mut self,
        f: impl FnOnce(&mut Vec<u8>, ControlArgs) -> Result<(), Error>,
    ) -> Result<String, Error> {
        let mut buf = Vec::new();
        let r = f(&mut buf, self.control.clone());
        let text = String::from_utf8_lossy(&buf).into_owned();
        for line in text.lines() {
            writeln!(self.out, "    {line}")?;
        }
        if let Err(e) = r {
            writeln!(self.out, "    ({e})")?;
        }
        Ok(text)
    }

    /// `galaxia get RESOURCE`, shown.
    fn show_get(&mut self, resource: Resource) -> Result<String, Error> {
        self.show_verb(|out, c| {
            crate::cli::get::run(
                crate::cli::get::Args {
                    resource,
                    name: None,
                    output: None,
                    control: c,
                },
                out,
            )
        })
    }

    /// `create`/`apply -f` of one of the book's policy files, expecting kubectl's line.
    fn policy(&mut self, verb: &str, file: &str, expect: &str) -> Result<(), Error> {
        self.cmd(
            &format!("kubectl {verb} -f {file}"),
            &format!("galaxia {verb} -f k8s/{file}"),
        )?;
        let path = self.dir.join(file);
        let apply = verb == "apply";
        let text = self.show_verb(|out, c| {
            let files = vec![path];
            if apply {
                crate::cli::apply::run(crate::cli::apply::Args { files, control: c }, out)
            } else {
                crate::cli::create::run(crate::cli::create::Args { files, control: c }, out)
            }
        })?;
        self.check(
            text == expect,
            format!(
                "{verb} {} {:?}",
                self.lang.t("imprime", "prints"),
                expect.trim_end()
            ),
        )
    }

    /// `exec POD -- curl ...` through the built-in curl; returns (exit code, stdout).
    fn curl(&mut self, pod: &str, args: &[&str]) -> Result<(i32, Vec<u8>), Error> {
        let mut buf = Vec::new();
        let a = crate::cli::exec::Args {
            pod: pod.to_string(),
            command: std::iter::once("curl")
                .chain(args.iter().copied())
                .map(OsString::from)
                .collect(),
            stdin: false,
            tty: false,
            builtin_curl: true,
            control: self.control.clone(),
        };
        let code = match crate::cli::exec::run(a, &mut buf) {
            Ok(()) => 0,
            Err(Error::Reported(c)) => i32::from(c),
            Err(e) => {
                writeln!(self.out, "    ({e})")?;
                -1
            }
        };
        Ok((code, buf))
    }

    fn land(&mut self, pod: &str, expect: Expect) -> Result<(), Error> {
        let url = format!("{SVC}/v1/request-landing");
        let hangs = expect == Expect::Hangs;
        let shown = if hangs {
            format!("curl -s -m 2 -XPOST {url}")
        } else {
            format!("curl -s -XPOST {url}")
        };
        self.cmd(
            &format!("kubectl exec {pod} -- {shown}"),
            &format!("galaxia exec {pod} -- {shown}"),
        )?;
        // A hidden generous timeout keeps the tutorial from hanging if something is wrong.
        let args: Vec<&str> = if hangs {
            vec!["-s", "-m", "2", "-XPOST", &url]
        } else {
            vec!["-s", "-m", "30", "-XPOST", &url]
        };
        let (code, body) = self.curl(pod, &args)?;
        self.report_curl(pod, expect, code, &body)
    }

    fn exhaust(&mut self, expect: Expect) -> Result<(), Error> {
        let url = format!("{SVC}/v1/exhaust-port");
        let shown = format!("curl -s -XPUT {url}");
        self.cmd(
            &format!("kubectl exec caca-tie -- {shown}"),
            &format!("galaxia exec caca-tie -- {shown}"),
        )?;
        let (code, body) = self.curl("caca-tie", &["-s", "-m", "30", "-XPUT", &url])?;
        self.report_curl("caca-tie", expect, code, &body)
    }

    fn report_curl(
        &mut self,
        pod: &str,
        expect: Expect,
        code: i32,
        body: &[u8],
    ) -> Result<(), Error> {
        let text = String::from_utf8_lossy(body);
        for line in text.lines() {
            writeln!(self.out, "    {line}")?;
        }
        let (ok, what) = match expect {
            Expect::Landed => (
                code == 0 && body == estrela_da_morte::wire::LANDED,
                format!("{pod} {} \"Ship landed\"", self.lang.t("recebe", "gets")),
            ),
            Expect::Hangs => {
                writeln!(
                    self.out,
                    "    {}",
                    self.lang.t(
                        "(nenhuma resposta: o curl desistiu após 2 s, código de saída 28)",
                        "(no answer: curl gave up after 2 s, exit code 28)"
                    )
                )?;
                (
                    code == 28 && body.is_empty(),
                    format!(
                        "{pod} {} (curl exit 28)",
                        self.lang.t("fica pendurado", "hangs")
                    ),
                )
            }
            Expect::Exploded => (
                code == 0 && body == estrela_da_morte::wire::EXHAUST_PORT_PANIC,
                format!(
                    "{pod} {}",
                    self.lang
                        .t("recebe o texto do pânico", "gets the panic text")
                ),
            ),
            Expect::Denied => (
                code == 0 && body == frota::outcome::ACCESS_DENIED_BODY,
                format!("{pod} {} \"Access denied\"", self.lang.t("recebe", "gets")),
            ),
        };
        let detail = if ok {
            what
        } else {
            format!("{what} (got exit {code}, body {text:?})")
        };
        self.check(ok, detail)
    }

    /// The ships' patrol counters, by outcome.
    fn traffic(&mut self) -> Result<(), Error> {
        std::thread::sleep(SETTLE);
        let g = self.galaxy();
        let label = self.lang.t("tráfego das patrulhas", "patrol traffic");
        writeln!(self.out, "  {label}:")?;
        for p in g.pods.iter().filter(|p| p.ship_metrics.is_some()) {
            let c = ship_counts(p);
            let text = if c.is_empty() {
                "none".to_string()
            } else {
                c.iter()
                    .map(|(o, n)| format!("{o}={n}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            writeln!(self.out, "    {:<10} {text}", p.spec.name)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Landed,
    Hangs,
    Exploded,
    Denied,
}

fn ship_counts(p: &crate::galaxy::Pod) -> BTreeMap<Outcome, u64> {
    p.ship_metrics
        .as_ref()
        .map(|(r, _)| ship::counts(r))
        .unwrap_or_default()
}

/// A ship's count of `outcome` so far (0 for an unknown pod).
fn counts(g: &crate::galaxy::Shared, pod: &str, outcome: Outcome) -> u64 {
    g.pods
        .iter()
        .find(|p| p.spec.name == pod)
        .map(|p| ship_counts(p).get(&outcome).copied().unwrap_or(0))
        .unwrap_or(0)
}
