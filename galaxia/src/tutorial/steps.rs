//! The book's tutorial as data: each step, in the book's order, holds the book's command, the
//! galaxia command that does the same here (run exactly as shown, through the same CLI parser)
//! and what it must give, plus the checks of what the galaxy must do meanwhile. The narration is
//! kept apart ([`super::narration`]); adding a step is one entry here (and its texts there).
//! `tests/galaxy_book.rs` runs the same table against a real `galaxia up`.

use frota::Outcome;

/// A narrated text, looked up in [`super::narration`] in the tutorial's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Say {
    DeployTitle,
    DeployIntro,
    /// [`Say::DeployIntro`] on the eBPF datapath, where the pods are not on 127.0.0.1.
    DeployIntroEbpf,
    AllReady,
    LandTitle,
    LandIntro,
    PatrolsLand,
    L4Title,
    L4Intro,
    XWingDroppedL4,
    ExhaustTitle,
    ExhaustIntro,
    ReplicaDown,
    ReplicaBack,
    KeptLanding,
    L7Title,
    L7Intro,
    TieLandsUnderL7,
    XWingDroppedUnderL7,
    ObserveShowsDrops,
    CleanupTitle,
    XWingLandsAgain,
    UiDeploy,
    UiLand,
    UiL4,
    UiExhaust,
    UiL7,
    UiCleanup,
}

impl Say {
    /// Every text, for the tests that read the whole narration.
    pub const ALL: &'static [Say] = &[
        Say::DeployTitle,
        Say::DeployIntro,
        Say::DeployIntroEbpf,
        Say::AllReady,
        Say::LandTitle,
        Say::LandIntro,
        Say::PatrolsLand,
        Say::L4Title,
        Say::L4Intro,
        Say::XWingDroppedL4,
        Say::ExhaustTitle,
        Say::ExhaustIntro,
        Say::ReplicaDown,
        Say::ReplicaBack,
        Say::KeptLanding,
        Say::L7Title,
        Say::L7Intro,
        Say::TieLandsUnderL7,
        Say::XWingDroppedUnderL7,
        Say::ObserveShowsDrops,
        Say::CleanupTitle,
        Say::XWingLandsAgain,
        Say::UiDeploy,
        Say::UiLand,
        Say::UiL4,
        Say::UiExhaust,
        Say::UiL7,
        Say::UiCleanup,
    ];

    /// What a check's claim rests on, as the reader must be able to see it in the step's shown
    /// output (a command's output or the patrol counters): each entry is a line that holds all
    /// of its pieces. A claim with nothing to show would be taken on trust; none is.
    pub fn evidence(self) -> &'static [&'static [&'static str]] {
        match self {
            Say::AllReady => &[
                &["pod/asa-x ", "1/1", "Running"],
                &["pod/caca-tie ", "1/1", "Running"],
                &["pod/estrela-da-morte-", "1/1", "Running"],
            ],
            Say::PatrolsLand => &[&["caca-tie ", "landed="], &["asa-x ", "landed="]],
            Say::XWingDroppedL4 | Say::XWingDroppedUnderL7 => &[&["asa-x ", "dropped="]],
            // The exploded replica is out of the Service while it is not ready.
            Say::ReplicaDown => &[&["estrela-da-morte-", "0/1"]],
            Say::ReplicaBack => &[&["estrela-da-morte-", "1/1", "Running", "1 ("]],
            Say::KeptLanding | Say::TieLandsUnderL7 => &[&["caca-tie ", "landed="]],
            Say::ObserveShowsDrops => &[
                &[
                    "default/caca-tie:",
                    "http-request DROPPED (HTTP/1.1 PUT ",
                    "/v1/exhaust-port)",
                ],
                &["default/asa-x:", "Policy denied DROPPED (TCP Flags: SYN)"],
            ],
            Say::XWingLandsAgain => &[&["asa-x ", "landed="]],
            _ => &[],
        }
    }
}

/// One step of the book.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    pub title: Say,
    pub intro: Option<Say>,
    pub actions: &'static [Action],
}

#[derive(Debug, Clone, Copy)]
pub enum Action {
    /// Run a command and check what it gave.
    Run(Cmd),
    /// Remember the ships' counters and the restarts now, for the checks that follow.
    Mark,
    /// Wait until the galaxy does something the book says it does.
    Check(Check, Say),
    /// Show the ships' patrol counters.
    Traffic,
    /// Point to what the web UI (Hubble UI's picture) shows now, with its address.
    Ui(Say),
}

/// The book's command and galaxia's.
#[derive(Debug, Clone, Copy)]
pub struct Cmd {
    pub book: Book,
    pub galaxia: Galaxia,
    pub expect: Expect,
}

/// What the reader types on the book's cluster for a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Book {
    /// One of the book's own commands, verbatim (the left column of the README's table of the
    /// book's commands; `tests/tutorial_text.rs` holds the two together).
    Verbatim(&'static str),
    /// Not in the book: what one would type on the book's cluster for the same thing (a
    /// filtered `hubble observe`), shown apart so that it is never taken for the book's text.
    Cluster(&'static str),
}

impl Cmd {
    /// The prompt and the command line shown above galaxia's (`livro$`, or `cluster$` for a
    /// command the book does not have).
    pub fn book_line(&self, lang: super::Lang) -> (&'static str, &'static str) {
        match self.book {
            Book::Verbatim(line) => (super::lang::book_prompt(lang), line),
            Book::Cluster(line) => (super::lang::cluster_prompt(lang), line),
        }
    }
}

/// What galaxia types for the book's command.
#[derive(Debug, Clone, Copy)]
pub enum Galaxia {
    /// A galaxia command line, parsed and run as shown (file paths relative to the directory
    /// that holds the book's files, pointed at the tutorial's galaxy).
    Verb(&'static str),
    /// Not a command (`Ctrl-C`): shown only.
    Note(&'static str),
}

/// What a command must give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// `galaxia up`: the tutorial starts its own galaxy from the same manifests, with short timings.
    StartsGalaxy,
    /// Exit 0, any output.
    Succeeds,
    /// Exit 0 and exactly this output.
    Prints(&'static str),
    /// Exit 0 and output containing this.
    Shows(&'static str),
    /// A curl that gets `Ship landed`.
    Landed,
    /// A curl with `-m 2` that gets nothing back (exit 28), as under an L3/L4 drop.
    Hangs,
    /// A curl that gets the Death Star's panic text.
    Exploded,
    /// A curl that gets Cilium's `Access denied`.
    Denied,
    /// Nothing to run.
    Nothing,
}

/// Something the galaxy must do, waited for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Every pod is Running and ready.
    AllReady,
    /// Each of these ships' counts of `outcome` grew since the last [`Action::Mark`].
    Grows(&'static [&'static str], Outcome),
    /// A Death Star replica is down, or has restarted, since the last mark.
    ReplicaDown,
    /// Every pod is ready again, and restarts grew since the last mark.
    ReplicaBack,
    /// The flow log holds an L7 denial of the exhaust port and an L3/L4 drop.
    FlowsShowDenialAndDrop,
}

const LAND_TIE_BOOK: &str = "kubectl exec caca-tie -- curl -s -XPOST estrela-da-morte.default.svc.cluster.local/v1/request-landing";
const LAND_TIE: &str = "galaxia exec caca-tie -- curl -s -XPOST estrela-da-morte.default.svc.cluster.local/v1/request-landing";
const LAND_X_BOOK: &str = "kubectl exec asa-x -- curl -s -XPOST estrela-da-morte.default.svc.cluster.local/v1/request-landing";
const LAND_X: &str = "galaxia exec asa-x -- curl -s -XPOST estrela-da-morte.default.svc.cluster.local/v1/request-landing";
// The book says CTRL+C; a tutorial that runs by itself gives galaxia's curl a timeout instead
// (the book's line stays as the book has it).
const LAND_X_M2: &str = "galaxia exec asa-x -- curl -s -m 2 -XPOST estrela-da-morte.default.svc.cluster.local/v1/request-landing";
const EXHAUST_BOOK: &str = "kubectl exec caca-tie -- curl -s -XPUT estrela-da-morte.default.svc.cluster.local/v1/exhaust-port";
const EXHAUST: &str = "galaxia exec caca-tie -- curl -s -XPUT estrela-da-morte.default.svc.cluster.local/v1/exhaust-port";

/// One of the book's commands and galaxia's.
const fn run(book: &'static str, galaxia: &'static str, expect: Expect) -> Action {
    Action::Run(Cmd {
        book: Book::Verbatim(book),
        galaxia: Galaxia::Verb(galaxia),
        expect,
    })
}

/// A command the book does not have: the cluster's line for it and galaxia's.
const fn extra(cluster: &'static str, galaxia: &'static str, expect: Expect) -> Action {
    Action::Run(Cmd {
        book: Book::Cluster(cluster),
        galaxia: Galaxia::Verb(galaxia),
        expect,
    })
}

/// The tutorial, step by step.
pub const STEPS: &[Step] = &[
    Step {
        title: Say::DeployTitle,
        intro: Some(Say::DeployIntro),
        actions: &[
            run(
                "kubectl create -f source/starwars.yml",
                "galaxia up -f k8s/starwars.yml",
                Expect::StartsGalaxy,
            ),
            run(
                "kubectl get pod,svc",
                "galaxia get pod,svc",
                Expect::Succeeds,
            ),
            Action::Check(Check::AllReady, Say::AllReady),
            Action::Ui(Say::UiDeploy),
        ],
    },
    Step {
        title: Say::LandTitle,
        intro: Some(Say::LandIntro),
        actions: &[
            Action::Mark,
            run(LAND_TIE_BOOK, LAND_TIE, Expect::Landed),
            run(LAND_X_BOOK, LAND_X, Expect::Landed),
            Action::Check(
                Check::Grows(&["caca-tie", "asa-x"], Outcome::Landed),
                Say::PatrolsLand,
            ),
            // With no policy Cilium traces each connection's packets (no L7 visibility yet).
            extra(
                "hubble observe --pod caca-tie --last 4",
                "galaxia observe --pod caca-tie --last 4",
                Expect::Shows("to-endpoint FORWARDED (TCP Flags: "),
            ),
            Action::Ui(Say::UiLand),
            Action::Traffic,
        ],
    },
    Step {
        title: Say::L4Title,
        intro: Some(Say::L4Intro),
        actions: &[
            Action::Mark,
            run(
                "kubectl create -f source/politica_l4.yml",
                "galaxia create -f k8s/politica_l4.yml",
                Expect::Prints("ciliumnetworkpolicy.cilium.io/regra1 created\n"),
            ),
            run(LAND_TIE_BOOK, LAND_TIE, Expect::Landed),
            run(LAND_X_BOOK, LAND_X_M2, Expect::Hangs),
            Action::Check(
                Check::Grows(&["asa-x"], Outcome::Dropped),
                Say::XWingDroppedL4,
            ),
            extra(
                "hubble observe --pod asa-x --verdict DROPPED --last 2",
                "galaxia observe --pod asa-x --verdict DROPPED --last 2",
                Expect::Shows("Policy denied DROPPED (TCP Flags: SYN)"),
            ),
            run(
                "kubectl get cnp",
                "galaxia get cnp",
                Expect::Shows("regra1"),
            ),
            Action::Ui(Say::UiL4),
            Action::Traffic,
        ],
    },
    Step {
        title: Say::ExhaustTitle,
        intro: Some(Say::ExhaustIntro),
        actions: &[
            Action::Mark,
            run(EXHAUST_BOOK, EXHAUST, Expect::Exploded),
            Action::Check(Check::ReplicaDown, Say::ReplicaDown),
            extra("kubectl get pods", "galaxia get pods", Expect::Succeeds),
            Action::Check(Check::ReplicaBack, Say::ReplicaBack),
            extra("kubectl get pods", "galaxia get pods", Expect::Succeeds),
            Action::Check(
                Check::Grows(&["caca-tie"], Outcome::Landed),
                Say::KeptLanding,
            ),
            Action::Ui(Say::UiExhaust),
            Action::Traffic,
        ],
    },
    Step {
        title: Say::L7Title,
        intro: Some(Say::L7Intro),
        actions: &[
            run(
                "kubectl apply -f source/politica_l7.yml",
                "galaxia apply -f k8s/politica_l7.yml",
                Expect::Prints("ciliumnetworkpolicy.cilium.io/regra1 configured\n"),
            ),
            run(EXHAUST_BOOK, EXHAUST, Expect::Denied),
            run(LAND_TIE_BOOK, LAND_TIE, Expect::Landed),
            run(LAND_X_BOOK, LAND_X_M2, Expect::Hangs),
            Action::Mark,
            Action::Check(
                Check::Grows(&["caca-tie"], Outcome::Landed),
                Say::TieLandsUnderL7,
            ),
            Action::Check(
                Check::Grows(&["asa-x"], Outcome::Dropped),
                Say::XWingDroppedUnderL7,
            ),
            // Hubble keeps every flow, and the ships' patrols add some all the time: each pod's
            // last drops show the PUT denied at L7 and the X-wing's SYN dropped at L3/L4.
            extra(
                "hubble observe --pod caca-tie --verdict DROPPED --last 1",
                "galaxia observe --pod caca-tie --verdict DROPPED --last 1",
                Expect::Shows(
                    "http-request DROPPED (HTTP/1.1 PUT http://estrela-da-morte.default.svc.cluster.local/v1/exhaust-port)",
                ),
            ),
            extra(
                "hubble observe --pod asa-x --verdict DROPPED --last 2",
                "galaxia observe --pod asa-x --verdict DROPPED --last 2",
                Expect::Shows("Policy denied DROPPED (TCP Flags: SYN)"),
            ),
            Action::Check(Check::FlowsShowDenialAndDrop, Say::ObserveShowsDrops),
            Action::Ui(Say::UiL7),
            Action::Traffic,
        ],
    },
    Step {
        title: Say::CleanupTitle,
        intro: None,
        actions: &[
            Action::Mark,
            run(
                "kubectl delete cnp regra1",
                "galaxia delete cnp regra1",
                Expect::Prints("ciliumnetworkpolicy.cilium.io \"regra1\" deleted\n"),
            ),
            Action::Check(
                Check::Grows(&["asa-x"], Outcome::Landed),
                Say::XWingLandsAgain,
            ),
            Action::Ui(Say::UiCleanup),
            Action::Traffic,
            Action::Run(Cmd {
                book: Book::Cluster("kind delete cluster"),
                galaxia: Galaxia::Note("Ctrl-C (galaxia up)"),
                expect: Expect::Nothing,
            }),
        ],
    },
];
