//! What the tutorial says, held to what it must be: its `livro$` lines are the book's commands
//! verbatim (the left column of the README's table, parsed here so that the two cannot drift),
//! its Portuguese is Brazilian, every claim a check makes is visible in the output of its step,
//! and no log line (JSON or other) cuts into the narration: the galaxy's logs go to the file the
//! first line names.

use std::collections::BTreeSet;
use std::process::Command;

use galaxia::tutorial::Lang;
use galaxia::tutorial::narration::{self, text};
use galaxia::tutorial::steps::{Action, Book, Expect, STEPS, Say};

/// The book's commands: the backquoted commands of the left column of the README's table "The
/// book's commands, with and without a cluster".
fn book_commands() -> BTreeSet<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let start = readme
        .find("## The book's commands, with and without a cluster")
        .expect("the README's table of the book's commands");
    let mut commands = BTreeSet::new();
    let mut in_table = false;
    for line in readme[start..].lines().skip(1) {
        if line.starts_with('#') {
            break;
        }
        if !line.starts_with('|') {
            if in_table {
                break;
            }
            continue;
        }
        in_table = true;
        let left = line.trim_start_matches('|').split('|').next().unwrap_or("");
        if left.trim().starts_with("book") || left.trim().starts_with("---") {
            continue;
        }
        // Every backquoted span of the left cell is one of the book's commands.
        for (i, span) in left.split('`').enumerate() {
            if i % 2 == 1 {
                commands.insert(span.to_string());
            }
        }
    }
    assert!(
        commands.contains("kubectl get pod,svc")
            && commands.contains("kubectl create -f source/starwars.yml"),
        "the README's table was not read: {commands:?}"
    );
    commands
}

#[test]
fn the_book_lines_of_the_step_table_are_the_books_commands() {
    let book = book_commands();
    let mut verbatim = 0;
    for step in STEPS {
        for action in step.actions {
            let Action::Run(cmd) = action else { continue };
            match cmd.book {
                Book::Verbatim(line) => {
                    verbatim += 1;
                    assert!(
                        book.contains(line),
                        "{line:?} is shown as the book's command, and the README's table of the book's commands does not have it: {book:#?}"
                    );
                }
                // A command the book does not have must not pass for one.
                Book::Cluster(line) => assert!(!book.contains(line), "{line:?}"),
            }
        }
    }
    assert!(verbatim >= 10, "only {verbatim} of the book's commands");
}

/// European Portuguese turns (and plain mistakes) that a Brazilian reader stumbles on.
const NOT_BRAZILIAN: &[&str] = &[
    "navio",
    "porto de exaust",
    "depressa",
    "a sua ",
    "o seu ",
    "os seus ",
    "as suas ",
    "pendurad",
    "ecrã",
    "ficheiro",
    "utilizador",
    "premir",
    "prima ",
    "registo",
    "equipa ",
    "telemóvel",
    "rato ",
    "no alto",
    "partilh",
    "ligação",
];

/// Everything the tutorial can say in Portuguese, outside the commands' own output.
fn portuguese_texts() -> Vec<String> {
    let pt = Lang::Pt;
    let mut all: Vec<String> = Say::ALL.iter().map(|s| text(*s, pt).to_string()).collect();
    for e in [
        Expect::Landed,
        Expect::Hangs,
        Expect::Exploded,
        Expect::Denied,
        Expect::Prints("x"),
        Expect::Shows("x"),
    ] {
        all.extend(narration::expectation(e, "asa-x", "get pods", pt));
    }
    all.extend(
        [
            narration::hung(pt),
            narration::complete(pt),
            narration::failed(pt),
            narration::failed_mark(pt),
            narration::book_prompt(pt),
            narration::in_the_ui(pt),
            narration::traffic(pt),
            narration::log_file(pt),
        ]
        .map(String::from),
    );
    all
}

#[test]
fn the_portuguese_is_brazilian() {
    // "estar a fazer" and its kin: Brazil says "estar fazendo".
    let progressive = regex::Regex::new(
        r"(?i)\b(est[áa]|estão|estar|estou|estava|continua|continuam|fica|ficam|anda|andam)\s+a\s+\w+[aei]r\b",
    )
    .expect("regex");
    for t in portuguese_texts() {
        let lower = t.to_lowercase();
        for bad in NOT_BRAZILIAN {
            assert!(!lower.contains(bad), "{bad:?} in {t:?}");
        }
        assert!(!progressive.is_match(&t), "European progressive in {t:?}");
    }
    // The container of the ships is `nave`, as in the manifests.
    assert_eq!(text(Say::LandTitle, Lang::Pt), "As duas naves pousam");
    assert_eq!(text(Say::ExhaustTitle, Lang::Pt), "A porta de exaustão");
}

#[test]
fn every_check_has_something_to_show() {
    for step in STEPS {
        for action in step.actions {
            if let Action::Check(_, say) = action {
                assert!(
                    !say.evidence().is_empty(),
                    "{say:?} claims something and shows nothing"
                );
            }
        }
    }
}

/// Run the tutorial in `lang`; its stdout and stderr.
fn tutorial(lang: &str) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_galaxia"))
        .args(["tutorial", "--lang", lang])
        // Not a terminal: `auto` would be JSON; none of it may reach the narration.
        .env("GALAXIA_LOG_FORMAT", "json")
        .env_remove("RUST_LOG")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run galaxia tutorial");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "tutorial --lang {lang} failed: {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    (stdout, stderr)
}

/// The lines of the section of `title` (from its `=== title ===` to the next one).
fn section<'a>(stdout: &'a str, title: &str) -> Vec<&'a str> {
    let head = format!("=== {title} ===");
    stdout
        .lines()
        .skip_while(|l| *l != head)
        .skip(1)
        .take_while(|l| !l.starts_with("=== "))
        .collect()
}

fn check_run(lang: Lang, stdout: &str, stderr: &str) {
    // No log line in the narration, nor on stderr: they go to the file named first.
    for l in stdout.lines().chain(stderr.lines()) {
        assert!(
            !l.trim_start().starts_with('{'),
            "a JSON line in the tutorial's output: {l}\n{stdout}\n{stderr}"
        );
    }
    assert!(stderr.trim().is_empty(), "stderr: {stderr}");
    let first = stdout.lines().next().unwrap_or("");
    let log = first
        .strip_prefix(narration::log_file(lang))
        .map(str::trim)
        .unwrap_or_else(|| panic!("the first line names the log file: {first}"));
    let logged = std::fs::read_to_string(log).unwrap_or_else(|e| panic!("{log}: {e}"));
    assert!(
        logged.contains("the Death Star exploded"),
        "the galaxy's logs are in {log}: {logged}"
    );
    let _ = std::fs::remove_file(log);

    // Every `livro$` line is one of the book's commands, and every one the steps hold is shown.
    let book = book_commands();
    let prompt = format!("{}$ ", narration::book_prompt(lang));
    let shown: BTreeSet<&str> = stdout
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix(&prompt))
        .collect();
    for line in &shown {
        assert!(
            book.contains(*line),
            "{prompt}{line} is not one of the book's commands: {book:#?}"
        );
    }
    for step in STEPS {
        for action in step.actions {
            if let Action::Run(cmd) = action
                && let Book::Verbatim(line) = cmd.book
            {
                assert!(shown.contains(line), "{line} is not shown:\n{stdout}");
            }
        }
    }

    // What each check claims is in what its step shows.
    for step in STEPS {
        let title = text(step.title, lang);
        let lines = section(stdout, title);
        assert!(!lines.is_empty(), "no section {title}:\n{stdout}");
        for action in step.actions {
            let Action::Check(_, say) = action else {
                continue;
            };
            let claim = format!("[ok] {}", text(*say, lang));
            assert!(
                lines.iter().any(|l| l.trim() == claim),
                "{claim} missing in {title}:\n{}",
                lines.join("\n")
            );
            for pieces in say.evidence() {
                assert!(
                    lines.iter().any(|l| pieces.iter().all(|p| l.contains(p))),
                    "{claim}: no line of {title} shows {pieces:?}:\n{}",
                    lines.join("\n")
                );
            }
        }
    }
}

#[test]
fn the_tutorial_in_portuguese_shows_what_it_claims() {
    let (stdout, stderr) = tutorial("pt");
    check_run(Lang::Pt, &stdout, &stderr);
    assert!(
        stdout.contains("Tutorial concluído: cada passo se comportou como o livro descreve."),
        "{stdout}"
    );
}

#[test]
fn the_tutorial_in_english_shows_what_it_claims() {
    let (stdout, stderr) = tutorial("en");
    check_run(Lang::En, &stdout, &stderr);
}

#[test]
fn the_help_says_that_only_the_tutorial_is_translated() {
    for lang in ["pt_BR.UTF-8", "C"] {
        let out = Command::new(env!("CARGO_BIN_EXE_galaxia"))
            .arg("--help")
            .env("LANG", lang)
            .env("LC_ALL", lang)
            .output()
            .expect("galaxia --help");
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{help}");
        assert!(
            help.contains("only the tutorial is translated (galaxia tutorial --lang pt|en")
                && help.contains("Somente o tutorial está traduzido"),
            "LANG={lang}: {help}"
        );
    }
}
