//! URL lists — one URL a line, blank lines and `#` comments ignored — as `haul grab --list`
//! and the inbox read them ([`grabs`]). Every other line is reported by its number and left out;
//! the rest is saved, from the CLI and the inbox alike. A list may name product pages besides
//! media ([`split_product_pages`]).

use haul_protocol::message::{Grab, GrabOptions, MediaRef, Page};

/// One usable line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedUrl {
    /// 1-based line number.
    pub line: usize,
    pub url: String,
}

/// A line that is not an http(s) URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    pub line: usize,
    pub problem: String,
}

impl std::fmt::Display for BadLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.problem)
    }
}

/// Splits a list into its URLs and its bad lines.
pub fn parse(text: &str) -> (Vec<ListedUrl>, Vec<BadLine>) {
    let mut urls = Vec::new();
    let mut bad = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim().trim_start_matches('\u{feff}').trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match check_url(line) {
            Ok(()) => urls.push(ListedUrl {
                line: n + 1,
                url: line.to_string(),
            }),
            Err(problem) => bad.push(BadLine {
                line: n + 1,
                problem,
            }),
        }
    }
    (urls, bad)
}

/// The grabs of the list `text`, named `name` (its file name): one per page address — each
/// fetched and extracted — and one of the listed media together, named after the list; and the
/// lines left out.
pub fn grabs(text: &str, name: &str) -> (Vec<Grab>, Vec<BadLine>) {
    let (urls, bad) = parse(text);
    let (pages, media) = split_product_pages(urls.into_iter().map(|u| u.url));
    let mut grabs: Vec<Grab> = pages.into_iter().map(page_grab).collect();
    if !media.is_empty() {
        grabs.push(media_grab(
            media,
            Some(super::reading::package_name(name).to_string()),
        ));
    }
    (grabs, bad)
}

/// The grab of a page address alone: the engine fetches the page and extracts it.
pub fn page_grab(url: String) -> Grab {
    Grab {
        id: None,
        page: Some(Page {
            url,
            title: None,
            html: None,
        }),
        media: Vec::new(),
        options: GrabOptions::default(),
    }
}

/// The grab of media URLs saved together as one product, named `name`.
pub fn media_grab(urls: Vec<String>, name: Option<String>) -> Grab {
    Grab {
        id: None,
        page: None,
        media: urls
            .into_iter()
            .map(|url| MediaRef {
                url,
                kind: None,
                chosen: false,
            })
            .collect(),
        options: GrabOptions {
            name,
            ..Default::default()
        },
    }
}

/// Listed URLs split into page addresses (each a product of its own, whose page is fetched and
/// extracted — [`crate::extract::names_a_page`]: product pages of the shops haul reads, and page
/// addresses of any shop), once each, and the rest: media to save together.
pub fn split_product_pages(urls: impl IntoIterator<Item = String>) -> (Vec<String>, Vec<String>) {
    let mut pages: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut media = Vec::new();
    for url in urls {
        if !crate::extract::names_a_page(&url) {
            media.push(url);
        } else if seen.insert(url.clone()) {
            pages.push(url);
        }
    }
    (pages, media)
}

/// `Ok` for an absolute http(s) URL with a host; otherwise what is wrong with it.
pub fn check_url(text: &str) -> Result<(), String> {
    match url::Url::parse(text) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => {
            let shown: String = text.chars().take(200).collect();
            Err(format!("{shown:?} is not an http(s) URL"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_comments_and_bad_lines() {
        let (urls, bad) = parse(
            "\u{feff}https://a.example/1.jpg\n\n# comment\n  https://a.example/2.jpg  \nftp://x/y\nnot a url\r\n",
        );
        assert_eq!(
            urls,
            [
                ListedUrl {
                    line: 1,
                    url: "https://a.example/1.jpg".into()
                },
                ListedUrl {
                    line: 4,
                    url: "https://a.example/2.jpg".into()
                },
            ]
        );
        assert_eq!(bad.iter().map(|b| b.line).collect::<Vec<_>>(), [5, 6]);
        assert!(bad[1].to_string().starts_with("line 6: \"not a url\""));
    }

    #[test]
    fn product_pages_are_split_from_media_once_each() {
        let page = "https://www.amazon.com/dp/B0BRZXRBZL";
        let (pages, media) = split_product_pages(
            [page, "https://m.media-amazon.com/images/I/81abc.jpg", page].map(String::from),
        );
        assert_eq!(pages, [page]);
        assert_eq!(media.len(), 1);
        assert_eq!(media[0], "https://m.media-amazon.com/images/I/81abc.jpg");
    }
}
