//! Large videos made on demand for the media server ([`Generated`] routes): an MP4 of any size
//! and an MPEG-TS stream cut into HLS segments — deterministic noise behind a valid start, so
//! gigabytes are served (and their SHA-256 known) without ever being held. Used by the 2 GiB
//! bench (`bench/big.sh`) and its small twin in the suite (resume after SIGKILL).

use crate::media_server::{Generated, MediaServer, Route};

/// Length of the MP4's header: an `ftyp` box (24 bytes) and an `mdat` box header with a 64-bit
/// size (16 bytes).
const MP4_HEADER: u64 = 40;

/// An MPEG-TS packet.
pub const TS_PACKET: u64 = 188;

/// 8 bytes of noise for word `index` of stream `seed` (splitmix64).
fn mix(seed: u64, index: u64) -> u64 {
    let mut z = index
        .wrapping_add(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15))
        .wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Bytes `offset..offset + buf.len()` of the noise stream `seed`.
fn noise(seed: u64, offset: u64, buf: &mut [u8]) {
    let mut done = 0;
    let mut at = offset;
    // Up to the next 8-byte boundary, then whole words.
    while done < buf.len() && (!at.is_multiple_of(8) || buf.len() - done < 8) {
        buf[done] = mix(seed, at / 8).to_le_bytes()[(at % 8) as usize];
        done += 1;
        at += 1;
    }
    let words = (buf.len() - done) / 8;
    for (i, word) in buf[done..done + words * 8].chunks_exact_mut(8).enumerate() {
        word.copy_from_slice(&mix(seed, at / 8 + i as u64).to_le_bytes());
    }
    done += words * 8;
    at += words as u64 * 8;
    for b in &mut buf[done..] {
        *b = mix(seed, at / 8).to_le_bytes()[(at % 8) as usize];
        at += 1;
    }
}

/// The MP4's first [`MP4_HEADER`] bytes.
fn mp4_header(len: u64) -> [u8; MP4_HEADER as usize] {
    let mut h = [0u8; MP4_HEADER as usize];
    h[..24].copy_from_slice(b"\0\0\0\x18ftypisom\0\0\x02\0isommp41");
    h[24..28].copy_from_slice(&1u32.to_be_bytes()); // the size follows as 64 bits
    h[28..32].copy_from_slice(b"mdat");
    h[32..40].copy_from_slice(&(len - 24).to_be_bytes());
    h
}

/// An MP4 of `len` bytes (at least 40): `ftyp`, then one `mdat` box of noise.
pub fn mp4(len: u64, seed: u64) -> Generated {
    assert!(len >= MP4_HEADER, "an MP4 of at least {MP4_HEADER} bytes");
    let header = mp4_header(len);
    Generated::new(len, move |offset, buf| {
        noise(seed, offset, buf);
        if offset < MP4_HEADER {
            let n = ((MP4_HEADER - offset) as usize).min(buf.len());
            buf[..n].copy_from_slice(&header[offset as usize..offset as usize + n]);
        }
    })
}

/// An MPEG-TS stream of `len` bytes (whole packets: each starts with the sync byte 0x47).
pub fn ts_stream(len: u64, seed: u64) -> Generated {
    assert_eq!(len % TS_PACKET, 0, "whole TS packets");
    Generated::new(len, move |offset, buf| {
        noise(seed, offset, buf);
        let mut packet = offset.div_ceil(TS_PACKET) * TS_PACKET;
        while packet < offset + buf.len() as u64 {
            buf[(packet - offset) as usize] = 0x47;
            packet += TS_PACKET;
        }
    })
}

/// An HLS stream of `segments` segments of `packets` TS packets each: the whole joined stream
/// (what the saved video must be) and each segment as a part of it.
pub struct HlsStream {
    pub joined: Generated,
    pub segments: usize,
    pub segment_len: u64,
}

impl HlsStream {
    pub fn new(segments: usize, packets: u64, seed: u64) -> HlsStream {
        let segment_len = packets * TS_PACKET;
        HlsStream {
            joined: ts_stream(segment_len * segments as u64, seed),
            segments,
            segment_len,
        }
    }

    /// Segment `i` (from 0).
    pub fn segment(&self, i: usize) -> Generated {
        let base = i as u64 * self.segment_len;
        let fill = self.joined.fill.clone();
        Generated::new(self.segment_len, move |offset, buf| {
            fill(base + offset, buf)
        })
    }

    /// The media playlist: segment `i` at `<i>.ts` beside it.
    pub fn playlist(&self) -> String {
        let mut text = String::from(
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXT-X-PLAYLIST-TYPE:VOD\n",
        );
        for i in 0..self.segments {
            text.push_str(&format!("#EXTINF:4.0,\n{i}.ts\n"));
        }
        text.push_str("#EXT-X-ENDLIST\n");
        text
    }

    /// Serves the stream at `/<dir>/index.m3u8`, its segments beside it; returns the playlist's
    /// URL.
    pub fn serve(&self, server: &MediaServer, dir: &str) -> String {
        server.add(
            &format!("/{dir}/index.m3u8"),
            Route::ok(self.playlist(), "application/vnd.apple.mpegurl"),
        );
        for i in 0..self.segments {
            server.add(
                &format!("/{dir}/{i}.ts"),
                Route::generated(self.segment(i), "video/mp2t"),
            );
        }
        server.url(&format!("/{dir}/index.m3u8"))
    }

    /// The segment a path such as `/hls/17.ts` names.
    pub fn index_of(path: &str) -> Option<usize> {
        path.rsplit('/').next()?.strip_suffix(".ts")?.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_offset_gives_the_same_bytes() {
        let video = mp4(10_000, 7);
        let whole = video.bytes(0, 10_000);
        assert_eq!(&whole[4..8], b"ftyp");
        assert_eq!(&whole[28..32], b"mdat");
        for (start, len) in [(0, 5), (3, 17), (39, 100), (1001, 8), (9990, 10)] {
            assert_eq!(video.bytes(start, len), &whole[start as usize..][..len]);
        }
        let hls = HlsStream::new(3, 10, 1);
        let joined = hls.joined.bytes(0, 3 * 1880);
        assert!(joined.chunks(188).all(|p| p[0] == 0x47));
        assert_eq!(hls.segment(1).bytes(0, 1880), &joined[1880..3760]);
        assert_eq!(HlsStream::index_of("/hls/17.ts"), Some(17));
    }
}
