//! Token buckets per identity, with `governor`.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::Quota;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;

/// Governor's keyed limiter on clock `C`.
type Keyed<C> = governor::RateLimiter<String, DefaultKeyedStateStore<String>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// At most `per_minute` requests per key and minute, in a bucket that refills steadily; or no
/// limit at all. The clock is the host's, or one a test moves (`governor`'s fake clock).
#[derive(Debug)]
pub struct RateLimiter<C: Clock = DefaultClock> {
    limiter: Option<Keyed<C>>,
    clock: C,
}

impl RateLimiter {
    /// A limit of `per_minute` requests per key; 0 means unlimited.
    pub fn per_minute(per_minute: u32) -> Self {
        Self::per_minute_on(per_minute, DefaultClock::default())
    }
}

impl<C: Clock + Clone> RateLimiter<C> {
    /// A limit of `per_minute` requests per key on `clock`; 0 means unlimited.
    pub fn per_minute_on(per_minute: u32, clock: C) -> Self {
        let limiter = NonZeroU32::new(per_minute).map(|rate| {
            governor::RateLimiter::new(Quota::per_minute(rate), DefaultKeyedStateStore::default(), clock.clone())
        });
        Self { limiter, clock }
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
}

impl RateLimiter {
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
    fn an_empty_bucket_refills_as_the_clock_moves_on_without_sleeping() {
        let clock = governor::clock::FakeRelativeClock::default();
        let limiter = RateLimiter::per_minute_on(3, clock.clone());
        for _ in 0..3 {
            assert_eq!(limiter.check("user:ann"), Ok(()));
        }
        let wait = limiter.check("user:ann").unwrap_err();
        assert_eq!(wait, Duration::from_secs(20), "one request back every 20 s at 3 per minute");
        clock.advance(Duration::from_secs(19));
        assert!(limiter.check("user:ann").is_err(), "not yet");
        clock.advance(Duration::from_secs(1));
        assert_eq!(limiter.check("user:ann"), Ok(()), "refilled by one");
        assert!(limiter.check("user:ann").is_err(), "and only one");
    }

    #[test]
    fn zero_means_unlimited() {
        let limiter = RateLimiter::per_minute(0);
        assert!((0..10_000).all(|_| limiter.check("peer:127.0.0.1").is_ok()));
    }
}
