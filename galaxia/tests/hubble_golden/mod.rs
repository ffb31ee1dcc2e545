//! What the hubble tests share: the fixture flows, the golden files recorded from the real
//! Hubble CLI by `testdata/hubble/record.sh`, shell-word splitting of their command lines, and
//! `galaxia observe` run in-process.

#![allow(dead_code)]

use std::path::PathBuf;

use galaxia::cli::{Error, Io, VerbLine};

pub fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/hubble")
        .join(name)
}

/// The fixture's lines (one GetFlowsResponse each, as `hubble observe -o json` writes them).
pub fn fixture_lines() -> Vec<String> {
    std::fs::read_to_string(testdata("flows.json"))
        .expect("reading flows.json")
        .lines()
        .map(str::to_string)
        .collect()
}

/// One recorded run of `hubble observe`.
#[derive(Debug)]
pub struct Case {
    /// The command line as the .args file has it.
    pub line: String,
    pub exit: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Read a golden file (see record.sh for the layout).
pub fn golden(name: &str) -> Vec<Case> {
    let b = std::fs::read(testdata(name)).unwrap_or_else(|e| panic!("reading {name}: {e}"));
    let mut i = 0;
    let header = |i: &mut usize| -> String {
        let nl = b[*i..]
            .iter()
            .position(|c| *c == b'\n')
            .expect("a header line")
            + *i;
        let h = String::from_utf8(b[*i..nl].to_vec()).expect("utf-8 header");
        *i = nl + 1;
        h
    };
    let mut cases = Vec::new();
    while i < b.len() {
        let line = header(&mut i)
            .strip_prefix("=== ")
            .expect("=== line")
            .to_string();
        let exit = header(&mut i)
            .strip_prefix("exit ")
            .expect("exit line")
            .parse()
            .expect("exit status");
        let block = |i: &mut usize, what: &str| -> Vec<u8> {
            let n: usize = header(i)
                .strip_prefix(what)
                .expect("a block header")
                .parse()
                .expect("a byte count");
            let bytes = b[*i..*i + n].to_vec();
            *i += n + 1;
            bytes
        };
        let stdout = block(&mut i, "stdout ");
        let stderr = block(&mut i, "stderr ");
        cases.push(Case {
            line,
            exit,
            stdout,
            stderr,
        });
    }
    assert!(!cases.is_empty(), "{name} holds no cases");
    cases
}

/// Split a command line into words as the shell does for what the .args files use: blanks
/// separate, single quotes keep everything, double quotes keep everything but `\"` and `\\`.
pub fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    cur.push(c);
                }
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some(e @ ('"' | '\\' | '$' | '`')) => cur.push(e),
                            Some(e) => {
                                cur.push('\\');
                                cur.push(e);
                            }
                            None => cur.push('\\'),
                        },
                        c => cur.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(e) = chars.next() {
                    cur.push(e);
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

/// `galaxia observe ARGS` in-process: (exit status, stdout, stderr), as the binary would end.
pub fn observe(args: &[String]) -> (i32, Vec<u8>, Vec<u8>) {
    let words = std::iter::once("galaxia".to_string())
        .chain(std::iter::once("observe".to_string()))
        .chain(args.iter().cloned());
    let line = VerbLine::parse_words(words)
        .unwrap_or_else(|e| panic!("galaxia observe {args:?} does not parse: {e}"));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = match line.command.run(&mut Io::new(&mut out, &mut err)) {
        Ok(()) => 0,
        Err(Error::Reported(c)) => i32::from(c),
        Err(e) => {
            err.extend_from_slice(format!("galaxia: {}\n", e.chain()).as_bytes());
            i32::from(e.exit_code())
        }
    };
    (code, out, err)
}

/// Run every case of `golden` through `galaxia observe PREFIX... ARGS` and compare exit status,
/// stdout and stderr byte for byte; every failing case is listed.
pub fn check_golden(golden_name: &str, prefix: &[String]) {
    let mut failures = Vec::new();
    let cases = golden(golden_name);
    for case in &cases {
        let args: Vec<String> = prefix.iter().cloned().chain(words(&case.line)).collect();
        let (exit, out, err) = observe(&args);
        if exit != case.exit || out != case.stdout || err != case.stderr {
            failures.push(format!(
                "--- {}\n  exit: hubble {} galaxia {exit}\n  stdout hubble:\n{}\n  stdout galaxia:\n{}\n  stderr hubble: {}\n  stderr galaxia: {}",
                case.line,
                case.exit,
                String::from_utf8_lossy(&case.stdout),
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&case.stderr),
                String::from_utf8_lossy(&err),
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases of {golden_name} differ from Hubble:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

pub fn input_file_prefix() -> Vec<String> {
    vec![
        "--input-file".to_string(),
        testdata("flows.json").display().to_string(),
    ]
}
