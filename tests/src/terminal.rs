//! A program run in a pseudo-terminal, as a person runs it in a terminal window: stdin, stdout
//! and stderr are the terminal, so the program draws its progress bars and colours as it would
//! for them, and the test reads the transcript it drew.

use std::fs::File;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// A running program on its own terminal, 120 columns by 40 rows.
pub struct Terminal {
    child: Child,
    transcript: Arc<Mutex<Vec<u8>>>,
    reader: Option<JoinHandle<()>>,
}

impl Terminal {
    /// Starts `command` with a new pseudo-terminal as its stdin, stdout and stderr.
    pub fn spawn(command: &mut Command) -> Terminal {
        let (mut master, mut slave) = (0, 0);
        let size = libc::winsize {
            ws_row: 40,
            ws_col: 120,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty writes two new descriptors into the two integers it is given; the name
        // and termios pointers may be null.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &size,
            )
        };
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: both descriptors were just opened by openpty and are owned by nobody else.
        let (master, slave) =
            unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        let stdio = || Stdio::from(slave.try_clone().expect("dup the terminal"));
        let child = command
            .stdin(stdio())
            .stdout(stdio())
            .stderr(stdio())
            .spawn()
            .expect("start the program on its terminal");
        // Only the child holds the terminal now: when it exits, reading the master ends.
        drop(slave);
        let transcript = Arc::new(Mutex::new(Vec::new()));
        let reader = std::thread::spawn({
            let transcript = transcript.clone();
            let mut master = File::from(master);
            move || {
                let mut buf = [0u8; 4096];
                // Linux answers EIO once the last program on the terminal has closed it.
                while let Ok(n @ 1..) = master.read(&mut buf) {
                    transcript.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            }
        });
        Terminal {
            child,
            transcript,
            reader: Some(reader),
        }
    }

    /// Everything drawn so far, escape sequences included.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.transcript.lock().unwrap()).into_owned()
    }

    /// Waits until the transcript contains `needle`; false when `timeout` passed first.
    pub fn wait_for(&self, needle: &str, timeout: Duration) -> bool {
        crate::wait_for_blocking(timeout, || self.text().contains(needle).then_some(())).is_some()
    }

    /// The program's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the program to end (killing it after `timeout`), then for the last of its
    /// output; its exit status and the whole transcript.
    pub fn finish(mut self, timeout: Duration) -> (ExitStatus, String) {
        let status = crate::wait_for_blocking(timeout, || self.child.try_wait().ok().flatten());
        let status = match status {
            Some(status) => status,
            None => {
                let _ = self.child.kill();
                panic!(
                    "the program did not end within {timeout:?}; it drew:\n{}",
                    self.text()
                );
            }
        };
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        (status, self.text())
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
