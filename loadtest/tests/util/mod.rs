//! loadtest's own test harness: the `loadtest` binary run as a process with a temp dir for
//! `--json`, a failure message that shows the command and both outputs, every report checked
//! against `report.schema.json`, and small keep-alive servers on 127.0.0.1:0 (a stub answering
//! what a closure returns, a dropping policy, a server that stalls once). The canned answers
//! and the servers every crate's tests share are the `testkit` crate.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use testkit::consts::LANDED_200;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::time::Instant;

pub struct Run {
    pub cmd: String,
    pub out: Output,
    pub json: Option<serde_json::Value>,
    pub wall: Duration,
    _dir: tempfile::TempDir,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
    pub fn describe(&self) -> String {
        format!(
            "command: {}\nstatus: {:?}\n--- stdout\n{}--- stderr\n{}",
            self.cmd,
            self.out.status.code(),
            self.stdout(),
            self.stderr()
        )
    }
    /// Assert the exit code, printing everything on failure.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.out.status.code(), Some(code), "{}", self.describe());
        self
    }
    pub fn json(&self) -> &serde_json::Value {
        self.json
            .as_ref()
            .unwrap_or_else(|| panic!("no --json report\n{}", self.describe()))
    }
    /// Count of an outcome in the JSON report (0 when absent).
    pub fn outcome(&self, name: &str) -> u64 {
        self.json()["outcomes"][name]["count"].as_u64().unwrap_or(0)
    }
}

/// Run the binary with these arguments plus `--json <tmp>`; blocking (call from spawn_blocking
/// inside async tests).
pub fn loadtest(args: &[&str]) -> Run {
    run_binary(args, true)
}

/// Run the binary with exactly these arguments (no `--json` added); blocking.
pub fn loadtest_plain(args: &[&str]) -> Run {
    run_binary(args, false)
}

fn run_binary(args: &[&str], with_json: bool) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let json_path: PathBuf = dir.path().join("report.json");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_loadtest"));
    cmd.args(args);
    let mut shown = format!("loadtest {}", args.join(" "));
    if with_json {
        cmd.arg("--json").arg(&json_path);
        shown.push_str(&format!(" --json {}", json_path.display()));
    }
    let t0 = std::time::Instant::now();
    let out = cmd.output().unwrap();
    let wall = t0.elapsed();
    let json = std::fs::read(&json_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let run = Run {
        cmd: shown,
        out,
        json,
        wall,
        _dir: dir,
    };
    // Every report a test makes must have the shape that report.schema.json promises.
    if let Some(report) = &run.json {
        let problems = schema_problems(report);
        assert!(
            problems.is_empty(),
            "the --json report does not match report.schema.json:\n{}\n{}",
            problems.join("\n"),
            run.describe()
        );
    }
    run
}

/// The report's schema, `loadtest/report.schema.json`, compiled once.
pub fn schema() -> &'static jsonschema::Validator {
    static SCHEMA: OnceLock<jsonschema::Validator> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../report.schema.json")).unwrap();
        jsonschema::draft202012::new(&schema).unwrap()
    })
}

/// Where a JSON report breaks the schema, one line per problem (empty: it matches).
pub fn schema_problems(report: &serde_json::Value) -> Vec<String> {
    schema()
        .iter_errors(report)
        .map(|e| format!("at {:?}: {e}", e.instance_path().as_str()))
        .collect()
}

pub async fn loadtest_async(args: Vec<String>) -> Run {
    tokio::task::spawn_blocking(move || {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        loadtest(&a)
    })
    .await
    .unwrap()
}

pub async fn loadtest_plain_async(args: Vec<String>) -> Run {
    tokio::task::spawn_blocking(move || {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        loadtest_plain(&a)
    })
    .await
    .unwrap()
}

/// What a stub saw of one request: its head, as text.
pub type Head = String;

/// A tiny HTTP/1.1 server: reads request heads (our requests have no body) and writes what
/// `answer` returns, keeping the connection open.
pub async fn stub(answer: impl Fn(&Head) -> Vec<u8> + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(serve_conn(stream, move |h| {
                let a = answer(h);
                async move { a }
            }));
        }
    });
    url
}

async fn serve_conn<F, Fut>(mut stream: TcpStream, answer: F)
where
    F: Fn(&Head) -> Fut,
    Fut: std::future::Future<Output = Vec<u8>>,
{
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let Ok(n) = stream.read(&mut chunk).await else {
            return;
        };
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end + 4);
            let resp = answer(&head).await;
            if stream.write_all(&resp).await.is_err() {
                return;
            }
        }
    }
}

/// The URL of a listener that accepts connections and never answers (`testkit`'s silent
/// server): a dropped packet, seen from a client.
pub async fn black_hole() -> String {
    format!("http://{}", testkit::servers::silent().await)
}

/// A server answering 200 `Ship landed\n` that, at its `after`-th request, stops answering
/// anything for `stall`, then answers everything held.
pub async fn stalls_once(after: u64, stall: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(AtomicU64::new(0));
    let until: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let seen = seen.clone();
            let until = until.clone();
            tokio::spawn(serve_conn(stream, move |_| {
                let seen = seen.clone();
                let until = until.clone();
                async move {
                    let n = seen.fetch_add(1, Ordering::SeqCst);
                    let held = {
                        let mut u = until.lock().await;
                        if n == after {
                            *u = Some(Instant::now() + stall);
                        }
                        *u
                    };
                    if let Some(t) = held {
                        tokio::time::sleep_until(t).await;
                    }
                    LANDED_200.to_vec()
                }
            }));
        }
    });
    url
}
