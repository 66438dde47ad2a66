//! Settings. Every key has a default, so the daemon runs with no config file at all; a file that
//! exists is read strictly — an unknown key or a wrong type is an error naming the file, the line
//! and the key, because a silently ignored typo (`alow_private_networks`) is worse than a refusal.
//!
//! The file is `config.toml` in the config dir (`$HAUL_HOME/config.toml` under `HAUL_HOME`);
//! `--config FILE` overrides. `docs/configuration.md` lists every key.
//!
//! `allow_private_networks`, `extra_ca_file` and `resolve` keep exactly these names and shapes:
//! tools outside the project rely on them.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use haul_protocol::message::PackageMode;
use haul_protocol::paths::Paths;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::media::Include;
use crate::naming::Naming;
use crate::process::preset::{self, Preset, PresetConfig, PresetError};

/// haul's settings, with the defaults documented in `docs/configuration.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where finished ZIPs/folders go. Default: `<Downloads>/haul` (`$HAUL_HOME/output`).
    pub output_dir: Option<PathBuf>,
    /// The watched inbox. Default: `<Downloads>/haul-inbox` (`$HAUL_HOME/inbox`).
    pub inbox_dir: Option<PathBuf>,
    /// How long (ms) an inbox entry must stay unchanged before it is taken.
    pub inbox_settle_ms: u64,
    /// Remove finished packages (only those haul wrote, unchanged) this many days after their
    /// job ended; `0` (the default) keeps them for ever.
    pub retention_days: u32,
    /// `zip` (default), `folder` or `both`.
    pub package: PackageMode,
    /// Also remove ICC colour profiles (default: keep them — they define the colours).
    pub strip_icc: bool,
    /// Processing preset of grabs and of the inbox's URL lists, pages and spreadsheets.
    pub preset: String,
    /// Processing preset of folders of the seller's own images dropped into the inbox.
    pub seller_preset: String,
    /// User-defined processing presets (`[presets.NAME]`).
    pub presets: BTreeMap<String, PresetConfig>,
    /// How entries are named: `default`, `amazon-upload` or a template (`{product_id}_{index}`).
    pub naming: Naming,
    /// Save links from URL lists, spreadsheets and `haul grab URL` exactly as given, instead of
    /// rewriting each to the largest size its CDN serves (`…_AC_SX679_.jpg` → `….jpg`).
    pub keep_links_as_given: bool,
    /// The roles grabs save: `["main", "gallery", "variant", "video", "description", "review"]`
    /// (all, the default) or some of them.
    pub include: Include,

    /// Allow downloads from loopback, private, link-local and other non-public addresses.
    pub allow_private_networks: bool,
    /// A PEM file of extra CA certificates to trust besides the system's roots.
    pub extra_ca_file: Option<PathBuf>,
    /// Host name → IP address pins, like curl's `--resolve` (the URL's port is kept). A pinned
    /// address is the user's explicit choice and is used even when it is a private one.
    pub resolve: BTreeMap<String, IpAddr>,
    /// Host name → `address:port`, like curl's `--connect-to`: URLs of that host without a port
    /// connect there (TLS still checks the host name). Pinned like `resolve`.
    pub connect_to: BTreeMap<String, SocketAddr>,
    /// A proxy for every download: `http://host:port`, `https://…`, `socks5://…` or `socks5h://…`.
    pub proxy: Option<String>,

    /// Downloads running at once, over all jobs.
    pub max_downloads: usize,
    /// Downloads running at once against one host.
    pub max_downloads_per_host: usize,
    /// Jobs running at once (the rest wait in the queue).
    pub max_jobs: usize,
    /// Attempts per file after the first one.
    pub retries: u32,
    /// First retry delay; it doubles each attempt, with jitter.
    pub retry_base_ms: u64,
    /// Longest delay between attempts (also caps a server's `Retry-After`).
    pub retry_max_ms: u64,
    /// Time allowed to establish a connection (TCP + TLS).
    pub connect_timeout_secs: u64,
    /// Longest silence while reading a response.
    pub read_timeout_secs: u64,
    /// Slowest transfer accepted: a download that receives fewer than this many bytes a second,
    /// averaged over `min_rate_window_secs`, fails (`0`: no minimum).
    pub min_rate_bytes_per_sec: u64,
    /// The window `min_rate_bytes_per_sec` is measured over; also the longest wait for a
    /// response's headers.
    pub min_rate_window_secs: u64,
    /// Longest time one file may take, retries included, from its first attempt (`0`: none).
    pub item_deadline_secs: u64,
    /// Largest single file accepted.
    pub max_file_bytes: u64,
    /// Largest total of one job.
    pub max_job_bytes: u64,
    /// Redirects followed per file.
    pub max_redirects: usize,
    /// Follow a redirect from an https address to a plain http one.
    pub allow_https_downgrade: bool,

    /// Port of the status page and JSON API on 127.0.0.1 and ::1 ([`DEFAULT_STATUS_PORT`];
    /// `0` picks a free port). When the port is taken, a free one is used and reported.
    pub status_port: u16,
    /// The program (and leading arguments) the status page's "Open" and "Show in folder"
    /// buttons run, with the path appended. Default: the desktop's own opener (`xdg-open`,
    /// `open`, `explorer`).
    pub open_command: Option<Vec<String>>,
}

/// The status page's port unless the config says otherwise: "haul" on a phone keypad is 4285.
pub const DEFAULT_STATUS_PORT: u16 = 24285;

impl Default for Config {
    fn default() -> Self {
        Config {
            output_dir: None,
            inbox_dir: None,
            // Long enough for a browser or file manager between two writes, short enough that a
            // drop feels immediate.
            inbox_settle_ms: 1000,
            // Off: deleting the user's files is something they must ask for.
            retention_days: 0,
            package: PackageMode::Zip,
            strip_icc: false,
            preset: preset::KEEP.to_string(),
            seller_preset: preset::AMAZON_LISTING.to_string(),
            presets: BTreeMap::new(),
            naming: Naming::Default,
            keep_links_as_given: false,
            include: Include::ALL,
            allow_private_networks: false,
            extra_ca_file: None,
            resolve: BTreeMap::new(),
            connect_to: BTreeMap::new(),
            proxy: None,
            // 16 in flight saturates a home connection and matches what browsers and download
            // managers open; per host 8 keeps us polite to one CDN while HTTP/2 multiplexes them
            // over one connection anyway.
            max_downloads: 16,
            max_downloads_per_host: 8,
            max_jobs: 4,
            retries: 5,
            retry_base_ms: 500,
            retry_max_ms: 30_000,
            connect_timeout_secs: 15,
            read_timeout_secs: 30,
            // A server dripping bytes holds a download slot for ever: under 1 KiB/s for 30 s
            // is no download, and no file (a 4 GiB video on a slow line included) needs more
            // than an hour.
            min_rate_bytes_per_sec: 1024,
            min_rate_window_secs: 30,
            item_deadline_secs: 3600,
            max_file_bytes: 4 << 30,
            max_job_bytes: 16 << 30,
            max_redirects: 10,
            allow_https_downgrade: false,
            status_port: DEFAULT_STATUS_PORT,
            open_command: None,
        }
    }
}

/// A config file that cannot be used.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read the config file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {}, {location}: {message}\n(every key is described in docs/configuration.md; remove the key to use its default)", path.display())]
    Invalid {
        path: PathBuf,
        location: String,
        message: String,
    },
    #[error("config file {}: {message}", path.display())]
    Value { path: PathBuf, message: String },
}

impl Config {
    /// Reads `explicit` when given (it must exist), else the default config file if it exists,
    /// else the defaults.
    pub fn load(paths: &Paths, explicit: Option<&Path>) -> Result<Config, ConfigError> {
        let path = explicit.unwrap_or(&paths.config_file);
        match std::fs::read_to_string(path) {
            Ok(text) => Config::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && explicit.is_none() => {
                Ok(Config::default())
            }
            Err(source) => Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Parses config text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let deserializer =
            toml::Deserializer::parse(text).map_err(|e| invalid(path, text, "", &e))?;
        let config: Config = serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let key = e.path().to_string();
            invalid(path, text, &key, e.inner())
        })?;
        config.validate().map_err(|message| ConfigError::Value {
            path: path.to_path_buf(),
            message,
        })?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        for (name, value) in [
            ("max_downloads", self.max_downloads),
            ("max_downloads_per_host", self.max_downloads_per_host),
            ("max_jobs", self.max_jobs),
        ] {
            if value == 0 {
                return Err(format!("key `{name}` must be at least 1"));
            }
        }
        preset::validate(&self.presets).map_err(|e| format!("[presets]: {e}"))?;
        for (key, name) in [
            ("preset", &self.preset),
            ("seller_preset", &self.seller_preset),
        ] {
            self.resolve_preset(name)
                .map_err(|e| format!("key `{key}`: {e}"))?;
        }
        if let Some(command) = &self.open_command
            && command
                .first()
                .is_none_or(|program| program.trim().is_empty())
        {
            return Err("key `open_command` must name a program, e.g. [\"xdg-open\"]".to_string());
        }
        if let Some(proxy) = &self.proxy {
            let ok = ["http://", "https://", "socks5://", "socks5h://"]
                .iter()
                .any(|s| proxy.starts_with(s));
            if !ok || url::Url::parse(proxy).is_err() {
                return Err(format!(
                    "key `proxy` = {proxy:?} is not a proxy URL; use http://host:port, https://…, socks5://… or socks5h://…"
                ));
            }
        }
        Ok(())
    }

    /// The processing preset called `name` (the config's own presets first, then the built-ins).
    pub fn resolve_preset(&self, name: &str) -> Result<Preset, PresetError> {
        preset::resolve(name, &self.presets)
    }

    /// The output folder in effect.
    pub fn output_dir(&self, paths: &Paths) -> PathBuf {
        self.output_dir
            .clone()
            .unwrap_or_else(|| paths.output_dir.clone())
    }

    /// The inbox folder in effect.
    pub fn inbox_dir(&self, paths: &Paths) -> PathBuf {
        self.inbox_dir
            .clone()
            .unwrap_or_else(|| paths.inbox_dir.clone())
    }

    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_secs)
    }

    pub fn read_timeout(&self) -> Duration {
        Duration::from_secs(self.read_timeout_secs)
    }

    /// The minimum transfer rate and its window, `None` when off.
    pub fn min_rate(&self) -> Option<(u64, Duration)> {
        (self.min_rate_bytes_per_sec > 0 && self.min_rate_window_secs > 0).then(|| {
            (
                self.min_rate_bytes_per_sec,
                Duration::from_secs(self.min_rate_window_secs),
            )
        })
    }

    /// The longest time one file may take, `None` when off.
    pub fn item_deadline(&self) -> Option<Duration> {
        (self.item_deadline_secs > 0).then(|| Duration::from_secs(self.item_deadline_secs))
    }
}

fn invalid(path: &Path, text: &str, key: &str, e: &toml::de::Error) -> ConfigError {
    let mut location = match e.span() {
        Some(span) => {
            let line = text
                .get(..span.start)
                .map_or(1, |before| before.matches('\n').count() + 1);
            format!("line {line}")
        }
        None => "somewhere".to_string(),
    };
    if !key.is_empty() && key != "." {
        location.push_str(&format!(", key `{key}`"));
    }
    ConfigError::Invalid {
        path: path.to_path_buf(),
        location,
        message: e.message().trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/cfg/config.toml"))
    }

    #[test]
    fn empty_file_is_all_defaults() {
        assert_eq!(parse("").unwrap(), Config::default());
    }

    #[test]
    fn keys_with_their_documented_shapes() {
        let c = parse(
            r#"
allow_private_networks = true
extra_ca_file = "/tmp/ca.pem"
package = "both"

[resolve]
"m.media-amazon.com" = "127.0.0.1"
"cdn.example" = "::1"

[connect_to]
"i.ebayimg.com" = "127.0.0.1:8443"
"#,
        )
        .unwrap();
        assert!(c.allow_private_networks);
        assert_eq!(c.extra_ca_file.as_deref(), Some(Path::new("/tmp/ca.pem")));
        assert_eq!(
            c.resolve["m.media-amazon.com"],
            "127.0.0.1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(c.resolve["cdn.example"], "::1".parse::<IpAddr>().unwrap());
        assert_eq!(
            c.connect_to["i.ebayimg.com"],
            "127.0.0.1:8443".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(c.package, PackageMode::Both);
    }

    #[test]
    fn naming_presets_and_templates() {
        assert_eq!(
            parse("naming = \"amazon-upload\"").unwrap().naming,
            Naming::AmazonUpload
        );
        let c = parse("naming = \"{product_id}_{index}\"").unwrap();
        assert_eq!(c.naming.to_string(), "{product_id}_{index}");
        let err = parse("\nnaming = \"{sku}\"").unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("{sku}"), "{err}");
    }

    #[test]
    fn include_is_a_list_of_roles() {
        assert!(parse("").unwrap().include.is_all());
        let c = parse("include = [\"main\", \"gallery\"]").unwrap();
        assert_eq!(c.include.to_string(), "main,gallery");
        let err = parse("\ninclude = [\"main\", \"photos\"]")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2") && err.contains("photos"), "{err}");
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let err = parse("retries = 2\nalow_private_networks = true\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("/cfg/config.toml"), "{err}");
        assert!(err.contains("line 2"), "{err}");
        assert!(err.contains("alow_private_networks"), "{err}");
    }

    #[test]
    fn wrong_type_names_line_and_key() {
        let err = parse("retries = 1\n\nmax_downloads = \"many\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("max_downloads"), "{err}");
    }

    #[test]
    fn bad_address_in_resolve_names_the_nested_key() {
        let err = parse("[resolve]\n\"a.example\" = \"not-an-ip\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
        assert!(err.contains("resolve.a.example"), "{err}");
    }

    #[test]
    fn syntax_error_names_the_line() {
        let err = parse("retries = 1\nretries 2\n").unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn nonsense_values_are_refused() {
        assert!(
            parse("max_downloads = 0")
                .unwrap_err()
                .to_string()
                .contains("max_downloads")
        );
        assert!(
            parse("proxy = \"ftp://x\"")
                .unwrap_err()
                .to_string()
                .contains("proxy")
        );
        assert!(parse("proxy = \"socks5://127.0.0.1:1080\"").is_ok());
    }

    #[test]
    fn presets_are_checked_when_the_file_is_read() {
        let c = parse(
            "preset = \"shop\"\n[presets.shop]\nformat = \"webp\"\nquality = 75\nmax_side = 1600\n",
        )
        .unwrap();
        assert!(matches!(c.resolve_preset("shop"), Ok(Preset::Convert(s)) if s.quality == 75));
        assert_eq!(c.seller_preset, "amazon-listing");
        let err = parse("preset = \"shopp\"\n").unwrap_err().to_string();
        assert!(err.contains("preset") && err.contains("shopp"), "{err}");
        let err = parse("[presets.x]\nformat = \"gif\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("presets.x.format"), "{err}");
        let err = parse("[presets.x]\nformat = \"jpeg\"\nquality = 101\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("quality"), "{err}");
    }

    #[test]
    fn status_port_and_open_command() {
        let c = parse("").unwrap();
        assert_eq!(c.status_port, DEFAULT_STATUS_PORT);
        assert_eq!(c.open_command, None);
        let c = parse("status_port = 0\nopen_command = [\"/bin/sh\", \"-c\", \"true\"]").unwrap();
        assert_eq!(c.status_port, 0);
        assert_eq!(c.open_command.as_deref().map(<[String]>::len), Some(3));
        assert!(
            parse("status_port = 70000")
                .unwrap_err()
                .to_string()
                .contains("status_port")
        );
        assert!(
            parse("open_command = []")
                .unwrap_err()
                .to_string()
                .contains("open_command")
        );
    }

    #[test]
    fn retention_is_off_unless_asked() {
        assert_eq!(parse("").unwrap().retention_days, 0);
        assert_eq!(parse("retention_days = 30").unwrap().retention_days, 30);
        let err = parse("retention_days = -1").unwrap_err().to_string();
        assert!(err.contains("retention_days"), "{err}");
    }

    #[test]
    fn missing_default_file_is_fine_but_missing_explicit_file_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::under(dir.path());
        assert_eq!(Config::load(&paths, None).unwrap(), Config::default());
        let err = Config::load(&paths, Some(&dir.path().join("nope.toml"))).unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }));
    }
}
