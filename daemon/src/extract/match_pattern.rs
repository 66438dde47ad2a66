//! Browser match patterns (`https://*.ebay.com/itm/*`), read the way Chrome and Firefox read
//! them.
//!
//! haul itself never needs them to read a page; they exist so that the site registry
//! ([`super::sites`]) and the browser extension's manifests, which speak this language, can be
//! checked against each other and against the sites' example addresses with the browser's own
//! rule rather than an approximation. The rule, for `<scheme>://<host><path>`:
//!
//! 1. **Scheme**: `*` is `http` or `https`; anything else must be equal. `<all_urls>` matches
//!    every `http`, `https`, `file` and `ftp` address.
//! 2. **Host**: `*` is any host; `*.example.com` is `example.com` and every subdomain of it;
//!    anything else must be equal (host names compare case-insensitively). A pattern without
//!    a port matches every port.
//! 3. **Path**: a glob where `*` is any run of characters (`/` included), matched against the
//!    address's path *and query* (`/dp/*` matches `/dp/B0?th=1`); the fragment is not part of
//!    it.

/// Whether the browser would apply `pattern` to the page at `url`. A malformed pattern or
/// address matches nothing.
pub fn matches(pattern: &str, url: &str) -> bool {
    let Ok(url) = url::Url::parse(url) else {
        return false;
    };
    let scheme = url.scheme();
    if pattern == "<all_urls>" {
        return matches!(scheme, "http" | "https" | "file" | "ftp");
    }
    let Some((p_scheme, rest)) = pattern.split_once("://") else {
        return false;
    };
    let scheme_ok = match p_scheme {
        "*" => matches!(scheme, "http" | "https"),
        s => s == scheme,
    };
    let Some(slash) = rest.find('/') else {
        return false;
    };
    let (p_authority, p_path) = rest.split_at(slash);
    // `[::1]` has colons of its own; a port follows the closing bracket.
    let (p_host, p_port) = match p_authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, Some(port)),
        _ => (p_authority, None),
    };
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let p_host = p_host.to_ascii_lowercase();
    let host_ok = match p_host.as_str() {
        "*" => true,
        h => match h.strip_prefix("*.") {
            Some(domain) => super::host_is(&host, domain),
            None => host == h,
        },
    };
    let port_ok = match p_port {
        None | Some("*") => true,
        Some(port) => url
            .port_or_known_default()
            .is_some_and(|p| p.to_string() == port),
    };
    let mut path = url.path().to_string();
    if let Some(query) = url.query() {
        path.push('?');
        path.push_str(query);
    }
    scheme_ok && host_ok && port_ok && glob(p_path.as_bytes(), path.as_bytes())
}

/// `*`-only glob, iterative with one backtrack point (linear in practice, no recursion).
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn schemes_hosts_and_paths_as_the_browser_reads_them() {
        // (pattern, addresses it matches, addresses it does not)
        let cases: &[(&str, &[&str], &[&str])] = &[
            (
                "https://*.ebay.com/itm/*",
                &[
                    "https://www.ebay.com/itm/123",
                    "https://ebay.com/itm/123",
                    "https://WWW.EBAY.COM/itm/1",
                    // No port in the pattern: any port.
                    "https://www.ebay.com:8443/itm/1",
                ],
                &[
                    "http://www.ebay.com/itm/123",
                    "https://notebay.com/itm/123",
                    "https://ebay.com.evil.example/itm/1",
                    "https://www.ebay.com/sch/i.html",
                    "https://www.ebay.com/itm",
                    "not a url",
                ],
            ),
            // The query is part of the path; the fragment is not.
            (
                "https://*.amazon.com/dp/*",
                &["https://www.amazon.com/dp/B0?th=1"],
                &[],
            ),
            (
                "https://*.amazon.com/*/dp/*",
                &["https://www.amazon.com/s?k=a/dp/x"],
                &["https://www.amazon.com/dp/B0"],
            ),
            (
                "https://x.example/a",
                &["https://x.example/a#frag"],
                &["https://x.example/a?q"],
            ),
            (
                "https://detail.1688.com/offer/*",
                &["https://detail.1688.com/offer/1.html"],
                &["https://m.1688.com/offer/1.html"],
            ),
            (
                "*://*/*",
                &["http://shop.example/p", "https://shop.example/p"],
                &["ftp://shop.example/p"],
            ),
            (
                "https://x.example:8443/*",
                &["https://x.example:8443/p"],
                &["https://x.example/p"],
            ),
            (
                "<all_urls>",
                &["https://anything.example/"],
                &["chrome://extensions/"],
            ),
            (
                "https://*.etsy.com/*/listing/*",
                &["https://www.etsy.com/es/listing/5/x"],
                &["https://www.etsy.com/listing/5/x"],
            ),
            ("not a pattern", &[], &["https://x.example/"]),
        ];
        for (pattern, yes, no) in cases {
            for url in *yes {
                assert!(matches(pattern, url), "{pattern} matches {url}");
            }
            for url in *no {
                assert!(!matches(pattern, url), "{pattern} does not match {url}");
            }
        }
    }

    #[test]
    fn globs_backtrack_without_blowing_up() {
        let long = format!("https://x.example/{}b", "a".repeat(10_000));
        assert!(matches("https://x.example/*a*a*a*b", &long));
        assert!(!matches("https://x.example/*a*a*a*c", &long));
    }
}
