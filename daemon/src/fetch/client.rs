//! The HTTP client every download goes through: rustls (system roots plus `extra_ca_file`),
//! HTTP/1.1 and HTTP/2 by ALPN, the address policy as its DNS resolver and redirect guard, no
//! cookie store, no `Referer`, no system proxy — only the proxy the user configured.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::redirect;
use thiserror::Error;
use url::Url;

use super::guard::AddressPolicy;
use super::warm::{Warm, WarmLayer};
use crate::config::Config;

/// The client could not be set up from the config.
#[derive(Debug, Error)]
pub enum ClientError {
    #[error("cannot read extra_ca_file {}: {source}", path.display())]
    ReadCa {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("extra_ca_file {} holds no usable PEM certificate: {detail}", path.display())]
    BadCa { path: PathBuf, detail: String },
    #[error("the proxy {proxy:?} cannot be used: {detail}")]
    Proxy { proxy: String, detail: String },
    #[error("cannot set up HTTPS: {0}")]
    Tls(String),
}

/// Why a redirect was not followed. Found again in the error chain by the downloader.
#[derive(Debug, Error)]
pub enum RedirectRefused {
    #[error("redirect loop: {0} was visited before")]
    Loop(String),
    #[error("more than {0} redirects")]
    TooMany(usize),
    #[error(transparent)]
    Address(#[from] super::guard::Refused),
    #[error(
        "refused a redirect from https to plain http ({0}); set allow_https_downgrade = true in the config to follow it"
    )]
    Downgrade(String),
}

/// The HTTP/2 receive window of one download: 4 MiB is 100 MB/s on a 40 ms path.
const HTTP2_STREAM_WINDOW: u32 = 4 << 20;
/// The HTTP/2 receive window of a connection, shared by the downloads multiplexed on it.
const HTTP2_CONNECTION_WINDOW: u32 = 16 << 20;

/// How long an idle connection stays in the client's pool.
pub const POOL_IDLE: Duration = Duration::from_secs(60);

/// Builds the client for `config`, guarded by `policy`; its connections opened ahead of their
/// first download are kept in `warm`.
pub fn build(
    config: &Config,
    policy: &AddressPolicy,
    warm: &Warm,
) -> Result<reqwest::Client, ClientError> {
    // ring, not aws-lc-rs: aws-lc seeds its random generator from CPU jitter, which cost
    // ~140 ms of CPU before the first handshake of every `haul grab` (measured with perf). An
    // `Err` means a provider is already installed for this process, which is as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("haul/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(config.connect_timeout())
        .read_timeout(config.read_timeout())
        .dns_resolver(policy.clone())
        .redirect(redirect_policy(
            policy.clone(),
            config.max_redirects,
            config.allow_https_downgrade,
        ))
        .referer(false)
        .tcp_nodelay(true)
        .pool_idle_timeout(POOL_IDLE)
        .connector_layer(WarmLayer(warm.clone()))
        // HTTP/2 flow control: the default 64 KiB stream window caps a stream at 64 KiB per
        // round trip (1.6 MB/s at 40 ms), and an adaptive window needs many round trips to grow.
        // Data is written to disk as it arrives, so these windows bound what may sit in memory
        // only when the disk is slower than the network.
        .http2_initial_stream_window_size(HTTP2_STREAM_WINDOW)
        .http2_initial_connection_window_size(HTTP2_CONNECTION_WINDOW);
    builder = match &config.proxy {
        None => builder.no_proxy(),
        Some(proxy) => {
            builder.proxy(reqwest::Proxy::all(proxy).map_err(|e| ClientError::Proxy {
                proxy: proxy.clone(),
                detail: e.to_string(),
            })?)
        }
    };
    if let Some(path) = &config.extra_ca_file {
        let pem = std::fs::read(path).map_err(|source| ClientError::ReadCa {
            path: path.clone(),
            source,
        })?;
        let certs =
            reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| ClientError::BadCa {
                path: path.clone(),
                detail: e.to_string(),
            })?;
        if certs.is_empty() {
            return Err(ClientError::BadCa {
                path: path.clone(),
                detail: "no certificate found".into(),
            });
        }
        builder = builder.tls_certs_merge(certs);
    }
    builder
        .build()
        .map_err(|e| ClientError::Tls(super::error_chain(&e)))
}

/// Follows redirects while they stay allowed: no loops, at most `max` hops, and every hop's
/// IP-literal host checked by the address policy (named hosts are checked by the resolver when
/// the hop connects); never from https to plain http (where anyone on the path could read and
/// change the file) unless `allow_downgrade`.
fn redirect_policy(policy: AddressPolicy, max: usize, allow_downgrade: bool) -> redirect::Policy {
    redirect::Policy::custom(move |attempt| {
        let next: &Url = attempt.url();
        let was_https = attempt
            .previous()
            .last()
            .is_some_and(|from| from.scheme() == "https");
        if was_https && next.scheme() == "http" && !allow_downgrade {
            let url = next.to_string();
            return attempt.error(RedirectRefused::Downgrade(url));
        }
        if attempt.previous().iter().any(|seen| seen == next) {
            let url = next.to_string();
            return attempt.error(RedirectRefused::Loop(url));
        }
        if attempt.previous().len() > max {
            return attempt.error(RedirectRefused::TooMany(max));
        }
        if let Err(refused) = policy.check_url(next) {
            return attempt.error(RedirectRefused::Address(refused));
        }
        attempt.follow()
    })
}
