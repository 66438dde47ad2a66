//! When to try a download again. Connect errors, timeouts, a connection cut mid-body, 429 and 5xx
//! are worth retrying; everything else is a verdict. Delays grow exponentially from
//! `retry_base_ms` with "equal jitter" (half fixed, half random) so that many items failing
//! together do not retry in lockstep, and a server's `Retry-After` is honoured up to
//! `retry_max_ms`.

use std::time::{Duration, SystemTime};

/// The delay schedule of one configuration.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    base: Duration,
    max: Duration,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Backoff {
        Backoff {
            base,
            max: max.max(base),
        }
    }

    /// The wait before retry number `attempt` (0 for the first retry).
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.max);
        }
        let exp = self
            .base
            .saturating_mul(1u32.checked_shl(attempt.min(30)).unwrap_or(u32::MAX))
            .min(self.max);
        let half = exp / 2;
        half + half.mul_f64(rand::random::<f64>())
    }
}

/// Parses a `Retry-After` value: delta-seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_with_jitter_and_stay_capped() {
        let b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        for _ in 0..50 {
            let d0 = b.delay(0, None);
            assert!(
                d0 >= Duration::from_millis(50) && d0 <= Duration::from_millis(100),
                "{d0:?}"
            );
            let d2 = b.delay(2, None);
            assert!(
                d2 >= Duration::from_millis(200) && d2 <= Duration::from_millis(400),
                "{d2:?}"
            );
            assert!(b.delay(40, None) <= Duration::from_secs(1));
        }
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let b = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
        assert_eq!(
            b.delay(0, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(
            b.delay(0, Some(Duration::from_secs(3600))),
            Duration::from_secs(5)
        );
    }

    #[test]
    fn retry_after_formats() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(parse_retry_after(" 3 ", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
