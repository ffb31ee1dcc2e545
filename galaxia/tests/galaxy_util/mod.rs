//! The harness of the galaxy tests: `galaxia up` as a child process with a private discovery file
//! (so that parallel tests never meet), the verbs run against it, and failure messages that show
//! the command, its status, stdout and stderr, and the galaxy's own log.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const SVC: &str = "estrela-da-morte.default.svc.cluster.local";
pub const PANIC: &str = "Panic: deathstar exploded\n\ngoroutine 1 [running]:\nmain.HandleGarbage(0x2080c3f50, 0x2, 0x4, 0x425c0, 0x5, 0xa)\n        /code/src/github.com/empire/deathstar/\n        temp/main.go:9 +0x64\nmain.main()\n        /code/src/github.com/empire/deathstar/\n        temp/main.go:5 +0x85\n";

/// Long enough for a loaded 2-core CI machine; only reached when something is broken.
pub const MUST_HAPPEN: Duration = Duration::from_secs(90);

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_galaxia")
}

/// A `galaxia up` child; killed when dropped.
pub struct Galaxy {
    child: Child,
    pub dir: tempfile::TempDir,
}

impl Galaxy {
    /// `galaxia up -f FILES --no-patrol EXTRA...` from the repository root; waits until every pod
    /// is ready.
    pub fn up(files: &[&str], extra: &[&str]) -> Galaxy {
        Galaxy::up_in(tempfile::tempdir().expect("temp dir"), files, extra)
    }

    /// Like [`Galaxy::up`], with the discovery file (and the saved objects) in `dir`.
    pub fn up_in(dir: tempfile::TempDir, files: &[&str], extra: &[&str]) -> Galaxy {
        let child = up_command(&dir.path().join("control.json"), files, extra, dir.path())
            .spawn()
            .expect("spawn galaxia up");
        let mut g = Galaxy { child, dir };
        g.wait_ready();
        g
    }

    /// `kill -9` the galaxy: no clean stop, its discovery file and saved objects stay behind.
    pub fn crash(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// A new `galaxia up` on the same discovery file (after [`Galaxy::crash`]).
    pub fn restart(&mut self, files: &[&str], extra: &[&str]) {
        self.crash();
        self.child = up_command(&self.control_file(), files, extra, self.dir.path())
            .spawn()
            .expect("spawn galaxia up");
        self.wait_ready();
    }

    /// What `galaxia up` printed so far.
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("up.out")).unwrap_or_default()
    }

    pub fn control_file(&self) -> PathBuf {
        self.dir.path().join("control.json")
    }

    pub fn log(&self) -> String {
        let read = |n: &str| std::fs::read_to_string(self.dir.path().join(n)).unwrap_or_default();
        format!(
            "--- galaxia up stdout ---\n{}\n--- galaxia up stderr ---\n{}",
            read("up.out"),
            read("up.err")
        )
    }

    fn wait_ready(&mut self) {
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("galaxia up exited early with {status}\n{}", self.log());
            }
            if self.control_file().exists() {
                let out = self.run(&["get", "pods", "-o", "galaxia-json"]);
                if out.status.success() {
                    let pods: Vec<serde_json::Value> =
                        serde_json::from_slice(&out.stdout).expect("pods json");
                    if !pods.is_empty() && pods.iter().all(|p| p["ready"] == true) {
                        return;
                    }
                }
            }
            assert!(
                start.elapsed() < MUST_HAPPEN,
                "the galaxy never got ready\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `galaxia ARGS` against this galaxy, to be run.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin());
        c.current_dir(repo_root())
            .args(args)
            .env("GALAXIA_CONTROL_FILE", self.control_file())
            .env("GALAXIA_LOG_FORMAT", "human")
            .stdin(Stdio::null());
        c
    }

    /// Run `galaxia ARGS` against this galaxy.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run galaxia")
    }

    /// The `galaxia up` process's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Ctrl+C's SIGTERM sibling, and wait for the galaxy to finish its teardown.
    pub fn stop(mut self) {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).expect("pid"));
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
        let start = Instant::now();
        loop {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            assert!(
                start.elapsed() < MUST_HAPPEN,
                "galaxia up did not stop on SIGTERM\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Run and require success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{}\n{}",
            describe(args, &out),
            self.log()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `exec POD -- curl ARGS`, with the built-in curl or the system's.
    pub fn curl(&self, builtin: bool, pod: &str, args: &[&str]) -> Output {
        let mut v = vec!["exec"];
        if builtin {
            v.push("--builtin-curl");
        }
        v.extend([pod, "--", "curl"]);
        v.extend(args);
        self.run(&v)
    }

    pub fn pods(&self) -> Vec<serde_json::Value> {
        serde_json::from_str(&self.ok(&["get", "pods", "-o", "galaxia-json"])).expect("pods json")
    }
}

impl Drop for Galaxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `galaxia up` on `control` (`up.out` and `up.err` in `logs`).
pub fn up_command(control: &Path, files: &[&str], extra: &[&str], logs: &Path) -> Command {
    let mut cmd = Command::new(bin());
    cmd.current_dir(repo_root())
        .arg("up")
        .args(["--hubble-port", "0"])
        .args(["--ui-port", "0"])
        .arg("--control-file")
        .arg(control);
    for f in files {
        cmd.arg("-f").arg(f);
    }
    cmd.args(extra)
        .env("GALAXIA_LOG_FORMAT", "human")
        .env_remove("GALAXIA_CONTROL_FILE")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(logs.join("up.out")).expect("up.out"))
        .stderr(std::fs::File::create(logs.join("up.err")).expect("up.err"));
    cmd
}

/// A `galaxia up` that must give up on its own (a refusal): its output, or a panic (after
/// killing it) if it is still running after `MUST_HAPPEN`.
pub fn up_refused(control: &Path, files: &[&str]) -> Output {
    let logs = tempfile::tempdir().expect("temp dir");
    let mut child = up_command(control, files, &[], logs.path())
        .spawn()
        .expect("spawn galaxia up");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > MUST_HAPPEN {
            let _ = child.kill();
            let _ = child.wait();
            panic!("galaxia up was expected to refuse, and kept running");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let read = |n: &str| std::fs::read(logs.path().join(n)).unwrap_or_default();
    Output {
        status,
        stdout: read("up.out"),
        stderr: read("up.err"),
    }
}

/// The command, its status, stdout and stderr, for assertion messages.
pub fn describe(args: &[&str], out: &Output) -> String {
    format!(
        "galaxia {}\nstatus: {}\nstdout: {:?}\nstderr: {:?}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Debian's curl, when installed.
pub fn system_curl() -> Option<PathBuf> {
    let p = PathBuf::from("/usr/bin/curl");
    p.is_file().then_some(p)
}

/// Poll until `f` holds.
pub fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < MUST_HAPPEN, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
