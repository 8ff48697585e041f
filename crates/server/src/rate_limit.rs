//! Per-client request quotas (GCRA, from `governor`), answered with 429 and `Retry-After`.
//! Quotas are per node: a cluster of N nodes admits up to N times the quota, which still
//! stops brute force while keeping nodes independent.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota as GovernorQuota, RateLimiter};
use madang_protocol::Id;

use crate::config::{Quota, RateLimits};
use crate::error::{ApiError, ApiResult};

pub struct Limiters {
    auth: DefaultKeyedRateLimiter<IpAddr>,
    refresh: DefaultKeyedRateLimiter<IpAddr>,
    invites: DefaultKeyedRateLimiter<IpAddr>,
    user: DefaultKeyedRateLimiter<Id>,
}

fn limiter<K: Hash + Eq + Clone>(quota: Quota) -> DefaultKeyedRateLimiter<K> {
    let per_minute = NonZeroU32::new(quota.per_minute).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(quota.burst).unwrap_or(NonZeroU32::MIN);
    RateLimiter::keyed(GovernorQuota::per_minute(per_minute).allow_burst(burst))
}

fn check<K: Hash + Eq + Clone>(limiter: &DefaultKeyedRateLimiter<K>, key: K) -> ApiResult<()> {
    limiter.check_key(&key).map_err(|not_until| {
        let wait: Duration = not_until.wait_time_from(DefaultClock::default().now());
        ApiError::rate_limited(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
    })
}

impl Limiters {
    pub fn new(limits: &RateLimits) -> Self {
        Limiters {
            auth: limiter(limits.auth),
            refresh: limiter(limits.refresh),
            invites: limiter(limits.invites),
            user: limiter(limits.user),
        }
    }

    pub fn auth(&self, ip: IpAddr) -> ApiResult<()> {
        check(&self.auth, ip)
    }

    pub fn refresh(&self, ip: IpAddr) -> ApiResult<()> {
        check(&self.refresh, ip)
    }

    pub fn invites(&self, ip: IpAddr) -> ApiResult<()> {
        check(&self.invites, ip)
    }

    pub fn per_user(&self, user: Id) -> ApiResult<()> {
        check(&self.user, user)
    }

    /// Forgets clients whose quota has fully refilled, so memory tracks active clients only.
    pub fn forget_idle(&self) {
        self.auth.retain_recent();
        self.refresh.retain_recent();
        self.invites.retain_recent();
        self.user.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_client_is_told_when_to_retry() {
        let limits = RateLimits {
            auth: Quota {
                per_minute: 2,
                burst: 3,
            },
            ..RateLimits::default()
        };
        let limiters = Limiters::new(&limits);
        let ip = IpAddr::from([127, 0, 0, 1]);
        for _ in 0..3 {
            limiters.auth(ip).unwrap();
        }
        let refused = limiters.auth(ip).unwrap_err();
        assert_eq!(refused.status().as_u16(), 429);
        assert!((1..=30).contains(&refused.retry_after.unwrap()));
        limiters
            .auth(IpAddr::from([127, 0, 0, 2]))
            .expect("other clients are unaffected");
    }
}
