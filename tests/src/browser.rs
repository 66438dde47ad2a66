//! Headless Chromium for tests, driven over the DevTools protocol on a pipe
//! (`--remote-debugging-pipe`: commands on the browser's fd 3, replies on its fd 4, each message
//! a JSON text ended by a NUL byte) — no WebDriver, no Node, no extra crate.
//!
//! The browser runs in its own process group with a fresh profile and is killed, group and all,
//! when the [`Browser`] is dropped. Tests that need it call [`Browser::launch_or_skip`]: without
//! a Chromium on the machine they print why and pass, unless `HAUL_REQUIRE_BROWSER=1` (set by
//! `.ci/run`), which turns a missing browser into a failure.
//!
//! Exceptions thrown by page scripts and console/CSP errors are collected
//! ([`Browser::page_errors`]), so a test can assert the page ran cleanly.
//!
//! [`Browser::launch_with`] takes what the extension tests need ([`Launch`]): a profile folder
//! the test chose (where `haul install --user-data-dir` put the host manifest), an unpacked
//! extension, `--host-resolver-rules` that map real marketplace names to a loopback server, the
//! server keys to trust (`--ignore-certificate-errors-spki-list`), and environment for the native
//! hosts Chromium starts.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Time a DevTools command may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// Where Chromium is: `$HAUL_CHROMIUM`, Debian's real binary (behind the `chromium` wrapper
/// script), or the first of the usual names on `PATH`.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("HAUL_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let debian = Path::new("/usr/lib/chromium/chromium");
    if debian.is_file() {
        return Some(debian.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
    .find(|p| p.is_file())
}

/// The Chromium binary, or `None` after saying why the test skips; a failure instead when
/// `HAUL_REQUIRE_BROWSER=1`.
pub fn find_or_skip(test: &str) -> Option<PathBuf> {
    let required = std::env::var("HAUL_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    let found = find_chromium();
    if found.is_none() {
        assert!(
            !required,
            "{test}: HAUL_REQUIRE_BROWSER=1 but no Chromium was found (install Debian's `chromium` or set HAUL_CHROMIUM)"
        );
        eprintln!(
            "{test}: skipped — no Chromium on this machine (install `chromium`, or set HAUL_CHROMIUM)"
        );
    }
    found
}

/// What to start Chromium with beyond the defaults.
#[derive(Debug, Clone, Default)]
pub struct Launch {
    /// The profile folder (`--user-data-dir`); `None` for a fresh temporary one.
    pub profile: Option<PathBuf>,
    /// An unpacked extension to load (and the only one allowed).
    pub extension: Option<PathBuf>,
    /// `--host-resolver-rules`, e.g. `MAP www.amazon.com 127.0.0.2:443, MAP * ~NOTFOUND`.
    pub resolver_rules: Option<String>,
    /// Base64 SHA-256 of server keys to trust (`--ignore-certificate-errors-spki-list`).
    pub trusted_spki: Vec<String>,
    /// Extra environment; it reaches the native hosts Chromium starts.
    pub env: Vec<(String, OsString)>,
    /// Lets the DevTools client act on extensions (`--enable-unsafe-extension-debugging`), as
    /// [`Browser::click_extension_action`] needs.
    pub extension_debugging: bool,
}

/// A headless Chromium with one page open.
pub struct Browser {
    child: Child,
    commands: std::fs::File,
    replies: Receiver<Value>,
    next_id: u64,
    session: Option<String>,
    /// The open page's target, for commands about the tab rather than its document.
    target: Option<String>,
    /// A session with the extension's service worker ([`Browser::eval_in_extension`]).
    worker: Option<String>,
    errors: Vec<String>,
    profile: PathBuf,
    _temporary_profile: Option<tempfile::TempDir>,
}

impl Browser {
    /// A browser, or `None` (after saying why on stderr) when this machine has no Chromium and
    /// `HAUL_REQUIRE_BROWSER` is not `1`.
    pub fn launch_or_skip(test: &str) -> Option<Browser> {
        let exe = find_or_skip(test)?;
        Some(Browser::launch(&exe).unwrap_or_else(|e| panic!("start {}: {e}", exe.display())))
    }

    /// Starts `exe` headless with a fresh profile.
    pub fn launch(exe: &Path) -> std::io::Result<Browser> {
        Browser::launch_with(exe, &Launch::default())
    }

    /// Starts `exe` headless as `launch` says.
    #[cfg(unix)]
    pub fn launch_with(exe: &Path, launch: &Launch) -> std::io::Result<Browser> {
        use std::os::fd::{FromRawFd, RawFd};
        use std::os::unix::process::CommandExt;

        let (profile, temporary_profile) = match &launch.profile {
            Some(dir) => (dir.clone(), None),
            None => {
                let temp = tempfile::Builder::new()
                    .prefix("haul-chromium-")
                    .tempdir()?;
                (temp.path().to_path_buf(), Some(temp))
            }
        };
        let pipe = || -> std::io::Result<(RawFd, RawFd)> {
            let mut fds = [0; 2];
            // SAFETY: pipe fills two fds we own from here on; close-on-exec keeps them out of
            // the browser except where pre_exec puts them.
            unsafe {
                if libc::pipe(fds.as_mut_ptr()) != 0
                    || libc::fcntl(fds[0], libc::F_SETFD, libc::FD_CLOEXEC) != 0
                    || libc::fcntl(fds[1], libc::F_SETFD, libc::FD_CLOEXEC) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok((fds[0], fds[1]))
        };
        let (cmd_read, cmd_write) = pipe()?;
        let (reply_read, reply_write) = pipe()?;
        let log = std::fs::File::create(profile.join("chromium.log"))?;
        let mut command = Command::new(exe);
        command
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
                "--remote-debugging-pipe",
                "--enable-logging=stderr",
            ])
            .arg(format!("--user-data-dir={}", profile.display()));
        if let Some(ext) = &launch.extension {
            command.arg(format!("--load-extension={}", ext.display()));
            command.arg(format!("--disable-extensions-except={}", ext.display()));
        }
        if launch.extension_debugging {
            command.arg("--enable-unsafe-extension-debugging");
        }
        if let Some(rules) = &launch.resolver_rules {
            command.arg(format!("--host-resolver-rules={rules}"));
        }
        if !launch.trusted_spki.is_empty() {
            command.arg(format!(
                "--ignore-certificate-errors-spki-list={}",
                launch.trusted_spki.join(",")
            ));
        }
        command
            .arg("about:blank")
            .envs(launch.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .process_group(0);
        // SAFETY: only async-signal-safe calls (dup2) between fork and exec.
        unsafe {
            command.pre_exec(move || {
                // Move both ends above the target numbers first, so neither dup2 clobbers the other.
                let a = libc::fcntl(cmd_read, libc::F_DUPFD, 10);
                let b = libc::fcntl(reply_write, libc::F_DUPFD, 10);
                if a < 0 || b < 0 || libc::dup2(a, 3) < 0 || libc::dup2(b, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let spawned = command.spawn();
        // SAFETY: each fd is ours and closed exactly once (the child has its own copies).
        unsafe {
            libc::close(cmd_read);
            libc::close(reply_write);
        }
        let child = match spawned {
            Ok(c) => c,
            Err(e) => {
                // SAFETY: as above.
                unsafe {
                    libc::close(cmd_write);
                    libc::close(reply_read);
                }
                return Err(e);
            }
        };
        // SAFETY: the fds are open and owned by nothing else.
        let commands = unsafe { std::fs::File::from_raw_fd(cmd_write) };
        let mut replies_in = unsafe { std::fs::File::from_raw_fd(reply_read) };
        let (tx, replies) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut pending = Vec::new();
            let mut buf = vec![0u8; 1 << 16];
            while let Ok(n) = replies_in.read(&mut buf) {
                if n == 0 {
                    break;
                }
                pending.extend_from_slice(&buf[..n]);
                while let Some(end) = pending.iter().position(|&b| b == 0) {
                    let message: Vec<u8> = pending.drain(..=end).collect();
                    if let Ok(v) = serde_json::from_slice::<Value>(&message[..end])
                        && tx.send(v).is_err()
                    {
                        return;
                    }
                }
            }
        });
        Ok(Browser {
            child,
            commands,
            replies,
            next_id: 0,
            session: None,
            target: None,
            worker: None,
            errors: Vec::new(),
            profile,
            _temporary_profile: temporary_profile,
        })
    }

    #[cfg(not(unix))]
    pub fn launch_with(_exe: &Path, _launch: &Launch) -> std::io::Result<Browser> {
        Err(std::io::Error::other(
            "the DevTools pipe is wired up on Unix only",
        ))
    }

    /// Sends a DevTools command (to the open page when there is one) and returns its result.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        self.command(method, params, session.as_deref())
    }

    fn command(&mut self, method: &str, params: Value, session: Option<&str>) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            message["sessionId"] = json!(s);
        }
        let mut bytes = message.to_string().into_bytes();
        bytes.push(0);
        self.commands
            .write_all(&bytes)
            .unwrap_or_else(|e| panic!("{method}: Chromium's pipe is closed ({e})"));
        let deadline = Instant::now() + COMMAND_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let reply = match self.replies.recv_timeout(left) {
                Ok(v) => v,
                Err(RecvTimeoutError::Timeout) => panic!("{method}: no answer from Chromium"),
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("{method}: Chromium exited (see chromium.log in its profile)")
                }
            };
            if reply["id"] == id {
                if let Some(error) = reply.get("error") {
                    panic!("{method}: {error}");
                }
                return reply["result"].clone();
            }
            self.note_event(&reply);
        }
    }

    fn note_event(&mut self, event: &Value) {
        let params = &event["params"];
        match event["method"].as_str() {
            Some("Runtime.exceptionThrown") => {
                let d = &params["exceptionDetails"];
                self.errors.push(format!(
                    "exception: {} {}",
                    d["text"].as_str().unwrap_or_default(),
                    d["exception"]["description"].as_str().unwrap_or_default()
                ));
            }
            Some("Log.entryAdded") if params["entry"]["level"] == "error" => {
                let e = &params["entry"];
                // The page is told about a daemon that went away through failed requests;
                // those are expected while it restarts, everything else is a fault.
                if e["source"] != "network" {
                    self.errors.push(format!(
                        "{}: {}",
                        e["source"].as_str().unwrap_or_default(),
                        e["text"].as_str().unwrap_or_default()
                    ));
                }
            }
            _ => {}
        }
    }

    /// Opens `url` in a new page of `width` × `height` CSS pixels, which later calls act on
    /// (the page opened before, if any, is closed).
    pub fn open(&mut self, url: &str, width: u32, height: u32) {
        if let Some(old) = self.target.take() {
            self.command("Target.closeTarget", json!({"targetId": old}), None);
        }
        let target = self.command("Target.createTarget", json!({"url": "about:blank"}), None);
        let target_id = target["targetId"].clone();
        self.target = target_id.as_str().map(str::to_string);
        let attached = self.command(
            "Target.attachToTarget",
            json!({"targetId": target_id, "flatten": true}),
            None,
        );
        self.session = attached["sessionId"].as_str().map(str::to_string);
        self.call("Runtime.enable", json!({}));
        self.call("Log.enable", json!({}));
        self.call("Page.enable", json!({}));
        self.set_viewport(width, height, false);
        self.call("Page.navigate", json!({"url": url}));
    }

    /// Lets pages download files into `dir` (headless Chromium refuses downloads otherwise).
    pub fn allow_downloads(&mut self, dir: &Path) {
        self.command(
            "Browser.setDownloadBehavior",
            json!({"behavior": "allow", "downloadPath": dir.display().to_string()}),
            None,
        );
    }

    /// Resizes the page; `mobile` emulates a phone (touch, device scale 2).
    pub fn set_viewport(&mut self, width: u32, height: u32, mobile: bool) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": if mobile { 2 } else { 1 }, "mobile": mobile}),
        );
    }

    /// Evaluates `expression` in the page (awaiting a promise) and returns its value.
    pub fn eval(&mut self, expression: &str) -> Value {
        self.try_eval(expression)
            .unwrap_or_else(|e| panic!("evaluating {expression}: {e}"))
    }

    /// [`Browser::eval`], with a script error as `Err` (for instance while the page loads).
    pub fn try_eval(&mut self, expression: &str) -> Result<Value, String> {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        match result.get("exceptionDetails") {
            Some(e) => Err(e.to_string()),
            None => Ok(result["result"]["value"].clone()),
        }
    }

    /// Evaluates `expression` every 50 ms until it is truthy (a script error counts as not yet);
    /// returns that value, or `None` when `timeout` passes first.
    pub fn wait_until(&mut self, expression: &str, timeout: Duration) -> Option<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let v = self.try_eval(expression).unwrap_or(Value::Null);
            let truthy = match &v {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if truthy {
                return Some(v);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A trusted mouse click in the middle of the first element matching `selector` (scrolled
    /// into view first).
    pub fn click(&mut self, selector: &str) {
        let selector_js = serde_json::to_string(selector).unwrap_or_default();
        let at = self.eval(&format!(
            "(() => {{ const e = document.querySelector({selector_js}); if (!e) return null; \
             e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect(); \
             return [r.x + r.width / 2, r.y + r.height / 2]; }})()"
        ));
        let (Some(x), Some(y)) = (at[0].as_f64(), at[1].as_f64()) else {
            panic!("nothing to click at {selector}");
        };
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            );
        }
    }

    /// Clicks the toolbar button of the extension `extension_id` for the open page, as a person
    /// would (its `action.onClicked` runs with activeTab granted for the tab). Headless Chromium
    /// draws no toolbar, so this is DevTools' `Extensions.triggerAction`, which runs the same
    /// code path as a click; it needs [`Launch::extension_debugging`].
    ///
    /// The command wants the page's *tab* target, which DevTools lists beside the page target
    /// without saying which is whose: it is the one tab showing the page's address.
    pub fn click_extension_action(&mut self, extension_id: &str) {
        let page = self.target.clone().expect("a page is open");
        let targets = self.command("Target.getTargets", json!({"filter": [{}]}), None);
        let infos = targets["targetInfos"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let url_of = |id: &str| {
            infos
                .iter()
                .find(|t| t["targetId"] == id)
                .and_then(|t| t["url"].as_str())
                .unwrap_or_default()
                .to_string()
        };
        let url = url_of(&page);
        let tabs: Vec<&str> = infos
            .iter()
            .filter(|t| t["type"] == "tab" && t["url"] == url.as_str())
            .filter_map(|t| t["targetId"].as_str())
            .collect();
        let [tab] = tabs[..] else {
            panic!("one tab shows {url}: {infos:?}");
        };
        let tab = tab.to_string();
        self.command(
            "Extensions.triggerAction",
            json!({"id": extension_id, "targetId": tab}),
            None,
        );
    }

    /// Every page open in the browser, as (address, title), read from DevTools (which sees
    /// what an extension without the `tabs` permission cannot).
    pub fn pages(&mut self) -> Vec<(String, String)> {
        let targets = self.command("Target.getTargets", json!({}), None);
        let text = |t: &Value, key: &str| t[key].as_str().unwrap_or_default().to_string();
        targets["targetInfos"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| t["type"] == "page")
            .map(|t| (text(t, "url"), text(t, "title")))
            .collect()
    }

    /// Evaluates `expression` (awaiting a promise) in the service worker of the extension
    /// `extension_id` and returns its value or the script error. (It runs without a user
    /// gesture: APIs that want one, like `permissions.request`, refuse.)
    pub fn eval_in_extension(
        &mut self,
        extension_id: &str,
        expression: &str,
    ) -> Result<Value, String> {
        if self.worker.is_none() {
            let prefix = format!("chrome-extension://{extension_id}/");
            let targets = self.command("Target.getTargets", json!({}), None);
            let worker = targets["targetInfos"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|t| {
                    t["type"] == "service_worker"
                        && t["url"].as_str().is_some_and(|u| u.starts_with(&prefix))
                })
                .and_then(|t| t["targetId"].as_str())
                .map(str::to_string)
                .unwrap_or_else(|| panic!("{extension_id} has a running service worker"));
            let attached = self.command(
                "Target.attachToTarget",
                json!({"targetId": worker, "flatten": true}),
                None,
            );
            self.worker = attached["sessionId"].as_str().map(str::to_string);
            // A worker that has just started may not have its extension APIs bound yet.
            let ready = "typeof chrome === 'object' && !!chrome.runtime?.id && !!chrome.tabs";
            let deadline = Instant::now() + COMMAND_TIMEOUT;
            while self.worker_eval(ready) != Ok(Value::Bool(true)) {
                assert!(
                    Instant::now() < deadline,
                    "{extension_id}'s service worker never had its extension APIs"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        self.worker_eval(expression)
    }

    fn worker_eval(&mut self, expression: &str) -> Result<Value, String> {
        let worker = self.worker.clone();
        let result = self.command(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
            worker.as_deref(),
        );
        match result.get("exceptionDetails") {
            Some(e) => Err(e.to_string()),
            None => Ok(result["result"]["value"].clone()),
        }
    }

    /// Types `text` into the element matching `selector` as a user would.
    pub fn type_into(&mut self, selector: &str, text: &str) {
        self.click(selector);
        self.call("Input.insertText", json!({"text": text}));
    }

    /// Saves a PNG of the whole page (beyond the viewport) at `path`.
    pub fn screenshot(&mut self, path: &Path) {
        use base64::Engine;
        let shot = self.call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true}),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap_or_default())
            .expect("a base64 PNG");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("the screenshot folder");
        }
        std::fs::write(path, png).expect("write the screenshot");
    }

    /// Chromium's own log so far (its stderr), for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.profile.join("chromium.log")).unwrap_or_default()
    }

    /// Script exceptions and console/CSP errors seen so far (after draining pending events).
    pub fn page_errors(&mut self) -> Vec<String> {
        while let Ok(event) = self.replies.try_recv() {
            self.note_event(&event);
        }
        self.errors.clone()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The whole group: browser, zygotes, renderers, GPU process.
        #[cfg(unix)]
        // SAFETY: kill(2) on the process group our own child leads.
        unsafe {
            libc::kill(-(self.child.id() as i32), libc::SIGKILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `target/` of this workspace (where screenshots go): the parent of `target/<profile>/`.
pub fn target_dir() -> PathBuf {
    crate::workspace_bin("x")
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .expect("target/<profile>/")
}
