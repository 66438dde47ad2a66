//! What the benches share: a `haul-native-host` driven through its stdio exactly as a browser
//! does it (u32 length + JSON frames, the caller's origin as the first argument).

use std::io::{BufReader, BufWriter, Write as _};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use haul_protocol::DEV_EXTENSION_ID;
use haul_protocol::frame::{MAX_FROM_BROWSER, MAX_TO_BROWSER, read_frame, write_frame};
use haul_protocol::install::chrome_origin;
use haul_protocol::paths::HAUL_HOME_ENV;
use serde_json::Value;

/// The host of this build.
pub const HOST: &str = env!("CARGO_BIN_EXE_haul-native-host");

/// A `haul-native-host` as Chrome starts it.
pub struct Host {
    child: Child,
    stdin: Option<BufWriter<ChildStdin>>,
    stdout: BufReader<ChildStdout>,
}

impl Host {
    pub fn start(home: &Path) -> Host {
        let mut child = Command::new(HOST)
            .arg(chrome_origin(DEV_EXTENSION_ID))
            .env(HAUL_HOME_ENV, home)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start haul-native-host");
        let stdin = child.stdin.take().map(BufWriter::new);
        let stdout = BufReader::new(child.stdout.take().expect("host stdout"));
        Host {
            child,
            stdin,
            stdout,
        }
    }

    pub fn send(&mut self, body: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        write_frame(stdin, body, MAX_FROM_BROWSER).expect("write a frame to the host");
        stdin.flush().expect("flush the host's stdin");
    }

    /// Reads until the frame of `kind` (for `job`, when given); panics on an error frame.
    pub fn until(&mut self, kind: &str, job: Option<&Value>) -> Value {
        self.until_noting(kind, job, |_| {})
    }

    /// [`Host::until`], showing every frame before it to `note`.
    pub fn until_noting(
        &mut self,
        kind: &str,
        job: Option<&Value>,
        mut note: impl FnMut(&Value),
    ) -> Value {
        loop {
            let body = read_frame(&mut self.stdout, MAX_TO_BROWSER)
                .expect("a well-formed frame from the host")
                .expect("the host answered");
            let frame: Value = serde_json::from_slice(&body).expect("JSON from the host");
            assert!(
                frame["type"] != "error",
                "the daemon answered an error: {frame}"
            );
            if frame["type"] == kind && job.is_none_or(|j| &frame["job"] == j) {
                return frame;
            }
            note(&frame);
        }
    }

    /// Closes the host's stdin (the browser closing the port) and waits for it to exit.
    pub fn close(mut self) {
        self.stdin = None;
        let _ = self.child.wait();
    }
}
