//! `haul-native-host`: launched by the browser for haul's extension; relays frames between the
//! browser's stdio and the haul daemon's local socket.
//!
//! 1. Read the caller from the arguments ([`args`]): Chrome's origin or Firefox's manifest path
//!    and add-on id. Check it against the installed allow-list ([`allow`]); an unknown caller
//!    gets an `error` frame ([`ErrorCode::FORBIDDEN`]) and the host exits.
//! 2. Read the first frame from the browser. A malformed one (truncated, over 64 MiB, not UTF-8,
//!    not a JSON object with a `type`) gets an `error` frame and the host exits; EOF ends it
//!    quietly.
//! 3. Reach the daemon of this user's haul home (`HAUL_HOME`, else the one `haul install`
//!    recorded, else the OS defaults), starting it if none answers ([`daemon`]) — but never a
//!    second daemon beside another home's; if that fails, answer
//!    [`ErrorCode::DAEMON_UNAVAILABLE`] with what to run, and exit.
//! 4. Say `hello` to the daemon as `native-host` with the caller, then relay both ways
//!    ([`relay`]) until stdin closes — the browser's normal way to end the host. The daemon keeps
//!    running.
//!
//! stdout carries frames and nothing else; the log goes to stderr and `native-host.log` in
//! haul's log folder ([`log`]). Nothing from outside is unwrapped: every failure becomes an
//! `error` frame or a log line.

mod allow;
mod args;
mod daemon;
mod log;
mod relay;

use std::ffi::OsString;

use haul_protocol::message::ErrorCode;
use haul_protocol::paths::{HomeSource, Paths};

use crate::log::Logger;
use crate::relay::ToBrowser;

fn main() {
    let argv: Vec<OsString> = std::env::args_os().skip(1).collect();
    // For people checking the install; a browser always passes a caller first.
    if argv.len() == 1 && (argv[0] == "--version" || argv[0] == "-V") {
        println!("haul-native-host {}", haul_protocol::VERSION);
        return;
    }
    let paths = Paths::resolve();
    let log = Logger::open(paths.as_ref().ok().map(|(p, _)| p));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let code = match runtime {
        Ok(rt) => {
            let code = rt.block_on(run(argv, paths, &log));
            // A read of stdin may still be pending on a blocking thread; do not wait for it.
            rt.shutdown_background();
            code
        }
        Err(e) => {
            log.log(format!("cannot start the async runtime: {e}"));
            2
        }
    };
    std::process::exit(code);
}

async fn run(
    argv: Vec<OsString>,
    paths: Result<(Paths, HomeSource), haul_protocol::paths::PathsError>,
    log: &Logger,
) -> i32 {
    let mut out = ToBrowser::new(tokio::io::stdout());
    let caller = match args::parse(&argv) {
        Ok(c) => c,
        Err(e) => {
            log.log(format!("refusing: {e} (arguments: {argv:?})"));
            let _ = out.error(None, ErrorCode::FORBIDDEN, e.to_string()).await;
            return 1;
        }
    };
    let (paths, source) = match paths {
        Ok(p) => p,
        Err(e) => {
            log.log(format!("cannot find haul's folders: {e}"));
            let _ = out.error(None, ErrorCode::INTERNAL, e.to_string()).await;
            return 1;
        }
    };
    if let Err(why) = allow::check(&caller, &paths) {
        log.log(format!("refusing {}: {why}", caller.identity()));
        let _ = out.error(None, ErrorCode::FORBIDDEN, why).await;
        return 1;
    }
    log.log(format!("started for {}", caller.identity()));

    let mut input = relay::from_browser(tokio::io::stdin());
    // The daemon is reached (and started) only once there is something to send it.
    let first = match relay::next_frame(&mut input, &caller).await {
        Ok(Some(frame)) => frame,
        Ok(None) => return 0,
        Err(reply) => {
            log.log(format!(
                "bad first frame: {}",
                String::from_utf8_lossy(&reply.encode())
            ));
            let _ = out.reply(&reply).await;
            return 1;
        }
    };
    let conn = match daemon::connect_or_start(&paths, source == HomeSource::Env, log).await {
        Ok(c) => c,
        Err(e @ daemon::StartError::OtherDaemon { .. }) => {
            log.log(format!("not starting a second daemon: {e}"));
            let _ = out
                .error(first.id, ErrorCode::DAEMON_UNAVAILABLE, e.to_string())
                .await;
            return 1;
        }
        Err(e) => {
            log.log(format!("daemon unavailable: {e}"));
            let message = format!(
                "haul is not running and could not be started ({e}). Start it with `haul daemon` (or `haul install --autostart`), then check with `haul doctor`."
            );
            let _ = out
                .error(first.id, ErrorCode::DAEMON_UNAVAILABLE, message)
                .await;
            return 1;
        }
    };
    relay::relay(conn, &mut input, &mut out, first, &caller, log).await
}
