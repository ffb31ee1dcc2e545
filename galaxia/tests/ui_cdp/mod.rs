//! Debian's headless `chromium`, driven over the DevTools protocol for the UI's browser tests and
//! benchmark: start it (a fresh profile, no network of its own), open one page, evaluate
//! JavaScript, click and type as a user would (`Input.*` events), take screenshots, read the
//! performance counters, and collect every console error, uncaught exception and failed load.
//!
//! A small client of our own over a WebSocket (tungstenite) rather than chromiumoxide or
//! headless_chrome: the tests need a dozen commands, and those crates' generated protocol types
//! would be most of the workspace's build time on a 2-core machine.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// Where Debian installs it (`apt-get install chromium`).
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// The browser for a test, or `None` with the reason printed (under `REQUIRE_ALL=1`, which
/// scripts/test.sh sets in CI, a panic instead: there the browser tests must run).
pub fn chromium_or_skip(test: &str) -> Option<PathBuf> {
    let path = std::env::var_os("GALAXIA_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(CHROMIUM));
    if path.is_file() {
        return Some(path);
    }
    let msg = format!(
        "no browser at {} (apt-get install chromium, or scripts/test.sh as root)",
        path.display()
    );
    testkit::skip::skip(test, &msg);
    None
}

/// Where the screenshots go, for whoever reads the CI log.
pub fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("ui-screenshots");
    std::fs::create_dir_all(&dir).expect("target/ui-screenshots");
    dir
}

/// One thing the page reported that a clean page never does.
#[derive(Debug, Clone)]
pub struct ConsoleProblem {
    pub kind: String,
    pub text: String,
}

pub struct Browser {
    child: Child,
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    session: String,
    /// Console errors, exceptions and failed loads, in order.
    pub problems: Vec<ConsoleProblem>,
    _profile: tempfile::TempDir,
}

const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

impl Browser {
    /// Start chromium headless with a fresh profile and a `width` x `height` page.
    pub fn start(binary: &Path, width: u32, height: u32) -> Browser {
        let profile = tempfile::tempdir().expect("profile dir");
        let mut child = Command::new(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-default-apps",
                "--disable-extensions",
                "--disable-domain-reliability",
                "--disable-client-side-phishing-detection",
                "--disable-breakpad",
                "--no-default-browser-check",
                "--no-pings",
                "--metrics-recording-only",
                "--password-store=basic",
                "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                &format!("--window-size={width},{height}"),
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start chromium");
        let stderr = child.stderr.take().expect("chromium stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        // Chromium prints its DevTools address on stderr; the rest of its chatter is drained so
        // that it never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent && let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let _ = tx.send(url.trim().to_string());
                    sent = true;
                }
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(u) => u,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chromium printed no DevTools address within 30 s");
            }
        };
        assert!(
            url.starts_with("ws://127.0.0.1:"),
            "DevTools must listen on loopback: {url}"
        );
        let (mut ws, _) = tungstenite::connect(&url).expect("DevTools WebSocket");
        if let MaybeTlsStream::Plain(s) = ws.get_mut() {
            // Reads wake up now and then, so that a command that never gets an answer fails.
            s.set_read_timeout(Some(Duration::from_secs(5))).ok();
        }
        let mut b = Browser {
            child,
            ws,
            next_id: 0,
            session: String::new(),
            problems: Vec::new(),
            _profile: profile,
        };
        let target = b.call_browser("Target.createTarget", json!({ "url": "about:blank" }));
        let target_id = target["targetId"].as_str().expect("targetId").to_string();
        let attached = b.call_browser(
            "Target.attachToTarget",
            json!({ "targetId": target_id, "flatten": true }),
        );
        b.session = attached["sessionId"]
            .as_str()
            .expect("sessionId")
            .to_string();
        for domain in [
            "Page.enable",
            "Runtime.enable",
            "Log.enable",
            "Performance.enable",
        ] {
            b.call(domain, json!({}));
        }
        b.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false }),
        );
        b
    }

    fn send(&mut self, method: &str, params: Value, session: bool) -> u64 {
        self.next_id += 1;
        let mut msg = json!({ "id": self.next_id, "method": method, "params": params });
        if session {
            msg["sessionId"] = json!(self.session);
        }
        self.ws
            .send(Message::text(msg.to_string()))
            .expect("send to DevTools");
        self.next_id
    }

    fn wait_reply(&mut self, id: u64, method: &str) -> Value {
        let deadline = Instant::now() + COMMAND_TIMEOUT;
        loop {
            assert!(
                Instant::now() < deadline,
                "{method}: no answer from chromium"
            );
            let msg = match self.ws.read() {
                Ok(Message::Text(t)) => t,
                Ok(_) => continue,
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    continue;
                }
                Err(e) => panic!("{method}: DevTools connection: {e}"),
            };
            let v: Value = serde_json::from_str(msg.as_str()).expect("DevTools JSON");
            if v["id"].as_u64() == Some(id) {
                if let Some(err) = v.get("error") {
                    panic!("{method}: {err}");
                }
                return v["result"].clone();
            }
            self.event(&v);
        }
    }

    /// Record what a clean page never reports.
    fn event(&mut self, v: &Value) {
        let p = &v["params"];
        match v["method"].as_str() {
            Some("Runtime.consoleAPICalled") => {
                let kind = p["type"].as_str().unwrap_or_default();
                if kind == "error" || kind == "assert" {
                    let text = p["args"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .map(|x| {
                                    x["value"]
                                        .as_str()
                                        .map(str::to_string)
                                        .unwrap_or_else(|| x["description"].to_string())
                                })
                                .collect::<Vec<_>>()
                                .join(" ")
                        })
                        .unwrap_or_default();
                    self.problems.push(ConsoleProblem {
                        kind: format!("console.{kind}"),
                        text,
                    });
                }
            }
            Some("Runtime.exceptionThrown") => self.problems.push(ConsoleProblem {
                kind: "exception".into(),
                text: p["exceptionDetails"]["exception"]["description"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| p["exceptionDetails"]["text"].to_string()),
            }),
            Some("Log.entryAdded") => {
                let e = &p["entry"];
                if e["level"] == "error" {
                    self.problems.push(ConsoleProblem {
                        kind: format!("log.{}", e["source"].as_str().unwrap_or_default()),
                        text: format!(
                            "{} {}",
                            e["text"].as_str().unwrap_or_default(),
                            e["url"].as_str().unwrap_or_default()
                        ),
                    });
                }
            }
            _ => {}
        }
    }

    fn call_browser(&mut self, method: &str, params: Value) -> Value {
        let id = self.send(method, params, false);
        self.wait_reply(id, method)
    }

    /// A command to the page's session.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.send(method, params, true);
        self.wait_reply(id, method)
    }

    /// Read pending events (console messages) without sending anything.
    pub fn pump(&mut self) {
        let _ = self.eval("0");
    }

    pub fn navigate(&mut self, url: &str) {
        self.call("Page.navigate", json!({ "url": url }));
        self.wait_for("the page loads", "document.readyState === 'complete'", 30);
    }

    /// The value of a JavaScript expression (promises awaited).
    pub fn eval(&mut self, expr: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({ "expression": expr, "returnByValue": true, "awaitPromise": true }),
        );
        if let Some(e) = r.get("exceptionDetails") {
            panic!("evaluating {expr}: {e}");
        }
        r["result"]["value"].clone()
    }

    /// Poll `expr` until it is truthy; panics after `secs` with `what`. Returns the time it took.
    pub fn wait_for(&mut self, what: &str, expr: &str, secs: u64) -> Duration {
        let start = Instant::now();
        loop {
            let v = self.eval(&format!("!!({expr})"));
            if v == Value::Bool(true) {
                return start.elapsed();
            }
            if start.elapsed() >= Duration::from_secs(secs) {
                let shot = self.screenshot("failed-wait.png");
                let body = self.eval("JSON.stringify({filter: window.__galaxia && window.__galaxia.filter, verdict: window.__galaxia && window.__galaxia.verdict, stream: window.__galaxia && window.__galaxia.source && window.__galaxia.source.url}) + '\\n' + document.body.innerText.slice(0, 2000)");
                panic!(
                    "within {secs} s: {what} (never true: {expr})\nscreenshot: {}\nconsole: {:#?}\npage text: {body}",
                    shot.display(),
                    self.problems
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The centre of the first element matching `selector`, in CSS pixels.
    fn centre(&mut self, selector: &str) -> (f64, f64) {
        let v = self.eval(&format!(
            "(() => {{ const e = document.querySelector({sel}); if (!e) return null; e.scrollIntoView({{block: 'nearest'}}); const r = e.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; }})()",
            sel = serde_json::to_string(selector).unwrap_or_default()
        ));
        let a = v
            .as_array()
            .unwrap_or_else(|| panic!("no element {selector}"));
        (a[0].as_f64().unwrap_or(0.0), a[1].as_f64().unwrap_or(0.0))
    }

    /// A real mouse click (press and release) on the element.
    pub fn click(&mut self, selector: &str) {
        let (x, y) = self.centre(selector);
        for kind in ["mouseMoved", "mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({ "type": kind, "x": x, "y": y, "button": "left", "clickCount": 1 }),
            );
        }
    }

    /// Focus the input, replace its text by typing `text`, then press Enter.
    pub fn type_and_enter(&mut self, selector: &str, text: &str) {
        self.click(selector);
        self.eval(&format!(
            "document.querySelector({}).select()",
            serde_json::to_string(selector).unwrap_or_default()
        ));
        if !text.is_empty() {
            self.call("Input.insertText", json!({ "text": text }));
        } else {
            self.call(
                "Input.dispatchKeyEvent",
                json!({ "type": "keyDown", "key": "Backspace", "code": "Backspace", "windowsVirtualKeyCode": 8 }),
            );
        }
        let value = self.eval(&format!(
            "document.querySelector({}).value",
            serde_json::to_string(selector).unwrap_or_default()
        ));
        assert_eq!(value, text, "typed into {selector}");
        for kind in ["keyDown", "keyUp"] {
            self.call(
                "Input.dispatchKeyEvent",
                json!({ "type": kind, "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "text": if kind == "keyDown" { "\r" } else { "" } }),
            );
        }
    }

    /// Choose `value` in a `<select>` as a user would (its change event fires).
    pub fn select(&mut self, selector: &str, value: &str) {
        self.eval(&format!(
            "(() => {{ const s = document.querySelector({}); s.value = {}; s.dispatchEvent(new Event('change', {{bubbles: true}})); }})()",
            serde_json::to_string(selector).unwrap_or_default(),
            serde_json::to_string(value).unwrap_or_default()
        ));
    }

    /// A PNG of the page, saved as `name` in target/ui-screenshots/; returns the path.
    pub fn screenshot(&mut self, name: &str) -> PathBuf {
        let r = self.call("Page.captureScreenshot", json!({ "format": "png" }));
        let data = base64::engine::general_purpose::STANDARD
            .decode(r["data"].as_str().unwrap_or_default())
            .expect("screenshot base64");
        let path = screenshot_dir().join(name);
        std::fs::write(&path, data).expect("write screenshot");
        eprintln!("screenshot: {}", path.display());
        path
    }

    /// Chromium's performance counters (`JSHeapUsedSize`, `Nodes`, ...).
    pub fn metrics(&mut self) -> std::collections::BTreeMap<String, f64> {
        let r = self.call("Performance.getMetrics", json!({}));
        r["metrics"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|m| Some((m["name"].as_str()?.to_string(), m["value"].as_f64()?)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Collect garbage, so that heap readings compare live objects only.
    pub fn collect_garbage(&mut self) {
        self.call("HeapProfiler.collectGarbage", json!({}));
    }

    /// Fail with every console error seen so far.
    pub fn assert_clean_console(&mut self) {
        self.pump();
        assert!(
            self.problems.is_empty(),
            "the browser reported errors: {:#?}",
            self.problems
        );
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ask it to close, then make sure the process we started is gone (only that one, by PID).
        self.next_id += 1;
        let msg = json!({ "id": self.next_id, "method": "Browser.close" });
        let _ = self.ws.send(Message::text(msg.to_string()));
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
