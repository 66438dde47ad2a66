//! Which addresses haul may download from. A product page is outside input: a hostile page (or a
//! redirect from a media host) could point haul at the user's router, printer or a local service.
//! So every target is checked *after* DNS and again on every redirect, and loopback, private,
//! link-local, multicast and other non-public addresses are refused unless the user sets
//! `allow_private_networks = true`.
//!
//! The `[resolve]` table pins host names to addresses like curl's `--resolve`. A pin is the
//! user's explicit choice, so a pinned address is used even when it is private — which is how a
//! user (or a test) points a real CDN name at a local mirror while every *other* private target
//! stays refused.
//!
//! `[connect_to]` goes one step further, like curl's `--connect-to`: a host name is pinned to an
//! address *and port*, for URLs that do not name a port (a mirror of a CDN on an unprivileged
//! port). The HTTP client connects there while TLS still checks the certificate for the URL's
//! host name; a URL that names its port connects to the pinned address on that port.
//!
//! IP-literal URLs never reach a resolver (the HTTP client connects to them directly), so they are
//! checked by [`AddressPolicy::check_url`], which the downloader calls for the first URL and the
//! redirect policy for each hop.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use thiserror::Error;
use url::{Host, Url};

use crate::failure::FailureKind;

/// A target haul will not connect to.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum Refused {
    #[error(
        "refused to download from {host}: it is {addr}, a {what} address (set allow_private_networks = true in the config to allow local and private networks)"
    )]
    PrivateAddress {
        host: String,
        addr: IpAddr,
        what: &'static str,
    },
    #[error("refused to download {url}: only http and https URLs are downloaded")]
    Scheme { url: String },
    #[error("cannot download {url}: the URL has no host")]
    NoHost { url: String },
}

impl Refused {
    /// What kind of failure it is.
    pub fn kind(&self) -> FailureKind {
        match self {
            Refused::PrivateAddress { .. } => FailureKind::RefusedPrivateAddress,
            Refused::Scheme { .. } | Refused::NoHost { .. } => FailureKind::NotWebAddress,
        }
    }
}

/// A host name that does not resolve (the resolver's error, told apart from a refused address and
/// from a connection that failed: a name that does not resolve now will not on a retry either).
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("could not resolve host name {host}")]
pub struct NotResolved {
    pub host: String,
}

/// The address rules of one configuration.
#[derive(Debug, Clone)]
pub struct AddressPolicy {
    allow_private: bool,
    /// Pinned hosts (lower-case, no trailing dot). Port 0 keeps the URL's port; any other port
    /// is used when the URL names none.
    pins: Arc<BTreeMap<String, SocketAddr>>,
}

impl AddressPolicy {
    /// The rules of `allow_private_networks`, `[resolve]` and `[connect_to]` (which wins when
    /// both name a host).
    pub fn new(
        allow_private: bool,
        resolve: &BTreeMap<String, IpAddr>,
        connect_to: &BTreeMap<String, SocketAddr>,
    ) -> AddressPolicy {
        let key = |host: &str| host.trim_end_matches('.').to_ascii_lowercase();
        let pins = resolve
            .iter()
            .map(|(host, ip)| (key(host), SocketAddr::new(*ip, 0)))
            .chain(connect_to.iter().map(|(host, addr)| (key(host), *addr)))
            .collect();
        AddressPolicy {
            allow_private,
            pins: Arc::new(pins),
        }
    }

    /// Checks what can be checked without DNS: the scheme, and the host when it is an IP literal.
    pub fn check_url(&self, url: &Url) -> Result<(), Refused> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refused::Scheme {
                url: url.to_string(),
            });
        }
        let ip = match url.host() {
            None => {
                return Err(Refused::NoHost {
                    url: url.to_string(),
                });
            }
            Some(Host::Domain(_)) => return Ok(()),
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
        };
        self.check_addr(&ip.to_string(), ip)
    }

    fn check_addr(&self, host: &str, addr: IpAddr) -> Result<(), Refused> {
        if self.allow_private {
            return Ok(());
        }
        match non_public_kind(addr) {
            None => Ok(()),
            Some(what) => Err(Refused::PrivateAddress {
                host: host.to_string(),
                addr,
                what,
            }),
        }
    }

    /// Resolves `host`: a pin when there is one, else the system resolver, keeping only the
    /// addresses the policy allows.
    async fn resolve_host(self, host: String) -> Result<Vec<SocketAddr>, Refused> {
        let key = host.trim_end_matches('.').to_ascii_lowercase();
        if let Some(addr) = self.pins.get(&key) {
            return Ok(vec![*addr]);
        }
        let resolved: Vec<SocketAddr> = match tokio::net::lookup_host((host.as_str(), 0)).await {
            Ok(addrs) => addrs.collect(),
            // Reported by the caller as a DNS failure (retryable), not as a refusal.
            Err(_) => return Ok(Vec::new()),
        };
        let mut first_refusal = None;
        let allowed: Vec<SocketAddr> = resolved
            .into_iter()
            .filter(|a| match self.check_addr(&host, a.ip()) {
                Ok(()) => true,
                Err(refused) => {
                    first_refusal.get_or_insert(refused);
                    false
                }
            })
            .collect();
        match (allowed.is_empty(), first_refusal) {
            (true, Some(refused)) => Err(refused),
            _ => Ok(allowed),
        }
    }
}

impl Resolve for AddressPolicy {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs = policy
                .resolve_host(host.clone())
                .await
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)?;
            if addrs.is_empty() {
                return Err(Box::new(NotResolved { host }) as _);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// `None` for a public unicast address, else what kind of address it is.
pub fn non_public_kind(addr: IpAddr) -> Option<&'static str> {
    match addr {
        IpAddr::V4(ip) => v4_kind(ip),
        IpAddr::V6(ip) => v6_kind(ip),
    }
}

/// IANA's IPv4 special-purpose registry: every range that is not globally reachable.
fn v4_kind(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip.is_loopback() => "loopback",
        _ if ip.is_private() => "private",
        _ if ip.is_link_local() => "link-local",
        _ if ip.is_multicast() => "multicast",
        _ if ip.is_broadcast() => "broadcast",
        _ if ip.is_unspecified() || a == 0 => "unspecified",
        (100, 64..=127, _) => "shared (carrier-grade NAT)",
        (192, 0, 0) => "IETF protocol assignment",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (192, 31, 196) | (192, 175, 48) => "AS112",
        (192, 52, 193) => "AMT",
        (192, 88, 99) => "6to4 relay anycast",
        (198, 18..=19, _) => "benchmarking",
        (240..=255, _, _) => "reserved",
        _ => return None,
    })
}

/// The IPv4 address in the last 32 bits of `seg`.
fn low_v4(seg: &[u16; 8]) -> Ipv4Addr {
    v4_of(seg[6], seg[7])
}

fn v4_of(hi: u16, lo: u16) -> Ipv4Addr {
    let [a, b] = hi.to_be_bytes();
    let [c, d] = lo.to_be_bytes();
    Ipv4Addr::new(a, b, c, d)
}

/// IANA's IPv6 special-purpose registry; every form that carries an IPv4 address (mapped,
/// compatible, translated, NAT64, 6to4, Teredo) is judged by the IPv4 address it reaches, so
/// `::127.0.0.1`, `::ffff:0:7f00:1`, `64:ff9b::7f00:1` and `2002:7f00:1::1` are loopback too.
fn v6_kind(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_kind(v4);
    }
    let seg = ip.segments();
    match seg {
        _ if ip.is_loopback() => return Some("loopback"),
        _ if ip.is_unspecified() => return Some("unspecified"),
        // IPv4-compatible (`::a.b.c.d`, deprecated) and IPv4-translated (`::ffff:0:a.b.c.d`).
        [0, 0, 0, 0, 0, 0, _, _] | [0, 0, 0, 0, 0xffff, 0, _, _] => {
            return v4_kind(low_v4(&seg));
        }
        // NAT64, well-known prefix (64:ff9b::/96): the IPv4 address it translates to.
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => return v4_kind(low_v4(&seg)),
        // NAT64 for local use (64:ff9b:1::/48): never globally reachable.
        [0x64, 0xff9b, 1, ..] => return Some("NAT64 (local use)"),
        // 6to4 (2002::/16): the IPv4 address in bits 16–47.
        [0x2002, hi, lo, ..] => return v4_kind(v4_of(hi, lo)),
        // Teredo (2001::/32): the server's IPv4 address, and the client's (stored inverted).
        [0x2001, 0, server_hi, server_lo, _, _, client_hi, client_lo] => {
            return v4_kind(v4_of(server_hi, server_lo))
                .or_else(|| v4_kind(v4_of(!client_hi, !client_lo)));
        }
        _ => {}
    }
    Some(match seg[0] {
        s if s & 0xfe00 == 0xfc00 => "private (unique local)",
        s if s & 0xffc0 == 0xfe80 => "link-local",
        s if s & 0xffc0 == 0xfec0 => "site-local",
        s if s & 0xff00 == 0xff00 => "multicast",
        0x0100 if seg[1..4] == [0, 0, 0] => "discard-only",
        0x2001 if seg[1] == 0x0db8 => "documentation",
        // 2001::/23 is IETF protocol assignments; AMT (2001:3::/32), AS112 (2001:4:112::/48)
        // and ORCHIDv2 (2001:20::/28) in it are globally reachable.
        0x2001 if seg[1] < 0x0200 => match seg[1] {
            0x0003 => return None,
            0x0004 if seg[2] == 0x0112 => return None,
            0x0020..=0x002f => return None,
            _ => "IETF protocol assignment",
        },
        0x3fff if seg[1] < 0x1000 => "documentation",
        0x5f00 => "segment routing (SRv6)",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn non_public_addresses_are_recognised() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            // Every IPv4-in-IPv6 form of 127.0.0.1 (the red team's list) and of private ones.
            "::127.0.0.1",
            "::ffff:0:7f00:1",
            "64:ff9b::7f00:1",
            "64:ff9b:1::7f00:1",
            "64:ff9b:1::808:808",
            "2002:7f00:1::1",
            "2002:c0a8:101::1",
            "2001:0:7f00:1::1",
            "2001:0:808:808::80ff:fffe",
            "::10.0.0.1",
            // Further IANA special-purpose ranges.
            "192.31.196.1",
            "192.52.193.1",
            "192.88.99.1",
            "192.175.48.1",
            "100::1",
            "2001:2::1",
            "2001:10::1",
            "3fff::1",
            "5f00::1",
        ] {
            assert!(non_public_kind(ip(a)).is_some(), "{a} should not be public");
        }
        for a in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2001:0:808:808::f7f7:f7f7",
            "2001:3::1",
            "2001:4:112::1",
            "2001:20::1",
            "2a00:1450::1",
        ] {
            assert_eq!(non_public_kind(ip(a)), None, "{a} should be public");
        }
    }

    #[test]
    fn ip_literal_urls_are_checked_and_schemes_limited() {
        let strict = AddressPolicy::new(false, &BTreeMap::new(), &BTreeMap::new());
        let url = Url::parse("https://127.0.0.1:8443/a.jpg").unwrap();
        assert!(matches!(
            strict.check_url(&url),
            Err(Refused::PrivateAddress {
                what: "loopback",
                ..
            })
        ));
        assert!(
            strict
                .check_url(&Url::parse("https://[::1]/a.jpg").unwrap())
                .is_err()
        );
        assert!(
            strict
                .check_url(&Url::parse("https://m.media-amazon.com/a.jpg").unwrap())
                .is_ok()
        );
        assert!(matches!(
            strict.check_url(&Url::parse("file:///etc/passwd").unwrap()),
            Err(Refused::Scheme { .. })
        ));
        let open = AddressPolicy::new(true, &BTreeMap::new(), &BTreeMap::new());
        assert!(open.check_url(&url).is_ok());
    }

    #[tokio::test]
    async fn pins_win_and_are_trusted_while_resolved_private_addresses_are_refused() {
        let pins = BTreeMap::from([("CDN.Example.".to_string(), ip("127.0.0.1"))]);
        let mirrors = BTreeMap::from([(
            "Mirror.Example".to_string(),
            SocketAddr::new(ip("127.0.0.1"), 8443),
        )]);
        let strict = AddressPolicy::new(false, &pins, &mirrors);
        let addrs = strict
            .clone()
            .resolve_host("cdn.example".into())
            .await
            .unwrap();
        assert_eq!(addrs, vec![SocketAddr::new(ip("127.0.0.1"), 0)]);
        let addrs = strict
            .clone()
            .resolve_host("mirror.example".into())
            .await
            .unwrap();
        assert_eq!(addrs, vec![SocketAddr::new(ip("127.0.0.1"), 8443)]);
        // `localhost` resolves through the system to loopback: refused.
        let refused = strict.resolve_host("localhost".into()).await.unwrap_err();
        assert!(
            matches!(
                refused,
                Refused::PrivateAddress {
                    what: "loopback",
                    ..
                }
            ),
            "{refused}"
        );
        assert!(refused.to_string().contains("allow_private_networks"));
    }
}
