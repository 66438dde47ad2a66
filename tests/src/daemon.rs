//! Daemons for tests: in-process (`haul::daemon::run` on this runtime) or the real `haul` binary
//! (for signals, SIGKILL and restarts), both under a test `HAUL_HOME`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use haul_protocol::message::{ClientInfo, ClientKind, HelloReply};
use haul_protocol::paths::Paths;
use haul_protocol::socket::{self, Connection};
use tokio_util::sync::CancellationToken;

use crate::home::TestHome;

/// The `haul` binary next to the test executable (`target/<profile>/haul`), or `$HAUL_BIN`.
pub fn haul_bin() -> PathBuf {
    binary("haul", "HAUL_BIN")
}

/// The `haul-native-host` binary next to the test executable, or `$HAUL_NATIVE_HOST_BIN`.
pub fn native_host_bin() -> PathBuf {
    binary("haul-native-host", "HAUL_NATIVE_HOST_BIN")
}

fn binary(name: &str, env: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(env) {
        return PathBuf::from(p);
    }
    let path = crate::workspace_bin(name);
    assert!(
        path.exists(),
        "{} is not built; run the suite with `cargo test --workspace`",
        path.display()
    );
    path
}

/// Connects to the daemon of `paths` as the CLI would.
pub async fn connect(paths: &Paths) -> Result<(Connection, HelloReply), socket::ExchangeError> {
    socket::connect_and_greet(
        paths,
        ClientInfo {
            kind: ClientKind::Cli,
            caller: None,
        },
        Duration::from_secs(5),
    )
    .await
}

/// Waits until the daemon of `paths` answers `hello`.
pub async fn wait_until_up(paths: &Paths, timeout: Duration) -> HelloReply {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Ok((_, hello)) = connect(paths).await {
            return hello;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the daemon did not come up within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A daemon running in this process.
pub struct InProcessDaemon {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), haul::daemon::DaemonError>>,
}

impl InProcessDaemon {
    pub async fn start(home: &TestHome) -> InProcessDaemon {
        let stop = CancellationToken::new();
        let task = tokio::spawn(haul::daemon::run(
            home.config(),
            home.paths.clone(),
            stop.clone(),
            |_| {},
        ));
        wait_until_up(&home.paths, Duration::from_secs(10)).await;
        InProcessDaemon { stop, task }
    }

    /// Stops it the way SIGTERM does and waits for it.
    pub async fn stop(self) {
        self.stop.cancel();
        self.task
            .await
            .expect("daemon task")
            .expect("daemon ran cleanly");
    }
}

/// The real `haul daemon` process.
pub struct DaemonProcess {
    pub child: Child,
}

impl DaemonProcess {
    /// Starts `haul daemon` with `HAUL_HOME` set, in its own process group, and waits for it.
    pub async fn start(home: &TestHome) -> DaemonProcess {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(home.root().join("daemon-stderr.log"))
            .expect("daemon log");
        let mut command = Command::new(haul_bin());
        command
            .arg("daemon")
            .env("HAUL_HOME", home.root())
            .envs(per_user_env(home))
            .env_remove("HAUL_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log));
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            command.process_group(0);
        }
        let child = command.spawn().expect("start haul daemon");
        wait_until_up(&home.paths, Duration::from_secs(20)).await;
        DaemonProcess { child }
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits (up to 20 s) for a clean exit; returns whether it exited 0.
    #[cfg(unix)]
    pub fn terminate(mut self) -> bool {
        // SAFETY: plain kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let exited = crate::wait_for_blocking(Duration::from_secs(20), || {
            self.child.try_wait().ok().flatten()
        });
        match exited {
            Some(status) => status.success(),
            None => {
                let _ = self.child.kill();
                false
            }
        }
    }
}

impl Drop for DaemonProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `grab` to the daemon of `paths` and collects every reply until its `finished`.
pub async fn grab_and_wait(
    paths: &Paths,
    grab: haul_protocol::message::Grab,
    timeout: Duration,
) -> (
    Vec<haul_protocol::message::Reply>,
    haul_protocol::message::Finished,
) {
    use haul_protocol::message::{Reply, Request};
    let (mut conn, _) = connect(paths).await.expect("connect to the daemon");
    socket::send(&mut conn, &Request::Grab(grab))
        .await
        .expect("send grab");
    let collect = async {
        let mut replies = Vec::new();
        loop {
            let reply = socket::recv(&mut conn)
                .await
                .expect("read reply")
                .expect("daemon closed the connection");
            replies.push(reply.clone());
            match reply {
                Reply::Finished(f) => return (replies, f),
                Reply::Error(e) => panic!("the daemon refused the grab: {e:?}"),
                _ => {}
            }
        }
    };
    tokio::time::timeout(timeout, collect)
        .await
        .expect("the job did not finish in time")
}

/// Sends `grab` to the daemon of `paths` and returns its job id, without waiting for the job.
pub async fn submit(
    paths: &Paths,
    grab: haul_protocol::message::Grab,
) -> haul_protocol::message::JobId {
    use haul_protocol::message::{Reply, Request};
    let (mut conn, _) = connect(paths).await.expect("connect to the daemon");
    socket::send(&mut conn, &Request::Grab(grab))
        .await
        .expect("send grab");
    match socket::recv(&mut conn).await.expect("reply") {
        Some(Reply::Accepted(a)) => a.job,
        other => panic!("expected accepted, got {other:?}"),
    }
}

/// A `grab` of plain media URLs named `name`.
pub fn media_grab(urls: &[String], name: &str) -> haul_protocol::message::Grab {
    haul_protocol::message::Grab {
        id: Some(serde_json::json!("t1")),
        page: None,
        media: urls
            .iter()
            .map(|u| haul_protocol::message::MediaRef {
                url: u.clone(),
                kind: None,
                chosen: false,
            })
            .collect(),
        options: haul_protocol::message::GrabOptions {
            name: Some(name.to_string()),
            ..Default::default()
        },
    }
}

/// The per-user places outside any haul home — the home pointer `haul install` writes
/// (`XDG_CONFIG_HOME`) and the registry of running daemons (`XDG_RUNTIME_DIR`) — inside `home`
/// too, so a test never writes the real user's and never sees another test's daemons.
pub fn per_user_env(home: &TestHome) -> Vec<(&'static str, std::path::PathBuf)> {
    vec![
        ("XDG_CONFIG_HOME", home.root().join("xdg-config")),
        ("XDG_RUNTIME_DIR", home.root().join("xdg-run")),
    ]
}

/// Runs the real `haul` binary with `HAUL_HOME` = `home` and returns its output.
pub async fn run_haul(home: &TestHome, args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(haul_bin())
        .args(args)
        .env("HAUL_HOME", home.root())
        .envs(per_user_env(home))
        .env_remove("HAUL_CONFIG")
        .env_remove("HAUL_LOG")
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run haul")
}

/// The jobs `haul status --json` lists for `home`.
pub async fn status_jobs(home: &TestHome) -> Vec<serde_json::Value> {
    let out = run_haul(home, &["status", "--json"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status JSON");
    doc["jobs"].as_array().cloned().unwrap_or_default()
}
