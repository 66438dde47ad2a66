//! The click path: from a press of haul's button on a real saved product page to the ZIP in place,
//! through the real `haul-native-host` and the running release `haul daemon`, beside `curl` given
//! the same URLs. Run by `bench/click.sh`, which starts the peer harness's nginx (HTTPS, HTTP/1.1
//! and HTTP/2) in its 40 ms network namespace and runs this inside it; `docs/benchmarks.md`
//! ("Click path") records the figures.
//!
//! Two workloads:
//!
//! - **click** (`--page FILE --url URL --www DIR --source DIR`): the page's media as haul itself
//!   extracts them (`haul extract --json`, largest sizes) are laid out under `DIR` at the paths
//!   their URLs ask for — the harness's W1 JPEGs (and its video for a video), so a real page's
//!   real CDN addresses (`https://m.media-amazon.com/images/I/….jpg`) are answered by the local
//!   server. haul is pointed at it by its explicit `[connect_to]` config and trusts the harness's
//!   CA by `extra_ca_file`; `allow_private_networks` stays off. One haul run is a click as the
//!   browser makes it: spawn the host, write `hello` and `grab` (the page's URL, its HTML read
//!   from the saved file in place, and the media its `<img>`/`<video>` elements name, as the
//!   extension collects them), read frames until the job's `finished` — which the daemon sends
//!   after the ZIP is synced and renamed into place.
//! - **w1** (`--list FILE`): the harness's W1 URL list (12 JPEGs and a 20 MB video), handed to
//!   the running daemon by `haul grab --list` (the CLI as the daemon's client), timed until it
//!   exits after the job's end.
//!
//! Peers, given exactly the URLs haul downloads: `curl --parallel --parallel-max 16` (HTTP/2 by
//! ALPN, one connection per host), one `curl` fetching them one after another on a reused
//! connection (an `await fetch()` loop), and a loop of one `curl` process per file (a new TCP and
//! TLS connection each: the simplest downloader). Runs are paired: each round runs haul, then
//! every peer, from empty output folders.
//!
//! A daemon keeps idle connections for a while, and a later click would find its host's
//! connection open — which no peer gets. So each haul run has its own daemon, in a fresh
//! `HAUL_HOME`, started before the timer (untimed, and warmed up with a grab whose one medium is
//! refused without network I/O), and stopped after it.
//!
//! With `--count-syns`, the TCP connections each run opened to the server are read from an
//! `iptables` counter that `bench/click.sh` adds in the namespace (SYNs to the server's port).
//!
//! Options: `--runs N` (default 7), `--port N` (the server's HTTPS port, default 18443),
//! `--ca FILE`, `--log-dir DIR` (keep each haul run's daemon log, `HAUL_LOG=haul=debug,warn`, or
//! the filter in `CLICK_HAUL_LOG`: debug lines slow the page's parsing several times over, as every
//! `debug!` of the HTML parser then passes through the log filter, so time the page with the
//! daemon's own default, `CLICK_HAUL_LOG=error,haul=info`); `HAUL_BIN` runs another `haul` build's
//! daemon (a before/after comparison).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "bench code: a failed unwrap is a failed run"
)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{HOST, Host};
use haul_protocol::paths::{HAUL_HOME_ENV, Paths};
use serde_json::{Value, json};

/// The extension's cap on the media it collects from the DOM (`MAX_MEDIA` in content.js).
const MAX_DOM_MEDIA: usize = 2000;

#[derive(Default)]
struct Options {
    page: Option<PathBuf>,
    url: Option<String>,
    list: Option<PathBuf>,
    www: Option<PathBuf>,
    source: Option<PathBuf>,
    ca: Option<PathBuf>,
    log_dir: Option<PathBuf>,
    runs: usize,
    port: u16,
    count_syns: bool,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        runs: 7,
        port: 18443,
        ..Options::default()
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--page" => o.page = Some(value()?.into()),
            "--url" => o.url = Some(value()?),
            "--list" => o.list = Some(value()?.into()),
            "--www" => o.www = Some(value()?.into()),
            "--source" => o.source = Some(value()?.into()),
            "--ca" => o.ca = Some(value()?.into()),
            "--log-dir" => o.log_dir = Some(value()?.into()),
            "--runs" => o.runs = value()?.parse().map_err(|e| format!("--runs: {e}"))?,
            "--port" => o.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--count-syns" => o.count_syns = true,
            // `cargo bench` passes `--bench`.
            _ => {}
        }
    }
    if o.ca.is_none() {
        return Err("--ca is required".into());
    }
    if o.list.is_none() && (o.page.is_none() || o.url.is_none() || o.www.is_none()) {
        return Err("give --list FILE, or --page FILE --url URL --www DIR --source DIR".into());
    }
    Ok(o)
}

/// What one workload downloads, and how haul is asked for it.
struct Workload {
    name: String,
    /// Every URL haul downloads (the peers get the same), with the size of the file served.
    urls: Vec<(String, u64)>,
    /// The hosts the URLs name, each pinned to the local server.
    hosts: BTreeSet<String>,
    ask: Ask,
}

enum Ask {
    /// A click: the grab frame the extension sends.
    Click { grab: Vec<u8> },
    /// `haul grab --list FILE`.
    List(PathBuf),
}

/// The `haul` of the same build, or `HAUL_BIN` (to time an older build beside this one).
fn haul_bin() -> PathBuf {
    std::env::var_os("HAUL_BIN").map_or_else(
        || Path::new(HOST).with_file_name(format!("haul{}", std::env::consts::EXE_SUFFIX)),
        PathBuf::from,
    )
}

fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    authority
        .split(':')
        .next()
        .unwrap_or(authority)
        .to_ascii_lowercase()
}

fn path_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.find('/').map_or("/", |i| &rest[i..]);
    path.split(['?', '#']).next().unwrap_or(path).to_string()
}

/// The media a saved page's DOM names, as the extension collects them: each `<img>`'s largest
/// `srcset` candidate or its `src` / `data-src`, each `<video>`/`<source>`'s `src`; absolute
/// http(s) URLs only, each once.
fn dom_media(html: &str) -> Vec<Value> {
    let mut seen = BTreeSet::new();
    let mut media = Vec::new();
    let lower = html.to_ascii_lowercase();
    for (tag, kind) in [("<img", "image"), ("<video", "video"), ("<source", "video")] {
        let mut at = 0;
        while let Some(i) = lower[at..].find(tag) {
            let start = at + i;
            let end = lower[start..].find('>').map_or(lower.len(), |e| start + e);
            at = end;
            let element = &html[start..end];
            let url = attr(element, "srcset")
                .and_then(|s| largest_in_srcset(&s))
                .or_else(|| attr(element, "src"))
                .or_else(|| attr(element, "data-src"));
            let Some(url) = url else { continue };
            let url = url.replace("&amp;", "&");
            if (url.starts_with("https://") || url.starts_with("http://"))
                && media.len() < MAX_DOM_MEDIA
                && seen.insert(url.clone())
            {
                media.push(json!({"url": url, "kind": kind}));
            }
        }
    }
    media
}

/// The value of `name="…"` (or `'…'`) in one start tag.
fn attr(element: &str, name: &str) -> Option<String> {
    let lower = element.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(name) {
        let at = from + i;
        from = at + name.len();
        let before_ok = at > 0 && lower.as_bytes()[at - 1].is_ascii_whitespace();
        let rest = lower[from..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let value_at = element.len() - rest.len() + 1;
        let value = element[value_at..].trim_start();
        let quote = value.chars().next()?;
        if quote != '"' && quote != '\'' {
            return None;
        }
        let body = &value[1..];
        return body.find(quote).map(|e| body[..e].to_string());
    }
    None
}

/// The candidate of a `srcset` with the largest width or density descriptor.
fn largest_in_srcset(srcset: &str) -> Option<String> {
    srcset
        .split(", ")
        .filter_map(|c| {
            let mut parts = c.split_whitespace();
            let url = parts.next()?;
            let size: f64 = parts
                .next()
                .and_then(|d| d.trim_end_matches(['w', 'x']).parse().ok())
                .unwrap_or(1.0);
            Some((size, url.to_string()))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, u)| u)
}

/// Lays out the page's media (as haul extracts them) under `www` and builds the click.
fn click_workload(o: &Options) -> Workload {
    let page = o.page.as_ref().unwrap();
    let page_url = o.url.clone().unwrap();
    let www = o.www.as_ref().unwrap();
    let source = o
        .source
        .as_ref()
        .expect("--source DIR (the W1 product folder)");
    let out = Command::new(haul_bin())
        .args(["extract", "--json", "--url", &page_url])
        .arg(page)
        .output()
        .expect("run haul extract");
    assert!(out.status.success(), "haul extract failed");
    let found: Value = serde_json::from_slice(&out.stdout).expect("extract JSON");
    let images: Vec<PathBuf> = (1..=12)
        .map(|i| source.join(format!("img{i:02}.jpg")))
        .collect();
    let video = source.join("video.mp4");
    let mut urls = Vec::new();
    let mut hosts = BTreeSet::new();
    let mut image_n = 0;
    for m in found["media"].as_array().expect("media") {
        let url = m["url"].as_str().expect("a media URL").to_string();
        assert!(
            url.starts_with("https://"),
            "only https media are served: {url}"
        );
        let from = if m["kind"] == "video" {
            assert!(
                path_of(&url).ends_with(".mp4"),
                "only MP4 videos are served: {url}"
            );
            video.clone()
        } else {
            image_n += 1;
            images[(image_n - 1) % images.len()].clone()
        };
        let to = www.join(path_of(&url).trim_start_matches('/'));
        std::fs::create_dir_all(to.parent().unwrap()).expect("make the served folder");
        let _ = std::fs::remove_file(&to);
        std::fs::hard_link(&from, &to)
            .or_else(|_| std::fs::copy(&from, &to).map(|_| ()))
            .unwrap_or_else(|e| panic!("serve {} as {}: {e}", from.display(), to.display()));
        let size = std::fs::metadata(&from).expect("source file").len();
        hosts.insert(host_of(&url));
        urls.push((url, size));
    }
    let bytes = std::fs::read(page).expect("read the saved page");
    let html = String::from_utf8_lossy(&bytes).into_owned();
    let media = dom_media(&html);
    let title = found["title"].as_str().unwrap_or("").to_string();
    let grab = json!({
        "type": "grab", "id": "click",
        "page": {"url": page_url, "title": title, "html": html},
        "media": media, "options": {}
    })
    .to_string()
    .into_bytes();
    eprintln!(
        "click: {} ({} KiB), {} media in the DOM; haul extracts {} ({} MB) on {}",
        page.display(),
        bytes.len() / 1024,
        media.len(),
        urls.len(),
        urls.iter().map(|u| u.1).sum::<u64>() / 1_000_000,
        hosts.iter().cloned().collect::<Vec<_>>().join(", ")
    );
    Workload {
        name: "click".into(),
        urls,
        hosts,
        ask: Ask::Click { grab },
    }
}

/// The harness's W1 list, its loopback addresses named `cdn.bench.test` (a name its certificate
/// covers), so haul reaches the server by `[connect_to]` like the click and never needs
/// `allow_private_networks`.
fn list_workload(o: &Options, dir: &Path) -> Workload {
    let list = o.list.as_ref().unwrap();
    let text = std::fs::read_to_string(list).expect("read the URL list");
    let www = list
        .ancestors()
        .nth(3)
        .map(|d| d.join("www"))
        .expect("the list lives in <data>/urls/<wl>/");
    let mut urls = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let path = path_of(line);
        let size = std::fs::metadata(www.join(path.trim_start_matches('/')))
            .unwrap_or_else(|e| panic!("{path} under {}: {e}", www.display()))
            .len();
        urls.push((format!("https://cdn.bench.test{path}"), size));
    }
    let named = dir.join("w1-named.txt");
    let body: String = urls.iter().map(|(u, _)| format!("{u}\n")).collect();
    std::fs::write(&named, body).expect("write the named list");
    Workload {
        name: "w1".into(),
        urls,
        hosts: ["cdn.bench.test".to_string()].into(),
        ask: Ask::List(named),
    }
}

/// SYNs to the server's port so far (the counter `bench/click.sh` adds), when counted.
fn syns(o: &Options) -> Option<u64> {
    if !o.count_syns {
        return None;
    }
    let out = Command::new("iptables")
        .args(["-w", "-n", "-v", "-x", "-L", "INPUT", "1"])
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

struct Sample {
    wall: Duration,
    /// The click's `accepted`, for haul's click runs.
    accepted: Option<Duration>,
    connections: Option<u64>,
}

/// One haul run in a fresh `HAUL_HOME` with its own daemon, started and warmed before the timer.
fn haul_run(o: &Options, w: &Workload, round: usize) -> Sample {
    let home = tempfile::Builder::new()
        .prefix("haul-click-")
        .tempdir()
        .expect("a HAUL_HOME");
    let mut config = format!(
        "status_port = 0\nextra_ca_file = {:?}\n[connect_to]\n",
        o.ca.as_ref().unwrap()
    );
    for host in &w.hosts {
        config.push_str(&format!("{host:?} = \"127.0.0.1:{}\"\n", o.port));
    }
    std::fs::write(home.path().join("config.toml"), config).expect("write the config");
    let log = match &o.log_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).expect("log dir");
            Stdio::from(
                std::fs::File::create(dir.join(format!("{}-haul-{round}.log", w.name)))
                    .expect("log file"),
            )
        }
        None => Stdio::null(),
    };
    let mut daemon = Command::new(haul_bin());
    // The daemon logs as it does for a user, unless its debug lines are kept.
    match &o.log_dir {
        Some(_) => daemon.env(
            "HAUL_LOG",
            std::env::var("CLICK_HAUL_LOG").unwrap_or_else(|_| "haul=debug,warn".into()),
        ),
        None => daemon.env_remove("HAUL_LOG"),
    };
    let mut daemon = daemon
        .arg("daemon")
        .env(HAUL_HOME_ENV, home.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start haul daemon");
    // Untimed: the daemon listens (a host started sooner would start a daemon of its own),
    // answers, and has run one job (its medium refused at once).
    let socket = Paths::under(home.path()).runtime_dir.join("haul.sock");
    let waiting = Instant::now();
    while !socket.exists() {
        assert!(
            daemon.try_wait().expect("the daemon's state").is_none(),
            "haul daemon exited at start"
        );
        assert!(
            waiting.elapsed() < Duration::from_secs(20),
            "haul daemon did not start"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut host = Host::start(home.path());
    host.send(br#"{"type":"hello"}"#);
    host.until("hello", None);
    host.send(
        json!({"type": "grab", "id": "warm-up",
               "media": [{"url": "https://127.0.0.1:9/warm-up.jpg", "kind": "image"}]})
        .to_string()
        .as_bytes(),
    );
    host.until("finished", None);
    host.close();

    let before = syns(o);
    let started = Instant::now();
    match &w.ask {
        Ask::Click { grab } => {
            let mut host = Host::start(home.path());
            host.send(br#"{"type":"hello"}"#);
            host.send(grab);
            host.until("accepted", None);
            let accepted = Some(started.elapsed());
            // When the items' downloads began and ended (the daemon's progress events).
            let (mut first_start, mut last_download) = (None, None);
            let finished =
                host.until_noting("finished", None, |frame| {
                    match frame["item"]["state"].as_str() {
                        Some("downloading") => {
                            first_start.get_or_insert(started.elapsed());
                        }
                        Some("saved") => last_download = Some(started.elapsed()),
                        _ => {}
                    }
                });
            let wall = started.elapsed();
            if o.log_dir.is_some() {
                eprint!(
                    " [first download {:.3} s, last saved {:.3} s]",
                    first_start.map_or(0.0, secs),
                    last_download.map_or(0.0, secs)
                );
            }
            host.close();
            check_finished(&finished, w.urls.len());
            stop(daemon, wall, accepted, before, o)
        }
        Ask::List(list) => {
            let status = Command::new(haul_bin())
                .args(["grab", "--list"])
                .arg(list)
                .env(HAUL_HOME_ENV, home.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("run haul grab");
            let wall = started.elapsed();
            assert!(status.success(), "haul grab failed");
            let zips = std::fs::read_dir(home.path().join("output"))
                .expect("the output folder")
                .filter(|e| {
                    e.as_ref()
                        .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "zip"))
                })
                .count();
            assert_eq!(zips, 1, "one ZIP in the output folder");
            stop(daemon, wall, None, before, o)
        }
    }
}

fn check_finished(finished: &Value, expected: usize) {
    assert_eq!(
        finished["status"], "complete",
        "the job did not complete: {finished}"
    );
    assert_eq!(
        finished["saved"].as_u64(),
        Some(expected as u64),
        "saved a different number of files than extracted: {finished}"
    );
    let output = finished["output"].as_str().expect("an output path");
    assert!(Path::new(output).is_file(), "no ZIP at {output}");
}

/// Stops the run's daemon (SIGTERM, then waits) and returns its sample.
fn stop(
    mut daemon: Child,
    wall: Duration,
    accepted: Option<Duration>,
    before: Option<u64>,
    o: &Options,
) -> Sample {
    let connections = before.zip(syns(o)).map(|(b, a)| a - b);
    #[cfg(unix)]
    // SAFETY: kill(2) on the daemon this run started.
    unsafe {
        libc::kill(daemon.id() as i32, libc::SIGTERM);
    }
    let _ = daemon.wait();
    Sample {
        wall,
        accepted,
        connections,
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Peer {
    Parallel,
    SeqOneProcess,
    SeqProcesses,
}

impl Peer {
    fn name(self) -> &'static str {
        match self {
            Peer::Parallel => "curl --parallel --parallel-max 16 (HTTP/2)",
            Peer::SeqOneProcess => "curl, one file at a time, one process (reused connection)",
            Peer::SeqProcesses => "curl loop, one process and connection per file",
        }
    }
}

fn curl(o: &Options, w: &Workload) -> Command {
    let mut c = Command::new("curl");
    c.args([
        "-sS",
        "--no-progress-meter",
        "--fail",
        "--create-dirs",
        "--cacert",
    ])
    .arg(o.ca.as_ref().unwrap());
    for host in &w.hosts {
        c.arg("--connect-to")
            .arg(format!("{host}:443:127.0.0.1:{}", o.port));
    }
    c
}

fn peer_run(o: &Options, w: &Workload, peer: Peer) -> Sample {
    let out = tempfile::Builder::new()
        .prefix("haul-click-peer-")
        .tempdir()
        .expect("an output folder");
    let target = |i: usize| out.path().join(format!("{i:04}"));
    let cfg = out.path().join("curl.cfg");
    let mut body = String::new();
    for (i, (url, _)) in w.urls.iter().enumerate() {
        body.push_str(&format!("url = {url:?}\noutput = {:?}\n", target(i)));
    }
    std::fs::write(&cfg, body).expect("write curl's config");
    let before = syns(o);
    let started = Instant::now();
    match peer {
        Peer::Parallel | Peer::SeqOneProcess => {
            let mut c = curl(o, w);
            if peer == Peer::Parallel {
                c.args(["--parallel", "--parallel-max", "16"]);
            }
            let status = c.arg("-K").arg(&cfg).status().expect("run curl");
            assert!(status.success(), "curl failed");
        }
        Peer::SeqProcesses => {
            for (i, (url, _)) in w.urls.iter().enumerate() {
                let status = curl(o, w)
                    .arg("-o")
                    .arg(target(i))
                    .arg(url)
                    .status()
                    .expect("run curl");
                assert!(status.success(), "curl {url} failed");
            }
        }
    }
    let wall = started.elapsed();
    for (i, (url, size)) in w.urls.iter().enumerate() {
        let got = std::fs::metadata(target(i)).map(|m| m.len()).unwrap_or(0);
        assert_eq!(
            got,
            *size,
            "{} saved {url} with the wrong size",
            peer.name()
        );
    }
    Sample {
        wall,
        accepted: None,
        connections: before.zip(syns(o)).map(|(b, a)| a - b),
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// min–median–max of `values`, as text with `digits` decimals.
fn spread(values: &[f64], digits: usize) -> String {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let median = if v.len() % 2 == 1 {
        v[v.len() / 2]
    } else {
        (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
    };
    format!(
        "{:.d$} ({:.d$}–{:.d$})",
        median,
        v[0],
        v[v.len() - 1],
        d = digits
    )
}

fn main() {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("click bench: {e}");
            std::process::exit(2);
        }
    };
    let scratch = tempfile::Builder::new()
        .prefix("haul-click-bench-")
        .tempdir()
        .expect("a scratch folder");
    let w = if o.list.is_some() {
        list_workload(&o, scratch.path())
    } else {
        click_workload(&o)
    };
    let peers = [Peer::Parallel, Peer::SeqOneProcess, Peer::SeqProcesses];
    let mut haul = Vec::new();
    let mut others: Vec<Vec<Sample>> = peers.iter().map(|_| Vec::new()).collect();
    for round in 1..=o.runs {
        let h = haul_run(&o, &w, round);
        eprint!("round {round}: haul {:.3} s", secs(h.wall));
        haul.push(h);
        for (p, samples) in peers.iter().zip(&mut others) {
            let s = peer_run(&o, &w, *p);
            eprint!(", {:.3}", secs(s.wall));
            samples.push(s);
        }
        eprintln!();
    }

    let total: u64 = w.urls.iter().map(|u| u.1).sum();
    println!(
        "{}: {} files, {:.1} MB, {} paired runs (min–median–max)\n",
        w.name,
        w.urls.len(),
        total as f64 / 1e6,
        o.runs
    );
    println!(
        "| run | wall s: median (min–max) | connections | haul / peer, per pair: median (min–max) |"
    );
    println!("|---|---|---|---|");
    let conns = |s: &[Sample]| {
        let c: Vec<String> = s
            .iter()
            .filter_map(|s| s.connections.map(|c| c.to_string()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if c.is_empty() {
            "—".into()
        } else {
            c.join(", ")
        }
    };
    let haul_walls: Vec<f64> = haul.iter().map(|s| secs(s.wall)).collect();
    let label = match w.ask {
        Ask::Click { .. } => "**haul**: host start → `finished` (ZIP in place)",
        Ask::List(_) => "**haul grab --list** via the running daemon",
    };
    println!(
        "| {label} | {} | {} | |",
        spread(&haul_walls, 3),
        conns(&haul)
    );
    let accepted: Vec<f64> = haul.iter().filter_map(|s| s.accepted.map(secs)).collect();
    if !accepted.is_empty() {
        println!(
            "| haul: host start → `accepted` | {} | | |",
            spread(&accepted, 3)
        );
    }
    for (p, samples) in peers.iter().zip(&others) {
        let walls: Vec<f64> = samples.iter().map(|s| secs(s.wall)).collect();
        let ratios: Vec<f64> = haul_walls.iter().zip(&walls).map(|(h, p)| h / p).collect();
        println!(
            "| {} | {} | {} | {} |",
            p.name(),
            spread(&walls, 3),
            conns(samples),
            spread(&ratios, 2)
        );
    }
}
