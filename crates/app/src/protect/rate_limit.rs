//! Token buckets per identity, with `governor`.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

/// At most `per_minute` requests per key and minute, in a bucket that refills steadily; or no
/// limit at all.
#[derive(Debug)]
pub struct RateLimiter {
    limiter: Option<DefaultKeyedRateLimiter<String>>,
    clock: DefaultClock,
}

impl RateLimiter {
    /// A limit of `per_minute` requests per key; 0 means unlimited.
    pub fn per_minute(per_minute: u32) -> Self {
        let limiter = NonZeroU32::new(per_minute).map(|rate| DefaultKeyedRateLimiter::keyed(Quota::per_minute(rate)));
        Self { limiter, clock: DefaultClock::default() }
    }

    /// Counts one request of `key`: `Err` with how long to wait when the bucket is empty.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else { return Ok(()) };
        let checked = limiter.check_key(&key.to_owned());
        // Keys of identities that went quiet are forgotten now and then, so memory stays bounded.
        if limiter.len() > 10_000 {
            limiter.retain_recent();
        }
        checked.map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// The problem detail for a request refused for `retry_after`.
    pub fn message(retry_after: Duration) -> String {
        format!("rate limit exceeded; retry in {} s", retry_after.as_secs().max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_quota_then_waits_while_others_are_unaffected() {
        let limiter = RateLimiter::per_minute(3);
        for _ in 0..3 {
            assert_eq!(limiter.check("user:ann"), Ok(()));
        }
        let wait = limiter.check("user:ann").unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(20), "{wait:?}");
        assert_eq!(limiter.check("user:bob"), Ok(()));
    }

    #[test]
    fn zero_means_unlimited() {
        let limiter = RateLimiter::per_minute(0);
        assert!((0..10_000).all(|_| limiter.check("peer:127.0.0.1").is_ok()));
    }
}
