//! Shared test harness: an in-process station on 127.0.0.1 ephemeral ports, the binary as a child
//! process, and raw HTTP/1 exchanges (bytes in, bytes out) with the Date value masked.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use estrela_da_morte::{Config, Exit};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Longest any single exchange may take before the test fails instead of hanging.
pub const IO_LIMIT: Duration = Duration::from_secs(10);

/// A station served by `run` inside the test's runtime.
pub struct Station {
    pub demo: SocketAddr,
    pub admin: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    pub task: JoinHandle<Result<Exit, estrela_da_morte::Error>>,
}

/// A config for tests: loopback, no drain, explosions off unless the test turns them on.
pub fn test_config() -> Config {
    Config {
        host: "127.0.0.1".parse().unwrap(),
        port: 0,
        admin_port: 0,
        hostname: Some("estrela-teste".to_owned()),
        no_explosions: true,
        drain: Duration::ZERO,
        ..Config::default()
    }
}

impl Station {
    pub async fn start(config: Config) -> Station {
        let demo = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let admin = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (demo_addr, admin_addr) = (demo.local_addr().unwrap(), admin.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(estrela_da_morte::run(demo, admin, config, async move {
            let _ = stopped.await;
        }));
        Station {
            demo: demo_addr,
            admin: admin_addr,
            stop: Some(stop),
            task,
        }
    }

    /// Fires the shutdown trigger without waiting for the end.
    pub fn trigger_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    pub async fn stop(mut self) -> Exit {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(IO_LIMIT * 3, &mut self.task)
            .await
            .expect("station did not stop")
            .unwrap()
            .unwrap()
    }
}

/// Writes `request` on a new connection and reads until the server closes it.
pub async fn exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(IO_LIMIT, stream.read_to_end(&mut out))
        .await
        .expect("server did not close the connection")
        .unwrap();
    String::from_utf8(out).unwrap()
}

/// `GET path` with `Connection: close` on a blocking socket.
pub fn get_blocking(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(IO_LIMIT))?;
    let extra = if body.is_empty() {
        String::new()
    } else {
        format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        )
    };
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: t\r\nAccept: */*\r\n{extra}Connection: close\r\n\r\n{body}"
    )?;
    let mut out = String::new();
    stream.read_to_string(&mut out)?;
    Ok(out)
}

/// The status code of a raw response.
pub fn status_of(response: &str) -> u16 {
    response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

/// Replaces every Date value (each checked to be an IMF-fixdate) with `<date>`.
pub fn mask_date(response: &str) -> String {
    const KEY: &str = "\r\nDate: ";
    let mut out = String::with_capacity(response.len());
    let mut rest = response;
    while let Some(start) = rest.find(KEY) {
        let value_start = start + KEY.len();
        let value_end = value_start + rest[value_start..].find("\r\n").unwrap();
        let value = &rest[value_start..value_end];
        assert!(
            value.len() == 29 && value.ends_with(" GMT"),
            "bad Date {value:?}"
        );
        out.push_str(&rest[..value_start]);
        out.push_str("<date>");
        rest = &rest[value_end..];
    }
    out.push_str(rest);
    out
}

/// The binary as a child process, with its stderr collected line by line.
pub struct Daemon {
    pub child: Child,
    pub demo: SocketAddr,
    pub admin: SocketAddr,
    pub log: Arc<Mutex<Vec<String>>>,
    /// The start-up line, as JSON.
    pub up: serde_json::Value,
}

impl Daemon {
    /// Starts the binary on loopback ephemeral ports with `args`, and waits for its start-up line.
    pub fn start(args: &[&str], envs: &[(&str, &str)]) -> Daemon {
        Daemon::spawn(
            Command::new(env!("CARGO_BIN_EXE_estrela-da-morte")),
            args,
            envs,
        )
    }

    /// [`Daemon::start`] with the open-files limit lowered to `limit` (through `sh`'s `ulimit`).
    pub fn start_with_open_files(limit: u32, args: &[&str], envs: &[(&str, &str)]) -> Daemon {
        let mut command = Command::new("sh");
        command.args([
            "-c",
            "ulimit -n \"$1\" && shift && exec \"$@\"",
            "sh",
            &limit.to_string(),
            env!("CARGO_BIN_EXE_estrela-da-morte"),
        ]);
        Daemon::spawn(command, args, envs)
    }

    fn spawn(mut command: Command, args: &[&str], envs: &[(&str, &str)]) -> Daemon {
        for var in [
            "HOST",
            "PORT",
            "ADMIN_PORT",
            "HOSTNAME",
            "EXPLODE_AFTER",
            "NO_EXPLOSIONS",
            "DRAIN",
            "MAX_CONNECTIONS",
            "MAX_ADMIN_CONNECTIONS",
            "BODY_READ_TIMEOUT",
            "HEADER_READ_TIMEOUT",
            "ACCESS_LOG",
        ] {
            command.env_remove(var);
        }
        command
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--admin-port",
                "0",
                "--log-format",
                "json",
            ])
            .args(args)
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("estrela-da-morte is up") {
                    let _ = tx.send(line.clone());
                }
                sink.lock().unwrap().push(line);
            }
        });
        let Ok(up) = rx.recv_timeout(IO_LIMIT) else {
            let _ = child.kill();
            panic!("no start-up line; stderr: {:?}", log.lock().unwrap());
        };
        let up: serde_json::Value = serde_json::from_str(&up).unwrap();
        let addr = |key: &str| up[key].as_str().unwrap().parse::<SocketAddr>().unwrap();
        Daemon {
            demo: addr("demo"),
            admin: addr("admin"),
            child,
            log,
            up,
        }
    }

    /// Waits up to `limit` for the process to exit.
    pub fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Sends SIGTERM through the shell's `kill` (no unsafe code needed); false if that failed.
    pub fn sigterm(&self) -> bool {
        Command::new("sh")
            .args([
                "-c",
                "kill -TERM \"$1\"",
                "sh",
                &self.child.id().to_string(),
            ])
            .status()
            .is_ok_and(|s| s.success())
    }

    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Waits up to [`IO_LIMIT`] for a log line containing every one of `parts`.
    pub fn wait_for_log(&self, parts: &[&str]) -> String {
        let deadline = Instant::now() + IO_LIMIT;
        loop {
            if let Some(line) = self
                .log
                .lock()
                .unwrap()
                .iter()
                .find(|line| parts.iter().all(|part| line.contains(part)))
            {
                return line.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no log line with {parts:?}:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value of one sample line (`name{labels} value`) in a Prometheus text, if present.
pub fn metric_value(text: &str, series: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}
