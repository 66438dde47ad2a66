//! HLS videos (`.m3u8`) saved as one playable file: the best rendition's segments are fetched
//! in order and joined — fMP4/CMAF segments after their init segment into an `.mp4`, MPEG-TS
//! segments into a `.ts`. The playlist text itself is never saved as the video.
//!
//! A stream is downloaded:
//!
//! 1. the playlist is fetched (at most [`MAX_PLAYLIST_BYTES`]) and read ([`super::playlist`]);
//!    a master playlist's best variant is fetched and read in turn. An encrypted stream ends
//!    here with "encrypted HLS is not supported";
//! 2. each piece (init segment, segments, byte ranges of one file) is fetched with the same
//!    client, address policy, slots, retries and limits as any download, and appended to the
//!    item's partial file. A failed attempt cuts the file back to where the piece began, so a
//!    retry never leaves half a segment inside the video;
//! 3. after each piece, `<part>.hls` records how many pieces (and bytes) the partial file holds,
//!    with a fingerprint of the piece list. A restarted daemon cuts the file back to that length
//!    and continues with the next piece; if the playlist changed meanwhile it starts over — so a
//!    restart never yields a corrupt join;
//! 4. the first piece must start like media (an `ftyp` box, TS sync bytes), and the joined file
//!    must be a video by its magic number.

use std::path::{Path, PathBuf};

use reqwest::StatusCode;
use reqwest::header;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;
use url::Url;

use super::playlist::{self, Piece, Playlist, PlaylistError};
use super::{
    ByteBudget, FetchError, Fetched, Fetcher, Observer, Target, body_error, classify,
    content_range, read_body, sniff_file, status_error,
};
use crate::format::{Format, SNIFF_LEN, describe_non_media};
use crate::media::MediaKind;

/// Largest playlist read.
pub const MAX_PLAYLIST_BYTES: usize = 4 << 20;

/// Whether `url` names an HLS playlist (its path ends in `.m3u8`).
pub fn is_playlist_url(url: &Url) -> bool {
    url.path().to_ascii_lowercase().ends_with(".m3u8")
}

impl Fetcher {
    /// Downloads the stream of the playlist at `url` into `target.part` (module doc).
    pub(super) async fn download_hls(
        &self,
        url: &Url,
        target: &Target,
        observer: &dyn Observer,
        budget: &ByteBudget,
        cancel: &CancellationToken,
    ) -> Result<Fetched, FetchError> {
        let (pieces, media_url) = self.stream_pieces(url, cancel).await?;
        let record = Checkpoint::path(&target.part);
        let fingerprint = fingerprint(&pieces);
        let on_disk = tokio::fs::metadata(&target.part)
            .await
            .map_or(0, |m| m.len());
        let start = Checkpoint::read(&record)
            .await
            .filter(|c| c.fingerprint == fingerprint && c.bytes <= on_disk)
            .unwrap_or(Checkpoint {
                fingerprint,
                pieces: 0,
                bytes: 0,
            });
        observer.started(None, None, media_url.as_str());
        observer.progress(start.bytes);
        let mut done = start;
        // One deadline for the whole stream (item_deadline_secs), each piece its own retries.
        let mut tries = self.attempts();
        for (index, piece) in pieces.iter().enumerate().skip(done.pieces) {
            tries.next_piece();
            let written = loop {
                let attempt = self.fetch_piece(piece, &target.part, done.bytes, budget, observer);
                let result = self.in_slot(&piece.url, cancel, &mut tries, attempt).await;
                if let Some(n) = self.settle(&mut tries, &piece.url, result, cancel).await? {
                    break n;
                }
            };
            done.bytes += written;
            done.pieces = index + 1;
            if index == 0 {
                check_stream_start(&target.part).await?;
            }
            done.write(&record)
                .await
                .map_err(|source| FetchError::Write {
                    path: record.clone(),
                    source,
                })?;
        }
        let format = sniff_file(&target.part).await?;
        if format.kind() != MediaKind::Video {
            return Err(FetchError::NotMedia {
                what: "an image, not a video stream",
                content_type: None,
            });
        }
        // The item is complete: the checkpoint has done its job.
        let _ = tokio::fs::remove_file(&record).await;
        Ok(Fetched {
            size: done.bytes,
            format,
            final_url: media_url.to_string(),
            body: None,
            sha256: None,
        })
    }

    /// The pieces of the stream at `url`, and the media playlist's address (module doc, step 1).
    async fn stream_pieces(
        &self,
        url: &Url,
        cancel: &CancellationToken,
    ) -> Result<(Vec<Piece>, Url), FetchError> {
        let (text, base) = self.fetch_playlist(url, cancel).await?;
        match playlist::parse(&text, &base)? {
            Playlist::Media(pieces) => Ok((pieces, base)),
            Playlist::Master(variants) => {
                let best = playlist::best_variant(&variants).ok_or(PlaylistError::NoVariant)?;
                let (text, base) = self.fetch_playlist(&best.url, cancel).await?;
                match playlist::parse(&text, &base)? {
                    Playlist::Media(pieces) => Ok((pieces, base)),
                    Playlist::Master(_) => Err(PlaylistError::Malformed(
                        "a master playlist's variant is another master playlist".into(),
                    )
                    .into()),
                }
            }
        }
    }

    /// A playlist's text and its address after redirects (relative URIs resolve against it).
    async fn fetch_playlist(
        &self,
        url: &Url,
        cancel: &CancellationToken,
    ) -> Result<(Vec<u8>, Url), FetchError> {
        self.policy.check_url(url)?;
        let mut tries = self.attempts();
        loop {
            let result = self
                .in_slot(url, cancel, &mut tries, self.playlist_text(url))
                .await;
            if let Some(text) = self.settle(&mut tries, url, result, cancel).await? {
                return Ok(text);
            }
        }
    }

    /// One attempt of [`Self::fetch_playlist`].
    async fn playlist_text(&self, url: &Url) -> Result<(Vec<u8>, Url), FetchError> {
        let mut response = self
            .client
            .get(url.clone())
            .send()
            .await
            .map_err(classify)?;
        if !response.status().is_success() {
            return Err(status_error(response.status(), response.headers()));
        }
        let base = response.url().clone();
        let text = read_body(&mut response, MAX_PLAYLIST_BYTES)
            .await?
            .ok_or_else(|| {
                PlaylistError::Malformed(format!("it is larger than {MAX_PLAYLIST_BYTES} bytes"))
            })?;
        Ok((text, base))
    }

    /// Appends one piece to `part`, which holds `from` bytes of earlier pieces; returns the
    /// piece's length. Whatever an earlier attempt left of this piece is cut off first.
    async fn fetch_piece(
        &self,
        piece: &Piece,
        part: &Path,
        from: u64,
        budget: &ByteBudget,
        observer: &dyn Observer,
    ) -> Result<u64, FetchError> {
        let write_err = |source| FetchError::Write {
            path: part.to_path_buf(),
            source,
        };
        self.policy.check_url(&piece.url)?;
        let file = tokio::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(part)
            .await
            .map_err(write_err)?;
        file.set_len(from).await.map_err(write_err)?;
        let mut file = file;
        file.seek(std::io::SeekFrom::Start(from))
            .await
            .map_err(write_err)?;
        let mut file = tokio::io::BufWriter::with_capacity(256 * 1024, file);

        let mut request = self.client_for(MediaKind::Video).get(piece.url.clone());
        if let Some(range) = piece.range {
            request = request.header(header::RANGE, range.header());
        }
        let mut response = request.send().await.map_err(classify)?;
        let status = response.status();
        // Bytes to drop from the body's start, and how many to keep.
        let (mut skip, want) = match (status, piece.range) {
            (StatusCode::PARTIAL_CONTENT, Some(range)) => match content_range(response.headers()) {
                Some(r) if r.start == range.offset => (0, Some(range.length)),
                _ => {
                    return Err(FetchError::BadRange(format!(
                        "asked for {}, got another range",
                        range.header()
                    )));
                }
            },
            // The server ignored the range and sent the whole file: cut the piece out.
            (s, Some(range)) if s == StatusCode::OK => (range.offset, Some(range.length)),
            (s, None) if s == StatusCode::OK => (0, response.content_length()),
            (s, _) if s.is_success() => {
                return Err(FetchError::BadRange(format!("unexpected status {s}")));
            }
            (s, _) => return Err(status_error(s, response.headers())),
        };
        let mut written = 0u64;
        loop {
            let chunk = match response.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(e) => {
                    // What arrived stays on disk, like a killed download's bytes: the next
                    // attempt (or the next run, from the checkpoint) cuts it off.
                    file.flush().await.map_err(write_err)?;
                    return Err(body_error(e, from + written));
                }
            };
            let mut data = &chunk[..];
            let dropped = skip.min(data.len() as u64);
            data = &data[dropped as usize..];
            skip -= dropped;
            if let Some(want) = want {
                let room = want.saturating_sub(written);
                data = &data[..data.len().min(room as usize)];
            }
            if data.is_empty() {
                if want.is_some_and(|w| written >= w) {
                    break;
                }
                continue;
            }
            let n = data.len() as u64;
            if from + written + n > self.max_file_bytes {
                return Err(FetchError::FileTooLarge {
                    limit: self.max_file_bytes,
                });
            }
            budget.take(n)?;
            file.write_all(data).await.map_err(write_err)?;
            written += n;
            observer.progress(from + written);
        }
        file.flush().await.map_err(write_err)?;
        if let Some(want) = want
            && written != want
        {
            return Err(FetchError::Truncated {
                received: written,
                expected: want,
            });
        }
        Ok(written)
    }
}

/// The joined file's first piece must start like a video (an HTML error page served for a
/// segment stops the item here rather than after the whole stream).
async fn check_stream_start(part: &Path) -> Result<(), FetchError> {
    let head = {
        let mut file = tokio::fs::File::open(part)
            .await
            .map_err(|source| FetchError::Write {
                path: part.to_path_buf(),
                source,
            })?;
        let mut head = vec![0u8; SNIFF_LEN];
        let mut filled = 0;
        while filled < head.len() {
            let n = file
                .read(&mut head[filled..])
                .await
                .map_err(|source| FetchError::Write {
                    path: part.to_path_buf(),
                    source,
                })?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        head.truncate(filled);
        head
    };
    match Format::detect(&head) {
        Some(f) if f.kind() == MediaKind::Video => Ok(()),
        _ => Err(FetchError::NotMedia {
            what: describe_non_media(&head),
            content_type: None,
        }),
    }
}

/// How far a stream's partial file got (module doc, step 3).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Checkpoint {
    fingerprint: String,
    /// Pieces complete in the partial file.
    pieces: usize,
    /// Their total length.
    bytes: u64,
}

impl Checkpoint {
    const MAGIC: &'static str = "haul-hls 1";

    fn path(part: &Path) -> PathBuf {
        part.with_extension("hls")
    }

    async fn read(path: &Path) -> Option<Checkpoint> {
        let text = tokio::fs::read_to_string(path).await.ok()?;
        let mut lines = text.lines();
        if lines.next()? != Self::MAGIC {
            return None;
        }
        Some(Checkpoint {
            fingerprint: lines.next()?.to_string(),
            pieces: lines.next()?.parse().ok()?,
            bytes: lines.next()?.parse().ok()?,
        })
    }

    /// Replaces the record atomically (a temporary file renamed over it).
    async fn write(&self, path: &Path) -> std::io::Result<()> {
        let temp = path.with_extension("hls-new");
        let text = format!(
            "{}\n{}\n{}\n{}\n",
            Self::MAGIC,
            self.fingerprint,
            self.pieces,
            self.bytes
        );
        tokio::fs::write(&temp, text).await?;
        tokio::fs::rename(&temp, path).await
    }
}

/// Identifies a piece list: a changed playlist never continues an old partial file.
fn fingerprint(pieces: &[Piece]) -> String {
    let mut hash = Sha256::new();
    for p in pieces {
        hash.update(p.url.as_str());
        if let Some(r) = p.range {
            hash.update(format!("@{}+{}", r.offset, r.length));
        }
        hash.update([0]);
    }
    hex::encode(&hash.finalize()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(url: &str) -> Piece {
        Piece {
            url: Url::parse(url).unwrap(),
            range: None,
        }
    }

    #[tokio::test]
    async fn checkpoints_round_trip_and_reject_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let path = Checkpoint::path(&dir.path().join("3.part"));
        assert_eq!(path, dir.path().join("3.hls"));
        assert_eq!(Checkpoint::read(&path).await, None);
        let c = Checkpoint {
            fingerprint: fingerprint(&[piece("https://a.example/1.ts")]),
            pieces: 4,
            bytes: 7520,
        };
        c.write(&path).await.unwrap();
        assert_eq!(Checkpoint::read(&path).await, Some(c));
        std::fs::write(&path, "haul-hls 1\nabc\nnot a number\n1\n").unwrap();
        assert_eq!(Checkpoint::read(&path).await, None);
    }

    #[test]
    fn fingerprints_follow_the_piece_list() {
        let a = [
            piece("https://a.example/1.ts"),
            piece("https://a.example/2.ts"),
        ];
        let b = [
            piece("https://a.example/1.ts"),
            piece("https://a.example/3.ts"),
        ];
        assert_eq!(fingerprint(&a), fingerprint(&a.clone()));
        assert_ne!(fingerprint(&a), fingerprint(&b));
        assert!(is_playlist_url(
            &Url::parse("https://v.example/x/Index.M3U8?sig=1").unwrap()
        ));
        assert!(!is_playlist_url(
            &Url::parse("https://v.example/x.mp4?f=.m3u8").unwrap()
        ));
    }
}
