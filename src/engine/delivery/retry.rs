//! When to try again and how long to wait: exponential backoff with jitter,
//! server-given waits honoured but bounded.

use std::time::Duration;

/// What a status code means for a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    /// 408, 429 and 5xx: worth another attempt.
    Retry,
    /// Any other answer (3xx, 4xx): another attempt would get the same.
    Final,
}

pub fn classify(status: u16) -> Verdict {
    match status {
        200..=299 => Verdict::Delivered,
        408 | 429 | 500..=599 => Verdict::Retry,
        _ => Verdict::Final,
    }
}

/// How many attempts and how far apart.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Wait after the first failure, doubled each time.
    pub base_delay: Duration,
    /// Longest backoff wait.
    pub max_delay: Duration,
    /// Longest wait a server may ask for (`Retry-After`, `retry_after`);
    /// longer requests are cut to this.
    pub max_server_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            max_server_wait: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt `attempt` (1-based). `jitter` in 0..1
    /// spreads retries so many clients do not retry in step.
    pub fn backoff(&self, attempt: u32, jitter: f64) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20))
            .min(self.max_delay);
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.5
        };
        // "Equal jitter": at least half the exponential wait, at most all of it.
        exp.mul_f64(0.5 + jitter / 2.0)
    }

    /// A wait a server asked for, in seconds as a float, made safe: missing,
    /// negative or NaN becomes `fallback`, huge becomes `max_server_wait`.
    pub fn server_wait(&self, seconds: Option<f64>, fallback: Duration) -> Duration {
        match seconds {
            Some(s) if s.is_finite() && s >= 0.0 => Duration::try_from_secs_f64(s)
                .unwrap_or(self.max_server_wait)
                .min(self.max_server_wait),
            _ => fallback.min(self.max_server_wait),
        }
    }
}

/// A `Retry-After` header: delta-seconds (the HTTP-date form is rare for
/// webhooks and is treated as absent).
pub fn parse_retry_after(value: &str) -> Option<f64> {
    value.trim().parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified_as_the_delivery_rules_say() {
        assert_eq!(classify(200), Verdict::Delivered);
        assert_eq!(classify(204), Verdict::Delivered);
        for s in [408, 429, 500, 502, 503, 504] {
            assert_eq!(classify(s), Verdict::Retry, "{s}");
        }
        for s in [301, 307, 308, 400, 401, 403, 404, 410, 413] {
            assert_eq!(classify(s), Verdict::Final, "{s}");
        }
    }

    #[test]
    fn backoff_doubles_with_jitter_and_stops_at_the_cap() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(1, 1.0), Duration::from_secs(1));
        assert_eq!(p.backoff(1, 0.0), Duration::from_millis(500));
        assert_eq!(p.backoff(3, 1.0), Duration::from_secs(4));
        assert_eq!(p.backoff(30, 1.0), Duration::from_secs(30));
        assert_eq!(p.backoff(2, f64::NAN), Duration::from_millis(1500));
    }

    #[test]
    fn server_waits_are_bounded_and_sanity_checked() {
        let p = RetryPolicy::default();
        let fallback = Duration::from_secs(1);
        assert_eq!(
            p.server_wait(Some(1.5), fallback),
            Duration::from_millis(1500)
        );
        assert_eq!(p.server_wait(Some(-3.0), fallback), fallback);
        assert_eq!(p.server_wait(Some(f64::NAN), fallback), fallback);
        assert_eq!(p.server_wait(Some(f64::INFINITY), fallback), fallback);
        assert_eq!(
            p.server_wait(Some(1e300), fallback),
            Duration::from_secs(60)
        );
        assert_eq!(p.server_wait(None, fallback), fallback);
        assert_eq!(parse_retry_after(" 7 "), Some(7.0));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
