//! A real headless Chromium for end-to-end tests, driven over the DevTools protocol (CDP) on
//! `--remote-debugging-pipe` — the recipe verified on this machine kind (see the project's
//! browser-testing notes): the debug binary `/usr/lib/chromium/chromium` (not the `/usr/bin`
//! wrapper, which adds flags), a temporary `--user-data-dir` (where `haul install
//! --user-data-dir` puts the host manifest), `--load-extension`, `--host-resolver-rules` to map
//! real marketplace names to a loopback server, and `--ignore-certificate-errors-spki-list` to
//! trust exactly that server's key.
//!
//! Chromium runs in a process group of its own; dropping [`Chromium`] asks it to close, then
//! kills the whole group — browser, zygotes, renderers and the native hosts it launched.
//!
//! CDP over the pipe: Chromium reads commands on fd 3 and writes replies and events on fd 4,
//! each message a JSON object followed by a NUL byte. A reader thread splits the replies; calls
//! block with a deadline (tests call them inside `tokio::task::block_in_place`).

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::process::GroupGuard;

/// Environment variable that names the Chromium binary to use.
pub const CHROMIUM_ENV: &str = "HAUL_CHROMIUM";

/// With this set to `1`, a missing Chromium fails the browser tests instead of skipping them
/// (CI sets it after installing Chromium).
pub const REQUIRE_ENV: &str = "HAUL_REQUIRE_BROWSER";

/// The Chromium binary: `$HAUL_CHROMIUM`, else Debian's real binary, else one on `PATH`.
pub fn find() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(CHROMIUM_ENV).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let direct = Path::new("/usr/lib/chromium/chromium");
    if direct.is_file() {
        return Some(direct.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|p| p.is_file())
}

/// The binary, or `None` after saying why the test skips; panics instead when
/// `HAUL_REQUIRE_BROWSER=1`.
pub fn find_or_skip(test: &str) -> Option<PathBuf> {
    match find() {
        Some(bin) => Some(bin),
        None if std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1") => panic!(
            "{test}: Chromium is required ({REQUIRE_ENV}=1) but was not found; install it \
             (Debian: apt-get install chromium) or set {CHROMIUM_ENV}"
        ),
        None => {
            eprintln!(
                "skipping {test}: Chromium not found (install it or set {CHROMIUM_ENV}; \
                 {REQUIRE_ENV}=1 makes this a failure)"
            );
            None
        }
    }
}

/// How to start the browser.
#[derive(Debug, Clone, Default)]
pub struct Launch {
    /// The profile directory (`--user-data-dir`).
    pub profile: PathBuf,
    /// An unpacked extension to load.
    pub extension: Option<PathBuf>,
    /// `--host-resolver-rules`, e.g. `MAP www.amazon.com 127.0.0.2:443, MAP * ~NOTFOUND`.
    pub resolver_rules: Option<String>,
    /// Server keys to trust (`--ignore-certificate-errors-spki-list`).
    pub trusted_spki: Vec<String>,
    /// Extra environment; it reaches the native hosts Chromium launches.
    pub env: Vec<(String, OsString)>,
}

/// A running headless Chromium.
pub struct Chromium {
    child: Child,
    cdp: Cdp,
    log: PathBuf,
    group: GroupGuard,
}

impl Chromium {
    /// Starts `bin` with `launch`; its stderr goes to `<profile>.log`.
    pub fn start(bin: &Path, launch: &Launch) -> std::io::Result<Chromium> {
        let (to_browser_read, to_browser_write) = pipe()?;
        let (from_browser_read, from_browser_write) = pipe()?;
        let log = launch.profile.with_extension("log");
        let log_file = File::create(&log)?;
        let mut command = Command::new(bin);
        command.args([
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
            "--remote-debugging-pipe",
            "--enable-logging=stderr",
            "--window-size=1280,900",
        ]);
        command.arg(format!("--user-data-dir={}", launch.profile.display()));
        if let Some(ext) = &launch.extension {
            command.arg(format!("--load-extension={}", ext.display()));
            command.arg(format!("--disable-extensions-except={}", ext.display()));
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
        command.arg("about:blank");
        command
            .envs(launch.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::from(log_file.try_clone()?))
            .stderr(Stdio::from(log_file))
            .process_group(0);
        let (fd_in, fd_out) = (to_browser_read, from_browser_write);
        // SAFETY: only async-signal-safe calls (fcntl, dup2) between fork and exec. The pipe
        // ends are first copied above fd 9, so placing them on 3 and 4 cannot clobber each
        // other; dup2's copies do not inherit close-on-exec.
        unsafe {
            command.pre_exec(move || {
                let a = libc::fcntl(fd_in, libc::F_DUPFD_CLOEXEC, 10);
                let b = libc::fcntl(fd_out, libc::F_DUPFD_CLOEXEC, 10);
                if a < 0 || b < 0 || libc::dup2(a, 3) < 0 || libc::dup2(b, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let spawned = command.spawn();
        // The child has its copies; ours of its ends must close so EOF is seen when it exits.
        // SAFETY: these fds came from pipe() above and are owned by nothing else.
        unsafe {
            libc::close(to_browser_read);
            libc::close(from_browser_write);
        }
        let child = spawned?;
        let group = GroupGuard::new(child.id());
        // SAFETY: fds from pipe(), owned from here on by these Files.
        let (writer, reader) = unsafe {
            (
                File::from_raw_fd(to_browser_write),
                File::from_raw_fd(from_browser_read),
            )
        };
        Ok(Chromium {
            child,
            cdp: Cdp::new(writer, reader),
            log,
            group,
        })
    }

    /// The DevTools connection.
    pub fn cdp(&mut self) -> &mut Cdp {
        &mut self.cdp
    }

    /// Chromium's stderr so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Opens `url` in a new tab and returns the tab's session.
    pub fn open(&mut self, url: &str) -> Result<Tab, CdpError> {
        let target = self
            .cdp
            .call("Target.createTarget", json!({ "url": url }), None)?;
        let target_id = target["targetId"]
            .as_str()
            .ok_or_else(|| CdpError::Protocol(format!("no targetId in {target}")))?
            .to_string();
        let attached = self.cdp.call(
            "Target.attachToTarget",
            json!({ "targetId": target_id, "flatten": true }),
            None,
        )?;
        let session = attached["sessionId"]
            .as_str()
            .ok_or_else(|| CdpError::Protocol(format!("no sessionId in {attached}")))?
            .to_string();
        Ok(Tab { session })
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        // Politely first (it flushes the profile), then the whole group regardless.
        let _ = self
            .cdp
            .call_within("Browser.close", json!({}), None, Duration::from_secs(3));
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        crate::process::kill_group(self.group.pgid());
        let _ = self.child.wait();
    }
}

/// One tab, attached with a flat session.
#[derive(Debug, Clone)]
pub struct Tab {
    session: String,
}

impl Tab {
    /// Evaluates `expression` in the page and returns its JSON value (`null` for undefined).
    pub fn eval(&self, cdp: &mut Cdp, expression: &str) -> Result<Value, CdpError> {
        let result = cdp.call(
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true }),
            Some(&self.session),
        )?;
        if let Some(exception) = result.get("exceptionDetails") {
            return Err(CdpError::Script(exception.to_string()));
        }
        Ok(result["result"]["value"].clone())
    }

    /// Evaluates `expression` every 100 ms until it is truthy (not null/false/""/0) or
    /// `timeout` passes; script errors count as "not yet" (the page may still be loading).
    pub fn wait_for(
        &self,
        cdp: &mut Cdp,
        expression: &str,
        timeout: Duration,
    ) -> Result<Value, CdpError> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.eval(cdp, expression) {
                Ok(v) if truthy(&v) => return Ok(v),
                Ok(_) | Err(CdpError::Script(_)) => {}
                Err(e) => return Err(e),
            }
            if Instant::now() >= deadline {
                return Err(CdpError::Timeout(format!(
                    "`{expression}` was not true within {timeout:?}"
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A trusted left click (`isTrusted` is true in the page) at the centre of the element
    /// `selector` matches: mouse pressed and released through `Input.dispatchMouseEvent`.
    pub fn click(&self, cdp: &mut Cdp, selector: &str) -> Result<(), CdpError> {
        let selector_js = serde_json::to_string(selector).unwrap_or_default();
        let centre = self.eval(
            cdp,
            &format!(
                "(() => {{ const e = document.querySelector({selector_js}); if (!e) return null; \
                 e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect(); \
                 return [r.x + r.width / 2, r.y + r.height / 2]; }})()"
            ),
        )?;
        let (Some(x), Some(y)) = (centre[0].as_f64(), centre[1].as_f64()) else {
            return Err(CdpError::Script(format!("nothing matches {selector}")));
        };
        for kind in ["mousePressed", "mouseReleased"] {
            cdp.call(
                "Input.dispatchMouseEvent",
                json!({ "type": kind, "x": x, "y": y, "button": "left", "clickCount": 1 }),
                Some(&self.session),
            )?;
        }
        Ok(())
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// What went wrong talking to Chromium.
#[derive(Debug)]
pub enum CdpError {
    /// The pipe closed: Chromium exited (see its log).
    Closed,
    /// No answer in time.
    Timeout(String),
    /// Chromium answered with an error, or an answer lacked what it must hold.
    Protocol(String),
    /// The page's script threw.
    Script(String),
}

impl std::fmt::Display for CdpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CdpError::Closed => f.write_str("Chromium closed the DevTools pipe (did it crash?)"),
            CdpError::Timeout(what) => write!(f, "timed out: {what}"),
            CdpError::Protocol(what) => write!(f, "DevTools error: {what}"),
            CdpError::Script(what) => write!(f, "page script error: {what}"),
        }
    }
}

impl std::error::Error for CdpError {}

/// The DevTools protocol over Chromium's pipe.
pub struct Cdp {
    writer: File,
    replies: Receiver<Value>,
    /// Replies that arrived while waiting for another id.
    early: HashMap<u64, Value>,
    next_id: u64,
}

/// How long one DevTools call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

impl Cdp {
    fn new(writer: File, mut reader: File) -> Cdp {
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut pending = Vec::new();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                pending.extend_from_slice(&buf[..n]);
                while let Some(end) = pending.iter().position(|b| *b == 0) {
                    let message: Vec<u8> = pending.drain(..=end).collect();
                    let Ok(value) = serde_json::from_slice::<Value>(&message[..end]) else {
                        continue;
                    };
                    // Events (no id) are not used by these tests.
                    if value.get("id").is_some() && tx.send(value).is_err() {
                        return;
                    }
                }
            }
        });
        Cdp {
            writer,
            replies: rx,
            early: HashMap::new(),
            next_id: 0,
        }
    }

    /// Calls `method` (in `session`, or on the browser) and returns its result.
    pub fn call(
        &mut self,
        method: &str,
        params: Value,
        session: Option<&str>,
    ) -> Result<Value, CdpError> {
        self.call_within(method, params, session, CALL_TIMEOUT)
    }

    fn call_within(
        &mut self,
        method: &str,
        params: Value,
        session: Option<&str>,
        timeout: Duration,
    ) -> Result<Value, CdpError> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = Value::from(session);
        }
        let mut bytes = message.to_string().into_bytes();
        bytes.push(0);
        self.writer
            .write_all(&bytes)
            .map_err(|_| CdpError::Closed)?;
        let deadline = Instant::now() + timeout;
        let reply = loop {
            if let Some(reply) = self.early.remove(&id) {
                break reply;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.replies.recv_timeout(left) {
                Ok(reply) if reply["id"].as_u64() == Some(id) => break reply,
                Ok(reply) => {
                    if let Some(other) = reply["id"].as_u64() {
                        self.early.insert(other, reply);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    return Err(CdpError::Timeout(format!("{method} got no answer")));
                }
                Err(RecvTimeoutError::Disconnected) => return Err(CdpError::Closed),
            }
        };
        if let Some(error) = reply.get("error") {
            return Err(CdpError::Protocol(format!("{method}: {error}")));
        }
        Ok(reply["result"].clone())
    }
}

/// A pipe whose ends close on exec (the child gets only the copies placed on fds 3 and 4).
fn pipe() -> std::io::Result<(RawFd, RawFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: pipe writes two fds into the array it is given; fcntl only sets their flags.
    unsafe {
        if libc::pipe(fds.as_mut_ptr()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        for fd in fds {
            libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
        }
    }
    Ok((fds[0], fds[1]))
}
