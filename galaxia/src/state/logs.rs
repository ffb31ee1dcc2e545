//! What each pod's container wrote, as the kubelet keeps it for `kubectl logs`: the lines of the
//! current run, and of the one before it (`--previous`) once the container has restarted.
//! Bounded: a run keeps its last [`MAX_LINES`] lines.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// Lines kept per run (the kubelet rotates by size; a galaxy keeps the newest lines).
pub const MAX_LINES: usize = 5000;

#[derive(Debug, Default)]
struct Run {
    lines: VecDeque<String>,
    /// How many lines the run wrote before `lines[0]` (what was dropped from the front).
    dropped: u64,
}

impl Run {
    fn written(&self) -> u64 {
        self.dropped + self.lines.len() as u64
    }
}

#[derive(Debug, Default)]
struct Runs {
    current: Run,
    previous: Option<Run>,
    /// Bumped at each restart, so that a follower knows its position is of an older run.
    generation: u64,
    /// The container will write no more (the pod is deleted or the galaxy stops).
    ended: bool,
}

/// One pod's container log.
#[derive(Debug, Default)]
pub struct ContainerLog {
    runs: Mutex<Runs>,
}

/// Lines read from a log: `next` is where the next read starts, in run `generation`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LogChunk {
    pub lines: Vec<String>,
    pub next: u64,
    pub generation: u64,
    /// Nothing more will come (the pod is gone).
    pub ended: bool,
}

impl ContainerLog {
    pub fn write(&self, line: impl Into<String>) {
        let mut runs = self.lock();
        let run = &mut runs.current;
        run.lines.push_back(line.into());
        while run.lines.len() > MAX_LINES {
            run.lines.pop_front();
            run.dropped += 1;
        }
    }

    /// The container starts again: its log so far becomes the previous one.
    pub fn restart(&self) {
        let mut runs = self.lock();
        let old = std::mem::take(&mut runs.current);
        runs.previous = Some(old);
        runs.generation += 1;
    }

    pub fn end(&self) {
        self.lock().ended = true;
    }

    /// The lines of the current run (or the previous one) from line `since` (0: from the start),
    /// or the last `tail` of them. `None`: there is no previous run.
    pub fn read(&self, previous: bool, since: u64, tail: Option<usize>) -> Option<LogChunk> {
        let runs = self.lock();
        let run = if previous {
            runs.previous.as_ref()?
        } else {
            &runs.current
        };
        let skip = usize::try_from(since.saturating_sub(run.dropped)).unwrap_or(usize::MAX);
        let mut lines: Vec<String> = run.lines.iter().skip(skip).cloned().collect();
        if let Some(t) = tail {
            let cut = lines.len().saturating_sub(t);
            lines.drain(..cut);
        }
        Some(LogChunk {
            lines,
            next: run.written(),
            generation: runs.generation,
            ended: previous || runs.ended,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Runs> {
        self.runs.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One request to a replica, from the moment the proxy forwards it: its access log line once
/// answered.
#[derive(Debug)]
pub struct Access {
    method: http::Method,
    path: String,
    started: std::time::Instant,
}

impl Access {
    pub fn start<B>(req: &http::Request<B>) -> Access {
        Access {
            method: req.method().clone(),
            path: req.uri().path().to_string(),
            started: std::time::Instant::now(),
        }
    }

    /// Write the line in `pod`'s log (a Death Star replica's; a ship's answers nothing).
    pub fn finish(self, pod: &super::Pod, status: http::StatusCode) {
        if pod.role() != super::Role::DeathStar {
            return;
        }
        if self.path == "/v1/exhaust-port" && status == http::StatusCode::SERVICE_UNAVAILABLE {
            pod.log.write(json_line(
                "WARN",
                "estrela_da_morte::demo",
                "exhaust port hit: the Death Star explodes",
                &[],
            ));
        }
        pod.log.write(json_line(
            "INFO",
            "access",
            "request",
            &[
                ("method", self.method.as_str().into()),
                ("path", self.path.into()),
                ("status", status.as_u16().into()),
                (
                    "micros",
                    u64::try_from(self.started.elapsed().as_micros())
                        .unwrap_or(u64::MAX)
                        .into(),
                ),
            ],
        ));
    }
}

/// One line as the images log when stderr is not a terminal (tracing's JSON, event fields
/// flattened): timestamp, level, message, the fields, target.
pub fn json_line(
    level: &str,
    target: &str,
    message: &str,
    fields: &[(&str, serde_json::Value)],
) -> String {
    let q = |v: &serde_json::Value| v.to_string();
    let ts = humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string();
    let mut out = format!(
        "{{\"timestamp\":{},\"level\":{},\"message\":{}",
        q(&ts.into()),
        q(&level.into()),
        q(&message.into())
    );
    for (k, v) in fields {
        out.push_str(&format!(",{}:{}", q(&(*k).into()), q(v)));
    }
    out.push_str(&format!(",\"target\":{}}}", q(&target.into())));
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_run_before_a_restart_and_bounds_each_run() {
        let log = ContainerLog::default();
        assert!(log.read(true, 0, None).is_none());
        for i in 0..MAX_LINES + 3 {
            log.write(format!("line {i}"));
        }
        let now = log.read(false, 0, None).unwrap();
        assert_eq!(now.lines.len(), MAX_LINES);
        assert_eq!(now.lines[0], "line 3");
        assert_eq!(log.read(false, 0, Some(2)).unwrap().lines.len(), 2);
        let next = now.next;
        log.write("more");
        assert_eq!(log.read(false, next, None).unwrap().lines, ["more"]);
        log.restart();
        assert_eq!(log.read(true, 0, Some(1)).unwrap().lines, ["more"]);
        assert!(log.read(false, 0, None).unwrap().lines.is_empty());
    }
}
