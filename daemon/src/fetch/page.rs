//! Fetching a product page that a URL list names: one bounded `GET` of its HTML, without
//! cookies, and the judgement of what came back.
//!
//! Marketplaces often keep their pages from programs: Amazon answers 503 with a robot check,
//! AliExpress sends a "slide to verify" page or a sign-in. haul does not try to get past that (no
//! browser disguise, no cookies, no retries that would look like a bot): it recognises the wall
//! and says to use the browser button, where the user's own browser already has the page. A page
//! that *was* served is extracted by the job like a saved one; when it holds no product media at
//! all, [`describe_wall`] words the failure.

use reqwest::StatusCode;
use reqwest::header;
use thiserror::Error;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::{FetchError, Fetcher, classify, read_body, status_error};
use crate::extract::page::{MAX_PAGE_BYTES, decode_page};

/// The site kept its product page from haul; the user's browser can still get it.
#[derive(Debug, Clone, Error)]
#[error(
    "{host} did not give haul the product page: {why}. Open the page in your browser and press the haul button instead"
)]
pub struct NotServed {
    pub host: String,
    pub why: String,
}

impl NotServed {
    pub fn new(url: &str, why: impl Into<String>) -> NotServed {
        NotServed {
            host: Url::parse(url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_else(|| "the site".to_string()),
            why: why.into(),
        }
    }
}

/// A product page as the site served it (at most [`MAX_PAGE_BYTES`], like a saved page).
#[derive(Debug, Clone)]
pub struct FetchedPage {
    /// The page as text, decoded by the charset the server or the page declares
    /// ([`decode_page`]).
    pub html: String,
    /// The address after redirects.
    pub final_url: String,
}

/// Words in an address that a page redirected to when it wants a person, not a program.
const WALL_ADDRESS_WORDS: &[&str] = &[
    "captcha", "signin", "sign-in", "sign_in", "login", "passport", "punish", "verify",
];

impl Fetcher {
    /// Fetches the product page at `url`. Connection failures are retried like downloads; a
    /// status or redirect that means "not for programs" is a [`NotServed`] at once.
    pub async fn fetch_page(
        &self,
        url: &str,
        cancel: &CancellationToken,
    ) -> Result<FetchedPage, FetchError> {
        let parsed = Url::parse(url).map_err(|e| FetchError::BadUrl {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
        self.policy.check_url(&parsed)?;
        let mut tries = self.attempts();
        loop {
            let result = self
                .in_slot(&parsed, cancel, &mut tries, self.page_attempt(&parsed))
                .await;
            if let Some(page) = self.settle(&mut tries, &parsed, result, cancel).await? {
                return Ok(page);
            }
        }
    }

    /// One attempt of [`Self::fetch_page`].
    async fn page_attempt(&self, url: &Url) -> Result<FetchedPage, FetchError> {
        let mut response = self
            .client
            .get(url.clone())
            .header(header::ACCEPT, "text/html,application/xhtml+xml")
            .send()
            .await
            .map_err(classify)?;
        let status = response.status();
        let final_url = response.url().clone();
        let not_served = |why: String| FetchError::from(NotServed::new(url.as_str(), why));
        if let Some(why) = wall_status(status) {
            return Err(not_served(why));
        }
        if !status.is_success() {
            return Err(status_error(status, response.headers()));
        }
        if final_url != *url && is_wall_address(&final_url) {
            return Err(not_served(format!(
                "it sent haul to {} (a sign-in or robot check)",
                shown(&final_url)
            )));
        }
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase);
        if let Some(t) = &content_type
            && !t.contains("html")
        {
            return Err(not_served(format!("it sent {t}, not a web page")));
        }
        let body = read_body(&mut response, MAX_PAGE_BYTES)
            .await?
            .ok_or_else(|| not_served(format!("the page is larger than {MAX_PAGE_BYTES} bytes")))?;
        Ok(FetchedPage {
            html: decode_page(&body, content_type.as_deref()),
            final_url: final_url.to_string(),
        })
    }
}

/// Why a status means the site keeps the page from programs; `None` for other statuses.
fn wall_status(status: StatusCode) -> Option<String> {
    let why = match status {
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS | StatusCode::FORBIDDEN => {
            "which sites answer to programs they take for robots"
        }
        StatusCode::UNAUTHORIZED | StatusCode::PROXY_AUTHENTICATION_REQUIRED => {
            "it wants you to sign in"
        }
        _ => return None,
    };
    Some(format!("it answered {status}, {why}"))
}

fn is_wall_address(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let rest = format!("{}?{}", url.path(), url.query().unwrap_or_default()).to_ascii_lowercase();
    WALL_ADDRESS_WORDS
        .iter()
        .any(|w| rest.contains(w) || host.starts_with(&format!("{w}.")))
}

/// An address for a message: scheme, host and path, without a query that may run for pages.
fn shown(url: &Url) -> String {
    format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.path()
    )
}

/// Why a page that was served holds no product media: what kind of page it looks like.
pub fn describe_wall(html: &str) -> &'static str {
    let head: String = html
        .chars()
        .take(256 << 10)
        .collect::<String>()
        .to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| head.contains(w));
    if has(&[
        "captcha",
        "robot check",
        "are you a robot",
        "slide to verify",
        "x5secdata",
        "/punish",
    ]) {
        "it sent a robot check (a captcha) instead"
    } else if has(&[
        "type=\"password\"",
        "type='password'",
        "sign in",
        "log in",
        "signin",
    ]) {
        "it sent a sign-in page instead"
    } else {
        "the page it sent holds no product photos or videos"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walls_are_recognised_by_status_address_and_content() {
        assert!(wall_status(StatusCode::SERVICE_UNAVAILABLE).is_some_and(|w| w.contains("503")));
        assert!(wall_status(StatusCode::UNAUTHORIZED).is_some_and(|w| w.contains("sign in")));
        assert_eq!(wall_status(StatusCode::NOT_FOUND), None);
        assert_eq!(
            wall_status(StatusCode::BAD_GATEWAY),
            None,
            "retried like any download"
        );

        let wall = |u: &str| is_wall_address(&Url::parse(u).unwrap());
        assert!(wall("https://www.amazon.com/errors/validateCaptcha?amzn=x"));
        assert!(wall("https://login.aliexpress.com/?return_url=x"));
        assert!(wall(
            "https://www.aliexpress.com/_____tmd_____/punish?x5secdata=x"
        ));
        assert!(wall("https://www.amazon.com/ap/signin?openid=x"));
        assert!(!wall("https://www.amazon.com/Dog-Vest/dp/B0BRZXRBZL"));

        assert!(
            describe_wall("<title>Robot Check</title><form action=/errors/validateCaptcha>")
                .contains("robot check")
        );
        assert!(describe_wall("<form><input type=\"password\" name=p></form>").contains("sign-in"));
        assert!(describe_wall("<html><body>Hello</body></html>").contains("no product photos"));

        let message =
            NotServed::new("https://www.amazon.com/dp/B0BRZXRBZL", "it answered 503").to_string();
        assert!(
            message
                .starts_with("www.amazon.com did not give haul the product page: it answered 503.")
                && message.ends_with("press the haul button instead"),
            "{message}"
        );
    }
}
